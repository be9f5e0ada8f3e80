"""Collection checkpoints in the control plane (standard 4.3.4, 5.1: 断点续传).

A checkpoint is the state a collector has *durably landed*: a cursor, a window end, a file's
byte offset. ``RawWriter.checkpoint`` saves one only after the records it covers are fsynced in
the raw zone, so a state read back here never claims more than the lake holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import DateTime, Engine, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecfusion.control.db import Base, connect


class CheckpointRow(Base):
    """One (source, stream) state, replaced on every advance."""

    __tablename__ = "ecf_checkpoint"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    stream: Mapped[str] = mapped_column(String(700), primary_key=True)
    state_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _upsert(s: Session, source: str, stream: str, state: dict[str, Any]) -> None:
    body = orjson.dumps(state, default=str).decode()
    row = s.get(CheckpointRow, (source, stream))
    now = datetime.now(UTC)
    if row is None:
        s.add(CheckpointRow(source=source, stream=stream, state_json=body, updated_at=now))
    else:
        row.state_json = body
        row.updated_at = now


class CheckpointStore:
    """Read and advance checkpoints: ``get(source, stream) -> dict | None``, ``put(…, state)``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> CheckpointStore:
        """The store of the control-plane database at SQLAlchemy ``url`` (tables created if missing)."""
        return cls(connect(url))

    def get(self, source: str, stream: str) -> dict[str, Any] | None:
        with Session(self.engine) as s:
            row = s.get(CheckpointRow, (source, stream))
            return None if row is None else orjson.loads(row.state_json)

    def put(self, source: str, stream: str, state: dict[str, Any], *, session: Session | None = None) -> None:
        """Save ``state`` for (source, stream), committed before returning — or as part of the
        caller's ``session`` transaction (the lake commits it together with the batch counts)."""
        if session is not None:
            _upsert(session, source, stream, state)
            return
        with Session(self.engine) as s, s.begin():
            _upsert(s, source, stream, state)

    def delete(self, source: str, stream: str) -> None:
        """Forget a stream's state (the next run starts from the beginning; the lake dedupes)."""
        with Session(self.engine) as s, s.begin():
            row = s.get(CheckpointRow, (source, stream))
            if row is not None:
                s.delete(row)

    def streams(self, source: str) -> list[str]:
        with Session(self.engine) as s:
            return list(s.scalars(select(CheckpointRow.stream).where(CheckpointRow.source == source)))
