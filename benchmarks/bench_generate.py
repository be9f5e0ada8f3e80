"""Benchmark: how fast the simulated merchant is written (issue 2, Build §3 and §5).

Runs ``ecfusion.simulate.generate`` at ``--orders`` (default 1,000,000) and records wall time,
CPU time (parent + workers), orders/s, total bytes and peak RSS (parent + children, sampled with
psutil). Because these machines are shared and absolute times drift, it also measures a floor —
the cheapest thing that must happen anyway: serialising the same number of bytes of JSON lines
with orjson and writing them to the same disk, in one process — and reports the ratio of the
generator's CPU time to the floor's CPU time (and of wall to wall).

    .venv/bin/python benchmarks/bench_generate.py                 # 1M orders
    .venv/bin/python benchmarks/bench_generate.py --orders 100000 # quicker

Writes benchmarks/results/generate.json and prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import psutil

from ecfusion.simulate import generate

TARGET_WALL_S_PER_MILLION = 120.0  # issue 2: 1M orders in under 2 minutes on 2 cores
RESULTS = Path(__file__).resolve().parent / "results" / "generate.json"


class PeakRss:
    """Samples the RSS of this process plus all its children every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a worker may exit between list and read
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(0.2)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def floor_write(target: Path, total_bytes: int) -> dict[str, float]:
    """Serialise and write ``total_bytes`` of typical order JSON lines with orjson (one process)."""
    sample = {
        "tid": 2400000000000008810,
        "tid_str": "2400000000000008810",
        "status": "WAIT_SELLER_SEND_GOODS",
        "created": "2025-01-01 00:14:02",
        "payment": "744.20",
        "receiver_name": "陈艳晓",
        "receiver_address": "朝阳路757号翠湖苑23栋3单元603室",
        "orders": {
            "order": [
                {
                    "oid": 2400000000000008811,
                    "title": "【官方旗舰店】QINGLAN 青岚寡肽修护安瓶",
                    "price": "277.20",
                    "num": 1,
                    "sku_properties_name": "规格:28支",
                }
            ]
            * 3
        },
    }
    line_len = len(orjson.dumps(sample)) + 1
    lines = max(1, total_bytes // line_len)
    wall0, cpu0 = time.perf_counter(), _cpu()
    with open(target, "wb", buffering=1 << 20) as fh:
        for i in range(lines):
            sample["tid"] = 2400000000000008810 + i
            fh.write(orjson.dumps(sample) + b"\n")
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    target.unlink()
    return {"wall_s": wall, "cpu_s": cpu, "bytes": lines * line_len}


def run(orders: int, persons: int, days: int, keep: Path | None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ecf-bench-gen-", dir=keep.parent if keep else None))
    out = keep or work / "merchant"
    try:
        wall0, cpu0 = time.perf_counter(), _cpu()
        with PeakRss() as rss:
            manifest = generate(out, persons=persons, days=days, seed=2026, orders=orders)
        wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
        size = _folder_bytes(out)
        floor = floor_write(work / "floor.jsonl", size)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    target = TARGET_WALL_S_PER_MILLION * orders / 1_000_000
    return {
        "benchmark": "generate",
        "orders": manifest.orders,
        "persons": persons,
        "days": days,
        "files": len(manifest.files),
        "bytes": size,
        "order_versions": manifest.records(entity="orders"),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "orders_per_s": round(orders / wall),
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "floor": {
            "what": "orjson-serialise + write the same number of bytes of JSON lines, one process",
            "wall_s": round(floor["wall_s"], 2),
            "cpu_s": round(floor["cpu_s"], 2),
        },
        "ratio_cpu_to_floor": round(cpu / max(floor["cpu_s"], 1e-9), 2),
        "ratio_wall_to_floor": round(wall / max(floor["wall_s"], 1e-9), 2),
        "target_wall_s": round(target, 1),
        "ratio_wall_to_target": round(wall / target, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--persons", type=int, default=None, help="default: orders / 10")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--keep", type=Path, default=None, help="write the merchant here and keep it")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    result = run(args.orders, args.persons or max(100, args.orders // 10), args.days, args.keep)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
