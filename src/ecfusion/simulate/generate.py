"""``generate``: write one simulated merchant — every source, the manifest and the truth.

Serves issue 2 (Build §3) and docs/dev/contracts.md §1 (this package owns that contract): the
folder a loader walks through ``manifest.json`` and the ``truth/`` that evaluation reads.
Deterministic per seed (same arguments → byte-identical files). Fast and bounded: orders stream
day by day, and independent tasks (one per platform, plus logs, stores and CRM) run in two forked
worker processes, each with its own seed, so the output does not depend on scheduling.
"""

from __future__ import annotations

import csv
import gc
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ecfusion.errors import InputError
from ecfusion.simulate.behaviour import run_behaviour
from ecfusion.simulate.calendar import (
    PROMOTIONS,
    allocate,
    beijing_seconds,
    daily_counts,
    default_order_total,
)
from ecfusion.simulate.catalog import BRAND, build_catalog
from ecfusion.simulate.crm import run_crm
from ecfusion.simulate.defects import DefectRates, DefectRecord, FileStat
from ecfusion.simulate.offline import run_offline
from ecfusion.simulate.people import ONLINE_PLATFORMS, build_population
from ecfusion.simulate.platform_feed import run_platform
from ecfusion.simulate.world import TaskResult, World

GENERATOR_VERSION = "1.0.0"
DEFAULT_START = date(2025, 1, 1)
PLATFORM_ORDER_SHARE = {"taobao": 0.42, "jd": 0.20, "pdd": 0.14, "douyin": 0.24}
# Heaviest first, so two workers finish close together.
TASKS = ("orders-taobao", "orders-douyin", "orders-jd", "orders-pdd", "behaviour", "offline", "crm")
OWNED_FOLDERS = (
    "platforms", "pos", "crm", "erp", "app", "ads", "service", "marketing", "logistics", "truth"
)
PARALLEL_FROM_ORDERS = 20_000
GC_YOUNG_THRESHOLD = 50_000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class ManifestFile:
    path: str
    source: str
    platform: str
    entity: str
    format: str
    encoding: str
    records: int


@dataclass(frozen=True, slots=True)
class Manifest:
    seed: int
    persons: int
    days: int
    start_date: str
    end_date: str
    brand: str
    generator_version: str
    orders: int
    files: list[ManifestFile] = field(default_factory=list)

    def to_json(self) -> bytes:
        return orjson.dumps(self, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_DATACLASS)

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """Read ``folder/manifest.json`` (what a loader walks)."""
        path = folder / "manifest.json"
        try:
            raw = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as e:
            raise InputError(
                f"cannot read the simulated merchant's manifest {path}: {e}",
                hint="generate one with `ecfusion demo-data --out DIR`",
            ) from e
        files = [ManifestFile(**f) for f in raw.pop("files")]
        return cls(**raw, files=files)

    def records(self, *, platform: str | None = None, entity: str | None = None) -> int:
        return sum(
            f.records
            for f in self.files
            if (platform is None or f.platform == platform) and (entity is None or f.entity == entity)
        )


_WORLD: World | None = None  # handed to forked workers


def generate(
    out: Path,
    *,
    persons: int,
    days: int,
    seed: int,
    orders: int | None = None,
    defects: DefectRates | None = None,
    start_date: date | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Manifest:
    """Write a simulated merchant into ``out`` and return its manifest.

    ``orders=None`` derives the order count from ``persons`` × ``days`` at a realistic purchase
    frequency; an explicit count is met exactly. ``defects`` defaults to ``DefectRates()``.
    """
    _check_arguments(out, persons, days, orders)
    start = start_date or DEFAULT_START
    total = orders if orders is not None else default_order_total(persons, start, days)
    report = progress or (lambda stage, done, total_: None)

    report("people", 0, persons)
    population = build_population(persons, seed)
    report("people", persons, persons)
    catalog = build_catalog(seed)
    # a platform nobody has an account on (tiny populations) gets no orders; the total is still met
    shares = [PLATFORM_ORDER_SHARE[p] if population.accounts[p] else 0.0 for p in ONLINE_PLATFORMS]
    split = allocate(total, np.array(shares))
    world = World(
        out=out,
        seed=seed,
        start=start,
        days=days,
        end_bj=beijing_seconds(start + timedelta(days)),
        population=population,
        catalog=catalog,
        rates=defects or DefectRates(),
        orders_per_day={
            p: daily_counts(start, days, int(n)) for p, n in zip(ONLINE_PLATFORMS, split, strict=True)
        },
        total_orders=total,
    )
    results = _run_tasks(world, report, workers)
    files = [f for res in results for f in res.files]
    files.append(_write_campaigns(world))
    defect_rows = sorted((d for res in results for d in res.defects), key=lambda d: (d.path, d.line))
    _write_truth(world, defect_rows)
    manifest = Manifest(
        seed=seed,
        persons=persons,
        days=days,
        start_date=start.isoformat(),
        end_date=(start + timedelta(days=days - 1)).isoformat(),
        brand=BRAND,
        generator_version=GENERATOR_VERSION,
        orders=total,
        files=sorted(
            (ManifestFile(**f.manifest_entry()) for f in files),  # type: ignore[arg-type]
            key=lambda f: f.path,
        ),
    )
    (out / "manifest.json").write_bytes(manifest.to_json())
    return manifest


def _check_arguments(out: Path, persons: int, days: int, orders: int | None) -> None:
    if persons < 1:
        raise InputError(f"--persons must be at least 1, got {persons}", hint="try --persons 1000")
    if not 1 <= days <= 3660:
        raise InputError(f"--days must be between 1 and 3660, got {days}", hint="try --days 365")
    if orders is not None and orders < 0:
        raise InputError(f"--orders must not be negative, got {orders}", hint="leave it out to derive it")
    if out.exists() and not out.is_dir():
        raise InputError(f"output path {out} exists and is not a folder", hint="give a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / "manifest.json").exists():
            raise InputError(
                f"output folder {out} is not empty and holds no simulated merchant",
                hint="give a new or empty folder (a previous demo-data folder is replaced)",
            )
        for name in OWNED_FOLDERS:
            shutil.rmtree(out / name, ignore_errors=True)
        (out / "manifest.json").unlink()
    out.mkdir(parents=True, exist_ok=True)


def _run_task(task: str) -> TaskResult:
    world = _WORLD
    assert world is not None, "the world is set before tasks run"
    if task.startswith("orders-"):
        return run_platform(world, task.removeprefix("orders-"))
    if task == "behaviour":
        return run_behaviour(world)
    if task == "offline":
        return run_offline(world)
    if task == "crm":
        return run_crm(world)
    raise ValueError(task)


def _run_tasks(world: World, report: Progress, workers: int | None) -> list[TaskResult]:
    global _WORLD
    # The population and catalog live for the whole run: keep the cyclic GC from re-scanning them
    # (and, after fork, from touching their pages, which would copy them into every worker).
    gc.freeze()
    # Orders in flight are acyclic and short-lived: collecting the youngest generation every few
    # hundred allocations re-scans the days of pending drafts for nothing (≈10 % of the run).
    # A larger first threshold keeps collection (and memory) bounded at a fraction of that cost.
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        return _run_tasks_frozen(world, report, workers)
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _run_tasks_frozen(world: World, report: Progress, workers: int | None) -> list[TaskResult]:
    global _WORLD
    n_workers = (
        workers
        if workers is not None
        else (min(2, os.cpu_count() or 1) if world.total_orders >= PARALLEL_FROM_ORDERS else 1)
    )
    if n_workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        _WORLD = world
        try:
            results = []
            for i, task in enumerate(TASKS):
                report("sources", i, len(TASKS))
                results.append(_run_task(task))
            report("orders", world.total_orders, world.total_orders)
            return results
        finally:
            _WORLD = None
    ctx = multiprocessing.get_context("fork")
    world.progress_counter = ctx.Value("q", 0)
    _WORLD = world
    try:
        with ctx.Pool(n_workers) as pool:
            pending = [pool.apply_async(_run_task, (t,)) for t in TASKS]
            while not all(p.ready() for p in pending):
                report("orders", int(world.progress_counter.value), world.total_orders)
                time.sleep(0.25)
            results = [p.get() for p in pending]
        report("orders", world.total_orders, world.total_orders)
        return results
    finally:
        _WORLD = None
        world.progress_counter = None


def _write_campaigns(world: World) -> FileStat:
    campaigns: list[dict[str, Any]] = []
    for year in range(world.start.year, (world.start + timedelta(world.days)).year + 1):
        for p in PROMOTIONS:
            campaigns.append(
                {
                    "campaign_id": p.campaign_id,
                    "name": f"{year}{p.name}",
                    "year": year,
                    "start": f"{year}-{p.start[0]:02d}-{p.start[1]:02d} 00:00:00",
                    "end": f"{year}-{p.end[0]:02d}-{p.end[1]:02d} 23:59:59",
                    "platforms": list(ONLINE_PLATFORMS),
                    "channels": ["站内", "短信", "小程序"],
                    "budget": round(200_000 * p.boost),
                    "coupon_types": ["满减券", "无门槛券"],
                }
            )
    campaigns.append(
        {
            "campaign_id": "CMP-DAILY",
            "name": "日常店铺券",
            "year": None,
            "start": None,
            "end": None,
            "platforms": list(ONLINE_PLATFORMS),
            "channels": ["站内"],
            "budget": 50_000,
            "coupon_types": ["满减券", "无门槛券"],
        }
    )
    path = world.out / "marketing" / "campaigns.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps({"campaigns": campaigns}, option=orjson.OPT_INDENT_2))
    return FileStat(
        "marketing/campaigns.json", "marketing", "marketing", "campaigns", "json", "utf-8", len(campaigns)
    )


def _write_truth(world: World, defects: list[DefectRecord]) -> None:
    truth = world.out / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    pop = world.population
    with open(truth / "accounts.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source", "platform", "account_id", "person_id"])
        for source, accounts in pop.accounts.items():
            for acc in accounts:
                w.writerow([source, source, acc.account_id, acc.person_id])
        for acc in pop.accounts["crm"]:  # the member card used at the tills
            w.writerow(["pos", "pos", acc.extra, acc.person_id])
    with open(truth / "listings.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["platform", "item_id", "sku_id", "product_id", "std_sku_code"])
        for platform, listings in world.catalog.listings.items():
            for li in listings:
                w.writerow([platform, li.item_id, li.sku_id, li.product.product_id, li.product.std_sku_code])
    with open(truth / "products.jsonl", "wb") as fb:
        for p in world.catalog.products:
            fb.write(orjson.dumps(p.truth_record()) + b"\n")
    with open(truth / "persons.jsonl", "wb") as fb:
        for person in pop.persons:
            fb.write(orjson.dumps(person.truth_record()) + b"\n")
    with open(truth / "defects.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source", "entity", "path", "line", "record_key", "kind"])
        for d in defects:
            w.writerow([d.source, d.entity, d.path, d.line, d.record_key, d.kind])
