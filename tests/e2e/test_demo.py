"""`ecfusion demo` as a data team first meets it: one command, a summary, no plaintext left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.e2e.plaintext_scan import find_plaintext

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    base = tmp_path_factory.mktemp("demo")
    ws, sources = base / "ws", base / "sources"
    proc = subprocess.run(
        [sys.executable, "-m", "ecfusion", "demo", "--workspace", str(ws), "--sources", str(sources),
         "--persons", "300", "--days", "30", "--seed", "11"],
        capture_output=True, text=True, timeout=600, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    return proc, ws, sources


def test_demo_exits_zero_and_summarizes_landing_and_unified_figures(demo_run) -> None:
    proc, ws, _ = demo_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for expected in ("landed in the raw zone", "quarantined", "taobao", "jd", "pdd", "douyin",
                     "GMV", "unified customers", str(ws)):
        assert expected in out, f"{expected!r} missing from the summary"
    assert "Traceback" not in proc.stderr


def test_no_plaintext_personal_data_anywhere_under_the_workspace(demo_run) -> None:
    proc, ws, sources = demo_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    needles: set[str] = set()
    with (sources / "truth" / "persons.jsonl").open(encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            needles.update(p["mobiles"])
            needles.update(v for v in (p["id_card_no"], p["email"], p["name"], p["address"]) if v)
    assert len(needles) > 1000  # the scan is only as good as its needles
    # The scan reads Parquet and databases decompressed; it must be able to see what it looks for.
    hits = find_plaintext(sources, needles)
    assert hits, "sanity: the same scan finds plaintext in the source folder"
    leaks = find_plaintext(ws, needles)
    assert leaks == [], f"plaintext personal data in the workspace: {leaks[:10]}"


@pytest.mark.services
def test_the_demo_stars_the_password_of_the_control_url_it_prints(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[control] url = "postgresql://user:secret@host/db"`` was printed under "where it is" as
    written, password and all."""
    from ecfusion.cli import main
    from ecfusion.config import Workspace

    url = pg_url.replace("://postgres@", "://postgres:s3cret@")  # trust auth: the password goes unchecked
    ws = Workspace.init(tmp_path / "ws")
    (ws.root / "ecfusion.toml").write_text(f'[control]\nurl = "{url}"\n')
    assert main(["demo", "-w", str(ws.root), "--persons", "10", "--days", "1"]) == 0
    out = "".join(capsys.readouterr().out.split())  # the console wraps a long URL where it likes
    assert "s3cret" not in out
    assert f"control{url.replace('s3cret', '***')}" in out
