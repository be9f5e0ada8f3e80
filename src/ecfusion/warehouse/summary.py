"""The run summary and its reconciliation (standard 5.3.1.2; ARCHITECTURE principle 2).

Per source and entity: raw records in = unified + quarantined + duplicates. Files of an entity
or platform with no mapping yet are reported as pending and left unprocessed, so a later
mapping picks them up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecfusion.warehouse.rebuild import TableChange


@dataclass(frozen=True)
class Reconciliation:
    source: str
    entity: str
    raw_in: int
    unified: int
    quarantined: int
    duplicates: int

    @property
    def balanced(self) -> bool:
        return self.raw_in == self.unified + self.quarantined + self.duplicates


@dataclass(frozen=True)
class PlatformFigures:
    platform: str
    orders: int
    gmv: Decimal
    refunds: int
    refund_amount: Decimal
    parcels: int = 0  # unified.shipment rows
    delivered: int = 0  # parcels a tracking event says were signed for
    median_delivery_hours: float | None = None  # shipped → signed for, of the delivered parcels


@dataclass
class RunSummary:
    """What one ``warehouse.run`` did."""

    run_id: str
    engine: str
    snapshot: Path | None
    files_processed: int = 0
    files_pending: int = 0
    pending_reasons: dict[str, int] = field(default_factory=dict)
    # raw files the run could not read (lake-relative path → why), left unprocessed for the next run
    unreadable_files: dict[str, str] = field(default_factory=dict)
    reconciliation: list[Reconciliation] = field(default_factory=list)
    platforms: list[PlatformFigures] = field(default_factory=list)
    quarantine_by_rule: dict[str, int] = field(default_factory=dict)
    flagged_by_rule: dict[str, int] = field(default_factory=dict)  # this run's records, kept with a flag
    # the order lines this run wrote from platform orders, kept with a flag (price or quantity
    # outside the mapping's bounds); by rule, beside the records' own flags, never added to them
    flagged_lines_by_rule: dict[str, int] = field(default_factory=dict)
    quality_flags: dict[str, int] = field(default_factory=dict)  # current rows of the warehouse
    notes: list[str] = field(default_factory=list)  # one line each, e.g. whether IP completion is on
    retried: int = 0  # quarantined records released to be taken again (warehouse/retry.py)
    retried_files: int = 0  # the raw files read again for them
    seconds: float = 0.0
    # seconds per step that took time (a relation the engine computed, a table written, the commit
    # and the checkpoint), largest first: where ``seconds`` went (``ecfusion run --timings``)
    timings: dict[str, float] = field(default_factory=dict)
    # a rebuild (``run(rebuild=True)``): each unified table against the snapshot it replaced
    rebuilt: list[TableChange] | None = None

    @property
    def balanced(self) -> bool:
        return all(r.balanced for r in self.reconciliation)

    @property
    def raw_in(self) -> int:
        return sum(r.raw_in for r in self.reconciliation)

    def as_dict(self) -> dict[str, object]:
        """Every field, and ``balanced`` (what schedulers check): what ``ecfusion run --json``
        prints. Money stays exact: a Decimal is printed as its text by the caller."""
        return {**asdict(self), "balanced": self.balanced}
