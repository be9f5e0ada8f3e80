"""Client-side rate limiting per app and per shop (5.1: gentle on the source).

A pacer based on GCRA (the generic cell rate algorithm, i.e. a token bucket kept as one
"theoretical arrival time"): calls are spaced ``1/rate`` apart with at most ``burst`` back to back.
Why not a library: ``pyrate-limiter`` and ``limits`` count calls in windows and answer "allowed or
not"; we need a blocking pacer that spaces calls evenly (so the platform's own per-second counter is
never exceeded while we still reach ≥ 90 % of it), that several limiters (per app, per shop) can be
chained through, and that a server's "banned for N seconds" can push back. That is 40 lines.

Spacing alone cannot promise "never more than N in any second" as the server counts: a call held
up in transit arrives late, its successor on time, and two arrivals bunch. ``slot()`` therefore also
keeps a sliding window: a call's arrival lies somewhere between its start and its response, so a
new call may start only when fewer than ``window_limit`` earlier calls are in flight or answered
less than one second ago. That bound holds whatever the network or the server's scheduling does.

Limiters are shared process-wide by key (``limiter_for``) so two sources on the same app share the
app's budget, as the platform counts it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager


class RateLimiter:
    """Blocks so that calls happen at most ``rate`` per second (``burst`` may go back to back)."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        window_limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.window_limit = window_limit or max(1, math.floor(rate))
        self._answered: list[float] = []  # response times of calls answered within the last second
        self._in_flight = 0
        self.interval = 1.0 / rate
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._tat = 0.0  # theoretical arrival time of the next conforming call
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Reserve the next slot; return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            allow_at = tat - (self.burst - 1) * self.interval
            wait = max(0.0, allow_at - now)
            self._tat = tat + self.interval
            return wait

    def acquire(self) -> float:
        """Wait for a slot; return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """The source asked us to back off: no slot is granted for ``seconds``."""
        with self._lock:
            self._tat = max(self._tat, self._clock() + seconds)

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold one call's place in the window from before it is sent until its answer; yields
        the seconds waited (spacing plus window)."""
        waited = self.acquire() + self._enter_window()
        try:
            yield waited
        finally:
            with self._lock:
                self._in_flight -= 1
                self._answered.append(self._clock())

    def _enter_window(self) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._answered = [t for t in self._answered if t + 1.0 > now]
                if self._in_flight + len(self._answered) < self.window_limit:
                    self._in_flight += 1
                    return waited
                # wait for the oldest answer to leave the window, or poll while all are in flight
                wait = min(self._answered) + 1.0 - now if self._answered else 0.01
            self._sleep(max(wait, 0.001))
            waited += max(wait, 0.001)


class ChainedLimiter:
    """All of several limiters (e.g. the app's and the shop's) must grant a call."""

    def __init__(self, limiters: Sequence[RateLimiter]) -> None:
        self.limiters = list(limiters)

    def acquire(self) -> float:
        return sum(limiter.acquire() for limiter in self.limiters)

    @contextmanager
    def slot(self) -> Iterator[float]:
        with ExitStack() as stack:
            yield sum(stack.enter_context(limiter.slot()) for limiter in self.limiters)

    def pause(self, seconds: float) -> None:
        for limiter in self.limiters:
            limiter.pause(seconds)


_SHARED: dict[tuple[str, float], RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def limiter_for(key: str, rate: float, *, burst: int = 1, window_limit: int | None = None) -> RateLimiter:
    """The process-wide limiter for ``key`` (e.g. ``taobao:app:12345``) at ``rate`` calls/s, never
    letting more than ``window_limit`` calls (default: ``rate`` rounded down) fall in one second."""
    with _SHARED_LOCK:
        limiter = _SHARED.get((key, rate))
        if limiter is None:
            limiter = _SHARED[(key, rate)] = RateLimiter(rate, burst=burst, window_limit=window_limit)
        return limiter
