"""Rules every value meets, whatever its mapping says (standard 5.2 Table 1 L1 c, L3 b;
docs/mappings.md "Rules every value meets"), shown on a user's own mapping of a new platform.

A record that breaks one is quarantined with the rule, a reason naming the field, the path and
(except for personal data) the text, and its raw record id; the rest of the run goes on. Before:
"" and " " were ids (two orders with oid "" became ONE order ``kuaishou:``); one absurd time ended
the run of every platform (ECF500 overflow); "199.50" fen was read as 2.00 yuan; "+0000" and " UTC"
were read as Beijing time; a name nobody declared personal reached unified.orders in plain text;
and lines under a list of packages were dropped without a word."""

from __future__ import annotations

import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rawzone import RawZone, jsonl, rows, taobao_trade, token
from tests.kuaishou_mapping import HEAD, ORDER_KEYS

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.lake import RawLake
from ecfusion.standardize.mapping import own_folder

KUAISHOU = HEAD + ORDER_KEYS + """\
created_at = { path = "createTime", time = "unix_ms", required = true }
paid_at = { path = "payTime", time = "unix_s" }
modified_at = { path = "updateTime" }
goods_amount = { path = "totalFee", unit = "fen" }
receiver_name_token = { path = "addressInfo.consignee" }

[order_line]
items = "orderItemList"
[order_line.fields]
line_id = { path = "itemId" }
sku_id = { path = "skuId" }
quantity = { path = "num" }
unit_price = { path = "price", unit = "fen" }
"""

# the same shop's export where the goods sit inside each package
PACKAGES = HEAD.replace('"kuaishou"', '"kuaishou_pkg"') + ORDER_KEYS + """\
modified_at = { path = "updateTime" }

[order_line]
items = "packages.goods"
[order_line.fields]
line_id = { path = "itemId" }
"""

CREATED_MS = 1764554400000  # 2025-12-01 02:00:00 UTC
UTC_2AM = datetime(2025, 12, 1, 2, 0)


def order(oid: Any, **changed: Any) -> dict[str, Any]:
    """A Kuaishou order as its API gives it: times in unix ms / s and Beijing text, money in fen."""
    return {
        "oid": oid,
        "status": "30",
        "createTime": CREATED_MS,
        "payTime": CREATED_MS // 1000 + 60,
        "updateTime": "2025-12-01 10:05:00",
        "totalFee": 19950,
        "addressInfo": {"consignee": token("name", "王小明")},
        "orderItemList": [{"itemId": "I1", "skuId": "S1", "num": 1, "price": 19950}],
    } | changed


def install(ws: Workspace, *files: str) -> None:
    own_folder(ws).mkdir(exist_ok=True)
    for text in files:
        platform = text.split('platform = "', 1)[1].split('"', 1)[0]
        (own_folder(ws) / f"{platform}.toml").write_text(text, encoding="utf-8")


def quarantined(ws: Workspace) -> dict[str, tuple[str, str]]:
    """raw_record_id → (rule, reason) of every quarantined record."""
    return {rid: (rule, why) for rid, rule, why in rows(ws, "SELECT raw_record_id, rule, reason FROM "
                                                            "unified.quarantine")}


def rid(payload: dict[str, Any], platform: str = "kuaishou", entity: str = "orders") -> str:
    return RawZone.record_id(platform, entity, payload)


def run(ws: Workspace, raw: RawZone, records: list[dict[str, Any]], platform: str = "kuaishou") -> None:
    install(ws, KUAISHOU, PACKAGES)
    raw.add(platform, "orders", list(records))
    s = warehouse.run(ws)
    assert s.balanced and s.unreadable_files == {}


SPAN = "a time from 1990-01-01 to 2100-01-01 UTC"

# (record, rule, reason): one row per way a platform writes an id that is not there
BLANK_IDS = [
    (order(""), "missing_required", "orders.platform_order_id (path oid) is empty"),
    (order("", updateTime="2025-12-01 10:06:00"), "missing_required",
     "orders.platform_order_id (path oid) is empty"),
    (order(" "), "missing_required", "orders.platform_order_id (path oid) is empty"),
    (order("\u3000\t"), "missing_required", "orders.platform_order_id (path oid) is empty"),
    # a blank status is no code the map lacks: it is not there (before: unknown_status with code ' ')
    (order("K2", status=" "), "missing_required", "orders.status (path status) is empty"),
    (order("K3", createTime=" "), "missing_required", "orders.created_at (path createTime) is empty"),
]


def test_an_empty_or_blank_id_is_missing_not_an_order_of_its_own(workspace: Workspace, raw: RawZone) -> None:
    blank_line = order("K4", orderItemList=[{"itemId": " ", "skuId": "S9", "num": 1, "price": 100}])
    run(workspace, raw, [order("K1"), blank_line, *(r for r, _, _ in BLANK_IDS)])
    got = quarantined(workspace)
    assert got == {rid(r): (rule, f"{rule}: {why}") for r, rule, why in BLANK_IDS}
    orders = rows(workspace, "SELECT order_key FROM unified.orders ORDER BY 1")
    assert orders == [("kuaishou:K1",), ("kuaishou:K4",)]
    # a blank line id is no line id: the line is told apart by its SKU (before: 'kuaishou:K4: ')
    lines = "SELECT line_key, line_id FROM unified.order_line WHERE order_key = 'kuaishou:K4'"
    assert rows(workspace, lines) == [("kuaishou:K4:S9", "S9")]


def test_an_id_padded_with_blanks_is_the_id(workspace: Workspace, raw: RawZone) -> None:
    """An export pads an id, or a copy from a web page leaves a zero-width space: the same order,
    never a second one counted twice (before: 'kuaishou: K5' beside 'kuaishou:K5')."""
    later = order("K5\u200b", updateTime="2025-12-01 11:00:00",
                  orderItemList=[{"itemId": "\ufeffI1 ", "skuId": " S1", "num": 1, "price": 19950}])
    run(workspace, raw, [order(" K5\u3000"), later])
    assert rows(workspace, "SELECT order_key, platform_order_id, version_count FROM unified.orders") == [
        ("kuaishou:K5", "K5", 2)
    ]
    assert rows(workspace, "SELECT line_key, line_id, sku_id FROM unified.order_line") == [
        ("kuaishou:K5:I1", "I1", "S1")
    ]


def test_a_blank_id_of_a_member_refund_or_keyed_record_is_missing(workspace: Workspace, raw: RawZone) -> None:
    """The shipped mappings read "" as not set (null_values); " " was an id of its own."""
    member = {"member_id": " ", "mobile": token("phone", "13800138000"),
              "registered_at": "2026-01-01 08:00:00"}
    refund = {"refund_id": "\u3000", "tid": 1, "oid": 11, "status": "SUCCESS", "refund_fee": "1.00",
              "created": "2026-11-03 20:00:00", "modified": "2026-11-04 15:20:00"}
    stock = {"snapshot_date": "2026-11-08", "warehouse_code": "WH-GZ", "sku_code": "  ", "on_hand": "1"}
    raw.add("crm", "members", [member], source="crm")
    raw.add("taobao", "refunds", [refund])
    raw.add("erp", "inventory", [stock], source="erp")
    s = warehouse.run(workspace)
    assert s.balanced
    empty = "missing_required", "missing_required: {} is empty"
    assert quarantined(workspace) == {
        rid(member, "crm", "members"): (empty[0], empty[1].format("member.member_id (path member_id)")),
        rid(refund, "taobao", "refunds"): (
            empty[0], empty[1].format("refund.platform_refund_id (path refund_id)")
        ),
        rid(stock, "erp", "inventory"): (empty[0], empty[1].format("inventory.sku_code (path sku_code)")),
    }
    assert rows(workspace, "SELECT count(*) FROM unified.member_account") == [(0,)]


# (record, reason): a time no trade has, however large, is one record's bad_value
BAD_TIMES = [
    (order("T1", createTime=99999999999999999),
     f"orders.created_at (path createTime) = 99999999999999999 is not unix_ms, {SPAN}"),
    (order("T2", createTime=9223372036854775807),
     f"orders.created_at (path createTime) = 9223372036854775807 is not unix_ms, {SPAN}"),
    (order("T3", payTime=99999999999999999),
     f"orders.paid_at (path payTime) = 99999999999999999 is not unix_s, {SPAN}"),
    (order("T4", updateTime="294247-01-10T04:00:54+00:00"),
     f"orders.modified_at (path updateTime) = 294247-01-10T04:00:54+00:00 is not datetime, {SPAN}"),
    (order("T5", updateTime="1970-01-01 08:00:00"),
     f"orders.modified_at (path updateTime) = 1970-01-01 08:00:00 is not datetime, {SPAN}"),
    # a unit mistaken: seconds read as milliseconds (January 1970), milliseconds as seconds (year 57885)
    (order("T6", createTime=CREATED_MS // 1000),
     f"orders.created_at (path createTime) = 1764554400 is not unix_ms, {SPAN}"),
    (order("T7", payTime=CREATED_MS),
     f"orders.paid_at (path payTime) = 1764554400000 is not unix_s, {SPAN}"),
    # 0 in a required time is no time a record was made
    (order("T8", createTime=0), f"orders.created_at (path createTime) = 0 is not unix_ms, {SPAN}"),
]


def test_a_time_out_of_range_is_that_records_bad_value_and_the_run_goes_on(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    not_paid = order("T9", payTime=0)  # 0 in an optional time: "not yet", as platforms write it
    run(workspace, raw, [order("T0"), not_paid, *(r for r, _ in BAD_TIMES)])
    assert quarantined(workspace) == {rid(r): ("bad_value", f"bad_value: {why}") for r, why in BAD_TIMES}
    got = "SELECT order_key, created_at, paid_at, business_date::VARCHAR FROM unified.orders ORDER BY 1"
    assert rows(workspace, got) == [
        ("kuaishou:T0", UTC_2AM, datetime(2025, 12, 1, 2, 1), "2025-12-01"),
        ("kuaishou:T9", UTC_2AM, None, "2025-12-01"),
        ("taobao:1", datetime(2026, 11, 1, 2, 0), datetime(2026, 11, 1, 2, 5), "2026-11-01"),
    ]


def test_money_in_fen_is_a_whole_number(workspace: Workspace, raw: RawZone) -> None:
    half_fen_line = order("F5", orderItemList=[{"itemId": "I1", "num": 1, "price": "99.5"}])
    bad = [
        (order("F1", totalFee="199.50"),
         "bad_value: orders.goods_amount (path totalFee) = 199.50 is not money in fen (a whole number)"),
        (order("F2", totalFee=0.1),
         "bad_value: orders.goods_amount (path totalFee) = 0.1 is not money in fen (a whole number)"),
        (half_fen_line,
         "bad_value: order_line.unit_price (path price) = 99.5 is not money in fen (a whole number)"),
    ]
    good = [order("F3", totalFee="19950.00"), order("F4", totalFee="１９９５０"), order("F6", totalFee=-100)]
    run(workspace, raw, [*good, *(r for r, _ in bad)])
    assert quarantined(workspace) == {rid(r): ("bad_value", why) for r, why in bad}
    assert rows(workspace, "SELECT order_key, goods_amount FROM unified.orders ORDER BY 1") == [
        ("kuaishou:F3", Decimal("199.50")),
        ("kuaishou:F4", Decimal("199.50")),
        ("kuaishou:F6", Decimal("-1.00")),
    ]


def test_a_reason_quotes_the_first_hundred_characters_of_a_long_text(
    workspace: Workspace, raw: RawZone
) -> None:
    """A field holding a whole document is refused with its start, not copied into every reason
    and every `ecfusion warehouse quarantine` (before: a reason of 20,067 characters)."""
    long_fee, long_status = order("L1", totalFee="9" * 20_000), order("L2", status="S" * 500)
    run(workspace, raw, [long_fee, long_status])
    assert quarantined(workspace) == {
        rid(long_fee): ("bad_value", "bad_value: orders.goods_amount (path totalFee) = " + "9" * 100
                        + "… is too large: money holds at most 999999999999999999 fen"),
        rid(long_status): ("unknown_status", "unknown_status: orders.status code " + "S" * 100
                           + "… (path status) is not in maps.order_status of kuaishou.toml v1.0.0"),
    }


# (modified text, flagged mixed_timezone): each names 2025-12-01 02:00 UTC
ZONES = [
    ("2025-12-01 10:00:00", False),  # the mapping's own zone (Beijing)
    ("2025-12-01T02:00:00Z", True),
    ("2025-12-01T10:00:00+08:00", True),
    ("2025-12-01T02:00:00+0000", True),  # before: read as Beijing time, 2025-11-30 18:00, no flag
    ("2025-12-01T10:00:00+0800", True),
    ("2025-12-01T10:00:00+08", True),
    ("2025-11-30T20:30:00-0530", True),
    ("2025-12-01 02:00:00 UTC", True),
    ("2025-12-01 02:00:00 utc", True),  # any case: the zone test is one regular expression on both engines
    ("2025-12-01 02:00:00GMT", True),  # before: bad_value on DuckDB, Beijing time on Spark
    ("2025-12-01 10:00:00 +08:00", True),  # before: bad_value on DuckDB, 02:00 on Spark
    ("2025-12-01T02:00:00.250z", True),
]


def test_a_time_that_names_its_zone_in_any_common_form_is_converted_and_flagged(
    workspace: Workspace, raw: RawZone
) -> None:
    records = [order(f"Z{i}", updateTime=text) for i, (text, _) in enumerate(ZONES)]
    run(workspace, raw, records)
    assert quarantined(workspace) == {}
    got = "SELECT order_key, modified_at, coalesce(quality_flags, '') FROM unified.orders"
    by_key = {key: (at.replace(microsecond=0), flags) for key, at, flags in rows(workspace, got)}
    assert by_key == {
        f"kuaishou:Z{i}": (UTC_2AM, "mixed_timezone" if zoned else "") for i, (_, zoned) in enumerate(ZONES)
    }


def test_plain_text_in_a_token_column_is_refused_without_repeating_it(
    workspace: Workspace, raw: RawZone
) -> None:
    """A name nobody declared personal lands in plain text (no detector knows a name by its value):
    it never reaches a token column, and the reason tells how to declare it — not what it was."""
    plain = order("P1", addressInfo={"consignee": "王小明"})
    run(workspace, raw, [order("P0"), plain, order("P2", addressInfo={"consignee": " "})])
    why = ("bad_value: orders.receiver_name_token (path addressInfo.consignee) is plain text, not a "
           "protected token (ef1:…): declare the path personal in the workspace's pii_fields.toml "
           '([platforms.kuaishou.fields] "addressInfo.consignee" = "name"; [security] pii_fields names '
           "another file) and land the records again, so that landing encrypts it")
    assert quarantined(workspace) == {rid(plain): ("bad_value", why)}
    everything = rows(workspace, "SELECT * FROM unified.quarantine")
    everything += rows(workspace, "SELECT * FROM unified.orders")
    assert "王小明" not in repr(everything)
    tokens = "SELECT order_key, receiver_name_token FROM unified.orders ORDER BY 1"
    assert rows(workspace, tokens) == [("kuaishou:P0", token("name", "王小明")), ("kuaishou:P2", None)]

    # the fix the reason names: declared, landed again (encrypted now), the order is unified
    (workspace.root / "pii_fields.toml").write_text(
        'version = "ks-1"\n[platforms.kuaishou.fields]\n"addressInfo.consignee" = "name"\n', encoding="utf-8"
    )
    lake = RawLake.open(workspace, protect_workers=0)
    with lake, lake.writer("kuaishou", "orders", "kuaishou") as w:
        w.add(plain)
    assert warehouse.run(workspace).balanced
    landed = rows(workspace, "SELECT receiver_name_token FROM unified.orders WHERE order_key = 'kuaishou:P1'")
    assert landed[0][0].startswith("ef1:name:") and "王小明" not in landed[0][0]


def test_a_line_list_inside_a_list_fails_its_order_instead_of_dropping_the_lines(
    workspace: Workspace, raw: RawZone
) -> None:
    base = {"status": "30", "updateTime": "2025-12-01 10:05:00"}
    nested = base | {"oid": "N1", "packages": [{"goods": [{"itemId": "a"}]}, {"goods": [{"itemId": "b"}]}]}
    readable = base | {"oid": "N2", "packages": {"goods": [{"itemId": "a"}]}}
    run(workspace, raw, [nested, readable], platform="kuaishou_pkg")
    why = ("bad_value: order_line items (path packages.goods) crosses a list at packages: a path names "
           "object keys, it cannot reach into the elements of a list")
    assert quarantined(workspace) == {rid(nested, "kuaishou_pkg"): ("bad_value", why)}
    assert rows(workspace, "SELECT order_key FROM unified.orders") == [("kuaishou_pkg:N2",)]
    assert rows(workspace, "SELECT line_key FROM unified.order_line") == [("kuaishou_pkg:N2:a",)]


def land_every_case(ws: Workspace) -> None:
    raw = RawZone(ws.lake_root)
    install(ws, KUAISHOU, PACKAGES)
    cases = [r for r, _, _ in BLANK_IDS] + [r for r, _ in BAD_TIMES]
    cases += [order(f"Z{i}", updateTime=text) for i, (text, _) in enumerate(ZONES)]
    cases += [order("F1", totalFee="199.50"), order("F4", totalFee="１９９５０"), order("T9", payTime=0),
              order("P1", addressInfo={"consignee": "王小明"}), order("K1"), order(" K5\u200b"),
              order("L1", totalFee="9" * 300), order("L2", status="S" * 300),  # reasons cut alike
              order(1.2345678901234569e23),  # an id beyond 64 bits as landing writes it (1.2…E23 on Spark)
              order("G1", totalFee=10**22)]  # too large for money
    raw.add("kuaishou", "orders", cases)
    nested = {"oid": "N1", "status": "30", "updateTime": "2025-12-01 10:05:00",
              "packages": [{"goods": [{"itemId": "a"}]}]}
    readable = nested | {"oid": "N2", "packages": {"goods": [{"itemId": "a"}]}}
    raw.add("kuaishou_pkg", "orders", [nested, readable])
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00"),
                                 taobao_trade(2, "TRADE_FINISHED", "2026-11-01 10:05:00", payment="99.999"),
                                 taobao_trade(3, "TRADE_FINISHED", "2026-11-01 10:05:00", payment="1e20")])


@pytest.mark.spark
@pytest.mark.slow
def test_spark_applies_the_same_rules(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    duck, spark = Workspace.init(tmp_path / "duck"), Workspace.init(tmp_path / "spark")
    land_every_case(duck)
    shutil.copytree(duck.lake_root / "raw", spark.lake_root / "raw")
    install(spark, KUAISHOU, PACKAGES)
    a, b = warehouse.run(duck, engine="duckdb"), warehouse.run(spark, engine="spark")
    assert a.balanced and a.reconciliation == b.reconciliation
    assert a.quarantine_by_rule == {"missing_required": 6, "bad_value": 15, "unknown_status": 1}
    for sql in (
        "SELECT raw_record_id, rule, reason FROM unified.quarantine ORDER BY ALL",
        "SELECT * FROM unified.orders ORDER BY order_key",
        "SELECT * FROM unified.order_line ORDER BY line_key",
        "SELECT * FROM unified.quality_flag ORDER BY ALL",
    ):
        assert rows(duck, sql) == rows(spark, sql)
    assert rows(duck, "SELECT count(*) FROM unified.orders") == [(len(ZONES) + 7,)]


def test_order_lines_flagged_outside_their_bounds_are_counted_in_the_run_summary(
    workspace: Workspace, raw: RawZone
) -> None:
    """Before: a line of 100,000 shirts or one at 999,999.00 a piece was flagged in
    unified.quality_flag, and the run summary said nothing (its flags were the records' own)."""
    many, dear = taobao_trade(1, "TRADE_FINISHED", "2026-11-01 10:00:00"), taobao_trade(
        2, "TRADE_FINISHED", "2026-11-01 10:00:00", lines=2
    )
    many["orders"]["order"][0]["num"] = 100_000
    dear["orders"]["order"][1]["price"] = "999999.00"
    raw.add("taobao", "orders", [many, dear, taobao_trade(3, "TRADE_FINISHED", "2026-11-01 10:00:00")])
    s = warehouse.run(workspace)
    assert s.flagged_lines_by_rule == {"price_out_of_range": 1, "quantity_out_of_range": 1}
    assert s.flagged_by_rule == {}  # the orders' own values are within bounds
    flagged = rows(workspace, "SELECT row_key, rule FROM unified.quality_flag ORDER BY 1")
    assert flagged == [("taobao:1:10", "quantity_out_of_range"), ("taobao:2:21", "price_out_of_range")]
    # a later version of another order rewrites only that order's lines: nothing flagged again
    raw.add("taobao", "orders", [taobao_trade(3, "TRADE_CLOSED", "2026-11-02 10:00:00")], dt="2026-11-21")
    assert warehouse.run(workspace).flagged_lines_by_rule == {}


def test_a_flag_reason_names_a_value_that_is_not_there(workspace: Workspace, raw: RawZone) -> None:
    """A line of no pieces and no price is flagged with both said (before: the reason was NULL,
    the missing price emptying the whole text)."""
    none = taobao_trade(1, "TRADE_FINISHED", "2026-11-01 10:00:00")
    none["orders"]["order"][0]["num"] = 0
    del none["orders"]["order"][0]["price"]
    raw.add("taobao", "orders", [none])
    assert warehouse.run(workspace).flagged_lines_by_rule == {"quantity_out_of_range": 1}
    assert rows(workspace, "SELECT row_key, reason FROM unified.quality_flag") == [
        ("taobao:1:10", "quantity_out_of_range: unit_price null, quantity 0")
    ]


def test_an_id_sent_as_a_number_beyond_64_bits_is_unified_digit_for_digit(
    workspace: Workspace, tmp_path: Path
) -> None:
    """An export writes ids as JSON numbers. Before: landing's JSON parser read one beyond 64 bits as a
    float (…234 and …235 became one record, the second dropped as a duplicate) and the run refused
    what was left as bad_value. Now the raw zone keeps every digit and each id is unified exactly."""
    from ecfusion.lake.files import ingest_files

    big_line = order("B1", orderItemList=[{"itemId": 98765432109876543210987, "num": 1, "price": 100}])
    export = tmp_path / "orders.jsonl"
    export.write_text(jsonl([order(123456789012345678901234), order(123456789012345678901235), big_line,
                             order(18446744073709551615)]))
    install(workspace, KUAISHOU, PACKAGES)
    lake = RawLake.open(workspace, protect_workers=0)
    with lake:
        landed = ingest_files(lake, "kuaishou", [export], entity="orders").total
    assert (landed.landed, landed.duplicates) == (4, 0)
    assert warehouse.run(workspace).balanced
    assert quarantined(workspace) == {}
    assert rows(workspace, "SELECT order_key FROM unified.orders ORDER BY ALL") == [
        ("kuaishou:123456789012345678901234",), ("kuaishou:123456789012345678901235",),
        ("kuaishou:18446744073709551615",), ("kuaishou:B1",),
    ]
    assert rows(workspace, "SELECT line_id FROM unified.order_line WHERE order_key = 'kuaishou:B1'") == [
        ("98765432109876543210987",)
    ]


def test_a_yuan_amount_with_a_fraction_of_a_fen_is_kept_rounded_and_flagged(
    workspace: Workspace, raw: RawZone
) -> None:
    """Before: 99.999 became 100.00 with no word, and 19.9949 19.99. The order is real (quarantine
    would drop it from the day's sales): it is kept at the fen, flagged money_precision, its reason
    quoting what was sent, the field and what was kept; the run summary counts it."""
    fine = taobao_trade(1, "TRADE_FINISHED", "2026-11-01 10:00:00", payment="99.990")
    sub_fen = taobao_trade(2, "TRADE_FINISHED", "2026-11-01 10:00:00", payment="99.999")
    sub_fen["orders"]["order"][0]["price"] = "19.9949"
    raw.add("taobao", "orders", [fine, sub_fen])
    s = warehouse.run(workspace)
    assert s.flagged_by_rule == {"money_precision": 1} and s.flagged_lines_by_rule == {"money_precision": 1}
    got = "SELECT order_key, pay_amount, quality_flags FROM unified.orders ORDER BY 1"
    assert rows(workspace, got) == [
        ("taobao:1", Decimal("99.99"), None),
        ("taobao:2", Decimal("100.00"), "money_precision"),
    ]
    assert rows(workspace, "SELECT row_key, reason FROM unified.quality_flag ORDER BY 1") == [
        ("taobao:2", "money_precision: orders.pay_amount (path payment) = 99.999 has more than two "
                     "decimals: kept as 100.00 yuan"),
        ("taobao:2:20", "money_precision: order_line.unit_price (path price) = 19.9949 has more than two "
                        "decimals: kept as 19.99 yuan"),
    ]


def test_an_amount_too_large_for_money_is_said_to_be_too_large_not_to_be_no_money(
    workspace: Workspace, raw: RawZone
) -> None:
    """Before: 1e20 yuan was 'is not money in yuan', as 'abc' is: the user looked for a typo in a
    number that was only too large. Now the reason says so, and the limit."""
    too_large = taobao_trade(1, "TRADE_FINISHED", "2026-11-01 10:00:00", payment="1e20")
    no_number = taobao_trade(2, "TRADE_FINISHED", "2026-11-01 10:00:00", payment="abc")
    fen = order("G1", totalFee=10**22)
    raw.add("taobao", "orders", [too_large, no_number])
    run(workspace, raw, [fen])
    assert quarantined(workspace) == {
        rid(too_large, "taobao"): ("bad_value", "bad_value: orders.pay_amount (path payment) = 1e20 is too "
                                   "large: money holds at most 9999999999999999.99 yuan"),
        rid(no_number, "taobao"): ("bad_value", "bad_value: orders.pay_amount (path payment) = abc is not "
                                   "money in yuan"),
        rid(fen): ("bad_value", "bad_value: orders.goods_amount (path totalFee) = 10000000000000000000000 is "
                   "too large: money holds at most 999999999999999999 fen"),
    }


def test_a_mixed_timezone_reason_names_the_times_that_named_their_zone(
    workspace: Workspace, raw: RawZone
) -> None:
    """Before: 'mixed_timezone: pay_amount 199.50, created_at 2025-12-01 02:00:00', fields that had
    nothing to do with it; the user had to open the raw record to find which time named a zone."""
    zoned = order("Z1", payTime="2025-12-01T10:01:00+08:00", updateTime="2025-12-01T02:05:00Z")
    run(workspace, raw, [zoned, order("Z2")])
    assert rows(workspace, "SELECT row_key, reason FROM unified.quality_flag") == [
        ("kuaishou:Z1", "mixed_timezone: orders.paid_at (path payTime) = 2025-12-01T10:01:00+08:00 is a date "
         "where unix_s is declared: read as text (by the zone it names, else UTC+8); orders.modified_at "
         "(path updateTime) = 2025-12-01T02:05:00Z names its own zone: read by it, not as the mapping's "
         "UTC+8")
    ]
    times = "SELECT paid_at, modified_at FROM unified.orders WHERE order_key = 'kuaishou:Z1'"
    assert rows(workspace, times) == [(datetime(2025, 12, 1, 2, 1), datetime(2025, 12, 1, 2, 5))]


def test_a_store_sale_line_outside_the_order_line_bounds_is_flagged_as_a_platform_line_is(
    workspace: Workspace, raw: RawZone
) -> None:
    """Before: a till's line of 0 pieces, or of 5,000, was kept with no flag (a platform line of
    them is quantity_out_of_range), and a line at 0.00 passed where a platform line is
    price_out_of_range."""
    from keyed_payloads import pos_row

    sales = [pos_row("R1", "SKU-A", qty="0", paid="0.00"),
             pos_row("R2", "SKU-B", qty="5000", paid="995000.00"),
             pos_row("R3", "SKU-C", price="0.00", paid="0.00"), pos_row("R4", "SKU-D")]
    raw.add("pos", "sales", sales, source="pos")
    s = warehouse.run(workspace)
    assert s.balanced
    got = "SELECT line_key, quality_flags FROM unified.order_line ORDER BY 1"
    assert rows(workspace, got) == [
        ("pos:R1:SKU-A", "quantity_out_of_range"),
        ("pos:R2:SKU-B", "price_out_of_range,quantity_out_of_range"),  # 995,000.00 paid: the order bound
        ("pos:R3:SKU-C", "price_out_of_range"),
        ("pos:R4:SKU-D", None),
    ]
    flagged = "SELECT row_key, reason FROM unified.quality_flag WHERE table_name = 'order_line'"
    said = "quantity_out_of_range: unit_price 199.00, quantity 0"
    assert ("pos:R1:SKU-A", said) in rows(workspace, flagged)
    assert s.flagged_by_rule.get("quantity_out_of_range") == 2
