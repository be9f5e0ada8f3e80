"""The simulated merchant's folder: determinism, manifest, platform shapes, encodings and truth."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from ecfusion.simulate import Manifest, generate
from ecfusion.simulate.checkdigits import gb11643_check_char, gtin13_check_digit
from ecfusion.simulate.platforms import SHAPES

TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
YUAN_TEXT = re.compile(r"^\d+\.\d{2}$")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_writes_byte_identical_files(merchant: Any, tmp_path: Path) -> None:
    again = tmp_path / "again"
    # the fixture ran in one process; this run forks two workers: scheduling must not matter
    generate(again, defects=merchant.rates, workers=2, **merchant.args)
    first, second = _tree(merchant.root), _tree(again)
    assert first.keys() == second.keys()
    differing = [k for k in first if first[k] != second[k]]
    assert differing == []


def test_another_seed_writes_other_data(merchant: Any, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(other, defects=merchant.rates, **{**merchant.args, "seed": 12})
    path = "platforms/taobao/orders/part-00000.jsonl"
    assert (other / path).read_bytes() != (merchant.root / path).read_bytes()


def test_manifest_reads_back_as_written(merchant: Any) -> None:
    assert Manifest.load(merchant.root) == merchant.manifest
    assert merchant.manifest.records(platform="taobao", entity="orders") > merchant.manifest.orders * 0.42


def test_every_manifest_file_exists_with_its_record_count(merchant: Any) -> None:
    m = merchant.manifest
    assert m.orders == merchant.args["orders"] and m.seed == merchant.args["seed"] and m.brand == "青岚"
    entities = {(f.platform, f.entity) for f in m.files}
    for platform in SHAPES:
        for entity in ("orders", "refunds", "products"):
            assert (platform, entity) in entities
    for expected in [
        ("pos", "sales"),
        ("crm", "members"),
        ("erp", "inventory"),
        ("app", "events"),
        ("ads", "ad_clicks"),
        ("ads", "ad_impressions"),
        ("service", "tickets"),
        ("marketing", "campaigns"),
        ("marketing", "coupons"),
    ]:
        assert expected in entities
    for f in m.files:
        path = merchant.root / f.path
        assert path.is_file(), f.path
        if f.format == "jsonl":
            assert path.read_bytes().count(b"\n") == f.records, f.path
        elif f.format == "csv":
            assert path.read_bytes().count(b"\n") - 1 == f.records, f.path
        elif f.format == "sqlite":
            with sqlite3.connect(path) as con:
                assert con.execute("SELECT count(*) FROM members").fetchone()[0] == f.records
        elif f.format == "json":
            assert len(orjson.loads(path.read_bytes())["campaigns"]) == f.records


# platform → (money field, money check, time field, time check, status field)
SHAPE_TABLE: dict[str, tuple[str, Any, str, Any, str]] = {
    "taobao": (
        "payment",
        lambda v: isinstance(v, str) and YUAN_TEXT.match(v),
        "created",
        lambda v: isinstance(v, str) and TIME.match(v),
        "status",
    ),
    "jd": (
        "orderPayment",
        lambda v: isinstance(v, str) and YUAN_TEXT.match(v),
        "orderStartTime",
        lambda v: isinstance(v, str) and TIME.match(v),
        "orderState",
    ),
    "pdd": (
        "pay_amount",
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "created_time",
        lambda v: isinstance(v, str) and TIME.match(v),
        "order_status",
    ),
    "douyin": (
        "pay_amount",
        lambda v: isinstance(v, int) and not isinstance(v, bool),
        "create_time",
        lambda v: isinstance(v, int) and 1_500_000_000 < v < 2_500_000_000,
        "order_status",
    ),
}


def _orders(merchant: Any, platform: str) -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    defects = merchant.defect_lines()
    for f in merchant.manifest.files:
        if f.platform == platform and f.entity == "orders":
            for n, raw in merchant.lines(f.path):
                if (f.path, n) not in defects:
                    out.append((f.path, n, orjson.loads(raw)))
    return out


@pytest.mark.parametrize("platform", sorted(SHAPE_TABLE))
def test_clean_orders_have_the_platforms_native_types(merchant: Any, platform: str) -> None:
    money, money_ok, when, when_ok, status = SHAPE_TABLE[platform]
    shape: Any = SHAPES[platform]
    orders = _orders(merchant, platform)
    assert len(orders) > 100
    for path, line, rec in orders:
        assert money_ok(rec[money]), (path, line, rec[money])
        assert when_ok(rec[when]), (path, line, rec[when])
        assert rec[status] in shape.order_statuses, (path, line, rec[status])
        assert shape.order_key(rec)


def test_line_items_sit_where_each_platform_puts_them(merchant: Any) -> None:
    tb = _orders(merchant, "taobao")[0][2]
    assert isinstance(tb["tid"], int) and str(tb["tid"]) == tb["tid_str"] and tb["tid"] > 2**53
    assert tb["orders"]["order"][0]["sku_properties_name"].startswith("规格:")
    jd = _orders(merchant, "jd")[0][2]
    assert isinstance(jd["orderId"], str) and isinstance(jd["itemInfoList"][0]["itemTotal"], str)
    assert jd["consigneeInfo"]["mobile"].isdigit()
    pdd = _orders(merchant, "pdd")[0][2]
    assert re.match(r"^\d{6}-\d{15}$", pdd["order_sn"]) and pdd["item_list"][0]["goods_count"] >= 1
    assert pdd["receiver_phone_mask"].endswith("****")
    dy = _orders(merchant, "douyin")[0][2]
    assert isinstance(dy["order_id"], str) and int(dy["order_id"]) > 2**53
    assert dy["sku_order_list"][0]["parent_order_id"] == dy["order_id"]
    assert "****" in dy["mask_post_tel"] and dy["post_addr"]["province"]["name"]


def test_jd_writes_unset_times_as_year_one(merchant: Any) -> None:
    ends = {rec["orderEndTime"] for _, _, rec in _orders(merchant, "jd")}
    assert "0001-01-01 00:00:00" in ends


@pytest.mark.parametrize(
    "platform,field",
    [("taobao", "modified"), ("jd", "modified"), ("pdd", "updated_at"), ("douyin", "update_time")],
)
def test_orders_change_status_and_files_are_in_modified_order(
    merchant: Any, platform: str, field: str
) -> None:
    orders = _orders(merchant, platform)
    stamps = [rec[field] for _, _, rec in orders]
    assert stamps == sorted(stamps)
    shape: Any = SHAPES[platform]
    status_field = SHAPE_TABLE[platform][4]
    seen: dict[str, set[object]] = {}
    for _, _, rec in orders:
        seen.setdefault(shape.order_key(rec), set()).add(rec[status_field])
    assert sum(1 for s in seen.values() if len(s) > 1) > len(seen) // 3


def test_pos_export_is_gbk_with_chinese_headers(merchant: Any) -> None:
    defects = merchant.defect_lines()
    pos = [f for f in merchant.manifest.files if f.platform == "pos"]
    assert pos and all(f.encoding == "gbk" for f in pos)
    rows = 0
    for f in pos:
        for n, raw in merchant.lines(f.path):
            if defects.get((f.path, n)) == "wrong_encoding":
                continue
            text = raw.decode("gbk")
            if n == 1:
                assert text.startswith("门店编码,门店名称,小票号,销售时间")
            rows += 1
    assert rows > 50


def test_truth_holds_many_people_sharing_a_common_name(merchant: Any) -> None:
    persons = [
        orjson.loads(line) for line in (merchant.root / "truth/persons.jsonl").read_bytes().splitlines()
    ]
    by_name: dict[str, set[str]] = {}
    for p in persons:
        by_name.setdefault(p["name"], set()).add(p["person_id"])
    common = {n: ids for n, ids in by_name.items() if n in ("王伟", "李娜", "张敏", "王芳", "刘洋", "张伟")}
    assert sum(len(ids) for ids in common.values()) >= 10
    assert max(len(ids) for ids in common.values()) >= 3
    households = {}
    for p in persons:
        households.setdefault(p["household_id"], []).append(p)
    shared = [h for h in households.values() if len(h) > 1]
    assert shared and all(len({m["person_id"] for m in h}) == len(h) for h in shared)


def test_people_have_valid_id_numbers_mobiles_and_accounts(merchant: Any) -> None:
    persons = [
        orjson.loads(line) for line in (merchant.root / "truth/persons.jsonl").read_bytes().splitlines()
    ]
    for p in persons:
        assert gb11643_check_char(p["id_card_no"][:17]) == p["id_card_no"][17]
        assert all(re.match(r"^1[3-9]\d{9}$", m) for m in p["mobiles"])
    accounts = (merchant.root / "truth/accounts.csv").read_text(encoding="utf-8").splitlines()
    assert accounts[0] == "source,platform,account_id,person_id"
    multi = {}
    for row in accounts[1:]:
        source, _, _, person = row.split(",")
        multi.setdefault(person, set()).add(source)
    assert (
        sum(1 for s in multi.values() if len(s & {"taobao", "jd", "pdd", "douyin"}) >= 2) > len(multi) // 10
    )


def test_products_have_valid_barcodes_and_listings_cover_several_platforms(merchant: Any) -> None:
    products = [orjson.loads(x) for x in (merchant.root / "truth/products.jsonl").read_bytes().splitlines()]
    assert 180 <= len(products) <= 230
    with_barcode = [p for p in products if p["barcode"]]
    assert 0.4 < len(with_barcode) / len(products) < 0.8
    for p in with_barcode:
        assert p["barcode"].startswith("69") and gtin13_check_digit(p["barcode"][:12]) == p["barcode"][12]
    assert any(not p["barcode"] and not p["outer_code"] for p in products)
    listings = (merchant.root / "truth/listings.csv").read_text(encoding="utf-8").splitlines()[1:]
    platforms_per_product: dict[str, set[str]] = {}
    for row in listings:
        platform, _, _, product_id, _ = row.split(",")
        platforms_per_product.setdefault(product_id, set()).add(platform)
    assert sum(1 for s in platforms_per_product.values() if len(s) >= 3) > len(products) // 3


def test_crm_schema_and_members(merchant: Any) -> None:
    with sqlite3.connect(merchant.root / "crm/crm.sqlite") as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(members)")]
        assert cols == [
            "member_id",
            "card_no",
            "name",
            "mobile",
            "id_card_no",
            "gender",
            "birthday",
            "email",
            "province",
            "city",
            "district",
            "address",
            "level",
            "points",
            "register_channel",
            "registered_at",
            "updated_at",
            "wechat_openid",
        ]
        assert con.execute("SELECT count(*) FROM members WHERE mobile IS NULL").fetchone()[0] == 0
        # members who use the brand's mini-program are bound to its openid ('o' + 27 characters)
        bound = con.execute("SELECT wechat_openid FROM members WHERE wechat_openid IS NOT NULL").fetchall()
        assert bound and all(o.startswith("o") and len(o) == 28 for (o,) in bound)
    assert "CREATE TABLE members" in (merchant.root / "crm/schema.sql").read_text(encoding="utf-8")


def test_app_events_and_ads_carry_devices_and_millisecond_times(merchant: Any) -> None:
    defects = merchant.defect_lines()
    kinds = set()
    for f in merchant.manifest.files:
        if f.entity in ("events", "ad_clicks"):
            for n, raw in merchant.lines(f.path):
                if (f.path, n) in defects:
                    continue
                e = orjson.loads(raw)
                assert isinstance(e["ts"], int) and e["ts"] > 1_500_000_000_000
                assert e["device_id"]
                kinds.add(e.get("event_type"))
    assert {"view", "search", "add_to_cart", "purchase"} <= kinds
