"""One platform call, done right: paced, signed afresh, retried, guarded, validated (5.1).

``ApiTransport.call(build, parse)`` runs: circuit check → rate-limit slot (per app and per shop) →
``build()`` a freshly signed request (new timestamp, current token) → send → learn the server clock
from ``Date`` → ``parse`` the answer into data or a typed failure. Rate-limit answers, 5xx, timeouts
and invalid bodies are retried with exponential backoff and jitter (``resilience``); a token-expired
answer refreshes the token once and repeats the call at once. Counts go to the connector's
``ReadStats`` for the run summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from ecfusion.errors import RateLimited
from ecfusion.sources.contract import ReadStats
from ecfusion.sources.failures import TokenExpired, TransientError
from ecfusion.sources.ratelimit import ChainedLimiter
from ecfusion.sources.resilience import CircuitBreaker, RetrySettings, backoff_wait
from ecfusion.sources.windows import ServerClock

T = TypeVar("T")

RequestBuilder = Callable[[], httpx.Request]
ResponseParser = Callable[[httpx.Response], T]


class ApiTransport:
    def __init__(
        self,
        name: str,
        *,
        limiter: ChainedLimiter,
        retry: RetrySettings,
        stats: ReadStats,
        clock: ServerClock | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = name
        self.limiter = limiter
        self.retry = retry
        self.stats = stats
        self.clock = clock or ServerClock()
        self.breaker = CircuitBreaker(name, retry.breaker_threshold, retry.breaker_reset)
        self.client = client or httpx.Client(timeout=retry.timeout)

    def close(self) -> None:
        self.client.close()

    def call(
        self,
        build: RequestBuilder,
        parse: ResponseParser[T],
        *,
        on_token_expired: Callable[[], None] | None = None,
    ) -> T:
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=backoff_wait(self.retry),
            retry=retry_if_exception_type((TransientError, RateLimited)),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._once_with_refresh(build, parse, on_token_expired)
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    def _once_with_refresh(
        self, build: RequestBuilder, parse: ResponseParser[T], on_token_expired: Callable[[], None] | None
    ) -> T:
        try:
            return self._once(build, parse)
        except TokenExpired:
            if on_token_expired is None:
                raise
            on_token_expired()
            self.stats.token_refreshes += 1
            return self._once(build, parse)

    def _once(self, build: RequestBuilder, parse: ResponseParser[T]) -> T:
        self.breaker.before_call()
        with self.limiter.slot() as waited:
            if waited > 0:
                self.stats.rate_limit_wait_seconds += waited
            self.stats.requests += 1
            try:
                response = self.client.send(build())
            except (httpx.TimeoutException, httpx.TransportError) as e:
                self.breaker.record_failure()
                raise TransientError(
                    f"{self.name}: {type(e).__name__} talking to the platform ({e})",
                    hint="retried with backoff; check the network if it persists",
                ) from e
        self.clock.observe(response.headers.get("date"))
        try:
            result = parse(response)
        except (TransientError, RateLimited):
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return result

    def _before_sleep(self, state) -> None:  # type: ignore[no-untyped-def]
        self.stats.retries += 1
        err = state.outcome.exception() if state.outcome else None
        if isinstance(err, RateLimited):
            self.stats.rate_limit_waits += 1
            wait = state.next_action.sleep if state.next_action else 0.0
            self.stats.rate_limit_wait_seconds += wait
            self.limiter.pause(wait)
