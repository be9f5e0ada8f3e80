"""The keyed entities and POS sales give identical unified tables on DuckDB and on Spark (principle 1)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from keyed_payloads import land_all
from rawzone import RawZone, taobao_trade
from test_discounts import coupon
from test_product_master import sku
from test_traces import JOURNEY, push

from ecfusion import warehouse
from ecfusion.config import Workspace

TABLES = {
    "listing_feed": "listing_key",
    "listing": "listing_key",
    "category": "category_id",
    "inventory_snapshot": "snapshot_key",
    "behaviour_event": "event_id",
    "ad_touch": "touch_key",
    "service_ticket": "ticket_id",
    "campaign": "campaign_id",
    "coupon": "coupon_id",
    "member_level": "level_code",
    "points_entry": "entry_key",
    "orders": "order_key",
    "order_line": "line_key",
    "member_account": "account_key",
    "member": "member_key",
    "quality_flag": "table_name, row_key, rule",
    "tracking_event": "event_key",
    "discount_allocation": "allocation_key",
    "sku": "sku_code",
    "spu": "spu_id",
}


def _dump(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    con = warehouse.connect(ws)
    try:
        out = {
            t: con.execute(f"SELECT * FROM unified.{t} ORDER BY {k}").fetchall() for t, k in TABLES.items()
        }
        out["quarantine"] = con.execute(
            "SELECT * EXCLUDE (raw_file, run_id) FROM unified.quarantine ORDER BY raw_record_id"
        ).fetchall()
        return out
    finally:
        con.close()


@pytest.mark.spark
@pytest.mark.slow
def test_keyed_entities_identical_on_duckdb_and_spark(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    duck = Workspace.init(tmp_path / "duck")
    raw = RawZone(duck.lake_root)
    raw.add("taobao", "orders", [taobao_trade(1, "TRADE_FINISHED", "2026-11-01 10:05:00", lines=2)])
    land_all(raw)
    # the CRM member whose ledger entry land_all lands: unified.member joins the three
    raw.add(
        "crm",
        "members",
        [{"member_id": "M1", "card_no": "886000000001", "updated_at": "2026-11-01T10:00:00"}],
    )
    # tracking pushes: a repeated history, a carrier the list does not know (flagged), a bad status
    odd = [("2026-11-02 12:00:00", "飞行中", "航空转运", "")]
    pushes = [push(JOURNEY[:2]), push(JOURNEY), push(JOURNEY, nu="X9", com="xinfeng"), push(odd, nu="Z3")]
    raw.add("kuaidi100", "traces", pushes, source="logistics")
    raw.add("marketing", "coupons", [coupon("C9", 6.01)], dt="2026-11-21")  # used on taobao order 1
    raw.add("erp", "product_master", [sku("QL00001", "QL001"), sku("QL00002", "QL001"), sku("Q9", "QL009")])
    spark_ws = Workspace.init(tmp_path / "spark")
    shutil.copytree(duck.lake_root / "raw", spark_ws.lake_root / "raw")
    a = warehouse.run(duck, engine="duckdb")
    b = warehouse.run(spark_ws, engine="spark")
    assert a.reconciliation == b.reconciliation and a.balanced and not a.pending_reasons
    assert a.flagged_by_rule == b.flagged_by_rule
    assert a.flagged_by_rule == {"mixed_timezone": 1, "price_out_of_range": 1, "unknown_carrier": 1,
                                 "bad_ip": 1}
    left, right = _dump(duck), _dump(spark_ws)
    assert all(left[t] for t in TABLES), [t for t in TABLES if not left[t]]
    for t in left:
        assert left[t] == right[t], t
