"""Collection-layer figures (issue 5 §4–§7; standard 5.1): CDC latency, bus and log throughput.

* CDC latency: dedicated MariaDB (binlog ROW) and PostgreSQL (wal_level=logical) servers; a
  streaming ``run_cdc`` lands while single-row inserts, updates and deletes are committed one by
  one. Figure: commit → durable in the raw zone (p50/p95/max). Floor: the poll interval (a change
  committed just after a poll waits that long). Requirement: max < 5 s.
* NATS and RabbitMQ: messages/s landed by ``consume`` (ack after landing) vs the floor of fetching
  and acknowledging the same messages without landing.
* Logs: nginx lines/s tailed into the raw zone vs the floor of reading and splitting the file once.

The lake uses the hash-only cipher of the collector tests, so the figures are the collection
layer's own (landing with field encryption is measured by bench_landing.py).
Output: benchmarks/results/collect.json.

    .venv/bin/python benchmarks/bench_collect.py [--changes 30] [--messages 20000] [--lines 200000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import pymysql  # noqa: E402
from tests.sources.cdc.servers import mariadb_with_binlog, postgres_logical  # noqa: E402
from tests.sources.mq.conftest import open_test_lake  # noqa: E402

from ecfusion.sources.cdc import (  # noqa: E402
    MySqlCdcConfig,
    MySqlCdcConnector,
    PostgresCdcConfig,
    PostgresCdcConnector,
    run_cdc,
)

RESULTS = ROOT / "benchmarks" / "results"
POLL = 0.1


def _cdc_latency(kind: str, port: int, changes: int, work: Path) -> dict[str, Any]:
    db = "bench_" + uuid.uuid4().hex[:6]
    if kind == "mariadb":
        admin = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
        admin.cursor().execute(f"CREATE DATABASE {db}")
        admin.select_db(db)
        run = admin.cursor().execute
        run("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        connector: Any = MySqlCdcConnector(
            MySqlCdcConfig(name="bench", port=port, database=db, poll_seconds=POLL)
        )
    else:
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f"CREATE DATABASE {db}")
        admin = psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname={db}", autocommit=True)
        run = admin.execute  # type: ignore[assignment]
        run("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        run("ALTER TABLE t REPLICA IDENTITY FULL")
        connector = PostgresCdcConnector(
            PostgresCdcConfig(
                name="bench",
                port=port,
                database=db,
                tables=["t"],
                slot="s_" + db,
                publication="p_" + db,
                poll_seconds=POLL,
            )
        )
    lake = open_test_lake(work / kind)
    landed_at: dict[str, float] = {}

    def on_batch(_report: Any, batch: Any) -> None:
        now = time.perf_counter()
        for env in batch.records:
            row = env["after"] or env["before"]
            landed_at.setdefault(f"{env['op']}:{row['id']}:{row.get('v')}", now)

    worker = threading.Thread(target=run_cdc, args=(connector, lake), kwargs={"on_batch": on_batch})
    worker.start()
    while (lake.checkpoints.get("bench", "changes") or {}).get("phase") != "stream":
        time.sleep(0.05)
    committed: dict[str, float] = {}
    for i in range(changes):
        step = i % 3
        if step == 0:
            run(f"INSERT INTO t VALUES ({i}, 1)")
            committed[f"c:{i}:1"] = time.perf_counter()
        elif step == 1:
            run(f"UPDATE t SET v = 2 WHERE id = {i - 1}")
            committed[f"u:{i - 1}:2"] = time.perf_counter()
        else:
            run(f"DELETE FROM t WHERE id = {i - 2}")
            committed[f"d:{i - 2}:2"] = time.perf_counter()
        time.sleep(0.15)
    deadline = time.monotonic() + 30
    while set(committed) - set(landed_at) and time.monotonic() < deadline:
        time.sleep(0.05)
    connector.stop()
    worker.join()
    connector.close()
    lat = sorted(landed_at[k] - t for k, t in committed.items() if k in landed_at)
    p95 = lat[int(0.95 * (len(lat) - 1))]
    return {
        "changes": changes,
        "landed": len(lat),
        "lost": len(committed) - len(lat),
        "latency_p50_s": round(statistics.median(lat), 3),
        "latency_p95_s": round(p95, 3),
        "latency_max_s": round(lat[-1], 3),
        "floor_poll_s": POLL,
        "ratio_p95_to_floor": round(p95 / POLL, 2),
        "requirement_max_s": 5.0,
        "meets_requirement": lat[-1] < 5.0,
    }


def _bus(base: dict[str, Any], messages: int, work: Path, refill: Any) -> dict[str, Any]:
    """Landing throughput of one broker vs the floor of fetching and acking the same messages."""
    from ecfusion.sources.mq import MqConnector, MqSourceConfig, consume, open_bus

    floor_bus = open_bus(MqSourceConfig.model_validate({**base, "durable": "floor"}))
    t0, n = time.perf_counter(), 0
    while n < messages:
        got = floor_bus.fetch(500, 0.5)
        floor_bus.ack(got)
        n += len(got)
    floor_s = time.perf_counter() - t0
    floor_bus.close()
    refill()  # a queue is drained by the floor run; a JetStream durable consumer is not
    connector = MqConnector(MqSourceConfig.model_validate({**base, "durable": "landing"}))
    t0 = time.perf_counter()
    report = consume(connector, open_test_lake(work / base["bus"]))
    took = time.perf_counter() - t0 - base["idle_stop_seconds"]  # minus the idle wait that ends the run
    connector.close()
    return {
        "messages": messages,
        "landed": report.landed,
        "msgs_per_s": round(messages / took),
        "floor_fetch_ack_msgs_per_s": round(messages / floor_s),
        "ratio_time_to_floor": round(took / floor_s, 2),
    }


BUS_BASE = {
    "batch_size": 500,
    "fetch_timeout_seconds": 0.5,
    "idle_stop_seconds": 1.0,
    "record_key_field": "order_id",
}


def _nats(messages: int, work: Path) -> dict[str, Any]:
    from tests.sources.mq.natsfix import URL, create_stream, delete_stream, publish_orders, unique_names

    stream, subject = unique_names()
    create_stream(stream, subject)
    try:
        publish_orders(subject, 0, messages)
        base = {
            **BUS_BASE,
            "name": "bench_bus",
            "bus": "nats",
            "url": URL,
            "stream": stream,
            "subject": subject,
        }
        return _bus(base, messages, work, refill=lambda: None)
    finally:
        delete_stream(stream)


def _rabbitmq(messages: int, work: Path) -> dict[str, Any]:
    from tests.sources.mq.rabbitfix import AMQP_URL, create_queue, delete_queue, publish_orders

    queue = create_queue()
    try:
        publish_orders(queue, 0, messages)
        base = {**BUS_BASE, "name": "bench_bus", "bus": "rabbitmq", "url": AMQP_URL, "stream": queue}
        return _bus(base, messages, work, refill=lambda: publish_orders(queue, 0, messages))
    finally:
        delete_queue(queue)


def _logs(lines: int, work: Path) -> dict[str, Any]:
    from ecfusion.sources.logs import LogConnector, LogSourceConfig
    from ecfusion.sources.sync import sync

    log = work / "access.log"
    row = (
        '10.0.{a}.{b} - - [22/Nov/2026:10:15:02 +0800] "GET /item/{i}?spm=a1 HTTP/1.1" 200 {i} '
        '"-" "Mozilla/5.0"\n'
    )
    with open(log, "w") as f:
        for i in range(lines):
            f.write(row.format(a=i % 250, b=i % 200, i=i))
    t0 = time.perf_counter()
    with open(log, "rb") as f:
        count = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    floor_s = time.perf_counter() - t0
    assert count == lines
    cfg = LogSourceConfig(name="bench_log", path=log, format="nginx", entity="access_log")
    t0 = time.perf_counter()
    report = sync(LogConnector(cfg), open_test_lake(work / "logs"), stop_on_error=True).streams[0]
    took = time.perf_counter() - t0
    return {
        "lines": lines,
        "landed": report.landed,
        "lines_per_s": round(lines / took),
        "mb_per_s": round(log.stat().st_size / took / 1e6, 1),
        "floor_read_split_s": round(floor_s, 3),
        "ratio_time_to_floor": round(took / floor_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--changes", type=int, default=30)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--lines", type=int, default=200_000)
    args = ap.parse_args(argv)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ecf-bench-collect-") as tmp:
        work = Path(tmp)
        with mariadb_with_binlog() as my:
            out["cdc_mariadb"] = _cdc_latency("mariadb", my.port, args.changes, work)
        with postgres_logical() as pg:
            out["cdc_postgres"] = _cdc_latency("postgres", pg.port, args.changes, work)
        out["nats"] = _nats(args.messages, work)
        out["rabbitmq"] = _rabbitmq(args.messages, work)
        out["logs_nginx"] = _logs(args.lines, work)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "collect.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
