"""Benchmark: how long a command takes to start, beside the interpreter loading what the CLI is made of.

A user pays the start on every command, and a monitor calling ``ecfusion warehouse status --json``
each minute pays it each minute. Each figure is the median wall time of ``--repeat`` fresh
processes (``.venv``'s ``ecfusion``, output discarded):

- ``help``: ``ecfusion --help``, every command built, nothing run;
- ``warehouse_status``: ``ecfusion warehouse status --json`` on an empty workspace;
- ``sources_list``: ``ecfusion sources list`` (opens the sources' control plane: SQLAlchemy);
- floors: the interpreter alone (``python -c pass``), and importing what every command is built
  from (typer, rich, pydantic for the configuration, DuckDB and pyarrow for the engine's errors).

Usage: python benchmarks/bench_cli_start.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ecfusion.config import Workspace

HERE = Path(__file__).resolve().parent
ECFUSION = Path(sys.executable).with_name("ecfusion")
BUILT_FROM = "import typer, rich.table, rich.progress, pydantic, duckdb, pyarrow"


def wall(argv: list[str], repeat: int) -> dict[str, Any]:
    """Median and each wall time of ``repeat`` fresh runs of ``argv``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return {"seconds": round(statistics.median(times), 3), "each": [round(x, 3) for x in times]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "cli_start.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "ws")
        floor_python = wall([sys.executable, "-c", "pass"], args.repeat)
        floor_built = wall([sys.executable, "-c", BUILT_FROM], args.repeat)
        commands = {
            "help": [str(ECFUSION), "--help"],
            "warehouse_status": [str(ECFUSION), "warehouse", "status", "--json", "-w", str(ws.root)],
            "sources_list": [str(ECFUSION), "sources", "list", "-w", str(ws.root)],
        }
        figures = {name: wall(argv, args.repeat) for name, argv in commands.items()}
    floor = floor_built["seconds"]
    result = {
        "repeat": args.repeat,
        "floor_python_s": floor_python["seconds"],
        "floor_libraries_s": {**floor_built, "imports": BUILT_FROM},
        **{name: f | {"ratio_to_floor_libraries": round(f["seconds"] / floor, 2)}
           for name, f in figures.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
