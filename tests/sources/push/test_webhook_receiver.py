"""The webhook receiver: verify, land durably, then acknowledge; replays are harmless."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from ecfusion.lake import RawLake
from ecfusion.sources.contract import connector_kind
from ecfusion.sources.push import PRESETS, WebhookSourceConfig, compute_signature, create_app

KEY, SECRET = "7012345678901234567", "s3cr3t-app-secret"


def douyin_body(*msgs: tuple[str, str, dict[str, Any]]) -> bytes:
    return orjson.dumps(
        [{"tag": tag, "msg_id": mid, "data": orjson.dumps(data).decode()} for tag, mid, data in msgs]
    )


def douyin_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"event-sign": hashlib.md5(KEY.encode() + body + secret.encode()).hexdigest(), "app-id": KEY}


@pytest.fixture
def client(lake: RawLake) -> Iterator[TestClient]:
    sources = [
        WebhookSourceConfig(
            name="douyin_push", platform="douyin", app_key=KEY, app_secret=SECRET, shop_id="dy_flagship"
        ),
        WebhookSourceConfig(name="tb_push", platform="taobao", app_key=KEY, app_secret=SECRET),
    ]
    with TestClient(create_app(lake, sources)) as c:
        yield c


def _landed(lake: RawLake, source: str = "douyin_push") -> list[dict[str, Any]]:
    try:
        table = lake.read_raw(source, "order_messages", columns=["payload"])
    except Exception:
        return []
    return [orjson.loads(p) for p in table.column("payload").to_pylist()]


@pytest.mark.parametrize(
    ("preset", "query", "expected"),
    [
        ("douyin", {}, hashlib.md5(f"{KEY}{{}}{SECRET}".encode()).hexdigest()),
        (
            "taobao",
            {"b": "2", "a": "1", "sign": "x"},
            hashlib.md5(f"{SECRET}a1b2{{}}{SECRET}".encode()).hexdigest().upper(),
        ),
    ],
)
def test_signature_presets_sign_the_documented_string(
    preset: str, query: dict[str, str], expected: str
) -> None:
    got = compute_signature(PRESETS[preset], app_key=KEY, app_secret=SECRET, body=b"{}", query=query)
    assert got == expected


def test_signed_message_is_durable_before_the_platform_hears_success(
    client: TestClient, lake: RawLake
) -> None:
    body = douyin_body(("101", "m-1", {"p_id": 6919283746512345678, "order_status": 105}))
    r = client.post("/webhook/douyin_push", content=body, headers=douyin_headers(body))
    assert (r.status_code, r.json()) == (200, {"code": 0, "msg": "success"})
    rows = _landed(lake)  # read right after the answer, while the receiver still runs
    assert rows == [
        {"msg_id": "m-1", "topic": "101", "data": {"p_id": 6919283746512345678, "order_status": 105}}
    ]
    keys = (
        lake.read_raw("douyin_push", "order_messages", columns=["record_key"])
        .column("record_key")
        .to_pylist()
    )
    assert keys == ["6919283746512345678"]


def test_bad_signature_gets_401_with_the_platform_body_and_lands_nothing(
    client: TestClient, lake: RawLake
) -> None:
    body = douyin_body(("101", "m-1", {"p_id": 1}))
    for headers in (douyin_headers(body, secret="wrong"), {}):
        r = client.post("/webhook/douyin_push", content=body, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == 40004
    assert _landed(lake) == []


def test_redelivered_and_replayed_messages_land_once(client: TestClient, lake: RawLake) -> None:
    body = douyin_body(("101", "m-1", {"p_id": 1}), ("102", "m-2", {"p_id": 1, "s": 2}))
    for _ in range(3):
        assert (
            client.post("/webhook/douyin_push", content=body, headers=douyin_headers(body)).status_code == 200
        )
    again = douyin_body(("102", "m-2", {"p_id": 1, "s": 2}), ("103", "m-3", {"p_id": 1, "s": 3}))
    assert (
        client.post("/webhook/douyin_push", content=again, headers=douyin_headers(again)).status_code == 200
    )
    assert sorted(r["msg_id"] for r in _landed(lake)) == ["m-1", "m-2", "m-3"]


def test_platform_test_ping_is_acknowledged_not_landed(client: TestClient, lake: RawLake) -> None:
    body = douyin_body(("0", "0", {"hello": "world"}))
    assert client.post("/webhook/douyin_push", content=body, headers=douyin_headers(body)).status_code == 200
    assert _landed(lake) == []


def test_signed_but_unparseable_body_is_quarantined_and_acknowledged(
    client: TestClient, lake: RawLake
) -> None:
    body = b'[{"tag": "101", "msg_id": '
    r = client.post("/webhook/douyin_push", content=body, headers=douyin_headers(body))
    assert r.status_code == 200
    items = lake.read_quarantine("douyin_push", "order_messages")
    assert [(i.raw_bytes, i.reason.split(":")[0]) for i in items] == [(body, "malformed_json")]


def test_taobao_style_query_signature(client: TestClient, lake: RawLake) -> None:
    body = orjson.dumps({"msg_id": "tb-1", "topic": "taobao_trade_TradeBuyerPay", "tid": 4123})
    query = {"app_key": KEY, "timestamp": "2026-11-22 10:00:00"}
    sign = compute_signature(PRESETS["taobao"], app_key=KEY, app_secret=SECRET, body=body, query=query)
    ok = client.post("/webhook/tb_push", content=body, params={**query, "sign": sign})
    assert ok.json()["response"]["flag"] == "success"
    bad = client.post("/webhook/tb_push", content=body, params={**query, "sign": "0" * 32})
    assert bad.status_code == 401 and bad.json()["response"]["code"] == "sign-check-failure"
    assert [r["msg_id"] for r in _landed(lake, "tb_push")] == ["tb-1"]


def test_unknown_source_is_404(client: TestClient) -> None:
    assert client.post("/webhook/nope", content=b"{}").status_code == 404


def test_webhook_kind_is_registered_and_explains_it_cannot_be_pulled() -> None:
    kind = connector_kind("webhook")
    cfg = kind.config_model.model_validate({"name": "dy", "platform": "douyin", "app_secret": "x"})
    assert "app_secret" not in cfg.public_dict()
    assert kind.factory(cfg).check().ok


class _BrokenLake:
    """A lake whose disk is gone: every flush fails."""

    def writer(self, **_: Any) -> Any:
        raise OSError("No space left on device")


def test_when_landing_fails_the_platform_gets_503_and_will_redeliver() -> None:
    cfg = WebhookSourceConfig(name="douyin_push", platform="douyin", app_key=KEY, app_secret=SECRET)
    body = douyin_body(("101", "m-9", {"p_id": 9}))
    with TestClient(create_app(_BrokenLake(), [cfg])) as c:  # type: ignore[arg-type]
        r = c.post("/webhook/douyin_push", content=body, headers=douyin_headers(body))
    assert r.status_code == 503 and r.json()["code"] == 503
