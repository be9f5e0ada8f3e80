"""How a warehouse writer keeps its tables compact: no vacuum at checkpoints, a rewrite when due.

An incremental run deletes the current rows of the keys it replaces and appends their new rows.
DuckDB keeps a deleted row as a tombstone in its row group, and every run's appends start new row
groups. DuckDB's default is to *vacuum* at every checkpoint that writes a change: it rewrites
adjacent row groups into fewer when enough of their rows are deleted or their groups are partly
empty, in every table (changed by the run or not). On a 1M-order warehouse that cost 5.5 s of a
15 s run taking in 175k order records, most of it on tables with next to nothing to reclaim; and
the blocks it frees stay in the file, which only grows.

So a writer's connection never vacuums (``configure``: ``max_vacuum_tasks = 0``), and tombstones
accumulate until some table is worth compacting (``due``): its tombstones are at least
``MIN_DEAD_SHARE`` of its stored rows and at least ``MIN_DEAD_ROWS``, or it has
``MAX_EXTRA_GROUPS`` row groups more than its live rows fill (about that many runs' appends). Then
the next writer builds its draft by rewriting the live snapshot into a fresh file (``rewrite``:
``COPY FROM DATABASE``, every schema, table, constraint and row) instead of copying its bytes: full
row groups, no tombstones, no free blocks. Runs between are fast, tombstones stay under about a
quarter of any large table, and the file stays the size of what it holds.
``ecfusion warehouse status`` shows the deleted rows still stored and whether the next run rewrites.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROW_GROUP_ROWS = 122_880  # DuckDB's default row group size (the ROW_GROUP_SIZE the file was made with)
# Past a quarter of a table, its tombstones cost every reader's scans and every run's copy of the
# file more than a rewrite now and then (DuckDB's own vacuum starts there too: duckdb/duckdb#9931).
MIN_DEAD_SHARE = 0.25
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
    def worth_compacting(self) -> bool:
        many_dead = self.dead_rows >= MIN_DEAD_ROWS and self.dead_rows >= MIN_DEAD_SHARE * self.stored_rows
        return many_dead or self.extra_groups >= MAX_EXTRA_GROUPS


def storage(
    conn: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = ("unified", "meta")
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


def due(snapshot: Path) -> list[TableStorage]:
    """The tables of the snapshot file worth compacting (read-only; empty: a byte copy will do)."""
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return [t for t in storage(con) if t.worth_compacting]
    finally:
        con.close()


def rewrite(snapshot: Path, target: Path) -> None:
    """Write everything the snapshot file holds into the new file ``target``, compactly."""
    # the vacuum off here too: merging the row groups the parallel copy writes would leave the
    # blocks they held free in the new file (a third of it, measured)
    con = duckdb.connect(str(target), config={"max_vacuum_tasks": 0})
    try:
        [(name,)] = con.execute("SELECT current_database()").fetchall()
        con.execute("ATTACH ? AS live (READ_ONLY)", [str(snapshot)])
        con.execute(f'COPY FROM DATABASE live TO "{name}"')
        con.execute("DETACH live")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def configure(conn: duckdb.DuckDBPyConnection) -> None:
    """A writer's connection: its checkpoints never vacuum (a due compaction is a ``rewrite``)."""
    conn.execute("SET max_vacuum_tasks = 0")
