"""Collector tests' lake fixture (see tests/sources/collector_lake.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.sources.collector_lake import open_test_lake

from ecfusion.lake import RawLake


@pytest.fixture
def lake(tmp_path: Path) -> RawLake:
    return open_test_lake(tmp_path / "ws")
