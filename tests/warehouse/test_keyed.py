"""Keyed entities (products, inventory, events, ad touches, tickets, campaigns, coupons, CRM levels and
points) and POS sales through the generic keyed path (issue 3 Build items 1–2, 4–5)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from keyed_payloads import app_user, coupon, event, land_all, taobao_item
from rawzone import RawZone, taobao_trade
from rawzone import rows as _rows

from ecfusion import warehouse
from ecfusion.config import Workspace

KEYED_TABLES = (
    "listing_feed",
    "inventory_snapshot",
    "behaviour_event",
    "ad_touch",
    "service_ticket",
    "campaign",
    "coupon",
    "member_level",
    "points_entry",
)


def _quarantined(ws: Workspace) -> list[tuple[Any, ...]]:
    return _rows(ws, "SELECT entity, rule, reason FROM unified.quarantine ORDER BY entity, rule, reason")


def test_every_keyed_entity_lands_reconciles_and_quarantines_with_reason(
    workspace: Workspace, raw: RawZone
) -> None:
    land_all(raw)
    s = warehouse.run(workspace)
    assert s.balanced and s.files_pending == 0 and not s.pending_reasons
    rec = {(r.source, r.entity): (r.raw_in, r.unified, r.quarantined) for r in s.reconciliation}
    assert rec[("taobao", "products")] == (2, 1, 1)
    assert rec[("pos", "sales")] == (5, 3, 2)
    assert rec[("app", "events")] == (4, 3, 1)
    q = _quarantined(workspace)
    assert [(e, r) for e, r, _ in q] == [
        ("events", "unknown_status"),
        ("inventory", "missing_required"),
        ("products", "unknown_status"),
        ("sales", "missing_required"),
        ("sales", "test_order"),
        ("tickets", "unknown_status"),
    ]
    reasons = " | ".join(why for _, _, why in q)
    assert "behaviour_event.event_type code share" in reasons and "美妆护肤/不存在" in reasons
    assert "外星人" in reasons and "pos_sale.receipt_no (path 小票号) is empty" in reasons
    assert s.flagged_by_rule == {"mixed_timezone": 1, "price_out_of_range": 1, "bad_ip": 1}
    flags = _rows(workspace, "SELECT table_name, row_key, rule FROM unified.quality_flag ORDER BY ALL")
    assert ("behaviour_event", "E3", "mixed_timezone") in flags
    assert ("behaviour_event", "E2", "bad_ip") in flags
    assert any(t == "order_line" and k.startswith("pos:SH0022:") for t, k, _ in flags)
    assert ("orders", "pos:SH0022", "price_out_of_range") in flags
    counts = {
        t: _rows(
            workspace, f"SELECT count(*), count(*) FILTER (WHERE len(raw_record_ids) = 0) FROM unified.{t}"
        )[0]
        for t in KEYED_TABLES
    }
    assert counts == {
        "listing_feed": (4, 0),
        "inventory_snapshot": (1, 0),
        "behaviour_event": (3, 0),
        "ad_touch": (2, 0),
        "service_ticket": (1, 0),
        "campaign": (1, 0),
        "coupon": (2, 0),
        "member_level": (1, 0),
        "points_entry": (1, 0),
    }
    assert _rows(
        workspace,
        "SELECT ticket_type, complaint_reason, platform_reason, account_key, order_key "
        "FROM unified.service_ticket",
    ) == [("complaint", "price_protection", "价格保护", "taobao:AAH1", "taobao:1")]
    app = (
        "SELECT account_key, device_ids, len(raw_record_ids) FROM unified.member_account "
        "WHERE platform = 'app'"
    )
    assert _rows(workspace, app) == [("app:U1", ["D-1"], 2)]  # E1 and E3; E2 was anonymous, E4 quarantined
    assert _rows(workspace, "SELECT touch_type, cost FROM unified.ad_touch ORDER BY 1") == [
        ("click", Decimal("0.21")),
        ("impression", Decimal("0.05")),
    ]


def test_pos_sales_become_orders_lines_and_card_accounts(workspace: Workspace, raw: RawZone) -> None:
    land_all(raw)
    s = warehouse.run(workspace)
    assert {p.platform: p.orders for p in s.platforms}["pos"] == 2
    orders = _rows(
        workspace,
        "SELECT order_key, account_key, status, goods_amount, pay_amount, quality_flags, "
        "len(raw_record_ids) FROM unified.orders WHERE platform = 'pos' ORDER BY 1",
    )
    assert [tuple(str(v) for v in o) for o in orders] == [
        ("pos:SH0021", "pos:886000007919", "completed", "299.00", "279.10", "None", "2"),
        ("pos:SH0022", "pos:886000007919", "completed", "-20.00", "-20.00", "price_out_of_range", "1"),
    ]
    lines = _rows(
        workspace,
        "SELECT quantity, unit_price, pay_amount, listing_key FROM unified.order_line "
        "WHERE order_key = 'pos:SH0021' ORDER BY listing_key",
    )
    assert [tuple(str(v) for v in r) for r in lines] == [
        ("1", "199.00", "179.10", "pos:QL001-01:QL001-01"),
        ("2", "50.00", "100.00", "pos:QL002-01:QL002-01"),
    ]
    assert _rows(
        workspace, "SELECT count(*) FROM unified.member_account WHERE account_key = 'pos:886000007919'"
    ) == [(1,)]
    # paid at the till, completed as rung up: GMV by payment method and status timelines include stores
    payments = _rows(
        workspace,
        "SELECT p.order_key, p.method, p.amount = o.pay_amount, p.paid_at = o.created_at "
        "FROM unified.payment p JOIN unified.orders o USING (order_key) WHERE p.platform = 'pos' ORDER BY 1",
    )
    assert payments == [("pos:SH0021", "in_store", True, True), ("pos:SH0022", "in_store", True, True)]
    history = _rows(
        workspace,
        "SELECT order_key, seq, from_status, status FROM unified.order_status_history "
        "WHERE order_key LIKE 'pos:%' ORDER BY 1",
    )
    assert history == [("pos:SH0021", 1, None, "completed"), ("pos:SH0022", 1, None, "completed")]


def test_rerun_changes_nothing_and_latest_version_wins_out_of_order(
    workspace: Workspace, raw: RawZone
) -> None:
    land_all(raw)
    first = warehouse.run(workspace)
    dump = "SELECT * FROM unified.{} ORDER BY ALL"
    before = {t: _rows(workspace, dump.format(t)) for t in (*KEYED_TABLES, "orders", "order_line", "listing")}
    again = warehouse.run(workspace)
    assert again.files_processed == 0 and again.snapshot == first.snapshot
    raw.add("marketing", "coupons", [coupon("C1", "used", "2026-11-03 10:00:00")], dt="2026-11-21")
    raw.add(
        "taobao",
        "products",
        [{**taobao_item(555, "2026-10-01 09:00:00"), "title": "旧标题"}],
        dt="2026-11-21",
    )
    raw.add("app", "events", [event("E1")], dt="2026-11-21")  # the same record landed again
    third = warehouse.run(workspace)
    assert third.balanced
    rec = {r.entity: (r.raw_in, r.unified, r.duplicates) for r in third.reconciliation}
    assert rec == {"coupons": (1, 1, 0), "products": (1, 1, 0), "events": (1, 0, 1)}
    assert _rows(
        workspace, "SELECT status, order_key, len(raw_record_ids) FROM unified.coupon WHERE coupon_id = 'C1'"
    ) == [("used", "jd:2900", 2)]
    titles = _rows(workspace, "SELECT DISTINCT title FROM unified.listing_feed WHERE item_id = '555'")
    assert titles == [("青岚面霜 555",)]  # the older version arrived later and lost
    assert _rows(workspace, dump.format("behaviour_event")) == before["behaviour_event"]


def test_listing_takes_feed_fields_and_category_whichever_arrives_first(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [taobao_trade(1, "TRADE_FINISHED", "2026-11-01 10:05:00", lines=2)])
    warehouse.run(workspace)
    raw.add("taobao", "products", [taobao_item(555, "2026-11-01 09:00:00", skus=1)])
    warehouse.run(workspace)
    sql = (
        "SELECT listing_key, title, category_path, category_id, outer_sku_code, len(raw_record_ids) "
        "FROM unified.listing ORDER BY 1"
    )
    expected = [
        ("taobao:555:777", "青岚面霜 555", "美妆护肤 > 面霜", "skincare.cream", "SKU-0", 2),
        ("taobao:556:778", "衬衫 1", None, None, "SKU-1", 1),  # seen only in orders: line fields
    ]
    assert _rows(workspace, sql) == expected
    # a later order version keeps the feed's fields on the listing (ids: the latest line's and the feed's)
    raw.add("taobao", "orders", [taobao_trade(1, "TRADE_FINISHED", "2026-11-05 10:05:00", lines=2)])
    warehouse.run(workspace)
    assert _rows(workspace, sql) == expected
    assert _rows(workspace, "SELECT path FROM unified.category WHERE category_id = 'skincare.cream'") == [
        ("美妆护肤 > 面霜",)
    ]


def test_product_without_skus_is_quarantined_not_silently_dropped(workspace: Workspace, raw: RawZone) -> None:
    no_skus = {**taobao_item(901, "2026-11-01 09:00:00"), "skus": {"sku": []}}
    not_a_list = {**taobao_item(902, "2026-11-01 09:00:00"), "skus": "n/a"}
    raw.add("taobao", "products", [no_skus, not_a_list, taobao_item(555, "2026-11-01 09:00:00")])
    s = warehouse.run(workspace)
    assert s.balanced and [(r.raw_in, r.unified, r.quarantined) for r in s.reconciliation] == [(3, 1, 2)]
    reasons = [why for _, _, why in _quarantined(workspace)]
    assert all("item list (path skus.sku) is empty in taobao.toml" in why for why in reasons), reasons


def test_the_same_bad_product_in_two_files_of_one_run_is_one_quarantine_and_one_duplicate(
    workspace: Workspace, raw: RawZone
) -> None:
    bad = {**taobao_item(901, "2026-11-01 09:00:00"), "skus": {"sku": []}}
    raw.add("taobao", "products", [bad])
    raw.add("taobao", "products", [bad], dt="2026-11-21")
    s = warehouse.run(workspace)
    assert [(r.raw_in, r.unified, r.quarantined, r.duplicates) for r in s.reconciliation] == [(2, 0, 1, 1)]


APP_ACCOUNT = (
    "SELECT account_key, phone_bidx IS NOT NULL, wechat_openid, device_ids, len(raw_record_ids), "
    "first_seen_at < TIMESTAMP '2024-01-01' FROM unified.member_account WHERE platform = 'app'"
)


def test_app_user_table_and_events_make_one_account_whatever_arrives_first(
    workspace: Workspace, raw: RawZone
) -> None:
    # one run with both: the user table gives the bound phone, the events the device
    raw.add("app", "members", [app_user("U1", "13912345678")])
    raw.add("app", "events", [event("E1"), event("E2", ts=1762000900000)])
    warehouse.run(workspace)
    both = _rows(workspace, APP_ACCOUNT)
    assert both == [("app:U1", True, "oU1", ["D-1"], 3, True)]
    # later events alone (newer than the user row) keep the phone; a re-run changes nothing
    raw.add("app", "events", [event("E3", ts=1763000000000) | {"device_id": "D-2"}], dt="2026-11-21")
    warehouse.run(workspace)
    assert _rows(workspace, APP_ACCOUNT) == [("app:U1", True, "oU1", ["D-1", "D-2"], 4, True)]
    warehouse.run(workspace)
    assert _rows(workspace, APP_ACCOUNT) == [("app:U1", True, "oU1", ["D-1", "D-2"], 4, True)]


def test_app_user_table_after_the_events_keeps_their_devices(workspace: Workspace, raw: RawZone) -> None:
    raw.add("app", "events", [event("E1")])
    warehouse.run(workspace)
    assert _rows(workspace, APP_ACCOUNT) == [("app:U1", False, None, ["D-1"], 1, False)]
    raw.add("app", "members", [app_user("U1", "13912345678", updated_ms=1700000000000)], dt="2026-11-21")
    warehouse.run(workspace)
    # the user row is older than the event, yet its phone and openid fill what the events lacked
    assert _rows(workspace, APP_ACCOUNT) == [("app:U1", True, "oU1", ["D-1"], 2, True)]


def test_an_impression_and_a_click_that_share_an_id_are_two_touches(tmp_path: Path) -> None:
    """An ad platform numbering impressions and clicks apart may give both the id 1001. Before, the
    two were one row of unified.ad_touch (both counted unified in the reconciliation), the
    impression's or the click's by the order they arrived in."""
    impression = {"impression_id": "1001", "campaign": "c", "ts": 1762000000000, "cost_fen": 5}
    click = {"click_id": "1001", "impression_id": "999", "campaign": "c", "ts": 1762000001000, "cost_fen": 21}
    landings = [("ad_impressions", impression), ("ad_clicks", click)]
    for order in (landings, landings[::-1], None):  # one run each, in both orders; both in one run
        ws = Workspace.init(tmp_path / f"ws-{order is None}-{order and order[0][0]}")
        raw = RawZone(ws.lake_root)
        for entity, record in order or landings:
            raw.add("ads", entity, [record], source="ads")
            if order is not None:
                assert warehouse.run(ws).balanced
        if order is None:
            assert warehouse.run(ws).balanced
        assert _rows(ws, "SELECT touch_key, touch_type, cost FROM unified.ad_touch ORDER BY 1") == [
            ("click:1001", "click", Decimal("0.21")),
            ("impression:1001", "impression", Decimal("0.05")),
        ]


def test_a_flagged_keyed_row_is_found_in_quality_flag(workspace: Workspace, raw: RawZone) -> None:
    """The run summary counted flags on listings, inventory and ad touches ("flagged and kept") that
    no table held: unified.listing_feed, inventory_snapshot and ad_touch had no quality_flags, and
    unified.quality_flag no row. A user told "price_out_of_range 3" could not find one of them."""
    raw.add("taobao", "products", [taobao_item(556, "2026-11-01 09:00:00", price="-1.00", skus=1)])
    raw.add("erp", "inventory", [{"snapshot_date": "2026-11-08", "warehouse_code": "WH-GZ",
                                  "sku_code": "QL00151", "on_hand": "3", "unit_cost": "-1"}], source="erp")
    raw.add("ads", "ad_impressions", [{"impression_id": "IM9", "ts": 1762000000000, "cost_fen": -5}],
            source="ads")
    s = warehouse.run(workspace)
    assert s.balanced and s.flagged_by_rule == {"price_out_of_range": 3}
    flags = "SELECT table_name, row_key, rule FROM unified.quality_flag ORDER BY ALL"
    assert _rows(workspace, flags) == [
        ("ad_touch", "impression:IM9", "price_out_of_range"),
        ("inventory_snapshot", "WH-GZ:QL00151:2026-11-08", "price_out_of_range"),
        ("listing_feed", "taobao:556:777", "price_out_of_range"),
    ]
    for table in ("ad_touch", "inventory_snapshot", "listing_feed"):
        assert _rows(workspace, f"SELECT quality_flags FROM unified.{table}") == [("price_out_of_range",)]


def test_a_snapshot_sent_again_later_replaces_the_row(workspace: Workspace, raw: RawZone) -> None:
    """The ERP re-sends a day's stock, corrected (the data dictionary: "a re-sent snapshot replaces
    the row"). Before, the row kept whichever of the two had the higher raw record id (a hash): here
    the first, 20 on hand, against the corrected 10."""
    day = {"snapshot_date": "2026-11-08", "warehouse_code": "WH-GZ", "sku_code": "I1"}
    sent, again = datetime(2026, 11, 8, 16, tzinfo=UTC), datetime(2026, 11, 8, 18, tzinfo=UTC)
    on_hand = "SELECT on_hand, pulled_at FROM unified.inventory_snapshot"
    raw.add("erp", "inventory", [day | {"on_hand": "20"}], source="erp", pulled_at=sent)
    assert warehouse.run(workspace).balanced
    raw.add("erp", "inventory", [day | {"on_hand": "10"}], source="erp", dt="2026-11-21", pulled_at=again)
    assert warehouse.run(workspace).balanced
    assert _rows(workspace, on_hand) == [(10, again.replace(tzinfo=None))]
    # a copy of the first pulled before the correction, landed after it (a backfill): the row stays
    raw.add("erp", "inventory", [day | {"on_hand": "20", "in_transit": "0"}], source="erp", dt="2026-11-22",
            pulled_at=sent)
    assert warehouse.run(workspace).balanced
    assert _rows(workspace, on_hand) == [(10, again.replace(tzinfo=None))]
