"""Table-driven mapping tests: one row per platform quirk (payload → unified value)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.kuaishou_mapping import HEAD, ORDER_KEYS

from ecfusion.errors import MappingError
from ecfusion.standardize import sqlgen
from ecfusion.standardize.mapping import (
    MAPPINGS_DIR,
    load_mapping,
    load_mappings,
    parse_mapping,
)

MAPPINGS = load_mappings()


_CACHE: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}


def _stage(platform: str, payload: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    key = platform + json.dumps(payload, sort_keys=True)
    if key not in _CACHE:
        _CACHE[key] = _run_stage(platform, payload)
    return _CACHE[key]


def _run_stage(platform: str, payload: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    m = MAPPINGS[platform]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE raw AS SELECT 'r1' AS raw_record_id, 'src' AS source, ? AS platform, "
        "'shop' AS shop_id, 'f.parquet' AS raw_file, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS pulled_at, "
        "? AS payload",
        [platform, json.dumps(payload)],
    )
    con.execute(f"CREATE TABLE hdr AS {sqlgen.orders_header_sql(m, 'raw')}")
    con.execute(f"CREATE VIEW lraw AS {sqlgen.lines_sql(m, 'hdr')}")
    head = con.sql(sqlgen.orders_stage_sql("hdr")).to_arrow_table().to_pylist()[0]
    lines = con.sql(sqlgen.lines_stage_sql("lraw", m)).to_arrow_table().to_pylist()
    return head, lines


TAOBAO = {
    "tid": 4012345678901,
    "tid_str": "4012345678901",
    "status": "WAIT_SELLER_SEND_GOODS",
    "created": "2026-11-01 00:30:00",
    "modified": "2026-11-01 08:00:00",
    "payment": "200.07",
    "total_fee": "210.07",
    "pay_time": "",
    "buyer_open_uid": "AAHx",
    "orders": {
        "order": [
            {
                "oid": 1,
                "num_iid": 5,
                "sku_id": "7",
                "num": 2,
                "price": "50.00",
                "total_fee": "100.00",
                "refund_status": "SUCCESS",
            }
        ]
    },
}
JD = {
    "orderId": "300100200",
    "orderState": "WAIT_SELLER_STOCK_OUT",
    "orderStartTime": "2026-11-01 10:00:00",
    "paymentConfirmTime": "0001-01-01 00:00:00",
    "modified": "2026-11-01 10:00:00",
    "orderPayment": "99.90",
    "orderTotalPrice": "109.90",
    "pin": "jd_buyer",
    "consigneeInfo": {
        "province": "北京",
        "city": "北京市",
        "county": "朝阳区",
        "mobile": "ef1:phone:s:BIDX1:c",
    },
    "itemInfoList": [
        {"skuId": "1001", "wareId": "2001", "skuName": "T恤", "jdPrice": "54.95", "itemTotal": "2"}
    ],
}
PDD = {
    "order_sn": "261101-123",
    "order_status": 1,
    "refund_status": 1,
    "created_time": "2026-11-01 12:00:00",
    "updated_at": "2026-11-01 12:00:00",
    "pay_amount": 19.9,
    "goods_amount": 29.9,
    "receiver_phone": "ef1:phone:subj:PHONEBIDX:ct",
    "item_list": [
        {"goods_id": 88, "sku_id": 99, "goods_count": 1, "goods_price": 29.9, "goods_name": "袜子"}
    ],
}
DOUYIN = {
    "order_id": 6920000000000000123,
    "order_status": 3,
    "main_status": 3,
    "create_time": 1761955200,
    "update_time": 1761958800,
    "pay_time": 0,
    "order_amount": 12345,
    "pay_amount": 12000,
    "post_amount": 0,
    "doudian_open_id": "dy1",
    "sku_order_list": [
        {
            "sku_order_id": 6920000000000000124,
            "product_id": 3,
            "sku_id": 4,
            "item_num": 3,
            "origin_amount": 12345,
            "pay_amount": 12000,
            "code": "6901234567892",
            "spec": [{"name": "颜色", "value": "黑"}, {"name": "尺码", "value": "L"}],
            "after_sale_info": {"refund_status": 0},
        }
    ],
}

HEADER_CASES = [
    # (platform, payload patch, field, expected)  — one row per quirk
    ("taobao", {}, "platform_order_id", "4012345678901"),
    ("taobao", {}, "status", "paid"),
    ("taobao", {}, "pay_amount", Decimal("200.07")),  # yuan text
    ("taobao", {}, "created_at", datetime(2026, 10, 31, 16, 30)),  # Beijing text → UTC
    ("taobao", {}, "business_date", datetime(2026, 11, 1).date()),  # date in Asia/Shanghai
    ("taobao", {}, "paid_at", None),  # "" means not set
    ("taobao", {"status": "TRADE_CLOSED"}, "status", "refunded"),
    ("taobao", {"status": "TRADE_CLOSED_BY_TAOBAO"}, "status", "cancelled"),
    ("taobao", {"status": "SELLER_CONSIGNED_PART"}, "status", "partially_shipped"),
    ("taobao", {}, "account_key", "taobao:AAHx"),
    ("jd", {}, "paid_at", None),  # 0001-01-01 = null
    ("jd", {}, "pay_amount", Decimal("99.90")),
    ("jd", {}, "status", "paid"),
    ("jd", {"orderState": "FINISHED_L"}, "status", "completed"),
    ("jd", {"orderState": "LOCKED"}, "status", "on_hold"),
    ("jd", {"orderState": "TRADE_CANCELED"}, "status", "cancelled"),  # closed before payment
    # closed after payment: its payment went back (maps.order_status.when_paid)
    ("jd", {"orderState": "TRADE_CANCELED", "paymentConfirmTime": "2026-11-01 10:05:00"}, "status",
     "refunded"),
    # the parent of a split order: its parts are orders of their own and carry its payment
    ("jd", {"orderState": "PARENT_TRADE_CANCELED", "paymentConfirmTime": "2026-11-01 10:05:00"}, "status",
     "split"),
    ("jd", {}, "receiver_phone_bidx", "BIDX1"),
    ("jd", {}, "receiver_district", "朝阳区"),
    ("pdd", {}, "pay_amount", Decimal("19.90")),  # yuan JSON number
    ("pdd", {}, "status", "paid"),
    ("pdd", {"refund_status": 4}, "status", "refunded"),  # refund overrides
    ("pdd", {"refund_status": 2, "order_status": 2}, "status", "refunding"),
    ("pdd", {}, "account_key", "pdd:phone-PHONEBIDX"),  # no buyer id: phone bidx
    ("douyin", {}, "platform_order_id", "6920000000000000123"),  # > 2^53, exact
    ("douyin", {}, "pay_amount", Decimal("120.00")),  # fen → yuan
    ("douyin", {}, "goods_amount", Decimal("123.45")),
    # order_amount is after the promotions and with postage: goods are before either
    ("douyin", {"promotion_amount": 500, "post_amount": 600}, "goods_amount", Decimal("122.45")),
    ("douyin", {"promotion_amount": 500}, "discount_amount", Decimal("5.00")),
    ("douyin", {}, "discount_amount", Decimal("0.00")),
    ("douyin", {}, "created_at", datetime(2025, 11, 1, 0, 0)),  # unix seconds
    ("douyin", {}, "paid_at", None),  # 0 = not paid
    ("douyin", {}, "status", "shipped"),
    ("douyin", {"main_status": 22}, "status", "refunded"),  # main_status refines
    ("douyin", {"order_status": 105, "main_status": 105}, "status", "paid"),
    # mixed_timezone: a time that names its own zone is converted by it, and the order is flagged
    ("taobao", {"created": "2026-11-01T00:30:00+08:00"}, "created_at", datetime(2026, 10, 31, 16, 30)),
    ("taobao", {"created": "2026-10-31T16:30:00Z"}, "created_at", datetime(2026, 10, 31, 16, 30)),
    ("taobao", {"created": "2026-10-31T16:30:00Z"}, "quality_flags", "mixed_timezone"),
    ("douyin", {"create_time": "2025-11-01T08:00:00+08:00"}, "created_at", datetime(2025, 11, 1, 0, 0)),
    ("taobao", {}, "quality_flags", None),
    ("taobao", {"payment": "-200.07"}, "quality_flags", "price_out_of_range"),  # kept, flagged
    ("jd", {"orderPayment": "9999999.00"}, "quality_flags", "price_out_of_range"),
]

BASE = {"taobao": TAOBAO, "jd": JD, "pdd": PDD, "douyin": DOUYIN}


@pytest.mark.parametrize(("platform", "patch", "field", "expected"), HEADER_CASES)
def test_header_field(platform: str, patch: dict[str, Any], field: str, expected: Any) -> None:
    head, _ = _stage(platform, {**BASE[platform], **patch})
    assert head["_rule"] is None, head["_reason"]
    assert head[field] == expected


LINE_CASES = [
    ("taobao", "quantity", 2),
    ("taobao", "unit_price", Decimal("50.00")),
    ("taobao", "refund_status", "refunded"),
    ("taobao", "listing_key", "taobao:5:7"),
    ("jd", "quantity", 2),  # itemTotal is a string
    ("jd", "line_amount", Decimal("109.90")),  # price × quantity
    ("jd", "line_key", "jd:300100200:1001"),  # no line id: sku id
    ("pdd", "unit_price", Decimal("29.90")),
    ("pdd", "line_key", "pdd:261101-123:99"),
    ("douyin", "line_id", "6920000000000000124"),
    ("douyin", "unit_price", Decimal("41.15")),  # origin_amount / item_num
    ("douyin", "spec_text", "颜色:黑;尺码:L"),
    ("douyin", "barcode", "6901234567892"),
    ("douyin", "refund_status", "none"),
    # lines that carry no refund state do not claim "none": their refunds are unified.refund's
    ("jd", "refund_status", None),
    ("pdd", "refund_status", None),
]


@pytest.mark.parametrize(("platform", "field", "expected"), LINE_CASES)
def test_line_field(platform: str, field: str, expected: Any) -> None:
    _, lines = _stage(platform, BASE[platform])
    assert len(lines) == 1 and lines[0]["_rule"] is None, lines
    assert lines[0][field] == expected


REJECT_CASES = [
    ("taobao", {"status": "NEW_FANCY_STATUS"}, "unknown_status", "NEW_FANCY_STATUS"),
    ("jd", {"orderState": "WHATEVER"}, "unknown_status", "maps.order_status"),
    ("pdd", {"refund_status": 9}, "unknown_status", "maps.refund_override"),
    ("douyin", {"main_status": 77}, "unknown_status", "77"),
    ("taobao", {"modified": None}, "missing_required", "orders.modified_at"),
    ("taobao", {"payment": "abc"}, "bad_value", "abc"),
    ("douyin", {"update_time": "yesterday"}, "bad_value", "unix_s"),
    ("taobao", {"buyer_message": "测试订单，请勿发货"}, "test_order", "buyer_message"),
    ("pdd", {"remark": "测试订单勿发货"}, "test_order", "remark"),
    ("douyin", {"seller_words": "测试单"}, "test_order", "seller_words"),
    # an amount added to another is one, or its record fails: never counted as 0
    ("douyin", {"promotion_amount": "5.5"}, "bad_value", "goods_amount (path promotion_amount) = 5.5"),
]


@pytest.mark.parametrize(("platform", "patch", "rule", "in_reason"), REJECT_CASES)
def test_bad_records_get_a_rule_and_reason(
    platform: str, patch: dict[str, Any], rule: str, in_reason: str
) -> None:
    head, _ = _stage(platform, {**BASE[platform], **patch})
    assert head["_rule"] == rule
    assert in_reason in head["_reason"]


def test_a_taobao_line_amount_is_num_times_price_and_its_discount_all_it_was_not_paid() -> None:
    payload = json.loads(json.dumps(TAOBAO))
    # total_fee is after the line's own discount_fee; divide_order_fee after the order's share too
    line = payload["orders"]["order"][0]
    line |= {"total_fee": "90.00", "discount_fee": "10.00", "divide_order_fee": "85.00"}
    _, lines = _stage("taobao", payload)
    amounts = {k: lines[0][k] for k in ("line_amount", "discount_amount", "pay_amount")}
    assert amounts == {"line_amount": Decimal("100.00"), "discount_amount": Decimal("15.00"),
                       "pay_amount": Decimal("85.00")}


def test_price_outlier_is_flagged_not_dropped() -> None:
    payload = json.loads(json.dumps(TAOBAO))
    payload["orders"]["order"][0]["price"] = "9999999.00"
    _, lines = _stage("taobao", payload)
    assert lines[0]["_rule"] is None and lines[0]["quality_flags"] == "price_out_of_range"


def test_every_documented_status_code_is_mapped() -> None:
    documented = {
        "taobao": [
            "WAIT_BUYER_PAY",
            "TRADE_NO_CREATE_PAY",
            "WAIT_SELLER_SEND_GOODS",
            "SELLER_CONSIGNED_PART",
            "WAIT_BUYER_CONFIRM_GOODS",
            "TRADE_BUYER_SIGNED",
            "TRADE_FINISHED",
            "TRADE_CLOSED",
            "TRADE_CLOSED_BY_TAOBAO",
            "PAY_PENDING",
            "WAIT_PRE_AUTH_CONFIRM",
            "PAID_FORBID_CONSIGN",
        ],
        "jd": [
            "WAIT_SELLER_STOCK_OUT",
            "WAIT_GOODS_RECEIVE_CONFIRM",
            "WAIT_SELLER_DELIVERY",
            "POP_ORDER_PAUSE",
            "PAUSE",
            "FINISHED_L",
            "TRADE_CANCELED",
            "LOCKED",
            "WAIT_SEND_CODE",
            "PARENT_TRADE_CANCELED",
        ],
        "pdd": ["1", "2", "3"],
        "douyin": ["1", "105", "2", "101", "3", "4", "5"],
    }
    for platform, codes in documented.items():
        assert set(codes) <= set(MAPPINGS[platform].maps["order_status"].codes), platform
    assert {"1", "103", "105", "2", "101", "3", "4", "5", "21", "22", "39"} <= set(
        MAPPINGS["douyin"].maps["main_status"].codes
    )


MAPPING_ERRORS = [
    ('platform = "x"\nversion = "1"\n[orders.fields]\nstauts = { path = "s" }\n', "orders.fields.stauts"),
    (
        'platform = "x"\nversion = "1"\n[maps.s]\nvocabulary = "order_status"\ncodes = { A = "payed" }\n',
        "maps.s.codes.A",
    ),
    (
        'platform = "x"\nversion = "1"\n[orders.fields]\nplatform_order_id = { path = "a", const = "b" }\n',
        "orders.fields.platform_order_id",
    ),
    ('platform = "x"\nversion = "1"\nbogus = 1\n', "bogus"),
    (
        'platform = "x"\nversion = "1"\n[orders.fields]\nplatform_order_id = { path = "a" }\n'
        'status = { path = "s", map = "nope" }\nmodified_at = { path = "m" }\n',
        "orders.fields.status",
    ),
    # a parcel is read from the order: no [orders], no [shipment]
    ('platform = "x"\nversion = "1"\n[shipment.fields]\ntracking_no = { path = "w" }\n', "shipment"),
    # ... and known by its waybill
    (
        'platform = "x"\nversion = "1"\n[orders.fields]\nplatform_order_id = { path = "a" }\n'
        'status = { const = "paid" }\nmodified_at = { path = "m" }\n'
        '[shipment.fields]\ncarrier = { path = "c" }\n',
        "shipment.fields.tracking_no",
    ),
    # a carrier code comes through a map into the carrier list, never as free text
    (
        'platform = "x"\nversion = "1"\n[orders.fields]\nplatform_order_id = { path = "a" }\n'
        'status = { const = "paid" }\nmodified_at = { path = "m" }\n'
        '[shipment.fields]\ncarrier_code = { path = "c" }\n',
        "shipment.fields.carrier_code",
    ),
    (
        'platform = "x"\nversion = "1"\n[maps.c]\nvocabulary = "carrier"\ncodes = { "9" = "ZHONGTONG" }\n',
        "maps.c.codes.9",
    ),
    # a map that flags unknown codes needs rows that carry flags: refunds have none
    (
        'platform = "x"\nversion = "1"\n[maps.r]\nvocabulary = "refund_reason"\non_unknown = "flag"\n'
        'codes = { a = "other" }\n[refund.fields]\nplatform_refund_id = { path = "i" }\n'
        'platform_order_id = { path = "o" }\nstatus = { const = "refunded" }\nmodified_at = { path = "m" }\n'
        'reason = { path = "r", map = "r" }\n',
        "refund.fields.reason",
    ),
    # a platform's name is part of SQL names: 'brand-shop' stopped every run with a parser error
    ('platform = "brand-shop"\nversion = "1"\n', "key 'platform'"),
    ('platform = "Tao Bao"\nversion = "1"\n', "key 'platform'"),
    ('platform = "1688-shop"\nversion = "1"\n', "key 'platform'"),
    # an empty test marker is in every text: it quarantined every record as a test order
    ('platform = "x"\nversion = "1"\n[[test_markers]]\npath = "buyer_message"\ncontains = ""\n',
     "test_markers.0.contains"),
]


@pytest.mark.parametrize(("text", "key"), MAPPING_ERRORS)
def test_invalid_mapping_names_file_and_key(text: str, key: str) -> None:
    with pytest.raises(MappingError) as err:
        parse_mapping(text, "bad.toml")
    assert "bad.toml" in err.value.message and key in err.value.message
    assert err.value.hint


@pytest.mark.parametrize(
    ("name", "suggested"), [("brand-shop", "brand_shop"), ("Tao Bao", "tao_bao"), ("1688-shop", "1688_shop")]
)
def test_a_platform_name_that_cannot_name_tables_is_refused(name: str, suggested: str) -> None:
    with pytest.raises(MappingError) as err:
        parse_mapping(f'platform = "{name}"\nversion = "1"\n', "bad.toml")
    assert f"'{name}' is not a platform name" in str(err.value.hint)
    assert f'(such as "{suggested}")' in str(err.value.hint)


def test_a_platform_named_by_digits_is_a_platform() -> None:
    text = HEAD.replace('"kuaishou"', '"1688"') + ORDER_KEYS + 'modified_at = { path = "updateTime" }\n'
    assert parse_mapping(text, "1688.toml").platform == "1688"


def test_an_editors_files_beside_the_mappings_are_not_mappings(tmp_path: Path) -> None:
    """Emacs keeps a lock link .#kuaishou.toml (pointing nowhere) while the file is edited, vim a
    swap file: before, every run stopped on 'mapping file …/.#kuaishou.toml not found'."""
    text = HEAD + ORDER_KEYS + 'modified_at = { path = "updateTime" }\n'
    (tmp_path / "kuaishou.toml").write_text(text, encoding="utf-8")
    (tmp_path / ".#kuaishou.toml").symlink_to("root@host.1234:1764900000")
    (tmp_path / ".kuaishou.toml.swp.toml").write_text(text, encoding="utf-8")
    assert list(load_mappings(tmp_path)) == ["kuaishou"]


# ---------------------------------------------------------------- a new platform's mistakes, refused at load
# An audit: a user writing the mapping of a new platform (kuaishou) made each of these mistakes; each
# passed `model check` and then wrote wrong data or failed `ecfusion run`. Each is now refused when
# the file is loaded, naming the file, the key and the fix.

KUAISHOU = HEAD + """\
"40" = "shipped"
"70" = "completed"

[maps.refund_override]
vocabulary = "order_status"
[maps.refund_override.codes]
"0" = ""
"1" = "refunding"

[maps.reason]
vocabulary = "refund_reason"
default = "other"
[maps.reason.codes]
"不想要了" = "changed_mind"

[[test_markers]]
path = "remark"
contains = "测试"

[orders.fields]
platform_order_id = { path = "oid" }
status = { path = "status", map = "order_status", overrides = [
  { path = "refundStatus", map = "refund_override" },
] }
modified_at = { path = "updateTime", time = "unix_ms" }
goods_amount = { path = "totalFee", unit = "fen" }
receiver_city = { path = "addressInfo.city" }

[order_line]
items = "orderItemList"
[order_line.fields]
sku_id = { path = "skuId" }
spec_text = { path = "skuDesc", pattern = "颜色:([^;]+)" }

[refund.fields]
platform_refund_id = { path = "refundId" }
platform_order_id = { path = "oid" }
status = { const = "requested" }
reason = { path = "reason", map = "reason" }
modified_at = { path = "updateTime", time = "unix_ms" }

[listing]
items = "skuList"
[listing.fields]
item_id = { path = "itemId" }
sku_id = { path = "item.skuId" }
modified_at = { path = "updateTime", time = "unix_ms" }
"""

STATUS_MAP = 'vocabulary = "order_status"\n[maps.order_status.codes]'
CITY = 'receiver_city = { path = "addressInfo.city" }'
SPEC = 'pattern = "颜色:([^;]+)"'

KUAISHOU_MISTAKES = [
    # (what the user wrote in place of the good text, key named, what the hint says)
    # a status map guesses nothing: an unknown code is quarantined, never defaulted
    ((STATUS_MAP, STATUS_MAP.replace("\n", '\ndefault = "paid"\n', 1)), "maps.order_status.default",
     "quarantined unknown_status"),
    # ... nor written empty: "" says "no override", only in a map used under overrides
    (('"30" = "paid"', '"30" = ""'), "maps.order_status.codes.30", "overrides"),
    # ... nor left empty and flagged: a required field would be quarantined without its code
    ((STATUS_MAP, STATUS_MAP.replace("\n", '\non_unknown = "flag"\n', 1)), "orders.fields.status",
     "missing_required"),
    # a constant is a value of the field's vocabulary
    (('status = { const = "requested" }', 'status = { const = "requestd" }'), "refund.fields.status.const",
     "'requested'"),
    # a key of the wrong kind for its field
    (('unit = "fen" }', 'time = "unix_ms" }'), "orders.fields.goods_amount.time", "time fields"),
    (('modified_at = { path = "updateTime", time = "unix_ms" }\ngoods',
      'modified_at = { path = "updateTime", time = "unix_ms", unit = "fen" }\ngoods'),
     "orders.fields.modified_at.unit", "money fields"),
    (('modified_at = { path = "updateTime", time = "unix_ms" }\ngoods',
      'modified_at = { path = "updateTime", time = "unix_ms", add = ["x"] }\ngoods'),
     "orders.fields.modified_at.add", "money fields"),
    # paths are dotted object keys
    ((CITY, 'receiver_city = { path = "" }'), "orders.fields.receiver_city.path", "empty"),
    ((CITY, 'receiver_city = { path = "addressInfo..city" }'), "orders.fields.receiver_city.path", "'..'"),
    (('items = "orderItemList"', 'items = "orderItemList."'), "order_line.items", "empty segment"),
    ((CITY, 'receiver_city = { path = "consignees[0].city" }'), "orders.fields.receiver_city.path", "items"),
    ((CITY, 'receiver_city = { path = "consignees.0.city" }'), "orders.fields.receiver_city.path",
     "list position"),
    ((CITY, 'receiver_city = { paths = ["a", "b."] }'), "orders.fields.receiver_city.paths.1",
     "empty segment"),
    # a path is a value or the parent of others, never both; a line list is no parent of header fields
    ((CITY, CITY + '\nreceiver_district = { path = "addressInfo" }'), "orders.fields.receiver_district",
     "orders.fields.receiver_city reads 'addressInfo.city'"),
    (('items = "orderItemList"', 'items = "addressInfo"'), "order_line.items", "orders.fields.receiver_city"),
    (('path = "remark"', 'path = "oid.remark"'), "orders.fields.platform_order_id", "test_markers.0.path"),
    # a pattern DuckDB's RE2 reads, with the group to keep
    ((SPEC, 'pattern = "颜色:([^;]+"'), "order_line.fields.spec_text.pattern", "missing )"),
    ((SPEC, 'pattern = "(?<=颜色:)(.+)"'), "order_line.fields.spec_text.pattern", "lookaround"),
    ((SPEC, 'pattern = "色号"'), "order_line.fields.spec_text.pattern", "capture group"),
    # a keyed target with items reads its rows' fields with item. paths
    (('sku_id = { path = "item.skuId" }', 'sku_id = { path = "skuId" }'), "listing.items", "'item.'"),
    (('sku_id = { path = "item.skuId" }', 'sku_id = { paths = ["item.skuId", "skuId"] }'),
     "listing.fields.sku_id", "'item.'"),
    # a file says which platform it maps, at which version
    (('platform = "kuaishou"', 'platform = ""'), "platform", "the platform the raw records carry"),
    (('version = "1.0.0"', 'version = " "'), "version", "give the file one"),
    # a test marker names a target of the file
    (('contains = "测试"', 'contains = "测试"\ntarget = "order"'), "test_markers.0.target", "'orders'"),
    # bounds
    (('version = "1.0.0"', 'version = "1.0.0"\nutc_offset_hours = 80'), "utc_offset_hours", "-12"),
    (('version = "1.0.0"', 'version = "1.0.0"\nmax_quantity = -1'), "max_quantity", "greater than 0"),
    # pydantic's own errors: the key path and a fix, not the message again
    (('version = "1.0.0"\n', ""), "version", "add it"),
    (('"10" = "created"', '"10" = 10'), "maps.order_status.codes.10", "found 10"),
    # what a code means once the order was paid: a code of the order's own status map, a status
    (('"70" = "completed"\n', '"70" = "completed"\n[maps.order_status.when_paid]\n"80" = "refunded"\n'),
     "maps.order_status.when_paid.80", "list it under codes"),
    (('"1" = "refunding"\n', '"1" = "refunding"\n[maps.refund_override.when_paid]\n"1" = "refunded"\n'),
     "maps.refund_override.when_paid", "not in one used under 'overrides'"),
    (('"70" = "completed"\n', '"70" = "completed"\n[maps.order_status.when_paid]\n"70" = "refunded"\n'),
     "orders.fields.status.overrides", "which one wins"),
    # a code whose 'refunded' may follow a refund of part of the order: one of an override map's, refunded
    (('[maps.refund_override.codes]', 'partial_refund = ["1"]\n[maps.refund_override.codes]'),
     "maps.refund_override.partial_refund.1", "whose value is 'refunded'"),
    (('[maps.refund_override.codes]', 'partial_refund = ["9"]\n[maps.refund_override.codes]'),
     "maps.refund_override.partial_refund.9", "not a code there"),
    (('[maps.order_status.codes]', 'partial_refund = ["70"]\n[maps.order_status.codes]'),
     "maps.order_status.partial_refund", "used under the status's 'overrides'"),
]


def test_a_status_that_asks_whether_the_order_was_paid_needs_its_payment_time() -> None:
    jd = (Path(sqlgen.__file__).parent / "mappings" / "jd.toml").read_text(encoding="utf-8")
    paid_at = 'paid_at = { path = "paymentConfirmTime", null_values = ["0001-01-01 00:00:00", ""] }\n'
    assert paid_at in jd and "[maps.order_status.when_paid]" in jd
    with pytest.raises(MappingError) as e:
        parse_mapping(jd.replace(paid_at, ""), "mappings/jd.toml")
    assert "'orders.fields.status'" in e.value.message
    assert e.value.hint and "map orders.paid_at" in e.value.hint


def test_the_audited_mapping_loads() -> None:
    m = parse_mapping(KUAISHOU, "kuaishou.toml")
    assert set(m.rules()) == {"orders", "order_line", "refund", "listing"}


@pytest.mark.parametrize(("edit", "key", "fix"), KUAISHOU_MISTAKES, ids=[r[1] for r in KUAISHOU_MISTAKES])
def test_a_mistake_is_refused_at_load_naming_file_key_and_fix(
    edit: tuple[str, str], key: str, fix: str
) -> None:
    good, bad = edit
    assert good in KUAISHOU, good
    with pytest.raises(MappingError) as e:
        parse_mapping(KUAISHOU.replace(good, bad, 1), "mappings/kuaishou.toml")
    line = e.value.one_line()
    assert "mappings/kuaishou.toml" in e.value.message and f"'{key}'" in e.value.message, line
    assert e.value.hint and fix in e.value.hint, line
    assert e.value.hint not in e.value.message, line  # the hint says the fix, not the message again


def test_every_mistake_of_a_file_is_named_at_once() -> None:
    bad = KUAISHOU.replace('version = "1.0.0"\n', "").replace(CITY, 'receiver_city = { paht = "a" }')
    with pytest.raises(MappingError) as e:
        parse_mapping(bad, "kuaishou.toml")
    assert "'version'" in e.value.message and "'orders.fields.receiver_city.paht'" in e.value.message
    assert "(and 1 more" in e.value.message
    assert e.value.hint and "allowed: path, paths, const" in e.value.hint  # for the misspelt one

    bad = KUAISHOU.replace(CITY, 'receiver_ctiy = { path = "a" }')
    with pytest.raises(MappingError) as e:
        parse_mapping(bad, "kuaishou.toml")
    assert e.value.hint and "receiver_city" in e.value.hint  # the target's fields, for the misspelt one

    bad = KUAISHOU.replace('"30" = "paid"', '"30" = ""').replace('{ const = "requested" }', '{ const = "x" }')
    with pytest.raises(MappingError) as e:
        parse_mapping(bad, "kuaishou.toml")
    assert "'maps.order_status.codes.30'" in e.value.message
    assert "'refund.fields.status.const'" in e.value.message
    assert e.value.hint and "refund.fields.status.const: 'x' is not in refund_status" in e.value.hint


def test_a_file_without_targets_is_refused() -> None:
    with pytest.raises(MappingError) as e:
        parse_mapping('platform = "kuaishou"\nversion = "1.0.0"\n', "kuaishou.toml")
    assert "kuaishou.toml" in e.value.message and e.value.hint and "[orders.fields]" in e.value.hint


def test_free_text_reasons_keep_their_default_and_overrides_their_empty_value() -> None:
    """What the closed-vocabulary rules leave alone: the shipped Douyin, JD, Pinduoduo and Taobao
    files give their refund reasons a default, and Douyin's and Pinduoduo's override maps say ''."""
    m = parse_mapping(KUAISHOU, "kuaishou.toml")
    assert m.maps["reason"].default == "other" and m.maps["refund_override"].codes["0"] == ""
    assert MAPPINGS["douyin"].maps["main_status"].codes["1"] == ""


def test_a_mapping_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "kuaishou.toml"
    path.write_text(KUAISHOU, encoding="utf-8-sig")  # as Windows Notepad saves it
    assert load_mapping(path).platform == "kuaishou"


def test_a_replacement_that_drops_targets_of_the_shipped_file_is_named(tmp_path: Path) -> None:
    from ecfusion.standardize.mapping import replacement_warnings

    shipped = MAPPINGS_DIR / "taobao.toml"
    own = tmp_path / "taobao.toml"
    text = shipped.read_text(encoding="utf-8")
    own.write_text(text[: text.index("[refund.fields]")], encoding="utf-8")  # no refunds, no products
    (warning,) = replacement_warnings({"taobao": (load_mapping(own), own)})
    assert str(own) in warning and "[refund]" in warning and "[listing]" in warning
    assert "pending" in warning
    assert replacement_warnings({"taobao": (load_mapping(shipped), shipped)}) == []
