"""Order versions merge by natural key (standard 5.3.1.2): what a user sees of an order — its status,
its status history, its lines, its receiver — is the same whatever order its versions arrive in and
however they are split over runs, and an incremental build equals a rebuild from the same raw zone.

Each scenario lands its batches one run at a time in one workspace and all of them before a single
run in another; the tables must agree, and be what the scenario says.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from rawzone import Landing, RawZone, incremental_and_rebuild, taobao_trade, token
from rawzone import rows as _rows
from tests_payloads import PDD

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.warehouse import merge

STATUS = "SELECT order_key, status, version_count FROM unified.orders ORDER BY 1"
HISTORY = "SELECT seq, from_status, status FROM unified.order_status_history ORDER BY order_key, seq"


def _same(inc: Workspace, reb: Workspace, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` in the incremental build, asserted equal to the rebuild's."""
    got = _rows(inc, sql)
    assert got == _rows(reb, sql)
    return got


def _whole(inc: Workspace, reb: Workspace, *tables: str) -> None:
    for t in tables:
        _same(inc, reb, f"SELECT * FROM unified.{t} ORDER BY ALL")


# ---------------------------------------------------------------- equal modified times (a tie)


def _tb11(status: str, salt: str) -> Landing:
    """Taobao trade 11 modified 2026-11-02 10:00:00 whatever its status; ``salt`` (a buyer
    message) changes nothing but its raw record id, which is a keyed hash of the content."""
    return ("taobao", "orders", [taobao_trade(11, status, "2026-11-02 10:00:00") | {"buyer_message": salt}])


def _ids_in_order(salts: tuple[str, str]) -> bool:
    paid, shipped = (
        RawZone.record_id("taobao", "orders", _tb11(s, x)[2][0])
        for s, x in zip(("WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS"), salts, strict=True)
    )
    return paid < shipped


# one salt pair where the paid version's raw id sorts first, one where the shipped one's does
SALTS = [next(p for i in range(50) if _ids_in_order(p := (f"a{i}", "b")) is want) for want in (True, False)]


@pytest.mark.parametrize("salts", SALTS, ids=["paid-id-lower", "shipped-id-lower"])
@pytest.mark.parametrize("split", [False, True], ids=["one-run", "two-runs"])
def test_a_same_instant_tie_goes_to_the_status_further_along_and_history_reads_forward(
    tmp_path: Path, salts: tuple[str, str], split: bool
) -> None:
    paid, shipped = _tb11("WAIT_SELLER_SEND_GOODS", salts[0]), _tb11("WAIT_BUYER_CONFIRM_GOODS", salts[1])
    inc, reb = incremental_and_rebuild(tmp_path, [[shipped], [paid]] if split else [[shipped, paid]])
    assert _same(inc, reb, STATUS) == [("taobao:11", "shipped", 2)]
    assert _same(inc, reb, HISTORY) == [(1, None, "paid"), (2, "paid", "shipped")]
    _whole(inc, reb, "orders", "order_line", "order_status_history")


def _tb12(salt: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Taobao trade 12 created and paid in one second: its created and its paid version."""
    paid = taobao_trade(12, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:00:00") | {"buyer_message": salt}
    return paid | {"status": "WAIT_BUYER_PAY", "pay_time": None}, paid


def _created_id_lower(salt: str) -> bool:
    created, paid = _tb12(salt)
    return RawZone.record_id("taobao", "orders", created) < RawZone.record_id("taobao", "orders", paid)


@pytest.mark.parametrize(
    "salt", [next(s for i in range(50) if _created_id_lower(s := f"m{i}") is want) for want in (True, False)]
)
def test_created_and_paid_in_one_second_read_created_then_paid(tmp_path: Path, salt: str) -> None:
    created, paid = _tb12(salt)
    batches = [[("taobao", "orders", [paid])], [("taobao", "orders", [created])]]
    inc, reb = incremental_and_rebuild(tmp_path, batches)
    assert _same(inc, reb, STATUS) == [("taobao:12", "paid", 2)]
    assert _same(inc, reb, HISTORY) == [(1, None, "created"), (2, "created", "paid")]


def _decide(versions: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Winners and history of ``versions`` (order_key, raw_record_id, modified_at, status,
    platform_status, pulled_at) as the run computes them on the exact (windowed) path."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE ver (order_key VARCHAR, raw_record_id VARCHAR, modified_at TIMESTAMP, status VARCHAR,"
        " platform_status VARCHAR, pulled_at TIMESTAMP, raw_file VARCHAR DEFAULT 'f', is_new BOOLEAN DEFAULT"
        " true, has_lines BOOLEAN DEFAULT true, has_contact BOOLEAN DEFAULT true)"
    )
    con.executemany(
        "INSERT INTO ver (order_key, raw_record_id, modified_at, status, platform_status, pulled_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        versions,
    )
    con.execute("CREATE VIEW none AS SELECT * FROM ver WHERE false")
    winners = con.execute(f"SELECT order_key, win_id FROM ({merge.winners_sql('none', 'ver')})").fetchall()
    history = con.execute(
        f"SELECT seq, from_status, status, platform_status FROM ({merge.status_history_sql('none', 'ver')})"
        " ORDER BY seq"
    ).fetchall()
    return winners, history


@pytest.mark.parametrize("ids", [("x1", "x2"), ("x2", "x1")])
def test_same_instant_and_status_the_later_pull_wins_whatever_the_raw_ids(ids: tuple[str, str]) -> None:
    at = datetime(2026, 11, 2, 2)
    earlier = ("jd:1", ids[0], at, "cancelled", "TRADE_CANCELED", datetime(2026, 11, 2, 3))
    later = ("jd:1", ids[1], at, "cancelled", "LOCKED", datetime(2026, 11, 2, 4))
    winners, history = _decide([later, earlier])
    assert winners == [("jd:1", ids[1])]
    assert history == [(1, None, "cancelled", "TRADE_CANCELED"), (2, "cancelled", "cancelled", "LOCKED")]


# ---------------------------------------------------------------- a version without its line list


def _tb31(status: str, modified: str, *, lines: bool = True) -> Landing:
    trade = taobao_trade(31, status, modified, lines=2)
    if not lines:
        del trade["orders"]  # a header-only message: the line list is not there at all
    return ("taobao", "orders", [trade])


LINES = "SELECT order_key, line_key, version_raw_record_id FROM unified.order_line ORDER BY 2"


def test_a_version_without_its_line_list_keeps_the_orders_lines(tmp_path: Path) -> None:
    v1 = _tb31("WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
    v2 = _tb31("WAIT_BUYER_CONFIRM_GOODS", "2026-11-02 10:00:00", lines=False)
    inc, reb = incremental_and_rebuild(tmp_path, [[v1], [v2]])
    assert _same(inc, reb, STATUS) == [("taobao:31", "shipped", 2)]
    v1_id = RawZone.record_id("taobao", "orders", v1[2][0])
    assert _same(inc, reb, LINES) == [
        ("taobao:31", "taobao:31:310", v1_id),
        ("taobao:31", "taobao:31:311", v1_id),
    ]
    assert _same(inc, reb, "SELECT listing_key FROM unified.listing ORDER BY 1") == [
        ("taobao:555:777",),
        ("taobao:556:778",),
    ]
    assert _same(inc, reb, "SELECT count(DISTINCT line_key) FROM unified.discount_allocation") == [(2,)]
    assert _same(inc, reb, "SELECT count(*) FROM unified.quarantine") == [(0,)]
    _whole(inc, reb, "orders", "order_line", "order_status_history", "discount_allocation")


def test_a_header_only_version_arriving_with_or_before_a_later_full_one_changes_no_line(
    tmp_path: Path,
) -> None:
    v1 = _tb31("WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
    v2 = _tb31("WAIT_BUYER_CONFIRM_GOODS", "2026-11-02 10:00:00", lines=False)
    v3 = _tb31("TRADE_FINISHED", "2026-11-03 10:00:00")
    inc, reb = incremental_and_rebuild(tmp_path, [[v1], [v3], [v2]])
    assert _same(inc, reb, STATUS) == [("taobao:31", "completed", 3)]
    v3_id = RawZone.record_id("taobao", "orders", v3[2][0])
    assert {r[2] for r in _same(inc, reb, LINES)} == {v3_id}
    _whole(inc, reb, "orders", "order_line", "order_status_history")


def test_an_order_whose_first_version_names_no_line_is_quarantined(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    RawZone(ws.lake_root).add(
        "taobao", "orders", _tb31("WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00", lines=False)[2]
    )
    summary = warehouse.run(ws)
    assert summary.balanced and summary.quarantine_by_rule == {"missing_required": 1}
    assert _rows(ws, "SELECT count(*) FROM unified.orders") == [(0,)]
    [(rule, reason)] = _rows(ws, "SELECT rule, reason FROM unified.quarantine")
    assert rule == "missing_required" and "names no line item" in reason


def test_a_header_only_version_landed_with_the_orders_first_full_one_is_kept(tmp_path: Path) -> None:
    v1 = _tb31("WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
    v2 = _tb31("WAIT_BUYER_CONFIRM_GOODS", "2026-11-02 10:00:00", lines=False)
    inc, reb = incremental_and_rebuild(tmp_path, [[v2, v1]])
    assert _same(inc, reb, STATUS) == [("taobao:31", "shipped", 2)]
    assert len(_rows(inc, LINES)) == 2


# ---------------------------------------------------------------- the receiver, versions out of order


def _pdd(status: int, updated: str, phone: str | None, address: str = "文三路1号") -> Landing:
    """Pinduoduo order 261101-500; ``phone`` None: the receiver blanked (as once an order ships)."""
    receiver = (
        {
            "receiver_phone": token("phone", phone),
            "receiver_name": token("name", "张三"),
            "receiver_address": token("address", address),
        }
        if phone
        else {"receiver_phone": "", "receiver_name": "", "receiver_address": ""}
    )
    return (
        "pdd",
        "orders",
        [{**PDD, "order_sn": "261101-500", "order_status": status, "updated_at": updated, **receiver}],
    )


V1 = _pdd(1, "2026-11-01 12:00:00", "13800000001")
V2 = _pdd(1, "2026-11-01 15:00:00", "13900000002", "天目山路99号")
V3 = _pdd(2, "2026-11-02 10:00:00", None)
RECEIVER = (
    "SELECT order_key, status, version_count, receiver_phone_bidx, receiver_name_token IS NOT NULL,"
    " receiver_address_token FROM unified.orders"
)


def _bidx(phone: str) -> str:
    return token("phone", phone).split(":")[3]


@pytest.mark.parametrize(
    "batches",
    [[[V3], [V1]], [[V1], [V3]], [[V3, V1]]],
    ids=["blank-first", "contact-first", "one-run"],
)
def test_a_blank_later_version_keeps_the_receiver_of_an_earlier_one_whatever_arrives_first(
    tmp_path: Path, batches: list[list[Landing]]
) -> None:
    inc, reb = incremental_and_rebuild(tmp_path, batches)
    [(key, status, n, bidx, has_name, address)] = _same(inc, reb, RECEIVER)
    assert (key, status, n, bidx, has_name) == ("pdd:261101-500", "shipped", 2, _bidx("13800000001"), True)
    assert address == V1[2][0]["receiver_address"]
    _whole(inc, reb, "orders")


@pytest.mark.parametrize(
    "batches",
    [[[V1, V3], [V2]], [[V3], [V2], [V1]], [[V2], [V1, V3]]],
    ids=["middle-late", "newest-first", "middle-first"],
)
def test_the_receiver_is_the_latest_version_that_shows_one(
    tmp_path: Path, batches: list[list[Landing]]
) -> None:
    inc, reb = incremental_and_rebuild(tmp_path, batches)
    [(_, status, n, bidx, _, address)] = _same(inc, reb, RECEIVER)
    assert (status, n, bidx, address) == ("shipped", 3, _bidx("13900000002"), V2[2][0]["receiver_address"])
    _whole(inc, reb, "orders")
