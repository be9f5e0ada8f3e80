"""Split a pushed HTTP body into platform messages (采集层 5.1: pushed order messages).

* Douyin shop pushes a JSON array ``[{"tag": "101", "msg_id": "…", "data": "<JSON text>"}]``;
  ``data`` is itself JSON text. Tag ``"0"`` is the platform's connectivity test when the URL is
  configured (⚠ from public SDKs): it is acknowledged and not landed.
* Taobao/JD/PDD-style bodies are one JSON object or an array of objects; the message id is the
  configured field (``msg_id_field``), the topic ``topic_field``.
* kuaidi100's tracking push is a form body whose ``param`` field is the JSON push (``lastResult``
  with the parcel's whole history); it has no message id.

What is landed per message is ``{"msg_id", "topic", "data"}`` — not the delivery wrapper (which
carries per-attempt timestamps) — so a redelivered message has the same content hash and is
recognised by the lake as already landed. A kuaidi100 push lands as its ``param`` object itself
(``bare``): it carries nothing per attempt, and it is what ``mappings/kuaidi100.toml`` reads,
however the push arrived (webhook or a file of pushes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ecfusion.lake import jsontext
from ecfusion.sources.push.signatures import form_fields

TEST_TOPICS = frozenset({"0"})


class BodyParseError(ValueError):
    """The body is signed correctly but is not the platform's message shape; quarantined."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PushMessage:
    msg_id: str | None
    topic: str | None
    data: Any
    bare: bool = False  # land ``data`` itself, not the {msg_id, topic, data} envelope

    def payload(self) -> dict[str, Any]:
        if self.bare and isinstance(self.data, dict):
            return self.data
        return {"msg_id": self.msg_id, "topic": self.topic, "data": self.data}

    @property
    def is_test(self) -> bool:
        return self.topic in TEST_TOPICS


def _load(body: bytes) -> Any:
    try:
        return jsontext.loads(body)
    except orjson.JSONDecodeError as e:
        raise BodyParseError(f"malformed_json: {e}") from e


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return jsontext.loads(value)
        except orjson.JSONDecodeError:
            return value  # kept as delivered; standardization decides
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def split_douyin(body: bytes) -> list[PushMessage]:
    items = _load(body)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BodyParseError("not_douyin_push: expected a JSON array of {tag, msg_id, data} objects")
    return [
        PushMessage(_text(i.get("msg_id")), _text(i.get("tag")), _maybe_json(i.get("data"))) for i in items
    ]


def split_generic(body: bytes, *, msg_id_field: str, topic_field: str) -> list[PushMessage]:
    items = _load(body)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BodyParseError("not_push_message: expected a JSON object or an array of objects")
    return [PushMessage(_text(i.get(msg_id_field)), _text(i.get(topic_field)), i) for i in items]


def split_kuaidi100(body: bytes) -> list[PushMessage]:
    param = form_fields(body).get("param")
    if param is None:
        raise BodyParseError("not_kuaidi100_push: expected a form body with a 'param' field")
    try:
        data = jsontext.loads(param)
    except orjson.JSONDecodeError as e:
        raise BodyParseError(f"malformed_json: param is not JSON ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("lastResult"), dict):
        raise BodyParseError("not_kuaidi100_push: param has no lastResult object")
    return [PushMessage(None, _text(data.get("status")), data, bare=True)]


def split_body(platform: str, body: bytes, *, msg_id_field: str, topic_field: str) -> list[PushMessage]:
    if platform == "douyin":
        return split_douyin(body)
    if platform == "kuaidi100":
        return split_kuaidi100(body)
    return split_generic(body, msg_id_field=msg_id_field, topic_field=topic_field)
