"""Helpers for the RabbitMQ tests: a unique durable queue per test, publishing, queue depth."""

from __future__ import annotations

import uuid

import orjson
import pika

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _channel() -> tuple[pika.BlockingConnection, pika.adapters.blocking_connection.BlockingChannel]:
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    return conn, conn.channel()


def create_queue() -> str:
    name = f"ecf_t_{uuid.uuid4().hex[:10]}"
    conn, ch = _channel()
    ch.queue_declare(name, durable=True)
    conn.close()
    return name


def delete_queue(name: str) -> None:
    conn, ch = _channel()
    ch.queue_delete(name)
    conn.close()


def publish(queue: str, bodies: list[bytes], ids: list[str | None]) -> None:
    conn, ch = _channel()
    ch.confirm_delivery()  # the broker confirms each message is stored before publish returns
    for body, mid in zip(bodies, ids, strict=True):
        ch.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2, message_id=mid))
    conn.close()


def publish_orders(queue: str, start: int, count: int) -> None:
    bodies = [
        orjson.dumps({"order_id": f"O{i:07d}", "status": "PAID", "amount": i % 997})
        for i in range(start, start + count)
    ]
    publish(queue, bodies, [f"msg-{i}" for i in range(start, start + count)])


def queue_depth(queue: str) -> tuple[int, int]:
    """(messages ready, consumers) of ``queue``; ready counts also unacked ones once their consumer left."""
    conn, ch = _channel()
    ok = ch.queue_declare(queue, passive=True).method
    conn.close()
    return ok.message_count, ok.consumer_count
