"""Table-driven tests of the keyed mappings (products, POS, events, tickets, coupons, …): one row per
source quirk, raw payload → staged value, through the SQL ``sqlgen.keyed_stage_sql`` generates."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from ecfusion.errors import MappingError
from ecfusion.standardize import sqlgen
from ecfusion.standardize.mapping import load_mappings, parse_mapping
from ecfusion.standardize.targets import TARGETS

MAPPINGS = load_mappings()


def _stage(platform: str, target: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE raw AS SELECT 'r1' AS raw_record_id, 'src' AS source, ? AS platform, "
        "'shop' AS shop_id, 'f.parquet' AS raw_file, TIMESTAMPTZ '2026-11-20 00:00:00+00' AS pulled_at, "
        "? AS payload",
        [platform, json.dumps(payload, ensure_ascii=False)],
    )
    sql = sqlgen.keyed_stage_sql(MAPPINGS[platform], TARGETS[target], "raw")
    return con.sql(sql).to_arrow_table().to_pylist()


TAOBAO_ITEM = {
    "num_iid": 723081241505,
    "title": "青岚柔肤水",
    "outer_id": "QL011",
    "modified": "2024-10-03 08:00:00",
    "props_name": "20000:3275069:品牌:青岚;1627207:规格:美妆护肤/化妆水",
    "skus": {
        "sku": [
            {
                "sku_id": 5974746304352,
                "properties_name": "1627207:28341:规格:200ml",
                "outer_id": "QL011-01",
                "price": "100.10",
                "barcode": "",
            }
        ]
    },
}
JD_WARE = {
    "wareId": "744341578604",
    "title": "青岚粉底液",
    "categoryName": "彩妆/底妆",
    "itemNum": "QL025",
    "modified": "2024-10-03 00:00:00",
    "skus": [
        {
            "skuId": "686800",
            "outerId": "QL025-01-01",
            "jdPrice": "205.00",
            "barCode": "6975321000852",
            "saleAttrs": [{"attrName": "规格", "attrValue": "01象牙白"}],
        }
    ],
}
DOUYIN_PRODUCT = {
    "product_id": "3720001046004784331",
    "name": "青岚洁面乳",
    "update_time": "2024-10-03 00:00:00",
    "category_detail": {"first_cname": "美妆护肤", "second_cname": "洁面"},
    "spec_prices": [{"sku_id": "143699", "code": "QL008-01", "price": 6470, "spec_detail_name1": "100g"}],
}
PDD_GOODS = {
    "goods_id": 704902442614,
    "goods_name": "青岚屏障霜",
    "created_at": 1727884800,
    "sku_list": [{"sku_id": 3076221070328, "outer_id": "QL007-01", "spec": "50克", "price": 16120}],
}


@pytest.mark.parametrize(
    ("platform", "payload", "field", "expected"),
    [
        ("taobao", TAOBAO_ITEM, "sku_id", "5974746304352"),  # item path inside skus.sku
        ("taobao", TAOBAO_ITEM, "spec_text", "规格:200ml"),  # property ids stripped by the pattern
        ("taobao", TAOBAO_ITEM, "category", "skincare.toner"),  # 规格 property → unified category
        ("taobao", TAOBAO_ITEM, "barcode", None),  # "" means not set
        ("taobao", TAOBAO_ITEM, "modified_at", datetime(2024, 10, 3, 0, 0)),  # Beijing → UTC
        ("jd", JD_WARE, "spec_text", "规格:01象牙白"),  # saleAttrs as name:value
        ("jd", JD_WARE, "category", "makeup.base"),
        ("jd", JD_WARE, "platform_category", "彩妆/底妆"),  # native text kept beside the unified id
        ("douyin", DOUYIN_PRODUCT, "category", "skincare.cleanser"),  # first/second cname joined
        ("douyin", DOUYIN_PRODUCT, "price", Decimal("64.70")),  # fen → yuan
        ("pdd", PDD_GOODS, "price", Decimal("161.20")),
        ("pdd", PDD_GOODS, "category", None),  # the feed names no category
        ("pdd", PDD_GOODS, "modified_at", datetime(2024, 10, 2, 16, 0)),  # unix seconds
    ],
)
def test_listing_field(platform: str, payload: dict[str, Any], field: str, expected: Any) -> None:
    (row,) = _stage(platform, "listing", payload)
    assert row["_rule"] is None, row["_reason"]
    assert row[field] == expected


def test_one_row_per_sku_and_an_unknown_category_is_quarantined_not_guessed() -> None:
    two = {**JD_WARE, "skus": JD_WARE["skus"] * 2, "categoryName": "彩妆/不存在"}
    rows = _stage("jd", "listing", two)
    assert len(rows) == 2 and {r["_rule"] for r in rows} == {"unknown_status"}
    assert "listing.category code 彩妆/不存在" in rows[0]["_reason"] and "jd.toml" in rows[0]["_reason"]


POS_ROW = {
    "门店编码": "SH002",
    "门店名称": "静安店",
    "小票号": "SH00225012600018",
    "销售时间": "2025-01-26 14:47:37",
    "会员卡号": "886000554330",
    "会员手机": "",
    "商品条码": "6975321000012",
    "商品编码": "QL001-01",
    "商品名称": "精华液 30ml",
    "数量": "1",
    "单价": "199.00",
    "实收金额": "179.10",
}


@pytest.mark.parametrize(
    ("platform", "target", "payload", "checks"),
    [
        (
            "pos",
            "pos_sale",
            POS_ROW,
            {
                "sold_at": datetime(2025, 1, 26, 6, 47, 37),
                "phone_token": None,
                "pay_amount": Decimal("179.10"),
                "_flags": None,
            },
        ),
        (
            "pos",
            "pos_sale",
            {**POS_ROW, "单价": "-199.00", "实收金额": "-179.10"},
            {"_rule": None, "_flags": "price_out_of_range"},
        ),  # kept, flagged
        ("pos", "pos_sale", {**POS_ROW, "商品名称": "测试商品-请勿结算"}, {"_rule": "test_order"}),
        ("pos", "pos_sale", {**POS_ROW, "小票号": ""}, {"_rule": "missing_required"}),
        ("pos", "pos_sale", {**POS_ROW, "数量": "两"}, {"_rule": "bad_value"}),
        (
            "app",
            "behaviour_event",
            {"event_id": "E1", "event_type": "view", "ts": 1736467110776},
            {"event_at": datetime(2025, 1, 9, 23, 58, 30, 776000), "_flags": None},
        ),
        (
            "app",
            "behaviour_event",
            {"event_id": "E1", "event_type": "view", "ts": "2025-01-04T05:18:38Z"},
            {"event_at": datetime(2025, 1, 4, 5, 18, 38), "_flags": "mixed_timezone"},
        ),
        (
            "app",
            "behaviour_event",
            {"event_id": "E1", "event_type": "share", "ts": 1},
            {"_rule": "unknown_status"},
        ),
        (
            "service",
            "service_ticket",
            {"ticket_id": "T1", "type": "售后", "reason": "漏液破损", "created_at": "2025-01-27 02:27:34"},
            {"ticket_type": "after_sales", "reason": "damaged", "platform_reason": "漏液破损"},
        ),
        (
            "marketing",
            "coupon",
            {"coupon_id": "C1", "type": "无门槛券", "status": "used", "amount": 5.0, "threshold": 0.0},
            {"coupon_type": "no_threshold", "face_value": Decimal("5.00")},
        ),
        ("marketing", "coupon", {"coupon_id": "C1", "status": "frozen"}, {"_rule": "unknown_status"}),
        (
            "ads",
            "ad_click",
            {"click_id": "CK1", "ts": 1736150452234, "idfa": "ID-1", "cost_fen": 21},
            {"device_id": "ID-1", "cost": Decimal("0.21")},
        ),
        (
            "erp",
            "inventory",
            {"sku_code": "QL1", "warehouse_code": "WH", "snapshot_date": "2025-01-08", "on_hand": "3397"},
            {"snapshot_at": datetime(2025, 1, 7, 16, 0), "on_hand": 3397},
        ),
        (
            "crm",
            "points_entry",
            {"entry_id": 4, "member_id": "M2", "change_points": -467, "created_at": "2023-11-07T14:30:26"},
            {"change_points": -467},
        ),
    ],
)
def test_keyed_field(platform: str, target: str, payload: dict[str, Any], checks: dict[str, Any]) -> None:
    (row,) = _stage(platform, target, payload)
    assert {k: row[k] for k in checks} == checks, row["_reason"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('platform = "x"\nversion = "1"\n[listing.fields]\nitem_id = { path = "a" }\n', "listing.fields"),
        (
            'platform = "x"\nversion = "1"\n[coupon.fields]\ncoupon_id = { path = "a" }\n'
            'status = { path = "s", map = "nope" }\n',
            "coupon.fields.status",
        ),
        (
            'platform = "x"\nversion = "1"\n[campaign.fields]\ncampaign_id = { path = "a", join = "/" }\n',
            "campaign.fields.campaign_id",
        ),
    ],
)
def test_invalid_keyed_mapping_names_key(text: str, key: str) -> None:
    with pytest.raises(MappingError) as e:
        parse_mapping(text, "x.toml")
    assert f"'{key}'" in str(e.value)
