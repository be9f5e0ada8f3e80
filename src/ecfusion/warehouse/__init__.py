"""The warehouse (standard 4.3.5, 5.3.1.2): unified tables in DuckDB snapshots, built incrementally.

``run(workspace, engine="duckdb")`` standardizes new raw files and publishes a snapshot (with
``retry=Retry(rule=…)`` it first takes quarantined records again, after their mapping was fixed);
``connect(workspace)`` opens the live snapshot read-only; ``SnapshotStore`` switches and rolls back.
"""

from typing import TYPE_CHECKING

from ecfusion._lazy import lazy_exports

if TYPE_CHECKING:  # what readers and mypy see; at run time each name is imported on first use
    from ecfusion.warehouse.pipeline import ensure_schema, run
    from ecfusion.warehouse.retry import Retry
    from ecfusion.warehouse.snapshot import SnapshotStore, connect
    from ecfusion.warehouse.summary import PlatformFigures, Reconciliation, RunSummary

__all__ = [
    "PlatformFigures",
    "Reconciliation",
    "Retry",
    "RunSummary",
    "SnapshotStore",
    "connect",
    "ensure_schema",
    "run",
]
__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "pipeline": ["ensure_schema", "run"],
        "retry": ["Retry"],
        "snapshot": ["SnapshotStore", "connect"],
        "summary": ["PlatformFigures", "Reconciliation", "RunSummary"],
    },
)
