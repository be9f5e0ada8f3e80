"""The optional decrypt step against the four mock platforms (issue 5 §2: audited, quota-aware).

A user who turns ``decrypt`` on must see: plaintext receivers that match what the platform holds,
landed encrypted like every personal field; one audit entry per call naming who, which orders and
why; no plaintext in logs or the audit trail; and, when a quota is spent, every order still landed
as delivered rather than held back or dropped.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.sources.test_platform_sync import DATA_START, KEY, PLATFORMS, make_connector

from ecfusion.config import Workspace
from ecfusion.control.sources import SourceAuditRow
from ecfusion.lake import RawLake
from ecfusion.sources.context import current_actor
from ecfusion.sources.decrypt import AUDIT_ACTION, beijing_day
from ecfusion.sources.sync import sync
from ecfusion.sources.workspace import WorkspaceSources


def _phone(platform: str, order: dict[str, Any]) -> str | None:
    """The receiver phone as the order carries it (masked, sealed or plain)."""
    if platform == "jd":
        return (order.get("consigneeInfo") or {}).get("mobile")
    field = {"taobao": "receiver_mobile", "pdd": "receiver_phone", "douyin": "post_tel"}[platform]
    return order.get(field)


def _audits(ws: Workspace) -> list[dict[str, Any]]:
    sources = WorkspaceSources.open(ws)
    with Session(sources.audit.engine) as s:
        rows = s.scalars(select(SourceAuditRow.detail_json).where(SourceAuditRow.action == AUDIT_ACTION))
        return [orjson.loads(r) for r in rows]


def _sync_orders(
    platform: str, mock: Any, ws: Workspace, *, full: bool = False, **extra: Any
) -> tuple[list[dict], Any]:
    connector = make_connector(
        platform,
        mock.url,
        context=WorkspaceSources.open(ws).context(),
        streams=["orders"],
        decrypt=True,
        decrypt_rate=200.0,
        decrypt_purpose="ship_orders",
        **extra,
    )
    seen: list[dict] = []
    report = sync(connector, RawLake.open(ws), full=full, on_batch=lambda _r, b: seen.extend(b.records))
    assert report.streams[0].error is None, report.streams[0].error
    return seen, connector


@pytest.mark.parametrize("platform", PLATFORMS)
def test_decrypted_receivers_are_true_audited_encrypted_at_landing_and_never_logged(
    platform: str, workspace: Workspace, mock_factory, caplog: pytest.LogCaptureFixture
) -> None:
    mock = mock_factory(platform, clock_start=DATA_START + timedelta(days=1))
    with caplog.at_level(logging.DEBUG):
        seen, connector = _sync_orders(platform, mock, workspace)
    store, now = mock.state.stores["orders"], mock.state.now()
    truth = {
        str(r[KEY[platform]]): _phone(platform, store.current(str(r[KEY[platform]]), now).record)
        for r in seen
    }
    opened = [r for r in seen if not connector.needs_decrypt(r) and _phone(platform, r)]
    assert len(opened) >= 5, "nothing was decrypted"
    for r in opened:
        assert _phone(platform, r) == truth[str(r[KEY[platform]])]  # the platform's own value
    phones = {_phone(platform, r) for r in opened}

    audits = _audits(workspace)
    assert audits and all(a["outcome"] == "ok" for a in audits)
    assert {a["actor"] for a in audits} == {current_actor()}
    assert {a["purpose"] for a in audits} == {"ship_orders"}
    assert {a["api"] for a in audits} == {connector.DECRYPT_API}
    assert {a["day"] for a in audits} == {beijing_day()}
    audited = {k for a in audits for k in a["record_keys"]}
    assert {str(r[KEY[platform]]) for r in opened} <= audited
    assert sum(a["records"] for a in audits) >= len({str(r[KEY[platform]]) for r in opened})

    trail = orjson.dumps(audits).decode() + "\n".join(rec.getMessage() for rec in caplog.records)
    assert not [p for p in phones if p in trail], "plaintext reached the audit trail or a log"

    table = RawLake.open(workspace).read_raw(f"{platform}_shop", "orders", ["payload"])
    landed = "\n".join(table.column("payload").to_pylist())
    assert not [p for p in phones if p in landed], "plaintext reached the raw zone unencrypted"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_spent_platform_quota_lands_every_order_as_delivered(
    platform: str, workspace: Workspace, mock_factory
) -> None:
    mock = mock_factory(platform, clock_start=DATA_START + timedelta(days=1), decrypt_quota=0)
    seen, connector = _sync_orders(platform, mock, workspace)
    served = {k for k, _ in mock.state.stores["orders"].served()}
    assert {str(r[KEY[platform]]) for r in seen} == served  # nothing held back or dropped
    assert any(connector.needs_decrypt(r) for r in seen)  # still sealed, as delivered
    audits = _audits(workspace)
    assert [a["outcome"] for a in audits] == ["quota_exhausted"]  # asked once, then stopped for the day
    assert audits[0]["records"] == 0 and "quota" in audits[0]["error"]
    assert mock.state.decrypted == 0


def test_the_daily_budget_holds_across_runs(workspace: Workspace, mock_factory) -> None:
    mock = mock_factory("taobao", clock_start=DATA_START + timedelta(days=1))
    _sync_orders("taobao", mock, workspace, decrypt_daily_quota=7)
    first = _audits(workspace)
    assert sum(a["records"] for a in first) == 7
    assert [a["outcome"] for a in first][-2:] == ["partial_quota", "daily_quota_reached"]
    calls = mock.state.decrypted

    # a new process, the same day, re-reading everything: the budget is spent, no decrypt call
    seen, connector = _sync_orders("taobao", mock, workspace, full=True, decrypt_daily_quota=7)
    assert mock.state.decrypted == calls
    assert sum(connector.needs_decrypt(r) for r in seen) > 7  # landed as delivered
    second = _audits(workspace)[len(first) :]
    assert [a["outcome"] for a in second] == ["daily_quota_reached"]
    assert WorkspaceSources.open(workspace).decrypt_usage("taobao_shop", beijing_day()) == 7
