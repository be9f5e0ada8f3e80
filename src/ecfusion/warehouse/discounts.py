"""Discount allocation 优惠分摊 (standard 6.1.2 d): each order line's discount, split by where it came
from — the coupons used on the order (and through them their campaigns) and the rest.

An order line carries the discount it got (``unified.order_line.discount_amount``: the platform's
own line share, or the order's discount spread over its lines). A coupon the marketing system
records as used on the order explains part of that discount: its face value, capped so an order's
coupons never explain more than its discount (coupons in ``coupon_id`` order take what is left). A
coupon's part is spread over the order's lines in proportion to their discounts, in whole fen by the
largest remainder (ties by line key), so it adds up to the coupon's part exactly. What no coupon
explains is the line's ``other`` row (platform promotions, seller discounts, price adjustments), so
a line's rows add up to its discount. One caveat: with several coupons on one order, a line's
rounded shares can exceed its discount by a fen per extra coupon; its ``other`` row is then 0 and
its rows add up to that much more (an order with one coupon never does).

Rows follow the order: a run recomputes every order whose lines or coupons it touched, from the
state its writes leave (``_Run.after_writes``), and replaces that order's rows.
"""

from __future__ import annotations

from ecfusion.warehouse.merge import orders_named_sql


def _fen(amount: str) -> str:
    return f"CAST(round({amount} * 100) AS BIGINT)"


def affected_orders_sql(line_writes: list[tuple[str, str]], coupon_writes: list[tuple[str, str]]) -> str:
    """Order keys whose allocation a run must recompute: the orders of the lines it writes (new and
    replaced: ``(relation, replaced order keys)``) and the orders its coupon writes name, before and
    after (``(relation, replaced coupon ids)``)."""
    return orders_named_sql(line_writes, coupon_writes, "cur_coupon", "coupon_id")


def allocation_sql(affected: str, lines: str, coupons: str) -> str:
    """The ``unified.discount_allocation`` rows of the orders in ``affected``, from the order lines
    ``lines`` and the coupons ``coupons`` (both as the run leaves them)."""
    mine = f"order_key IN (SELECT order_key FROM {affected})"
    line_rows = (
        f"SELECT line_key, order_key, platform, business_date, version_raw_record_id, "
        f"{_fen('discount_amount')} AS d\n    FROM {lines} WHERE {mine} AND discount_amount > 0"
    )
    totals = "SELECT order_key, sum(d) AS total FROM dl GROUP BY order_key"
    faces = (
        f"SELECT coupon_id, campaign_id, order_key, raw_record_ids, {_fen('face_value')} AS face\n"
        f"    FROM {coupons} WHERE {mine} AND status = 'used' AND face_value > 0"
    )
    # each coupon takes its face value out of what the order's earlier coupons left
    capped = (
        "SELECT c.*, GREATEST(LEAST(c.face, t.total - (c.upto - c.face)), 0) AS part, t.total\n"
        "    FROM (SELECT *, sum(face) OVER (PARTITION BY order_key ORDER BY coupon_id\n"
        "          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto FROM cf) AS c\n"
        "    JOIN dt AS t ON t.order_key = c.order_key"
    )
    shares = (
        "SELECT s.*, s.part - sum(s.base) OVER (PARTITION BY order_key, coupon_id) AS short,\n"
        "      row_number() OVER (PARTITION BY order_key, coupon_id ORDER BY rem DESC, line_key) AS rk\n"
        "    FROM (SELECT l.line_key, l.order_key, l.platform, l.business_date, l.version_raw_record_id,\n"
        "            l.d, c.coupon_id, c.campaign_id, c.raw_record_ids AS coupon_ids, c.part,\n"
        "            c.part * l.d // c.total AS base, (c.part * l.d) % c.total AS rem\n"
        "          FROM dl AS l JOIN cp AS c ON c.order_key = l.order_key WHERE c.part > 0) AS s"
    )
    coupon_rows = (
        "SELECT line_key, order_key, platform, business_date, version_raw_record_id, coupon_id,\n"
        "    campaign_id, coupon_ids, base + CASE WHEN rk <= short THEN 1 ELSE 0 END AS fen FROM cs"
    )
    other_rows = (
        "SELECT l.line_key, l.order_key, l.platform, l.business_date, l.version_raw_record_id,\n"
        "    CAST(NULL AS VARCHAR) AS coupon_id, CAST(NULL AS VARCHAR) AS campaign_id,\n"
        "    CAST([] AS VARCHAR[]) AS coupon_ids, GREATEST(l.d - COALESCE(u.fen, 0), 0) AS fen\n"
        "    FROM dl AS l LEFT JOIN (SELECT line_key, sum(fen) AS fen FROM cr GROUP BY line_key) AS u\n"
        "      ON u.line_key = l.line_key"
    )
    return (
        f"WITH dl AS ({line_rows}),\n  dt AS ({totals}),\n  cf AS ({faces}),\n  cp AS ({capped}),\n"
        f"  cs AS ({shares}),\n  cr AS ({coupon_rows})\n"
        "SELECT line_key || ':' || COALESCE(coupon_id, 'other') AS allocation_key, line_key, order_key,\n"
        "  platform, CASE WHEN coupon_id IS NULL THEN 'other' ELSE 'coupon' END AS source, coupon_id,\n"
        "  campaign_id, CAST(fen * 0.01 AS DECIMAL(18,2)) AS amount, business_date,\n"
        "  list_sort(list_distinct(list_concat([version_raw_record_id], coupon_ids))) AS raw_record_ids\n"
        f"FROM (SELECT * FROM cr UNION ALL SELECT * FROM ({other_rows}) AS o) AS a\n"
        "WHERE fen > 0"
    )
