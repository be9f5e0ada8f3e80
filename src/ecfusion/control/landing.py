"""Landing batches in the control plane (standard 5.3.1.1, 5.3.3: what landed, when, reconciled).

Every ``RawLake.writer`` is one batch. Its row is written when the batch starts, updated at each
checkpoint and closed with the final counts, so ``offered = landed + duplicates + quarantined``
can be checked per batch. A batch killed mid-way stays ``running`` until the next writer of its
(source, entity) closes it as ``interrupted`` (``mark_interrupted``), adding the records it landed
after its last checkpoint; when the collector offers those again (its state is from before them),
that writer counts them nowhere, so across all batches every record is offered and landed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecfusion.control.db import Base


class LandingBatchRow(Base):
    __tablename__ = "ecf_landing_batch"

    batch_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    entity: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(100))
    shop_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    offered: Mapped[int] = mapped_column(Integer, default=0)
    landed: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))  # running | succeeded | failed | interrupted


@dataclass(frozen=True)
class BatchCounts:
    offered: int
    landed: int
    duplicates: int
    quarantined: int
    files: int


def _record(s: Session, batch_id: str, counts: BatchCounts, status: str) -> None:
    row = s.get(LandingBatchRow, batch_id)
    if row is None:
        return
    row.offered, row.landed = counts.offered, counts.landed
    row.duplicates, row.quarantined, row.files = counts.duplicates, counts.quarantined, counts.files
    row.status = status
    if status != "running":
        row.finished_at = datetime.now(UTC)


class LandingBatchLog:
    """Record landing batches: ``start``, ``update`` (at each checkpoint), ``finish``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, batch_id: str, *, source: str, entity: str, platform: str, shop_id: str | None) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(
                LandingBatchRow(
                    batch_id=batch_id,
                    source=source,
                    entity=entity,
                    platform=platform,
                    shop_id=shop_id,
                    started_at=datetime.now(UTC),
                    status="running",
                    offered=0,
                    landed=0,
                    duplicates=0,
                    quarantined=0,
                    files=0,
                )
            )

    def update(
        self, batch_id: str, counts: BatchCounts, *, status: str = "running", session: Session | None = None
    ) -> None:
        """Record counts (and the final status); inside ``session``'s transaction if one is given."""
        if session is not None:
            _record(session, batch_id, counts, status)
            return
        with Session(self.engine) as s, s.begin():
            _record(s, batch_id, counts, status)

    def running_batches(self, source: str, entity: str) -> list[tuple[str, int]]:
        """(batch_id, landed as of its last checkpoint) of the batches of (source, entity) still
        ``running``. Holding the writer lock of (source, entity), none of them is alive."""
        stale = select(LandingBatchRow).where(
            LandingBatchRow.source == source,
            LandingBatchRow.entity == entity,
            LandingBatchRow.status == "running",
        )
        with Session(self.engine) as s:
            return [(row.batch_id, row.landed) for row in s.scalars(stale)]

    def mark_interrupted(self, batch_id: str, landed_after_checkpoint: int, files: int) -> None:
        """Close a dead batch as ``interrupted``, adding the records it landed after its last
        checkpoint (offered to it and landed by it: the counts stay balanced)."""
        with Session(self.engine) as s, s.begin():
            row = s.get(LandingBatchRow, batch_id)
            if row is None:
                return
            row.offered += landed_after_checkpoint
            row.landed += landed_after_checkpoint
            row.files = files
            row.status, row.finished_at = "interrupted", datetime.now(UTC)

    def get(self, batch_id: str) -> LandingBatchRow | None:
        with Session(self.engine) as s:
            return s.get(LandingBatchRow, batch_id)

    def recent(self, source: str | None = None, limit: int = 50) -> list[LandingBatchRow]:
        q = select(LandingBatchRow).order_by(LandingBatchRow.started_at.desc()).limit(limit)
        if source is not None:
            q = q.where(LandingBatchRow.source == source)
        with Session(self.engine) as s:
            return list(s.scalars(q))
