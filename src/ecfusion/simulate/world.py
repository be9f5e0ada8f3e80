"""What every generation task of the simulated merchant shares, and what each one hands back.

Serves issue 2 (Build §3): the population, the catalog, the calendar and the defect rates are
built once in the parent process; worker processes (forked) read them and each writes its own
files with its own seed, so output does not depend on how tasks are scheduled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ecfusion.simulate.catalog import Catalog
from ecfusion.simulate.defects import DefectRates, DefectRecord, FileStat
from ecfusion.simulate.people import Population


@dataclass(slots=True)
class World:
    out: Path
    seed: int
    start: date
    days: int
    end_bj: int
    population: Population
    catalog: Catalog
    rates: DefectRates
    orders_per_day: dict[str, np.ndarray]  # per platform
    total_orders: int
    progress_counter: Any = None  # a multiprocessing.Value('q') shared with workers, or None

    def rngs(self, task: str) -> tuple[random.Random, np.random.Generator]:
        """The two RNGs of one task: independent of every other task, fixed by (seed, task)."""
        key = [self.seed, *task.encode()]
        return random.Random(f"ecfusion-{self.seed}-{task}"), np.random.default_rng(key)

    def tick(self, n: int) -> None:
        if self.progress_counter is not None:
            with self.progress_counter.get_lock():
                self.progress_counter.value += n


@dataclass(slots=True)
class TaskResult:
    task: str
    files: list[FileStat] = field(default_factory=list)
    defects: list[DefectRecord] = field(default_factory=list)
    truth_rows: dict[str, list[list[str]]] = field(default_factory=dict)
