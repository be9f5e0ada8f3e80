"""``ecfusion run --rebuild``: the unified tables standardized again from the whole raw zone.

The way to apply a changed mapping to the records already standardized (``mapping_drift`` says
when one has changed), or a newer ecfusion's standardization to an older warehouse. The raw zone is
append-only and keeps every record ever landed, so it is the whole truth: a rebuild starts the
draft from no unified table at all (``start_fresh``), runs as a first run would over every raw
file, and publishes like any run — readers see the old state until the switch, and
``ecfusion warehouse rollback`` brings it back.

What is not built from the raw zone comes along as it was: every schema but ``unified`` and
``meta`` (the ``fused`` tables of the last ``ecfusion er run``, which lag the unified tables after
a rebuild as after any run, until the next resolution run).

``compare`` tells the user what the rebuild changed, table by table and column by column, against
the snapshot it replaces: rows added, removed, and changed under the same key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ecfusion.interrupt import stoppable
from ecfusion.model.spec import Table
from ecfusion.model.tables import TABLES

# what a rebuild makes anew; every other schema of the live snapshot is copied into the draft
BUILT_FROM_RAW = ("unified", "meta")
# columns that name the run that wrote a row: every row of a rebuild differs there, by design
_RUN_COLUMNS = {"run_id"}


def start_fresh(live: Path, draft: Path) -> None:
    """``build`` of ``SnapshotStore.draft`` for a rebuild: a new file holding the live snapshot's
    schemas that are not built from the raw zone, table by table, and nothing else."""
    con = stoppable(duckdb.connect(str(draft)))
    try:
        con.execute("ATTACH ? AS live (READ_ONLY)", [str(live)])
        kept = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'live' "
            "AND NOT list_contains(?, schema_name) ORDER BY ALL",
            [list(BUILT_FROM_RAW)],
        ).fetchall()
        con.execute("BEGIN TRANSACTION")
        for schema, table in kept:
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            con.execute(f'CREATE TABLE "{schema}"."{table}" AS SELECT * FROM live."{schema}"."{table}"')
        con.execute("COMMIT")
        con.execute("DETACH live")
        con.execute("CHECKPOINT")
    finally:
        con.close()


@dataclass(frozen=True)
class TableChange:
    """How one unified table differs after a rebuild from the snapshot it replaces."""

    table: str
    before: int
    after: int
    added: int  # keys only the rebuild has
    removed: int  # keys only the replaced snapshot had
    changed: int  # keys in both whose row differs in some column
    columns: dict[str, int] = field(default_factory=dict)  # column → rows changed there, most first

    @property
    def differs(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@contextmanager
def _attached(conn: duckdb.DuckDBPyConnection, before: Path) -> Iterator[None]:
    """``before`` (the snapshot a rebuild replaces) attached read-only as ``before_rebuild``."""
    conn.execute("ATTACH ? AS before_rebuild (READ_ONLY)", [str(before)])
    try:
        yield
    finally:
        conn.execute("DETACH before_rebuild")


def lost_files(conn: duckdb.DuckDBPyConnection, before: Path) -> list[str]:
    """Raw files (lake-relative) ``before`` was built from that the rebuilt draft on ``conn`` did not
    read: deleted from the raw zone, or unreadable now. Publishing would lose their records."""
    with _attached(conn, before):
        rows = conn.execute(
            "SELECT path FROM before_rebuild.meta.processed_file EXCEPT SELECT path FROM meta.processed_file "
            "ORDER BY path"
        ).fetchall()
    return [str(p) for (p,) in rows]


def compare(conn: duckdb.DuckDBPyConnection, before: Path) -> list[TableChange]:
    """Every unified table on ``conn`` (the rebuilt draft) against the same table in ``before``,
    matched by the table's key; columns either side lacks (an older model) are not compared."""
    with _attached(conn, before):
        have = {
            (t, c)
            for t, c in conn.execute(
                "SELECT table_name, column_name FROM duckdb_columns() "
                "WHERE database_name = 'before_rebuild' AND schema_name = 'unified'"
            ).fetchall()
        }
        return [
            _compare_table(conn, t, have)
            for t in TABLES
            if t.schema == "unified" and (t.name, t.key[0]) in have
        ]


def _compare_table(conn: duckdb.DuckDBPyConnection, table: Table, have: set[tuple[str, str]]) -> TableChange:
    cols = [
        c
        for c in table.column_names
        if (table.name, c) in have and c not in table.key and c not in _RUN_COLUMNS
    ]
    on = " AND ".join(f"o.{k} = n.{k}" for k in table.key)
    k = table.key[0]  # NULL on the side a row is missing from (keys are never NULL)
    both = f"o.{k} IS NOT NULL AND n.{k} IS NOT NULL"
    per_column = [f"count(*) FILTER (WHERE {both} AND o.{c} IS DISTINCT FROM n.{c})" for c in cols]
    any_column = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in cols) or "false"
    row = conn.execute(
        f"SELECT count(o.{k}), count(n.{k}), "
        f"count(*) FILTER (WHERE o.{k} IS NULL), count(*) FILTER (WHERE n.{k} IS NULL), "
        f"count(*) FILTER (WHERE {both} AND ({any_column}))"
        + "".join(f", {p}" for p in per_column)
        + f" FROM before_rebuild.{table.qualified} AS o FULL JOIN {table.qualified} AS n ON {on}"
    ).fetchone()
    assert row is not None
    before, after, added, removed, changed, *by_column = (int(v) for v in row)
    columns = dict(
        sorted(((c, n) for c, n in zip(cols, by_column, strict=True) if n), key=lambda x: (-x[1], x[0]))
    )
    return TableChange(table.name, before, after, added, removed, changed, columns)
