"""Injected faults of a mock platform, from a spec like ``rate_limit=0.02,http5xx=0.02,truncate=0.01``.

Kinds: ``rate_limit`` (the platform's rate-limit error), ``http5xx`` (HTTP 502/503), ``slow``
(answer after ``slow_seconds``), ``timeout`` (hold the request longer than a client waits),
``truncate`` (cut the body mid-JSON), ``duplicate_page`` (answer a page with a neighbouring page's
content). Each is a probability per business call; a seeded RNG makes runs repeatable.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from ecfusion.errors import ConfigError

KINDS = ("rate_limit", "http5xx", "slow", "timeout", "truncate", "duplicate_page")


@dataclass
class FaultPlan:
    rates: dict[str, float] = field(default_factory=dict)
    slow_seconds: float = 0.5
    timeout_seconds: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {k: 0 for k in KINDS}

    @classmethod
    def parse(cls, spec: str | None, *, seed: int = 0) -> FaultPlan:
        """``"rate_limit=0.02,http5xx=0.01,slow_seconds=0.3"``; empty or None means no faults."""
        rates: dict[str, float] = {}
        extra: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            name, _, value = part.partition("=")
            try:
                number = float(value)
            except ValueError:
                raise ConfigError(
                    f"fault spec '{part}': '{value}' is not a number",
                    hint="write NAME=PROBABILITY, e.g. http5xx=0.02",
                ) from None
            if name in KINDS:
                rates[name] = number
            elif name in ("slow_seconds", "timeout_seconds"):
                extra[name] = number
            else:
                raise ConfigError(
                    f"fault spec: unknown fault '{name}'",
                    hint=f"use one of: {', '.join(KINDS)}, slow_seconds, timeout_seconds",
                )
        return cls(rates=rates, seed=seed, **extra)

    def draw(self, *, paged: bool = False) -> str | None:
        """At most one fault for this call (``duplicate_page`` only on paged list calls)."""
        with self._lock:
            for kind in KINDS:
                rate = self.rates.get(kind, 0.0)
                if kind == "duplicate_page" and not paged:
                    continue
                if rate > 0 and self._rng.random() < rate:
                    self.injected[kind] += 1
                    return kind
        return None
