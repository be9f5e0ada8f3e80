"""Refunds settled against their orders (warehouse/settlement.py), whatever order the two arrive in.

- Refunds that total more than their order's payment flag the order ``refund_exceeds_payment``
  with the figures; the flag follows every later refund and order version, and goes when it no
  longer holds. Before: no flag at all.
- A Pinduoduo order that ``refund_status`` 4 made ``refunded`` after a refund of part of it takes
  the status its ``order_status`` gives, flagged ``partial_refund`` with the figures. Before: the
  whole order read ``refunded``.
- Refunds of every good that keep the postage are a whole refund: the order stays ``refunded``.
  Before: flagged ``partial_refund`` ("total 38.40 of its payment 44.40").

On DuckDB and Spark: refunds before their order, a later order version with another payment, a
refund closed later, flags cleared, the same records landed again (nothing changes); and (on DuckDB) a
rebuild that gives what the runs gave.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rawzone import Landing, RawZone, incremental_and_rebuild, rows, taobao_refund, taobao_trade, token
from tests_payloads import PDD

from ecfusion import warehouse
from ecfusion.config import Workspace


def pdd_order(
    sn: str, pay: float, order_status: int, refund_status: int, updated: str, postage: float = 0.0
) -> dict[str, Any]:
    return {
        **PDD,
        "order_sn": sn,
        "pay_amount": pay,
        "postage": postage,
        "order_status": order_status,
        "refund_status": refund_status,
        "updated_at": updated,
        "shipping_time": "2026-11-02 09:00:00",
        "receiver_phone": token("phone", sn),
    }


def pdd_refund(n: int, sn: str, fen: int, after_sales_status: int = 10) -> dict[str, Any]:
    return {
        "id": 7000 + n,
        "order_sn": sn,
        "after_sales_status": after_sales_status,
        "after_sale_reason": "不想要了",
        "refund_amount": fen,
        "sku_id": 99,
        "created_time": "2026-11-03 10:00:00",
        "updated_time": "2026-11-04 10:00:00",
    }


def order_flags(ws: Workspace) -> dict[str, tuple[str | None, str | None]]:
    """Per order: its status and its flags."""
    got = rows(ws, "SELECT order_key, status, quality_flags FROM unified.orders")
    return {k: (st, f) for k, st, f in got}


def reasons(ws: Workspace, rule: str) -> dict[str, str]:
    """Per order: the reason of its ``rule`` flag in unified.quality_flag."""
    sql = "SELECT row_key, reason FROM unified.quality_flag WHERE table_name = 'orders' AND rule = ?"
    return dict(rows(ws, sql.replace("?", f"'{rule}'")))


FLAGS_OF_1002 = "SELECT rule FROM unified.quality_flag WHERE row_key = 'taobao:1002' ORDER BY rule"


def trade(tid: int, modified: str, payment: str) -> dict[str, Any]:
    return taobao_trade(tid, "TRADE_FINISHED", modified, payment=payment)


def warehouse_rows(ws: Workspace) -> list[list[tuple[Any, ...]]]:
    return [
        rows(ws, f"SELECT * FROM unified.{t} ORDER BY ALL")
        for t in ("orders", "refund", "quality_flag", "order_status_history", "payment")
    ]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_refunds_above_the_payment_flag_the_order_whichever_lands_first(
    engine: str, workspace: Workspace, raw: RawZone
) -> None:
    # the refunds land first: 60 + 60 refunded, 50 still requested (does not count); no order yet
    raw.add(
        "taobao",
        "refunds",
        [
            taobao_refund("R1", 1001, "60.00"),
            taobao_refund("R2", 1001, "60.00"),
            taobao_refund("R3", 1001, "50.00", status="WAIT_SELLER_AGREE"),
            taobao_refund("R4", 1002, "60.00"),
        ],
        dt="2026-11-04",
    )
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced and "refund_exceeds_payment" not in s.flagged_by_rule
    assert rows(workspace, "SELECT count(*) FROM unified.quality_flag") == [(0,)]

    # the orders land: 1001 paid 100.00; 1002 paid 50.004 (kept as 50.00, flagged money_precision)
    raw.add(
        "taobao",
        "orders",
        [
            trade(1001, "2026-11-05 10:00:00", "100.00"),
            trade(1002, "2026-11-05 10:00:00", "50.004"),
            trade(1003, "2026-11-05 10:00:00", "80.00"),
        ],
        dt="2026-11-05",
    )
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced
    assert order_flags(workspace) == {
        "taobao:1001": ("completed", "refund_exceeds_payment"),
        "taobao:1002": ("completed", "money_precision,refund_exceeds_payment"),
        "taobao:1003": ("completed", None),
    }
    assert reasons(workspace, "refund_exceeds_payment") == {
        "taobao:1001": "refund_exceeds_payment: refunds 120.00 of order taobao:1001 exceed its payment "
        "100.00",
        "taobao:1002": "refund_exceeds_payment: refunds 60.00 of order taobao:1002 exceed its payment 50.00",
    }
    # the order's other flag keeps its row beside the settlement's
    assert rows(workspace, FLAGS_OF_1002) == [("money_precision",), ("refund_exceeds_payment",)]
    assert s.flagged_by_rule["refund_exceeds_payment"] == 2
    assert s.quality_flags["refund_exceeds_payment"] == 2

    # the same records landed again: duplicates, and nothing in the warehouse changes
    before = warehouse_rows(workspace)
    raw.add("taobao", "orders", [trade(1001, "2026-11-05 10:00:00", "100.00")], dt="2026-11-06")
    raw.add("taobao", "refunds", [taobao_refund("R1", 1001, "60.00")], dt="2026-11-06")
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced and sum(r.duplicates for r in s.reconciliation) == 2
    assert warehouse_rows(workspace) == before

    # a later version of 1001 with a larger payment clears its flag; one of 1002's refund closes
    raw.add("taobao", "orders", [trade(1001, "2026-11-07 10:00:00", "150.00")], dt="2026-11-07")
    raw.add(
        "taobao",
        "refunds",
        [taobao_refund("R4", 1002, "60.00", status="CLOSED", modified="2026-11-07 11:00:00")],
        dt="2026-11-07",
    )
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced and "refund_exceeds_payment" not in s.flagged_by_rule
    assert order_flags(workspace) == {
        "taobao:1001": ("completed", None),
        "taobao:1002": ("completed", "money_precision"),
        "taobao:1003": ("completed", None),
    }
    assert reasons(workspace, "refund_exceeds_payment") == {}
    assert rows(workspace, FLAGS_OF_1002) == [("money_precision",)]

    # a later version lowering 1001's payment to 110.00 flags it again (its requested 50.00 still does
    # not count); a refund of 50.00 of 1003, paid 80.00, flags nothing
    raw.add("taobao", "orders", [trade(1001, "2026-11-08 10:00:00", "110.00")], dt="2026-11-08")
    raw.add("taobao", "refunds", [taobao_refund("R5", 1003, "50.00")], dt="2026-11-08")
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced and s.flagged_by_rule["refund_exceeds_payment"] == 1
    assert reasons(workspace, "refund_exceeds_payment") == {
        "taobao:1001": "refund_exceeds_payment: refunds 120.00 of order taobao:1001 exceed its payment "
        "110.00",
    }
    # the summary of the warehouse's flags counts what is flagged now
    assert s.quality_flags["refund_exceeds_payment"] == 1


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_pdd_order_refunded_in_part_keeps_the_status_its_fulfilment_gives(
    engine: str, workspace: Workspace, raw: RawZone
) -> None:
    # 500: shipped (order_status 2), refund_status 4, paid 100.00, no refund in the warehouse yet
    raw.add("pdd", "orders", [pdd_order("261101-500", 100.0, 2, 4, "2026-11-04 12:00:00")], dt="2026-11-04")
    # 501's refund of 10.00 lands before its order
    raw.add("pdd", "refunds", [pdd_refund(1, "261101-501", 1000)], dt="2026-11-04")
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced
    # no refund of 500 is known: whole or part cannot be told, it stays refunded, unflagged, and the
    # summary says so
    assert order_flags(workspace) == {"pdd:261101-500": ("refunded", None)}
    assert [n for n in s.notes if "cannot be told" in n] == [
        "orders refunded by a status that also follows a refund of part of an order, with no refund of "
        "theirs in the warehouse: 1 of pdd; whole or part cannot be told yet, so they stay refunded until "
        "their refunds land (the run that brings them settles them)"
    ]
    gmv = {f.platform: f.gmv for f in s.platforms}["pdd"]

    raw.add("pdd", "refunds", [pdd_refund(2, "261101-500", 3000)], dt="2026-11-05")
    raw.add("pdd", "orders", [pdd_order("261101-501", 50.0, 3, 4, "2026-11-05 12:00:00")], dt="2026-11-05")
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced
    assert not [n for n in s.notes if "cannot be told" in n]
    assert order_flags(workspace) == {
        "pdd:261101-500": ("shipped", "partial_refund"),
        "pdd:261101-501": ("delivered", "partial_refund"),
    }
    assert reasons(workspace, "partial_refund") == {
        "pdd:261101-500": "partial_refund: refund_status 4 says refunded, but the refunds of order "
        "pdd:261101-500 total 30.00 of its payment 100.00: status shipped, as order_status 2 says",
        "pdd:261101-501": "partial_refund: refund_status 4 says refunded, but the refunds of order "
        "pdd:261101-501 total 10.00 of its payment 50.00: status delivered, as order_status 3 says",
    }
    assert s.flagged_by_rule["partial_refund"] == 2
    # what the platform said stays: the codes, and the history of its versions
    said = "SELECT platform_status FROM unified.orders WHERE order_key = 'pdd:261101-500'"
    assert rows(workspace, said) == [("2/4",)]
    assert rows(
        workspace, "SELECT status FROM unified.order_status_history WHERE order_key = 'pdd:261101-500'"
    ) == [("refunded",)]
    # GMV counts a paid order refunded or not: settling its status moves none
    pdd = {f.platform: f for f in s.platforms}["pdd"]
    assert pdd.gmv == gmv + 50 and pdd.refund_amount == 40

    # the same records again change nothing
    before = warehouse_rows(workspace)
    raw.add("pdd", "refunds", [pdd_refund(2, "261101-500", 3000)], dt="2026-11-06")
    raw.add("pdd", "orders", [pdd_order("261101-500", 100.0, 2, 4, "2026-11-04 12:00:00")], dt="2026-11-06")
    assert warehouse.run(workspace, engine=engine).balanced
    assert warehouse_rows(workspace) == before

    # the rest of 500 refunded (30 + 70 = its payment): refunded in whole, the flag goes
    raw.add("pdd", "refunds", [pdd_refund(3, "261101-500", 7000)], dt="2026-11-07")
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced
    assert order_flags(workspace)["pdd:261101-500"] == ("refunded", None)
    assert set(reasons(workspace, "partial_refund")) == {"pdd:261101-501"}

    # a later version of 501 (received, refund closed: refund_status 1) is its own status again
    raw.add("pdd", "orders", [pdd_order("261101-501", 50.0, 3, 1, "2026-11-08 12:00:00")], dt="2026-11-08")
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced and "partial_refund" not in s.flagged_by_rule
    assert order_flags(workspace)["pdd:261101-501"] == ("delivered", None)
    assert reasons(workspace, "partial_refund") == {}


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_pdd_refund_of_every_good_that_keeps_the_postage_is_a_whole_refund(
    engine: str, workspace: Workspace, raw: RawZone
) -> None:
    # each paid 44.40 with postage 6.00, received (order_status 3), refund_status 4
    paid = [pdd_order(f"261101-60{i}", 44.4, 3, 4, "2026-11-05 12:00:00", postage=6.0) for i in range(4)]
    raw.add("pdd", "orders", paid, dt="2026-11-05")
    refunds = [
        pdd_refund(1, "261101-600", 3840),  # every good: the payment less the postage
        pdd_refund(2, "261101-601", 2000),  # part of the goods
        pdd_refund(3, "261101-602", 4440),  # the postage too
        pdd_refund(4, "261101-603", 4000),  # more than the goods, less than the payment
        pdd_refund(5, "261101-603", 1000),  # … and more than the payment with this one
    ]
    raw.add("pdd", "refunds", refunds, dt="2026-11-06")
    s = warehouse.run(workspace, engine=engine)
    assert s.balanced
    assert order_flags(workspace) == {
        "pdd:261101-600": ("refunded", None),
        "pdd:261101-601": ("delivered", "partial_refund"),
        "pdd:261101-602": ("refunded", None),
        "pdd:261101-603": ("refunded", "refund_exceeds_payment"),
    }
    assert reasons(workspace, "partial_refund") == {
        "pdd:261101-601": "partial_refund: refund_status 4 says refunded, but the refunds of order "
        "pdd:261101-601 total 20.00 of its payment 44.40 less postage 6.00: status delivered, as "
        "order_status 3 says",
    }
    # an excess is still of the whole payment, postage included
    assert reasons(workspace, "refund_exceeds_payment") == {
        "pdd:261101-603": "refund_exceeds_payment: refunds 50.00 of order pdd:261101-603 exceed its "
        "payment 44.40",
    }
    assert (s.flagged_by_rule["partial_refund"], s.flagged_by_rule["refund_exceeds_payment"]) == (1, 1)


def test_settled_orders_are_the_same_built_run_by_run_or_in_one_rebuild(tmp_path: Path) -> None:
    batches: list[list[Landing]] = [
        [
            ("pdd", "refunds", [pdd_refund(1, "261101-700", 2000)]),
            ("taobao", "refunds", [taobao_refund("R1", 1701, "90.00")]),
        ],
        [
            ("pdd", "orders", [pdd_order("261101-700", 80.0, 2, 4, "2026-11-04 12:00:00")]),
            ("taobao", "orders", [trade(1701, "2026-11-05 10:00:00", "100.00")]),
        ],
        [
            ("pdd", "orders", [pdd_order("261101-700", 80.0, 3, 4, "2026-11-06 12:00:00")]),
            ("taobao", "orders", [trade(1701, "2026-11-06 10:00:00", "80.00")]),
        ],
    ]
    inc, reb = incremental_and_rebuild(tmp_path, batches)
    assert order_flags(inc) == {
        "pdd:261101-700": ("delivered", "partial_refund"),
        "taobao:1701": ("completed", "refund_exceeds_payment"),
    }
    assert warehouse_rows(inc)[:3] == warehouse_rows(reb)[:3]  # orders, refunds, flags
