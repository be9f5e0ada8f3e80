"""Collector tests' lake fixture (see tests/sources/collector_lake.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.sources.collector_lake import open_test_lake

from ecfusion.lake import RawLake


@pytest.fixture
def lake(tmp_path: Path) -> RawLake:
    return open_test_lake(tmp_path / "ws")


@pytest.fixture(scope="session")
def mariadb_server():  # type: ignore[no-untyped-def]
    from tests.sources.cdc.servers import mariadb_with_binlog

    try:
        ctx = mariadb_with_binlog()
        server = ctx.__enter__()
    except Exception as e:  # a CDC test must not pass by skipping
        pytest.fail(f"cannot start a MariaDB with binlog (needs mariadb-server binaries): {e}")
    yield server
    ctx.__exit__(None, None, None)


@pytest.fixture(scope="session")
def postgres_server():  # type: ignore[no-untyped-def]
    from tests.sources.cdc.servers import postgres_logical

    try:
        ctx = postgres_logical()
        server = ctx.__enter__()
    except Exception as e:  # a CDC test must not pass by skipping
        pytest.fail(f"cannot start a PostgreSQL with wal_level=logical (needs postgresql binaries): {e}")
    yield server
    ctx.__exit__(None, None, None)
