"""Benchmark: what the copy of the live snapshot costs a run, by the file system the warehouse is on.

Every run builds the next snapshot in a copy of the live one, so that readers are never blocked
and the previous snapshot stays for rollback (warehouse/snapshot.py). The copy is the kernel's
(``clone_file``: ``copy_file_range``): a reflink where the file system shares blocks (XFS, Btrfs),
the bytes elsewhere (ext4). For each ``--dir``: a warehouse of ``--orders`` (bench_standardize's raw
zone, one first run), then ``--repeat`` days of ``--increment`` new orders and as many later
versions (bench_standardize.write_increment), each taken by one incremental run. Figures per
file system:

- the draft alone (the live snapshot copied, then deleted), with ``clone_file`` and with a byte
  copy (``shutil.copyfile``, what runs did before), median seconds;
- each incremental run's seconds;
- the disk the warehouse folder takes after the last run (the live snapshot and the previous one,
  kept for rollback), measured as the file system's free space lost, beside the files' sizes.

Usage: python benchmarks/bench_snapshot_copy.py [--dir PATH ...] [--orders 1000000]
       [--increment 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from bench_standardize import write_increment, write_raw

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.warehouse.snapshot import SnapshotStore, clone_file


def fs_type(path: Path) -> str:
    """The type of the file system ``path`` is on (its longest mount point)."""
    mounts = [p for p in psutil.disk_partitions(all=True) if str(path).startswith(p.mountpoint)]
    return max(mounts, key=lambda p: len(p.mountpoint)).fstype if mounts else "unknown"


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def allocated(paths: list[Path]) -> int:
    """Bytes the file system gave these files (blocks, not apparent size)."""
    return sum(p.stat().st_blocks * 512 for p in paths)


def timed_draft(store: SnapshotStore, build: Callable[[Path, Path], object], repeat: int) -> float:
    """Median seconds to enter and leave a draft (the copy of the live snapshot, then its deletion)."""
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        with store.draft(f"bench-{i}", build=build) as d:
            os.sync()  # a byte copy's pages reach the disk in the timing, as a run's checkpoint makes them
            assert d.path.exists()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(folder: Path, orders: int, increment: int, repeat: int) -> dict[str, object]:
    root = folder / "ecfusion-bench-snapshot-copy"
    shutil.rmtree(root, ignore_errors=True)
    ws = Workspace.init(root)
    write_raw(ws.lake_root, orders)
    os.sync()
    free_at_start = free_bytes(root)
    first = warehouse.run(ws)
    assert first.balanced
    store = SnapshotStore.of(ws)
    live = store.current()
    assert live is not None
    copies = {
        "clone_file": timed_draft(store, clone_file, repeat),
        "byte_copy": timed_draft(store, shutil.copyfile, repeat),
    }
    runs, raw_added = [], 0
    for day in range(1, repeat + 1):
        write_increment(ws.lake_root, orders, increment, day)
        raw_added += allocated(list(ws.lake_root.glob(f"raw/*/*/dt=2026-11-{20 + day}/*.parquet")))
        t = time.perf_counter()
        summary = warehouse.run(ws)
        runs.append(time.perf_counter() - t)
        assert summary.balanced
    os.sync()
    snapshots = [p for p in (store.current(), store.previous()) if p is not None]
    used = free_at_start - free_bytes(root) - raw_added
    result = {
        "dir": str(folder),
        "file_system": fs_type(folder.resolve()),
        "live_snapshot_mb": round(snapshots[0].stat().st_size / 1e6, 1),
        "draft_seconds": {k: round(v, 3) for k, v in copies.items()},
        "incremental_run_seconds_each": [round(s, 2) for s in runs],
        "incremental_run_seconds": round(statistics.median(runs), 2),
        "warehouse_disk_mb": round(used / 1e6, 1),
        "live_plus_previous_file_sizes_mb": round(sum(p.stat().st_size for p in snapshots) / 1e6, 1),
    }
    shutil.rmtree(root)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, action="append", help="where to measure (repeatable)")
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--increment", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "snapshot_copy.json")
    args = ap.parse_args()
    folders = args.dir or [Path(tempfile.gettempdir())]
    result = {
        "orders": args.orders,
        "increment": args.increment,
        "file_systems": [measure(f, args.orders, args.increment, args.repeat) for f in folders],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
