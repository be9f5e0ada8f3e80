"""Sync efficiency against a rate-limited mock platform (issue 5 "Must show"; standard 5.1).

1. **Rate use.** A mock Pinduoduo limited to R business calls/s (server side, sliding second) and a
   connector configured with the same R. Floor: R itself — the most the platform allows. Reported:
   the achieved server-side rate (requests ÷ active seconds) and its ratio to R (target ≥ 0.90), the
   most requests the server saw in any one-second window (must be ≤ R) and rate-limit rejections (0).
2. **Incremental after full.** A full sync, then an incremental one with the clock unchanged. Floor:
   the overlap window — the requests and records of ``[cursor − overlap, now − lag]``. Reported: the
   incremental run's requests and records beside that floor and the full run's counts.

Usage: python benchmarks/bench_sync.py [--rate 10] [--out benchmarks/results/sync.json]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ecfusion.config import Workspace
from ecfusion.lake import RawLake
from ecfusion.mock.fixtures import write_platform_fixture
from ecfusion.mock.runner import start
from ecfusion.sources.contract import connector_kind
from ecfusion.sources.sync import sync

DATA_START = datetime(2026, 9, 1, tzinfo=UTC)


def connector(platform: str, url: str, *, rate: float, start: datetime, window_seconds: int | None = None):
    kind = connector_kind(platform)
    window: dict = {"start": start.isoformat(), "overlap_seconds": 600, "lag_seconds": 180}
    if window_seconds:
        window["max_window_seconds"] = window_seconds
    cfg = kind.config_model.model_validate(
        {
            "name": f"bench_{platform}",
            "kind": platform,
            "base_url": url,
            "app_key": "mock-app",
            "app_secret": "mock-secret",
            "rate_per_app": rate,
            "streams": ["orders"],
            "window": window,
        }
    )
    c = kind.factory(cfg)
    c.authorize("bench")
    return c


def rate_use(data: Path, work: Path, rate: float, seconds: float) -> dict:
    mock = start("pdd", data, rate=rate)
    try:
        now = mock.state.clock.now()
        # enough five-minute windows (one call each) to keep the limiter busy for ~`seconds`
        windows = int(rate * seconds)
        c = connector(
            "pdd", mock.url, rate=rate, start=now - timedelta(seconds=180 + 300 * windows), window_seconds=300
        )
        mock.state.meter.reset()
        t0 = time.monotonic()
        report = sync(c, RawLake.open(Workspace.init(work / "ws-rate")))
        wall = time.monotonic() - t0
        s = mock.state.meter.snapshot()
    finally:
        mock.stop()
    achieved = s["mean_rate"] or 0.0
    return {
        "rate_limit_R": rate,
        "requests": s["requests"],
        "active_seconds": round(s["active_seconds"], 2),
        "achieved_rate": round(achieved, 2),
        "floor": rate,
        "ratio_to_floor": round(achieved / rate, 3),
        "max_requests_in_any_second": s["max_requests_in_any_second"],
        "max_requests_in_a_calendar_second": s["max_requests_in_a_calendar_second"],
        "never_exceeded": s["max_requests_in_any_second"] <= rate,
        "rejected_rate_limit": s["rejected_rate_limit"],
        "sync_wall_seconds": round(wall, 2),
        "outcome": report.outcome,
    }


def incremental(data: Path, work: Path) -> dict:
    mock = start("jd", data, clock_start=DATA_START + timedelta(days=1.5))  # mid-data: the overlap has orders
    try:
        lake = RawLake.open(Workspace.init(work / "ws-incr"))
        c = connector("jd", mock.url, rate=200, start=DATA_START - timedelta(hours=1))
        full = sync(c, lake).streams[0]
        inc = sync(c, lake).streams[0]
        now = mock.state.clock.now().timestamp()
        until = now - 180
        overlap = mock.state.stores["orders"].window(until - 600, until, now)
    finally:
        mock.stop()
    floor_requests = 1 + max(1, math.ceil(len(overlap) / 100)) + (1 if len(overlap) > 100 else 0)
    return {
        "full": {"requests": full.stats.requests, "records": full.offered, "landed": full.landed},
        "incremental": {"requests": inc.stats.requests, "records_reread": inc.offered, "landed": inc.landed},
        "floor": {
            "requests": floor_requests,
            "records": len(overlap),
            "what": "clock probe + the pages of [cursor - overlap, now - lag]",
        },
        "ratio_requests_to_floor": round(inc.stats.requests / floor_requests, 3),
        "ratio_records_to_floor": round(inc.offered / max(1, len(overlap)), 3)
        if overlap
        else (0.0 if inc.offered == 0 else float("inf")),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=20.0, help="how long to keep the limiter busy")
    ap.add_argument("--orders", type=int, default=5000)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/sync.json"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ecf-bench-sync-"))
    data = write_platform_fixture(
        work / "merchant",
        orders_per_platform=args.orders,
        start=DATA_START,
        days=3.0,
        platforms=("pdd", "jd"),
    )
    result = {
        "benchmark": "bench_sync",
        "at": datetime.now(UTC).isoformat(),
        "rate_use": rate_use(data, work, args.rate, args.seconds),
        "incremental_after_full": incremental(data, work),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
