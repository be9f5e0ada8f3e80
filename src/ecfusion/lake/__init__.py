"""The lake's raw zone and quarantine (standard 4.3.5 a, 5.3.1.1); see docs/dev/contracts.md §2.

``RawLake`` / ``RawWriter`` land records; ``ingest_files``, ``ingest_table`` and ``ingest_manifest``
land file, database and simulated-merchant sources through them, resumably.
"""

from typing import TYPE_CHECKING

from ecfusion._lazy import lazy_exports

if TYPE_CHECKING:  # what readers and mypy see; at run time each name is imported on first use
    from ecfusion.lake.files import ingest_files, land_file
    from ecfusion.lake.manifest import ingest_manifest
    from ecfusion.lake.raw import QuarantinedItem, RawLake, RawWriter, new_batch_id
    from ecfusion.lake.result import LandingResult, LandingSummary
    from ecfusion.lake.tables import ingest_table, land_table

__all__ = [
    "LandingResult",
    "LandingSummary",
    "QuarantinedItem",
    "RawLake",
    "RawWriter",
    "ingest_files",
    "ingest_manifest",
    "ingest_table",
    "land_file",
    "land_table",
    "new_batch_id",
]
__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "files": ["ingest_files", "land_file"],
        "manifest": ["ingest_manifest"],
        "raw": ["QuarantinedItem", "RawLake", "RawWriter", "new_batch_id"],
        "result": ["LandingResult", "LandingSummary"],
        "tables": ["ingest_table", "land_table"],
    },
)
