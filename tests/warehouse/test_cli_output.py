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


def test_run_timings_say_where_the_time_went(workspace: Workspace, raw: RawZone) -> None:
    """`ecfusion run --timings`: the slowest steps, named as the pipeline names them, each with its
    seconds and share; `--json` always carries them. The steps never add up to more than the run."""
    import json
    import re

    raw.add("taobao", "orders", [taobao_trade(i, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
                                 for i in range(1, 4)])
    run = cli("run", "--timings", "-w", str(workspace.root))
    assert run.returncode == 0, run.stderr
    seconds = float(re.search(r"where the run's ([0-9.]+) s went", run.stdout).group(1))  # type: ignore[union-attr]
    shown = [(step, float(sec)) for step, sec in
             re.findall(r"│ (\S+(?: unified\.\w+)?) +│ ([0-9.]+) +│ +\d+% +│", run.stdout)]
    assert len(shown) == 12, run.stdout  # the 12 slowest of some 40 steps, then the rest added up
    assert [sec for _, sec in shown] == sorted((sec for _, sec in shown), reverse=True)
    assert re.search(r"\d+ other steps: [0-9.]+ s; outside any step", run.stdout)
    assert sum(sec for _, sec in shown) <= seconds + 0.01 * len(shown)  # each rounded to 0.01

    raw.add("taobao", "orders", [taobao_trade(9, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    again = json.loads(cli("run", "--json", "-w", str(workspace.root)).stdout)
    steps = again["timings"]
    assert {"hdr_taobao", "cls_orders", "write unified.orders", "commit", "checkpoint",
            "draft from the live snapshot"} <= set(steps)
    assert list(steps.values()) == sorted(steps.values(), reverse=True)  # slowest first
    assert all(s >= 0 for s in steps.values()) and sum(steps.values()) <= again["seconds"]
    assert "where the run" not in cli("run", "-w", str(workspace.root)).stdout  # only when asked
