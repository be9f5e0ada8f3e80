"""A workspace's own mapping files (issue 3 Build item 2: "adding a platform means a mapping file"):
a data team adds a source the shipped library does not know, or extends a shipped platform's
status map, by dropping a file into the workspace's ``mappings`` folder — no change to ecfusion."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rawzone import RawZone, jsonl, one_line, taobao_trade
from rawzone import cli as _cli
from rawzone import rows as _rows

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.errors import MappingError
from ecfusion.lake import RawLake
from ecfusion.standardize.mapping import MAPPINGS_DIR, library_files, own_folder
from ecfusion.warehouse.snapshot import SnapshotStore

# The brand's own web shop, exported by its shop system: field names are the merchant's.
BRANDSHOP = """
platform = "brandshop"
version = "1.0.0"
reference = "the brand's web shop order export"
utc_offset_hours = 8

[maps.order_status]
vocabulary = "order_status"
[maps.order_status.codes]
UNPAID = "created"
PAID = "paid"
SHIPPED = "shipped"
DONE = "completed"
CANCELLED = "cancelled"

[orders.fields]
platform_order_id = { path = "no" }
account_id = { path = "member", null_values = [""] }
status = { path = "state", map = "order_status" }
created_at = { path = "placed_at" }
modified_at = { path = "changed_at" }
pay_amount = { path = "paid_fen", unit = "fen" }

[order_line]
items = "items"
[order_line.fields]
line_id = { path = "line" }
sku_id = { path = "sku" }
title = { path = "name" }
quantity = { path = "qty" }
unit_price = { path = "price_fen", unit = "fen" }
"""


def _order(no: str, state: str, changed: str, paid_fen: int) -> dict[str, object]:
    return {
        "no": no, "member": "M7", "state": state, "placed_at": "2026-11-19 20:00:00",
        "changed_at": changed, "paid_fen": paid_fen,
        "items": [{"line": "1", "sku": "QL-01", "name": "补水精华 30ml", "qty": 2, "price_fen": 9950}],
    }


def test_a_platform_is_added_by_a_mapping_file_in_the_workspace(workspace: Workspace, raw: RawZone) -> None:
    raw.add("brandshop", "orders", [_order("B1001", "PAID", "2026-11-19 20:01:00", 19900)])
    first = warehouse.run(workspace)
    assert first.pending_reasons == {"orders of brandshop": 1}  # kept, not dropped, not guessed

    own_folder(workspace).mkdir()
    (own_folder(workspace) / "brandshop.toml").write_text(BRANDSHOP, encoding="utf-8")
    second = warehouse.run(workspace)

    assert second.pending_reasons == {}
    assert second.balanced
    orders = "SELECT order_key, account_key, status, pay_amount, created_at FROM unified.orders"
    assert _rows(workspace, orders) == [
        ("brandshop:B1001", "brandshop:M7", "paid", Decimal("199.00"), datetime(2026, 11, 19, 12, 0))
    ]
    assert _rows(workspace, "SELECT sku_id, quantity, unit_price FROM unified.order_line") == [
        ("QL-01", 2, Decimal("99.50"))
    ]


def test_a_workspace_file_replaces_the_shipped_mapping_of_its_platform(
    workspace: Workspace, raw: RawZone
) -> None:
    """The fix the quarantine reason points to for a status code the shipped map lacks: a copy of
    the platform's mapping with the code added, in the workspace."""
    order = {
        "tid": 4001, "tid_str": "4001", "status": "TRADE_NEW_STATE", "created": "2026-11-19 10:00:00",
        "modified": "2026-11-19 10:05:00", "payment": "10.00", "total_fee": "10.00",
        "orders": {"order": [{"oid": 40010, "num_iid": 1, "num": 1, "price": "10.00"}]},  # one line
    }
    raw.add("taobao", "orders", [order])
    shipped = warehouse.run(workspace)
    assert shipped.quarantine_by_rule == {"unknown_status": 1}

    text = (MAPPINGS_DIR / "taobao.toml").read_text(encoding="utf-8")
    own_folder(workspace).mkdir()
    (own_folder(workspace) / "taobao.toml").write_text(
        text.replace('version = "1.2.0"', 'version = "1.2.0-ws"').replace(
            'TRADE_FINISHED = "completed"', 'TRADE_FINISHED = "completed"\nTRADE_NEW_STATE = "paid"'
        ),
        encoding="utf-8",
    )
    files = library_files(own_folder(workspace))
    assert files["taobao"][1].parent == own_folder(workspace)
    assert files["jd"][1].parent == MAPPINGS_DIR  # the other platforms stay the shipped ones

    raw.add("taobao", "orders", [{**order, "modified": "2026-11-19 10:06:00"}])
    warehouse.run(workspace)
    statuses = _rows(workspace, "SELECT status, platform_status FROM unified.orders")
    assert statuses == [("paid", "TRADE_NEW_STATE")]


def test_a_broken_workspace_mapping_stops_the_run_before_any_work(workspace: Workspace, raw: RawZone) -> None:
    raw.add("brandshop", "orders", [_order("B1", "PAID", "2026-11-19 20:01:00", 100)])
    own_folder(workspace).mkdir()
    bad = own_folder(workspace) / "brandshop.toml"
    bad.write_text(BRANDSHOP.replace('path = "state"', 'paht = "state"'), encoding="utf-8")
    with pytest.raises(MappingError) as e:
        warehouse.run(workspace)
    assert str(bad) in str(e.value) and "orders.fields.status" in str(e.value)
    assert not list(workspace.warehouse_root.glob("snapshot-*.duckdb"))


def test_model_check_shows_what_a_mapping_fills(tmp_path: Path) -> None:
    good = tmp_path / "brandshop.toml"
    good.write_text(BRANDSHOP, encoding="utf-8")
    out = _cli("model", "check", str(good))
    assert out.returncode == 0, out.stderr
    assert "unified.orders.pay_amount" in out.stdout and "paid_fen (fen)" in out.stdout
    assert "unified.payment.amount" in out.stdout  # derived tables traced too


    broken = tmp_path / "broken.toml"
    broken.write_text(BRANDSHOP.replace('unit = "fen"', 'unit = "cents"'), encoding="utf-8")
    out = _cli("model", "check", str(broken))
    assert out.returncode != 0
    assert "orders.fields.pay_amount.unit" in out.stderr and "Traceback" not in out.stderr


def test_model_mappings_lists_the_files_in_effect(workspace: Workspace) -> None:
    own_folder(workspace).mkdir()
    (own_folder(workspace) / "brandshop.toml").write_text(BRANDSHOP, encoding="utf-8")
    out = _cli("model", "mappings", "-w", str(workspace.root))
    assert out.returncode == 0, out.stderr
    assert "brandshop" in out.stdout and str(own_folder(workspace) / "brandshop.toml") in out.stdout
    assert "shipped" in out.stdout


def test_a_new_platforms_personal_fields_are_declared_in_the_workspace(workspace: Workspace) -> None:
    """A platform of one's own names its receiver as it likes: the workspace's pii_fields.toml
    declares it, and landing encrypts it before it touches disk like any packaged declaration."""
    record = {**_order("B7", "PAID", "2026-11-19 20:01:00", 100), "consignee": "王小明"}

    def land(source: str) -> str:
        lake = RawLake.open(workspace, protect_workers=0)
        with lake, lake.writer(source, "orders", "brandshop") as w:
            w.add(record)
        parts = sorted((workspace.lake_root / "raw" / f"source={source}").rglob("*.parquet"))
        return json.loads(pq.read_table(parts[-1]).column("payload")[0].as_py())["consignee"]

    assert land("before") == "王小明"  # no packaged rule knows this field name
    (workspace.root / "pii_fields.toml").write_text(
        'version = "acme-1"\n[platforms.brandshop.fields]\nconsignee = "name"\n', encoding="utf-8"
    )
    landed = land("after")
    assert landed.startswith("ef1:name:") and "王小明" not in landed


def test_model_try_shows_what_a_mapping_makes_of_sample_records(tmp_path: Path) -> None:
    """The author's loop: a few records through the real landing and run, in a throwaway
    workspace — the rows made, each rejected record's reason, nothing written anywhere."""
    mapping, sample = tmp_path / "brandshop.toml", tmp_path / "sample.jsonl"
    mapping.write_text(BRANDSHOP, encoding="utf-8")
    records = [
        _order("B1001", "PAID", "2026-11-19 20:01:00", 19900),
        _order("B1002", "REFUNDING", "2026-11-19 21:01:00", 100),
        _order("B1003", "PAID", "not a time", 100),
    ]
    sample.write_text(jsonl(records) + "\n{broken\n",
                      encoding="utf-8")
    out = _cli("model", "try", str(mapping), "--sample", str(sample))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "malformed_json 1" in text
    assert "raw in 3 = unified 1 + quarantined 2 + duplicates 0" in text
    assert "unknown_status: orders.status code REFUNDING (path state)" in text
    assert "bad_value: orders.modified_at (path changed_at) = not a time" in text
    assert "brandshop:B1001" in text and "199.00" in text and "补水精华 30ml" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brandshop.toml", "sample.jsonl"]


def test_model_try_names_the_fields_whose_path_no_sample_record_has(tmp_path: Path) -> None:
    """A misspelt path is valid TOML and a valid path: every record reads NULL there, silently,
    unless the trial says which fields no record of the sample has."""
    mapping, sample = tmp_path / "brandshop.toml", tmp_path / "sample.jsonl"
    misspelt = BRANDSHOP.replace('path = "member"', 'path = "membr"').replace('path = "name"', 'path = "nme"')
    mapping.write_text(misspelt, encoding="utf-8")
    records = [
        _order("B1001", "PAID", "2026-11-19 20:01:00", 19900),
        _order("B1002", "PAID", "2026-11-19 20:02:00", 100),
    ]
    records[1]["items"][0]["sku"] = None  # type: ignore[index]  # held by one record: not reported
    sample.write_text(jsonl(records), encoding="utf-8")
    out = _cli("model", "try", str(mapping), "--sample", str(sample))
    assert out.returncode == 0, out.stderr
    said = one_line(out.stdout)
    assert (
        "in none of the 2 records (each reads NULL; check the spelling of a path the records do have): "
        "orders.account_id (path membr); order_line.title (path nme)"
    ) in said
    [absent] = [line for line in out.stdout.splitlines() if line.startswith("in none of")]
    assert "sku_id" not in absent and "orders.pay_amount" not in absent


def test_a_mapping_folder_that_is_a_file_or_a_folder_given_as_a_file_is_named(
    workspace: Workspace, tmp_path: Path
) -> None:
    own_folder(workspace).write_text("not a folder", encoding="utf-8")
    with pytest.raises(MappingError) as e:
        warehouse.run(workspace)
    assert "is a file" in str(e.value) and "[standardize] mappings" in (e.value.hint or "")

    out = _cli("model", "check", str(tmp_path))
    assert out.returncode != 0 and "is a folder, not a mapping file" in out.stderr
    assert "Traceback" not in out.stderr


def test_quarantined_records_are_taken_again_once_the_mapping_is_fixed(
    workspace: Workspace, raw: RawZone
) -> None:
    """Fix the map, retry the rule: the record that waited is unified; the file's other record,
    seen before, is a duplicate — nothing is written twice and the run still balances."""

    def order(tid: int, status: str) -> dict[str, object]:
        return {"tid": tid, "tid_str": str(tid), "status": status, "created": "2026-11-19 10:00:00",
                "modified": "2026-11-19 10:05:00", "payment": "10.00", "total_fee": "10.00",
                "orders": {"order": [{"oid": tid * 10, "num_iid": 1, "num": 1, "price": "10.00"}]}}

    raw.add("taobao", "orders", [order(5001, "WAIT_SELLER_SEND_GOODS"), order(5002, "TRADE_NEW_STATE")])
    assert warehouse.run(workspace).quarantine_by_rule == {"unknown_status": 1}
    shown = _cli("warehouse", "quarantine", "-w", str(workspace.root), "--rule", "unknown_status")
    assert shown.returncode == 0, shown.stderr
    assert "orders.status code TRADE_NEW_STATE (path status) is not in maps.order_status" in shown.stdout
    # a misspelt filter finds nothing, and says what there is (before: "nothing in quarantine that matches")
    misspelt = _cli("warehouse", "quarantine", "-w", str(workspace.root), "--rule", "unknown_stauts")
    assert one_line(misspelt.stdout) == (
        "nothing in quarantine that matches rule 'unknown_stauts'; in quarantine: unknown_status 1 (taobao 1)"
    )
    text = (MAPPINGS_DIR / "taobao.toml").read_text(encoding="utf-8")
    own_folder(workspace).mkdir()
    known = 'TRADE_FINISHED = "completed"'
    fixed = text.replace(known, known + '\nTRADE_NEW_STATE = "paid"')
    (own_folder(workspace) / "taobao.toml").write_text(fixed, encoding="utf-8")
    assert warehouse.run(workspace).files_processed == 0  # a fixed map alone reads nothing again
    # a misspelt rule takes nothing, and the run says what does wait, by rule and platform
    misspelt = warehouse.run(workspace, retry=warehouse.Retry(rule="unknown_stauts"))
    assert (misspelt.retried, misspelt.files_processed) == (0, 0)
    assert misspelt.notes[0] == (
        "--retry-quarantined took nothing: no quarantined record matches rule 'unknown_stauts'; "
        "in quarantine: unknown_status 1 (taobao 1)"
    )

    retried = warehouse.run(workspace, retry=warehouse.Retry(rule="unknown_status"))
    assert (retried.retried, retried.retried_files) == (1, 1)
    counts = [(r.raw_in, r.unified, r.quarantined, r.duplicates) for r in retried.reconciliation]
    assert counts == [(2, 1, 0, 1)]
    assert retried.balanced
    assert _rows(workspace, "SELECT order_key, status FROM unified.orders ORDER BY 1") == [
        ("taobao:5001", "paid"), ("taobao:5002", "paid")
    ]
    assert _rows(workspace, "SELECT count(*) FROM unified.order_version") == [(2,)]
    assert _rows(workspace, "SELECT count(*) FROM unified.quarantine") == [(0,)]

    again = warehouse.run(workspace, retry=warehouse.Retry(rule="unknown_status"))
    assert (again.retried, again.files_processed) == (0, 0)
    assert again.notes[0].endswith("matches rule 'unknown_status'; in quarantine: nothing, it is empty")
    assert _rows(workspace, "SELECT count(*) FROM unified.order_version") == [(2,)]


def test_retry_filters_without_retry_are_refused(workspace: Workspace) -> None:
    out = _cli("run", "-w", str(workspace.root), "--rule", "unknown_status")
    assert out.returncode != 0 and "--retry-quarantined" in out.stderr and "Traceback" not in out.stderr


def test_an_engine_misspelt_is_refused_before_any_work_and_case_does_not_matter(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    refused = _cli("run", "-w", str(workspace.root), "--engine", "dukdb")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "'dukdb' is not an engine: use duckdb or spark" in refused.stderr
    assert SnapshotStore.of(workspace).current() is None  # nothing was run
    taken = _cli("run", "-w", str(workspace.root), "--engine", "DuckDB")
    assert taken.returncode == 0, taken.stderr
    assert "on duckdb: 1 raw files standardized" in taken.stdout
