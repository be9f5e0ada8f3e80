"""Run every benchmark (benchmarks/bench_*.py) and merge their JSON into benchmarks/results/all.json.

Each bench script writes its own ``results/<name>.json`` (each figure beside its floor and the
ratio, ARCHITECTURE "What we measure"); this runner runs them one after another — never in
parallel, they would measure each other — and merges every result file into ``all.json`` with
each script's exit status and wall time. Extra arguments go to every script (e.g. ``--orders``
where a script accepts it is not assumed; pass ``--only NAME`` to run one).

    .venv/bin/python benchmarks/run_all.py [--only landing]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def run_one(script: Path) -> dict[str, object]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
    return {
        "script": script.name,
        "exit_code": proc.returncode,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "stderr_tail": proc.stderr[-2000:] if proc.returncode else "",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="run every benchmarks/bench_*.py and merge the results")
    ap.add_argument("--only", action="append", default=[], help="run only bench_NAME.py (repeatable)")
    args = ap.parse_args(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    runs = []
    for script in scripts:
        print(f"running {script.name} …", flush=True)
        runs.append(run_one(script))
        print(f"  exit {runs[-1]['exit_code']} in {runs[-1]['wall_seconds']} s", flush=True)
    merged: dict[str, object] = {}
    for path in sorted(RESULTS.glob("*.json")):
        if path.name != "all.json":
            try:
                merged[path.stem] = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                merged[path.stem] = {"error": f"unreadable result file: {e}"}
    out = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "runs": runs, "results": merged}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "all.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / 'all.json'}")
    return 1 if any(r["exit_code"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
