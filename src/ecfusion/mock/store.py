"""The data a mock platform serves: every version of every record, visible by the mock clock.

Records come from the simulated merchant's folder (contracts §1: ``platforms/P/E/part-*.jsonl``,
one version per line, in modified-time order). A version is visible once its modified time is at
or before the clock; a record's *current* version is its latest visible one. List calls select
records whose current version was modified inside the asked window, newest first, as the platforms
do. Every full record a mock returns is logged as *served*, which is what the soak checks against.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

KeyOf = Callable[[dict[str, Any]], str]
TimeOf = Callable[[dict[str, Any]], float]


@dataclass(frozen=True)
class Version:
    key: str
    modified: float  # unix seconds
    record: dict[str, Any]


class VersionStore:
    def __init__(self, versions: Iterable[Version]) -> None:
        self._by_time: list[tuple[float, str, int]] = []
        self._versions: dict[str, list[Version]] = {}
        for v in versions:
            self._versions.setdefault(v.key, []).append(v)
        for key, vs in self._versions.items():
            vs.sort(key=lambda v: v.modified)
            for i, v in enumerate(vs):
                self._by_time.append((v.modified, key, i))
        self._by_time.sort()
        self._times = [t for t, _, _ in self._by_time]
        self._served: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, files: Iterable[Path], key_of: KeyOf, time_of: TimeOf) -> VersionStore:
        return cls(_read_versions(files, key_of, time_of))

    def __len__(self) -> int:
        return len(self._versions)

    def version_count(self) -> int:
        return len(self._by_time)

    def time_range(self) -> tuple[float, float] | None:
        return (self._times[0], self._times[-1]) if self._times else None

    def current(self, key: str, now: float) -> Version | None:
        vs = self._versions.get(key)
        if not vs:
            return None
        i = bisect.bisect_right([v.modified for v in vs], now) - 1
        return vs[i] if i >= 0 else None

    def window(self, start: float, end: float, now: float) -> list[Version]:
        """Current versions with ``start <= modified <= end`` (and ≤ now), newest first."""
        end = min(end, now)
        lo = bisect.bisect_left(self._times, start)
        hi = bisect.bisect_right(self._times, end)
        out: list[Version] = []
        for _, key, i in self._by_time[lo:hi]:
            vs = self._versions[key]
            if i + 1 == len(vs) or vs[i + 1].modified > now:
                out.append(vs[i])
        out.sort(key=lambda v: (-v.modified, v.key))
        return out

    def all_current(self, now: float) -> list[Version]:
        out = [v for key in sorted(self._versions) if (v := self.current(key, now)) is not None]
        return out

    def mark_served(self, versions: Iterable[Version]) -> None:
        with self._lock:
            for v in versions:
                self._served.add((v.key, self._index(v)))

    def served(self) -> Iterator[tuple[str, float]]:
        with self._lock:
            items = sorted(self._served)
        for key, i in items:
            yield key, self._versions[key][i].modified

    def _index(self, v: Version) -> int:
        vs = self._versions[v.key]
        for i, candidate in enumerate(vs):
            if candidate is v:
                return i
        raise KeyError(v.key)


def _read_versions(files: Iterable[Path], key_of: KeyOf, time_of: TimeOf) -> Iterator[Version]:
    for path in files:
        with path.open("rb") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = orjson.loads(line)
                    yield Version(key_of(record), time_of(record), record)
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    # The generator injects malformed lines on purpose; a platform would never
                    # serve them, so neither does its mock.
                    continue


def key_field(name: str) -> KeyOf:
    """A ``KeyOf`` reading ``record[name]`` as text."""

    def key_of(record: dict[str, Any]) -> str:
        return str(record[name])

    return key_of


def beijing_time_field(name: str) -> TimeOf:
    """A ``TimeOf`` for ``name``: Beijing ``yyyy-MM-dd HH:mm:ss`` text or unix seconds (missing = epoch)."""

    def time_of(record: dict[str, Any]) -> float:
        return any_time(record.get(name))

    return time_of


unix_time_field = beijing_time_field  # the same tolerance: platforms mix the two forms across APIs


def any_time(value: Any) -> float:
    from ecfusion.sources.windows import parse_beijing_text

    if value in (None, ""):
        return 0.0
    if isinstance(value, (int, float)) or str(value).isdigit():
        return float(value)
    return parse_beijing_text(str(value)).timestamp()


def entity_files(data_dir: Path, platform: str, entity: str) -> list[Path]:
    return sorted((data_dir / "platforms" / platform / entity).glob("part-*.jsonl"))


def to_unix(text_or_number: Any, parse_text: Callable[[str], datetime]) -> float:
    if isinstance(text_or_number, (int, float)):
        return float(text_or_number)
    return parse_text(str(text_or_number)).timestamp()
