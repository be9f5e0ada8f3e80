"""The same standardization on DuckDB and on Spark gives identical unified tables (principle 1)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "warehouse"))
from rawzone import RawZone, damage_payload_page, taobao_trade  # noqa: E402
from tests_payloads import DOUYIN, JD, PDD  # noqa: E402

from ecfusion import warehouse  # noqa: E402
from ecfusion.config import Workspace  # noqa: E402

TABLES = {
    "orders": "order_key",
    "order_line": "line_key",
    "order_status_history": "order_key, seq",
    "member_account": "account_key",
    "listing": "listing_key",
    "quarantine": "raw_record_id",
    "payment": "payment_key",
    "shipment": "shipment_key",
    "carrier": "carrier_code",
    "quality_flag": "table_name, row_key, rule",
}


def _dump(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    con = warehouse.connect(ws)
    try:
        return {
            t: con.execute(f"SELECT * EXCLUDE (raw_file, run_id) FROM unified.{t} ORDER BY {k}").fetchall()
            if t == "quarantine"
            else con.execute(f"SELECT * FROM unified.{t} ORDER BY {k}").fetchall()
            for t, k in TABLES.items()
        }
    finally:
        con.close()


@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_and_spark_give_identical_unified_tables(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    duck = Workspace.init(tmp_path / "duck")
    raw = RawZone(duck.lake_root)
    raw.add(
        "taobao",
        "orders",
        [taobao_trade(i, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00", lines=2) for i in range(1, 6)]
        + [
            taobao_trade(
                1, "TRADE_FINISHED", "2026-11-03 10:05:00", lines=2, refund="SUCCESS", waybills=["Z1", "Z2"]
            ),
            taobao_trade(9, "NOPE", "2026-11-01 10:05:00"),
            '{"tid": 10, "status": ',  # not JSON: NULL on both engines, then malformed_payload
            "null",  # JSON, but no record: the same on both
            '[{"tid": 11}]',  # JSON, not an object: not a struct of NULLs missing its fields
            # a line item with no id to tell it apart: its order fails missing_required on both
            {**taobao_trade(12, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00"),
             "orders": {"order": [{"title": "衬衫", "num": 1}]}},
            # a line list that is not a list: bad_value on both, never an order without its lines
            {**taobao_trade(13, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00"), "orders": {"order": "x"}},
        ],
    )
    # parcels: in the order's own fields (JD, Pinduoduo: one with a carrier id no list knows) or in a list
    shipped_jd = JD | {"modified": "2026-11-02 10:00:00", "waybill": "J1", "logisticsId": "467"}
    # TRADE_CANCELED: refunded once paid, cancelled before (maps.order_status.when_paid)
    cancelled = {"orderState": "TRADE_CANCELED", "modified": "2026-11-02 11:00:00"}
    unpaid = {"orderId": "300100201", "paymentConfirmTime": "0001-01-01 00:00:00"}
    paid = {"orderId": "300100202"}
    raw.add("jd", "orders", [JD, shipped_jd, JD | cancelled | paid, JD | cancelled | unpaid])
    raw.add("pdd", "orders", [PDD | {"order_status": 2, "tracking_number": "P1", "logistics_id": 7}])
    parcels = [
        {"tracking_no": "D1", "company": "yunda", "ship_time": 1761958000},
        {"tracking_no": "D2", "company": "ems"},
    ]
    raw.add("douyin", "orders", [DOUYIN | {"logistics_info": parcels}])
    spark_ws = Workspace.init(tmp_path / "spark")
    shutil.copytree(duck.lake_root / "raw", spark_ws.lake_root / "raw")
    a = warehouse.run(duck, engine="duckdb")
    b = warehouse.run(spark_ws, engine="spark")
    assert a.reconciliation == b.reconciliation and a.balanced
    assert a.quarantine_by_rule == b.quarantine_by_rule and a.quarantine_by_rule["malformed_payload"] == 3
    tables = _dump(duck)
    assert len(tables["shipment"]) == 6 and len(tables["carrier"]) > 10
    jd = {r[0]: r[7] for r in tables["orders"] if r[0] in ("jd:300100201", "jd:300100202")}
    assert jd == {"jd:300100201": "cancelled", "jd:300100202": "refunded"}
    assert [r for r in tables["quality_flag"] if r[0] == "shipment"]  # the unknown Pinduoduo carrier
    assert _dump(spark_ws) == tables


@pytest.mark.spark
@pytest.mark.slow
def test_on_spark_a_damaged_raw_file_is_named_and_the_rest_taken(tmp_path: Path) -> None:
    """Spark fails on the damaged page only when it computes a stage, from the JVM; the run still
    names the file in one line and publishes the rest, as on DuckDB (warehouse/test_run.py)."""
    pytest.importorskip("pyspark")
    ws = Workspace.init(tmp_path / "spark")
    raw = RawZone(ws.lake_root)
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    damaged = raw.add("taobao", "orders", [taobao_trade(2, "WAIT_SELLER_SEND_GOODS", "2026-11-01 11:05:00")])
    damage_payload_page(damaged)
    s = warehouse.run(ws, engine="spark")
    why = "Invalid Input Error: Failed to read file: Snappy decompression failure"  # DuckDB's probe
    assert s.unreadable_files == {str(damaged.relative_to(ws.lake_root)): why}
    assert s.balanced and [(r.raw_in, r.unified) for r in s.reconciliation] == [(1, 1)]


@pytest.mark.spark
@pytest.mark.slow
def test_a_stage_spark_cannot_compute_is_one_line_not_a_java_stack(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    from ecfusion.engine.spark import SparkEngine
    from ecfusion.errors import EngineError

    raw = RawZone(tmp_path / "lake")
    damaged = raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    damage_payload_page(damaged)
    engine = SparkEngine.local()
    engine.register_parquet("raw", [str(damaged)])
    with pytest.raises(EngineError) as e:
        engine.materialize("lengths", "SELECT sum(length(payload)) AS n FROM raw")
    assert e.value.message.startswith("Spark failed computing lengths: [FAILED_READ_FILE")
    assert str(damaged) in e.value.message and "\n" not in e.value.message
