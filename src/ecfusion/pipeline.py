"""The end-to-end job (standard 4.2: 采集 → 存储 → 融合): land, standardize, resolve.

``run_end_to_end`` is what ``ecfusion run`` does on a workspace whose raw zone is fed by its
sources; ``run_demo`` first generates a simulated merchant and lands it. Both only call the
layers' own APIs, in order, and return their summaries together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ecfusion.config import Workspace
from ecfusion.lake import LandingSummary, RawLake
from ecfusion.lake.manifest import ingest_manifest
from ecfusion.resolve import ResolveSummary
from ecfusion.resolve import run as resolve
from ecfusion.simulate import generate
from ecfusion.warehouse import RunSummary
from ecfusion.warehouse import run as standardize

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class EndToEndResult:
    warehouse: RunSummary
    resolve: ResolveSummary | None
    seconds: float

    @property
    def balanced(self) -> bool:
        return self.warehouse.balanced


@dataclass
class DemoResult(EndToEndResult):
    landing: LandingSummary = None  # type: ignore[assignment]

    @property
    def balanced(self) -> bool:
        return self.warehouse.balanced and all(r.reconciled for r in self.landing.results.values())


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def run_end_to_end(ws: Workspace, *, engine: str = "duckdb", progress: Progress = _quiet) -> EndToEndResult:
    """Standardize what is new in the raw zone, then resolve members and products."""
    started = time.perf_counter()
    warehouse = standardize(ws, engine=engine, progress=lambda s, d, t: progress(f"standardize: {s}", d, t))
    steps = iter(range(1, 1_000))
    resolved = resolve(ws, engine=engine, progress=lambda msg: progress("resolve", next(steps), 0))
    return EndToEndResult(warehouse, resolved, time.perf_counter() - started)


def run_demo(ws: Workspace, sources: Path, *, persons: int, days: int, seed: int, engine: str = "duckdb",
             progress: Progress = _quiet) -> DemoResult:
    """Generate a simulated merchant into ``sources``, land it in ``ws``, then run end to end."""
    started = time.perf_counter()
    generate(sources, persons=persons, days=days, seed=seed,
             progress=lambda s, d, t: progress(f"generate: {s}", d, t))
    lake = RawLake.open(ws)
    landing = ingest_manifest(lake, sources, progress=lambda label, d, t: progress("land", d, t))
    rest = run_end_to_end(ws, engine=engine, progress=progress)
    return DemoResult(rest.warehouse, rest.resolve, time.perf_counter() - started, landing=landing)
