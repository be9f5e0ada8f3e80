"""RabbitMQ consumption against the real broker: ack only after landing; SIGKILL loses and doubles nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from tests.sources.collector_lake import open_test_lake
from tests.sources.mq.rabbitfix import (
    AMQP_URL,
    create_queue,
    delete_queue,
    publish,
    publish_orders,
    queue_depth,
)

from ecfusion.errors import SourceError
from ecfusion.lake import RawLake
from ecfusion.sources.mq import MqConnector, MqSourceConfig, consume, open_bus

# No skip when the broker is down: these tests must fail then (the fixtures cannot connect).
pytestmark = [pytest.mark.services]
HERE = Path(__file__).parent


@pytest.fixture
def queue() -> Iterator[str]:
    name = create_queue()
    yield name
    delete_queue(name)


def _config(queue: str, **kw: object) -> MqSourceConfig:
    base: dict[str, object] = {
        "name": "order_bus",
        "bus": "rabbitmq",
        "url": AMQP_URL,
        "stream": queue,
        "durable": "ecf_test",
        "record_key_field": "order_id",
        "batch_size": 40,
        "fetch_timeout_seconds": 0.3,
        "idle_stop_seconds": 0.6,
    }
    return MqSourceConfig.model_validate({**base, **kw})


def _order_ids(lake: RawLake) -> list[str]:
    table = lake.read_raw("order_bus", "order_events", columns=["payload"])
    return [orjson.loads(p)["order_id"] for p in table.column("payload").to_pylist()]


def test_messages_land_then_are_acked_and_bad_ones_quarantined(lake: RawLake, queue: str) -> None:
    publish_orders(queue, 0, 100)
    publish(queue, [b'{"order_id": "O-broken"', b"[1,2,3]"], [None, None])
    connector = MqConnector(_config(queue))
    report = consume(connector, lake)
    connector.close()
    assert (report.landed, report.quarantined, report.duplicates) == (100, 2, 0)
    assert sorted(_order_ids(lake)) == [f"O{i:07d}" for i in range(100)]
    reasons = sorted(i.reason.split(":")[0] for i in lake.read_quarantine("order_bus", "order_events"))
    assert reasons == ["malformed_json", "not_an_object"]
    assert queue_depth(queue) == (0, 0)  # all acknowledged, consumer gone


def test_a_second_run_gets_only_new_messages(lake: RawLake, queue: str) -> None:
    publish_orders(queue, 0, 30)
    first = MqConnector(_config(queue))
    consume(first, lake)
    first.close()
    publish_orders(queue, 30, 10)
    connector = MqConnector(_config(queue))
    report = consume(connector, lake)
    connector.close()
    assert (report.offered, report.landed) == (10, 10)


def test_messages_fetched_but_not_landed_go_back_to_the_queue(lake: RawLake, queue: str) -> None:
    publish_orders(queue, 0, 25)
    bus = open_bus(_config(queue, batch_size=10))
    got = bus.fetch(10, 2.0)
    assert len(got) == 10
    bus.close()  # never acknowledged
    assert queue_depth(queue) == (25, 0)
    connector = MqConnector(_config(queue))
    report = consume(connector, lake)
    connector.close()
    assert report.landed == 25
    assert connector.stats.retries >= 10  # the redelivered ones are counted


def test_a_missing_queue_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="queue 'ecf_no_such_queue' is not usable") as e:
        open_bus(_config("ecf_no_such_queue"))
    assert "declare the queue" in (e.value.hint or "")


def test_an_unreachable_broker_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="cannot reach RabbitMQ at 127.0.0.1:1") as e:
        open_bus(_config("q", url="amqp://guest:guest@127.0.0.1:1/%2F", connect_timeout_seconds=1))
    assert "guest" not in str(e.value)  # credentials never appear in messages


def test_the_url_defaults_to_the_chosen_broker() -> None:
    assert MqSourceConfig(name="b", bus="rabbitmq", stream="q").url.startswith("amqp://127.0.0.1:5672")
    with pytest.raises(ValueError, match="needs `subject`"):
        MqSourceConfig(name="b", bus="nats", stream="s")


# -- SIGKILL ------------------------------------------------------------------------------------


def _start(ws: Path, queue: str, idle: float | None = None) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(HERE / "consumer_process.py"), str(ws), queue, ""]
    if idle is not None:
        args.append(str(idle))
    log = open(ws.parent / "consumer.log", "ab")  # noqa: SIM115 - a file, so a chatty child never blocks
    return subprocess.Popen(args, stdout=log, stderr=log, env={**os.environ, "ECF_TEST_BUS": "rabbitmq"})


def _log(ws: Path) -> str:
    return (ws.parent / "consumer.log").read_text(errors="replace")[-3000:]


def _landed_since(ws: Path, started: datetime) -> int:
    """Deliveries the consumer started at ``started`` has durably landed (its checkpoint's tag)."""
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
    if row is None:
        return 0
    state = orjson.loads(row[0])
    return int(state["position"]) if datetime.fromisoformat(state["at"]) > started else 0


@pytest.mark.slow
def test_sigkilled_consumer_loses_nothing_and_doubles_nothing(queue: str) -> None:
    total = 2_000
    publish_orders(queue, 0, total)
    with tempfile.TemporaryDirectory(prefix="ecf-rabbit-kill-") as tmp:
        ws = Path(tmp) / "ws"
        for target in (300, 350, 400):  # deliveries landed by each run before it is killed
            started = datetime.now(UTC)
            proc = _start(ws, queue)
            deadline = time.monotonic() + 60
            while _landed_since(ws, started) < target and time.monotonic() < deadline:
                assert proc.poll() is None, _log(ws)
                time.sleep(0.02)
            assert _landed_since(ws, started) >= target, _log(ws)
            os.kill(proc.pid, signal.SIGKILL)  # mid-stream: its prefetched, unacked messages are requeued
            proc.wait()
        final = _start(ws, queue, idle=2.0)
        assert final.wait(timeout=120) == 0, _log(ws)
        ids = _order_ids(open_test_lake(ws))
    assert len(ids) == total, f"{total - len(set(ids))} lost, {len(ids) - len(set(ids))} doubled"
    assert sorted(ids) == [f"O{i:07d}" for i in range(total)]
    assert queue_depth(queue) == (0, 0)


def test_cli_takes_the_broker_from_options(queue: str, tmp_path: Path) -> None:
    from ecfusion.cli import main

    ws = tmp_path / "ws"
    open_test_lake(ws)  # an initialised workspace
    with (ws / "ecfusion.toml").open("a") as f:  # configured for NATS; the options switch broker
        f.write(f'\n[sources.order_bus]\nkind = "mq"\nstream = "{queue}"\nsubject = "x.>"\n')
    publish_orders(queue, 0, 12)
    args = ["mq", "consume", "order_bus", "--workspace", str(ws), "--once"]
    assert main([*args, "--bus", "rabbitmq", "--url", AMQP_URL]) == 0
    lake = open_test_lake(ws)
    assert sorted(_order_ids(lake)) == [f"O{i:07d}" for i in range(12)]
    assert queue_depth(queue) == (0, 0)
    assert main([*args, "--bus", "kafka"]) != 0  # no adapter: one clear error line, non-zero exit
