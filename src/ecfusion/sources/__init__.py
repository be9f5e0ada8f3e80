"""Collection layer 采集层 (T/JNBDA 0003-2025 4.3.4, 5.1): connectors, cursors and checkpoints.

The contract every source implements is in ``ecfusion.sources.contract``; the driver that lands
a source's batches in the raw zone is ``ecfusion.sources.sync.sync``.
"""

from ecfusion.sources.contract import (
    Batch,
    CheckResult,
    Connector,
    QuarantinedItem,
    ReadStats,
    SourceConfig,
    StreamInfo,
    register,
)
from ecfusion.sources.sync import SyncReport, sync

__all__ = [
    "Batch",
    "CheckResult",
    "Connector",
    "QuarantinedItem",
    "ReadStats",
    "SourceConfig",
    "StreamInfo",
    "SyncReport",
    "register",
    "sync",
]
