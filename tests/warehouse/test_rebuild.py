"""A mapping changed after records were standardized (issue 3 Build item 2, "one versioned file per
source"): the run and `warehouse status` say which records an older mapping made, and
`ecfusion run --rebuild` standardizes the whole raw zone again — atomically, never losing a record the
live snapshot holds, keeping what is not built from the raw zone, and saying what changed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from rawzone import RawZone, cli, one_line, rows, taobao_trade

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.errors import InputError, WorkspaceError
from ecfusion.resolve import store as fused_store
from ecfusion.standardize.mapping import MAPPINGS_DIR, own_folder
from ecfusion.warehouse.snapshot import SnapshotStore

SHIPPED = (MAPPINGS_DIR / "taobao.toml").read_text(encoding="utf-8")
V = tomllib.loads(SHIPPED)["version"]  # the shipped file's version
CLOSED = 'TRADE_CLOSED = "refunded"'


def own_taobao(ws: Workspace, *, version: str, replace: tuple[str, str] = ("", "")) -> None:
    """The workspace's copy of the shipped Taobao mapping, under ``version``, with one text replaced."""
    text = SHIPPED.replace(f'version = "{V}"', f'version = "{version}"')
    if replace[0]:
        assert replace[0] in text
        text = text.replace(*replace)
    own_folder(ws).mkdir(exist_ok=True)
    (own_folder(ws) / "taobao.toml").write_text(text, encoding="utf-8")


def statuses(ws: Workspace) -> dict[str, str]:
    return dict(rows(ws, "SELECT platform_order_id, status FROM unified.orders"))


def content(ws: Workspace, table: str, exclude: str = "") -> list[tuple[object, ...]]:
    cols = f"* EXCLUDE ({exclude})" if exclude else "*"
    return rows(ws, f"SELECT {cols} FROM unified.{table} ORDER BY ALL")


def first_day(raw: RawZone) -> None:
    raw.add(
        "taobao",
        "orders",
        [
            taobao_trade(1, "TRADE_CLOSED", "2026-11-01 11:00:00"),
            taobao_trade(2, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00"),
            taobao_trade(3, "TRADE_FINISHED", "2026-11-03 10:05:00"),
        ],
    )


def three_daily_runs(ws: Workspace, raw: RawZone) -> None:
    """Three days, a new finished trade and a run each: trades 1, 2 and 3."""
    for day in (1, 2, 3):
        raw.add(
            "taobao",
            "orders",
            [taobao_trade(day, "TRADE_FINISHED", "2026-11-02 11:00:00")],
            dt=f"2026-11-2{day}",
        )
        warehouse.run(ws)


def test_a_changed_status_map_is_named_and_a_rebuild_applies_it_to_the_records_before_it(
    workspace: Workspace, raw: RawZone, tmp_path: Path
) -> None:
    ws, store = workspace, SnapshotStore.of(workspace)
    first_day(raw)
    assert warehouse.run(ws).balanced
    with fused_store.update(ws, "er-test") as con:  # what an `er run` wrote: not built from the raw zone
        con.execute("CREATE SCHEMA fused; CREATE TABLE fused.identity AS SELECT 'one-1' AS one_id")

    # the merchant learns that a closed paid trade is a cancellation in their shop, and says so
    own_taobao(ws, version=f"{V}-acme", replace=(CLOSED, 'TRADE_CLOSED = "cancelled"'))
    raw.add("taobao", "orders", [taobao_trade(4, "TRADE_CLOSED", "2026-11-02 11:00:00")], dt="2026-11-21")
    second = warehouse.run(ws)
    # the same platform code means two things in one warehouse now, and the run says why
    assert statuses(ws) == {"1": "refunded", "2": "paid", "3": "completed", "4": "cancelled"}
    said = [n for n in second.notes if n.startswith("mapping changed since")]
    assert said == [
        f"mapping changed since: taobao: 3 raw records were standardized with taobao.toml v{V}, not "
        f"taobao.toml v{V}-acme: their unified rows keep what the older rules made of them; `ecfusion run "
        "--rebuild` standardizes the whole raw zone again with the mappings in effect"
    ]
    shown = cli("warehouse", "status", "-w", str(ws.root))
    assert shown.returncode == 0
    assert (
        f"mappings mapping changed since: taobao: 3 raw records were standardized with taobao.toml v{V}"
        in one_line(shown.stdout)
    )
    before = store.current()

    # a dry run shows what the rebuild would change and publishes nothing
    tried = cli("run", "--rebuild", "--dry-run", "-w", str(ws.root))
    assert tried.returncode == 0, tried.stderr
    tried_lines = [" ".join(line.replace("│", " ").split()) for line in tried.stdout.splitlines()]
    assert "orders 4 4 0 0 1 status 1" in tried_lines
    assert "--dry-run: nothing was published; the live snapshot is unchanged" in " ".join(
        tried.stdout.split()
    )
    assert store.current() == before and store.drafts() == [] and statuses(ws)["1"] == "refunded"

    rebuilt = cli("run", "--rebuild", "-w", str(ws.root))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert statuses(ws) == {"1": "cancelled", "2": "paid", "3": "completed", "4": "cancelled"}
    lines = [" ".join(line.replace("│", " ").split()) for line in rebuilt.stdout.splitlines()]
    assert "rebuilt from the raw zone: what differs from the snapshot it replaced" in " ".join(lines)
    # trade 1 changed status in the order, its version and its history; nothing else changed
    assert "orders 4 4 0 0 1 status 1" in lines
    assert "order_version 4 4 0 0 1 status 1" in lines
    assert "order_status_history 4 4 0 0 1 status 1" in lines
    assert not any(line.startswith(("order_line ", "payment ", "member_account ")) for line in lines)
    assert "mapping changed since" not in rebuilt.stdout
    assert "reconciliation" in rebuilt.stdout and "taobao orders 4 4 0 0 yes" in lines
    # published like any run: the replaced snapshot is the rollback point; fused came along as it was
    assert store.previous() == before and store.drafts() == []
    assert rows(ws, "SELECT one_id FROM fused.identity") == [("one-1",)]
    assert rows(ws, "SELECT count(*) FROM meta.processed_file") == [(2,)]

    # exactly what a warehouse built from nothing with the mapping in effect holds
    fresh = Workspace.init(tmp_path / "fresh")
    own_taobao(fresh, version=f"{V}-acme", replace=(CLOSED, 'TRADE_CLOSED = "cancelled"'))
    fresh_raw = RawZone(fresh.lake_root)
    first_day(fresh_raw)
    fresh_raw.add(
        "taobao", "orders", [taobao_trade(4, "TRADE_CLOSED", "2026-11-02 11:00:00")], dt="2026-11-21"
    )
    assert warehouse.run(fresh).balanced
    for table, run_columns in (
        ("orders", ""),
        ("order_line", ""),
        ("order_status_history", ""),
        ("order_version", "run_id"),
        ("payment", ""),
        ("member_account", ""),
    ):
        assert content(ws, table, run_columns) == content(fresh, table, run_columns), table

    # a rebuild with nothing changed says so; the rollback brings the pre-rebuild warehouse back
    again = warehouse.run(ws, rebuild=True)
    assert again.rebuilt is not None and not any(c.differs for c in again.rebuilt)
    store.rollback()
    assert statuses(ws)["1"] == "cancelled"  # the first rebuild's: the second changed nothing


def test_codes_added_to_a_quarantining_map_are_not_a_change_that_needs_a_rebuild(
    workspace: Workspace, raw: RawZone
) -> None:
    ws = workspace
    first_day(raw)
    warehouse.run(ws)
    # the documented way to teach a map a new code: add it, then --retry-quarantined; accepted records
    # had none of the added codes, so nothing they hold can differ
    own_taobao(ws, version="1.1.1", replace=(CLOSED, f'{CLOSED}\nTRADE_PAUSED = "on_hold"'))
    assert not [n for n in warehouse.run(ws).notes if "mapping changed" in n]
    # a code taken away (a record with it would be quarantined now) is a change
    own_taobao(ws, version="1.1.2", replace=(CLOSED, ""))
    said = [n for n in warehouse.run(ws).notes if "mapping changed" in n]
    assert said and said[0].startswith(
        f"mapping changed since: taobao: 3 raw records were standardized with taobao.toml v{V}, "
        "not taobao.toml v1.1.2"
    )
    # an edit under the same version is a change too, and said to be one
    own_taobao(ws, version=V, replace=('TRADE_FINISHED = "completed"', 'TRADE_FINISHED = "delivered"'))
    said = [n for n in warehouse.run(ws).notes if "mapping changed" in n]
    assert (
        f"standardized with taobao.toml v{V} before it was edited, not taobao.toml v{V} as it is now"
        in said[0]
    )


def test_a_warehouse_an_earlier_ecfusion_built_is_said_to_have_unrecorded_mappings(
    workspace: Workspace, raw: RawZone
) -> None:
    ws = workspace
    first_day(raw)
    warehouse.run(ws)
    with fused_store.update(ws, "older") as con:  # as an ecfusion before meta.run_mapping left it
        con.execute("DROP TABLE meta.run_mapping")
    said = one_line(cli("warehouse", "status", "-w", str(ws.root)).stdout)
    assert (
        "3 raw records were standardized by an earlier ecfusion, which did not record the mappings it used"
        in said
    )
    assert warehouse.run(ws, rebuild=True).balanced
    said = one_line(cli("warehouse", "status", "-w", str(ws.root)).stdout)
    assert "mappings" not in said


def test_a_rebuild_that_cannot_read_every_raw_file_of_the_live_warehouse_publishes_nothing(
    workspace: Workspace, raw: RawZone
) -> None:
    ws, store = workspace, SnapshotStore.of(workspace)
    first_day(raw)
    gone = raw.add(
        "taobao", "orders", [taobao_trade(4, "TRADE_FINISHED", "2026-11-02 11:00:00")], dt="2026-11-21"
    )
    warehouse.run(ws)
    live = store.current()
    gone.unlink()  # a lake retention job, a hand that tidied up
    refused = cli("run", "--rebuild", "-w", str(ws.root))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(
        "error[ECF110]: the rebuild did not publish: 1 raw files the live warehouse was built from "
        "could not be read again, and their records would be lost: "
        "raw/source=taobao/entity=orders/dt=2026-11-21/"
    )
    assert "not in the raw zone" in refused.stderr and "the live snapshot is unchanged" in refused.stderr
    assert store.current() == live and store.drafts() == [] and len(statuses(ws)) == 4
    # a raw zone moved away whole: no file to read is no reason to publish an empty warehouse
    (ws.lake_root / "raw").rename(ws.lake_root / "raw-elsewhere")
    with pytest.raises(WorkspaceError, match="the rebuild did not publish: 2 raw files"):
        warehouse.run(ws, rebuild=True)
    assert store.current() == live and len(statuses(ws)) == 4
    # the quarantined records come back with the rest: a rebuild has no use for --retry-quarantined
    with pytest.raises(InputError, match="--rebuild and --retry-quarantined do not go together"):
        warehouse.run(ws, rebuild=True, retry=warehouse.Retry())


def test_a_second_rollback_is_refused_rather_than_bringing_back_what_the_first_left(
    workspace: Workspace, raw: RawZone
) -> None:
    ws, store = workspace, SnapshotStore.of(workspace)
    three_daily_runs(ws, raw)
    third = store.current()
    store.rollback()
    assert len(statuses(ws)) == 2
    shown = one_line(cli("warehouse", "status", "-w", str(ws.root)).stdout)
    assert "(rolled back from: `ecfusion warehouse rollback --undo` brings it back)" in shown
    # before: a second rollback made the third run's snapshot live again, the one just rolled back from
    again = cli("warehouse", "rollback", "-w", str(ws.root))
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.startswith("error[ECF110]: the warehouse was rolled back already")
    assert "`ecfusion warehouse rollback --undo`" in again.stderr and len(statuses(ws)) == 2
    assert cli("warehouse", "rollback", "--undo", "-w", str(ws.root)).returncode == 0
    assert store.current() == third and len(statuses(ws)) == 3
    with pytest.raises(WorkspaceError, match="no rollback to undo"):
        store.rollback(undo=True)
    # after a rollback, the next run publishes on it and a rollback is one step back again
    store.rollback()
    assert warehouse.run(ws).snapshot == store.current() and len(statuses(ws)) == 3  # the raw zone again
    assert not store.rolled_back()
    store.rollback()
    assert len(statuses(ws)) == 2


def test_each_run_records_its_mappings_and_keeps_each_set_of_rules_once(
    workspace: Workspace, raw: RawZone
) -> None:
    three_daily_runs(workspace, raw)
    recorded = rows(
        workspace,
        "SELECT platform, mapping, records, rules IS NOT NULL FROM meta.run_mapping ORDER BY run_id",
    )
    # a warehouse of a thousand daily runs holds the mapping's JSON once, not a thousand times
    assert recorded == [
        ("taobao", f"taobao.toml v{V}", 1, True),
        *[("taobao", f"taobao.toml v{V}", 1, False)] * 2,
    ]
    assert rows(workspace, "SELECT count(DISTINCT digest) FROM meta.run_mapping") == [(1,)]
