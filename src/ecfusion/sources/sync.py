"""The sync driver: read a source's streams and land them in the raw zone (4.3.4, 5.1, 5.3.1.1).

``sync(connector, lake)`` is the only place where pulled data meets the lake. For every batch a
connector yields it adds the records through the lake writer and then calls
``writer.checkpoint(stream, state)``, which flushes durably before saving the state
(docs/dev/contracts.md §2). A kill at any moment therefore loses nothing (the state still points
before the unflushed batch) and doubles nothing (re-landing a record is a no-op by content hash).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ecfusion.sources.contract import Batch, Connector, ReadStats, State


class LakeWriter(Protocol):
    """The part of ``ecfusion.lake``'s writer a collector uses (contracts.md §2)."""

    def add(
        self, payload: Any, *, record_key: str | None = None, pulled_at: datetime | None = None
    ) -> Any: ...

    def quarantine(self, raw_bytes: bytes, *, reason: str, location: str) -> Any: ...

    def checkpoint(self, stream: str, state: Mapping[str, Any]) -> Any: ...


class CheckpointReader(Protocol):
    def get(self, source: str, stream: str) -> dict[str, Any] | None: ...


class Lake(Protocol):
    """``ecfusion.lake.RawLake`` as the sync driver sees it."""

    @property
    def checkpoints(self) -> CheckpointReader: ...

    def writer(
        self, *, source: str, entity: str, platform: str, shop_id: str | None
    ) -> AbstractContextManager[LakeWriter]: ...


@dataclass
class StreamReport:
    """What one stream's sync did: landing counts from the lake, reading costs from the connector."""

    source: str
    stream: str
    offered: int = 0
    landed: int = 0
    duplicates: int = 0
    quarantined: int = 0
    pages: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    stats: ReadStats = field(default_factory=ReadStats)
    state: State | None = None
    error: str | None = None

    @property
    def outcome(self) -> str:
        return "failed" if self.error else "succeeded"


@dataclass
class SyncReport:
    source: str
    started_at: datetime
    ended_at: datetime | None = None
    streams: list[StreamReport] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if not self.streams:
            return "succeeded"
        failed = sum(1 for s in self.streams if s.error)
        return "succeeded" if failed == 0 else ("failed" if failed == len(self.streams) else "partial")


BatchCallback = Callable[[StreamReport, Batch], None]


def sync(
    connector: Connector,
    lake: Lake,
    *,
    streams: list[str] | None = None,
    full: bool = False,
    on_batch: BatchCallback | None = None,
    stop_on_error: bool = False,
) -> SyncReport:
    """Sync the given streams (default: all discovered) of ``connector`` into ``lake``.

    ``full`` ignores saved state and re-reads from the source's configured start; the lake makes
    that harmless. A stream that fails is reported with its error and the others still run
    (unless ``stop_on_error``); its state stays at the last durable batch.
    """
    cfg = connector.config
    report = SyncReport(source=cfg.name, started_at=datetime.now(UTC))
    names = streams or [s.name for s in connector.discover()]
    for name in names:
        stream_report = StreamReport(source=cfg.name, stream=name)
        report.streams.append(stream_report)
        try:
            _sync_stream(connector, lake, name, full=full, report=stream_report, on_batch=on_batch)
        except Exception as e:  # recorded and shown; the state stays at the last durable batch
            stream_report.error = f"{type(e).__name__}: {e}"
            if stop_on_error:
                raise
    report.ended_at = datetime.now(UTC)
    return report


def _sync_stream(
    connector: Connector,
    lake: Lake,
    stream: str,
    *,
    full: bool,
    report: StreamReport,
    on_batch: BatchCallback | None,
) -> None:
    cfg = connector.config
    state = None if full else lake.checkpoints.get(cfg.name, stream)
    before = _snapshot(connector.stats)
    writer = lake.writer(source=cfg.name, entity=stream, platform=cfg.kind, shop_id=cfg.shop_id)
    w: LakeWriter | None = None
    try:
        with writer as w:
            pacer = _CheckpointPacer(state)
            for batch in _batches(connector, stream, state):
                _land(w, batch)
                report.pages += 1
                if pacer.due(batch):
                    w.checkpoint(stream, batch.state)
                    report.state = batch.state
                if on_batch is not None:
                    on_batch(report, batch)
            if pacer.pending and pacer.last_state is not None:
                w.checkpoint(stream, pacer.last_state)
            report.state = pacer.last_state
    finally:
        report.stats = _since(before, connector.stats)
        if w is not None:
            _copy_result(w, report)


class _CheckpointPacer:
    """When to make landed batches durable and advance the state.

    Every checkpoint flushes a Parquet part, so checkpointing each 100-row page would litter the
    lake with tiny files. A checkpoint is due when the state advanced and either enough records are
    waiting or enough time passed; records landed but not yet checkpointed when a process dies are
    simply read again, because the saved state does not cover them.
    """

    def __init__(self, state: State | None, *, max_records: int = 5_000, max_seconds: float = 2.0) -> None:
        self.saved = state
        self.last_state: State | None = state
        self.records = 0
        self.max_records = max_records
        self.max_seconds = max_seconds
        self.since = time.monotonic()

    @property
    def pending(self) -> bool:
        return self.last_state != self.saved or self.records > 0

    def due(self, batch: Batch) -> bool:
        self.records += len(batch.records) + len(batch.quarantined)
        self.last_state = batch.state
        if batch.state == self.saved and self.records < self.max_records:
            return False
        if self.records < self.max_records and time.monotonic() - self.since < self.max_seconds:
            return False
        self.saved, self.records, self.since = batch.state, 0, time.monotonic()
        return True


def _batches(connector: Connector, stream: str, state: State | None) -> Iterator[Batch]:
    yield from connector.read(stream, state)


def _land(w: LakeWriter, batch: Batch) -> None:
    for record, key in zip(batch.records, batch.keys(), strict=True):
        w.add(dict(record), record_key=key, pulled_at=batch.pulled_at)
    for item in batch.quarantined:
        w.quarantine(item.raw_bytes, reason=item.reason, location=item.location)


def _copy_result(w: Any, report: StreamReport) -> None:
    result = getattr(w, "result", None)
    if result is None:
        return
    report.offered = int(getattr(result, "offered", 0))
    report.landed = int(getattr(result, "landed", 0))
    report.duplicates = int(getattr(result, "duplicates", 0))
    report.quarantined = int(getattr(result, "quarantined", 0))
    report.reasons = dict(getattr(result, "reasons", {}) or {})


def _snapshot(stats: ReadStats) -> ReadStats:
    return ReadStats(**vars(stats))


def _since(before: ReadStats, now: ReadStats) -> ReadStats:
    return ReadStats(
        requests=now.requests - before.requests,
        pages=now.pages - before.pages,
        retries=now.retries - before.retries,
        rate_limit_waits=now.rate_limit_waits - before.rate_limit_waits,
        rate_limit_wait_seconds=now.rate_limit_wait_seconds - before.rate_limit_wait_seconds,
        token_refreshes=now.token_refreshes - before.token_refreshes,
        lag_seconds=now.lag_seconds,
    )
