"""Where a run's time goes: ``Timings`` adds up seconds per named step (standard library only, so
the snapshot store and the CLI's light commands can use it without loading an engine)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
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


def slowest(seconds: Mapping[str, float], shown: int) -> tuple[list[tuple[str, float]], int, float]:
    """The ``shown`` slowest steps of ``seconds``, slowest first; how many others there are, and
    their seconds added up (what ``--timings`` and the benchmark show)."""
    ranked = sorted(seconds.items(), key=lambda kv: -kv[1])
    rest = ranked[shown:]
    return ranked[:shown], len(rest), sum(sec for _, sec in rest)
