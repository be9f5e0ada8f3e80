"""Inputs landing quarantined (bytes that are not a record) are shown where a user looks for what
waits: ``warehouse quarantine`` and ``warehouse status``. They once were only in the ingest
summary and in lake/quarantine: ``warehouse status`` said "quarantine 0 records"."""

from __future__ import annotations

import json
from pathlib import Path

from rawzone import cli

from ecfusion.config import Workspace

GOOD = {"tid": 1, "tid_str": "1", "status": "WAIT_SELLER_SEND_GOODS", "created": "2026-11-01 10:00:00",
        "modified": "2026-11-01 10:00:00", "payment": "10.00", "orders": {"order": []}}


def _land_messy(workspace: Workspace, tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    export.write_bytes(
        json.dumps(GOOD).encode() + b"\n"
        + b'{"tid": 2, "status": \n'  # cut off
        + b"[1, 2]\n"  # not an object
        + b'"text"\n'
    )
    landed = cli("ingest", "files", "taobao", str(export), "--entity", "orders", "-w", str(workspace.root))
    assert landed.returncode == 0, landed.stderr


def test_quarantine_lists_what_landing_quarantined_before_a_run(workspace: Workspace, tmp_path: Path) -> None:
    _land_messy(workspace, tmp_path)
    shown = cli("warehouse", "quarantine", "-w", str(workspace.root))
    assert shown.returncode == 0, shown.stderr
    assert "quarantined at landing" in shown.stdout
    rows = {
        cells[0]: cells[1:]
        for line in shown.stdout.splitlines()
        if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) == 5
    }
    assert rows["malformed_json"][:3] == ["taobao", "orders", "1"]
    assert rows["not_an_object"][:3] == ["taobao", "orders", "2"]
    assert "export.jsonl:2: malformed_json: Expecting value" in rows["malformed_json"][3]
    assert "export.jsonl:3: not_an_object: a record must be a JSON object, got list" in shown.stdout


def test_status_counts_landing_quarantine_beside_the_runs(workspace: Workspace, tmp_path: Path) -> None:
    _land_messy(workspace, tmp_path)
    assert cli("run", "-w", str(workspace.root)).returncode == 0
    status = cli("warehouse", "status", "-w", str(workspace.root))
    assert status.returncode == 0, status.stderr
    assert "and at landing 3 inputs (malformed_json 1, not_an_object 2;" in status.stdout
    as_json = json.loads(cli("warehouse", "status", "--json", "-w", str(workspace.root)).stdout)
    assert as_json["quarantined_at_landing"] == {"malformed_json": 1, "not_an_object": 2}
    # --rule chooses among a run's rules; landing's reasons are not one of them
    ruled = cli("warehouse", "quarantine", "--rule", "unknown_status", "-w", str(workspace.root))
    assert "quarantined at landing" not in ruled.stdout
