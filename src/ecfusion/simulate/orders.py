"""Platform-neutral order life cycles, streamed day by day in modified-time order.

Serves issue 2 (Build §3, orders and "Time") for 采集层 (T/JNBDA 0003-2025 clause 4.3.4):
an order is drawn once (buyer, lines, money, receiver, life cycle) as an ``OrderDraft``; its
life cycle is a list of ``(modified time, stage)`` versions — paid → shipped → finished, with
cancellations, refunds before shipping, returns and partial refunds after receipt. Each platform
module renders a draft at a stage in its own native shape. ``stream_orders`` keeps only the
orders whose versions are still to come (a few days' worth), so memory does not grow with the
number of orders, and emits versions sorted by modified time.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from ecfusion.simulate.calendar import HOUR_WEIGHTS, beijing_seconds, promotion_on
from ecfusion.simulate.catalog import Listing
from ecfusion.simulate.people import Account

# Stages every platform renders (each maps them to its own codes).
CREATED, PAID, SHIPPED, FINISHED, CANCELLED, REFUNDING, REFUNDED_CLOSED, PART_REFUNDED = (
    "created",
    "paid",
    "shipped",
    "finished",
    "cancelled",
    "refunding",
    "refunded_closed",
    "part_refunded",
)

LOGISTICS = (
    ("ZTO", "中通快递"),
    ("YTO", "圆通速递"),
    ("STO", "申通快递"),
    ("YUNDA", "韵达快递"),
    ("SF", "顺丰速运"),
    ("JD", "京东物流"),
    ("EMS", "EMS"),
)
REFUND_REASONS = (
    "七天无理由退换货",
    "不想要了",
    "拍错/多拍",
    "过敏/皮肤不适",
    "质量问题",
    "发错货",
    "商品破损/漏液",
    "与描述不符",
    "快递一直未送到",
)


@dataclass(slots=True)
class Line:
    listing: Listing
    qty: int
    pay_fen: int  # what the buyer paid for this line after its share of discounts
    discount_fen: int


@dataclass(slots=True)
class Refund:
    """One line's refund: a whole order's refund is one per line, as the platforms keep them
    (Taobao per sub-order, JD per SKU service, Douyin per SKU order, Pinduoduo per goods)."""

    refund_id: str
    line_index: int
    applied: int  # Beijing seconds
    done: int
    amount_fen: int  # what the buyer paid for the line
    reason: str
    after_ship: bool
    returned_goods: bool
    whole: bool  # one of the refunds of every line of the order


@dataclass(slots=True)
class OrderDraft:
    seq: int
    order_id: str
    account: Account
    lines: list[Line]
    created: int
    pay_time: int
    post_fee: int
    discount_fen: int
    total_fen: int  # goods value at list price
    payment_fen: int  # paid by the buyer incl. postage
    versions: list[tuple[int, str]]
    ship_time: int = 0
    finish_time: int = 0
    logistics: tuple[str, str] = ("", "")
    tracking_no: str = ""
    refunds: list[Refund] = field(default_factory=list)
    coupon_id: str = ""
    campaign_id: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class OrderFactory:
    """Draws ``OrderDraft``s for one platform from its accounts and listings."""

    def __init__(
        self,
        platform: str,
        accounts: list[Account],
        listings: list[Listing],
        rng: random.Random,
        np_rng: np.random.Generator,
    ) -> None:
        self.platform = platform
        self.accounts = accounts
        self.listings = listings
        self.rng = rng
        self.np_rng = np_rng
        weights = np.array([a.activity for a in accounts], dtype=np.float64)
        self._acc_cum = np.cumsum(weights / weights.sum())
        popularity = 1.0 / np.arange(1, len(listings) + 1) ** 0.9
        order = np_rng.permutation(len(listings))
        pop = np.empty(len(listings))
        pop[order] = popularity
        self._sku_cum: list[float] = np.cumsum(pop / pop.sum()).tolist()
        self._hour_cum = np.cumsum(HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
        self.seq = 0

    def day(self, day: date, count: int) -> list[OrderDraft]:
        """The ``count`` orders created on ``day``, in creation order."""
        if count == 0:
            return []
        n = self.np_rng
        buyers = np.searchsorted(self._acc_cum, n.random(count), side="right").clip(0, len(self.accounts) - 1)
        hours = np.searchsorted(self._hour_cum, n.random(count), side="right").clip(0, 23)
        secs = hours * 3600 + n.integers(0, 3600, count)
        promo = promotion_on(day)
        if promo is not None and promo.peak == (day.month, day.day):
            # the midnight rush of 双11 / 618: a fifth of the day's orders in the first hour
            rush = n.random(count) < 0.2
            secs[rush] = n.integers(0, 3600, int(rush.sum()))
        secs.sort()
        base = beijing_seconds(day)
        return [
            self._draft(self.accounts[int(b)], base + int(s), promo.campaign_id if promo else "")
            for b, s in zip(buyers, secs, strict=True)
        ]

    def _draft(self, account: Account, created: int, campaign_id: str) -> OrderDraft:
        r = self.rng
        rand = r.random
        self.seq += 1
        u = rand()
        nlines = 1 if u < 0.65 else (2 if u < 0.9 else 3)
        lines: list[Line] = []
        seen: list[int] = []
        last = len(self.listings) - 1
        total = 0
        for _ in range(nlines):
            i = bisect_right(self._sku_cum, rand())
            if i > last:
                i = last
            if i in seen:
                continue
            seen.append(i)
            qty = 1 if rand() < 0.82 else (2 if rand() < 0.75 else 3)
            listing = self.listings[i]
            gross = listing.price_fen * qty
            total += gross
            lines.append(Line(listing, qty, gross, 0))
        discount = 0
        coupon = ""
        if rand() < (0.6 if campaign_id else 0.2):
            discount = min(total // 2, r.choice((500, 1000, 2000, 3000, 5000)) if total >= 9900 else 300)
            coupon = f"CPN{self.platform[:2].upper()}{self.seq:010d}"
            _share_discount(lines, discount)
        post_fee = 0 if total >= 4900 else 600
        pay_time = created + int(r.expovariate(1 / 90))
        draft = OrderDraft(
            self.seq,
            "",
            account,
            lines,
            created,
            pay_time,
            post_fee,
            discount,
            total,
            total - discount + post_fee,
            [],
            coupon_id=coupon,
            campaign_id=campaign_id,
        )
        _life_cycle(draft, r)
        return draft


def _between(r: random.Random, a: int, b: int | None = None) -> int:
    """``randrange`` without its rejection loop: these ranges are far below 2**50."""
    return int(r.random() * a) if b is None else a + int(r.random() * (b - a))


def _share_discount(lines: list[Line], discount: int) -> None:
    """Split an order discount over its lines pro rata (last line takes the rounding)."""
    total = sum(ln.listing.price_fen * ln.qty for ln in lines) or 1
    left = discount
    for i, ln in enumerate(lines):
        gross = ln.listing.price_fen * ln.qty
        share = left if i == len(lines) - 1 else discount * gross // total
        left -= share
        ln.discount_fen, ln.pay_fen = share, gross - share


def _life_cycle(d: OrderDraft, r: random.Random) -> None:
    u = r.random()
    hour = 3600
    if u < 0.05:  # never paid, closed by the platform
        d.pay_time = 0
        d.versions = [(d.created, CREATED), (d.created + _between(r, 900, 2 * 86400), CANCELLED)]
        return
    # most buyers pay within seconds; one order in six is first seen unpaid
    d.versions = [(d.pay_time, PAID)] if r.random() < 0.84 else [(d.created, CREATED), (d.pay_time, PAID)]
    if u < 0.09:  # refunded in full before shipping
        applied = d.pay_time + _between(r, hour, 20 * hour)
        done = applied + _between(r, hour, 30 * hour)
        d.refunds = _refunds(d, r, applied, done, after_ship=False, whole=True)
        d.versions += [(applied, REFUNDING), (done, REFUNDED_CLOSED)]
        return
    d.ship_time = d.pay_time + _between(r, 2 * hour, 60 * hour)
    d.logistics = LOGISTICS[_between(r, len(LOGISTICS))]
    d.tracking_no = f"{d.logistics[0]}{_between(r, 10**11, 10**12)}"
    d.versions.append((d.ship_time, SHIPPED))
    if u < 0.12:  # returned in full after shipping
        applied = d.ship_time + _between(r, 20 * hour, 96 * hour)
        done = applied + _between(r, 24 * hour, 120 * hour)
        d.refunds = _refunds(d, r, applied, done, after_ship=True, whole=True)
        d.versions += [(applied, REFUNDING), (done, REFUNDED_CLOSED)]
        return
    d.finish_time = d.ship_time + _between(r, 48 * hour, 10 * 24 * hour)
    d.versions.append((d.finish_time, FINISHED))
    if u < 0.17:  # partial refund of one line after receipt
        applied = d.finish_time + _between(r, hour, 7 * 24 * hour)
        done = applied + _between(r, 24 * hour, 96 * hour)
        d.refunds = _refunds(d, r, applied, done, after_ship=True, whole=False)
        d.versions.append((done, PART_REFUNDED))


def _refunds(
    d: OrderDraft, r: random.Random, applied: int, done: int, *, after_ship: bool, whole: bool
) -> list[Refund]:
    """The refunds of every line (``whole``) or of one drawn line, each of what the line was paid
    (postage is no line's), with one reason; ids ``<seq><line>`` (an order has at most 3 lines)."""
    idx = _between(r, len(d.lines))
    reason = r.choice(REFUND_REASONS)
    returned = after_ship and r.random() < 0.7
    lines = range(len(d.lines)) if whole else (idx,)
    return [
        Refund(f"{d.seq:011d}{i}", i, applied, done, d.lines[i].pay_fen, reason, after_ship, returned, whole)
        for i in lines
    ]


# heap entries: (modified time, order sequence, version index, draft); seq is unique, so drafts
# are never compared
_Pending = tuple[int, int, int, OrderDraft]


def stream_orders(
    factory: OrderFactory, start: date, counts: np.ndarray, end_bj: int
) -> Iterator[tuple[OrderDraft, int, int]]:
    """Yield ``(draft, version index, modified time)`` for every version up to ``end_bj``, in time order.

    Orders are created day by day; a version is yielded once no order created later can precede
    it (versions are never earlier than their order's creation).
    """
    heap: list[_Pending] = []
    for offset, count in enumerate(counts):
        day = start + timedelta(days=offset)
        drafts = factory.day(day, int(count))
        for d in drafts:
            heapq.heappush(heap, (d.versions[0][0], d.seq, 0, d))
        horizon = beijing_seconds(day) + 86400  # everything created later starts at or after this
        yield from _drain(heap, min(horizon, end_bj))
    yield from _drain(heap, end_bj)


def _drain(heap: list[_Pending], until: int) -> Iterator[tuple[OrderDraft, int, int]]:
    while heap and heap[0][0] < until:
        at, seq, step, draft = heapq.heappop(heap)
        yield draft, step, at
        nxt = step + 1
        if nxt < len(draft.versions):
            heapq.heappush(heap, (draft.versions[nxt][0], seq, nxt, draft))
