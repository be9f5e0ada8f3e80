"""When a warehouse run lets DuckDB compact its tables (the checkpoint vacuum).

An incremental run deletes the current rows of the keys it replaces and appends their new rows.
DuckDB keeps a deleted row as a tombstone in its row group, and every run's appends start new row
groups. At the checkpoint that ends a run, DuckDB by default *vacuums*: it rewrites adjacent row
groups into fewer when enough of their rows are deleted or their groups are partly empty, in every
table (changed by the run or not). On a 1M-order warehouse that cost 5.5 s of a 15 s run taking in
175k order records, most of it on tables with next to nothing to reclaim.

So a run vacuums only when it pays: ``configure`` turns the vacuum off (``max_vacuum_tasks = 0``)
unless some table is worth compacting — its tombstones are at least ``MIN_DEAD_SHARE`` of its stored
rows and at least ``MIN_DEAD_ROWS``, or it has ``MAX_EXTRA_GROUPS`` row groups more than its live
rows fill (about that many runs' appends). Then that run leaves DuckDB's vacuum on, and its
checkpoint compacts every table worth it. Runs between compactions are fast, and no table grows
without bound under updates: tombstones stay under about a quarter of any large table.
``ecfusion warehouse status`` shows the deleted rows still stored.

The blocks a vacuum frees stay in the file and later runs' appends reuse them, so after a
compaction the file stops growing for a while (benchmarks/bench_incremental_days.py). Rewriting
every run's draft compactly instead (``COPY FROM DATABASE``, no free blocks) was tried and measured:
over ten days on 1M orders it cost 159 s against 125 s, for a file of the same size by day ten.
So the rewrite is the operator's to ask for, when the disk matters more than one slower write:
``SnapshotStore.compact`` (``ecfusion warehouse compact``) publishes the live snapshot rewritten
(``rewrite``: no tombstone, no free block) as a new snapshot, the way every writer publishes:
readers never blocked, the old one kept for rollback. ``ecfusion warehouse status`` shows the free
space it would return.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ecfusion.interrupt import stoppable

ROW_GROUP_ROWS = 122_880  # DuckDB's default row group size (the ROW_GROUP_SIZE the file was made with)
MIN_DEAD_SHARE = 0.25  # DuckDB merges adjacent row groups from 25% deleted (duckdb/duckdb#9931)
MIN_DEAD_ROWS = 2 * ROW_GROUP_ROWS  # below this, tombstones cost less than rewriting to drop them
MAX_EXTRA_GROUPS = 100


@dataclass(frozen=True)
class TableStorage:
    """How one table's rows sit in its row groups: ``stored`` counts the tombstones of deleted rows."""

    table: str
    live_rows: int
    stored_rows: int
    row_groups: int

    @property
    def dead_rows(self) -> int:
        return self.stored_rows - self.live_rows

    @property
    def extra_groups(self) -> int:
        """Row groups beyond those its live rows would fill."""
        return self.row_groups - math.ceil(self.live_rows / ROW_GROUP_ROWS)

    @property
    def what_compacts(self) -> str:
        """In words, what a compaction of the table drops: its tombstones and its extra row groups."""
        parts = [f"{self.dead_rows:,} replaced rows"] if self.dead_rows else []
        parts += [f"{self.extra_groups:,} extra row groups"] if self.extra_groups >= MAX_EXTRA_GROUPS else []
        return " and ".join(parts) or "nothing"

    @property
    def worth_compacting(self) -> bool:
        many_dead = self.dead_rows >= MIN_DEAD_ROWS and self.dead_rows >= MIN_DEAD_SHARE * self.stored_rows
        return many_dead or self.extra_groups >= MAX_EXTRA_GROUPS


def storage(
    conn: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = ("unified", "meta", "fused")
) -> list[TableStorage]:
    """Row-group occupancy of every table in ``schemas`` of the connection's database."""
    tables = conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name IN (SELECT unnest(?)) ORDER BY ALL",
        [list(schemas)],
    ).fetchall()
    out = []
    for schema, table in tables:
        name = f'"{schema}"."{table}"'
        [(groups, stored)] = conn.execute(
            "SELECT count(DISTINCT row_group_id), COALESCE(sum(count) FILTER (WHERE column_path = '[0]'), 0) "
            "FROM pragma_storage_info(?)",
            [f"{schema}.{table}"],
        ).fetchall()
        [(live,)] = conn.execute(f"SELECT count(*) FROM {name}").fetchall()
        out.append(TableStorage(f"{schema}.{table}", int(live), int(stored), int(groups)))
    return out


def configure(conn: duckdb.DuckDBPyConnection) -> list[TableStorage]:
    """Set the writer's connection to vacuum at its checkpoints only if some table is worth
    compacting; returns those tables (empty: the vacuum is off), for the run summary to name."""
    due = [t for t in storage(conn) if t.worth_compacting]
    if not due:
        conn.execute("SET max_vacuum_tasks = 0")
    return due


@dataclass(frozen=True)
class FileSpace:
    """A snapshot file's size, and the free blocks inside it (freed by vacuums; appends reuse them)."""

    bytes: int
    free_bytes: int
    dead_rows: int  # tombstones of replaced rows, over every table

    @property
    def reclaimable(self) -> bool:
        """Whether a rewrite would leave a smaller file: free blocks or tombstones to drop."""
        return self.free_bytes > 0 or self.dead_rows > 0


def file_space(
    conn: duckdb.DuckDBPyConnection, path: Path, tables: list[TableStorage] | None = None
) -> FileSpace:
    """The space of the snapshot file ``path`` that ``conn`` has open (read-only is enough);
    ``tables``: its tables' ``storage``, when the caller has it already."""
    dead = sum(t.dead_rows for t in (storage(conn) if tables is None else tables))
    return FileSpace(path.stat().st_size, _free_bytes(conn), dead)


def _free_bytes(conn: duckdb.DuckDBPyConnection) -> int:
    [(block_size, free_blocks)] = conn.execute(
        "SELECT block_size, free_blocks FROM pragma_database_size() WHERE database_name = current_database()"
    ).fetchall()
    return int(block_size) * int(free_blocks)


def free_bytes_of(path: Path) -> int:
    """The free blocks inside the snapshot file ``path`` (bytes), read from its header alone."""
    with stoppable(duckdb.connect(str(path), read_only=True)) as con:
        return _free_bytes(con)


def rewrite(snapshot: Path, target: Path) -> None:
    """Write everything the snapshot file holds (every schema, table, constraint and row) into the
    new file ``target``, compactly: full row groups, no tombstone, no free block."""
    # the vacuum off: merging the row groups the parallel copy writes would leave the blocks they
    # held free in the new file (a third of it, measured in cf5431a)
    con = stoppable(duckdb.connect(str(target), config={"max_vacuum_tasks": 0}))
    try:
        [(name,)] = con.execute("SELECT current_database()").fetchall()
        con.execute("ATTACH ? AS live (READ_ONLY)", [str(snapshot)])
        con.execute(f'COPY FROM DATABASE live TO "{name}"')
        con.execute("DETACH live")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def space_of(path: Path) -> FileSpace:
    """``file_space`` of a snapshot file, opened read-only as every reader does."""
    con = stoppable(duckdb.connect(str(path), read_only=True))
    try:
        return file_space(con, path)
    finally:
        con.close()
