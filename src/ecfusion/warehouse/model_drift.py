"""Refuses to build on a warehouse that an earlier ecfusion left at odds with this one: rows of a
keyed table whose key this ecfusion derives otherwise (``ecfusion.model.revisions``). The run is
refused before it stages anything; ``ecfusion run --rebuild`` standardizes the whole raw zone again
under this ecfusion and records the current revision, after which runs go on as before."""

from __future__ import annotations

import duckdb

from ecfusion.errors import WarehouseOutdated
from ecfusion.model.revisions import CURRENT, REVISIONS, Revision
from ecfusion.standardize.sqlgen import has_blank_edge


def outdated(conn: duckdb.DuckDBPyConnection) -> list[tuple[Revision, int]]:
    """Each revision the warehouse on ``conn`` predates for an entity it holds, with the raw records
    of that entity's files standardized before it."""
    columns = {
        c
        for (c,) in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'meta' AND table_name = 'processed_file'"
        ).fetchall()
    }
    if not columns:  # a new warehouse
        return []
    # a warehouse of an ecfusion before revisions has no column yet (the run adds it): revision 0
    revision = "COALESCE(model_revision, 0)" if "model_revision" in columns else "0"
    # the ledger read once: raw records per entity and the revision they were standardized at
    earlier = conn.execute(
        f"SELECT entity, {revision}, sum(rows) FROM meta.processed_file WHERE {revision} < ? GROUP BY ALL",
        [CURRENT],
    ).fetchall()
    found = []
    for r in REVISIONS:
        records = sum(int(n) for entity, rev, n in earlier if entity in r.entities and rev < r.number)
        if records and (not r.padded or _padded(conn, r)):
            found.append((r, records))
    return found


def _padded(conn: duckdb.DuckDBPyConnection, r: Revision) -> bool:
    """Whether a column ``r`` names holds a value with a blank at an end, as its change would trim."""
    return any(
        conn.execute(f"SELECT 1 FROM unified.{table} WHERE {has_blank_edge(column)} LIMIT 1").fetchall()
        for table, column in r.padded
    )


def refuse_outdated(conn: duckdb.DuckDBPyConnection) -> None:
    """Raise ``WarehouseOutdated`` when the warehouse on ``conn`` predates a revision it holds rows of."""
    error = outdated_error(conn)
    if error is not None:
        raise error


def outdated_error(conn: duckdb.DuckDBPyConnection) -> WarehouseOutdated | None:
    """What a run over the warehouse on ``conn`` would be refused with (``warehouse status`` says it
    before), or None."""
    found = outdated(conn)
    if not found:
        return None
    said = "; ".join(
        f"{records:,} raw record{'s' if records != 1 else ''} of {' or '.join(r.entities)} standardized "
        f"before model revision {r.number}, since which {r.what}"
        for r, records in found
    )
    return WarehouseOutdated(
        f"this warehouse was built by an earlier ecfusion, which keyed some rows otherwise: {said}. Building "
        "on it would store the next version of those rows beside the old one; the run stopped and changed "
        "nothing",
        hint="run `ecfusion run --rebuild` once: it standardizes the whole raw zone again under this "
        "ecfusion (`ecfusion run --rebuild --dry-run` shows first what it changes)",
    )
