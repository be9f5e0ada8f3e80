"""An order the platform split into others (JD's PARENT_TRADE_CANCELED) is ``split``: its parts are
orders of their own that carry its lines and payment, so the parent counts in no GMV and has no
payment. Before, the paid parent was ``cancelled`` (closed before payment, by the vocabulary) and
the run summary's GMV counted the money twice: once on the parent, once on its parts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rawzone import RawZone, rows
from tests_payloads import JD

from ecfusion import warehouse
from ecfusion.config import Workspace

PAID_AT = "2026-11-01 10:01:00"


def jd_order(order_id: str, state: str, modified: str, skus: list[str], payment: str) -> dict[str, Any]:
    items = [{"skuId": s, "wareId": "2001", "skuName": "T恤", "jdPrice": "50.00", "itemTotal": "1"}
             for s in skus]
    return {**JD, "orderId": order_id, "orderState": state, "modified": modified,
            "paymentConfirmTime": PAID_AT, "orderPayment": payment, "orderTotalPrice": payment,
            "itemInfoList": items}


def _jd_gmv(ws: Workspace) -> tuple[int, Decimal]:
    summary = warehouse.run(ws)
    assert summary.balanced
    [jd] = [p for p in summary.platforms if p.platform == "jd"]
    return jd.orders, jd.gmv


def test_a_split_order_counts_once_in_gmv_and_payments(workspace: Workspace, raw: RawZone) -> None:
    raw.add("jd", "orders", [
        jd_order("300100300", "WAIT_SELLER_STOCK_OUT", PAID_AT, ["1001", "1002"], "100.00"),
    ])
    assert _jd_gmv(workspace) == (1, Decimal("100.00"))  # paid, awaiting dispatch: its own money

    # JD splits it over two warehouses: the parent closes, two child orders carry a line each
    raw.add("jd", "orders", [
        jd_order("300100300", "PARENT_TRADE_CANCELED", "2026-11-01 12:00:00", ["1001", "1002"], "100.00"),
        jd_order("300100301", "WAIT_SELLER_STOCK_OUT", "2026-11-01 12:00:00", ["1001"], "50.00"),
        jd_order("300100302", "WAIT_SELLER_STOCK_OUT", "2026-11-01 12:00:00", ["1002"], "50.00"),
    ])
    assert _jd_gmv(workspace) == (3, Decimal("100.00"))  # not 200.00: the parent's money is its parts'
    orders = "SELECT order_key, status, paid_at IS NOT NULL FROM unified.orders ORDER BY 1"
    assert rows(workspace, orders) == [
        ("jd:300100300", "split", True),
        ("jd:300100301", "paid", True),
        ("jd:300100302", "paid", True),
    ]
    assert rows(workspace, "SELECT order_key, amount FROM unified.payment ORDER BY 1") == [
        ("jd:300100301", Decimal("50.00")),
        ("jd:300100302", Decimal("50.00")),
    ]
    history = ("SELECT from_status, status FROM unified.order_status_history "
               "WHERE order_key = 'jd:300100300' ORDER BY seq")
    assert rows(workspace, history) == [(None, "paid"), ("paid", "split")]
