"""Retries with exponential backoff and jitter, and a circuit breaker (5.1: reliable collection).

Retries use tenacity (the well-kept library for it). What is retried: rate-limit answers (waiting
at least what the platform asked), 5xx, timeouts and invalid bodies. The circuit breaker is a few
lines of state, kept here rather than adding a dependency: after ``failure_threshold`` consecutive
failed calls it opens and refuses calls for ``reset_after`` seconds, then lets one trial through.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState

from ecfusion.errors import RateLimited
from ecfusion.sources.failures import CircuitOpen


class RetrySettings(BaseModel):
    """How hard to try before giving up on one call."""

    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(8, ge=1, description="attempts per call, the first included")
    backoff_initial: float = Field(0.2, ge=0, description="seconds before the first retry")
    backoff_max: float = Field(20.0, gt=0, description="longest wait between attempts")
    jitter: float = Field(0.5, ge=0, description="random extra seconds, up to this much")
    timeout: float = Field(15.0, gt=0, description="seconds before one HTTP request times out")
    breaker_threshold: int = Field(10, ge=1, description="consecutive failures that open the circuit")
    breaker_reset: float = Field(10.0, gt=0, description="seconds the circuit stays open")


def backoff_wait(settings: RetrySettings) -> Callable[[RetryCallState], float]:
    """Exponential backoff with jitter, never shorter than the platform's own ``retry_after``."""

    def wait(state: RetryCallState) -> float:
        exp = settings.backoff_initial * (2 ** max(0, state.attempt_number - 1))
        delay = min(settings.backoff_max, exp) + random.uniform(0, settings.jitter)
        outcome = state.outcome
        err = outcome.exception() if outcome is not None else None
        if isinstance(err, RateLimited) and err.retry_after:
            delay = max(delay, min(err.retry_after, settings.backoff_max))
        return delay

    return wait


@dataclass
class CircuitBreaker:
    """Closed → (threshold consecutive failures) → open for ``reset_after`` s → half-open trial."""

    name: str
    failure_threshold: int = 10
    reset_after: float = 10.0
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "half-open" if self.clock() - self._opened_at >= self.reset_after else "open"

    def before_call(self) -> None:
        if self.state == "open":
            raise CircuitOpen(
                f"source {self.name}: circuit open after {self._failures} consecutive failures",
                hint=f"calls resume in at most {self.reset_after:.0f} s; check the source's status",
            )

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._opened_at = self.clock()
