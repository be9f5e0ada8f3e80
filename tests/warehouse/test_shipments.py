"""Parcels (``unified.shipment``) read from the order payloads: one per waybill of the order's
latest version, carriers unified through the carrier list, unknown carriers flagged, never lost."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from rawzone import RawZone, taobao_trade
from rawzone import rows as _rows
from tests_payloads import DOUYIN, JD, PDD

from ecfusion import warehouse
from ecfusion.config import Workspace

SHIPMENTS = (
    "SELECT tracking_no, carrier, carrier_code, shipped_at, business_date, quality_flags "
    "FROM unified.shipment ORDER BY shipment_key"
)


def _douyin(version: int, parcels: list[tuple[str, str]]) -> dict[str, Any]:
    """The DOUYIN order at version ``version`` (one hour apart), shipped in ``parcels`` (tracking
    number, Douyin carrier code)."""
    return DOUYIN | {
        "update_time": DOUYIN["update_time"] + 3600 * version,
        "ship_time": 1761958800,
        "logistics_info": [
            {"tracking_no": no, "company": code, "company_name": "", "ship_time": 1761958800}
            for no, code in parcels
        ],
    }


def test_lines_of_one_parcel_are_one_shipment_and_carriers_are_unified(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add(
        "taobao",
        "orders",
        [
            taobao_trade(
                1, "SELLER_CONSIGNED_PART", "2026-11-02 10:05:00", lines=3, waybills=["ZT1", "ZT1", ""]
            )
        ],
    )
    s = warehouse.run(workspace)
    assert s.balanced
    # Taobao names the waybill on each line it ships: two lines in one parcel, one line not shipped
    assert _rows(workspace, SHIPMENTS) == [
        ("ZT1", "中通快递", "ZTO", datetime(2026, 11, 2, 2, 0), date(2026, 11, 2), None)
    ]
    assert _rows(workspace, "SELECT shipment_key, order_key FROM unified.shipment") == [
        ("taobao:1:ZT1", "taobao:1")
    ]
    names = dict(_rows(workspace, "SELECT carrier_code, name FROM unified.carrier"))
    assert names["ZTO"] == "中通快递" and names["SF"] == "顺丰速运"


def test_each_platform_names_its_carrier_its_own_way(workspace: Workspace, raw: RawZone) -> None:
    raw.add(
        "jd",
        "orders",
        [JD | {"orderState": "WAIT_GOODS_RECEIVE_CONFIRM", "waybill": "JDV1", "logisticsId": "2087"}],
    )
    raw.add(
        "pdd",
        "orders",
        [
            PDD
            | {
                "order_status": 2,
                "tracking_number": "YT9",
                "logistics_id": 85,
                "shipping_time": "2026-11-02 08:00:00",
            }
        ],
    )
    raw.add("douyin", "orders", [_douyin(0, [("SF1", "shunfeng")])])
    assert warehouse.run(workspace).balanced
    got = _rows(
        workspace,
        "SELECT platform, tracking_no, carrier, carrier_code, shipped_at FROM unified.shipment ORDER BY 1",
    )
    assert got == [
        ("douyin", "SF1", "shunfeng", "SF", datetime(2025, 11, 1, 1, 0)),
        ("jd", "JDV1", "2087", "JD", None),  # JD gives no ship time, on the parcel or the order
        ("pdd", "YT9", "85", "YTO", datetime(2026, 11, 2, 0, 0)),
    ]


def test_an_unknown_carrier_is_kept_and_flagged_and_the_order_is_not_quarantined(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("pdd", "orders", [PDD | {"order_status": 2, "tracking_number": "X1", "logistics_id": 99999}])
    s = warehouse.run(workspace)
    assert s.balanced and s.quarantine_by_rule == {}
    assert _rows(workspace, "SELECT count(*) FROM unified.orders") == [(1,)]
    assert _rows(workspace, "SELECT carrier, carrier_code, quality_flags FROM unified.shipment") == [
        ("99999", None, "unknown_carrier")
    ]
    [(table, key, rule, reason)] = _rows(
        workspace,
        "SELECT table_name, row_key, rule, reason FROM unified.quality_flag WHERE table_name = 'shipment'",
    )
    assert (table, key, rule) == ("shipment", "pdd:261101-123:X1", "unknown_carrier")
    assert "99999" in reason
    assert s.quality_flags.get("unknown_carrier") == 1
    assert s.flagged_by_rule == {"unknown_carrier": 1}  # the summary's "flagged and kept" line


def test_a_later_version_replaces_the_parcels_and_a_late_older_one_does_not(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("douyin", "orders", [_douyin(2, [("A", "zhongtong"), ("B", "no-such-co")])])
    warehouse.run(workspace)
    assert [r[0] for r in _rows(workspace, SHIPMENTS)] == ["A", "B"]
    assert _rows(workspace, "SELECT count(*) FROM unified.quality_flag WHERE table_name = 'shipment'") == [
        (1,)
    ]

    raw.add("douyin", "orders", [_douyin(1, [("OLD", "zhongtong")])])  # an older version, arriving late
    warehouse.run(workspace)
    assert [r[0] for r in _rows(workspace, SHIPMENTS)] == ["A", "B"]
    assert _rows(workspace, "SELECT count(*) FROM unified.quality_flag WHERE table_name = 'shipment'") == [
        (1,)
    ]

    # B was lost and re-sent as C by a known carrier: the latest version's parcels replace the old ones
    raw.add("douyin", "orders", [_douyin(3, [("A", "zhongtong"), ("C", "yunda")])])
    warehouse.run(workspace)
    after = _rows(workspace, SHIPMENTS)
    assert [(r[0], r[2], r[5]) for r in after] == [("A", "ZTO", None), ("C", "YUNDA", None)]
    assert _rows(workspace, "SELECT count(*) FROM unified.quality_flag WHERE table_name = 'shipment'") == [
        (0,)
    ]
    [(versions,)] = _rows(workspace, "SELECT version_count FROM unified.orders")
    assert versions == 3

    again = warehouse.run(workspace)  # nothing new: nothing changes
    assert again.files_processed == 0 and _rows(workspace, SHIPMENTS) == after


def test_an_order_not_yet_shipped_has_no_parcel(workspace: Workspace, raw: RawZone) -> None:
    raw.add("jd", "orders", [JD | {"waybill": "", "logisticsId": ""}])
    raw.add("douyin", "orders", [_douyin(0, [])])
    raw.add("taobao", "orders", [taobao_trade(5, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    assert warehouse.run(workspace).balanced
    assert _rows(workspace, "SELECT count(*) FROM unified.orders") == [(3,)]
    assert _rows(workspace, "SELECT count(*) FROM unified.shipment") == [(0,)]
