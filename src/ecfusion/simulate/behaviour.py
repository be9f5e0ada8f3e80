"""Behaviour logs: the brand's WeChat mini-program events and users, and its advertising logs.

Serves issue 2 (Build §3) for 采集层 log sources (T/JNBDA 0003-2025 clause 4.3.4 c) and the
attribution and profiling apps (clause 4.3.8): ``app/events/events_YYYYMMDD.jsonl`` (view,
search, add_to_cart, purchase; ``ts`` in unix milliseconds; device id and IP; user id / openid
only when logged in), ``app/users/users.jsonl`` (the mini-program's user table: user id, openid,
the phone the user authorized with WeChat's phone-number login, registration and update times in
unix ms) and ``ads/{clicks,impressions}/*_YYYYMM.jsonl`` (campaign, channel, device id, IDFA or
OAID, unix-ms ``ts``). Devices are the persons' real devices, so a click, an app session and an
order can be tied together; some devices are strangers.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import timedelta
from typing import Any

import numpy as np

from ecfusion.simulate.calendar import BEIJING_OFFSET_S, allocate, beijing_seconds, day_weight
from ecfusion.simulate.defects import DefectRates, JsonlSink
from ecfusion.simulate.people import Person
from ecfusion.simulate.world import TaskResult, World

EVENTS_PER_ORDER = 0.8
IMPRESSIONS_PER_ORDER = 0.8
CLICK_RATE = 0.06
SEARCH_TERMS = (
    "精华",
    "面霜",
    "玻尿酸",
    "防晒",
    "口红 豆沙",
    "卸妆油",
    "补水面膜",
    "眼霜",
    "烟酰胺",
    "敏感肌",
    "小棕瓶",
    "洗面奶",
    "套装 送礼",
    "身体乳",
    "香水",
)
AD_CHANNELS = (
    ("巨量引擎", "douyin"),
    ("腾讯广告", "wechat"),
    ("阿里妈妈", "taobao"),
    ("小红书聚光", "xhs"),
    ("京准通", "jd"),
    ("百度营销", "baidu"),
)
AD_CAMPAIGNS = ("新品精华种草", "大促预热", "会员拉新", "直播间引流", "品牌曝光", "复购召回")


def _ts_as_iso(rec: dict[str, Any], rng: random.Random) -> bool:
    import time

    ms = rec["ts"]
    rec["ts"] = (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000 + BEIJING_OFFSET_S)) + "+08:00"
        if rng.random() < 0.5
        else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))
    )
    return True


class _Audience:
    """Who shows up in logs: persons weighted by activity, their app accounts, their devices."""

    def __init__(self, world: World, r: random.Random) -> None:
        self.persons = world.population.persons
        w = np.array([p.activity for p in self.persons])
        self.cum = np.cumsum(w / w.sum()).tolist()
        self.r = r

    def person(self) -> Person:
        return self.persons[min(bisect_right(self.cum, self.r.random()), len(self.persons) - 1)]

    def stranger_device(self) -> str:
        raw = self.r.getrandbits(128).to_bytes(16, "big").hex()
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def run_behaviour(world: World) -> TaskResult:
    result = TaskResult("behaviour")
    for files, defects in (_events(world), _app_users(world), _ads(world)):
        result.files += files
        result.defects += defects
    return result


def _per_day(world: World, total: int) -> np.ndarray:
    return allocate(total, np.array([day_weight(world.start + timedelta(d)) for d in range(world.days)]))


def _events(world: World) -> tuple[list[Any], list[Any]]:
    r, _ = world.rngs("app-events")
    audience = _Audience(world, r)
    skus = [p.std_sku_code for p in world.catalog.products]
    sink = JsonlSink(
        world.out,
        source="app",
        platform="app",
        entity="events",
        rng=random.Random(f"ecfusion-{world.seed}-defects-app"),
        rates=world.rates,
        mutators={"mixed_timezone": _ts_as_iso},
        byte_kinds=("exact_duplicate", "malformed_json"),
    )
    seq = 0
    for offset, count in enumerate(_per_day(world, round(world.total_orders * EVENTS_PER_ORDER))):
        day = world.start + timedelta(days=offset)
        sink.open(f"app/events/events_{day:%Y%m%d}.jsonl")
        day_ms = (beijing_seconds(day) - BEIJING_OFFSET_S) * 1000
        events: list[dict[str, Any]] = []
        while len(events) < count:
            seq += 1
            events += _session(audience, r, skus, day_ms, seq)
        events = sorted(events[: int(count)], key=lambda e: (e["ts"], e["event_id"]))
        for e in events:
            sink.write(e, e["event_id"])
    sink.close()
    return sink.files, sink.defects


def _session(
    audience: _Audience, r: random.Random, skus: list[str], day_ms: int, seq: int
) -> list[dict[str, Any]]:
    p = audience.person()
    app = p.accounts.get("app")
    logged_in = app is not None and r.random() < 0.75
    device = (
        app.device_id
        if app is not None
        else (p.devices[0] if r.random() < 0.7 else audience.stranger_device())
    )
    ts = day_ms + int(r.random() * 86_000_000)
    sku = skus[int(r.random() ** 1.8 * len(skus))]
    kinds = ["view"]
    if r.random() < 0.3:
        kinds.insert(0, "search")
    if r.random() < 0.25:
        kinds.append("add_to_cart")
        if r.random() < 0.35:
            kinds.append("purchase")
    out = []
    for i, kind in enumerate(kinds):
        ts += int(r.random() * 90_000) + 1000
        out.append(
            {
                "event_id": f"E{seq:010d}{i}",
                "event_type": kind,
                "ts": ts,
                "device_id": device,
                "ip": p.ip,
                "user_id": app.account_id if logged_in and app else None,
                "openid": app.extra if logged_in and app else None,
                "sku": None if kind == "search" else sku,
                "query": SEARCH_TERMS[int(r.random() * len(SEARCH_TERMS))] if kind == "search" else None,
                "page": {
                    "search": "pages/search/index",
                    "view": "pages/goods/detail",
                    "add_to_cart": "pages/goods/detail",
                    "purchase": "pages/order/confirm",
                }[kind],
            }
        )
    return out


def _clean_sink(world: World, source: str, entity: str, tag: str) -> JsonlSink:
    """A JSONL sink of ``source`` (its own platform) that injects no defects."""
    return JsonlSink(
        world.out,
        source=source,
        platform=source,
        entity=entity,
        rng=random.Random(f"ecfusion-{world.seed}-defects-{tag}"),
        rates=DefectRates.none(),
    )


# Share of mini-program users who signed in with WeChat's phone-number login (getPhoneNumber), so
# the user table holds their phone; the others only ever authorized the openid.
PHONE_AUTHORIZED = 0.95


def _app_users(world: World) -> tuple[list[Any], list[Any]]:
    """The mini-program's user table, exported whole: one record per app account."""
    r, _ = world.rngs("app-users")
    sink = _clean_sink(world, "app", "members", "app-users")
    sink.open("app/users/users.jsonl")
    start_ms = (beijing_seconds(world.start) - BEIJING_OFFSET_S) * 1000
    for acc in world.population.accounts.get("app", []):
        registered = start_ms - int(r.random() * 2 * 365 * 86_400_000)
        updated = start_ms + int(r.random() * world.days * 86_400_000)
        phone = acc.phone if r.random() < PHONE_AUTHORIZED else None
        sink.write(
            {
                "user_id": acc.account_id,
                "openid": acc.extra,
                "phone": phone,
                "country_code": "86" if phone else None,
                "register_time": registered,
                "update_time": max(updated, registered),
            },
            acc.account_id,
        )
    sink.close()
    return sink.files, sink.defects


def _ads(world: World) -> tuple[list[Any], list[Any]]:
    r, _ = world.rngs("ads")
    audience = _Audience(world, r)
    impressions = _clean_sink(world, "ads", "ad_impressions", "ads")
    clicks = _clean_sink(world, "ads", "ad_clicks", "ads-c")
    month = ""
    seq = 0
    for offset, count in enumerate(_per_day(world, round(world.total_orders * IMPRESSIONS_PER_ORDER))):
        day = world.start + timedelta(days=offset)
        if f"{day:%Y%m}" != month:
            month = f"{day:%Y%m}"
            impressions.open(f"ads/impressions/impressions_{month}.jsonl")
            clicks.open(f"ads/clicks/clicks_{month}.jsonl")
        day_ms = (beijing_seconds(day) - BEIJING_OFFSET_S) * 1000
        for ts in sorted(day_ms + int(r.random() * 86_400_000) for _ in range(int(count))):
            seq += 1
            imp = _impression(audience, r, ts, seq)
            impressions.write(imp, imp["impression_id"])
            if r.random() < CLICK_RATE:
                click = {k: v for k, v in imp.items() if k != "impression_id"}
                click.update(
                    click_id=f"CK{seq:011d}",
                    impression_id=imp["impression_id"],
                    ts=ts + int(r.random() * 20_000) + 500,
                )
                clicks.write(click, click["click_id"])
    impressions.close()
    clicks.close()
    return impressions.files + clicks.files, impressions.defects + clicks.defects


def _impression(audience: _Audience, r: random.Random, ts: int, seq: int) -> dict[str, Any]:
    channel, code = AD_CHANNELS[int(r.random() * len(AD_CHANNELS))]
    campaign = AD_CAMPAIGNS[int(r.random() * len(AD_CAMPAIGNS))]
    device = audience.person().devices[0] if r.random() < 0.6 else audience.stranger_device()
    ios = device.isupper()
    return {
        "impression_id": f"IM{seq:011d}",
        "campaign": f"{code}-{campaign}",
        "channel": channel,
        "creative_id": f"CR{int(r.random() * 400):04d}",
        "ts": ts,
        "device_id": device,
        "idfa": device if ios else None,
        "oaid": None if ios else device,
        "os": "ios" if ios else "android",
        "cost_fen": 2 + int(r.random() * 30),
    }
