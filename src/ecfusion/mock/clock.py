"""The mock platform's simulated clock: order versions become visible when modified ≤ clock.

The clock starts at ``start`` and runs at ``speed`` simulated seconds per real second (0 = frozen),
never past ``end``. Advancing it makes later versions of orders appear, i.e. "orders modified after
they were first served". The soak harness moves it through the admin endpoint.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class MockClock:
    def __init__(self, start: datetime, *, speed: float = 0.0, end: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._base = start.astimezone(UTC)
        self._t0 = time.monotonic()
        self.speed = speed
        self.end = end.astimezone(UTC) if end else None

    def now(self) -> datetime:
        with self._lock:
            t = self._base + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)
            return min(t, self.end) if self.end else t

    def set(
        self, now: datetime | None = None, *, speed: float | None = None, end: datetime | None = None
    ) -> None:
        current = self.now()
        with self._lock:
            self._base = (now or current).astimezone(UTC)
            self._t0 = time.monotonic()
            if speed is not None:
                self.speed = speed
            if end is not None:
                self.end = end.astimezone(UTC)
