"""Group-commit landing of pushed messages: land durably, THEN acknowledge (采集层 5.1, 4.3.5 a).

Request handlers ``submit`` the messages of one delivery and wait. One landing thread owns the lake
writers (one per entity, held open for the receiver's life, so the idempotency set is read once),
takes everything submitted within ``max_wait_seconds``, adds it, flushes it durably (fsync +
rename) and only then completes the waiting requests, which answer the platform with success.
A crash before the flush means no acknowledgement was sent, so the platform redelivers.

A message id seen recently (bounded memory) is acknowledged without landing again; across
restarts the lake's content hash catches the same message redelivered.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ecfusion.sources.push.messages import PushMessage

if TYPE_CHECKING:
    from ecfusion.lake import RawLake
    from ecfusion.lake.raw import RawWriter


@dataclass(frozen=True)
class Delivery:
    """One HTTP delivery to land: its messages, or the body itself when it must be quarantined."""

    source: str
    entity: str
    platform: str
    shop_id: str | None
    messages: list[PushMessage] = field(default_factory=list)
    quarantine: tuple[bytes, str, str] | None = None  # raw body, reason, location


@dataclass
class DeliveryOutcome:
    landed: int = 0
    duplicates: int = 0
    quarantined: int = 0
    test_messages: int = 0


@dataclass
class _Pending:
    delivery: Delivery
    future: Future[DeliveryOutcome]


class MessageIdCache:
    """The most recent message ids per source (bounded, least recently seen evicted)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[tuple[str, str], None] = OrderedDict()

    def seen(self, source: str, msg_id: str) -> bool:
        key = (source, msg_id)
        if key in self._ids:
            self._ids.move_to_end(key)
            return True
        return False

    def remember(self, source: str, msg_id: str) -> None:
        self._ids[(source, msg_id)] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


class PushLander:
    """Owns the lake writers of a receiver; ``submit`` returns a future done once data is durable."""

    def __init__(self, lake: RawLake, *, max_wait_seconds: float = 0.02, max_messages: int = 5_000) -> None:
        self.lake = lake
        self.max_wait_seconds = max_wait_seconds
        self.max_messages = max_messages
        self.ids = MessageIdCache()
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._writers: dict[tuple[str, str], RawWriter] = {}
        self._stack = ExitStack()
        self._thread = threading.Thread(target=self._run, name="push-lander", daemon=True)
        self._thread.start()

    def submit(self, delivery: Delivery) -> Future[DeliveryOutcome]:
        fut: Future[DeliveryOutcome] = Future()
        self._queue.put(_Pending(delivery, fut))
        return fut

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    # -- the landing thread -----------------------------------------------------------------------

    def _run(self) -> None:
        with self._stack:
            while True:
                group = self._collect()
                if group is None:
                    return
                self._land_group(group)

    def _collect(self) -> list[_Pending] | None:
        first = self._queue.get()
        if first is None:
            return None
        group = [first]
        count = len(first.delivery.messages)
        while count < self.max_messages:
            try:
                item = self._queue.get(timeout=self.max_wait_seconds)
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # close after this group
                break
            group.append(item)
            count += len(item.delivery.messages)
        return group

    def _writer(self, d: Delivery) -> RawWriter:
        key = (d.source, d.entity)
        if key not in self._writers:
            self._writers[key] = self._stack.enter_context(
                self.lake.writer(source=d.source, entity=d.entity, platform=d.platform, shop_id=d.shop_id)
            )
        return self._writers[key]

    def _land_group(self, group: list[_Pending]) -> None:
        outcomes: list[DeliveryOutcome] = []
        try:
            touched: set[tuple[str, str]] = set()
            for pending in group:
                outcomes.append(self._add(pending.delivery))
                touched.add((pending.delivery.source, pending.delivery.entity))
            for key in touched:
                self._writers[key].flush()
        except BaseException as e:  # nothing is acknowledged: every waiting request answers 5xx
            for pending in group:
                pending.future.set_exception(e)
            return
        for pending, outcome in zip(group, outcomes, strict=True):
            for m in pending.delivery.messages:
                if m.msg_id is not None:
                    self.ids.remember(pending.delivery.source, m.msg_id)
            pending.future.set_result(outcome)

    def _add(self, d: Delivery) -> DeliveryOutcome:
        w = self._writer(d)
        out = DeliveryOutcome()
        if d.quarantine is not None:
            raw, reason, location = d.quarantine
            w.quarantine(raw, reason=reason, location=location)
            out.quarantined += 1
            return out
        pulled_at = datetime.now(UTC)
        for m in d.messages:
            if m.is_test:
                out.test_messages += 1
            elif m.msg_id is not None and self.ids.seen(d.source, m.msg_id):
                out.duplicates += 1
            elif w.add(m.payload(), record_key=_record_key(m), pulled_at=pulled_at):
                out.landed += 1
            else:
                out.duplicates += 1
        return out


def _record_key(m: PushMessage) -> str | None:
    data: Any = m.data
    if isinstance(data, dict):
        for key in ("p_id", "order_id", "tid", "orderId", "order_sn", "shop_order_id"):
            if data.get(key) is not None:
                return str(data[key])
    return m.msg_id
