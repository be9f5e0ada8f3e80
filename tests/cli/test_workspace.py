"""`ecfusion init` and config validation as a user meets them: one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecfusion.cli import main
from ecfusion.config import Workspace
from ecfusion.errors import ConfigError


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecfusion", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_init_writes_commented_default_config_and_private_master_key(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "ws")]) == 0
    ws = Workspace.open(tmp_path / "ws")
    text = (ws.root / "ecfusion.toml").read_text()
    assert 'engine = "duckdb"' in text and "#" in text
    key_file = ws.root / "keys" / "master.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(ws.master_key()) == 32


@pytest.mark.parametrize(
    ("toml", "expect"),
    [
        ("[lake]\nroot = 5\n", "key 'lake.root'"),
        ("[warehouse]\nengine = 'oracle'\n", "key 'warehouse.engine'"),
        ("[lakes]\nroot = 'x'\n", "key 'lakes'"),
        ("[lake\nroot='x'", "not valid TOML"),
        ("[warehouse]\nmemory_limit = 'lots'\n", "'warehouse.memory_limit' is invalid ('lots' is not a size"),
        # the value written and the key's default, the reason said once
        (
            "[warehouse]\nthreads = -1\n",
            "key 'warehouse.threads' is invalid (Input should be greater than or equal to 0; it is -1); "
            "fix: correct the value (its default is 0)",
        ),
        # a thread per unit of work starves the machine of processes before DuckDB refuses it
        (
            "[warehouse]\nthreads = 100000\n",
            "key 'warehouse.threads' is invalid (Input should be less than or equal to 256; it is 100000)",
        ),
        # "" was the workspace folder itself: a second warehouse beside ecfusion.toml
        ("[warehouse]\npath = ''\n",
         "key 'warehouse.path' is invalid (String should have at least 1 character"),
        ("[workspace]\ntimezone = 'Asia/Shangai'\n", "'Asia/Shangai' is not a time zone name"),
        ("[lake]\ntarget_file_rows = 'x'\n", "it is 'x'); fix: correct the value (its default is 200000)"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, toml: str, expect: str) -> None:
    Workspace.init(tmp_path)
    (tmp_path / "ecfusion.toml").write_text(toml)
    with pytest.raises(ConfigError) as e:
        Workspace.open(tmp_path)
    assert str(tmp_path / "ecfusion.toml") in e.value.message
    assert expect in e.value.message


def test_cli_prints_one_line_without_traceback_on_bad_config(tmp_path: Path) -> None:
    Workspace.init(tmp_path)
    (tmp_path / "ecfusion.toml").write_text("[warehouse]\nengine = 'oracle'\n")
    proc = run_cli("init", str(tmp_path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error[ECF100]") and "warehouse.engine" in lines[0]


def test_a_file_where_a_folder_belongs_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """The file system's refusals (a file named like the warehouse folder, a folder named like the
    configuration or the dictionary's output) were tracebacks of FileExistsError/IsADirectoryError."""
    ws = tmp_path / "ws"
    Workspace.init(ws)
    (ws / "warehouse").rmdir()
    (ws / "warehouse").write_text("not a folder")
    (tmp_path / "out.md").mkdir()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "ecfusion.toml").mkdir()
    for args, said in (
        (("warehouse", "status", "-w", str(ws)), f"File exists: {ws / 'warehouse'}"),
        (("run", "-w", str(ws)), f"File exists: {ws / 'warehouse'}"),
        (("model", "dictionary", "--out", str(tmp_path / "out.md")),
         f"Is a directory: {tmp_path / 'out.md'}"),
        (("run", "-w", str(tmp_path / "cfg")), f"Is a directory: {tmp_path / 'cfg' / 'ecfusion.toml'}"),
    ):
        proc = run_cli(*args)
        assert proc.returncode == 74, proc.stderr
        [line] = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert line.startswith(f"error[ECF130]: {said} (hint: check that path"), line


def test_master_key_from_environment_must_be_32_bytes(tmp_path: Path) -> None:
    Workspace.init(tmp_path)
    ws = Workspace.open(tmp_path)
    os.environ["ECFUSION_MASTER_KEY"] = "abcd"
    try:
        with pytest.raises(ConfigError, match="64 hex"):
            ws.master_key()
        os.environ["ECFUSION_MASTER_KEY"] = "11" * 32
        assert ws.master_key() == bytes([0x11]) * 32
    finally:
        del os.environ["ECFUSION_MASTER_KEY"]


def test_a_relative_sqlite_control_url_is_the_workspace_s_whatever_the_current_folder(tmp_path: Path) -> None:
    """``[control] url = "sqlite:///state/control.db"`` was read from the current folder, as no other
    path of ecfusion.toml is: a source added from another folder went into a control plane made
    there, and the workspace's own did not have it."""
    ws = Workspace.init(tmp_path / "ws")
    config = ws.root / "ecfusion.toml"
    config.write_text(config.read_text().replace('url = ""', 'url = "sqlite:///state/control.db"', 1))
    (ws.root / "state").mkdir()
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "state").mkdir(parents=True)  # a folder of that name where the command is run from

    def ecfusion(*args: str, cwd: Path) -> str:
        done = run_cli(*args, "-w", str(ws.root), cwd=cwd)
        assert done.returncode == 0, done.stderr
        return done.stdout

    settings = ["-s", "app_key=1", "-s", "app_secret=s", "-s", "base_url=http://127.0.0.1:9"]
    ecfusion("sources", "add", "tb", "--kind", "taobao", *settings, cwd=elsewhere)
    assert "tb" in ecfusion("sources", "list", cwd=ws.root).split()
    assert (ws.root / "state" / "control.db").is_file()
    assert list((elsewhere / "state").iterdir()) == []
