"""`ecfusion sources …` and `ecfusion sync` end to end on a mock platform; secrets at rest (7.4)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecfusion.cli import main
from ecfusion.config import Workspace
from ecfusion.errors import ConfigError, EcfusionError
from ecfusion.mock.faults import FaultPlan
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


# -- `sources check` says the connector's own error, as a sync meets it ------------------------------


def _stream_error_class(out: str, source: str) -> type[EcfusionError]:
    """The error class a sync printed for the first failed stream of ``source`` ("s/orders: AuthError: …")."""
    line = next(ln for ln in out.splitlines() if ln.startswith(f"{source}/"))
    name = line.split(": ", 2)[1]
    found = {c.__name__: c for c in _error_classes(EcfusionError)}
    return found[name]


def _error_classes(root: type[EcfusionError]) -> list[type[EcfusionError]]:
    return [root, *(c for sub in root.__subclasses__() for c in _error_classes(sub))]


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (
            "no token",
            "error[ECF310]: source pdd1 has no OAuth token "
            "(hint: authorize the shop: `ecfusion sources authorize pdd1 --code CODE`)",
        ),
        (
            "signature refused",
            "error[ECF310]: pdd1: pdd.order.number.list.increment.get failed: error_code 10016 签名错误 "
            "(hint: check client_id/client_secret and the shop's authorization)",
        ),
        (
            "rate limited",
            "error[ECF320]: pdd1: pdd.order.number.list.increment.get failed: error_code 70031 调用过于频繁 "
            "(hint: the platform says we call too fast: check again in a minute, or lower rate_per_app)",
        ),
        ("host unreachable", "error[ECF330]: pdd1: ConnectError talking to the platform"),
    ],
    ids=["no token", "signature refused", "rate limited", "host unreachable"],
)
def test_check_says_the_connector_s_own_error_with_the_code_and_exit_of_a_sync(
    cause: str, expected: str, workspace: Workspace, mock_factory, capsys
) -> None:
    """Every failed check said error[ECF000], exit 1, whatever the cause: a script (or a user looking
    the code up) could not tell a missing token from a platform calling us too fast."""
    faults = FaultPlan.parse("rate_limit=1" if cause == "rate limited" else "")
    mock = mock_factory("pdd", faults=faults, clock_start=datetime.now(UTC))  # no clock to learn first
    ws = ["--workspace", str(workspace.root)]
    settings = {"base_url": mock.url, "app_key": "mock-app", "app_secret": "mock-secret"}
    settings["retry"] = '{"attempts": 1}'  # the cause at once, not after retries with backoff

    def add(**changed: str) -> None:
        pairs = [a for k, v in {**settings, **changed}.items() for a in ("-s", f"{k}={v}")]
        assert main(["sources", "add", "pdd1", "--kind", "pdd", *pairs, *ws]) == 0

    add()
    if cause != "no token":
        assert main(["sources", "authorize", "pdd1", "--code", "c0de", *ws]) == 0
    if cause == "signature refused":
        add(app_secret="not-the-secret")
    if cause == "host unreachable":
        with socket.socket() as s:  # a loopback port nothing listens on
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        add(base_url=f"http://127.0.0.1:{closed}")
    capsys.readouterr()

    sync_exit = main(["sources", "sync", "pdd1", "--stream", "orders", *ws])
    by_sync = _stream_error_class(capsys.readouterr().out, "pdd1")
    check_exit = main(["sources", "check", "pdd1", *ws])
    [said] = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]

    assert said.startswith(expected), said
    assert said.startswith(f"error[{by_sync.code}]: ")
    assert check_exit == sync_exit == by_sync.exit_code == 1
