"""NATS JetStream consumption: ack only after landing; a SIGKILLed consumer loses and doubles nothing."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import orjson
import pytest
from tests.sources.collector_lake import open_test_lake
from tests.sources.mq.natsfix import (
    URL,
    consumer_info,
    create_stream,
    delete_stream,
    nats_up,
    publish_orders,
    publish_raw,
    unique_names,
)

from ecfusion.errors import ConfigError, SourceError
from ecfusion.lake import RawLake
from ecfusion.sources.mq import MqConnector, MqSourceConfig, consume, open_bus

pytestmark = [pytest.mark.services, pytest.mark.skipif(not nats_up(), reason="no NATS on 127.0.0.1:4222")]
HERE = Path(__file__).parent


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    stream, subject = unique_names()
    create_stream(stream, subject)
    yield stream, subject
    delete_stream(stream)


def _order_ids(lake: RawLake) -> list[str]:
    table = lake.read_raw("order_bus", "order_events", columns=["payload"])
    return [orjson.loads(p)["order_id"] for p in table.column("payload").to_pylist()]


def _config(stream: str, subject: str, **kw: object) -> MqSourceConfig:
    base: dict[str, object] = {
        "name": "order_bus",
        "url": URL,
        "stream": stream,
        "subject": subject,
        "durable": "ecf_test",
        "record_key_field": "order_id",
        "batch_size": 40,
        "fetch_timeout_seconds": 0.3,
        "idle_stop_seconds": 0.6,
    }
    return MqSourceConfig.model_validate({**base, **kw})


def test_messages_land_then_are_acked_and_bad_ones_quarantined(lake: RawLake, names: tuple[str, str]) -> None:
    stream, subject = names
    publish_orders(subject, 0, 100)
    publish_raw(subject, [b'{"order_id": "O-broken"', b"[1,2,3]"])
    connector = MqConnector(_config(stream, subject))
    report = consume(connector, lake)
    connector.close()
    assert (report.landed, report.quarantined, report.duplicates) == (100, 2, 0)
    assert sorted(_order_ids(lake)) == [f"O{i:07d}" for i in range(100)]
    reasons = sorted(i.reason.split(":")[0] for i in lake.read_quarantine("order_bus", "order_events"))
    assert reasons == ["malformed_json", "not_an_object"]
    info = consumer_info(stream, "ecf_test")
    assert (info.num_pending, info.num_ack_pending) == (0, 0)
    keys = lake.read_raw("order_bus", "order_events", columns=["record_key"]).column("record_key").to_pylist()
    assert "O0000007" in keys


def test_a_second_run_resumes_after_the_acked_messages(lake: RawLake, names: tuple[str, str]) -> None:
    stream, subject = names
    publish_orders(subject, 0, 30)
    with closing(MqConnector(_config(stream, subject))) as first:
        consume(first, lake)
    publish_orders(subject, 30, 10)
    with closing(MqConnector(_config(stream, subject))) as second:  # its own connection, as a new run
        report = consume(second, lake)
    assert (report.offered, report.landed) == (10, 10)


def test_generic_pull_is_refused_with_a_hint() -> None:
    connector = MqConnector(MqSourceConfig(name="bus", stream="s", subject="x"))
    with pytest.raises(SourceError, match="acknowledges after landing") as e:
        next(iter(connector.read("order_events", None)))
    assert "ecfusion mq consume bus" in (e.value.hint or "")


def test_unimplemented_bus_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="kafka"):
        open_bus(MqSourceConfig(name="k", bus="kafka", stream="s", subject="x"))


def _start(ws: Path, stream: str, subject: str, idle: float | None = None) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(HERE / "consumer_process.py"), str(ws), stream, subject]
    if idle is not None:
        args.append(str(idle))
    log = open(ws.parent / "consumer.log", "ab")  # noqa: SIM115 - a file, so a chatty child never blocks
    return subprocess.Popen(args, stdout=log, stderr=log)


def _log(ws: Path) -> str:
    return (ws.parent / "consumer.log").read_text(errors="replace")[-3000:]


def _landed_so_far(ws: Path) -> int:
    """The broker position the consumer has durably landed, read without opening the lake."""
    db = ws / "control.db"
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
        try:
            row = con.execute(
                "SELECT state_json FROM ecf_checkpoint WHERE source='order_bus' AND stream='order_events'"
            ).fetchone()
        except sqlite3.OperationalError:  # tables not created yet
            return 0
    return 0 if row is None else int(orjson.loads(row[0])["position"])


@pytest.mark.slow
def test_sigkilled_consumer_loses_nothing_and_doubles_nothing(names: tuple[str, str]) -> None:
    stream, subject = names
    total = 2_000
    publish_orders(subject, 0, total)
    # Not tmp_path: on a machine shared by several pytest sessions, their basetemp clean-up may
    # remove another session's folders while a child process is still writing there.
    with tempfile.TemporaryDirectory(prefix="ecf-mq-kill-") as tmp:
        _kill_and_restart(Path(tmp) / "ws", stream, subject, total)


def _kill_and_restart(ws: Path, stream: str, subject: str, total: int) -> None:
    kills = 0
    for target in (300, 900, 1_500):
        proc = _start(ws, stream, subject)
        deadline = time.monotonic() + 60
        while _landed_so_far(ws) < target and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, _log(ws)
        assert _landed_so_far(ws) >= target, _log(ws)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
    final = _start(ws, stream, subject, idle=4.0)  # longer than ack_wait: redeliveries arrive
    assert final.wait(timeout=120) == 0, _log(ws)
    lake = open_test_lake(ws)
    ids = _order_ids(lake)
    assert kills == 3
    assert len(ids) == total, f"{total - len(set(ids))} lost, {len(ids) - len(set(ids))} doubled"
    assert sorted(ids) == [f"O{i:07d}" for i in range(total)]
    info = consumer_info(stream, "ecf_kill")
    assert (info.num_pending, info.num_ack_pending) == (0, 0)


@pytest.mark.parametrize("url", ["nats://alice:s3cret@127.0.0.1:1", "nats://s3cret@127.0.0.1:1"])
def test_a_server_that_cannot_be_reached_is_named_without_its_credentials(url: str) -> None:
    """The user and password, or the token, a NATS URL holds stay out of the error a user (and a
    log) reads."""
    with pytest.raises(SourceError) as e:
        open_bus(MqSourceConfig(name="bus", url=url, stream="s", subject="x"))
    assert "cannot reach NATS JetStream at nats://127.0.0.1:1 for source bus" in str(e.value)
    assert not {"alice", "s3cret"} & set(re.split(r"\W+", f"{e.value} {e.value.hint}"))
