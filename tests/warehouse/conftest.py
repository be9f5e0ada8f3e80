"""Fixtures for warehouse tests: a workspace and a raw zone writer (see rawzone.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from rawzone import RawZone  # noqa: E402

from ecfusion.config import Workspace  # noqa: E402


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws")


@pytest.fixture
def raw(workspace: Workspace) -> RawZone:
    return RawZone(workspace.lake_root)
