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


def test_a_listing_without_spec_joins_the_sku_its_price_clearly_points_to() -> None:
    """Pinduoduo titles often carry no spec: 50ml or 100ml is told by price, when price can tell."""
    roots = skus(
        [
            listing("taobao:1:1", "青岚 玻尿酸补水精华液 50ml", "291.00"),
            listing("jd:2:2", "青岚玻尿酸补水精华液 50毫升", "313.00"),
            listing("taobao:1:2", "青岚 玻尿酸补水精华液 100ml", "506.00"),
            listing("jd:2:3", "青岚玻尿酸补水精华液 100毫升", "489.00"),
            listing("pdd:3:3", "【学生党】青岚玻尿酸补水精华液正品", "264.00"),
            listing("pdd:3:4", "【学生党】青岚玻尿酸补水精华液正品", "435.00"),
        ]
    )
    assert roots["pdd:3:3"] == roots["taobao:1:1"] == roots["jd:2:2"]
    assert roots["pdd:3:4"] == roots["taobao:1:2"] == roots["jd:2:3"]
    assert roots["taobao:1:1"] != roots["taobao:1:2"]


def test_a_listing_price_cannot_place_stays_on_its_own() -> None:
    """Shades priced alike: a title without the shade is not guessed into one of them."""
    roots = skus(
        [
            listing("taobao:1:1", "青岚丝绒哑光口红 #01正红", "123.00"),
            listing("jd:2:2", "青岚丝绒哑光口红 #01正红 3g", "125.00"),
            listing("taobao:1:2", "青岚丝绒哑光口红 #04番茄红", "124.00"),
            listing("pdd:3:3", "青岚丝绒哑光口红女热卖正品", "119.00"),
        ]
    )
    assert roots["taobao:1:1"] == roots["jd:2:2"] != roots["taobao:1:2"]
    assert roots["pdd:3:3"] not in {roots["taobao:1:1"], roots["taobao:1:2"]}


def test_words_that_differ_between_code_linked_listings_are_learned_as_decoration() -> None:
    """Listings linked by outer SKU code teach that 热卖提亮肤色 / 持久 are selling words, so another
    product's listings with those words on different platforms still compare as one product."""
    roots = skus(
        [
            listing("jd:1:1", "青岚水光爽肤水女热卖提亮肤色 150ml", "136.00", outer="A1"),
            listing("douyin:2:1", "青岚水光爽肤水女持久 150ml", "119.00", outer="A1"),
            listing("jd:1:2", "青岚清洁泥膜女热卖提亮肤色 100g", "96.00", outer="B1"),
            listing("douyin:2:2", "青岚清洁泥膜女持久 100g", "93.00", outer="B1"),
            listing("jd:3:3", "青岚多肽淡纹眼霜女热卖提亮肤色 20g", "244.00"),
            listing("douyin:4:4", "青岚多肽淡纹眼霜女持久 20g", "226.00"),
        ]
    )
    assert roots["jd:3:3"] == roots["douyin:4:4"]
    assert roots["jd:3:3"] != roots["jd:1:1"]
