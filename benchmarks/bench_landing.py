"""Landing throughput of the raw zone (issue 2 §5; standard 4.3.5 a), beside its floor.

Writes N platform orders (default 1M, Taobao ``trade`` shape with line items and plaintext
receiver fields, ~1 KB each) as JSONL part files, lands them with ``ingest_files`` into a fresh
workspace in a child process (real FieldCipher: every personal field encrypted), and reports
records/s, MB/s and the child's peak RSS. The floor is reading the same files once with DuckDB
(``read_ndjson_auto`` materialized) and, for reference, with ``pyarrow.json``; ratio = landing
time / floor time. Output: benchmarks/results/landing.json.

    .venv/bin/python benchmarks/bench_landing.py [--orders 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import orjson

RESULTS = Path(__file__).resolve().parent / "results"
FILES = 4
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
_PLACES = [
    ("江苏省", "南京市", "玄武区"),
    ("浙江省", "杭州市", "西湖区"),
    ("广东省", "深圳市", "南山区"),
    ("上海", "上海市", "徐汇区"),
    ("四川省", "成都市", "武侯区"),
    ("北京", "北京市", "朝阳区"),
]
_TITLES = [
    "玻尿酸补水面膜 5片装",
    "烟酰胺美白精华液 30ml",
    "氨基酸洁面乳 100g",
    "防晒喷雾 SPF50+ 150ml",
    "修护面霜 50ml",
    "卸妆水 500ml",
]


def _trade(i: int, r: random.Random) -> dict[str, object]:
    name = r.choice(_SURNAMES) + r.choice(_GIVEN) + (r.choice(_GIVEN) if r.random() < 0.6 else "")
    mobile = f"1{r.choice('3578')}{r.randrange(10**9):09d}"
    state, city, district = r.choice(_PLACES)
    lines = []
    for j in range(r.choice((1, 1, 1, 2, 3))):
        price = r.choice((39.9, 59.0, 89.0, 129.0, 199.0))
        lines.append(
            {
                "oid": 3_000_000_000_000 + i * 4 + j,
                "num_iid": 600_000_000_000 + r.randrange(5_000),
                "sku_id": 5_000_000_000 + r.randrange(20_000),
                "title": r.choice(_TITLES),
                "num": 1,
                "price": f"{price:.2f}",
                "payment": f"{price:.2f}",
                "outer_sku_id": f"BR-{r.randrange(900):04d}",
                "status": "WAIT_SELLER_SEND_GOODS",
                "refund_status": "NO_REFUND",
            }
        )
    created = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
    return {
        "tid": 2_000_000_000_000 + i,
        "status": "WAIT_SELLER_SEND_GOODS",
        "type": "fixed",
        "buyer_open_uid": f"AAE{r.randrange(10**12):012d}",
        "buyer_nick": name[0] + "**",
        "created": created,
        "modified": created,
        "pay_time": created,
        "payment": f"{sum(float(x['payment']) for x in lines):.2f}",
        "post_fee": "0.00",
        "receiver_name": name,
        "receiver_mobile": mobile,
        "receiver_state": state,
        "receiver_city": city,
        "receiver_district": district,
        "receiver_address": f"{district}中山路{r.randrange(1, 999)}号",
        "receiver_zip": "210000",
        "seller_nick": "某某旗舰店",
        "shipping_type": "express",
        "orders": {"order": lines},
    }


def write_orders(folder: Path, n: int, seed: int = 7) -> tuple[list[Path], int]:
    folder.mkdir(parents=True, exist_ok=True)
    r = random.Random(seed)
    paths = [folder / f"part-{k:05d}.jsonl" for k in range(FILES)]
    with ExitStack() as stack:
        handles = [stack.enter_context(open(p, "wb")) for p in paths]
        for i in range(n):
            handles[i % FILES].write(orjson.dumps(_trade(i, r)) + b"\n")
    return paths, sum(p.stat().st_size for p in paths)


_LAND = """
import sys, time, orjson
from ecfusion.config import Workspace
from ecfusion.lake import RawLake, ingest_files
lake = RawLake.open(Workspace.open(sys.argv[1]))
t, c = time.perf_counter(), time.process_time()
s = ingest_files(lake, "taobao", sys.argv[2:], entity="orders")
r = s.total
lake.close()
print(orjson.dumps({"seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - c,
                    "offered": r.offered, "landed": r.landed,
                    "duplicates": r.duplicates, "quarantined": r.quarantined,
                    "files": len(r.files)}).decode())
"""


def land(workspace: Path, paths: list[Path]) -> tuple[dict[str, float], float]:
    """Land in a child process; returns its report and its peak RSS in MB."""
    from ecfusion.config import Workspace

    Workspace.init(workspace)
    proc = subprocess.run(
        [sys.executable, "-c", _LAND, str(workspace), *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(proc.stdout.strip().splitlines()[-1]), peak_kb / 1024


def floor_duckdb(paths: list[Path]) -> float:
    import duckdb

    con = duckdb.connect()
    files = "[" + ",".join(f"'{p}'" for p in paths) + "]"
    t = time.perf_counter()
    con.execute(f"create table t as select * from read_ndjson_auto({files})")
    return time.perf_counter() - t


def floor_pyarrow(paths: list[Path]) -> float:
    import pyarrow.json as pj

    t = time.perf_counter()
    for p in paths:
        pj.read_json(p)
    return time.perf_counter() - t


def figure(
    name: str, value: float, unit: str, floor: float | None, floor_name: str | None
) -> dict[str, object]:
    ratio = None if not floor else round(value / floor, 2)
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "floor": None if floor is None else round(floor, 3),
        "floor_name": floor_name,
        "ratio": ratio,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, help="keep input and workspace in this folder")
    ap.add_argument("--out", type=Path, default=RESULTS / "landing.json")
    args = ap.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="ecf-bench-landing-"))
    try:
        t = time.perf_counter()
        paths, size = write_orders(base / "input", args.orders)
        gen_s = time.perf_counter() - t
        report, peak_mb = land(base / "ws", paths)
        duck_s, arrow_s = floor_duckdb(paths), floor_pyarrow(paths)
        secs = report["seconds"]
        mb = size / 1e6
        result = {
            "benchmark": "landing",
            "orders": args.orders,
            "input_mb": round(mb, 1),
            "cpus": os.cpu_count(),
            "input_write_seconds": round(gen_s, 2),
            "counts": report,
            "reconciled": report["offered"]
            == report["landed"] + report["duplicates"] + report["quarantined"],
            "figures": [
                figure(
                    "landing_seconds", secs, "s", duck_s, "duckdb read_ndjson_auto (materialized), same files"
                ),
                figure("landing_vs_pyarrow_json", secs, "s", arrow_s, "pyarrow.json.read_json, same files"),
                figure(
                    "records_per_second",
                    report["offered"] / secs,
                    "records/s",
                    report["offered"] / duck_s,
                    "duckdb records/s",
                ),
                figure("mb_per_second", mb / secs, "MB/s", mb / duck_s, "duckdb MB/s"),
                figure("peak_rss_mb", peak_mb, "MB", mb, "input size (MB)"),
            ],
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps(result, indent=2, ensure_ascii=False))
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
