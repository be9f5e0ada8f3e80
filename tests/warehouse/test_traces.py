"""Parcel tracking pushes (kuaidi100 subscription pushes) → ``unified.tracking_event``: every push
repeats the parcel's history, stored once; statuses are unified or quarantined, carriers unified or
flagged; the events join the orders' parcels on the tracking number."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from rawzone import RawZone
from rawzone import rows as _rows
from tests_payloads import DOUYIN, JD

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.simulate.traces import tracking_push
from ecfusion.standardize import sqlgen

JOURNEY = [  # (Beijing time, kuaidi100 status, context, area), oldest first
    ("2026-11-02 10:00:00", "揽收", "【杭州市】中通快递 杭州西湖网点 已揽收", "浙江省,杭州市"),
    ("2026-11-02 22:10:00", "在途", "快件已发往 上海转运中心", "浙江省,杭州市"),
    ("2026-11-03 08:30:00", "派件", "【上海市】快件正在派送中", "上海市"),
    ("2026-11-03 12:05:00", "签收", "已签收，签收人：本人", "上海市"),
]
EVENTS = (
    "SELECT tracking_no, carrier_code, event_at, event, platform_event, location FROM unified.tracking_event"
)


def push(
    events: list[tuple[str, str, str, str]], *, nu: str = "ZT1", com: str = "zhongtong"
) -> dict[str, Any]:
    """A kuaidi100 push ``param``: the parcel's whole history so far, newest event first."""
    return tracking_push(nu, com, events)


def _land(raw: RawZone, pushes: list[dict[str, Any]], dt: str = "2026-11-20") -> None:
    raw.add("kuaidi100", "traces", pushes, source="logistics", dt=dt)


def test_each_push_repeats_the_history_which_is_stored_once(workspace: Workspace, raw: RawZone) -> None:
    _land(raw, [push(JOURNEY[:2])])
    s = warehouse.run(workspace)
    assert s.balanced
    assert _rows(workspace, EVENTS + " ORDER BY event_at") == [
        ("ZT1", "ZTO", datetime(2026, 11, 2, 2, 0), "collected", "揽收", "浙江省,杭州市"),
        ("ZT1", "ZTO", datetime(2026, 11, 2, 14, 10), "in_transit", "在途", "浙江省,杭州市"),
    ]
    _land(raw, [push(JOURNEY[:3]), push(JOURNEY)], dt="2026-11-21")  # two later pushes, same history
    s = warehouse.run(workspace)
    assert s.balanced and [(r.raw_in, r.unified) for r in s.reconciliation] == [(2, 2)]
    got = _rows(workspace, "SELECT event, business_date FROM unified.tracking_event ORDER BY event_at")
    assert got == [
        ("collected", date(2026, 11, 2)),
        ("in_transit", date(2026, 11, 2)),
        ("out_for_delivery", date(2026, 11, 3)),
        ("delivered", date(2026, 11, 3)),
    ]
    before = _rows(workspace, "SELECT * FROM unified.tracking_event ORDER BY event_key")
    _land(raw, [push(JOURNEY)], dt="2026-11-22")  # the same push delivered again
    again = warehouse.run(workspace)
    assert [(r.unified, r.duplicates) for r in again.reconciliation] == [(0, 1)]
    assert _rows(workspace, "SELECT * FROM unified.tracking_event ORDER BY event_key") == before


def test_a_push_that_corrects_the_carrier_keeps_each_event_once(workspace: Workspace, raw: RawZone) -> None:
    """The first push named the wrong carrier; the next names the right one and repeats the
    history. Before, the event key held the carrier: 'collected' was stored twice, once per carrier,
    and the parcel had two carriers."""
    first = datetime(2026, 11, 2, 3, tzinfo=UTC)
    raw.add("kuaidi100", "traces", [push(JOURNEY[:1], com="yuantong")], source="logistics", pulled_at=first)
    assert warehouse.run(workspace).balanced
    raw.add("kuaidi100", "traces", [push(JOURNEY[:2])], source="logistics", dt="2026-11-21",
            pulled_at=first + timedelta(hours=12))
    assert warehouse.run(workspace).balanced
    assert _rows(workspace, "SELECT event, carrier_code FROM unified.tracking_event ORDER BY event_at") == [
        ("collected", "ZTO"),
        ("in_transit", "ZTO"),
    ]


def test_events_join_the_parcel_the_order_names(workspace: Workspace, raw: RawZone) -> None:
    shipped = 1793584800  # 2026-11-02 10:00 Beijing time
    parcel = {"tracking_no": "ZT1", "company": "zhongtong", "ship_time": shipped}
    raw.add("douyin", "orders", [DOUYIN | {"logistics_info": [parcel]}])
    _land(raw, [push(JOURNEY)])
    s = warehouse.run(workspace)
    assert s.balanced
    # the run summary: signed for 26 h 5 min after the order shipped it
    [douyin] = s.platforms
    assert (douyin.parcels, douyin.delivered) == (1, 1)
    assert douyin.median_delivery_hours is not None and abs(douyin.median_delivery_hours - 26.0833) < 0.001
    delivered = _rows(
        workspace,
        "SELECT s.order_key, e.event_at FROM unified.shipment AS s "
        "JOIN unified.tracking_event AS e\n"
        "  ON e.tracking_no = s.tracking_no AND e.carrier_code = s.carrier_code "
        "WHERE e.event = 'delivered'",
    )
    assert delivered == [("douyin:6920000000000000123", datetime(2026, 11, 3, 4, 5))]


def test_an_unknown_status_quarantines_the_push_and_an_unknown_carrier_flags_it(
    workspace: Workspace, raw: RawZone
) -> None:
    odd = [*JOURNEY[:1], ("2026-11-02 12:00:00", "飞行中", "航空转运", "浙江省,杭州市")]
    pushes = [push(odd, nu="ZT2"), push(JOURNEY[:2], nu="XF1", com="xinfengwuliu"), push([], nu="E1")]
    _land(raw, [*pushes, '{"lastResult": {"nu": "ZT3", "data": ['])  # the last one cut off: not JSON
    s = warehouse.run(workspace)
    assert s.balanced
    assert s.quarantine_by_rule == {"malformed_payload": 1, "missing_required": 1, "unknown_status": 1}
    reasons = dict(_rows(workspace, "SELECT rule, reason FROM unified.quarantine"))
    assert "飞行中" in reasons["unknown_status"] and "kuaidi100.toml" in reasons["unknown_status"]
    assert "lastResult.data" in reasons["missing_required"]  # an empty item list is not a bad payload
    assert reasons["malformed_payload"] == sqlgen.MALFORMED_REASON
    # the unknown carrier's events are kept as given, without a code, and flagged
    kept = "SELECT DISTINCT tracking_no, carrier, carrier_code, quality_flags FROM unified.tracking_event"
    assert _rows(workspace, kept) == [("XF1", "xinfengwuliu", None, "unknown_carrier")]
    flagged = _rows(workspace, "SELECT count(*) FROM unified.quality_flag WHERE rule = 'unknown_carrier'")
    assert flagged == [(2,)]


def test_where_the_platform_gives_no_ship_time_delivery_is_timed_from_the_first_event(
    workspace: Workspace, raw: RawZone
) -> None:
    shipped = JD | {"orderState": "WAIT_GOODS_RECEIVE_CONFIRM", "waybill": "JDV1", "logisticsId": "2087"}
    raw.add("jd", "orders", [shipped])
    _land(raw, [push(JOURNEY, nu="JDV1", com="jd")])
    [jd] = warehouse.run(workspace).platforms
    assert (jd.parcels, jd.delivered) == (1, 1)
    # collected 2026-11-02 10:00, signed for 2026-11-03 12:05 (Beijing time)
    assert jd.median_delivery_hours is not None and abs(jd.median_delivery_hours - 26.0833) < 0.001
