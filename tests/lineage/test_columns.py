"""Column lineage traced from the mapping library (issue 3 Build item 1: the data dictionary's
source fields; ARCHITECTURE principle 4): what a data team reads in the dictionary is what the
pipeline's SQL reads, per platform, and it follows a mapping when the mapping changes."""

from __future__ import annotations

import json

from ecfusion.lineage.columns import (
    ColumnLineage,
    data_dictionary_json,
    dictionary_sources,
    library_lineage,
    trace,
)
from ecfusion.model.tables import TABLES
from ecfusion.standardize.mapping import MAPPINGS_DIR, load_mappings, parse_mapping


def _texts(lin: ColumnLineage, table: str, column: str, platform: str) -> list[str]:
    return [s.text() for s in lin.of(table, column) if s.platform == platform]


def test_every_field_a_mapping_fills_lands_in_some_unified_column() -> None:
    """A mapped field no unified column reads would be collected and dropped without a trace."""
    reached = library_lineage().fields_reached()
    unread = [
        (platform, target, name)
        for platform, m in load_mappings().items()
        for target, rule in m.rules().items()
        for name in rule.fields
        if (platform, target, name) not in reached
    ]
    assert unread == []


def test_order_columns_name_each_platforms_own_fields_and_conversions() -> None:
    lin = library_lineage()
    assert _texts(lin, "unified.orders", "pay_amount", "douyin") == ["`pay_amount` (fen)"]
    assert _texts(lin, "unified.orders", "pay_amount", "taobao") == ["`payment`"]
    assert _texts(lin, "unified.orders", "created_at", "douyin") == ["`create_time` (unix s)"]
    assert _texts(lin, "unified.orders", "created_at", "jd") == ["`orderStartTime` (UTC+8 text)"]
    assert _texts(lin, "unified.orders", "status", "taobao") == ["`status` (map order_status)"]
    # Douyin's status is overridden by main_status: both codes make the platform status
    assert set(_texts(lin, "unified.orders", "platform_status", "douyin")) == {
        "`order_status` (as sent)",
        "`main_status` (overrides, map main_status)",
    }
    # a path inside the line list names the list; the first non-empty of two paths shows both
    assert _texts(lin, "unified.order_line", "quantity", "taobao") == ["`orders.order[].num`"]
    assert _texts(lin, "unified.orders", "platform_order_id", "taobao") == ["`tid_str` \\| `tid`"]
    assert {s.text() for s in lin.of("unified.orders", "platform")} == {"envelope platform"}


def test_keys_that_only_pick_a_row_are_not_sources() -> None:
    """JD spreads the order's discount over its lines by amount: the line's discount is made of the
    order discount and the line amounts, not of the order id the window partitions by."""
    lin = library_lineage()
    jd = _texts(lin, "unified.order_line", "discount_amount", "jd")
    assert "`sellerDiscount` (default '0')" in jd
    assert "`itemInfoList[].jdPrice`" in jd
    assert not any("orderId" in t for t in jd)


def test_derived_tables_trace_through_to_the_platform_fields() -> None:
    lin = library_lineage()
    assert _texts(lin, "unified.payment", "amount", "pdd") == ["`pay_amount`"]
    assert "`buyer_open_uid`" in _texts(lin, "unified.member_account", "platform_account_id", "taobao")
    assert _texts(lin, "unified.member_account", "card_no", "crm") == ["`card_no`"]
    assert _texts(lin, "unified.spu", "category_id", "erp") == ["`category` (map unified_category)"]
    assert _texts(lin, "unified.orders", "shop_name", "pos") == ["`门店名称`"]
    # every accepted version of a platform order; a store sale keeps no versions
    assert _texts(lin, "unified.order_version", "modified_at", "douyin") == ["`update_time` (unix s)"]
    platforms = {s.platform for s in lin.of("unified.order_version", "status")}
    assert platforms == {"douyin", "jd", "pdd", "taobao"}


def test_a_changed_mapping_changes_the_traced_source() -> None:
    text = (MAPPINGS_DIR / "taobao.toml").read_text(encoding="utf-8")
    assert 'paid_at = { path = "pay_time"' in text
    changed = parse_mapping(text.replace('paid_at = { path = "pay_time"', 'paid_at = { path = "paid"'),
                            "taobao.toml (test)")
    lin = trace({"taobao": changed})
    assert _texts(lin, "unified.orders", "paid_at", "taobao") == ["`paid` (UTC+8 text)"]
    assert _texts(lin, "unified.payment", "paid_at", "taobao") == ["`paid` (UTC+8 text)"]


def test_the_dictionary_cell_groups_sources_by_platform() -> None:
    cells = dictionary_sources(library_lineage())
    assert cells[("unified.shipment", "tracking_no")] == (
        "douyin: `logistics_info[].tracking_no` · jd: `waybill` · pdd: `tracking_number` · "
        "taobao: `orders.order[].invoice_no`"
    )
    assert cells[("unified.orders", "order_key")].startswith("envelope platform · douyin: `order_id`")
    columns = {(t.qualified, c.name) for t in TABLES for c in t.columns}
    assert set(cells) <= columns


def test_no_hand_written_source_is_hidden_by_a_traced_one() -> None:
    """A column's hand-written ``sources`` is for what no mapping fills; one a traced cell replaces
    would be a second, drifting truth (the shared envelope columns say the same as the trace)."""
    cells = dictionary_sources(library_lineage())
    hidden = [
        (t.qualified, c.name, c.sources)
        for t in TABLES
        for c in t.columns
        if c.sources and (t.qualified, c.name) in cells and not c.sources.startswith("envelope ")
    ]
    assert hidden == []


def test_the_dictionary_as_json_carries_each_source_as_data() -> None:
    """What a catalog loads (``ecfusion model dictionary --format json``): every table and column,
    each traced source an object, the hand-written note where no mapping fills the column."""
    data = json.loads(json.dumps(data_dictionary_json(), ensure_ascii=False))
    tables = {t["name"]: t for t in data["tables"]}
    assert set(tables) == {t.qualified for t in TABLES}
    orders = {c["name"]: c for c in tables["unified.orders"]["columns"]}
    assert {"platform": "douyin", "target": "orders", "field": "pay_amount", "paths": ["pay_amount"],
            "how": "fen"} in orders["pay_amount"]["sources"]
    assert orders["pay_amount"]["zh"] == "实付金额" and orders["pay_amount"]["unit"] == "CNY yuan"
    held_source = next(c for c in tables["unified.quarantine"]["columns"] if c["name"] == "source")
    assert held_source["sources"] == [] and held_source["note"] == "envelope source"
    assert "delivered" in data["vocabularies"]["tracking_event"]
    assert any(c["code"] == "ZTO" for c in data["vocabularies"]["carrier"])
