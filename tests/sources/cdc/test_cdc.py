"""CDC from MariaDB (binlog) and PostgreSQL (logical replication) into the raw zone.

The same behaviour is asserted on both: a chunked snapshot, then inserts/updates/deletes as change
envelopes with before/after and whole transactions per batch; a crash mid-snapshot resumes at
the chunk it stopped at (not at the first table); a re-run lands nothing twice.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
import pymysql
import pytest

from ecfusion.lake import RawLake
from ecfusion.sources.cdc import (
    MySqlCdcConfig,
    MySqlCdcConnector,
    PostgresCdcConfig,
    PostgresCdcConnector,
    run_cdc,
)
from ecfusion.sources.streaming import land_confirmed

pytestmark = pytest.mark.services


@dataclass
class Kit:
    """One database under test: run SQL, build a connector on it."""

    name: str
    execute: Callable[[list[str]], None]
    connector: Callable[..., Any]
    table_prefix: str


def _mysql_kit(port: int) -> Kit:
    db = "crm_" + uuid.uuid4().hex[:8]
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=False, charset="utf8mb4")
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {db} CHARACTER SET utf8mb4")
    conn.select_db(db)

    def execute(statements: list[str]) -> None:
        with conn.cursor() as cur:
            for s in statements:
                cur.execute(s)
        conn.commit()

    def connector(**kw: Any) -> MySqlCdcConnector:
        opts: dict[str, Any] = {"chunk_size": 10, "poll_seconds": 0.1, "idle_stop_seconds": 1.0, **kw}
        cfg = MySqlCdcConfig(name="crm_db", port=port, database=db, server_id=5000 + port % 1000, **opts)
        return MySqlCdcConnector(cfg)

    return Kit("mariadb", execute, connector, db)


def _pg_kit(port: int) -> Kit:
    db = "crm_" + uuid.uuid4().hex[:8]
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f"CREATE DATABASE {db}")
    conn = psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname={db}")

    def execute(statements: list[str]) -> None:
        with conn.transaction():
            for s in statements:
                conn.execute(s.replace("DATETIME", "timestamp").encode())

    def connector(**kw: Any) -> PostgresCdcConnector:
        opts: dict[str, Any] = {"chunk_size": 10, "poll_seconds": 0.1, "idle_stop_seconds": 1.0, **kw}
        cfg = PostgresCdcConfig(
            name="crm_db",
            port=port,
            database=db,
            tables=["members", "points_log"],
            slot="ecf_" + db,
            publication="ecf_" + db,
            **opts,
        )
        return PostgresCdcConnector(cfg)

    return Kit("postgres", execute, connector, "public")


@pytest.fixture(params=["mariadb", "postgres"])
def kit(request: pytest.FixtureRequest) -> Iterator[Kit]:
    if request.param == "mariadb":
        yield _mysql_kit(request.getfixturevalue("mariadb_server").port)
    else:
        yield _pg_kit(request.getfixturevalue("postgres_server").port)


def _schema(kit: Kit, members: int, points: int) -> None:
    stmts = [
        "CREATE TABLE members (id INT PRIMARY KEY, name VARCHAR(40), level VARCHAR(10), "
        "balance DECIMAL(12,2))",
        "CREATE TABLE points_log (id INT PRIMARY KEY, member_id INT, delta INT)",
    ]
    if kit.name == "postgres":
        stmts += ["ALTER TABLE members REPLICA IDENTITY FULL", "ALTER TABLE points_log REPLICA IDENTITY FULL"]
    stmts += [
        f"INSERT INTO members VALUES ({i}, 'member{i}', 'silver', {i}.25)" for i in range(1, members + 1)
    ]
    stmts += [f"INSERT INTO points_log VALUES ({i}, {i % 7 + 1}, {i * 3})" for i in range(1, points + 1)]
    kit.execute(stmts)


def _envelopes(lake: RawLake) -> list[dict[str, Any]]:
    table = lake.read_raw("crm_db", "changes", columns=["payload"])
    return [orjson.loads(p) for p in table.column("payload").to_pylist()]


def test_snapshot_then_inserts_updates_deletes_as_envelopes(kit: Kit, lake: RawLake) -> None:
    _schema(kit, members=23, points=5)
    connector = kit.connector()
    first = run_cdc(connector, lake)
    snap = _envelopes(lake)
    assert first.landed == 28 and {e["op"] for e in snap} == {"r"}
    assert sorted(e["after"]["id"] for e in snap if e["source"]["table"].endswith("members")) == list(
        range(1, 24)
    )
    assert (
        next(e for e in snap if e["after"]["id"] == 3 and "balance" in e["after"])["after"]["balance"]
        == "3.25"
    )

    kit.execute(
        [
            "INSERT INTO members VALUES (100, '新会员', 'gold', 0.10)",
            "UPDATE members SET level = 'gold' WHERE id = 1",
            "DELETE FROM members WHERE id = 2",
        ]
    )
    kit.execute(["UPDATE points_log SET delta = delta + 1 WHERE id = 1"])
    second = run_cdc(kit.connector(), lake)
    changes = [e for e in _envelopes(lake) if e["op"] != "r"]
    assert second.landed == 4
    by_op = {e["op"] + ":" + e["source"]["table"].split(".")[-1]: e for e in changes}
    assert by_op["c:members"]["after"] == {"id": 100, "name": "新会员", "level": "gold", "balance": "0.10"}
    assert by_op["c:members"]["before"] is None
    assert (
        by_op["u:members"]["before"]["level"] == "silver" and by_op["u:members"]["after"]["level"] == "gold"
    )
    assert by_op["d:members"]["before"]["id"] == 2 and by_op["d:members"]["after"] is None
    # one transaction, one txid; the next transaction has another
    txids = {e["source"]["txid"] for e in changes if e["source"]["table"].endswith("members")}
    assert len(txids) == 1 and by_op["u:points_log"]["source"]["txid"] not in txids
    assert all(e["source"]["pos"] and e["source"]["ts"] for e in changes)

    again = run_cdc(kit.connector(), lake)  # nothing new: nothing landed, nothing doubled
    assert again.landed == 0 and len(_envelopes(lake)) == 32


def test_crash_mid_snapshot_resumes_at_the_chunk_it_stopped_at(kit: Kit, lake: RawLake) -> None:
    _schema(kit, members=25, points=25)  # 3 chunks each of 10, 10, 5
    connector = kit.connector()
    # the process dies after landing: start state, members x3, members done, 1 chunk of points_log
    crashed = land_confirmed(
        lake,
        connector.config,
        "changes",
        itertools.islice(connector.read("changes", None), 6),
        lambda _b: None,
    )
    assert crashed.landed == 35
    state = lake.checkpoints.get("crm_db", "changes")
    assert state is not None and state["phase"] == "snapshot" and state["last_key"] == [10]

    resumed = run_cdc(kit.connector(), lake)
    assert resumed.offered == 15, "re-read only the rest of points_log, not members again"
    ids = sorted((e["source"]["table"].split(".")[-1], e["after"]["id"]) for e in _envelopes(lake))
    assert ids == sorted([("members", i) for i in range(1, 26)] + [("points_log", i) for i in range(1, 26)])


def test_changes_reach_the_raw_zone_while_streaming(kit: Kit, lake: RawLake) -> None:
    _schema(kit, members=3, points=0)
    connector = kit.connector(idle_stop_seconds=None)
    landed: list[int] = []
    worker = threading.Thread(target=lambda: landed.append(run_cdc(connector, lake).landed))
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while (
            lake.checkpoints.get("crm_db", "changes") is None
            or lake.checkpoints.get("crm_db", "changes").get("phase") != "stream"
        ):  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "snapshot did not finish"
            time.sleep(0.05)
        kit.execute(["INSERT INTO members VALUES (77, 'late', 'gold', 1.00)"])
        while not any(e["op"] == "c" for e in _safe_envelopes(lake)):
            assert time.monotonic() < deadline, "insert never reached the raw zone"
            time.sleep(0.05)
    finally:
        connector.stop()
        worker.join(timeout=30)
    assert landed == [4]


def _safe_envelopes(lake: RawLake) -> list[dict[str, Any]]:
    try:
        return _envelopes(lake)
    except Exception:
        return []


def test_generic_sources_sync_catches_up_and_stops(kit: Kit, lake: RawLake) -> None:
    from ecfusion.sources.sync import sync

    _schema(kit, members=4, points=2)
    connector = kit.connector(idle_stop_seconds=None)  # no idle timeout: it must stop by itself
    first = sync(connector, lake, stop_on_error=True).streams[0]
    kit.execute(["UPDATE members SET level = 'gold' WHERE id = 4"])
    second = sync(kit.connector(idle_stop_seconds=None), lake, stop_on_error=True).streams[0]
    connector.close()
    assert (first.landed, second.landed) == (6, 1)
    assert [e["op"] for e in _envelopes(lake)].count("u") == 1
