"""Where a run's time goes: ``Timings`` adds up seconds per named step (standard library only, so
the snapshot store and the CLI's light commands can use it without loading an engine)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Timings:
    """Seconds spent per named step of a run (a relation computed, a table written), added up when
    a name recurs: what ``ecfusion run --timings`` and the benchmark show of where a run's time goes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Add the block's wall time to ``name`` (also when it raises)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
