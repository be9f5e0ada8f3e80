"""Platform connectors against the mock platforms over real HTTP on loopback (issue 5 §1-§3)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ecfusion.config import Workspace
from ecfusion.lake import RawLake
from ecfusion.mock.faults import FaultPlan
from ecfusion.sources.context import SourceContext
from ecfusion.sources.contract import connector_kind
from ecfusion.sources.oauth import MemoryTokenStore
from ecfusion.sources.sync import sync

DATA_START = datetime(2026, 9, 1, tzinfo=UTC)  # as in conftest.merchant_dir
PLATFORMS = ["taobao", "jd", "pdd", "douyin"]
MODIFIED = {"taobao": "modified", "jd": "modified", "pdd": "updated_at", "douyin": "update_time"}
KEY = {"taobao": "tid", "jd": "orderId", "pdd": "order_sn", "douyin": "order_id"}
FAST_RETRY = {"backoff_initial": 0.01, "jitter": 0.01, "backoff_max": 1.0, "timeout": 2.0, "attempts": 10}


def make_connector(platform: str, url: str, *, context: SourceContext | None = None, **extra: Any):
    kind = connector_kind(platform)
    settings = {
        "name": f"{platform}_shop",
        "kind": platform,
        "shop_id": f"{platform}_1",
        "base_url": url,
        "app_key": "mock-app",
        "app_secret": "mock-secret",
        "rate_per_app": 400.0,
        "retry": FAST_RETRY,
        "window": {"start": (DATA_START - timedelta(hours=1)).isoformat()},
        **extra,
    }
    connector = kind.factory(kind.config_model.model_validate(settings), context=context)
    connector.authorize("auth-code")
    return connector


def raw_versions(lake: RawLake, source: str, platform: str) -> Counter:
    table = lake.read_raw(source, "orders", ["record_key", "payload"])
    out: Counter = Counter()
    for key, payload in zip(
        table.column("record_key").to_pylist(), table.column("payload").to_pylist(), strict=True
    ):
        out[(key, str(orjson.loads(payload)[MODIFIED[platform]]))] += 1
    return out


def served_versions(mock, platform: str) -> set[tuple[str, str]]:
    store = mock.state.stores["orders"]
    return {
        (k, str(v.record[MODIFIED[platform]])) for k, _ in store.served() for v in [_version(store, k, _)]
    }


def _version(store, key: str, modified: float):
    return next(v for v in store._versions[key] if v.modified == modified)


def current_versions(mock, platform: str) -> set[tuple[str, str]]:
    store = mock.state.stores["orders"]
    return {(v.key, str(v.record[MODIFIED[platform]])) for v in store.all_current(mock.state.now())}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_full_then_incremental_sync_lands_every_order_once_and_rereads_only_the_overlap(
    platform: str, workspace: Workspace, mock_factory
) -> None:
    mock = mock_factory(platform)
    lake = RawLake.open(workspace)
    connector = make_connector(platform, mock.url)
    report = sync(connector, lake)
    assert report.outcome == "succeeded", [s.error for s in report.streams]
    landed = raw_versions(lake, connector.config.name, platform)
    assert set(landed) == current_versions(mock, platform)
    assert max(landed.values()) == 1
    assert {s.stream for s in report.streams} == {"orders", "refunds", "products"}

    again = sync(connector, lake, streams=["orders"])
    orders = again.streams[0]
    assert orders.landed == 0
    assert orders.stats.requests <= 3  # clock probe + the overlap window's page(s)
    assert orders.state and orders.state["cursor"] == report.streams[0].state["cursor"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_orders_modified_after_they_were_served_land_as_new_versions(
    platform: str, workspace: Workspace, mock_factory
) -> None:
    mock = mock_factory(platform, clock_start=DATA_START + timedelta(days=1))
    lake = RawLake.open(workspace)
    connector = make_connector(platform, mock.url, streams=["orders"])
    sync(connector, lake)
    first = raw_versions(lake, connector.config.name, platform)
    mock.state.clock.set(DATA_START + timedelta(days=7))
    report = sync(connector, lake)
    assert report.outcome == "succeeded"
    landed = raw_versions(lake, connector.config.name, platform)
    assert current_versions(mock, platform) <= set(landed)  # the latest version of every order
    assert set(landed) <= served_versions(mock, platform)  # nothing invented
    assert max(landed.values()) == 1  # nothing doubled
    assert len(landed) > len(first)


@pytest.mark.parametrize("platform", ["taobao", "pdd", "douyin"])
def test_expired_token_is_refreshed_and_the_call_repeated(
    platform: str, workspace: Workspace, mock_factory
) -> None:
    mock = mock_factory(platform)
    tokens = MemoryTokenStore()
    connector = make_connector(platform, mock.url, context=SourceContext(tokens=tokens), streams=["products"])
    before = tokens.load(connector.config.name)
    mock.state.tokens.expire_all()
    report = sync(connector, RawLake.open(workspace))
    assert report.outcome == "succeeded"
    assert report.streams[0].stats.token_refreshes == 1
    assert tokens.load(connector.config.name).access_token != before.access_token


def test_token_is_refreshed_before_it_expires(workspace: Workspace, mock_factory) -> None:
    mock = mock_factory("jd", token_ttl=60)  # within the default 300 s refresh margin
    connector = make_connector("jd", mock.url, streams=["products"])
    sync(connector, RawLake.open(workspace))
    assert mock.state.tokens.refreshed >= 1
    assert connector.stats.token_refreshes == 0  # no call was ever rejected


@pytest.mark.parametrize("platform", PLATFORMS)
def test_wrong_secret_fails_check_with_a_clear_message(platform: str, mock_factory) -> None:
    mock = mock_factory(platform)
    good = make_connector(platform, mock.url)
    kind = connector_kind(platform)
    bad_cfg = good.config.model_copy(update={"app_secret": type(good.config.app_secret)("wrong")})
    bad = kind.factory(bad_cfg, context=good.context)
    result = bad.check()
    assert not result.ok
    assert platform in result.message or good.config.name in result.message


@pytest.mark.parametrize("platform", ["taobao", "jd", "douyin"])  # pdd: in the soak (many windows)
def test_faulty_platform_still_yields_every_order_exactly_once(
    platform: str, workspace: Workspace, mock_factory
) -> None:
    faults = FaultPlan.parse(
        "rate_limit=0.01,http5xx=0.05,truncate=0.05,duplicate_page=0.1,slow=0.02,"
        "slow_seconds=0.05,timeout=0.005,timeout_seconds=2.2",
        seed=3,
    )
    mock = mock_factory(platform, faults=faults)
    lake = RawLake.open(workspace)
    connector = make_connector(platform, mock.url, streams=["orders"])
    report = sync(connector, lake)
    assert report.outcome == "succeeded", report.streams[0].error
    landed = raw_versions(lake, connector.config.name, platform)
    assert set(landed) == current_versions(mock, platform)
    assert max(landed.values()) == 1
    healing = sum(n for kind, n in faults.injected.items() if kind not in ("slow", "duplicate_page"))
    assert report.streams[0].stats.retries >= healing


def test_client_pacing_honours_the_server_rate_limit(workspace: Workspace, mock_factory) -> None:
    mock = mock_factory("pdd", rate=25.0)
    start = mock.state.clock.now() - timedelta(hours=6)
    connector = make_connector(
        "pdd",
        mock.url,
        rate_per_app=25.0,
        streams=["orders"],
        window={"start": start.isoformat(), "max_window_seconds": 300},
    )
    sync(connector, RawLake.open(workspace))
    stats = mock.state.meter.snapshot()
    assert stats["requests"] > 60  # 72 five-minute windows and the clock probe
    assert stats["rejected_rate_limit"] == 0
    assert stats["max_requests_in_any_second"] <= 25


def test_pdd_decrypt_is_batched_and_audited(workspace: Workspace, mock_factory) -> None:
    mock = mock_factory("pdd", clock_start=DATA_START + timedelta(days=1))
    audit: list[tuple[str, dict]] = []
    context = SourceContext(audit=lambda action, detail: audit.append((action, detail)))
    connector = make_connector(
        "pdd", mock.url, context=context, streams=["orders"], decrypt=True, decrypt_rate=100.0
    )
    seen: list[dict] = []
    sync(connector, RawLake.open(workspace), on_batch=lambda _r, b: seen.extend(b.records))
    awaiting = [r for r in seen if r["order_status"] == 1]
    assert awaiting and all(not r["receiver_phone"].startswith("~") for r in awaiting)
    assert any(a == "sources.decrypt" for a, _ in audit)


def test_items_without_their_key_are_quarantined_with_a_reason(mock_factory) -> None:
    mock = mock_factory("jd")
    connector = make_connector("jd", mock.url)
    batch = connector._batch(
        "orders", [{"orderId": "1", "modified": "x"}, {"modified": "y"}, "junk"], {"cursor": "c"}
    )
    assert [r["orderId"] for r in batch.records] == ["1"]
    assert sorted(q.reason.split(":")[0] for q in batch.quarantined) == ["missing_required", "not_an_object"]
