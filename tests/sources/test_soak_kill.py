"""The soak, small: four faulty mock platforms with a running clock, the sync SIGKILLed and restarted;
afterwards the raw zone holds the latest version of every order once and nothing it was not served.
(The full-size run is benchmarks/soak_platforms.py.)"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ecfusion.config import Workspace
from ecfusion.mock.faults import FaultPlan
from ecfusion.mock.fixtures import write_platform_fixture
from ecfusion.mock.runner import start
from ecfusion.sources.workspace import WorkspaceSources

START = datetime(2026, 9, 1, tzinfo=UTC)
MODIFIED = {"taobao": "modified", "jd": "modified", "pdd": "updated_at", "douyin": "update_time"}
ECFUSION = str(Path(sys.executable).parent / "ecfusion")


def raw_versions(ws: Workspace, source: str, platform: str) -> dict[tuple[str, float], int]:
    glob = ws.lake_root / "raw" / f"source={source}" / "entity=orders" / "**" / "*.parquet"
    field = MODIFIED[platform]
    if platform == "douyin":
        modified = f"CAST(json_extract_string(payload, '$.{field}') AS DOUBLE)"
    else:
        modified = (
            f"epoch(strptime(json_extract_string(payload, '$.{field}'), '%Y-%m-%d %H:%M:%S')"
            " - INTERVAL 8 HOUR)"
        )
    sql = (
        f"SELECT record_key, {modified}, count(*) "
        f"FROM read_parquet('{glob}', hive_partitioning=false) GROUP BY 1, 2"
    )
    return {(k, float(m)): n for k, m, n in duckdb.sql(sql).fetchall()}


@pytest.mark.slow
@pytest.mark.timeout(170)
def test_sigkilled_sync_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    data = write_platform_fixture(
        tmp_path / "merchant", orders_per_platform=200, start=START, days=0.5, versions=3, seed=4
    )
    faults = "rate_limit=0.005,http5xx=0.03,truncate=0.03,duplicate_page=0.05,timeout=0.005,timeout_seconds=3"
    mocks = {
        p: start(
            p,
            data,
            faults=FaultPlan.parse(faults, seed=i),
            clock_start=START + timedelta(hours=8),
            clock_speed=3600.0,
        )
        for i, p in enumerate(("taobao", "jd", "pdd", "douyin"))
    }
    try:
        ws = Workspace.init(tmp_path / "ws")
        sources = WorkspaceSources.open(ws)
        for p, m in mocks.items():
            sources.add(
                {
                    "name": f"s_{p}",
                    "kind": p,
                    "base_url": m.url,
                    "app_key": "mock-app",
                    "app_secret": "mock-secret",
                    "rate_per_app": 300.0,
                    "streams": ["orders"],
                    "retry": {
                        "backoff_initial": 0.02,
                        "jitter": 0.02,
                        "backoff_max": 0.5,
                        "timeout": 2.0,
                        "attempts": 12,
                    },
                    "window": {"start": (START - timedelta(hours=1)).isoformat()},
                }
            )
            c = sources.connector(f"s_{p}")
            c.authorize("code")  # type: ignore[attr-defined]
            c.close()
        cmd = [ECFUSION, "sync", "--all", "--workspace", str(ws.root)]
        rng = random.Random(1)
        for _ in range(3):
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                proc.wait(timeout=rng.uniform(4.0, 8.0))
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        for m in mocks.values():
            m.state.clock.set(START + timedelta(days=3), speed=0.0)
        for _ in range(3):
            final = subprocess.run(cmd, capture_output=True, text=True)
            if final.returncode == 0:
                break
        assert final.returncode == 0, (
            f"no final sync completed:\n{final.stdout[-3000:]}\n{final.stderr[-3000:]}"
        )
        for p, m in mocks.items():
            store = m.state.stores["orders"]
            served = set(store.served())
            current = {(v.key, v.modified) for v in store.all_current(m.state.now())}
            raw = raw_versions(ws, f"s_{p}", p)
            assert current <= set(raw), f"{p}: latest versions missing"
            assert set(raw) <= served, f"{p}: versions never served"
            assert max(raw.values()) == 1, f"{p}: duplicated versions"
        runs = sources.runs.recent(limit=200)
        assert {r.outcome for r in runs} >= {"succeeded"}
    finally:
        for m in mocks.values():
            m.stop()
