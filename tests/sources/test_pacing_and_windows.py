"""Client-side pacing, the circuit breaker, and time-window planning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecfusion.sources.failures import CircuitOpen
from ecfusion.sources.ratelimit import RateLimiter
from ecfusion.sources.resilience import CircuitBreaker
from ecfusion.sources.windows import WindowSettings, start_point, windows


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_limiter_spaces_calls_evenly_and_never_bursts_past_its_rate() -> None:
    t = FakeTime()
    limiter = RateLimiter(10, clock=t.clock, sleep=t.sleep)
    stamps = []
    for _ in range(50):
        limiter.acquire()
        stamps.append(t.now)
    assert all(b - a == pytest.approx(0.1) for a, b in zip(stamps, stamps[1:], strict=False))
    for i in range(len(stamps)):
        assert sum(1 for s in stamps if stamps[i] <= s < stamps[i] + 1.0 - 1e-9) <= 10


def test_limiter_pause_defers_the_next_call() -> None:
    t = FakeTime()
    limiter = RateLimiter(100, clock=t.clock, sleep=t.sleep)
    limiter.acquire()
    limiter.pause(2.0)
    assert limiter.acquire() == pytest.approx(2.0)


def test_breaker_opens_after_threshold_and_half_opens_after_reset() -> None:
    t = FakeTime()
    breaker = CircuitBreaker("s", failure_threshold=3, reset_after=5, clock=t.clock)
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure()
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    t.now += 5
    breaker.before_call()  # half-open: one trial allowed
    breaker.record_success()
    assert breaker.state == "closed"


@pytest.mark.parametrize(
    ("span_min", "total_min", "expected"),
    [
        (30, 90, 3),
        (30, 91, 4),
        (30, 10, 1),
        (1440, 60 * 24 * 3, 3),
    ],
)
def test_windows_cover_the_range_without_gaps(span_min: int, total_min: int, expected: int) -> None:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    got = list(windows(start, start + timedelta(minutes=total_min), timedelta(minutes=span_min)))
    assert len(got) == expected
    assert got[0][0] == start and got[-1][1] == start + timedelta(minutes=total_min)
    assert all(a[1] == b[0] for a, b in zip(got, got[1:], strict=False))
    assert all(b - a <= timedelta(minutes=span_min) for a, b in got)


def test_incremental_start_is_cursor_minus_overlap() -> None:
    now = datetime(2026, 9, 10, tzinfo=UTC)
    settings = WindowSettings(overlap_seconds=600)
    assert start_point({"cursor": "2026-09-09T00:00:00+00:00"}, settings, now) == datetime(
        2026, 9, 8, 23, 50, tzinfo=UTC
    )
    assert start_point(None, settings, now) == now - timedelta(days=90)


def test_window_keeps_every_server_second_within_the_limit_even_when_calls_are_held_up() -> None:
    """A call's arrival lies anywhere between its start and its answer; whatever the delays,
    no one-second window may hold more than the platform's limit of arrivals."""
    import random

    from ecfusion.sources.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(9.5, window_limit=10, clock=lambda: now[0],
                          sleep=lambda s: now.__setitem__(0, now[0] + s))
    rng = random.Random(3)
    calls: list[tuple[float, float]] = []
    for _ in range(300):
        with limiter.slot():
            start = now[0]
            now[0] += rng.choice([0.0, 0.01, 0.3, 0.05])  # the request in transit, sometimes stalled
            calls.append((start, now[0]))
    # worst case for the server's count: each earlier call arrives as late as possible (at its
    # answer) and each later one as early as possible (at its start)
    for k in range(len(calls) - 10):
        assert calls[k + 10][0] >= calls[k][1] + 1.0 - 1e-9
    elapsed = calls[-1][1] - calls[0][0]
    assert len(calls) / elapsed >= 0.6 * 10  # still busy, not starved
