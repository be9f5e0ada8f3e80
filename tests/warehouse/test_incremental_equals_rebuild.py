"""An incremental build equals a rebuild from the same raw zone (standard 5.3.1.2): each scenario lands
its batches one run at a time in one workspace, and all of them before a single run in another, and
the unified tables a user queries must come out the same — and as the scenario says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from keyed_payloads import taobao_item
from rawzone import Landing, RawZone, incremental_and_rebuild, taobao_trade, token
from rawzone import rows as _rows
from tests_payloads import PDD

from ecfusion.config import Workspace

# (platform, entity, payloads): one landing; a batch is the landings of one run

LISTINGS = "SELECT listing_key, title, category_path, len(raw_record_ids) FROM unified.listing ORDER BY 1"
ACCOUNTS = "SELECT account_key, len(raw_record_ids) FROM unified.member_account ORDER BY 1"


def _trade_30(modified: str, lines: int) -> Landing:
    """Taobao trade 30, paid; its lines name SKUs 555:777, 556:778, … (``lines`` of them)."""
    return ("taobao", "orders", [taobao_trade(30, "WAIT_SELLER_SEND_GOODS", modified, lines=lines)])


TWO_LINES = _trade_30("2026-11-01 10:05:00", 2)
ONE_LINE = _trade_30("2026-11-02 10:05:00", 1)  # a later version: the 556:778 line is gone


def _pdd(order_sn: str, updated: str, **fields: Any) -> Landing:
    """A Pinduoduo order of the buyer with phone 13800000001: keyed by that phone's token until the
    order carries an open_address_id."""
    phone = token("phone", "13800000001")
    order = {**PDD, "order_sn": order_sn, "updated_at": updated, "receiver_phone": phone, **fields}
    return ("pdd", "orders", [order])


def _same(inc: Workspace, reb: Workspace, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table`` in the incremental build, asserted equal to the rebuild's."""
    got = _rows(inc, f"SELECT * FROM unified.{table} ORDER BY ALL")
    assert got == _rows(reb, f"SELECT * FROM unified.{table} ORDER BY ALL")
    return got


def test_a_feed_listing_stays_when_the_last_order_line_naming_it_goes(tmp_path: Path) -> None:
    feed = ("taobao", "products", [taobao_item(556, "2026-10-01 00:00:00", category="美妆护肤/面部精华")])
    inc, reb = incremental_and_rebuild(tmp_path, [[feed, TWO_LINES], [ONE_LINE]])
    # 555:777 from its order line; 556:777 and 556:778 from the feed, though no line names them now
    assert _rows(inc, LISTINGS) == [
        ("taobao:555:777", "衬衫 0", None, 1),
        ("taobao:556:777", "青岚面霜 556", "美妆护肤 > 面部精华", 1),
        ("taobao:556:778", "青岚面霜 556", "美妆护肤 > 面部精华", 1),
    ]
    _same(inc, reb, "listing")
    assert _rows(inc, "SELECT listing_key FROM unified.order_line") == [("taobao:555:777",)]


def test_a_listing_only_order_lines_named_goes_with_its_last_line(tmp_path: Path) -> None:
    other = ("taobao", "orders", [taobao_trade(31, "WAIT_SELLER_SEND_GOODS", "2026-11-01 11:00:00", lines=2)])
    inc, reb = incremental_and_rebuild(tmp_path, [[TWO_LINES, other], [ONE_LINE]])
    # 556:778 is still on order 31's line; a SKU nothing names any more is gone from both builds
    assert [k for k, *_ in _same(inc, reb, "listing")] == ["taobao:555:777", "taobao:556:778"]
    inc, reb = incremental_and_rebuild(tmp_path / "alone", [[TWO_LINES], [ONE_LINE]])
    assert [k for k, *_ in _same(inc, reb, "listing")] == ["taobao:555:777"]


def test_a_feed_that_arrives_with_the_change_keeps_its_listing(tmp_path: Path) -> None:
    feed = ("taobao", "products", [taobao_item(556, "2026-11-02 00:00:00", skus=2)])
    inc, reb = incremental_and_rebuild(tmp_path, [[TWO_LINES], [ONE_LINE, feed]])
    keys = [k for k, *_ in _same(inc, reb, "listing")]
    assert keys == ["taobao:555:777", "taobao:556:777", "taobao:556:778"]


def test_an_account_no_order_names_any_more_is_gone(tmp_path: Path) -> None:
    phone_only = _pdd("261101-600", "2026-11-01 12:00:00")
    with_oaid = _pdd("261101-600", "2026-11-02 10:00:00", order_status=2, open_address_id="OAID-123")
    inc, reb = incremental_and_rebuild(tmp_path, [[phone_only], [with_oaid]])
    assert _rows(inc, "SELECT account_key FROM unified.orders") == [("pdd:OAID-123",)]
    # one account, with both versions of the order that names it; no ghost under the phone's key
    assert _rows(inc, ACCOUNTS) == [("pdd:OAID-123", 2)]
    _same(inc, reb, "member_account")


def test_an_account_an_order_left_is_recounted_from_the_orders_that_stay(tmp_path: Path) -> None:
    earlier = _pdd("261101-599", "2026-10-20 09:00:00", created_time="2026-10-20 09:00:00")
    phone_only = _pdd("261101-600", "2026-11-01 12:00:00", receiver_name=token("name", "张三"))
    with_oaid = _pdd("261101-600", "2026-11-02 10:00:00", order_status=2, open_address_id="OAID-123")
    inc, reb = incremental_and_rebuild(tmp_path, [[earlier, phone_only], [with_oaid]])
    phone_key = _rows(inc, "SELECT account_key FROM unified.orders WHERE order_key = 'pdd:261101-599'")[0][0]
    # the phone's account keeps order 599 only: its raw record, its time, no name order 600 showed
    assert _rows(inc, ACCOUNTS) == [("pdd:OAID-123", 2), (phone_key, 1)]
    of_phone = f"FROM unified.member_account WHERE account_key = '{phone_key}'"
    got = _rows(inc, f"SELECT CAST(last_seen_at AS VARCHAR), name_token {of_phone}")
    assert got == [("2026-10-20 01:00:00", None)]  # 09:00 Beijing time
    _same(inc, reb, "member_account")


def test_an_accounts_contact_is_its_latest_orders_when_another_order_has_the_highest_id(
    tmp_path: Path,
) -> None:
    """Order 701's shipped version (receiver blanked, its masked copy kept) lands with the buyer's
    other order 700; a run later, 701's earlier version that showed the receiver. The account's
    candidate row (701 anew) ties its current row on the last time; before, the tie went to the
    highest raw id, here order 700's, so the account kept the shipped version's masked phone beside
    the other version's phone (the simulated merchant of test_arrival_order showed it now and then)."""
    oaid = {"open_address_id": "OAID-9"}
    shown = _pdd("261101-701", "2026-11-01 12:00:00", receiver_phone_mask="138****0001", **oaid)
    shipped = _pdd("261101-701", "2026-11-02 10:00:00", order_status=2, receiver_phone="",
                   receiver_phone_mask="139****9999", **oaid)
    ids = [RawZone.record_id("pdd", "orders", p[2][0]) for p in (shown, shipped)]
    # the buyer's other order, its raw id above both versions'
    others = (_pdd("261101-700", "2026-10-20 09:00:00", goods_amount=30 + n, **oaid) for n in range(1000))
    other = next(o for o in others if RawZone.record_id("pdd", "orders", o[2][0]) > max(ids))
    inc, reb = incremental_and_rebuild(tmp_path, [[shipped, other], [shown]])
    contact = "SELECT phone_bidx IS NOT NULL, phone_masked FROM unified.member_account"
    assert _rows(inc, contact) == _rows(reb, contact) == [(True, "138****0001")]


@pytest.mark.spark
@pytest.mark.slow
def test_on_spark_listings_and_accounts_an_order_left_equal_the_rebuild(tmp_path: Path) -> None:
    """The incremental steps above run on Spark too (transpiled SQL): the same rows as a rebuild."""
    pytest.importorskip("pyspark")
    feed = ("taobao", "products", [taobao_item(556, "2026-10-01 00:00:00")])
    earlier = _pdd("261101-599", "2026-10-20 09:00:00", created_time="2026-10-20 09:00:00")
    phone_only = _pdd("261101-600", "2026-11-01 12:00:00")
    with_oaid = _pdd("261101-600", "2026-11-02 10:00:00", order_status=2, open_address_id="OAID-123")
    first, second = [feed, TWO_LINES, earlier, phone_only], [ONE_LINE, with_oaid]
    inc, reb = incremental_and_rebuild(tmp_path, [first, second], engine="spark")
    listings = [k for k, *_ in _same(inc, reb, "listing")]
    assert listings == ["pdd:88:99", "taobao:555:777", "taobao:556:777", "taobao:556:778"]
    _same(inc, reb, "member_account")
    # the phone's account keeps order 599 only; the taobao buyer's account has trade 30's two versions
    accounts = [(k.split("-")[0], n) for k, n in _rows(inc, ACCOUNTS)]
    assert accounts == [("pdd:OAID", 2), ("pdd:phone", 1), ("taobao:AAH2", 2)]
