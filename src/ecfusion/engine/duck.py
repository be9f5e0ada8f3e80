"""DuckDB engine: the default, embedded execution of set-based stages (ARCHITECTURE principle 1).

It runs on the warehouse snapshot's own connection, so writing a result is a
``CREATE TABLE … AS SELECT`` inside the same database: no rows cross into Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from ecfusion.engine.base import BatchFn
from ecfusion.errors import EngineError
from ecfusion.standardize.sqlgen import lit


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self._arrow: dict[str, object] = {}  # keep registered Arrow objects alive
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET preserve_insertion_order = false")  # order is by key, never by insertion

    def _run(self, sql: str, what: str) -> duckdb.DuckDBPyConnection:
        try:
            return self.conn.execute(sql)
        except duckdb.Error as e:
            raise EngineError(
                f"DuckDB failed on {what}: {e}",
                hint="a mapping file produced SQL the engine rejects: check the mapping named in the "
                "stage (standardize/mappings/*.toml) or report the stage name above as a bug",
            ) from e

    def register_parquet(self, name: str, paths: Sequence[str]) -> None:
        files = "[" + ", ".join(lit(p) for p in paths) + "]"
        self._run(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * EXCLUDE (filename), filename AS raw_file "
            f"FROM read_parquet({files}, filename = true, union_by_name = true)",
            name,
        )

    def register_arrow(self, name: str, data: pa.Table) -> None:
        self._arrow[name] = data
        self.conn.register(f"{name}__arrow", data)
        self._run(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}__arrow", name)

    def view(self, name: str, sql: str) -> None:
        self._run(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}", name)

    def materialize(self, name: str, sql: str) -> None:
        self._run(f"DROP VIEW IF EXISTS {name}", name)
        self._run(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", name)

    def table(self, name: str) -> pa.Table:
        return self.conn.sql(f"SELECT * FROM {name}").to_arrow_table()

    def scalar_rows(self, sql: str) -> list[tuple[object, ...]]:
        return self._run(sql, "a summary query").fetchall()

    def map_batches(self, name: str, source: str, fn: BatchFn, schema: pa.Schema) -> None:
        reader: pa.RecordBatchReader = self.conn.sql(f"SELECT * FROM {source}").to_arrow_reader(65_536)
        out = pa.Table.from_batches((fn(b) for b in reader), schema=schema)
        self.register_arrow(name, out)

    def write_table(self, source: str, warehouse: duckdb.DuckDBPyConnection, target: str) -> None:
        if warehouse is not self.conn:
            data = self.table(source)
            warehouse.register("__incoming", data)
            source = "__incoming"
        warehouse.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}")

    def close(self) -> None:
        self._arrow.clear()
