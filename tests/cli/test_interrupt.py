"""Ctrl-C says one line and exits 130, wherever it lands (README: "Any command can be killed …
and re-run"). Before, Ctrl-C during a DuckDB query (most of a run) printed the traceback of
DuckDB's RuntimeError('Query interrupted'), and between queries click's Abort exited 1 saying
nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

# a command of the real CLI that is interrupted after half a second, inside a DuckDB query or
# inside Python (time.sleep)
SPIN = """
import os, signal, sys, threading, time
import duckdb
from ecfusion.cli import main
from ecfusion.cli.app import app

@app.command("spin")
def spin(inside: str) -> None:
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    if inside == "query":
        duckdb.connect().execute("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3").fetchall()
    else:
        time.sleep(30)

sys.exit(main(["spin", sys.argv[1]]))
"""


@pytest.mark.parametrize("inside", ["query", "python"])
def test_ctrl_c_is_one_line_and_exit_130(inside: str) -> None:
    proc = subprocess.run([sys.executable, "-c", SPIN, inside], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip() == "interrupted; what was landed is durable and will not be landed twice"
