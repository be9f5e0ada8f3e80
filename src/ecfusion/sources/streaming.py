"""Landing for never-ending sources that must confirm what is stored (采集层 5.1; 4.3.5 a).

Message buses want an acknowledgement and replication slots want to be advanced — but only for
what the raw zone holds durably. The general sync driver paces its checkpoints (several batches
per Parquet part), so a connector cannot tell from being resumed that a batch is durable. This
loop lands every batch, checkpoints it (durable first, then state) and only then calls
``committed(batch)``. A kill at any point leaves the source holding everything not yet
confirmed, which it delivers again; the lake recognises it by content hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ecfusion.sources.contract import Batch, SourceConfig
from ecfusion.sources.sync import StreamReport

if TYPE_CHECKING:
    from ecfusion.sources.sync import Lake


def land_confirmed(
    lake: Lake,
    config: SourceConfig,
    stream: str,
    batches: Iterable[Batch],
    committed: Callable[[Batch], None],
    *,
    on_batch: Callable[[StreamReport, Batch], None] | None = None,
) -> StreamReport:
    """Land ``batches`` into entity ``stream`` one checkpoint each, calling ``committed`` after each."""
    report = StreamReport(source=config.name, stream=stream)
    with lake.writer(source=config.name, entity=stream, platform=config.kind, shop_id=config.shop_id) as w:
        for batch in batches:
            for record, key in zip(batch.records, batch.keys(), strict=True):
                w.add(dict(record), record_key=key, pulled_at=batch.pulled_at)
            for item in batch.quarantined:
                w.quarantine(item.raw_bytes, reason=item.reason, location=item.location)
            w.checkpoint(stream, batch.state)
            committed(batch)
            report.pages += 1
            report.state = batch.state
            if on_batch is not None:
                on_batch(report, batch)
    result = getattr(w, "result", None)
    if result is not None:
        report.offered, report.landed = result.offered, result.landed
        report.duplicates, report.quarantined = result.duplicates, result.quarantined
        report.reasons = dict(result.reasons)
    return report
