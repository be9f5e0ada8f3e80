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
