"""A command starts without the heavy libraries it does not use.

``ecfusion --help`` once imported SQLAlchemy, SQLGlot, Splink and pypinyin (3.5 s before the first
line): the packages' ``__init__`` imported every submodule, and the command modules imported the
landing, the column lineage and the demo pipeline at their top. Each now loads on first use
(``ecfusion._lazy``, and imports inside the commands that need them). This test fails when an
import brings one back; ``benchmarks/bench_cli_start.py`` measures the seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ecfusion.config import Workspace

# what only landing, syncing, lineage, entity resolution, Spark or the API need
HEAVY = ("sqlalchemy", "sqlglot", "splink", "pypinyin", "jionlp", "pyspark", "fastapi", "uvicorn", "httpx")

# runs a command in a fresh interpreter; prints its exit code, its output and the HEAVY it loaded
PROBE = f"""
import contextlib, io, json, sys
from ecfusion.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(sys.argv[1:])
loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)
print(json.dumps({{"code": code, "out": out.getvalue(), "loaded": loaded}}))
"""


def _start(*args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "args",
    [["--help"], ["run", "--help"], ["ingest", "files", "--help"], ["sources", "--help"], ["demo", "--help"]],
    ids=" ".join,
)
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    started = _start(*args)
    assert started["code"] == 0 and "Usage" in str(started["out"])
    assert started["loaded"] == []


def test_warehouse_status_loads_no_heavy_library(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    started = _start("warehouse", "status", "--json", "-w", str(ws.root))
    assert started["code"] == 0 and json.loads(str(started["out"]))["live"] is None
    assert started["loaded"] == []


def test_a_command_still_loads_what_it_uses(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    started = _start("sources", "list", "-w", str(ws.root))  # the sources' control plane
    assert started["code"] == 0 and "sqlalchemy" in started["loaded"]  # type: ignore[operator]
