"""POS sales delivered again: a re-delivered sale row counts once, a corrected row replaces its line
(standard 5.3.1.2; ARCHITECTURE principle 2: nothing lost, nothing doubled, under re-runs).

A store's daily export (GBK CSV, one row per sale line, no line number) is landed with
``ingest_files`` as ``ecfusion ingest files pos … --entity sales`` lands it, then the warehouse runs.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from keyed_payloads import pos_row
from rawzone import RawZone, rows

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.lake import RawLake
from ecfusion.lake.files import ingest_files
from ecfusion.warehouse.summary import RunSummary

HEADER = "门店编码,门店名称,小票号,销售时间,会员卡号,会员手机,商品条码,商品编码,商品名称,数量,单价,实收金额"
NJ = "NJ001,青岚南京新街口店,NJ00125010100001,2025-01-01 12:57:41,886001670909,"
HZ = "HZ001,青岚杭州湖滨银泰店,HZ00125010100002,2025-01-01 14:58:21,,"
WH = "WH001,青岚武汉楚河汉街店,WH00125010100003,2025-01-01 15:40:40,886004521749,"
SZ = "SZ001,青岚深圳万象城店,SZ00125010100004,2025-01-01 17:59:14,886007253804,"
# a demo merchant's export of 2025-01-01: 4 receipts, 7 sale rows, GMV 2,658.40
DAY1 = [
    NJ + ",6975321000562,QL021-01,青岚卸妆水 400ml,1,89.00,80.10",
    NJ + ",,QL00175,青岚香水 100ml 栀子,2,699.00,1398.00",
    HZ + ",6975321001569,QL053-01-02,青岚腮红 5g 玫瑰,1,89.00,80.10",
    HZ + ",6975321000937,QL026-01-03-X2,青岚气垫BB霜 15g 02自然色*2,1,304.20,304.20",
    WH + ",6975321000128,QL005-01,青岚胶原蛋白紧致面霜 50g,1,269.00,269.00",
    SZ + ",6975321000111,QL004-02,青岚寡肽修护安瓶 28支,1,289.00,289.00",
    SZ + ",,QL00074,青岚水润唇釉 4g #104复古红,2,119.00,238.00",
]
# the same export again, row 1's 实收金额 corrected 80.10 → 80.00
CORRECTED = [DAY1[0].replace(",80.10", ",80.00"), *DAY1[1:]]
RECEIPT = "pos:NJ00125010100001"


def _csv(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_bytes(("\r\n".join([HEADER, *lines]) + "\r\n").encode("gbk"))
    return path


def _land(ws: Workspace, path: Path, shop: str | None = None) -> None:
    with RawLake.open(ws) as lake:
        ingest_files(lake, "pos", [path], entity="sales", shop_id=shop)


def _sales(s: RunSummary) -> tuple[int, int, int, int]:
    """The run's reconciliation row of POS sales: raw in, unified, quarantined, duplicates."""
    (r,) = [r for r in s.reconciliation if (r.source, r.entity) == ("pos", "sales")]
    assert r.balanced
    return r.raw_in, r.unified, r.quarantined, r.duplicates


def _gmv(ws: Workspace) -> tuple[Any, ...]:
    """GMV, receipts and order lines of the store sales, as a report over the warehouse shows them."""
    return rows(
        ws,
        "SELECT sum(pay_amount), count(*), (SELECT count(*) FROM unified.order_line WHERE platform = 'pos'),"
        " (SELECT sum(pay_amount) FROM unified.order_line WHERE platform = 'pos')"
        " FROM unified.orders WHERE platform = 'pos'",
    )[0]


def _receipt(ws: Workspace, key: str = RECEIPT) -> list[tuple[Any, ...]]:
    return rows(
        ws,
        "SELECT o.pay_amount, o.goods_amount, l.sku_id, l.quantity, l.pay_amount FROM unified.orders o "
        f"JOIN unified.order_line l USING (order_key) WHERE o.order_key = '{key}' "
        "ORDER BY l.sku_id, l.pay_amount",
    )


def _state(ws: Workspace) -> list[tuple[Any, ...]]:
    """Everything a user reads of the store sales (ids aside)."""
    return rows(
        ws,
        "SELECT o.order_key, o.account_key, o.created_at, o.goods_amount, o.discount_amount, o.pay_amount,"
        " l.line_key, l.quantity, l.unit_price, l.pay_amount, len(l.raw_record_ids)"
        " FROM unified.orders o JOIN unified.order_line l USING (order_key) ORDER BY ALL",
    )


def test_a_file_landed_again_under_a_shop_is_counted_once(workspace: Workspace, tmp_path: Path) -> None:
    _land(workspace, _csv(tmp_path, "pos_day1.csv", DAY1))
    first = warehouse.run(workspace)
    assert _sales(first) == (7, 7, 0, 0)
    assert _gmv(workspace) == (Decimal("2658.40"), 4, 7, Decimal("2658.40"))
    before = _state(workspace)

    # the same rows under --shop NJ001: new raw records (the shop is part of the content hash)
    _land(workspace, _csv(tmp_path, "pos_day1_again.csv", DAY1), shop="NJ001")
    again = warehouse.run(workspace)
    assert _sales(again) == (7, 0, 0, 7)  # every row a duplicate of the sale already counted
    assert _gmv(workspace) == (Decimal("2658.40"), 4, 7, Decimal("2658.40"))
    assert _state(workspace) == before


def test_a_corrected_row_replaces_its_line(workspace: Workspace, tmp_path: Path) -> None:
    _land(workspace, _csv(tmp_path, "pos_day1.csv", DAY1))
    warehouse.run(workspace)
    assert _receipt(workspace) == [
        (Decimal("1478.10"), Decimal("1487.00"), "QL00175", 2, Decimal("1398.00")),
        (Decimal("1478.10"), Decimal("1487.00"), "QL021-01", 1, Decimal("80.10")),
    ]

    # the re-export lands only the changed row (the others are the lake's duplicates)
    _land(workspace, _csv(tmp_path, "pos_day1_corrected.csv", CORRECTED))
    s = warehouse.run(workspace)
    assert _sales(s) == (1, 1, 0, 0)
    assert _receipt(workspace) == [
        (Decimal("1478.00"), Decimal("1487.00"), "QL00175", 2, Decimal("1398.00")),
        (Decimal("1478.00"), Decimal("1487.00"), "QL021-01", 1, Decimal("80.00")),
    ]
    assert _gmv(workspace) == (Decimal("2658.30"), 4, 7, Decimal("2658.30"))
    # the line keeps the raw records of both its versions (lineage)
    assert rows(
        workspace, "SELECT len(raw_record_ids) FROM unified.order_line WHERE line_key LIKE '%QL021-01%'"
    ) == [(2,)]


def test_one_run_over_every_delivery_equals_running_after_each(tmp_path: Path) -> None:
    day1 = _csv(tmp_path, "pos_day1.csv", DAY1)
    again = _csv(tmp_path, "pos_day1_again.csv", DAY1)
    corrected = _csv(tmp_path, "pos_day1_corrected.csv", CORRECTED)
    deliveries: list[tuple[Path, str | None]] = [(day1, None), (again, "NJ001"), (corrected, None)]

    stepwise = Workspace.init(tmp_path / "stepwise")
    runs = []
    for path, shop in deliveries:
        _land(stepwise, path, shop)
        runs.append(_sales(warehouse.run(stepwise)))
    assert runs == [(7, 7, 0, 0), (7, 0, 0, 7), (1, 1, 0, 0)]

    at_once = Workspace.init(tmp_path / "at_once")
    for path, shop in deliveries:
        _land(at_once, path, shop)
    assert _sales(warehouse.run(at_once)) == (15, 8, 0, 7)

    assert _state(at_once) == _state(stepwise)
    assert _gmv(at_once) == (Decimal("2658.30"), 4, 7, Decimal("2658.30"))


# a receipt with two rows of one SKU (the export has no line number: values tell them apart)
TWICE = [
    NJ + ",6975321000562,QL021-01,青岚卸妆水 400ml,1,89.00,80.10",
    NJ + ",6975321000562,QL021-01,青岚卸妆水 400ml,1,89.00,89.00",
    NJ + ",,QL00175,青岚香水 100ml 栀子,2,699.00,1398.00",
]


@pytest.mark.parametrize("changed", ["88.00", "70.00"])
def test_two_rows_of_one_sku_stay_two_lines_through_redelivery_and_correction(
    workspace: Workspace, tmp_path: Path, changed: str
) -> None:
    _land(workspace, _csv(tmp_path, "twice.csv", TWICE))
    assert _sales(warehouse.run(workspace)) == (3, 3, 0, 0)
    assert _gmv(workspace) == (Decimal("1567.10"), 1, 3, Decimal("1567.10"))

    _land(workspace, _csv(tmp_path, "twice_again.csv", TWICE), shop="NJ001")
    assert _sales(warehouse.run(workspace)) == (3, 0, 0, 3)
    assert _gmv(workspace) == (Decimal("1567.10"), 1, 3, Decimal("1567.10"))

    # the whole export again (another shop code, so every row lands), the second row corrected
    fixed = [TWICE[0], TWICE[1].replace(",89.00,89.00", f",89.00,{changed}"), TWICE[2]]
    _land(workspace, _csv(tmp_path, "twice_fixed.csv", fixed), shop="NJ001-POS2")
    warehouse.run(workspace)
    total = Decimal("80.10") + Decimal(changed) + Decimal("1398.00")
    assert _gmv(workspace) == (total, 1, 3, total)
    assert sorted(p for *_, p in _receipt(workspace)) == sorted(
        [Decimal("80.10"), Decimal(changed), Decimal("1398.00")]
    )


def test_a_raw_record_read_from_two_files_is_one_sale(workspace: Workspace) -> None:
    """Guard: the same raw record in two raw files (one record id) is the later copy's duplicate,
    never a repeat of itself that would drop both copies."""
    sale = [
        pos_row("SH0021", "QL001-01"),
        pos_row("SH0021", "QL002-01", qty="2", price="50.00", paid="100.00"),
    ]
    raw = RawZone(workspace.lake_root)
    raw.add("pos", "sales", list(sale))
    raw.add("pos", "sales", list(sale))
    assert _sales(warehouse.run(workspace)) == (4, 2, 0, 2)
    assert _gmv(workspace) == (Decimal("279.10"), 1, 2, Decimal("279.10"))


@pytest.mark.spark
@pytest.mark.slow
def test_redelivery_and_correction_identical_on_duckdb_and_spark(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    duck = Workspace.init(tmp_path / "duck")
    _land(duck, _csv(tmp_path, "twice.csv", TWICE + DAY1[2:]))
    _land(duck, _csv(tmp_path, "again.csv", TWICE + DAY1[2:]), shop="NJ001")
    fixed = [
        TWICE[0],
        TWICE[1].replace(",89.00,89.00", ",89.00,70.00"),
        TWICE[2],
        DAY1[2].replace("80.10", "80.00"),
    ]
    _land(duck, _csv(tmp_path, "fixed.csv", fixed), shop="NJ001-POS2")
    spark_ws = Workspace.init(tmp_path / "spark")
    shutil.copytree(duck.lake_root / "raw", spark_ws.lake_root / "raw")
    a = warehouse.run(duck, engine="duckdb")
    b = warehouse.run(spark_ws, engine="spark")
    assert a.reconciliation == b.reconciliation
    # 8 rows, the same 8 again (duplicates), then 4 rows: the two QL021-01 rows renumber by value
    # (70.00 first), so both are new versions; QL00175 repeats; HZ's QL053-01-02 is corrected
    assert _sales(a) == (20, 11, 0, 9)
    assert _state(duck) == _state(spark_ws)
    paid = ("80.10", "70.00", "1398.00", "80.00", "304.20", "269.00", "289.00", "238.00")
    total = sum(Decimal(p) for p in paid)
    assert _gmv(duck) == _gmv(spark_ws) == (total, 4, 8, total)
