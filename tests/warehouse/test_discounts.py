"""``unified.discount_allocation``: each line's discount split between the coupons used on its order
(and their campaigns) and the rest, in whole fen, adding up to the line's discount exactly — and
recomputed when the order or the coupon changes, whichever lands first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rawzone import RawZone, taobao_trade
from rawzone import rows as _rows

from ecfusion import warehouse
from ecfusion.config import Workspace

ALLOCATION = "SELECT line_key, source, coupon_id, campaign_id, amount FROM unified.discount_allocation"


def coupon(coupon_id: str, face: float, *, order: str | None = "1", status: str = "used") -> dict[str, Any]:
    return {
        "coupon_id": coupon_id,
        "campaign_id": "CMP-1111",
        "platform": "taobao",
        "type": "满减券",
        "threshold": 100.0,
        "amount": face,
        "account": "AAH1",
        "issued_at": "2026-10-30 12:00:00",
        "used_order": order if status == "used" else None,
        "used_at": "2026-11-01 10:05:00" if status == "used" else None,
        "status": status,
    }


def _trade(**kw: Any) -> dict[str, Any]:
    """Taobao trade 1: two lines of 105.04, each discounted 5.00 by the platform."""
    return taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00", lines=2, **kw)


def _sums(ws: Workspace) -> list[tuple[Any, ...]]:
    """Per line: the allocation's total beside the line's discount."""
    return _rows(
        ws,
        "SELECT l.line_key, l.discount_amount, sum(a.amount) FROM unified.order_line AS l "
        "LEFT JOIN unified.discount_allocation AS a ON a.line_key = l.line_key GROUP BY ALL ORDER BY 1",
    )


def test_a_coupon_explains_part_of_the_lines_discount_and_the_rest_is_other(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [_trade()])
    raw.add("marketing", "coupons", [coupon("C1", 6.01)])
    assert warehouse.run(workspace).balanced
    assert _rows(workspace, ALLOCATION + " ORDER BY line_key, source") == [
        ("taobao:1:10", "coupon", "C1", "CMP-1111", Decimal("3.01")),  # the odd fen: ties go by line key
        ("taobao:1:10", "other", None, None, Decimal("1.99")),
        ("taobao:1:11", "coupon", "C1", "CMP-1111", Decimal("3.00")),
        ("taobao:1:11", "other", None, None, Decimal("2.00")),
    ]
    assert all(d == total for _, d, total in _sums(workspace))


def test_a_coupon_worth_more_than_the_discount_explains_all_of_it_and_no_more(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [_trade()])
    raw.add("marketing", "coupons", [coupon("C1", 30.0), coupon("C2", 5.0)])
    assert warehouse.run(workspace).balanced
    by_coupon = "SELECT coupon_id, sum(amount) FROM unified.discount_allocation GROUP BY 1 ORDER BY 1"
    got = _rows(workspace, by_coupon)
    assert got == [("C1", Decimal("10.00"))]  # C1 takes the whole 10.00; nothing is left for C2
    assert all(d == total for _, d, total in _sums(workspace))


def test_the_allocation_follows_the_order_and_the_coupon_whichever_lands_first(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("marketing", "coupons", [coupon("C1", 4.0)])  # used on an order not landed yet
    warehouse.run(workspace)
    assert _rows(workspace, ALLOCATION) == []

    raw.add("taobao", "orders", [_trade()])
    warehouse.run(workspace)
    coupon_part = "SELECT sum(amount) FROM unified.discount_allocation WHERE source = 'coupon'"
    assert _rows(workspace, coupon_part) == [(Decimal("4.00"),)]

    # a later version of the order: the platform's own discount went (each line now 2.00 off, paid
    # 103.04), so the coupon explains all of it and nothing is left over
    later = _trade()
    later["modified"] = "2026-11-01 11:00:00"
    for line in later["orders"]["order"]:
        line |= {"discount_fee": "2.00", "total_fee": "103.04", "payment": "103.04"}
    raw.add("taobao", "orders", [later], dt="2026-11-21")
    warehouse.run(workspace)
    assert _rows(workspace, "SELECT DISTINCT source FROM unified.discount_allocation") == [("coupon",)]
    assert all(d == total == Decimal("2.00") for _, d, total in _sums(workspace))

    before = _rows(workspace, "SELECT * FROM unified.discount_allocation ORDER BY allocation_key")
    assert warehouse.run(workspace).files_processed == 0
    assert _rows(workspace, "SELECT * FROM unified.discount_allocation ORDER BY allocation_key") == before
