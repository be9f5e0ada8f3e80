"""Benchmark: a first load larger than a run's memory, under ``[warehouse] memory_limit``.

A run holds its stages in DuckDB's buffer pool: about 2.4 GB per million orders on this kind of
machine (bench_standardize: 3.1 GB at 1M). A merchant's backfill of several million orders in
one run would need more memory than the machine has; with ``memory_limit`` set, DuckDB spills
what does not fit beside the warehouse instead. This measures the same raw zone (``--orders``
across the four platforms, bench_standardize's payloads) taken by one ``warehouse.run`` twice:
with DuckDB's default limit (80% of the memory), and with ``--limit``. Each run is its own
process, so each peak RSS is its own. Figures: seconds, orders/s and peak RSS of each, the
slowdown the limit costs, and whether the capped run's peak stayed within the limit plus the
Python process's own share (``--slack``).

Usage: python benchmarks/bench_memory_limit.py [--orders 4000000] [--limit 4GB] [--slack 0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = """
import json, resource, sys, time
from ecfusion import warehouse
from ecfusion.config import Workspace
ws = Workspace.open(sys.argv[1])
t = time.perf_counter()
s = warehouse.run(ws)
seconds = time.perf_counter() - t
con = warehouse.connect(ws)
[(orders,)] = con.execute("SELECT count(*) FROM unified.orders").fetchall()
con.close()
print(json.dumps({"seconds": seconds, "balanced": s.balanced, "orders": orders,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def set_limit(root: Path, limit: str) -> None:
    config = root / "ecfusion.toml"
    text = config.read_text(encoding="utf-8")
    assert 'memory_limit = ""' in text, "the default config no longer has memory_limit"
    config.write_text(text.replace('memory_limit = ""', f'memory_limit = "{limit}"', 1), encoding="utf-8")


def timed_run(template: Path, scratch: Path, limit: str | None) -> dict[str, object]:
    """One run over a fresh copy of the template workspace, in a process of its own."""
    root = scratch / "ws"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root)
    if limit:
        set_limit(root, limit)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(root)], capture_output=True, text=True)
    if proc.returncode:
        which = f"limit {limit}" if limit else "no limit"
        raise SystemExit(f"the run failed ({which}):\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(root)
    return out


def gigabytes(size: str) -> float:
    """'4GB' → 4.0 (the limits this script is given: a number and GB or MB)."""
    number, unit = size[:-2], size[-2:].upper()
    return float(number) * {"GB": 1.0, "MB": 1e-3}[unit]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=4_000_000)
    ap.add_argument("--limit", default="4GB", help="memory_limit of the capped run (NGB or NMB)")
    ap.add_argument("--slack", type=float, default=0.5, help="GB the Python process may hold beside DuckDB")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "memory_limit.json")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    import bench_standardize  # the same raw payloads as the 1M benchmark

    from ecfusion.config import Workspace

    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        template = Workspace.init(Path(tmp) / "template")
        bench_standardize.write_raw(template.lake_root, args.orders)
        default = timed_run(template.root, Path(tmp), None)
        capped = timed_run(template.root, Path(tmp), args.limit)
    for r in (default, capped):
        assert r["balanced"] and r["orders"] == args.orders, r
    ceiling = gigabytes(args.limit) + args.slack
    result = {
        "orders": args.orders,
        "default_limit": {
            "seconds": round(default["seconds"], 2),
            "orders_per_s": round(args.orders / default["seconds"]),
            "peak_rss_gb": round(default["peak_rss_gb"], 2),
        },
        "memory_limit": {
            "limit": args.limit,
            "seconds": round(capped["seconds"], 2),
            "orders_per_s": round(args.orders / capped["seconds"]),
            "peak_rss_gb": {"value": round(capped["peak_rss_gb"], 2), "target_max": ceiling},
        },
        # what spilling costs: the capped run's time over the uncapped one's
        "slowdown": round(capped["seconds"] / default["seconds"], 2),
        "within_limit": capped["peak_rss_gb"] <= ceiling,
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "cores": os.cpu_count(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
