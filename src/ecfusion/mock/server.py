"""What every mock platform shares: credentials, tokens, clock, server-side rate limit, faults, stats.

A platform module (``mock.taobao`` …) builds its FastAPI app on a ``MockState`` and uses
``MockState.gate`` to apply, in the platform's own error shapes, the rate limit and injected faults.
Every answer carries ``Date`` from the mock clock (uvicorn's own Date header is turned off), so a
connector learns the simulated server time exactly as it would learn a real platform's.
Admin endpoints under ``/_mock/`` let tests and the soak read counters and move the clock.
"""

from __future__ import annotations

import asyncio
import secrets as pysecrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

from ecfusion.mock.clock import MockClock
from ecfusion.mock.faults import FaultPlan
from ecfusion.mock.store import Version, VersionStore


@dataclass
class MockSettings:
    platform: str
    data_dir: Path
    app_key: str = "mock-app"
    app_secret: str = "mock-secret"
    rate: float | None = None  # business calls per second per app; None = unlimited
    faults: FaultPlan = field(default_factory=FaultPlan)
    token_ttl: float = 86400.0  # wall-clock seconds an access token lives
    refresh_ttl: float = 30 * 86400.0
    # How long a rotated refresh token is still honoured (answering with its successor); None =
    # the platform's default (REFRESH_GRACE). See TokenRegistry.refresh.
    refresh_grace: float | None = None
    clock_start: datetime | None = None  # default: the newest version in the data (everything visible)
    clock_speed: float = 0.0
    max_window_seconds: int = 86400
    max_page_size: int = 100
    decrypt_quota: int | None = None  # items the decrypt API opens in this mock's lifetime ("a day")


# Seconds a rotated refresh token (and its access token) stay usable. Douyin is documented
# (shared/platforms.md: "within the last hour it issues new ones and the old stay valid for 1 h");
# ⚠ that reusing the old refresh token then answers with the same successor is our assumption.
# ⚠ Taobao, JD and Pinduoduo say nothing: the mock assumes the strictest rotation (the old refresh
# token is refused at once), which is the case a client must survive.
REFRESH_GRACE = {"douyin": 3600.0}
# Douyin: "refreshing more than 1 h before expiry returns the same tokens".
SAME_TOKENS_BEFORE = {"douyin": 3600.0}


@dataclass
class IssuedToken:
    shop: str
    access_token: str
    refresh_token: str
    expires_at: float
    refresh_expires_at: float
    successor: IssuedToken | None = None  # set when this token's refresh token was used
    rotated_at: float = 0.0


class TokenRegistry:
    """Access and refresh tokens the mock has issued (wall-clock lifetimes), rotated on refresh."""

    def __init__(
        self, ttl: float, refresh_ttl: float, *, grace: float = 0.0, same_before: float | None = None
    ) -> None:
        self.ttl = ttl
        self.refresh_ttl = refresh_ttl
        self.grace = grace
        self.same_before = same_before
        self._by_access: dict[str, IssuedToken] = {}
        self._by_refresh: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()
        self.issued = 0
        self.refreshed = 0
        self.reused = 0  # refreshes answered with an already-issued successor

    def issue(self, shop: str) -> IssuedToken:
        now = time.time()
        tok = IssuedToken(
            shop,
            "at-" + pysecrets.token_hex(12),
            "rt-" + pysecrets.token_hex(12),
            now + self.ttl,
            now + self.refresh_ttl,
        )
        with self._lock:
            self._by_access[tok.access_token] = tok
            self._by_refresh[tok.refresh_token] = tok
            self.issued += 1
        return tok

    def check(self, access_token: str | None) -> str:
        """``ok``, ``missing``, ``unknown`` or ``expired``."""
        if not access_token:
            return "missing"
        with self._lock:
            tok = self._by_access.get(access_token)
        if tok is None:
            return "unknown"
        return "ok" if tok.expires_at > time.time() else "expired"

    def refresh(self, refresh_token: str) -> IssuedToken | None:
        """The token a refresh answers with, or None (unknown, expired or no longer honoured).

        The first use of a refresh token rotates it. Using it again answers, within ``grace``
        seconds, with the successor already issued (so a client that died before saving that
        answer can ask again); after ``grace`` — at once when ``grace`` is 0 — it is refused.
        """
        now = time.time()
        with self._lock:
            old = self._by_refresh.get(refresh_token)
            if old is None or old.refresh_expires_at <= now:
                return None
            if old.successor is not None:
                if now - old.rotated_at < self.grace:
                    self.reused += 1
                    return old.successor
                self._by_refresh.pop(refresh_token, None)
                return None
            if self.same_before is not None and old.expires_at - now > self.same_before:
                return old
        new = self.issue(old.shop)
        with self._lock:
            old.successor, old.rotated_at = new, now
            if self.grace > 0:
                old.expires_at = min(old.expires_at, now + self.grace)
            else:
                self._by_refresh.pop(refresh_token, None)
            self.refreshed += 1
        return new

    def expire_all(self) -> None:
        with self._lock:
            for tok in self._by_access.values():
                tok.expires_at = 0.0


class RequestMeter:
    """Server-side rate limit (sliding one-second window) and the counters a benchmark reads."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._accepted: deque[float] = deque()
        self._arrivals: deque[float] = deque()
        self._lock = threading.Lock()
        self.requests = 0
        self.rejected = 0
        self.max_per_second = 0
        self.max_per_calendar_second = 0  # how gateways usually count a QPS quota
        self._second = (0, 0)  # (unix second, requests in it)
        self.first_at: float | None = None
        self.last_at: float | None = None

    def admit(self) -> bool:
        now = time.monotonic()
        with self._lock:
            self.requests += 1
            self.first_at = self.first_at if self.first_at is not None else now
            self.last_at = now
            self._arrivals.append(now)
            while self._arrivals and self._arrivals[0] <= now - 1.0:
                self._arrivals.popleft()
            self.max_per_second = max(self.max_per_second, len(self._arrivals))
            second = int(time.time())
            self._second = (second, self._second[1] + 1 if self._second[0] == second else 1)
            self.max_per_calendar_second = max(self.max_per_calendar_second, self._second[1])
            while self._accepted and self._accepted[0] <= now - 1.0:
                self._accepted.popleft()
            if self.rate is not None and len(self._accepted) >= self.rate:
                self.rejected += 1
                return False
            self._accepted.append(now)
            return True

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            span = (self.last_at - self.first_at) if self.first_at is not None and self.last_at else 0.0
            return {
                "requests": self.requests,
                "rejected_rate_limit": self.rejected,
                "max_requests_in_any_second": self.max_per_second,
                "max_requests_in_a_calendar_second": self.max_per_calendar_second,
                "rate_limit": self.rate,
                "active_seconds": span,
                "mean_rate": (self.requests - 1) / span if span > 0 else None,
            }

    def reset(self) -> None:
        with self._lock:
            self.__init__(self.rate)  # type: ignore[misc]


def page_slice(rows: list[Version], page: int, size: int, fault: str | None) -> list[Version]:
    """Rows of 1-based ``page``; the ``duplicate_page`` fault answers page p with page p+1's rows."""
    if fault == "duplicate_page" and page * size < len(rows):
        page += 1
    return rows[(page - 1) * size : page * size]


ErrorBody = Callable[[str], tuple[int, dict[str, Any]]]


class MockState:
    def __init__(self, settings: MockSettings, stores: dict[str, VersionStore]) -> None:
        self.settings = settings
        self.stores = stores
        grace = settings.refresh_grace
        self.tokens = TokenRegistry(
            settings.token_ttl,
            settings.refresh_ttl,
            grace=REFRESH_GRACE.get(settings.platform, 0.0) if grace is None else grace,
            same_before=SAME_TOKENS_BEFORE.get(settings.platform),
        )
        self.meter = RequestMeter(settings.rate)
        start = settings.clock_start or _newest(stores) or datetime.now(UTC)
        self.clock = MockClock(start, speed=settings.clock_speed)
        self.decrypted = 0
        self._decrypt_lock = threading.Lock()

    def take_decrypt(self, items: int) -> bool:
        """Count ``items`` against the decrypt quota; False (nothing counted) if they do not fit.

        ⚠ Platforms count decrypt quota per shop per day; whether per order or per field is not
        documented in shared/platforms.md — the mock counts what each call asks to open.
        """
        with self._decrypt_lock:
            quota = self.settings.decrypt_quota
            if quota is not None and self.decrypted + items > quota:
                return False
            self.decrypted += items
            return True

    def now(self) -> float:
        return self.clock.now().timestamp()

    def respond(self, body: Any, status: int = 200, *, truncate: bool = False) -> Response:
        raw = orjson.dumps(body)
        if truncate:
            raw = raw[: max(1, len(raw) // 2)]
        return Response(
            raw,
            status_code=status,
            media_type="application/json",
            headers={"date": format_datetime(self.clock.now(), usegmt=True)},
        )

    async def gate(self, error_body: ErrorBody, *, paged: bool = False) -> tuple[Response | None, str | None]:
        """Rate limit and faults for one business call: an early answer, or the fault to apply later."""
        if not self.meter.admit():
            status, body = error_body("rate_limit")
            return self.respond(body, status), None
        fault = self.settings.faults.draw(paged=paged)
        if fault == "rate_limit":
            status, body = error_body("rate_limit")
            return self.respond(body, status), None
        if fault == "http5xx":
            return self.respond({"message": "upstream unavailable"}, 503), None
        if fault == "slow":
            await asyncio.sleep(self.settings.faults.slow_seconds)
        if fault == "timeout":
            await asyncio.sleep(self.settings.faults.timeout_seconds)
        return None, fault

    def add_admin_routes(self, app: FastAPI) -> None:
        @app.get("/_mock/stats")
        async def stats() -> Response:
            body = {
                "platform": self.settings.platform,
                "clock": self.clock.now().isoformat(),
                **self.meter.snapshot(),
                "faults_injected": self.settings.faults.injected,
                "tokens_issued": self.tokens.issued,
                "tokens_refreshed": self.tokens.refreshed,
                "refresh_tokens_reused": self.tokens.reused,
                "decrypted": self.decrypted,
                "records": {e: len(s) for e, s in self.stores.items()},
                "versions": {e: s.version_count() for e, s in self.stores.items()},
            }
            return self.respond(body)

        @app.post("/_mock/clock")
        async def set_clock(request: Request) -> Response:
            body = orjson.loads(await request.body() or b"{}")
            now = datetime.fromisoformat(body["now"]) if body.get("now") else None
            self.clock.set(now, speed=body.get("speed"))
            return self.respond({"clock": self.clock.now().isoformat(), "speed": self.clock.speed})

        @app.post("/_mock/reset")
        async def reset() -> Response:
            self.meter.reset()
            return self.respond({"ok": True})

        @app.post("/_mock/expire-tokens")
        async def expire_tokens() -> Response:
            self.tokens.expire_all()
            return self.respond({"ok": True})

        @app.get("/_mock/served")
        async def served(entity: str = "orders") -> Response:
            store = self.stores.get(entity)
            items = [[k, t] for k, t in store.served()] if store else []
            return self.respond({"entity": entity, "served": items})

        @app.get("/_mock/current")
        async def current(entity: str = "orders") -> Response:
            store = self.stores.get(entity)
            now = self.now()
            items = [[v.key, v.modified] for v in store.all_current(now)] if store else []
            return self.respond({"entity": entity, "current": items})


def _newest(stores: dict[str, VersionStore]) -> datetime | None:
    ends = [r[1] for s in stores.values() if (r := s.time_range())]
    # an hour past the newest version: everything visible and older than any connector lag
    return datetime.fromtimestamp(max(ends) + 3600, UTC) if ends else None


@dataclass
class RunningMock:
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    state: MockState

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def uvicorn_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        date_header=False,
        server_header=False,
        lifespan="off",
    )


def start_in_thread(app: FastAPI, state: MockState, *, host: str = "127.0.0.1", port: int = 0) -> RunningMock:
    """Serve ``app`` on a free loopback port in a background thread (tests)."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn_config(app, host, port))
    thread = threading.Thread(target=server.run, name=f"mock-{state.settings.platform}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"mock {state.settings.platform} did not start on port {port}")
        time.sleep(0.02)
    return RunningMock(f"http://{host}:{port}", server, thread, state)
