"""Benchmark: day after day on one warehouse (issue 3 Build item 5, warehouse/compaction.py).

Day 0 takes ``--orders`` orders across the four platforms (bench_standardize's raw); each later day
lands ``--increment`` new orders and as many later versions of other day-0 orders, and runs
``warehouse.run`` on the same workspace. Per day: the run's seconds, the live snapshot's size, the
replaced rows it still stores and whether the next run compacts. Replaced rows accumulate as
tombstones until a table is worth compacting; the day that crosses the line shows it, and the file
stops growing with them. Beside it, the same days with DuckDB's default (a vacuum at every
checkpoint), to compare time and file size. After the last day, each series's warehouse is
compacted (``ecfusion warehouse compact``): its seconds, and the file before and after.
Writes benchmarks/results/incremental_days.json.

Usage: python benchmarks/bench_incremental_days.py [--orders 1000000] [--increment 100000] [--days 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from bench_standardize import write_increment, write_raw

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.warehouse import compaction
from ecfusion.warehouse.snapshot import SnapshotStore


def day_figures(ws: Workspace, day: int, seconds: float, records: int) -> dict[str, object]:
    live = SnapshotStore.of(ws).current()
    assert live is not None
    con = warehouse.connect(ws)
    try:
        tables = compaction.storage(con)
        space = compaction.file_space(con, live, tables)
    finally:
        con.close()
    orders = next(t for t in tables if t.table == "unified.orders")
    return {
        "day": day,
        "raw_records": records,
        "seconds": round(seconds, 2),
        "records_per_s": round(records / seconds),
        "snapshot_mb": round(live.stat().st_size / 1e6, 1),
        "free_blocks_mb": round(space.free_bytes / 1e6, 1),
        "orders_live": orders.live_rows,
        "orders_deleted_still_stored": orders.dead_rows,
        "deleted_still_stored_all_tables": sum(t.dead_rows for t in tables),
        "next_run_compacts": [t.table for t in tables if t.worth_compacting],
    }


def series(args: argparse.Namespace, tmp: Path) -> tuple[list[dict[str, object]], dict[str, object]]:
    days = []
    ws = Workspace.init(tmp / "ws")
    write_raw(ws.lake_root, args.orders)
    for day in range(args.days + 1):
        records = args.orders
        if day > 0:
            records = write_increment(ws.lake_root, args.orders, args.increment, day)
        t = time.perf_counter()
        summary = warehouse.run(ws)
        seconds = time.perf_counter() - t
        assert summary.balanced
        days.append(day_figures(ws, day, seconds, records))
        print(json.dumps(days[-1]), flush=True)
    return days, compact_figures(ws)


def compact_figures(ws: Workspace) -> dict[str, object]:
    """``ecfusion warehouse compact`` on the last day's warehouse."""
    done = SnapshotStore.of(ws).compact()
    assert done.after is not None
    figures = {
        "seconds": round(done.seconds, 2),
        "snapshot_mb_before": round(done.before.bytes / 1e6, 1),
        "free_blocks_mb_before": round(done.before.free_bytes / 1e6, 1),
        "deleted_still_stored_before": done.before.dead_rows,
        "snapshot_mb_after": round(done.after.bytes / 1e6, 1),
        "free_blocks_mb_after": round(done.after.free_bytes / 1e6, 1),
        "deleted_still_stored_after": done.after.dead_rows,
    }
    print(json.dumps({"compact": figures}), flush=True)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--increment", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "incremental_days.json")
    args = ap.parse_args()
    if args.days * args.increment > args.orders:  # each day updates other day-0 orders
        ap.error(f"--days × --increment ({args.days * args.increment:,}) exceeds --orders ({args.orders:,}): "
                 "the later versions would name orders day 0 never had")
    with tempfile.TemporaryDirectory() as tmp:
        policy, policy_compact = series(args, Path(tmp) / "policy")
    # the comparison: every run's checkpoint vacuums, as DuckDB does unless told otherwise
    configure = compaction.configure
    compaction.configure = lambda conn: None  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            default, default_compact = series(args, Path(tmp) / "default")
    finally:
        compaction.configure = configure

    def total(days: list[dict[str, object]]) -> float:
        return round(sum(float(d["seconds"]) for d in days[1:]), 2)  # type: ignore[arg-type]

    result = {
        "orders_day_0": args.orders,
        "new_orders_per_day": args.increment,
        "later_versions_per_day": args.increment,
        "compaction_policy": {
            "days": policy, "seconds_days_1_to_n": total(policy), "then_compact": policy_compact
        },
        "duckdb_default_vacuum_every_run": {
            "days": default, "seconds_days_1_to_n": total(default), "then_compact": default_compact
        },
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
