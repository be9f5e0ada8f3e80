"""Offline stores and the warehouse: POS sales exports (GBK CSV), ERP/WMS inventory snapshots and the
ERP's product master.

Serves issue 2 (Build §3) for 采集层 file sources (T/JNBDA 0003-2025 clause 4.3.4 b):
``pos/sales/pos_YYYYMMDD.csv`` — one row per sale line, GBK, Chinese headers as store systems
export them, member identified by card number or phone or not at all; defects: duplicated rows,
a UTF-8 row inside the GBK file, negative prices, a missing receipt number.
``erp/inventory/snapshot_YYYYMMDD.csv`` — weekly stock per warehouse and standard SKU (UTF-8).
``erp/products/product_master.csv`` — the standard SKUs with their SPU, category, barcode and list
price (UTF-8, clean).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import timedelta

import numpy as np

from ecfusion.simulate.calendar import TimeText, allocate, beijing_seconds, day_weight
from ecfusion.simulate.catalog import BRAND, Product
from ecfusion.simulate.defects import CsvSink, DefectRates, DefectRecord, FileStat
from ecfusion.simulate.world import TaskResult, World

POS_SHARE_OF_ORDERS = 0.12
POS_HEADER = [
    "门店编码",
    "门店名称",
    "小票号",
    "销售时间",
    "会员卡号",
    "会员手机",
    "商品条码",
    "商品编码",
    "商品名称",
    "数量",
    "单价",
    "实收金额",
]
ERP_HEADER = [
    "snapshot_date",
    "warehouse_code",
    "warehouse_name",
    "sku_code",
    "barcode",
    "sku_name",
    "on_hand",
    "reserved",
    "available",
    "in_transit",
    "unit_cost",
]
# The ERP's product master export (商品档案): one row per standard SKU with its SPU's fields.
ERP_PRODUCT_HEADER = [
    "sku_code", "spu_code", "spu_name", "brand", "sku_name", "category", "barcode", "spec", "list_price",
    "updated_at",
]
MASTER_AGE_DAYS = 30  # the master was last edited this long before the simulated period starts

STORES = (
    ("SH001", "青岚上海来福士店"),
    ("SH002", "青岚上海静安嘉里店"),
    ("BJ001", "青岚北京朝阳大悦城店"),
    ("BJ002", "青岚北京西单店"),
    ("GZ001", "青岚广州天河城店"),
    ("SZ001", "青岚深圳万象城店"),
    ("HZ001", "青岚杭州湖滨银泰店"),
    ("CD001", "青岚成都太古里店"),
    ("WH001", "青岚武汉楚河汉街店"),
    ("NJ001", "青岚南京新街口店"),
)
WAREHOUSES = (("WH-JX", "嘉兴中心仓"), ("WH-GZ", "广州华南仓"), ("WH-CD", "成都西南仓"))


def _negative_price(row: list[str], rng: random.Random) -> bool:
    row[10] = "-" + row[10]
    row[11] = "-" + row[11]
    return True


def _no_receipt(row: list[str], rng: random.Random) -> bool:
    row[2] = ""
    return True


def _test_sale(row: list[str], rng: random.Random) -> bool:
    row[8] = "测试商品-请勿结算"
    row[4] = "00000000"
    return True


def run_offline(world: World) -> TaskResult:
    result = TaskResult("offline")
    result.files, result.defects = _pos(world)
    result.files += _erp(world)
    result.files += _product_master(world)
    return result


def _product_master(world: World) -> list[FileStat]:
    """``erp/products/product_master.csv``: the standard SKUs as the merchant's ERP keeps them."""
    sink = CsvSink(
        world.out,
        ERP_PRODUCT_HEADER,
        encoding="utf-8",
        source="erp",
        platform="erp",
        entity="product_master",
        rng=random.Random(0),  # clean: no defects are drawn
        rates=DefectRates.none(),
    )
    sink.open("erp/products/product_master.csv")
    edited = TimeText()(beijing_seconds(world.start) - MASTER_AGE_DAYS * 86400)
    for p in world.catalog.products:
        row = [p.std_sku_code, p.spu_code, p.spu_name, BRAND, p.name(), p.category, p.barcode, p.spec,
               f"{p.price_fen / 100:.2f}", edited]
        sink.write(row, p.std_sku_code)
    sink.close()
    return sink.files


def _pos(world: World) -> tuple[list[FileStat], list[DefectRecord]]:
    r, _ = world.rngs("pos")
    tt = TimeText()
    sink = CsvSink(
        world.out,
        POS_HEADER,
        encoding="gbk",
        source="pos",
        platform="pos",
        entity="sales",
        rng=random.Random(f"ecfusion-{world.seed}-defects-pos"),
        rates=world.rates,
        mutators={
            "price_out_of_range": _negative_price,
            "missing_required": _no_receipt,
            "test_order": _test_sale,
        },
        byte_kinds=("exact_duplicate", "wrong_encoding"),
    )
    members = world.population.accounts["crm"]
    weights = np.array([m.activity for m in members] or [1.0])
    member_cum = np.cumsum(weights / weights.sum()).tolist()
    products = world.catalog.products
    receipts_total = max(1, round(world.total_orders * POS_SHARE_OF_ORDERS))
    per_day = allocate(
        receipts_total, np.array([day_weight(world.start + timedelta(d)) for d in range(world.days)])
    )
    receipt_no = 0
    for offset, count in enumerate(per_day):
        day = world.start + timedelta(days=offset)
        sink.open(f"pos/sales/pos_{day:%Y%m%d}.csv")
        base = beijing_seconds(day)
        # stores open 10:00-22:00
        times = sorted(base + 10 * 3600 + int(r.random() * 12 * 3600) for _ in range(int(count)))
        for ts in times:
            receipt_no += 1
            store_code, store_name = STORES[int(r.random() * len(STORES))]
            card, phone = "", ""
            u = r.random()
            if members and u < 0.6:
                m = members[min(bisect_right(member_cum, r.random()), len(members) - 1)]
                if u < 0.45:
                    card = m.extra
                else:
                    phone = m.phone
            receipt = f"{store_code}{day:%y%m%d}{receipt_no % 100000:05d}"
            for _ in range(1 if r.random() < 0.6 else 2 + int(r.random() * 2)):
                p = products[int(r.random() ** 1.6 * len(products))]
                sink.write(_pos_row(store_code, store_name, receipt, tt(ts), card, phone, p, r), receipt)
    sink.close()
    return sink.files, sink.defects


def _pos_row(
    store: str, store_name: str, receipt: str, when: str, card: str, phone: str, p: Product, r: random.Random
) -> list[str]:
    qty = 1 if r.random() < 0.85 else 2
    price = p.price_fen
    paid = price * qty * (100 - (0 if r.random() < 0.7 else 10)) // 100
    return [
        store,
        store_name,
        receipt,
        when,
        card,
        phone,
        p.barcode,
        p.outer_code or p.std_sku_code,
        p.name(),
        str(qty),
        f"{price / 100:.2f}",
        f"{paid / 100:.2f}",
    ]


def _erp(world: World) -> list[FileStat]:
    r, _ = world.rngs("erp")
    sink = CsvSink(
        world.out,
        ERP_HEADER,
        encoding="utf-8",
        source="erp",
        platform="erp",
        entity="inventory",
        rng=r,
        rates=DefectRates.none(),
    )
    stock = {
        (w, p.std_sku_code): 200 + int(r.random() * 3000)
        for w, _ in WAREHOUSES
        for p in world.catalog.products
    }
    snapshot_days = list(range(0, world.days, 7))
    if world.days - 1 not in snapshot_days:
        snapshot_days.append(world.days - 1)
    for offset in snapshot_days:
        day = world.start + timedelta(days=offset)
        sink.open(f"erp/inventory/snapshot_{day:%Y%m%d}.csv")
        for code, name in WAREHOUSES:
            for p in world.catalog.products:
                key = (code, p.std_sku_code)
                on_hand = max(0, stock[key] - int(r.random() * 400) + (1500 if r.random() < 0.15 else 0))
                stock[key] = on_hand
                reserved = int(on_hand * r.random() * 0.1)
                sink.write(
                    [
                        f"{day:%Y-%m-%d}",
                        code,
                        name,
                        p.std_sku_code,
                        p.barcode,
                        p.name(),
                        str(on_hand),
                        str(reserved),
                        str(on_hand - reserved),
                        str(int(r.random() * 500)),
                        f"{p.price_fen * 0.28 / 100:.2f}",
                    ],
                    p.std_sku_code,
                )
    sink.close()
    return sink.files
