"""An order's amounts mean the same on every platform (issue 3: "one money type"; the data
dictionary's definitions of goods_amount, discount_amount, line_amount and pay_amount).

Each platform sends other totals: Taobao's line ``total_fee`` is after the line's discount, Douyin's
``order_amount`` is after the order's promotions and with postage, JD and Pinduoduo give the order's
discount alone. Unified, on every platform of a clean simulated merchant: an order's goods are the
sum of its lines' amounts before discounts, its discount the sum of its lines' discounts, a line's
amount is quantity × unit price and less its discount is what was paid for it, and a paid order's
goods − discount + freight is what the buyer paid.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_order_and_line_amounts_agree_on_every_platform(tmp_path: Path) -> None:
    from ecfusion.lake import RawLake
    from ecfusion.lake.manifest import ingest_manifest
    from ecfusion.simulate.defects import DefectRates
    from ecfusion.simulate.generate import generate

    sources = tmp_path / "sources"
    generate(sources, persons=600, days=30, seed=5, defects=DefectRates.scaled_to(0.0))
    ws = Workspace.init(tmp_path / "ws")
    ingest_manifest(RawLake.open(ws), sources)
    assert warehouse.run(ws).balanced

    con = warehouse.connect(ws)
    cur = con.execute(IDENTITIES)
    names = [d[0] for d in cur.description]
    found = {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in cur.fetchall()}
    con.close()
    assert set(found) == PLATFORMS
    for platform, row in found.items():
        # enough orders, some of them discounted, for the identities to say something
        assert row.pop("orders") >= 20 and row.pop("discounted") >= 5, (platform, row)
        assert row == dict.fromkeys(row, 0), platform
