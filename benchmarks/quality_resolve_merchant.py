"""Resolution quality on the simulated merchant with its default defects (issue 4 "Must show").

    .venv/bin/python benchmarks/quality_resolve_merchant.py [--runs 7:2000 11:2000 5:20000]

For each ``seed:persons``, exactly as a user would: ``ecfusion demo-data`` (90 days), ``init``,
``ingest manifest``, ``run``, ``er run``, ``er evaluate --json``. Records member pairwise
precision / F1, product F1 and the same-name people merged, each beside its target, in
benchmarks/results/resolve_merchant.json. Quality, not speed: the load average does not matter.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "resolve_merchant.json"
ECFUSION = [sys.executable, "-m", "ecfusion"]


def _ecfusion(*args: str) -> str:
    done = subprocess.run([*ECFUSION, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ecfusion {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def evaluate_merchant(seed: int, persons: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        src, ws = Path(tmp) / "src", Path(tmp) / "ws"
        size = ["--persons", str(persons), "--days", "90", "--seed", str(seed)]
        _ecfusion("demo-data", *size, "--out", str(src))
        _ecfusion("init", str(ws))
        _ecfusion("ingest", "manifest", str(src), "--workspace", str(ws))
        _ecfusion("run", "--workspace", str(ws))
        _ecfusion("er", "run", "--workspace", str(ws))
        truth = str(src / "truth")
        scores = json.loads(_ecfusion("er", "evaluate", "--workspace", str(ws), "--truth", truth, "--json"))
    m, p = scores["members"], scores["products"]
    return {
        "seed": seed,
        "persons": persons,
        "member_records": m["records"],
        "member_pairwise_precision": {"value": m["pairwise_precision"], "target_min": 0.99},
        "member_pairwise_recall": m["pairwise_recall"],
        "member_pairwise_f1": {"value": m["pairwise_f1"], "target_min": 0.97},
        "product_pairwise_f1": {"value": p["pairwise_f1"], "target_min": 0.95},
        "same_name_people": m["same_name_people"],
        "same_name_merged_pairs": {"value": m["same_name_merged_pairs"], "target_max": 0},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["7:2000", "11:2000", "5:20000"], help="seed:persons")
    args = parser.parse_args()
    out = []
    for run in args.runs:
        seed, persons = (int(x) for x in run.split(":"))
        out.append(evaluate_merchant(seed, persons))
        print(json.dumps(out[-1], ensure_ascii=False), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
