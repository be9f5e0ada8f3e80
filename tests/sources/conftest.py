"""Fixtures for the platform connector tests: a small merchant folder, mocks on loopback, a workspace."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecfusion.config import Workspace
from ecfusion.mock.fixtures import write_platform_fixture
from ecfusion.mock.runner import start
from ecfusion.mock.server import RunningMock

DATA_START = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def merchant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("merchant")
    return write_platform_fixture(out, orders_per_platform=80, start=DATA_START, days=2.0, seed=11)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws")


@pytest.fixture
def mock_factory(merchant_dir: Path) -> Iterator:
    running: list[RunningMock] = []

    def make(platform: str, **settings) -> RunningMock:
        m = start(platform, merchant_dir, **settings)
        running.append(m)
        return m

    yield make
    for m in running:
        m.stop()
