"""Helpers for the NATS tests: a unique stream per test, publishing, consumer state."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import nats
import orjson

URL = "nats://127.0.0.1:4222"


def nats_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=0.5):
            return True
    except OSError:
        return False


def unique_names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:10]
    return f"ECF_T_{tag}", f"ecf.t.{tag}.orders"


async def _create(stream: str, subject: str) -> None:
    nc = await nats.connect(URL)
    await nc.jetstream().add_stream(name=stream, subjects=[subject])
    await nc.close()


async def _publish(subject: str, bodies: list[bytes], ids: list[str | None]) -> None:
    nc = await nats.connect(URL)
    js = nc.jetstream()
    for body, mid in zip(bodies, ids, strict=True):
        await js.publish(subject, body, headers={"Nats-Msg-Id": mid} if mid else None)
    await nc.close()


async def _delete(stream: str) -> None:
    nc = await nats.connect(URL)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


async def _consumer_info(stream: str, durable: str) -> Any:
    nc = await nats.connect(URL)
    try:
        return await nc.jetstream().consumer_info(stream, durable)
    finally:
        await nc.close()


def create_stream(stream: str, subject: str) -> None:
    asyncio.run(_create(stream, subject))


def delete_stream(stream: str) -> None:
    asyncio.run(_delete(stream))


def publish_orders(subject: str, start: int, count: int) -> None:
    bodies = [
        orjson.dumps({"order_id": f"O{i:07d}", "status": "PAID", "amount": i % 997})
        for i in range(start, start + count)
    ]
    asyncio.run(_publish(subject, bodies, [f"msg-{i}" for i in range(start, start + count)]))


def publish_raw(subject: str, bodies: list[bytes]) -> None:
    asyncio.run(_publish(subject, bodies, [None] * len(bodies)))


def consumer_info(stream: str, durable: str) -> Any:
    return asyncio.run(_consumer_info(stream, durable))
