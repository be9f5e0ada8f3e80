"""A consumer the kill tests start and SIGKILL: ``python consumer_process.py WS STREAM SUBJECT [IDLE]``.

``ECF_TEST_BUS=rabbitmq`` consumes queue STREAM on the local RabbitMQ instead of NATS JetStream.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))

from tests.sources.collector_lake import open_test_lake  # noqa: E402
from tests.sources.mq.natsfix import URL  # noqa: E402
from tests.sources.mq.rabbitfix import AMQP_URL  # noqa: E402

from ecfusion.sources.mq import MqConnector, MqSourceConfig, consume  # noqa: E402


def main() -> None:
    workspace, stream, subject = sys.argv[1:4]
    idle = float(sys.argv[4]) if len(sys.argv) > 4 else None
    lake = open_test_lake(workspace)  # type: ignore[arg-type]
    bus = os.environ.get("ECF_TEST_BUS", "nats")
    cfg = MqSourceConfig(
        name="order_bus",
        bus=bus,
        url=AMQP_URL if bus == "rabbitmq" else URL,
        stream=stream,
        subject=subject,
        durable="ecf_kill",
        record_key_field="order_id",
        batch_size=50,
        fetch_timeout_seconds=0.5,
        ack_wait_seconds=2.0,
        idle_stop_seconds=idle,
    )
    connector = MqConnector(cfg)
    try:
        consume(connector, lake)
    finally:
        connector.close()


if __name__ == "__main__":
    main()
