"""RabbitMQ (AMQP 0-9-1) as a ``MessageBus``: manual acks on a durable queue (采集层 5.1).

``stream`` names the queue (it must exist and be durable; publishers send persistent messages);
``durable`` is the consumer tag. Messages are consumed with ``auto_ack=False`` and a prefetch of
``batch_size``, and acknowledged with one ``basic.ack(multiple=True)`` after the lake made the
batch durable. A consumer that dies (even by SIGKILL) drops its TCP connection; the broker then
requeues every unacknowledged message and delivers it again with ``redelivered=True``, which the
lake recognises by content hash. ``position`` is the delivery tag: it counts deliveries on this
connection only (RabbitMQ keeps no consumer offset), so it is informational, never a resume point.

pika's ``BlockingConnection`` is synchronous, which suits the synchronous collector.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from ecfusion.errors import SourceError
from ecfusion.sources.mq.bus import BusMessage

if TYPE_CHECKING:
    from ecfusion.sources.mq.consumer import MqSourceConfig

# A poll within fetch() waits at most this long for more messages once the first has arrived.
_TOPUP_SECONDS = 0.02


def _parameters(cfg: MqSourceConfig) -> pika.URLParameters:
    params = pika.URLParameters(cfg.url)
    if cfg.user:
        password = cfg.password.get_secret_value() if cfg.password else ""
        params.credentials = pika.PlainCredentials(cfg.user, password)
    params.socket_timeout = cfg.connect_timeout_seconds
    params.connection_attempts = 1
    if cfg.tls or cfg.tls_ca_file or cfg.tls_cert_file:
        ctx = ssl.create_default_context(cafile=cfg.tls_ca_file)
        if cfg.tls_cert_file:
            ctx.load_cert_chain(cfg.tls_cert_file, cfg.tls_key_file)
        params.ssl_options = pika.SSLOptions(ctx, params.host)
    return params


class RabbitMqBus:
    """Consume queue ``cfg.stream`` with manual acknowledgements."""

    def __init__(self, cfg: MqSourceConfig) -> None:
        self.cfg = cfg
        self._buffer: deque[BusMessage] = deque()
        self._conn: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        try:
            self._conn = pika.BlockingConnection(_parameters(cfg))
            self._channel = self._open_channel(self._conn)
        except pika.exceptions.ChannelClosedByBroker as e:
            self.close()
            raise SourceError(
                f"RabbitMQ queue {cfg.stream!r} is not usable for source {cfg.name}: {e.reply_text}",
                hint="declare the queue (durable) on the broker, or fix `stream`",
            ) from e
        except (pika.exceptions.AMQPError, OSError) as e:
            self.close()
            raise SourceError(
                f"cannot reach RabbitMQ at {self._where()} for source {cfg.name}: {e!r}",
                hint="check `url` (amqp://host:5672/vhost), `user`/`password` and TLS settings",
            ) from e

    def _where(self) -> str:
        """The URL without credentials, for messages."""
        params = pika.URLParameters(self.cfg.url)
        return f"{params.host}:{params.port}{params.virtual_host and '/' + params.virtual_host}"

    def _open_channel(self, conn: pika.BlockingConnection) -> BlockingChannel:
        channel = conn.channel()
        channel.queue_declare(self.cfg.stream, passive=True)  # fails clearly if the queue is missing
        channel.basic_qos(prefetch_count=self.cfg.batch_size)
        channel.basic_consume(
            self.cfg.stream, self._on_message, auto_ack=False, consumer_tag=self.cfg.durable
        )
        return channel

    def _on_message(self, _ch: Any, method: Any, props: Any, body: bytes) -> None:
        headers = {str(k): str(v) for k, v in (props.headers or {}).items()}
        self._buffer.append(
            BusMessage(
                data=body,
                subject=method.routing_key or self.cfg.stream,
                message_id=props.message_id,
                position=str(method.delivery_tag),
                redelivered=bool(method.redelivered),
                headers=headers,
                handle=method.delivery_tag,
            )
        )

    def fetch(self, max_messages: int, timeout: float) -> list[BusMessage]:
        assert self._conn is not None
        deadline = time.monotonic() + timeout
        try:
            while len(self._buffer) < max_messages:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                before = len(self._buffer)
                wait = _TOPUP_SECONDS if self._buffer else min(remaining, 0.25)
                self._conn.process_data_events(time_limit=wait)
                if self._buffer and len(self._buffer) == before:
                    break  # the broker has nothing more ready right now: hand over what came
        except pika.exceptions.AMQPError as e:
            raise SourceError(
                f"RabbitMQ connection lost for source {self.cfg.name}: {e!r}",
                hint="unacknowledged messages are redelivered; run the consumer again",
            ) from e
        return [self._buffer.popleft() for _ in range(min(max_messages, len(self._buffer)))]

    def ack(self, messages: list[BusMessage]) -> None:
        if not messages or self._channel is None:
            return
        # Batches are acknowledged in delivery order on one channel, so one multiple-ack of the
        # highest tag covers exactly this batch and nothing still buffered (higher tags).
        self._channel.basic_ack(delivery_tag=max(int(m.handle) for m in messages), multiple=True)

    def describe(self) -> str:
        return f"rabbitmq {self._where()} queue={self.cfg.stream} consumer={self.cfg.durable}"

    def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None and conn.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                conn.close()  # unacknowledged (buffered) messages go back to the queue
