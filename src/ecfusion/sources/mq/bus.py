"""The message-bus seam (采集层 5.1: order events from the merchant's message queue).

A ``MessageBus`` is what the consumer needs from any broker: fetch up to N messages (waiting at
most a timeout), acknowledge a set of them, close. NATS JetStream and RabbitMQ (basic.ack after
landing) implement it; Kafka (commit offsets after landing) fits the same three calls, so switching
broker is a configuration choice (``bus = "nats" | "rabbitmq" | "kafka"``).
Delivery is at-least-once: the consumer acknowledges only after the lake made a batch durable;
anything redelivered lands as a duplicate no-op (content hash).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class BusMessage:
    """One delivered message, broker-neutral. ``handle`` is the broker's own object, for ``ack``."""

    data: bytes
    subject: str
    message_id: str | None  # the publisher's id (NATS ``Nats-Msg-Id``, Kafka key, AMQP message_id)
    position: str  # where it sits in the broker (stream sequence, partition:offset, delivery tag)
    redelivered: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    handle: Any = field(default=None, repr=False, compare=False)


class MessageBus(Protocol):
    def fetch(self, max_messages: int, timeout: float) -> list[BusMessage]:
        """Up to ``max_messages`` messages; an empty list after ``timeout`` seconds without any."""
        ...

    def ack(self, messages: list[BusMessage]) -> None:
        """Tell the broker these are safely stored (never called before they are durable)."""
        ...

    def describe(self) -> str: ...

    def close(self) -> None: ...
