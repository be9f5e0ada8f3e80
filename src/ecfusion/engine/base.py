"""The narrow seam between the pipeline and an execution engine (ARCHITECTURE principle 1).

A stage is SQL in DuckDB dialect. An engine registers inputs (Parquet files, Arrow tables),
defines named relations from SQL, and hands results back as Arrow or writes them into the
DuckDB warehouse snapshot. Splink's database API is the model: run this SQL, give me a table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import duckdb
import pyarrow as pa

from ecfusion.timings import Timings

BatchFn = Callable[[pa.RecordBatch], pa.RecordBatch]


class Engine(Protocol):
    name: str
    # each relation ``materialize`` computed (DuckDB: ``map_batches`` too; Spark maps lazily, inside
    # the relation that reads the map)
    timings: Timings

    def register_parquet(self, name: str, paths: Sequence[str]) -> None:
        """Expose Parquet files as relation ``name`` with an extra ``raw_file`` column (the path)."""

    def register_arrow(self, name: str, data: pa.Table) -> None:
        """Expose an Arrow table as relation ``name``."""

    def view(self, name: str, sql: str) -> None:
        """Define relation ``name`` as the SELECT ``sql`` (lazy)."""

    def materialize(self, name: str, sql: str) -> None:
        """Define relation ``name`` as the SELECT ``sql``, computed once and kept for this run."""

    def table(self, name: str) -> pa.Table:
        """The rows of relation ``name`` as Arrow."""

    def scalar_rows(self, sql: str) -> list[tuple[object, ...]]:
        """Run a small SELECT and return its rows (counts, summaries)."""

    def map_batches(self, name: str, source: str, fn: BatchFn, schema: pa.Schema) -> None:
        """Relation ``name`` = ``fn`` applied to each Arrow record batch of ``source`` (row-wise Python)."""

    def write_table(self, source: str, warehouse: duckdb.DuckDBPyConnection, target: str) -> None:
        """Replace warehouse table ``target`` (qualified) with the rows of relation ``source``."""

    def close(self) -> None: ...
