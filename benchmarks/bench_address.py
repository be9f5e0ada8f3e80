"""Benchmark: address → province/city/district at order-line scale (T/JNBDA 0003-2025 5.2 Table 1 L3 c).

Generates N messy addresses (default 1,000,000 rows over 300,000 distinct values, Zipf-like
repetition as in real order streams: repeat buyers, one address per household) from the
shipped division table with the quirks buyers type — short names, missing province or
district, separators, full-width digits, traditional characters — and measures:

* ``AddressParser.parse_batch`` over Arrow record batches of 100k rows, fresh parser:
  addresses/s, beside two floors (a plain Python loop that only reads each string; DuckDB
  scanning the same Arrow column) and the ratio; the target is >= 50,000 addresses/s;
* time per distinct address, uncached;
* peak RSS of the process;
* accuracy against the generated truth (province, city, district all equal);
* agreement with jionlp.parse_location on a sample, when a Python with jionlp is given
  (``--jionlp-python /path/to/python``; jionlp is not a dependency of ecfusion).

Run:  .venv/bin/python benchmarks/bench_address.py [--rows 1000000 --distinct 300000]
Writes benchmarks/results/address.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import zhconv

from ecfusion.standardize.normalize import AddressParser, DivisionTable
from ecfusion.standardize.normalize.divisions import default_division_table

ROADS = [
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "文化路",
    "胜利路",
    "幸福路",
    "青年路",
    "长江路",
    "黄河路",
    "朝阳路",
    "光明路",
    "东风路",
    "学府路",
    "科技路",
    "工业大道",
    "滨江大道",
    "世纪大道",
]
ESTATES = [
    "阳光小区",
    "幸福家园",
    "锦绣花园",
    "金色港湾",
    "碧桂园",
    "万科城",
    "绿地公馆",
    "华府",
    "翠苑",
    "名都",
]
BATCH_ROWS = 100_000
JIONLP_SAMPLE = 2_000
FLOOR_TARGET = 50_000


def _targets(table: DivisionTable) -> list[tuple[str, str, str | None, list]]:
    """(province, city, district|None, chain) for every district and every city without districts."""
    out = []
    for d in table.divisions:
        if d.level == 3 or (d.level == 2 and not table.children.get(d.id)):
            chain = table.ancestors(d.id)
            names = {c.level: c for c in chain}
            out.append((names[1].name, names[2].name, names[3].name if 3 in names else None, chain))
    return out


def _form(rng: random.Random, div, p_full: float, p_alias: float) -> str:
    r = rng.random()
    if r < p_full or not div.aliases:
        return div.name if r < p_full + p_alias else ""
    return div.aliases[0] if r < p_full + p_alias else ""


def _fullwidth_digits(text: str) -> str:
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})


def make_address(rng: random.Random, target: tuple) -> tuple[str, tuple[str, str, str | None]]:
    province, city, district, chain = target
    by_level = {c.level: c for c in chain}
    parts = [_form(rng, by_level[1], 0.5, 0.25), _form(rng, by_level[2], 0.6, 0.3)]
    truth_district: str | None = None
    if 3 in by_level:
        form = _form(rng, by_level[3], 0.75, 0.1)
        parts.append(form)
        truth_district = district if form else None
    sep = rng.choices(["", " ", ",", " - "], weights=[70, 20, 7, 3])[0]
    detail = f"{rng.choice(ROADS)}{rng.randint(1, 999)}号"
    if rng.random() < 0.6:
        detail += f"{rng.choice(ESTATES)}{rng.randint(1, 30)}栋{rng.randint(1, 30)}0{rng.randint(1, 6)}室"
    text = sep.join(p for p in parts if p) + sep + detail
    # What the text still says: a level nobody wrote (nor anything below it) cannot be known.
    single_city = len(default_division_table().children.get(by_level[1].id, [])) == 1  # 北京市, 香港
    truth_city = city if (parts[1] or truth_district or (parts[0] and single_city)) else None
    truth_province = province if (parts[0] or truth_city) else None
    if rng.random() < 0.05:
        text = _fullwidth_digits(text)
    if rng.random() < 0.03:
        text = zhconv.convert(text, "zh-hant")
    return text, (truth_province, truth_city, truth_district)


def generate(rows: int, distinct: int, seed: int) -> tuple[pa.Array, list[str], list[tuple]]:
    rng = random.Random(seed)
    targets = _targets(default_division_table())
    uniques: list[str] = []
    truths: list[tuple] = []
    seen: set[str] = set()
    while len(uniques) < distinct:
        text, truth = make_address(rng, rng.choice(targets))
        if text not in seen:
            seen.add(text)
            uniques.append(text)
            truths.append(truth)
    nprng = np.random.default_rng(seed)
    ranks = nprng.zipf(1.3, size=rows) - 1
    fresh = nprng.integers(0, distinct, size=rows)
    idx = np.where(ranks < distinct, ranks, fresh)
    idx[:distinct] = np.arange(distinct)  # every distinct value occurs at least once
    nprng.shuffle(idx)
    return pa.array(uniques, pa.string()).take(pa.array(idx)), uniques, truths


class Clock:
    """Wall and process-CPU seconds: the machine is shared, CPU time drifts far less than wall time."""

    def __enter__(self) -> Clock:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def floor_python_loop(arr: pa.Array) -> Clock:
    with Clock() as clock:
        total = 0
        for start in range(0, len(arr), BATCH_ROWS):
            for s in arr.slice(start, BATCH_ROWS).to_pylist():
                total += len(s)
    return clock


def floor_duckdb(arr: pa.Array) -> Clock:
    tbl = pa.table({"address": arr})  # noqa: F841 - scanned by DuckDB's replacement scan
    with Clock() as clock:
        duckdb.sql("SELECT sum(length(address)) FROM tbl").fetchall()
    return clock


def run_parse(arr: pa.Array) -> tuple[Clock, pa.StructArray]:
    parser = AddressParser()
    with Clock() as clock:
        outs = [parser.parse_batch(arr.slice(s, BATCH_ROWS)) for s in range(0, len(arr), BATCH_ROWS)]
    return clock, pa.concat_arrays(outs)


def per_distinct_uncached(uniques: list[str], n: int = 50_000) -> dict[str, float]:
    parser = AddressParser()
    sample = uniques[:n]
    with Clock() as clock:
        for s in sample:
            parser.parse(s)
    return {"wall": round(clock.wall / len(sample) * 1e6, 2), "cpu": round(clock.cpu / len(sample) * 1e6, 2)}


def accuracy(uniques: list[str], truths: list[tuple]) -> dict[str, float]:
    parser = AddressParser()
    hit = {"province": 0, "city": 0, "district": 0, "all": 0}
    for text, (prov, city, dist) in zip(uniques, truths, strict=True):
        got = parser.parse(text)
        ok = (got.province == prov, got.city == city, got.district == dist)
        hit["province"] += ok[0]
        hit["city"] += ok[1]
        hit["district"] += ok[2]
        hit["all"] += all(ok)
    return {k: round(100.0 * v / len(uniques), 2) for k, v in hit.items()}


_JIONLP_SCRIPT = """
import json, sys
import jionlp
out = []
for line in sys.stdin:
    r = jionlp.parse_location(json.loads(line))
    out.append([r.get("province"), r.get("city"), r.get("county")])
json.dump(out, sys.stdout)
"""


def jionlp_agreement(python: str, uniques: list[str], seed: int) -> dict[str, object]:
    rng = random.Random(seed + 1)
    sample = rng.sample(uniques, min(JIONLP_SAMPLE, len(uniques)))
    with tempfile.TemporaryFile("w+") as fh:
        fh.write("\n".join(json.dumps(s, ensure_ascii=False) for s in sample))
        fh.seek(0)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [python, "-c", _JIONLP_SCRIPT], stdin=fh, capture_output=True, text=True, check=True
        )
        jio_seconds = time.perf_counter() - t0
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    parser = AddressParser()
    agree = {"province": 0, "city": 0, "district": 0, "all": 0}
    for text, (jp, jc, jd) in zip(sample, theirs, strict=True):
        got = parser.parse(text)
        ok = (got.province == jp, got.city == jc, got.district == jd)
        agree["province"] += ok[0]
        agree["city"] += ok[1]
        agree["district"] += ok[2]
        agree["all"] += all(ok)
    return {
        "sample": len(sample),
        "agreement_pct": {k: round(100.0 * v / len(sample), 2) for k, v in agree.items()},
        "jionlp_seconds_per_address_incl_import": round(jio_seconds / len(sample), 5),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--distinct", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jionlp-python", default=None, help="a Python interpreter with jionlp installed")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "address.json"))
    args = ap.parse_args()

    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    arr, uniques, truths = generate(args.rows, args.distinct, args.seed)
    gen_seconds = time.perf_counter() - t0
    rss_before = peak_rss_mb()

    loop = floor_python_loop(arr)
    duck = floor_duckdb(arr)
    parse, parsed = run_parse(arr)
    rss_after = peak_rss_mb()
    assert len(parsed) == len(arr)
    rate, cpu_rate = len(arr) / parse.wall, len(arr) / parse.cpu

    result: dict[str, object] = {
        "benchmark": "address_parse",
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "input": {
            "rows": len(arr),
            "distinct": len(uniques),
            "batch_rows": BATCH_ROWS,
            "generate_seconds": round(gen_seconds, 2),
        },
        "load_average_1m_at_start": round(load, 2),
        "parse_seconds": {"wall": round(parse.wall, 3), "cpu": round(parse.cpu, 3)},
        "addresses_per_second_wall": {
            "value": round(rate),
            "target": FLOOR_TARGET,
            "ratio_to_target": round(rate / FLOOR_TARGET, 2),
        },
        "addresses_per_cpu_second": {
            "value": round(cpu_rate),
            "target": FLOOR_TARGET,
            "ratio_to_target": round(cpu_rate / FLOOR_TARGET, 2),
        },
        "floor_python_read_seconds": {"wall": round(loop.wall, 3), "cpu": round(loop.cpu, 3)},
        "ratio_to_python_read_floor": {
            "wall": round(parse.wall / loop.wall, 2),
            "cpu": round(parse.cpu / loop.cpu, 2),
        },
        "floor_duckdb_scan_seconds": {"wall": round(duck.wall, 3), "cpu": round(duck.cpu, 3)},
        "ratio_to_duckdb_floor_wall": round(parse.wall / duck.wall, 1),
        "us_per_distinct_address_uncached": per_distinct_uncached(uniques),
        "peak_rss_mb": {"value": round(rss_after, 1), "after_generating_input": round(rss_before, 1)},
        "accuracy_vs_generated_truth_pct": accuracy(uniques[:50_000], truths[:50_000]),
    }
    if args.jionlp_python:
        result["jionlp"] = jionlp_agreement(args.jionlp_python, uniques, args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
