"""Landing counts and their reconciliation (standard 5.3.2: 对账; ARCHITECTURE principle 2).

Every landing reports ``offered = landed + duplicates + quarantined``: what came in was either
written, recognised as already in the lake, or quarantined with a reason — never dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from ecfusion.lake.partfile import part_files


def reason_category(reason: str) -> str:
    """``malformed_json: Expecting ',' …`` → ``malformed_json`` (summaries count by category)."""
    return reason.split(":", 1)[0].strip() or "unknown"


@dataclass
class LandingResult:
    """Counts of one landing batch (or several merged)."""

    offered: int = 0
    landed: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return self.offered == self.landed + self.duplicates + self.quarantined

    def count_quarantine(self, reason: str) -> None:
        self.quarantined += 1
        cat = reason_category(reason)
        self.reasons[cat] = self.reasons.get(cat, 0) + 1

    def merge(self, other: LandingResult) -> None:
        self.offered += other.offered
        self.landed += other.landed
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.reasons = dict(Counter(self.reasons) + Counter(other.reasons))
        self.files.extend(other.files)


@dataclass
class LandingSummary:
    """Results per (source, entity) of a multi-file or multi-table landing, plus files skipped."""

    results: dict[tuple[str, str], LandingResult] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)

    def add(self, source: str, entity: str, result: LandingResult) -> None:
        self.results.setdefault((source, entity), LandingResult()).merge(result)

    @property
    def total(self) -> LandingResult:
        total = LandingResult()
        for r in self.results.values():
            total.merge(r)
        return total


@dataclass(frozen=True)
class LandingQuarantine:
    """Inputs the lake's quarantine holds for one source, entity and reason (``malformed_json``,
    ``wrong_encoding`` …): they never reached the raw zone, so no run sees them. ``examples``: the
    first few, each ``location: reason`` (the file and line, or the batch and record)."""

    source: str
    entity: str
    reason: str
    records: int
    examples: list[str]


def landing_quarantine(lake_root: Path, examples: int = 3) -> list[LandingQuarantine]:
    """What waits in ``lake_root/quarantine``, by source, entity and reason, largest group first;
    the examples are the first in landing order. Reads three plaintext columns of each part (the
    sealed bytes stay sealed)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    firsts: dict[tuple[str, str, str], list[str]] = {}
    for part in part_files(lake_root / "quarantine"):
        table = pq.read_table(part, columns=["source", "entity", "reason", "location"])
        for source, entity, reason, location in zip(*(c.to_pylist() for c in table.columns), strict=True):
            key = (source, entity, reason_category(reason))
            counts[key] += 1
            if len(shown := firsts.setdefault(key, [])) < examples:
                shown.append(f"{location}: {reason}")
    groups = [LandingQuarantine(*key, n, firsts[key]) for key, n in counts.items()]
    return sorted(groups, key=lambda g: (-g.records, g.source, g.entity, g.reason))
