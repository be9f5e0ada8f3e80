"""What ``ecfusion run`` and ``ecfusion warehouse quarantine`` print is the data as it is: a
"[word]" in a note, a reason or a platform's value is text, not Rich markup to drop. Every run's
summary once said "set  ip_database in ecfusion.toml" for "set [completion] ip_database"."""

from __future__ import annotations

from rawzone import RawZone, cli, taobao_trade

from ecfusion.config import Workspace


def test_run_and_quarantine_print_brackets_as_they_are(workspace: Workspace, raw: RawZone) -> None:
    raw.add("taobao", "orders", [
        taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00"),
        taobao_trade(2, "WAIT_[NEW]_STATUS", "2026-11-01 10:06:00"),  # a code no map has
    ])
    run = cli("run", "-w", str(workspace.root))
    assert run.returncode == 0, run.stderr
    assert "no ip2region database; set [completion] ip_database in ecfusion.toml" in run.stdout
    shown = cli("warehouse", "quarantine", "-w", str(workspace.root))
    assert shown.returncode == 0
    assert "orders.status code WAIT_[NEW]_STATUS (path status) is not in maps.order_status" in shown.stdout


def test_run_json_is_the_whole_summary_for_a_scheduler(workspace: Workspace, raw: RawZone) -> None:
    """`ecfusion run --json`: one JSON document on stdout (no progress bar in it), money as exact
    text, `balanced` for the scheduler to check; with --rebuild --dry-run, what would change."""
    import json

    from ecfusion.warehouse.snapshot import SnapshotStore

    raw.add("taobao", "orders", [
        taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00"),
        taobao_trade(2, "WAIT_[NEW]_STATUS", "2026-11-01 10:06:00"),
    ])
    run = cli("run", "--json", "-w", str(workspace.root))
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["balanced"] is True and summary["rebuilt"] is None
    assert summary["reconciliation"] == [
        {"source": "taobao", "entity": "orders", "raw_in": 2, "unified": 1, "quarantined": 1, "duplicates": 0}
    ]
    assert summary["quarantine_by_rule"] == {"unknown_status": 1}
    [taobao] = summary["platforms"]
    assert (taobao["orders"], taobao["gmv"]) == (1, "200.07")  # the exact amount, not 200.07000000000002
    assert summary["snapshot"] == str(SnapshotStore.of(workspace).current())

    tried = cli("run", "--rebuild", "--dry-run", "--json", "-w", str(workspace.root))
    assert tried.returncode == 0, tried.stderr
    dry = json.loads(tried.stdout)
    orders = next(c for c in dry["rebuilt"] if c["table"] == "orders")
    assert (orders["before"], orders["after"], orders["changed"]) == (1, 1, 0)
    assert "--dry-run: nothing was published; the live snapshot is unchanged" in dry["notes"]
    assert dry["snapshot"] == summary["snapshot"]
