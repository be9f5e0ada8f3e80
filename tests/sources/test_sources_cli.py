"""`ecfusion sources …` and `ecfusion sync` end to end on a mock platform; secrets at rest (7.4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecfusion.cli import main
from ecfusion.config import Workspace
from ecfusion.errors import ConfigError
from ecfusion.sources.workspace import WorkspaceSources


def test_add_authorize_check_sync_and_runs_recorded(workspace: Workspace, mock_factory, monkeypatch) -> None:
    mock = mock_factory("douyin")
    monkeypatch.setenv("DY_SECRET", "mock-secret")
    ws = ["--workspace", str(workspace.root)]
    assert (
        main(
            [
                "sources",
                "add",
                "dy",
                "--kind",
                "douyin",
                "--shop-id",
                "dy1",
                "-s",
                f"base_url={mock.url}",
                "-s",
                "app_key=mock-app",
                "-s",
                "app_secret=env:DY_SECRET",
                "-s",
                'window={"start": "2026-08-31T00:00:00+08:00"}',
                *ws,
            ]
        )
        == 0
    )
    assert main(["sources", "authorize", "dy", "--code", "c0de", *ws]) == 0
    assert main(["sources", "check", "dy", *ws]) == 0
    assert main(["sync", "--all", *ws]) == 0
    assert main(["sources", "sync", "dy", "--full", *ws]) == 0
    assert main(["schedule", "--once", *ws]) == 0

    control = (workspace.root / "control.db").read_bytes()
    assert b"mock-secret" not in control
    token = WorkspaceSources.open(workspace).tokens.load("dy")
    assert token is not None and token.access_token.encode() not in control

    runs = WorkspaceSources.open(workspace).runs.recent("dy", limit=20)
    assert len(runs) == 9 and {r.outcome for r in runs} == {"succeeded"}
    orders = [r for r in runs if r.stream == "orders"]  # newest first
    assert [r.counts["landed"] for r in orders] == [0, 0, 80]


def test_wrong_secret_exits_nonzero_with_one_line(workspace: Workspace, mock_factory, capsys) -> None:
    mock = mock_factory("jd")
    ws = ["--workspace", str(workspace.root)]
    main(
        [
            "sources",
            "add",
            "j",
            "--kind",
            "jd",
            "-s",
            f"base_url={mock.url}",
            "-s",
            "app_key=mock-app",
            "-s",
            "app_secret=nope",
            *ws,
        ]
    )
    assert main(["sources", "authorize", "j", "--code", "x", *ws]) != 0
    assert "error[" in capsys.readouterr().err


def test_plaintext_secret_in_toml_is_refused(workspace: Workspace) -> None:
    cfg = workspace.root / "ecfusion.toml"
    cfg.write_text(
        cfg.read_text() + '\n[sources.tb]\nkind = "taobao"\nbase_url = "http://x"\n'
        'app_key = "k"\napp_secret = "plain"\n'
    )
    sources = WorkspaceSources.open(Workspace.open(workspace.root))
    with pytest.raises(ConfigError, match="plaintext"):
        sources.config("tb")


def test_unknown_kind_names_the_known_ones(workspace: Workspace) -> None:
    with pytest.raises(ConfigError, match="amazon") as err:
        WorkspaceSources.open(workspace).add({"name": "x", "kind": "amazon"})
    assert "taobao" in (err.value.hint or "")


def test_mock_platform_refuses_a_folder_without_the_platform(tmp_path: Path) -> None:
    assert main(["mock-platform", "jd", "--data", str(tmp_path), "--port", "1"]) == 2
