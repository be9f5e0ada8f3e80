"""Landing counts and their reconciliation (standard 5.3.2: 对账; ARCHITECTURE principle 2).

Every landing reports ``offered = landed + duplicates + quarantined``: what came in was either
written, recognised as already in the lake, or quarantined with a reason — never dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


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
