"""A process killed between the platform rotating a refresh token and our saving it (issue 5, gap 4).

The mocks model the platforms' answer to a reused refresh token: Douyin honours it for an hour
with the successor it already issued (documented grace; ⚠ same-successor assumed); Taobao, JD and
Pinduoduo document nothing, so their mocks refuse it at once (⚠ the strictest case).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.sources.test_platform_sync import DATA_START, FAST_RETRY

from ecfusion.config import Workspace
from ecfusion.lake import RawLake
from ecfusion.mock.server import TokenRegistry
from ecfusion.sources.oauth import fingerprint
from ecfusion.sources.sync import sync
from ecfusion.sources.workspace import WorkspaceSources

HERE = Path(__file__).parent


def _add_source(ws: Workspace, platform: str, url: str) -> str:
    name = f"{platform}_shop"
    sources = WorkspaceSources.open(ws)
    sources.add(
        {
            "name": name,
            "kind": platform,
            "base_url": url,
            "app_key": "mock-app",
            "app_secret": "mock-secret",
            "rate_per_app": 400.0,
            "retry": FAST_RETRY,
            "streams": ["orders"],
            "window": {"start": DATA_START.isoformat()},
        }
    )
    sources.connector(name).authorize("auth-code")  # type: ignore[attr-defined]
    return name


def _kill_inside_a_rotation(ws: Workspace, name: str, mock) -> str:
    """Run a collector that refreshes the shop's token and dies before saving the answer."""
    before = WorkspaceSources.open(ws).tokens.load(name)
    assert before is not None and before.refresh_token
    child = subprocess.run(
        [sys.executable, str(HERE / "refresh_process.py"), str(ws.root), name],
        capture_output=True,
        timeout=60,
    )
    assert child.returncode == -9, child.stderr.decode(errors="replace")[-2000:]
    assert mock.state.tokens.refreshed == 1  # the platform rotated ...
    after = WorkspaceSources.open(ws).tokens.load(name)
    assert after is not None and after.refresh_token == before.refresh_token  # ... and we never saved it
    return before.refresh_token


def test_douyin_shop_recovers_the_rotated_token_at_the_next_start(workspace: Workspace, mock_factory) -> None:
    # Access tokens live 30 min here, so Douyin rotates on refresh (it answers a refresh more than
    # 1 h before expiry with the same tokens). The old access token stays valid for its grace hour:
    # a restarted collector would happily use it and only notice, too late, once it expires.
    mock = mock_factory("douyin", token_ttl=1800.0)
    name = _add_source(workspace, "douyin", mock.url)
    old_refresh = _kill_inside_a_rotation(workspace, name, mock)
    sources = WorkspaceSources.open(workspace)
    assert sources.context().refresh_journal.pending(name).old == fingerprint(old_refresh)

    report = sync(sources.connector(name), RawLake.open(workspace), stop_on_error=True)
    assert report.streams[0].landed > 0  # no re-authorization needed
    token = sources.tokens.load(name)
    assert token is not None and token.refresh_token != old_refresh  # recovered at once
    assert mock.state.tokens.check(token.access_token) == "ok"
    # with the successor the killed process was given, not by rotating again
    assert (mock.state.tokens.refreshed, mock.state.tokens.reused) == (1, 1)
    assert sources.context().refresh_journal.pending(name) is None


@pytest.mark.parametrize("platform", ["taobao", "jd", "pdd"])
def test_a_platform_that_refuses_the_old_token_gets_a_precise_error_then_reauthorization_works(
    platform: str, workspace: Workspace, mock_factory
) -> None:
    mock = mock_factory(platform)
    name = _add_source(workspace, platform, mock.url)
    _kill_inside_a_rotation(workspace, name, mock)
    sources = WorkspaceSources.open(workspace)

    result = sources.connector(name).check()
    assert not result.ok
    assert "interrupted before the new token was saved" in result.message
    assert f"ecfusion sources authorize {name}" in (result.hint or "")

    sources.connector(name).authorize("auth-code")  # type: ignore[attr-defined]
    assert sources.connector(name).check().ok
    assert sources.context().refresh_journal.pending(name) is None


def test_a_refresh_that_was_saved_before_the_kill_is_not_repeated(workspace: Workspace, mock_factory) -> None:
    mock = mock_factory("taobao")
    name = _add_source(workspace, "taobao", mock.url)
    httpx.post(mock.url + "/_mock/expire-tokens").raise_for_status()
    sources = WorkspaceSources.open(workspace)
    assert sources.connector(name).check().ok  # refreshed and saved
    journal = sources.context().refresh_journal
    token = sources.tokens.load(name)
    assert token is not None and token.refresh_token
    journal.begin(name, "0000000000000000")  # a begun refresh of some other, older token
    assert sources.connector(name).check().ok
    assert mock.state.tokens.refreshed == 1


@pytest.mark.parametrize(
    ("grace", "reuse_after", "answer"),
    [
        (0.0, 0.0, "refused"),  # strict rotation: the old refresh token dies with its first use
        (0.5, 0.0, "successor"),  # within the grace period: the same successor again
        (0.2, 0.4, "refused"),  # after it
    ],
)
def test_mock_answers_to_a_reused_refresh_token(grace: float, reuse_after: float, answer: str) -> None:
    registry = TokenRegistry(3600, 86400, grace=grace)
    first = registry.issue("shop")
    successor = registry.refresh(first.refresh_token)
    assert successor is not None and successor.refresh_token != first.refresh_token
    time.sleep(reuse_after)
    again = registry.refresh(first.refresh_token)
    assert (again is successor) if answer == "successor" else again is None
    assert registry.refresh(successor.refresh_token) is not None  # the successor itself works
