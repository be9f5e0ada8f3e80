"""Consume order events from a message bus into the raw zone (采集层 4.3.4, 5.1; at-least-once).

``consume(connector, lake)`` fetches a batch, lands it, checkpoints it (durable first) and only
then acknowledges it to the broker (``ecfusion.sources.streaming``). A consumer killed at any
point leaves its unacknowledged messages on the broker, which redelivers them; the lake
recognises what it already holds by content hash. Nothing lost, nothing doubled.
``MqConnector.read`` (the generic pull contract) is refused: the general driver paces its
checkpoints and so cannot say when an acknowledgement is safe.

Each message must be a JSON object; anything else is quarantined with the reason and its broker
position, and acknowledged (redelivering would not make it parseable).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import Field, SecretStr, model_validator

from ecfusion.errors import ConfigError, EcfusionError, SourceError
from ecfusion.lake import jsontext
from ecfusion.sources.contract import (
    Batch,
    CheckResult,
    QuarantinedItem,
    ReadStats,
    SourceConfig,
    State,
    StreamInfo,
    register,
)
from ecfusion.sources.mq.bus import BusMessage, MessageBus
from ecfusion.sources.streaming import land_confirmed
from ecfusion.sources.sync import Lake, StreamReport

# Where each broker listens by default; ``url`` overrides.
DEFAULT_URLS = {
    "nats": "nats://127.0.0.1:4222",
    "rabbitmq": "amqp://127.0.0.1:5672/%2F",
    "kafka": "127.0.0.1:9092",
}


class MqSourceConfig(SourceConfig):
    """``[sources.NAME] kind = "mq"``: one subscription on a broker.

    The keys mean, per ``bus``:

    =======================  ====================  ======================  ========================
    key                      nats (JetStream)      rabbitmq (AMQP)         kafka (no adapter yet)
    =======================  ====================  ======================  ========================
    ``url``                  ``nats://host:4222``  ``amqp://host/vhost``   ``bootstrap.servers``
    ``stream``               stream                durable queue           topic
    ``subject``              subject filter        ignored                 ignored
    ``durable``              durable consumer      consumer tag            ``group.id``
    ``batch_size``           fetch batch           prefetch count          ``max.poll.records``
    ``ack_wait_seconds``     ``ack_wait``          ignored (note 1)        ``max.poll.interval.ms``
    ``user``/``password``    user/password         PLAIN credentials       SASL PLAIN
    ``tls_*``                TLS context           TLS context             ``ssl.*``
    acknowledgement          ``+ACK`` per message  ``basic.ack`` multiple  commit offsets (sync)
    ``BusMessage.position``  stream sequence       delivery tag            ``partition:offset``
    =======================  ====================  ======================  ========================

    Note 1: RabbitMQ redelivers a consumer's unacknowledged messages as soon as its connection
    drops (and after the broker's own ``consumer_timeout``), so there is no client-side wait.

    A Kafka adapter would consume with ``enable.auto.commit=false`` and ``auto.offset.reset=earliest``
    and commit the batch's highest offset + 1 per partition in ``ack``.
    """

    kind: Literal["mq"] = "mq"
    bus: Literal["nats", "rabbitmq", "kafka"] = "nats"
    url: str = Field(DEFAULT_URLS["nats"], description="broker address; default depends on `bus`")
    stream: str = Field(..., description="JetStream stream (Kafka topic / RabbitMQ queue)")
    subject: str = Field("", description="subject filter, e.g. orders.> (NATS only; required there)")
    durable: str = Field(
        "ecfusion", description="durable consumer name (Kafka group id / RabbitMQ consumer tag)"
    )
    entity: str = "order_events"
    record_key_field: str | None = Field(
        None, description="payload field holding the natural key, e.g. order_id"
    )
    batch_size: int = Field(500, ge=1, le=10_000)
    fetch_timeout_seconds: float = Field(1.0, gt=0)
    ack_wait_seconds: float = Field(30.0, gt=0, description="redelivery delay of unacknowledged messages")
    idle_stop_seconds: float | None = Field(None, gt=0, description="stop after this long without messages")
    connect_timeout_seconds: float = 5.0
    user: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_url_for_bus(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("url"):
            data = {**data, "url": DEFAULT_URLS.get(str(data.get("bus", "nats")), DEFAULT_URLS["nats"])}
        return data

    @model_validator(mode="after")
    def _nats_needs_a_subject(self) -> MqSourceConfig:
        if self.bus == "nats" and not self.subject:
            raise ValueError("a NATS subscription needs `subject` (e.g. orders.>)")
        return self


def open_bus(cfg: MqSourceConfig) -> MessageBus:
    """The bus adapter the configuration names."""
    if cfg.bus == "nats":
        from ecfusion.sources.mq.nats_bus import NatsJetStreamBus

        return NatsJetStreamBus(cfg)
    if cfg.bus == "rabbitmq":
        from ecfusion.sources.mq.rabbitmq_bus import RabbitMqBus

        return RabbitMqBus(cfg)
    raise ConfigError(
        f"source {cfg.name}: bus '{cfg.bus}' has no adapter in this version",
        hint='use bus = "nats" or "rabbitmq"; a Kafka adapter implements the same MessageBus '
        "(see MqSourceConfig for the keys it takes)",
    )


@register("mq", MqSourceConfig)
class MqConnector:
    """A bus subscription as a source. ``stop()`` ends ``read`` after the batch in hand is landed."""

    def __init__(self, config: MqSourceConfig, *, bus: MessageBus | None = None, **_: Any) -> None:
        self.config = config
        self.stats = ReadStats()
        self._bus = bus
        self._stop = threading.Event()
        self._unacked: dict[int, list[BusMessage]] = {}

    @property
    def bus(self) -> MessageBus:
        if self._bus is None:
            self._bus = open_bus(self.config)
        return self._bus

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> CheckResult:
        try:
            return CheckResult(True, f"subscribed: {self.bus.describe()}")
        except EcfusionError as e:
            return CheckResult.failed(e)
        except Exception as e:  # a client library's own: shown to the operator as the source failing
            return CheckResult.failed(SourceError(str(e), hint=getattr(e, "hint", None)))

    def discover(self) -> list[StreamInfo]:
        return [
            StreamInfo(
                self.config.entity,
                key_field=self.config.record_key_field,
                cursor_field="position",
                description=f"messages of {self.config.subject} on {self.config.stream}",
            )
        ]

    def close(self) -> None:
        if self._bus is not None:
            self._bus.close()
            self._bus = None

    def read(self, stream: str, state: State | None) -> Iterator[Batch]:
        raise SourceError(
            f"source {self.config.name} is a message-bus subscription; it acknowledges after "
            "landing, which the generic sync cannot tell it",
            hint=f"run `ecfusion mq consume {self.config.name}`",
        )

    def batches(self) -> Iterator[Batch]:
        """Batches until ``stop()`` or ``idle_stop_seconds`` without messages (not acknowledged)."""
        cfg = self.config
        idle_since = time.monotonic()
        while not self._stop.is_set():
            msgs = self.bus.fetch(cfg.batch_size, cfg.fetch_timeout_seconds)
            self.stats.requests += 1
            if not msgs:
                if (
                    cfg.idle_stop_seconds is not None
                    and time.monotonic() - idle_since >= cfg.idle_stop_seconds
                ):
                    return
                continue
            idle_since = time.monotonic()
            self.stats.pages += 1
            self.stats.retries += sum(1 for m in msgs if m.redelivered)
            yield self._batch(msgs)

    def acknowledge(self, batch: Batch) -> None:
        """Acknowledge the messages of ``batch`` (call only once it is durable)."""
        self.bus.ack(self._unacked.pop(id(batch), []))

    def _batch(self, msgs: list[BusMessage]) -> Batch:
        records: list[dict[str, Any]] = []
        keys: list[str | None] = []
        bad: list[QuarantinedItem] = []
        for m in msgs:
            location = f"{m.subject}@{m.position}"
            try:
                value = jsontext.loads(m.data)
            except orjson.JSONDecodeError as e:
                bad.append(QuarantinedItem(m.data, f"malformed_json: {e}", location))
                continue
            if not isinstance(value, dict):
                bad.append(
                    QuarantinedItem(m.data, "not_an_object: a message must be a JSON object", location)
                )
                continue
            records.append(value)
            keys.append(self._key(value, m))
        last = msgs[-1]
        state = {"position": last.position, "at": datetime.now(UTC).isoformat()}
        batch = Batch(records=records, state=state, record_keys=keys, quarantined=bad)
        self._unacked[id(batch)] = msgs
        return batch

    def _key(self, value: dict[str, Any], m: BusMessage) -> str | None:
        field = self.config.record_key_field
        if field and value.get(field) is not None:
            return str(value[field])
        return m.message_id


def consume(
    connector: MqConnector, lake: Lake, *, on_batch: Callable[[StreamReport, Batch], None] | None = None
) -> StreamReport:
    """Land the subscription until stopped or idle; every batch acknowledged after it is durable."""
    stream = connector.config.entity
    return land_confirmed(
        lake, connector.config, stream, connector.batches(), connector.acknowledge, on_batch=on_batch
    )
