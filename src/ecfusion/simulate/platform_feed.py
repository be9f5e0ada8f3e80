"""One online platform's files: listings, order versions, refunds, service tickets and coupons.

Serves issue 2 (Build §3) and 采集层 (T/JNBDA 0003-2025 clause 4.3.4): writes
``platforms/<p>/{products,orders,refunds}/part-NNNNN.jsonl`` in the platform's native shape, plus
this platform's share of ``service/tickets``, ``marketing/coupons`` and ``logistics/traces``
(the tracking service's pushes for its shipped parcels, ``simulate/traces.py``). Orders stream day by day;
order files roll to a new part every ``PART_LINES`` lines and stay in modified-time order.
"""

from __future__ import annotations

import random
from typing import Any

from ecfusion.simulate.calendar import TimeText, beijing_seconds
from ecfusion.simulate.defects import DefectRates, JsonlSink
from ecfusion.simulate.orders import PART_REFUNDED, REFUNDED_CLOSED, OrderDraft, OrderFactory, stream_orders
from ecfusion.simulate.platforms import SHAPES
from ecfusion.simulate.traces import pushes
from ecfusion.simulate.world import TaskResult, World

PART_LINES = 1_000_000
PLATFORM_INDEX = {"taobao": 0, "jd": 1, "pdd": 2, "douyin": 3}
TICKET_SHARE = 0.02
TICKET_TYPES = (
    ("咨询", ("物流进度", "使用方法", "成分咨询", "保质期", "发票")),
    ("售后", ("漏液破损", "少发漏发", "退换货", "过敏")),
    ("投诉", ("发货慢", "客服态度", "假货质疑", "价格保护")),
)
_BYTE_KINDS = ("exact_duplicate", "malformed_json", "wrong_encoding")


def run_platform(world: World, platform: str) -> TaskResult:
    shape: Any = SHAPES[platform]
    r, npr = world.rngs(f"orders-{platform}")
    defect_rng = random.Random(f"ecfusion-{world.seed}-defects-{platform}")
    tt = TimeText()
    result = TaskResult(f"orders-{platform}")
    base = f"platforms/{platform}"

    products = JsonlSink(
        world.out,
        source=platform,
        platform=platform,
        entity="products",
        rng=defect_rng,
        rates=DefectRates.none(),
    )
    products.open(f"{base}/products/part-00000.jsonl")
    listed_at = beijing_seconds(world.start) - 90 * 86400
    for skus in world.catalog.items(platform):
        products.write(shape.render_item(skus, tt, listed_at), skus[0].item_id)
    products.close()

    orders = JsonlSink(
        world.out,
        source=platform,
        platform=platform,
        entity="orders",
        rng=defect_rng,
        rates=world.rates,
        mutators=shape.mutators,
        byte_kinds=_BYTE_KINDS,
    )
    refunds = JsonlSink(
        world.out,
        source=platform,
        platform=platform,
        entity="refunds",
        rng=defect_rng,
        rates=world.rates,
        byte_kinds=("exact_duplicate", "malformed_json"),
    )
    idx = PLATFORM_INDEX[platform]

    def side_file(source: str, name: str, entity: str) -> JsonlSink:
        """This platform's part of a merchant-wide source (clean: its defects are in the orders)."""
        sink = JsonlSink(
            world.out, source=source, platform=name, entity=entity, rng=defect_rng, rates=DefectRates.none()
        )
        sink.open(f"{source}/{entity}/part-{idx:05d}.jsonl")
        return sink

    tickets = side_file("service", "service", "tickets")
    coupons = side_file("marketing", "marketing", "coupons")
    traces = side_file("logistics", "kuaidi100", "traces")
    trace_rng = random.Random(f"ecfusion-{world.seed}-traces-{platform}")  # never the orders' draws
    part = 0
    orders.open(f"{base}/orders/part-{part:05d}.jsonl")
    refunds.open(f"{base}/refunds/part-00000.jsonl")

    factory = OrderFactory(
        platform, world.population.accounts[platform], world.catalog.listings[platform], r, npr
    )
    hidden = shape.hidden_stages
    pending_ticks = 0
    for draft, step, modified in stream_orders(
        factory, world.start, world.orders_per_day[platform], world.end_bj
    ):
        if step == 0:
            shape.assign_ids(draft, r)
            pending_ticks += 1
            _side_records(world, platform, draft, r, tt, tickets, coupons)
            for push in pushes(draft, trace_rng, tt, world.end_bj):
                traces.write(push, draft.tracking_no)
            if pending_ticks >= 2000:
                world.tick(pending_ticks)
                pending_ticks = 0
        stage = draft.versions[step][1]
        if stage in hidden:
            continue
        if orders.lines_in_file >= PART_LINES:
            part += 1
            orders.open(f"{base}/orders/part-{part:05d}.jsonl")
        orders.write(shape.render_order(draft, step, modified, tt), draft.order_id)
        if stage in (REFUNDED_CLOSED, PART_REFUNDED):
            for refund in draft.refunds:
                refunds.write(shape.render_refund(draft, refund, tt), draft.order_id)
    world.tick(pending_ticks)
    for sink in (orders, refunds, tickets, coupons, traces):
        sink.close()
        result.files += sink.files
        result.defects += sink.defects
    result.files += products.files
    return result


def _side_records(
    world: World,
    platform: str,
    draft: OrderDraft,
    r: random.Random,
    tt: TimeText,
    tickets: JsonlSink,
    coupons: JsonlSink,
) -> None:
    if draft.coupon_id:
        # an order never paid gives its coupon back
        coupons.write(_coupon(platform, draft, r, tt, used=bool(draft.pay_time)), draft.coupon_id)
        if r.random() < 0.3:  # coupons handed out that were never used
            unused = OrderDraft(
                draft.seq,
                "",
                draft.account,
                [],
                draft.created,
                0,
                0,
                0,
                0,
                0,
                [],
                coupon_id=draft.coupon_id + "U",
                campaign_id=draft.campaign_id,
            )
            coupons.write(_coupon(platform, unused, r, tt, used=False), unused.coupon_id)
    if r.random() < TICKET_SHARE:
        tickets.write(_ticket(platform, draft, r, tt), draft.order_id)


def _coupon(
    platform: str, draft: OrderDraft, r: random.Random, tt: TimeText, *, used: bool
) -> dict[str, Any]:
    amount = draft.discount_fen or r.choice((500, 1000, 2000))
    threshold = 0 if amount <= 500 else amount * 10
    return {
        "coupon_id": draft.coupon_id,
        "campaign_id": draft.campaign_id or "CMP-DAILY",
        "platform": platform,
        "type": "无门槛券" if threshold == 0 else "满减券",
        "threshold": threshold / 100,
        "amount": amount / 100,
        "account": draft.account.account_id,
        "issued_at": tt(max(0, draft.created - r.randrange(3600, 7 * 86400))),
        "used_order": draft.order_id if used else None,
        "used_at": tt(draft.pay_time) if used and draft.pay_time else None,
        "status": "used" if used else "unused",
    }


def _ticket(platform: str, draft: OrderDraft, r: random.Random, tt: TimeText) -> dict[str, Any]:
    kind, reasons = r.choice(TICKET_TYPES)
    created = draft.created + r.randrange(3600, 10 * 86400)
    acc = draft.account
    person = _service_phone(acc, r)
    return {
        "ticket_id": f"TK{PLATFORM_INDEX[platform]}{draft.seq:010d}",
        "platform": platform,
        "buyer_id": acc.account_id,
        "buyer_nick": acc.nickname,
        "order_id": draft.order_id,
        "phone": person,
        "type": kind,
        "reason": r.choice(reasons),
        "created_at": tt(created),
        "closed_at": tt(created + r.randrange(600, 3 * 86400)),
        "satisfaction": r.choice((5, 5, 5, 4, 4, 3, 1)),
    }


def _service_phone(acc: Any, r: random.Random) -> str:
    """The phone a buyer leaves with customer service: usually the account's, sometimes blank."""
    return acc.phone if r.random() < 0.85 else ""
