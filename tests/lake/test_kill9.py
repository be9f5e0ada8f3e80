"""Kill -9 at random moments, run again: nothing lost, nothing doubled (ARCHITECTURE principle 2).

Runs the real ``ecfusion ingest files`` (real FieldCipher, SQLite control plane) in a subprocess on
~200k JSONL records with exact duplicates and malformed lines, SIGKILLs it several times after it
has landed something, then lets a last run finish.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import create_engine, text

from ecfusion.config import Workspace

RECORDS = 200_000
DUPLICATE_EVERY = 97
MALFORMED_EVERY = 1_009


def _write_input(path: Path) -> tuple[int, int, int]:
    """Returns (lines offered, distinct valid records, malformed lines)."""
    lines, distinct, malformed = 0, 0, 0
    with open(path, "w", encoding="utf-8") as f:
        for i in range(RECORDS):
            rec = {
                "tid": 4_000_000_000 + i,
                "status": "WAIT_SELLER_SEND_GOODS",
                "payment": f"{i % 500}.90",
                "buyer_open_uid": f"AAH{i % 50_000:08d}",
                "receiver_mobile": f"139{i:08d}",
                "title": "玻尿酸补水面膜 5片装",
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            lines, distinct = lines + 1, distinct + 1
            if i % DUPLICATE_EVERY == 0:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                lines += 1
            if i % MALFORMED_EVERY == 0:
                f.write(f'{{"tid": {i}, "status": }}\n')
                lines, malformed = lines + 1, malformed + 1
    return lines, distinct, malformed


def _ingest(ws: Path, data: Path) -> subprocess.Popen[bytes]:
    code = "import sys; from ecfusion.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "ingest",
            "files",
            "taobao",
            str(data),
            "--entity",
            "orders",
            "--workspace",
            str(ws),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _parts(ws: Path) -> int:
    return len([p for p in (ws / "lake" / "raw").rglob("*.parquet") if not p.name.startswith(".")])


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_minus_9_then_rerun_lands_everything_exactly_once(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    Workspace.init(ws_dir)
    cfg = ws_dir / "ecfusion.toml"
    cfg.write_text(cfg.read_text().replace("target_file_rows = 200000", "target_file_rows = 10000"))
    data = tmp_path / "orders.jsonl"
    offered, distinct, malformed = _write_input(data)
    rng = random.Random(20261122)

    kills = 0
    for _ in range(3):
        before = _parts(ws_dir)
        proc = _ingest(ws_dir, data)
        deadline = time.monotonic() + 90
        while _parts(ws_dir) <= before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    final = _ingest(ws_dir, data)
    _, err = final.communicate(timeout=180)
    assert final.returncode == 0, err.decode()
    assert kills >= 2

    glob = str(ws_dir / "lake" / "raw" / "**" / "*.parquet")
    rows, unique = duckdb.sql(
        f"select count(*), count(distinct content_hash) from read_parquet('{glob}')"
    ).fetchall()[0]
    assert rows == unique == distinct
    qglob = str(ws_dir / "lake" / "quarantine" / "**" / "*.parquet")
    q_rows, q_unique = duckdb.sql(
        f"select count(*), count(distinct location) from read_parquet('{qglob}')"
    ).fetchall()[0]
    assert q_rows == q_unique == malformed

    engine = create_engine(f"sqlite:///{ws_dir / 'control.db'}")
    with engine.connect() as c:
        o, la, d, q = c.execute(
            text(
                "select sum(offered), sum(landed), sum(duplicates), sum(quarantined) "
                "from ecf_landing_batch where source='taobao'"
            )
        ).one()
        statuses = {s for (s,) in c.execute(text("select status from ecf_landing_batch"))}
    assert o == la + d + q  # reconciliation across every run, killed ones included
    assert o == offered and q == malformed
    assert la == distinct and d == offered - distinct - malformed
    assert "succeeded" in statuses
