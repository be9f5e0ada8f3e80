"""Landing file sources with per-file checkpoints (standard 4.3.4 file collection, 5.1; 断点续传).

``ingest_files`` lands CSV, Excel, JSON, JSONL and XML files into the raw zone. Each file has a
checkpoint ``file:<absolute path>#entity=<entity>`` holding its identity (size, mtime, SHA-256 of
its head) and the position durably landed. A re-run skips a file fully landed, resumes one cut
short (kill -9, power loss) at its checkpoint, and starts over on a file whose head changed — in
every case the content hash keeps the lake free of doubles. A file that cannot be read at all is quarantined
whole with the reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecfusion.errors import InputError
from ecfusion.lake.raw import RawLake, RawWriter
from ecfusion.lake.readers import FORMATS, OFFSET_FORMATS, READERS, Position, Unreadable, sniff_format
from ecfusion.lake.result import LandingResult, LandingSummary

HEAD_BYTES = 1 << 20
_PROGRESS_EVERY = 2_000
# Natural keys of the payload shapes we know (platforms.md, contracts §1), first present wins.
RECORD_KEY_FIELDS = (
    "tid",
    "orderId",
    "order_sn",
    "order_id",
    "shop_order_id",
    "refund_id",
    "afsServiceId",
    "after_sale_id",
    "num_iid",
    "wareId",
    "goods_id",
    "product_id",
    "member_id",
    "event_id",
    "ticket_id",
    "coupon_id",
    "campaign_id",
    "click_id",
    "impression_id",
    "id",
)
ProgressCallback = Callable[[str, int, int], None]  # (label, bytes done, bytes total)


@dataclass(frozen=True)
class FileIdentity:
    """What tells a file apart from its earlier self: size, mtime and a hash of its first MB."""

    size: int
    mtime_ns: int
    head_len: int
    head_sha256: str

    @classmethod
    def of(cls, path: Path, head_len: int | None = None) -> FileIdentity:
        st = path.stat()
        n = min(st.st_size, HEAD_BYTES if head_len is None else head_len)
        with open(path, "rb") as f:
            head = hashlib.sha256(f.read(n)).hexdigest()
        return cls(st.st_size, st.st_mtime_ns, n, head)


def file_stream(path: Path, entity: str | None = None) -> str:
    """The checkpoint stream of ``path`` landed as ``entity``: a file landed again as another entity
    (mistyped, or named after its folder, the first time) is read anew under it. Without ``entity``:
    the stream an ecfusion before it wrote, still honoured for the files it landed."""
    return f"file:{path.resolve()}" + (f"#entity={entity}" if entity is not None else "")


def _resume_point(lake: RawLake, source: str, entity: str, path: Path, now: FileIdentity) -> Position | None:
    """Where to start reading ``path``: None = already fully landed; Position() = from the top."""
    state = lake.checkpoints.get(source, file_stream(path, entity)) or lake.checkpoints.get(
        source, file_stream(path)
    )
    if not state:
        return Position()
    same_head = FileIdentity.of(path, int(state["head_len"])).head_sha256 == state["head_sha256"]
    if not same_head or now.size < int(state["size"]):
        return Position()  # rewritten or truncated: read again, the content hash drops what is known
    unchanged = now.size == int(state["size"]) and now.mtime_ns == int(state["mtime_ns"])
    if state.get("done") and unchanged:
        return None
    return Position(int(state.get("offset", 0)), int(state.get("line", 0)), int(state.get("ordinal", 0)))


def record_key(record: dict[str, Any]) -> str | None:
    for name in RECORD_KEY_FIELDS:
        value = record.get(name)
        if value is not None and value != "" and not isinstance(value, (dict, list)):
            return str(value)
    return None


def _state(path: Path, ident: FileIdentity, fmt: str, pos: Position, done: bool) -> dict[str, Any]:
    return {
        "path": str(path.resolve()),
        "format": fmt,
        "size": ident.size,
        "mtime_ns": ident.mtime_ns,
        "head_len": ident.head_len,
        "head_sha256": ident.head_sha256,
        "offset": pos.offset,
        "line": pos.line,
        "ordinal": pos.ordinal,
        "done": done,
    }


def resolve_format(path: Path, fmt: str) -> str:
    if fmt != "auto":
        if fmt not in FORMATS:
            raise InputError(
                f"unknown format {fmt!r} for {path}", hint=f"use one of: auto, {', '.join(FORMATS)}"
            )
        return fmt
    found = sniff_format(path)
    if found is None:
        raise InputError(
            f"cannot tell the format of {path} from its name", hint=f"pass --format ({', '.join(FORMATS)})"
        )
    return found


def land_file(
    writer: RawWriter,
    path: Path,
    *,
    fmt: str = "auto",
    encoding: str = "auto",
    label: str | None = None,
    checkpoint_every: int | None = None,
    progress: ProgressCallback | None = None,
) -> LandingResult | None:
    """Land one file through an open writer; returns this file's counts, or None if already landed."""
    fmt = resolve_format(path, fmt)
    lake, source = writer.lake, writer.source
    label = label or str(path)
    ident = FileIdentity.of(path)
    start = _resume_point(lake, source, writer.entity, path, ident)
    if start is None:
        return None
    every = checkpoint_every or lake.target_file_rows
    before = _snapshot(writer.result)
    pos = start
    pulled_at = datetime.now(UTC)
    try:
        since = 0
        for item in READERS[fmt](path, label, encoding, start):
            if item.record is not None:
                writer.add_parsed(item.record, record_key(item.record), pulled_at)
            else:
                writer.quarantine(item.raw or b"", item.reason or "unparseable", item.location)
            pos = item.after
            since += 1
            if since >= every:
                writer.checkpoint(file_stream(path, writer.entity), _state(path, ident, fmt, pos, False))
                since = 0
            if progress is not None and fmt in OFFSET_FORMATS and pos.ordinal % _PROGRESS_EVERY == 0:
                progress(label, pos.offset, ident.size)
    except Unreadable as e:
        writer.quarantine(path.read_bytes(), e.reason, label)
    writer.checkpoint(file_stream(path, writer.entity), _state(path, ident, fmt, pos, True))
    if progress is not None:
        progress(label, ident.size, ident.size)
    return _delta(before, writer.result)


def _snapshot(r: LandingResult) -> LandingResult:
    return LandingResult(r.offered, r.landed, r.duplicates, r.quarantined, dict(r.reasons), list(r.files))


def _delta(before: LandingResult, after: LandingResult) -> LandingResult:
    reasons = {
        k: v - before.reasons.get(k, 0) for k, v in after.reasons.items() if v - before.reasons.get(k, 0)
    }
    return LandingResult(
        after.offered - before.offered,
        after.landed - before.landed,
        after.duplicates - before.duplicates,
        after.quarantined - before.quarantined,
        reasons,
        after.files[len(before.files) :],
    )


_ENTITY_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def default_entity(path: Path) -> str:
    """``…/orders/part-00001.jsonl`` → ``orders``: the folder a file sits in names what it holds."""
    name = _ENTITY_SAFE.sub("_", path.resolve().parent.name).strip("_")
    return name or "records"


def expand_paths(paths: Sequence[Path | str]) -> list[Path]:
    """Files as given, folders expanded to the readable files below them (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file() and sniff_format(f) and not f.name.startswith((".", "_"))
                )
            )
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"{p} does not exist", hint="check the path")
    return out


def ingest_files(
    lake: RawLake,
    source: str,
    paths: Sequence[Path | str],
    *,
    entity: str | None = None,
    platform: str | None = None,
    shop_id: str | None = None,
    fmt: str = "auto",
    encoding: str = "auto",
    checkpoint_every: int | None = None,
    progress: ProgressCallback | None = None,
) -> LandingSummary:
    """Land files (folders are expanded) for ``source``; one batch per entity, resumable per file."""
    summary = LandingSummary()
    by_entity: dict[str, list[Path]] = {}
    for p in expand_paths(paths):
        by_entity.setdefault(entity or default_entity(p), []).append(p)
    for ent, files in by_entity.items():
        with lake.writer(source=source, entity=ent, platform=platform or source, shop_id=shop_id) as w:
            for p in files:
                got = land_file(
                    w, p, fmt=fmt, encoding=encoding, checkpoint_every=checkpoint_every, progress=progress
                )
                if got is None:
                    summary.skipped_files.append(str(p))
        summary.add(source, ent, w.result)
    return summary
