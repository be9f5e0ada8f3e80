"""Listings → standard SKU: strong keys first, then title/spec similarity with bundle and unit rules."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from ecfusion.resolve.graph import Constraints, cluster
from ecfusion.resolve.products import MATCH_SCORE, listing_pairs
from ecfusion.resolve.sample import LISTING_SCHEMA


def listing(
    key: str,
    title: str,
    price: str,
    *,
    barcode: str | None = None,
    outer: str | None = None,
    category: str = "美妆护肤>面部护理>精华",
) -> dict:
    platform, item, sku = key.split(":")
    return {
        "listing_key": key,
        "platform": platform,
        "shop_id": "s",
        "item_id": item,
        "sku_id": sku,
        "outer_sku_code": outer,
        "barcode": barcode,
        "title": title,
        "spec_text": None,
        "price": Decimal(price),
        "category_path": category,
        "raw_record_ids": [],
    }


def skus(rows: list[dict]) -> dict[str, str]:
    pairs, cannot, _ = listing_pairs(pa.Table.from_pylist(rows, schema=LISTING_SCHEMA))
    c = Constraints()
    for a, b in cannot:
        c.forbid(a, b)
    edges = [
        (p.left, p.right, p.method, p.score) for p in pairs if p.method == "rule" or p.score >= MATCH_SCORE
    ]
    roots, _ = cluster([r["listing_key"] for r in rows], edges, c)
    return roots


def test_same_product_in_different_units_and_words_is_one_sku() -> None:
    roots = skus(
        [
            listing("taobao:1:1", "【官方旗舰店】自然堂 雪域精粹补水精华液 500ml 包邮", "199.00"),
            listing("jd:2:2", "自然堂 雪域精粹 补水精华液 0.5L", "205.00"),
            listing("pdd:3:3", "自然堂雪域精粹补水精华液500毫升 正品", "189.00"),
        ]
    )
    assert len(set(roots.values())) == 1


def test_a_three_pack_is_a_bundle_not_the_single_item() -> None:
    roots = skus(
        [
            listing("taobao:1:1", "韩束 红石榴面霜 50ml", "99.00"),
            listing("jd:2:2", "韩束 红石榴面霜 50ml 3支装", "279.00"),
            listing("pdd:3:3", "韩束 红石榴面霜 50ml 三支装", "269.00"),
        ]
    )
    assert roots["taobao:1:1"] != roots["jd:2:2"]
    assert roots["jd:2:2"] == roots["pdd:3:3"]


def test_different_capacity_is_a_different_sku() -> None:
    roots = skus(
        [
            listing("taobao:1:1", "珀莱雅 水光爽肤水 100ml", "99.00"),
            listing("jd:2:2", "珀莱雅 水光爽肤水 200ml", "159.00"),
        ]
    )
    assert roots["taobao:1:1"] != roots["jd:2:2"]


def test_barcode_links_across_different_titles_and_different_barcodes_keep_apart() -> None:
    roots = skus(
        [
            listing("taobao:1:1", "丸美 眼霜 30ml", "300.00", barcode="6901234567890"),
            listing("douyin:2:2", "【直播专享】丸美弹力蛋白眼精华 紧致", "280.00", barcode="6901234567890"),
            listing("jd:3:3", "丸美 眼霜 30ml", "300.00", barcode="6909999999999"),
        ]
    )
    assert roots["taobao:1:1"] == roots["douyin:2:2"]
    assert roots["jd:3:3"] != roots["taobao:1:1"]


def test_model_codes_and_price_keep_lookalikes_apart() -> None:
    roots = skus(
        [
            listing("taobao:1:1", "欧莱雅 A12 精华液 30ml", "199.00"),
            listing("jd:2:2", "欧莱雅 B30 精华液 30ml", "199.00"),
            listing("pdd:3:3", "欧莱雅 A12 精华液 30ml", "19.90"),
        ]
    )
    assert len(set(roots.values())) == 3
