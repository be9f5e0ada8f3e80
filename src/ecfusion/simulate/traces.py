"""Parcel tracking pushes of the simulated merchant's shipped orders (kuaidi100 subscription pushes).

A merchant subscribes each waybill with a tracking service, which POSTs the parcel's whole history
on every change (newest event first; see ``standardize/mappings/kuaidi100.toml``). Each shipped
order gives up to two pushes: one once the parcel is on its way (collected, sent to the receiver's
city) and one with every event up to the end of the simulated period — so the repeated history a
real feed delivers is in the data. The courier's phone in the out-for-delivery text is personal
data inside free text, as in real feeds (the lake tokenizes it at landing). Events happen after
the order ships: collected 1–4 h after, delivered 1.5–3 days after (and before the buyer confirmed
receipt). Draws come from the caller's own RNG, never the orders' one.
"""

from __future__ import annotations

import random
from typing import Any

from ecfusion.simulate.calendar import TimeText
from ecfusion.simulate.orders import OrderDraft

# kuaidi100's carrier codes (``com``) of the simulated carriers; Douyin uses the same codes.
KUAIDI100_CODE = {
    "SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "STO": "shentong", "YUNDA": "yunda",
    "JD": "jd", "EMS": "ems",
}
ORIGIN = ("浙江省,杭州市", "杭州")  # the brand's warehouse
HOUR = 3600


def journey(draft: OrderDraft, r: random.Random) -> list[tuple[int, str, str, str]]:
    """The parcel's events (Beijing seconds, kuaidi100 status, context, area), oldest first."""
    a, name = draft.account, draft.logistics[1]
    city = a.city or a.province
    area = f"{a.province},{a.city}" if a.city and a.city != a.province else a.province
    shipped = draft.ship_time
    delivered = shipped + r.randrange(36 * HOUR, 72 * HOUR)
    if draft.finish_time > shipped + 20 * HOUR:  # delivered before the buyer confirmed receipt
        delivered = min(delivered, draft.finish_time - HOUR)
    courier = f"1{r.choice('3589')}{r.randrange(10**9):09d}"
    hub, here = f"{ORIGIN[1]}市", f"【{city}】"
    return [
        (shipped + r.randrange(HOUR, 4 * HOUR), "揽收", f"【{hub}】{name} {ORIGIN[1]}仓 已揽收", ORIGIN[0]),
        (shipped + r.randrange(8 * HOUR, 14 * HOUR), "在途", f"快件已发往 {city}转运中心", ORIGIN[0]),
        (delivered - r.randrange(10 * HOUR, 16 * HOUR), "在途", f"快件已到达 {city}转运中心", area),
        (delivered - r.randrange(2 * HOUR, 4 * HOUR), "派件", f"{here}正在派送，派送员电话 {courier}", area),
        (delivered, "签收", f"{here}已签收，签收人：本人", area),
    ]


def pushes(draft: OrderDraft, r: random.Random, tt: TimeText, end_bj: int) -> list[dict[str, Any]]:
    """The pushes the tracking service sent for this order's parcel by ``end_bj`` (none if unshipped)."""
    if not draft.ship_time or not draft.tracking_no:
        return []
    events = [e for e in journey(draft, r) if e[0] <= end_bj]
    cuts = sorted({min(2, len(events)), len(events)} - {0})
    return [_push(draft, events[:n], tt) for n in cuts]


def _push(draft: OrderDraft, events: list[tuple[int, str, str, str]], tt: TimeText) -> dict[str, Any]:
    history = [(tt(at), status, text, area) for at, status, text, area in events]
    return tracking_push(draft.tracking_no, KUAIDI100_CODE[draft.logistics[0]], history)


def tracking_push(nu: str, com: str, events: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    """kuaidi100's push ``param`` for waybill ``nu`` of carrier ``com``: ``events`` (Beijing time text,
    status, context, area), oldest first, as the whole history so far, newest first."""
    delivered = bool(events) and events[-1][1] == "签收"
    return {
        "status": "polling",
        "billstatus": "check",
        "message": "",
        "lastResult": {
            "message": "ok",
            "nu": nu,
            "com": com,
            "ischeck": "1" if delivered else "0",
            "condition": "F00",
            "status": "200",
            "state": "3" if delivered else "0",
            "data": [
                {"time": at, "ftime": at, "context": text, "status": status, "areaName": area}
                for at, status, text, area in reversed(events)
            ],
        },
    }
