"""A refund whose amount is implausible — below zero, above the mapping's order bound, or sent with
a fraction of a fen — or whose time names its own zone is kept and flagged as an order is: its
``quality_flags``, a ``unified.quality_flag`` row with the reason, the run's "flagged and kept".
Before: such refunds were kept without a word (a refund of -5.00 lowered the refunded total unseen)."""

from __future__ import annotations

import pytest
from rawzone import RawZone, rows, taobao_refund, taobao_trade

from ecfusion import warehouse
from ecfusion.config import Workspace


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_an_implausible_refund_is_kept_and_flagged_with_its_reason(
    engine: str, workspace: Workspace, raw: RawZone
) -> None:
    raw.add(
        "taobao",
        "refunds",
        [
            taobao_refund("R1", 1001, "9.90", oid=2001),
            taobao_refund("R2", 1002, "-5.00", oid=2002),
            taobao_refund("R3", 1003, "99999999.99", oid=2003),
            taobao_refund("R4", 1004, "9.999", oid=2004),
            taobao_refund("R5", 1005, "9.90", oid=2005, modified="2026-11-04T07:20:00Z"),
        ],
    )
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced
    assert dict(rows(workspace, "SELECT refund_key, quality_flags FROM unified.refund")) == {
        "taobao:R1": None,
        "taobao:R2": "price_out_of_range",
        "taobao:R3": "price_out_of_range",
        "taobao:R4": "money_precision",
        "taobao:R5": "mixed_timezone",
    }
    said = dict(
        rows(workspace, "SELECT row_key, reason FROM unified.quality_flag WHERE table_name = 'refund'")
    )
    assert said == {
        "taobao:R2": "price_out_of_range: amount -5.00, created_at 2026-11-03 12:00:00",
        "taobao:R3": "price_out_of_range: amount 99999999.99, created_at 2026-11-03 12:00:00",
        "taobao:R4": "money_precision: refund.amount (path refund_fee) = 9.999 has more than two decimals: "
        "kept as 10.00 yuan",
        "taobao:R5": "mixed_timezone: refund.modified_at (path modified) = 2026-11-04T07:20:00Z names its "
        "own zone: read by it, not as the mapping's UTC+8",
    }
    assert {
        r: s.flagged_by_rule.get(r) for r in ("price_out_of_range", "money_precision", "mixed_timezone")
    } == {"price_out_of_range": 2, "money_precision": 1, "mixed_timezone": 1}

    # a later version that corrects the amount leaves the refund unflagged, and its flag row goes
    corrected = taobao_refund("R2", 1002, "5.00", oid=2002, modified="2026-11-05 09:00:00")
    raw.add("taobao", "refunds", [corrected], dt="2026-11-21")
    assert warehouse.run(workspace, engine=engine).balanced
    assert rows(workspace, "SELECT quality_flags FROM unified.refund WHERE refund_key = 'taobao:R2'") == [
        (None,)
    ]
    assert rows(workspace, "SELECT count(*) FROM unified.quality_flag WHERE row_key = 'taobao:R2'") == [(0,)]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_refund_and_an_order_sharing_a_key_keep_each_others_flags(
    engine: str, workspace: Workspace, raw: RawZone
) -> None:
    """Refund 1001 and order 1001 of one shop are both ``taobao:1001``. Writing one's flags again
    replaced every flag row of that key: the other's row went, its flag still in its own row."""
    refund = taobao_refund("1001", 2002, "-5.00", oid=2000)
    raw.add("taobao", "orders", [taobao_trade(1001, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00",
                                              payment="-5.00")])
    raw.add("taobao", "refunds", [refund])
    assert warehouse.run(workspace, engine=engine).balanced
    flags = "SELECT table_name, row_key, rule FROM unified.quality_flag ORDER BY table_name"
    both = [("orders", "taobao:1001", "price_out_of_range"), ("refund", "taobao:1001", "price_out_of_range")]
    assert rows(workspace, flags) == both

    # the refund corrected: its flag goes, the order's stays
    raw.add("taobao", "refunds", [{**refund, "refund_fee": "5.00", "modified": "2026-11-05 09:00:00"}],
            dt="2026-11-21")
    assert warehouse.run(workspace, engine=engine).balanced
    assert rows(workspace, flags) == both[:1]

    # the refund wrong again and the order corrected: the order's flag goes, the refund's stays
    raw.add("taobao", "refunds", [{**refund, "modified": "2026-11-06 09:00:00"}], dt="2026-11-22")
    raw.add("taobao", "orders", [taobao_trade(1001, "WAIT_SELLER_SEND_GOODS", "2026-11-06 10:05:00")],
            dt="2026-11-22")
    assert warehouse.run(workspace, engine=engine).balanced
    assert rows(workspace, flags) == both[1:]
