"""Injected defects and the part-file sinks that inject and record them.

Serves issue 2 (Build §3, "Injected defects") and the quality/quarantine layers downstream
(T/JNBDA 0003-2025 clauses 5.3.2 and 6.2): exact duplicates, malformed JSON, missing required
fields, out-of-range prices, wrong encodings, mixed time zones, test orders and unknown status
codes are written at configurable rates, and every one is recorded in ``truth/defects.csv`` with
the file, the 1-based physical line, the record key and the kind (docs/dev/contracts.md §1).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

import orjson

DEFECT_KINDS: tuple[str, ...] = (
    "exact_duplicate",
    "malformed_json",
    "missing_required",
    "price_out_of_range",
    "wrong_encoding",
    "mixed_timezone",
    "test_order",
    "unknown_status",
)


@dataclass(frozen=True, slots=True)
class DefectRates:
    """Probability per record of each defect kind (default ≈ 0.75 % in total)."""

    exact_duplicate: float = 0.002
    malformed_json: float = 0.001
    missing_required: float = 0.001
    price_out_of_range: float = 0.001
    wrong_encoding: float = 0.0005
    mixed_timezone: float = 0.001
    test_order: float = 0.0005
    unknown_status: float = 0.0005

    @property
    def total(self) -> float:
        return sum(getattr(self, f.name) for f in fields(self))

    @classmethod
    def scaled_to(cls, total: float) -> DefectRates:
        """The default mix of kinds, scaled so that the rates add up to ``total`` (0 disables)."""
        if not 0.0 <= total <= 0.5:
            from ecfusion.errors import InputError

            raise InputError(
                f"defect rate {total} is out of range",
                hint="give a fraction between 0 and 0.5, e.g. 0.01 for 1 %",
            )
        base = cls()
        k = total / base.total
        return cls(**{f.name: getattr(base, f.name) * k for f in fields(cls)})

    @classmethod
    def none(cls) -> DefectRates:
        return cls.scaled_to(0.0)


@dataclass(frozen=True, slots=True)
class DefectRecord:
    source: str
    entity: str
    path: str
    line: int
    record_key: str
    kind: str


# A structural defect rewrites a record (a dict for JSON, a list of cells for CSV) in place.
Mutator = Callable[[Any, random.Random], bool]


@dataclass(slots=True)
class FileStat:
    path: str
    source: str
    platform: str
    entity: str
    format: str
    encoding: str
    records: int = 0

    def manifest_entry(self) -> dict[str, object]:
        return {
            "path": self.path,
            "source": self.source,
            "platform": self.platform,
            "entity": self.entity,
            "format": self.format,
            "encoding": self.encoding,
            "records": self.records,
        }


class _Sink:
    """Shared machinery of the JSONL and CSV sinks: files, line numbers, defect draws."""

    format = ""
    encoding = "utf-8"

    def __init__(
        self,
        root: Path,
        *,
        source: str,
        platform: str,
        entity: str,
        rng: random.Random,
        rates: DefectRates,
        mutators: dict[str, Mutator] | None = None,
        byte_kinds: tuple[str, ...] = (),
    ) -> None:
        self.root, self.source, self.platform, self.entity = root, source, platform, entity
        self.rng = rng
        self.mutators = mutators or {}
        kinds = [k for k in DEFECT_KINDS if k in self.mutators or k in byte_kinds]
        self._thresholds: list[tuple[float, str]] = []
        acc = 0.0
        for k in kinds:
            acc += getattr(rates, k)
            self._thresholds.append((acc, k))
        self._any = acc
        self.files: list[FileStat] = []
        self.defects: list[DefectRecord] = []
        self._fh: IO[bytes] | None = None
        self._stat: FileStat | None = None
        self._line = 0

    def open(self, relpath: str) -> None:
        self.close()
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed by close()
        self._stat = FileStat(relpath, self.source, self.platform, self.entity, self.format, self.encoding)
        self.files.append(self._stat)
        self._line = self._header()

    def _header(self) -> int:
        return 0

    @property
    def lines_in_file(self) -> int:
        return self._line

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _draw_kind(self) -> str | None:
        if self._any <= 0.0:
            return None
        return self._kind_of(self.rng.random())

    def _kind_of(self, u: float) -> str | None:
        """The defect kind a uniform draw ``u`` selects (``None`` above every threshold)."""
        for threshold, kind in self._thresholds:
            if u < threshold:
                return kind
        return None

    def _emit(self, data: bytes, key: str, kind: str | None) -> None:
        assert self._fh is not None and self._stat is not None, "open() a file first"
        self._fh.write(data)
        self._line += 1
        self._stat.records += 1
        if kind is not None:
            self.defects.append(
                DefectRecord(self.source, self.entity, self._stat.path, self._line, key, kind)
            )


class JsonlSink(_Sink):
    """Writes one JSON object per line (UTF-8), injecting defects at the configured rates."""

    format = "jsonl"

    def write(self, record: dict[str, Any], key: str) -> None:
        # the hot path, a clean line: the same draw as ``_draw_kind``, without the call
        u = self.rng.random() if self._any else 1.0
        if u >= self._any:
            assert self._fh is not None and self._stat is not None, "open() a file first"
            self._fh.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
            self._line += 1
            self._stat.records += 1
            return
        kind = self._kind_of(u)
        if kind is not None and kind in self.mutators and not self.mutators[kind](record, self.rng):
            kind = None
        line = orjson.dumps(record)
        if kind == "malformed_json":
            line = line[: max(1, len(line) // 2)].rstrip(b"\\")
        elif kind == "wrong_encoding":
            encoded = line.decode("utf-8").encode("gbk", errors="replace")
            if encoded == line:
                kind = None  # pure ASCII: GBK and UTF-8 agree, so there is nothing to get wrong
            line = encoded
        self._emit(line + b"\n", key, None if kind == "exact_duplicate" else kind)
        if kind == "exact_duplicate":
            self._emit(line + b"\n", key, kind)


class CsvSink(_Sink):
    """Writes CSV rows in a declared encoding (GBK for POS exports), injecting defects."""

    format = "csv"

    def __init__(self, root: Path, header: list[str], *, encoding: str, **kw: Any) -> None:
        super().__init__(root, **kw)
        self.header = header
        self.encoding = encoding

    def _header(self) -> int:
        assert self._fh is not None and self._stat is not None
        self._fh.write((",".join(self.header) + "\r\n").encode(self.encoding))
        return 1

    def write(self, row: list[str], key: str) -> None:
        kind = self._draw_kind()
        if kind is not None and kind in self.mutators and not self.mutators[kind](row, self.rng):
            kind = None
        text = ",".join(_csv_cell(c) for c in row) + "\r\n"
        data = text.encode(self.encoding, errors="replace")
        if kind == "wrong_encoding":
            alien = text.encode("utf-8")
            if alien == data:
                kind = None
            data = alien
        self._emit(data, key, None if kind == "exact_duplicate" else kind)
        if kind == "exact_duplicate":
            self._emit(data, key, kind)


def _csv_cell(value: str) -> str:
    if "," in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value
