"""Control-plane tables of entity resolution (T/JNBDA 0003-2025 4.3.6 b, 6.1.3).

* ``resolve_identity`` — the identity map: record key (account or listing) → its one_id / std_sku_id.
  It is what makes ids stable across runs and lets a run add new records incrementally.
* ``resolve_event`` — every merge, split and join of an identity, with reason and evidence.
* ``resolve_review`` — pairs in the uncertain band waiting for a person, and their outcome.
* ``resolve_decision`` — a reviewer's confirm / reject / split; every later run obeys them.
* ``resolve_state`` — per entity kind, the run that last committed the identity map and its size;
  the warehouse snapshot records the same run id, so an incremental run can trust the snapshot's
  copy of the map (``fused.member``) and read only the rows it changes from here.

No personal data here: keys are platform account ids and listing keys, evidence is blind indexes
and match weights.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecfusion.control.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class ResolveIdentity(Base):
    __tablename__ = "resolve_identity"

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)  # "member" | "product"
    record_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(String(64), index=True)
    run_id: Mapped[str] = mapped_column(String(64))


class ResolveEvent(Base):
    __tablename__ = "resolve_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # merge | split | join | build | decision
    cluster_id: Mapped[str] = mapped_column(String(64), index=True)
    other_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ResolveReview(Base):
    __tablename__ = "resolve_review"
    __table_args__ = (
        UniqueConstraint("entity", "left_key", "right_key"),
        # a run closes the open items of the records it changed, looked up by either side
        Index("ix_resolve_review_right", "entity", "right_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(16))
    left_key: Mapped[str] = mapped_column(String(255))
    right_key: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | confirmed | rejected | linked
    run_id: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ResolveDecision(Base):
    __tablename__ = "resolve_decision"
    __table_args__ = (Index("ix_resolve_decision_entity", "entity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # confirm | reject | split
    left_key: Mapped[str] = mapped_column(String(255))
    right_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ResolveState(Base):
    __tablename__ = "resolve_state"

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))  # the run that last committed the map
    records: Mapped[int] = mapped_column(Integer)  # record keys in the map after that run
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
