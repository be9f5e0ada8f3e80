"""Records landed under an entity no mapping target reads — `--entity order` for `orders`, or a file
in a folder whose name became its entity — wait as pending for ever. The user is told at landing
and at every run which entity was meant, and landing the file again under it works."""

from __future__ import annotations

from pathlib import Path

from rawzone import cli, jsonl, one_line, rows, taobao_trade

from ecfusion.config import Workspace


def test_a_mistyped_entity_is_named_with_the_one_meant_and_the_file_lands_again_under_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    ws = str(workspace.root)
    export = tmp_path / "downloads" / "trades.jsonl"
    export.parent.mkdir()
    trades = [taobao_trade(i, "TRADE_FINISHED", "2026-11-02 10:00:00") for i in (1, 2, 3)]
    export.write_text(jsonl(trades), encoding="utf-8")

    landed = cli("ingest", "files", "taobao", str(export), "--entity", "order", "-w", ws)
    assert landed.returncode == 0, landed.stderr
    said = one_line(landed.stdout)
    assert (
        "warning: entity 'order' is not one `ecfusion run` reads, so its records will wait as pending: "
        "did you mean 'orders'? then land the files again with --entity orders"
    ) in said

    ran = cli("run", "-w", ws)
    assert ran.returncode == 0, ran.stderr
    assert (
        "3 raw records of entity 'order' wait as pending: no mapping target reads that entity; did you "
        "mean 'orders'?"
    ) in one_line(ran.stdout)

    # before: "1 file(s) already landed, skipped" — the file's checkpoint did not know its entity
    again = cli("ingest", "files", "taobao", str(export), "--entity", "orders", "-w", ws)
    assert again.returncode == 0, again.stderr
    assert "already landed" not in again.stdout and "warning" not in again.stdout
    assert cli("run", "-w", ws).returncode == 0
    orders = rows(workspace, "SELECT platform_order_id FROM unified.orders ORDER BY 1")
    assert orders == [("1",), ("2",), ("3",)]
    # the same file under the same entity again is still skipped, nothing landed twice
    third = cli("ingest", "files", "taobao", str(export), "--entity", "orders", "-w", ws)
    assert "1 file(s) already landed, skipped" in third.stdout

    # a file whose folder name became its entity, nothing like one a run reads
    folder = cli("ingest", "files", "taobao", str(export), "-w", ws)
    said = one_line(folder.stdout)
    assert "entity 'downloads' is not one `ecfusion run` reads" in said
    assert "the entities a run reads are ad_clicks, ad_impressions, campaigns" in said
