"""Benchmark: the same raw → unified run on Spark (local mode) beside DuckDB (issue 3 Build item 7).

bench_standardize's raw zone (``--orders`` across the four platforms), taken by one
``warehouse.run`` on each engine, each over a fresh copy. Figures: seconds and orders/s per engine,
Spark's JVM start (a session started and stopped alone, before) and the ratio, and that both
engines published the same unified orders, lines and parcels (a hash of every row of each).
Spark here is local mode on this machine's cores: it shows what the second engine costs where
DuckDB fits; on a cluster the same SQL spreads over executors.

Usage: python benchmarks/bench_spark.py [--orders 100000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import psutil
from bench_standardize import write_raw

from ecfusion import warehouse
from ecfusion.config import Workspace

# every row of each table, order-independent: the engines must agree on all of them
CHECKS = {
    t: f"SELECT count(*), sum(hash(t)) FROM unified.{t} AS t" for t in ("orders", "order_line", "shipment")
}


def timed_run(template: Path, root: Path, engine: str) -> tuple[float, dict[str, list[object]]]:
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root)
    ws = Workspace.open(root)
    t = time.perf_counter()
    summary = warehouse.run(ws, engine=engine)
    seconds = time.perf_counter() - t
    assert summary.balanced
    con = warehouse.connect(ws)
    try:
        figures = {name: list(con.execute(sql).fetchone() or ()) for name, sql in CHECKS.items()}
    finally:
        con.close()
    return seconds, figures


def jvm_start_seconds(log: Path) -> float:
    """A session started alone (the JVM, Spark's context), then stopped: what every Spark run pays."""
    from ecfusion.engine.spark import local_session

    t = time.perf_counter()
    session = local_session(psutil.cpu_count() or 2, log=log)
    session.sql("SELECT 1").collect()
    seconds = time.perf_counter() - t
    session.stop()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "spark.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        template = Workspace.init(Path(tmp) / "template")
        write_raw(template.lake_root, args.orders)
        start = jvm_start_seconds(Path(tmp) / "spark.log")
        duck_s, duck = timed_run(template.root, Path(tmp) / "duck", "duckdb")
        spark_s, spark = timed_run(template.root, Path(tmp) / "spark", "spark")
    result = {
        "orders": args.orders,
        "cores": psutil.cpu_count(),
        "duckdb": {"seconds": round(duck_s, 2), "orders_per_s": round(args.orders / duck_s)},
        "spark_local": {"seconds": round(spark_s, 2), "orders_per_s": round(args.orders / spark_s)},
        "spark_jvm_start_s": round(start, 2),
        "spark_to_duckdb": round(spark_s / duck_s, 1),
        "same_rows": spark == duck,
        "rows": duck,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
