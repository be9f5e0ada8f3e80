"""Run a CDC source continuously: every batch landed and checkpointed, then confirmed (5.1.4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ecfusion.sources.cdc.mysql import MySqlCdcConnector
from ecfusion.sources.cdc.postgres import PostgresCdcConnector
from ecfusion.sources.contract import Batch
from ecfusion.sources.streaming import land_confirmed
from ecfusion.sources.sync import StreamReport

if TYPE_CHECKING:
    from ecfusion.sources.sync import Lake

CdcConnector = MySqlCdcConnector | PostgresCdcConnector


def run_cdc(
    connector: CdcConnector,
    lake: Lake,
    *,
    full: bool = False,
    on_batch: Callable[[StreamReport, Batch], None] | None = None,
) -> StreamReport:
    """Snapshot (resuming a crashed one) and follow the log until ``connector.stop()`` or idle timeout.

    ``full`` forgets the saved position and starts a new snapshot (the lake dedupes rows it holds).
    """
    cfg = connector.config
    stream = cfg.entity
    state = None if full else lake.checkpoints.get(cfg.name, stream)
    committed: Callable[[Batch], None] = getattr(connector, "committed", lambda _b: None)
    connector.follow = True
    return land_confirmed(lake, cfg, stream, connector.read(stream, state), committed, on_batch=on_batch)
