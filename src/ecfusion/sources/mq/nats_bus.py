"""NATS JetStream as a ``MessageBus``: a durable pull consumer with explicit acks (采集层 5.1).

The durable consumer keeps our place on the server between runs; ``AckExplicit`` with
``ack_wait`` means a message fetched by a consumer that dies is redelivered after ``ack_wait``.
nats-py is asyncio; this adapter runs its own event loop so the collector stays synchronous.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any

import nats
import nats.errors
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from ecfusion.errors import SourceError
from ecfusion.sources.mq.bus import BusMessage

if TYPE_CHECKING:
    from ecfusion.sources.mq.consumer import MqSourceConfig


def _tls_context(cfg: MqSourceConfig) -> ssl.SSLContext | None:
    if not (cfg.tls or cfg.tls_ca_file or cfg.tls_cert_file):
        return None
    ctx = ssl.create_default_context(cafile=cfg.tls_ca_file)
    if cfg.tls_cert_file:
        ctx.load_cert_chain(cfg.tls_cert_file, cfg.tls_key_file)
    return ctx


def _where(url: str) -> str:
    """``url`` as a message may print it: each server without the user, password or token a NATS
    URL may hold before its last ``@`` (nats://alice:s3cret@host:4222, nats://TOKEN@host)."""

    def server(part: str) -> str:
        scheme, sep, rest = part.partition("://")
        return scheme + sep + rest.rpartition("@")[2] if sep else part.rpartition("@")[2]

    return ",".join(server(p) for p in url.split(","))


async def _cancel_leftover_tasks() -> None:
    """nats-py leaves reader/pinger tasks behind after close; end them before the loop closes."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class NatsJetStreamBus:
    """Pull from one JetStream stream/subject through durable consumer ``cfg.durable``."""

    def __init__(self, cfg: MqSourceConfig) -> None:
        self.cfg = cfg
        self._loop = asyncio.new_event_loop()
        self._nc: Any = None
        self._sub: Any = None
        try:
            self._loop.run_until_complete(self._connect())
        except (TimeoutError, OSError, nats.errors.Error) as e:
            self.close()
            raise SourceError(
                f"cannot reach NATS JetStream at {_where(cfg.url)} for source {cfg.name}: {e}",
                hint="check `url`, credentials and that JetStream is enabled (nats-server -js)",
            ) from e

    async def _connect(self) -> None:
        cfg = self.cfg
        opts: dict[str, Any] = {
            "servers": [cfg.url],
            "connect_timeout": cfg.connect_timeout_seconds,
            "allow_reconnect": True,
            "max_reconnect_attempts": 5,
        }
        if cfg.user:
            opts["user"] = cfg.user
        if cfg.password is not None:
            opts["password"] = cfg.password.get_secret_value()
        tls = _tls_context(cfg)
        if tls is not None:
            opts["tls"] = tls
        self._nc = await nats.connect(**opts)
        js = self._nc.jetstream()
        consumer = ConsumerConfig(
            durable_name=cfg.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=cfg.ack_wait_seconds,
            max_ack_pending=max(cfg.batch_size * 4, 1000),
        )
        try:
            self._sub = await js.pull_subscribe(
                cfg.subject, durable=cfg.durable, stream=cfg.stream, config=consumer
            )
        except nats.js.errors.NotFoundError as e:
            raise SourceError(
                f"JetStream stream {cfg.stream!r} not found for subject {cfg.subject!r}",
                hint="create the stream on the broker, or fix `stream`/`subject`",
            ) from e

    def fetch(self, max_messages: int, timeout: float) -> list[BusMessage]:
        try:
            msgs = self._loop.run_until_complete(self._sub.fetch(max_messages, timeout=timeout))
        except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either when nothing came
            return []
        return [self._wrap(m) for m in msgs]

    def _wrap(self, m: Any) -> BusMessage:
        md = m.metadata
        headers = dict(m.headers or {})
        return BusMessage(
            data=m.data,
            subject=m.subject,
            message_id=headers.get("Nats-Msg-Id"),
            position=str(md.sequence.stream),
            redelivered=md.num_delivered > 1,
            headers=headers,
            handle=m,
        )

    def ack(self, messages: list[BusMessage]) -> None:
        async def _ack_all() -> None:
            for m in messages:
                await m.handle.ack()
            await self._nc.flush()

        if messages:
            self._loop.run_until_complete(_ack_all())

    def describe(self) -> str:
        cfg = self.cfg
        return f"nats {_where(cfg.url)} stream={cfg.stream} subject={cfg.subject} durable={cfg.durable}"

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            if self._nc is not None and not self._nc.is_closed:
                self._loop.run_until_complete(self._nc.close())
            self._loop.run_until_complete(_cancel_leftover_tasks())
        finally:
            self._loop.close()
