"""Tail a growing log file into the raw zone (采集层 4.3.4, 5.1; 断点续传 by byte offset).

The checkpoint is ``{inode, offset, generation}``: the file identity and the byte just after the
last complete line landed. Only whole lines (ending in ``\\n``) are consumed, so a line being
written is picked up on the next poll. Rotation is followed two ways:

* rename + create (logrotate default): the path now has a new inode; the old file is found among
  the rotated siblings by its inode and drained to its end before the new file is read from 0;
* copytruncate: same inode, size below the offset; reading restarts at 0 with ``generation + 1``.
  Lines written between the last poll and the truncation exist only in the copy — an inherent
  gap of copytruncate, reported in ``LogConnector.warnings``.

Each landed record carries its position (``_log``) so that two identical lines stay two records,
while re-reading after a crash lands nothing twice (same position, same content hash).
Polling backs off exponentially while the file is idle, so an idle tailer costs almost nothing.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ecfusion.errors import PathError
from ecfusion.sources.contract import (
    Batch,
    CheckResult,
    QuarantinedItem,
    ReadStats,
    SourceConfig,
    State,
    StreamInfo,
    register,
)
from ecfusion.sources.logs.parsers import LineParseError, parse_jsonl_line, parse_nginx_combined
from ecfusion.sources.sync import Lake, StreamReport, sync

_PARSERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "jsonl": parse_jsonl_line,
    "nginx": parse_nginx_combined,
}
_CHUNK = 1 << 20


class LogSourceConfig(SourceConfig):
    """One tailed log file, as configured in ``[sources.NAME]`` with ``kind = "logs"``."""

    kind: Literal["logs"] = "logs"
    path: Path = Field(description="the live log file")
    format: Literal["jsonl", "nginx"] = "jsonl"
    entity: str = "log_events"
    platform: str = "logs"
    shop_id: str | None = None
    rotated_glob: str | None = Field(
        None, description="where rotated copies go; default: siblings named like the file plus a suffix"
    )
    identity: Literal["position", "content"] = Field(
        "position", description="position: identical lines stay distinct; content: identical lines collapse"
    )
    batch_lines: int = Field(5_000, ge=1, description="lines landed per checkpoint")
    max_line_bytes: int = Field(1 << 20, ge=1024, description="a longer line is quarantined in pieces")
    start_at: Literal["beginning", "end"] = "beginning"
    poll_min_seconds: float = Field(0.05, gt=0)
    poll_max_seconds: float = Field(2.0, gt=0)

    @property
    def stream(self) -> str:
        return f"log:{self.path.name}"


@dataclass(frozen=True)
class LogCursor:
    """Where tailing stands: file identity (inode) and the byte offset after the last landed line."""

    inode: int
    offset: int
    generation: int = 0

    def to_state(self) -> dict[str, int]:
        return {"inode": self.inode, "offset": self.offset, "generation": self.generation}

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> LogCursor | None:
        if not state:
            return None
        return cls(int(state["inode"]), int(state["offset"]), int(state.get("generation", 0)))


@dataclass(frozen=True)
class _Line:
    offset: int  # file offset of the first byte
    end: int  # file offset after the line and its newline
    raw: bytes
    too_long: bool


def _complete_lines(buf: bytes, start: int, max_line: int) -> list[_Line]:
    """Whole lines in ``buf`` (read from file offset ``start``); a trailing partial line is left."""
    lines: list[_Line] = []
    pos = 0
    while pos < len(buf):
        nl = buf.find(b"\n", pos)
        if nl < 0:
            if len(buf) - pos >= max_line:  # no newline in sight: cut it so the tailer never stalls
                lines.append(_Line(start + pos, start + pos + max_line, buf[pos : pos + max_line], True))
                pos += max_line
                continue
            break
        lines.append(_Line(start + pos, start + nl + 1, buf[pos:nl], nl - pos > max_line))
        pos = nl + 1
    return lines


@register("logs", LogSourceConfig)
class LogConnector:
    """The log-file source: ``read`` yields every complete line available now, in batches."""

    def __init__(self, config: LogSourceConfig, **_: Any) -> None:
        self.config = config
        self.stats = ReadStats()
        self.warnings: list[str] = []
        self._parse = _PARSERS[config.format]

    # -- contract ---------------------------------------------------------------------------------

    def check(self) -> CheckResult:
        cfg = self.config
        if not cfg.path.exists():
            # a sync of it lands nothing and succeeds (the file may come later); checked, it is the
            # path that is not usable yet
            return CheckResult.failed(
                PathError(
                    f"log file {cfg.path} does not exist",
                    hint="check `path` in the source's config, or create the file",
                )
            )
        if not os.access(cfg.path, os.R_OK):
            return CheckResult.failed(_unreadable(cfg.path))
        return CheckResult(True, f"{cfg.path} is readable ({cfg.format})")

    def discover(self) -> list[StreamInfo]:
        fields = (
            (
                "remote_addr",
                "remote_user",
                "time",
                "request",
                "method",
                "path",
                "protocol",
                "status",
                "body_bytes_sent",
                "http_referer",
                "http_user_agent",
            )
            if self.config.format == "nginx"
            else ()
        )
        return [
            StreamInfo(
                self.config.entity,
                key_field=None,
                cursor_field="_log.offset",
                fields=fields,
                description=f"{self.config.format} lines of {self.config.path}",
            )
        ]

    def close(self) -> None:
        return None

    def read(self, stream: str, state: State | None) -> Iterator[Batch]:
        """Batches of lines from ``state`` to the end of what is written now (rotations followed)."""
        cfg = self.config
        try:
            live = os.stat(cfg.path)
        except FileNotFoundError:
            live = None
        cursor = LogCursor.from_state(state)
        if cursor is None:
            if live is None:
                return
            cursor = LogCursor(live.st_ino, live.st_size if cfg.start_at == "end" else 0, 0)
        if live is None or live.st_ino != cursor.inode:
            yield from self._finish_rotated(cursor)
            if live is None:
                return
            cursor = LogCursor(live.st_ino, 0, cursor.generation + 1)
            yield Batch(records=[], state=cursor.to_state())  # the switch itself is a checkpoint
        elif live.st_size < cursor.offset:
            self.warnings.append(
                f"{cfg.path} was truncated at {cursor.offset} bytes (copytruncate): lines written after the "
                "last poll and before the truncation exist only in the rotated copy"
            )
            cursor = LogCursor(cursor.inode, 0, cursor.generation + 1)
            yield Batch(records=[], state=cursor.to_state())
        yield from self._drain(str(cfg.path), cursor)

    # -- rotation ---------------------------------------------------------------------------------

    def _rotated_candidates(self) -> list[str]:
        pattern = self.config.rotated_glob or f"{glob.escape(str(self.config.path))}[.-]*"
        return sorted(glob.glob(pattern))

    def _find_by_inode(self, inode: int) -> str | None:
        for candidate in self._rotated_candidates():
            try:
                if os.stat(candidate).st_ino == inode:
                    return candidate
            except FileNotFoundError:
                continue
        return None

    def _finish_rotated(self, cursor: LogCursor) -> Iterator[Batch]:
        old = self._find_by_inode(cursor.inode)
        if old is None:
            self.warnings.append(
                f"the file {self.config.path} had at inode {cursor.inode} is gone (deleted, or rotated "
                "outside "
                f"{self.config.rotated_glob or 'its folder'}): lines after byte {cursor.offset} were not read"
            )
            return
        yield from self._drain(old, cursor)

    # -- reading ----------------------------------------------------------------------------------

    def _drain(self, path: str, cursor: LogCursor) -> Iterator[Batch]:
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except FileNotFoundError:
            return
        except PermissionError as e:
            raise _unreadable(path) from e
        with f:
            if os.fstat(f.fileno()).st_ino != cursor.inode:
                return  # replaced between stat and open; the next read sees the new inode
            f.seek(cursor.offset)
            carry, base = b"", cursor.offset
            while chunk := f.read(_CHUNK):
                buf = carry + chunk
                lines = _complete_lines(buf, base, self.config.max_line_bytes)
                for i in range(0, len(lines), self.config.batch_lines):
                    part = lines[i : i + self.config.batch_lines]
                    cursor = LogCursor(cursor.inode, part[-1].end, cursor.generation)
                    self.stats.pages += 1
                    yield self._batch(path, part, cursor)
                consumed = lines[-1].end - base if lines else 0
                carry, base = buf[consumed:], base + consumed

    def _batch(self, path: str, lines: list[_Line], cursor: LogCursor) -> Batch:
        records: list[dict[str, Any]] = []
        keys: list[str | None] = []
        bad: list[QuarantinedItem] = []
        file_name = Path(path).name
        for line in lines:
            location = f"{path}:{line.offset}"
            try:
                record = self._parse_line(line)
            except LineParseError as e:
                bad.append(QuarantinedItem(line.raw, e.reason, location))
                continue
            if self.config.identity == "position":
                record = {
                    **record,
                    "_log": {
                        "file": file_name,
                        "inode": cursor.inode,
                        "generation": cursor.generation,
                        "offset": line.offset,
                    },
                }
            records.append(record)
            keys.append(f"{cursor.inode}:{cursor.generation}:{line.offset}")
        return Batch(records=records, state=cursor.to_state(), record_keys=keys, quarantined=bad)

    def _parse_line(self, line: _Line) -> dict[str, Any]:
        if line.too_long:
            raise LineParseError(f"line_too_long: over {self.config.max_line_bytes} bytes")
        try:
            text = line.raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise LineParseError("not_utf8: the line is not valid UTF-8") from e
        return self._parse(text)


def follow(connector: LogConnector, lake: Lake, stop: threading.Event, *, once: bool = False) -> StreamReport:
    """Land new lines until ``stop`` is set (or one pass with ``once``), backing off while idle.

    Idle polls cost one ``stat``; the delay doubles up to ``poll_max_seconds`` and drops back to
    ``poll_min_seconds`` as soon as a line arrives.
    """
    cfg = connector.config
    total = StreamReport(source=cfg.name, stream=cfg.entity)
    delay = cfg.poll_min_seconds
    while True:
        part = sync(connector, lake, stop_on_error=True).streams[0]
        for name in ("offered", "landed", "duplicates", "quarantined", "pages"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.state = part.state or total.state
        if once or stop.is_set():
            return total
        delay = cfg.poll_min_seconds if part.offered else min(delay * 2, cfg.poll_max_seconds)
        if stop.wait(delay):
            return total


def _unreadable(path: str | Path) -> PathError:
    """What a check and a sync both say of a log file this user may not read."""
    return PathError(
        f"log file {path} is not readable",
        hint="grant the collector read access (e.g. add it to the adm group)",
    )
