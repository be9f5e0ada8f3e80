"""Replaced rows: kept as tombstones while few, compacted away once a table is worth it
(warehouse/compaction.py), through the same draft connection every warehouse writer uses.

The model's own tables, filled in SQL with a few hundred thousand rows: enough for DuckDB's row
groups (122,880 rows) to matter, made in well under a second.
"""

from __future__ import annotations

import hashlib
import json
import math
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from rawzone import RawZone, cli, one_line, rows, taobao_trade

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.errors import WarehouseBusy, WarehouseIOError
from ecfusion.model.tables import TABLES
from ecfusion.resolve.store import set_resolve_mark
from ecfusion.warehouse import compaction
from ecfusion.warehouse.compaction import ROW_GROUP_ROWS, TableStorage
from ecfusion.warehouse.pipeline import ensure_schema
from ecfusion.warehouse.snapshot import SnapshotStore
from ecfusion.warehouse.status import status as warehouse_status


def write(ws: Workspace, run_id: str, *statements: str) -> None:
    """One writer run: ``statements`` in the draft, then published (as warehouse.run does)."""
    with SnapshotStore.of(ws).draft(run_id) as d:
        with d.connection() as con:
            for sql in statements:
                con.execute(sql)
        d.publish()


def table_storage(ws: Workspace, table: str) -> TableStorage:
    con = warehouse.connect(ws)
    try:
        return next(t for t in compaction.storage(con) if t.table == table)
    finally:
        con.close()


def content(ws: Workspace, table: str) -> list[tuple[object, ...]]:
    """Row count and the order-free sum of the rows' hashes: a row lost, doubled or changed shows."""
    return rows(ws, f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {table} AS t")


# a later version of some payments: the current rows deleted, the new ones appended (as a merge does)
def replace_payments(where: str) -> tuple[str, ...]:
    return (
        "CREATE TEMP TABLE upd AS SELECT * REPLACE (amount + 1 AS amount) FROM unified.payment "
        f"WHERE {where}",
        "DELETE FROM unified.payment WHERE payment_key IN (SELECT payment_key FROM upd)",
        "INSERT INTO unified.payment SELECT * FROM upd",
    )


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace.init(tmp_path / "ws")
    with SnapshotStore.of(workspace).draft("r0") as d:
        with d.connection() as con:
            ensure_schema(con)
            set_resolve_mark(con, "customer", "er-1")  # resolution's bookmark: a PRIMARY KEY table
            con.execute(
                "INSERT INTO unified.payment BY NAME SELECT 'pay:' || i AS payment_key,"
                " 'o' || i AS order_key, 'taobao' AS platform, i % 1000 AS amount,"
                " [md5(i::VARCHAR)] AS raw_record_ids FROM range(600000) t(i)"
            )
            con.execute(
                "INSERT INTO unified.order_version BY NAME SELECT 'o' || i AS order_key,"
                " 'taobao' AS platform, md5(i::VARCHAR) AS raw_record_id FROM range(300000) t(i)"
            )
        d.publish()
    return workspace


def test_a_run_replacing_few_rows_keeps_their_tombstones_and_rewrites_nothing(ws: Workspace) -> None:
    before = table_storage(ws, "unified.payment")
    assert (before.live_rows, before.dead_rows) == (600_000, 0)
    # the next day: 180k old payments get a later version, 90k in each of the first two row groups.
    # DuckDB's own checkpoint would merge those two into one; here they are under a quarter of the
    # table's stored rows, not worth a rewrite.
    n = "CAST(substr(order_key, 2) AS INTEGER)"
    write(ws, "r1", *replace_payments(f"{n} < 90000 OR {n} BETWEEN 122880 AND 212879"))
    after = table_storage(ws, "unified.payment")
    # the replaced rows are still stored; readers see only the new ones
    assert (after.live_rows, after.dead_rows) == (600_000, 180_000)
    assert not after.worth_compacting
    assert rows(ws, "SELECT * FROM unified.payment WHERE payment_key = 'pay:0'") == [
        ("pay:0", "o0", "taobao", None, None, Decimal("1.00"), None, [hashlib.md5(b"0").hexdigest()])
    ]
    st = warehouse_status(ws)
    assert st.deleted_rows == {"unified.payment": 180_000}
    assert st.compacts_next == []


def schema_and_content(ws: Workspace) -> dict[str, object]:
    """Every table's DDL (constraints included) and content digest, by name."""
    tables = rows(ws, "SELECT schema_name, table_name, sql FROM duckdb_tables() ORDER BY ALL")
    return {f"{sc}.{t}": (ddl, content(ws, f"{sc}.{t}")) for sc, t, ddl in tables}


def test_once_a_quarter_is_tombstones_the_next_run_compacts_even_a_table_it_does_not_change(
    ws: Workspace,
) -> None:
    # half of the payments replaced: 300k tombstones, worth compacting
    write(ws, "r1", *replace_payments("amount % 2 = 0"))
    worth = table_storage(ws, "unified.payment")
    assert worth.dead_rows == 300_000 and worth.worth_compacting
    assert warehouse_status(ws).compacts_next == ["unified.payment"]
    shown = cli("warehouse", "status", "-w", str(ws.root))
    assert shown.returncode == 0, shown.stderr
    said = "deleted     300,000 rows still stored (unified.payment 300,000; the next run compacts "
    assert said + "unified.payment)" in shown.stdout
    before = schema_and_content(ws)
    reader = warehouse.connect(ws)  # a reader on the live snapshot while the next run compacts

    # the next run only appends an order version; the payments are compacted all the same
    write(ws, "r2", f"INSERT INTO unified.order_version BY NAME {version_of('o1')}")
    compacted = table_storage(ws, "unified.payment")
    assert compacted.live_rows == 600_000
    assert compacted.dead_rows < ROW_GROUP_ROWS  # DuckDB may leave less than a row group's worth
    assert compacted.row_groups <= math.ceil(600_000 / ROW_GROUP_ROWS) + 2
    after = schema_and_content(ws)
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed == {"unified.order_version"} and after.keys() == before.keys()
    # the whole model and resolution's bookmark, their NOT NULL and PRIMARY KEY constraints included
    assert len(before) == len(TABLES) + 1 and "PRIMARY KEY" in str(before["fused.resolve_mark"])
    assert reader.execute("SELECT count(*) FROM unified.payment").fetchall() == [(600_000,)]
    reader.close()
    # and the run after that has nothing to compact: it keeps the vacuum off again
    assert warehouse_status(ws).compacts_next == []


def test_the_run_that_compacts_says_so_in_its_summary(ws: Workspace) -> None:
    write(ws, "r1", *replace_payments("amount % 2 = 0"))
    raw = RawZone(ws.lake_root)
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    shown = cli("run", "-w", str(ws.root))
    assert shown.returncode == 0, shown.stderr
    said = one_line(shown.stdout)
    why = "compacted at this run's checkpoint (why it took longer): unified.payment: 300,000 replaced rows"
    assert why in said
    # and how much of the file its vacuum left free, as `warehouse compact` measures it
    space = compaction.space_of(SnapshotStore.of(ws).current())
    assert space.free_bytes > 0
    left = (f"{space.free_bytes / 1e6:,.1f} MB of the {space.bytes / 1e6:,.1f} MB file are free blocks now, "
            "which later runs reuse (`ecfusion warehouse compact` gives them back to the disk)")
    assert left in said
    assert table_storage(ws, "unified.payment").dead_rows < ROW_GROUP_ROWS
    # the next run has nothing to compact, and says nothing of it
    raw.add("taobao", "orders", [taobao_trade(2, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:06:00")])
    assert not [n for n in warehouse.run(ws).notes if n.startswith("compacted")]


def test_many_small_appends_are_merged_into_full_row_groups(ws: Workspace) -> None:
    # as a hundred small daily runs leave the order versions: each run's append is its own row group
    live = SnapshotStore.of(ws).current()
    con = duckdb.connect(str(live), config={"max_vacuum_tasks": 0})
    for day in range(compaction.MAX_EXTRA_GROUPS - 1):
        con.execute(f"INSERT INTO unified.order_version BY NAME {version_of(f'day{day}')}")
        con.execute("CHECKPOINT")
    con.close()
    write(ws, "d99", f"INSERT INTO unified.order_version BY NAME {version_of('day99')}")
    many = table_storage(ws, "unified.order_version")
    assert many.row_groups >= compaction.MAX_EXTRA_GROUPS and many.worth_compacting
    write(ws, "next", f"INSERT INTO unified.order_version BY NAME {version_of('day100')}")
    merged = table_storage(ws, "unified.order_version")
    assert merged.live_rows == 300_000 + compaction.MAX_EXTRA_GROUPS + 1
    assert merged.row_groups <= math.ceil(merged.live_rows / ROW_GROUP_ROWS) + 2


def version_of(order_key: str) -> str:
    return f"SELECT '{order_key}' AS order_key, 'taobao' AS platform, 'r-{order_key}' AS raw_record_id"


def test_the_rule_needs_both_a_share_and_an_amount_of_tombstones() -> None:
    rows = 10 * ROW_GROUP_ROWS
    # a quarter of a small table: too few rows to be worth a rewrite
    assert not TableStorage("t", 3000, 4000, 1).worth_compacting
    # many rows but a small share of a large table
    assert not TableStorage("t", rows, rows + 3 * ROW_GROUP_ROWS, 13).worth_compacting
    assert TableStorage("t", rows, rows + 4 * ROW_GROUP_ROWS, 14).worth_compacting
    assert TableStorage("t", 10, 10, compaction.MAX_EXTRA_GROUPS + 1).worth_compacting
    assert TableStorage("t", 10, 10, compaction.MAX_EXTRA_GROUPS + 1).what_compacts == "100 extra row groups"


def test_compact_returns_free_blocks_and_tombstones_to_the_disk_and_keeps_every_row(ws: Workspace) -> None:
    store = SnapshotStore.of(ws)
    # half of the payments replaced, then a run that compacts them: its vacuum leaves free blocks
    write(ws, "r1", *replace_payments("amount % 2 = 0"))
    write(ws, "r2", f"INSERT INTO unified.order_version BY NAME {version_of('o1')}")
    # then a day's later versions, too few to be worth a run's compaction: tombstones stay
    write(ws, "r3", *replace_payments("amount < 200"))
    st = warehouse_status(ws)
    assert st.free_bytes > 0 and st.deleted_rows == {"unified.payment": 120_000}
    shown = cli("warehouse", "status", "-w", str(ws.root))
    assert shown.returncode == 0, shown.stderr
    assert "of it free blocks (later runs reuse them; `ecfusion warehouse compact` returns" in " ".join(
        shown.stdout.split()
    )
    live, before = store.current(), schema_and_content(ws)
    assert live is not None
    reader = warehouse.connect(ws)  # a reader on the live snapshot while it is rewritten

    done = cli("warehouse", "compact", "-w", str(ws.root))
    assert done.returncode == 0, done.stderr
    compacted = store.current()
    assert compacted is not None and compacted != live and compacted.name.startswith("snapshot-compact-")
    # every schema, table, constraint and row as it was; no tombstone, no free block; a smaller file
    assert schema_and_content(ws) == before
    assert warehouse_status(ws).deleted_rows == {} and warehouse_status(ws).free_bytes == 0
    payments = table_storage(ws, "unified.payment")
    assert payments.row_groups <= math.ceil(600_000 / ROW_GROUP_ROWS) + 2
    assert compacted.stat().st_size < live.stat().st_size
    said = one_line(done.stdout)
    assert f"before {live.stat().st_size / 1e6:,.1f} MB" in said and "120,000 replaced rows" in said
    assert f"after {compacted.stat().st_size / 1e6:,.1f} MB, 0.0 MB of it free, 0 replaced rows" in said
    assert reader.execute("SELECT count(*) FROM unified.payment").fetchall() == [(600_000,)]
    reader.close()

    # the uncompacted snapshot is the previous one: a rollback brings the same rows back
    assert store.previous() == live
    again = cli("warehouse", "compact", "-w", str(ws.root))
    assert again.returncode == 0 and "nothing to compact: the live snapshot is" in again.stdout
    as_json = cli("warehouse", "compact", "-w", str(ws.root), "--json")
    assert as_json.returncode == 0, as_json.stderr
    nothing = json.loads(as_json.stdout)
    assert nothing["snapshot"] is None and nothing["before"]["dead_rows"] == 0
    assert nothing["before"]["bytes"] == compacted.stat().st_size
    assert store.current() == compacted
    store.rollback()
    assert store.current() == live and schema_and_content(ws) == before


def test_a_compaction_that_fails_leaves_the_live_snapshot_live_and_no_draft(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(ws, "r1", *replace_payments("amount < 200"))
    store = SnapshotStore.of(ws)
    live = store.current()

    def dies_halfway(snapshot: Path, target: Path) -> None:
        target.write_bytes(b"half a rewrite")  # as a killed or failing rewrite leaves its draft
        raise OSError("No space left on device")

    monkeypatch.setattr(compaction, "rewrite", dies_halfway)
    with pytest.raises(WarehouseIOError, match="could not be written: No space left"):
        store.compact()
    assert store.current() == live and store.drafts() == []
    assert table_storage(ws, "unified.payment").dead_rows == 120_000


def test_compact_waits_for_no_writer_but_refuses_to_run_under_one(ws: Workspace) -> None:
    write(ws, "r1", *replace_payments("amount < 200"))
    store = SnapshotStore.of(ws)
    with store.writer("a run"), pytest.raises(WarehouseBusy, match="another writer"):
        store.compact()
    assert store.compact().snapshot is not None


# Runs SnapshotStore.compact on WORKSPACE and SIGKILLs itself at POINT: "rewritten" (the draft fully
# rewritten, not published) or "renamed" (the draft renamed to its snapshot name, CURRENT not switched).
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from ecfusion.config import Workspace
    from ecfusion.warehouse import compaction, snapshot

    workspace, point = sys.argv[1], sys.argv[2]
    rewrite = compaction.rewrite

    def die(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    def rewrite_then_die(live, target):
        rewrite(live, target)
        die()

    if point == "rewritten":
        compaction.rewrite = rewrite_then_die
    elif point == "renamed":
        snapshot.SnapshotStore.publish = die
    snapshot.SnapshotStore.of(Workspace.open(Path(workspace))).compact()
    """
)


@pytest.mark.parametrize("point", ["rewritten", "renamed"])
def test_kill_minus_9_in_a_compaction_leaves_the_live_snapshot_and_the_next_writer_cleans_up(
    ws: Workspace, point: str
) -> None:
    write(ws, "r1", *replace_payments("amount < 200"))
    store = SnapshotStore.of(ws)
    live, before = store.current(), schema_and_content(ws)
    proc = subprocess.run([sys.executable, "-c", KILLER, str(ws.root), point], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # the live snapshot is the one before, whole; what the killed writer left is named, not live
    assert store.current() == live and schema_and_content(ws) == before
    left = [p.name for p in store.root.glob("*-compact-*.duckdb")]
    assert len(left) == 1 and left[0].startswith("building-" if point == "rewritten" else "snapshot-")
    # the next compaction deletes the killed one's draft and publishes its own
    done = store.compact()
    assert done.snapshot is not None and store.current() == done.snapshot
    assert schema_and_content(ws) == before and warehouse_status(ws).deleted_rows == {}
    assert [p.name for p in store.root.glob("building-*")] == []
    assert sorted(store.root.glob("snapshot-*")) == sorted([live, done.snapshot])
