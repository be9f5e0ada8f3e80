"""Parcel tracking pushes over the webhook: kuaidi100 posts ``param=<JSON>&sign=MD5(param + salt)``;
the receiver verifies, lands the push itself, answers kuaidi100's success body, and the warehouse
turns what landed into ``unified.tracking_event`` — redeliveries land once."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from fastapi.testclient import TestClient
from tests.sources.collector_lake import open_test_lake

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.lake import RawLake
from ecfusion.sources.push import WebhookSourceConfig, create_app

sys.path.insert(0, str(Path(__file__).parents[2] / "warehouse"))
from test_traces import JOURNEY, push  # noqa: E402

SALT = "my-subscription-salt"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def form_body(param: dict[str, Any], salt: str = SALT) -> bytes:
    text = orjson.dumps(param).decode()
    sign = hashlib.md5((text + salt).encode()).hexdigest().upper()
    return urlencode({"param": text, "sign": sign}).encode()


def _landed(lake: RawLake) -> list[str]:
    try:
        return lake.read_raw("parcels", "traces", columns=["payload"]).column("payload").to_pylist()
    except Exception:  # nothing landed yet: no such source in the lake
        return []


@pytest.fixture
def ws_lake(tmp_path: Path) -> tuple[Path, RawLake]:
    return tmp_path / "ws", open_test_lake(tmp_path / "ws")


@pytest.fixture
def client(ws_lake: tuple[Path, RawLake]) -> Iterator[TestClient]:
    source = WebhookSourceConfig(name="parcels", platform="kuaidi100", app_secret=SALT, entity="traces")
    with TestClient(create_app(ws_lake[1], [source])) as c:
        yield c


def test_signed_pushes_land_once_and_become_tracking_events(
    client: TestClient, ws_lake: tuple[Path, RawLake]
) -> None:
    first, last = form_body(push(JOURNEY[:2])), form_body(push(JOURNEY))
    for body in (first, last, last):  # kuaidi100 redelivers a push it got no success for
        r = client.post("/webhook/parcels", content=body, headers=FORM)
        assert (r.status_code, r.json()) == (200, {"result": True, "returnCode": "200", "message": "成功"})
    landed = _landed(ws_lake[1])
    assert [orjson.loads(p)["lastResult"]["state"] for p in landed] == ["0", "3"]  # the push itself, once
    s = warehouse.run(Workspace.open(ws_lake[0]))
    assert s.balanced
    [rec] = s.reconciliation
    assert (rec.source, rec.entity, rec.raw_in, rec.unified) == ("parcels", "traces", 2, 2)
    con = warehouse.connect(Workspace.open(ws_lake[0]))
    try:
        events = con.execute("SELECT event FROM unified.tracking_event ORDER BY event_at").fetchall()
    finally:
        con.close()
    assert [e for (e,) in events] == ["collected", "in_transit", "out_for_delivery", "delivered"]


def test_a_push_signed_with_another_salt_is_refused_and_nothing_lands(
    client: TestClient, ws_lake: tuple[Path, RawLake]
) -> None:
    for body in (form_body(push(JOURNEY), salt="not-ours"), urlencode({"param": "{}"}).encode()):
        r = client.post("/webhook/parcels", content=body, headers=FORM)
        assert r.status_code == 401 and r.json()["result"] is False
    assert _landed(ws_lake[1]) == []


def test_a_signed_push_that_is_not_a_tracking_push_is_quarantined_and_acknowledged(
    client: TestClient, ws_lake: tuple[Path, RawLake]
) -> None:
    text = '{"status": "abort", "message": "3天查询无记录"}'
    sign = hashlib.md5((text + SALT).encode()).hexdigest().upper()
    body = urlencode({"param": text, "sign": sign}).encode()
    r = client.post("/webhook/parcels", content=body, headers=FORM)
    assert r.status_code == 200  # redelivering it would not make it a tracking push
    assert _landed(ws_lake[1]) == []
    quarantined = [p for p in (ws_lake[0] / "lake" / "quarantine").rglob("*") if p.is_file()]
    assert any("source=parcels" in str(p) for p in quarantined), quarantined
