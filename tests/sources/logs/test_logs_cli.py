"""``ecfusion logs tail`` end to end: a configured nginx log lands, bad lines are quarantined."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecfusion.cli import main
from ecfusion.config import Workspace

LINE = '10.0.0.1 - - [22/Nov/2026:10:15:02 +0800] "GET /a HTTP/1.1" 200 5 "-" "ua"\n'


@pytest.mark.slow
def test_logs_tail_lands_new_lines_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace.init(tmp_path / "ws")
    log = tmp_path / "access.log"
    log.write_text(LINE + "not an access log line\n")
    with open(ws.root / "ecfusion.toml", "a", encoding="utf-8") as f:
        f.write(
            f'\n[sources.weblog]\nkind = "logs"\npath = "{log}"\nformat = "nginx"\nentity = "access_log"\n'
        )
    assert main(["logs", "tail", "weblog", "-w", str(ws.root)]) == 0
    assert "offered 2, landed 1, duplicates 0, quarantined 1" in capsys.readouterr().out
    with open(log, "a", encoding="utf-8") as f:
        f.write(LINE)
    assert main(["logs", "tail", "weblog", "-w", str(ws.root)]) == 0
    assert "offered 1, landed 1" in capsys.readouterr().out


def test_cdc_run_refuses_a_source_of_another_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace.init(tmp_path / "ws")
    with open(ws.root / "ecfusion.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[sources.weblog]\nkind = "logs"\npath = "{tmp_path / "x.log"}"\n')
    assert main(["cdc", "run", "weblog", "-w", str(ws.root)]) == 2
    assert "is of kind 'logs'" in capsys.readouterr().err
