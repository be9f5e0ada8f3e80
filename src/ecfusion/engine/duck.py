"""DuckDB engine: the default, embedded execution of set-based stages (ARCHITECTURE principle 1).

It runs on the warehouse snapshot's own connection, so writing a result is a
``CREATE TABLE … AS SELECT`` inside the same database: no rows cross into Python.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from ecfusion.engine.base import BatchFn
from ecfusion.errors import EngineError, OutOfMemory
from ecfusion.standardize.sqlgen import lit
from ecfusion.timings import Timings


def out_of_memory(error: duckdb.OutOfMemoryException, where: str, now: str = "") -> OutOfMemory:
    """The clear error for DuckDB running out of memory ``where`` (e.g. "on hdr_taobao"); ``now``:
    the settings in force. DuckDB's own advice is SET commands, which a user of ecfusion does not
    type: the settings are ``[warehouse] memory_limit`` and ``threads`` in ecfusion.toml."""
    return OutOfMemory(
        f"DuckDB ran out of memory {where}: {str(error).splitlines()[0]}" + (f" ({now})" if now else ""),
        hint="raise [warehouse] memory_limit in ecfusion.toml, or lower [warehouse] threads (each thread "
        "holds buffers of its own); past the limit DuckDB spills to disk, so this stage needed more at once",
    )


@contextmanager
def memory_errors(where: str = "in a run") -> Iterator[None]:
    """Inside the block, DuckDB running out of memory anywhere (outside a stage, too: the write,
    the checkpoint) is raised as ``out_of_memory``'s error."""
    try:
        yield
    except duckdb.OutOfMemoryException as e:
        raise out_of_memory(e, where) from e


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self._arrow: dict[str, object] = {}  # keep registered Arrow objects alive
        self.timings = Timings()
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET preserve_insertion_order = false")  # order is by key, never by insertion

    def _run(self, sql: str, what: str) -> duckdb.DuckDBPyConnection:
        try:
            return self.conn.execute(sql)
        except duckdb.OutOfMemoryException as e:
            now = f"memory_limit {self._setting('memory_limit')}, threads {self._setting('threads')}"
            raise out_of_memory(e, f"on {what}", now) from e
        except duckdb.IOException as e:
            raise EngineError(
                f"DuckDB could not read or write a file on {what}: {str(e).splitlines()[0]}",
                hint="a stage reads the raw files and spills what does not fit in memory beside the "
                "warehouse: check the free space of the warehouse folder and that the raw files are there",
            ) from e
        except duckdb.Error as e:
            raise EngineError(
                f"DuckDB failed on {what}: {e}",
                hint="a mapping file produced SQL the engine rejects: check the mapping named in the "
                "stage (standardize/mappings/*.toml) or report the stage name above as a bug",
            ) from e

    def _setting(self, name: str) -> str:
        try:
            row = self.conn.execute("SELECT current_setting(?)", [name]).fetchone()
        except duckdb.Error:  # the connection itself failed
            return "unknown"
        return str(row[0]) if row else "unknown"

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
        with self.timings.timed(name):
            self._run(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", name)

    def table(self, name: str) -> pa.Table:
        return self.conn.sql(f"SELECT * FROM {name}").to_arrow_table()

    def scalar_rows(self, sql: str) -> list[tuple[object, ...]]:
        return self._run(sql, "a summary query").fetchall()

    def map_batches(self, name: str, source: str, fn: BatchFn, schema: pa.Schema) -> None:
        with self.timings.timed(name):
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
