"""An order's amounts and times mean the same on every platform (issue 3: "one money type, one
clock"; the data dictionary's definitions of the amounts and of paid_at … finished_at).

Each platform sends other totals: Taobao's line ``total_fee`` is after the line's discount, Douyin's
``order_amount`` is after the order's promotions and with postage, JD and Pinduoduo give the order's
discount alone. Unified, on every platform of a clean simulated merchant: an order's goods are the
sum of its lines' amounts before discounts, its discount the sum of its lines' discounts, a line's
amount is quantity × unit price and less its discount is what was paid for it, and a paid order's
goods − discount + freight is what the buyer paid.

Times: an order is paid after it was placed, shipped after it was paid, finished after it shipped;
an order still open (placed, paid, held, shipped) has not finished, and a completed one has
(Pinduoduo's ``confirm_time`` is when the deal was made, not when it ended; Douyin's end is
``finish_time``).

Refunds: one reason text is one unified reason on every platform (七天无理由退换货 was
changed_mind on Taobao and 'other' elsewhere); a refund is of one line, of no more than the line
paid, and an order refunded in full has a refund on each line (the simulated platforms sent one
refund of the whole payment, postage included, on one line of the order). Two limits of what the
platforms say: JD and Pinduoduo lines carry no pay share, so the line's is the order's discount
spread by largest remainder, and a platform's own split of a refunded line may round the other way
by a fen; and Pinduoduo's order-level refund_status says "refunded" after a refund of part of the
order too, so only Taobao's and Douyin's refunded orders are refunded on every line.

Closed orders: cancelled is closed before payment, refunded closed after it (the vocabulary's
definitions). JD closes both with TRADE_CANCELED; a paid one is refunded, and has its refunds.

Shops: an order whose platform names its shop (Taobao's seller_nick, Douyin's shop_name, a POS
store) carries the name.
"""

from __future__ import annotations

import pytest
from rawzone import landed_merchant, rows

from ecfusion import warehouse
from ecfusion.config import Workspace

PLATFORMS = {"taobao", "jd", "pdd", "douyin", "pos"}

# per platform: orders, then how many break each identity (all must be 0)
IDENTITIES = """
WITH l AS (
    SELECT order_key, sum(line_amount) AS goods, sum(discount_amount) AS discount,
        count(*) FILTER (WHERE line_amount IS DISTINCT FROM quantity * unit_price) AS not_qty_price,
        count(*) FILTER (WHERE line_amount - discount_amount IS DISTINCT FROM pay_amount) AS not_paid_net
    FROM unified.order_line GROUP BY order_key
)
SELECT o.platform, count(*) AS orders,
    count(*) FILTER (WHERE l.order_key IS NULL) AS without_lines,
    count(*) FILTER (WHERE o.goods_amount IS DISTINCT FROM l.goods) AS goods_not_lines,
    count(*) FILTER (WHERE o.discount_amount IS DISTINCT FROM l.discount) AS discount_not_lines,
    sum(l.not_qty_price) AS line_not_qty_price,
    sum(l.not_paid_net) AS line_pay_not_net,
    count(*) FILTER (WHERE o.paid_at IS NOT NULL AND o.pay_amount
        IS DISTINCT FROM o.goods_amount - o.discount_amount + o.freight_amount) AS paid_not_net,
    count(*) FILTER (WHERE o.discount_amount > 0) AS discounted
FROM unified.orders AS o LEFT JOIN l USING (order_key)
GROUP BY o.platform ORDER BY o.platform
"""


# per platform: how many break each rule of the order's times (all must be 0), and how many orders
# finished, for the rules to say something
TIMES = """
SELECT platform,
    count(*) FILTER (WHERE paid_at < created_at) AS paid_before_placed,
    count(*) FILTER (WHERE shipped_at < paid_at) AS shipped_before_paid,
    count(*) FILTER (WHERE finished_at < COALESCE(shipped_at, paid_at)) AS finished_before_shipped,
    count(*) FILTER (WHERE status IN ('created', 'paid', 'on_hold', 'partially_shipped', 'shipped')
        AND finished_at IS NOT NULL) AS open_but_finished,
    count(*) FILTER (WHERE status = 'completed' AND finished_at IS NULL) AS completed_not_finished,
    count(finished_at) AS finished
FROM unified.orders GROUP BY platform ORDER BY platform
"""

# per platform: closed orders whose status contradicts their payment (both must be 0), and how many
# orders were refunded
CLOSED = """
SELECT platform,
    count(*) FILTER (WHERE status = 'cancelled' AND paid_at IS NOT NULL) AS cancelled_after_payment,
    count(*) FILTER (WHERE status = 'refunded' AND paid_at IS NULL) AS refunded_unpaid,
    count(*) FILTER (WHERE status = 'refunded') AS refunded
FROM unified.orders GROUP BY platform ORDER BY platform
"""


@pytest.fixture(scope="module")
def merchant(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A clean simulated merchant (no injected defect), standardized."""
    ws = landed_merchant(tmp_path_factory.mktemp("merchant"), persons=600, days=30, seed=5, defects=0.0)
    assert warehouse.run(ws).balanced
    return ws


def _by_platform(ws: Workspace, sql: str) -> dict[str, dict[str, int]]:
    con = warehouse.connect(ws)
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    found = {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in cur.fetchall()}
    con.close()
    assert set(found) == PLATFORMS
    return found


@pytest.mark.slow
def test_order_and_line_amounts_agree_on_every_platform(merchant: Workspace) -> None:
    for platform, row in _by_platform(merchant, IDENTITIES).items():
        # enough orders, some of them discounted, for the identities to say something
        assert row.pop("orders") >= 20 and row.pop("discounted") >= 5, (platform, row)
        assert row == dict.fromkeys(row, 0), platform


@pytest.mark.slow
def test_order_times_agree_on_every_platform(merchant: Workspace) -> None:
    for platform, row in _by_platform(merchant, TIMES).items():
        assert row.pop("finished") >= 10, (platform, row)
        assert row == dict.fromkeys(row, 0), platform


@pytest.mark.slow
def test_a_refund_reason_text_is_one_unified_reason_on_every_platform(merchant: Workspace) -> None:
    by_text = rows(
        merchant,
        "SELECT platform_reason, list(DISTINCT platform || ' ' || reason ORDER BY 1) FROM unified.refund "
        "GROUP BY ALL HAVING count(DISTINCT reason) > 1",
    )
    [(refunds, platforms, other)] = rows(
        merchant,
        "SELECT count(*), count(DISTINCT platform), count(*) FILTER (WHERE reason = 'other') "
        "FROM unified.refund",
    )
    assert refunds >= 15 and platforms == 4
    assert by_text == []
    assert other == 0  # every text the simulated platforms send is in their maps


@pytest.mark.slow
def test_a_refund_is_of_one_line_and_no_more_than_it_paid(merchant: Workspace) -> None:
    [(refunds, on_a_line, over)] = rows(
        merchant,
        "SELECT count(*), count(l.line_key), count(*) FILTER (WHERE r.amount > l.pay_amount +\n"
        "  CASE WHEN r.platform IN ('jd', 'pdd') THEN 0.01 ELSE 0 END)\n"
        "FROM unified.refund AS r LEFT JOIN unified.order_line AS l ON l.line_key = r.line_key",
    )
    assert refunds >= 15 and (on_a_line, over) == (refunds, 0)
    unrefunded = rows(
        merchant,
        "SELECT l.line_key FROM unified.orders AS o JOIN unified.order_line AS l USING (order_key)\n"
        "WHERE o.status = 'refunded' AND o.platform IN ('taobao', 'douyin')\n"
        "  AND l.line_key NOT IN (SELECT line_key FROM unified.refund)",
    )
    assert unrefunded == []


@pytest.mark.slow
def test_an_order_carries_its_shop_name_where_its_platform_names_the_shop(merchant: Workspace) -> None:
    named = dict(rows(
        merchant,
        "SELECT platform, count(*) FILTER (WHERE shop_name IS NULL) FROM unified.orders "
        "WHERE platform IN ('taobao', 'douyin', 'pos') GROUP BY ALL",
    ))
    assert named == {"taobao": 0, "douyin": 0, "pos": 0}


@pytest.mark.slow
def test_an_order_closed_after_payment_is_refunded_never_cancelled(merchant: Workspace) -> None:
    found = _by_platform(merchant, CLOSED)
    assert sum(row.pop("refunded") for row in found.values()) >= 10  # for the rule to say something
    assert found == dict.fromkeys(PLATFORMS, {"cancelled_after_payment": 0, "refunded_unpaid": 0})
    [(closed, without_refund)] = rows(
        merchant,
        "SELECT count(*), count(*) FILTER (WHERE order_key NOT IN (SELECT order_key FROM unified.refund))\n"
        "FROM unified.orders WHERE platform_status = 'TRADE_CANCELED' AND status = 'refunded'",
    )
    assert closed >= 3 and without_refund == 0
