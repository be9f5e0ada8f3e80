"""Where resolution reads and writes in the warehouse (4.3.5 data warehouse; contracts §4).

Reads ``unified.member_account`` and ``unified.listing``; writes schema ``fused``:

* ``fused.member`` — every account with its ``one_id`` (personal fields stay tokens);
* ``fused.identity`` — one row per one_id: accounts, platforms, first/last seen;
* ``fused.member_link`` / ``fused.listing_link`` — the edges that built each identity, with
  method, reason and evidence (blind indexes, match weights) — what ``explain`` reads;
* ``fused.listing`` — every listing with its ``std_sku_id``;
* ``fused.orders`` / ``fused.order_line`` — orders joined to one_id and std_sku_id, when the
  unified order tables exist;
* ``fused.resolve_mark`` — per entity kind, the run whose identity map this snapshot holds. It
  equals the control plane's ``resolve_state`` unless a run was killed between committing the
  control plane and publishing the snapshot (or the warehouse was rolled back); only when they
  agree may an incremental run take ``fused.member`` as the identity map of the accounts it does
  not touch.

The warehouse is a chain of DuckDB snapshots (``ecfusion.warehouse.SnapshotStore``): readers open
the live one read-only; a resolution run copies it under the writer lock, writes ``fused`` into
the copy and publishes it atomically, so a reader never sees half-written fused tables, a failed
run changes nothing, and no concurrent ``ecfusion run`` can publish over it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from ecfusion.config import Workspace
from ecfusion.errors import InputError
from ecfusion.interrupt import stoppable
from ecfusion.warehouse.snapshot import SnapshotStore


def _snapshots(workspace: Workspace) -> SnapshotStore:
    return SnapshotStore.of(workspace)


def live_path(workspace: Workspace) -> Path:
    """The live warehouse snapshot of ``workspace``."""
    live = _snapshots(workspace).current()
    if live is None:
        raise InputError(
            f"no warehouse in {workspace.warehouse_root} yet",
            hint="run `ecfusion run` (standardize) before `ecfusion er`",
        )
    return live


def connect(workspace: Workspace, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to the live snapshot (read-only unless a caller owns an update)."""
    return stoppable(duckdb.connect(str(live_path(workspace)), read_only=read_only))


@contextmanager
def update(workspace: Workspace, run_id: str, *, wait: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable copy of the live snapshot, under the warehouse's writer lock: published when
    the block succeeds, deleted if not. ``wait``: seconds to wait for another writer."""
    with _snapshots(workspace).draft(run_id, wait=wait) as draft:
        with draft.connection() as con:
            yield con
        draft.publish()


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return bool(row and row[0][0])


def read_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> pa.Table:
    if not has_table(con, schema, table):
        raise InputError(
            f"warehouse table {schema}.{table} does not exist",
            hint="standardize the sources first (`ecfusion run`), then resolve",
        )
    return con.sql(f"select * from {schema}.{table}").to_arrow_table()


def write_table(con: duckdb.DuckDBPyConnection, name: str, data: pa.Table | str) -> None:
    """Replace ``fused.<name>`` atomically with an Arrow table or a SELECT."""
    con.execute("create schema if not exists fused")
    if isinstance(data, pa.Table):
        con.register("_resolve_out", data)
        con.execute(f"create or replace table fused.{name} as select * from _resolve_out")
        con.unregister("_resolve_out")
    else:
        con.execute(f"create or replace table fused.{name} as {data}")


def resolve_mark(con: duckdb.DuckDBPyConnection, entity: str) -> str | None:
    """The run whose identity map of ``entity`` this snapshot holds (None before any)."""
    if not has_table(con, "fused", "resolve_mark"):
        return None
    row = con.execute("select run_id from fused.resolve_mark where entity = ?", [entity]).fetchall()
    return str(row[0][0]) if row else None


def set_resolve_mark(con: duckdb.DuckDBPyConnection, entity: str, run_id: str) -> None:
    con.execute("create schema if not exists fused")
    con.execute("create table if not exists fused.resolve_mark (entity varchar primary key, run_id varchar)")
    con.execute("delete from fused.resolve_mark where entity = ?", [entity])
    con.execute("insert into fused.resolve_mark values (?, ?)", [entity, run_id])
