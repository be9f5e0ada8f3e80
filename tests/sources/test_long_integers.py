"""An id sent as a JSON number beyond 64 bits (an export's, a message's, a log line's) is read with
every digit by each collector, as the lake keeps it (``ecfusion.lake.jsontext``): two orders whose
ids differ only in the last digits stay two, never one float ``1.2345678901234569e+23``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from ecfusion.sources.logs.parsers import parse_jsonl_line
from ecfusion.sources.mq.bus import BusMessage
from ecfusion.sources.mq.consumer import MqConnector, MqSourceConfig
from ecfusion.sources.platforms.base import json_body
from ecfusion.sources.push.messages import split_generic, split_kuaidi100

IDS = (123456789012345678901234, 123456789012345678901235)


def api_response(order_id: int) -> Any:
    return json_body(b'{"trade": {"tid": %d, "status": "PAID"}}' % order_id, "taobao")["trade"]["tid"]


def webhook_push(order_id: int) -> Any:
    body = b'{"msg_id": "m1", "tag": "trade", "data": {"tid": %d}}' % order_id
    return split_generic(body, msg_id_field="msg_id", topic_field="tag")[0].payload()["data"]["data"]["tid"]


def kuaidi100_push(order_id: int) -> Any:
    param = f'{{"status": "polling", "lastResult": {{"nu": {order_id}, "data": []}}}}'
    return split_kuaidi100(urlencode({"param": param}).encode())[0].payload()["lastResult"]["nu"]


def queue_message(order_id: int) -> Any:
    config = MqSourceConfig(name="q", stream="orders", subject="orders.>")
    connector = MqConnector(config, bus=object())  # type: ignore[arg-type]  # no broker: _batch alone
    batch = connector._batch([BusMessage(b'{"tid": %d}' % order_id, "orders.new", None, "1")])
    return batch.records[0]["tid"]


def log_line(order_id: int) -> Any:
    return parse_jsonl_line(f'{{"event": "pay", "tid": {order_id}}}')["tid"]


@pytest.mark.parametrize("read", [api_response, webhook_push, kuaidi100_push, queue_message, log_line])
def test_a_long_numeric_id_is_read_with_every_digit(read: Any) -> None:
    assert [read(i) for i in IDS] == list(IDS)
