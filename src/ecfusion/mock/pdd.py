"""Mock of the Pinduoduo open platform gateway ``/api/router`` (shapes: shared/platforms.md).

Checks client_id, the MD5 signature (10016 ⚠), the access token (10019 expired), the timestamp, the
``updated_at`` window (≤ 30 min) and page size (≤ 100); rate limits answer error_code 70031 ⚠.
Receiver name/phone/address are served as ciphertext while the order awaits shipment and is not
risk-flagged, otherwise empty, with ``*_mask`` copies beside them; ``pdd.open.decrypt.batch`` opens
≤ 100 per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from ecfusion.mock.privacy import seal, unseal
from ecfusion.mock.server import MockSettings, MockState, page_slice
from ecfusion.mock.store import VersionStore, beijing_time_field, entity_files, key_field
from ecfusion.sources.platforms.signing import pdd_sign

KEYS = {
    "orders": ("order_sn", "updated_at"),
    "refunds": ("id", "updated_time"),
    "products": ("goods_id", "updated_at"),
}
MAX_WINDOW = 1800


def load(settings: MockSettings) -> MockState:
    stores = {}
    for entity, (key, modified) in KEYS.items():
        stores[entity] = VersionStore.load(
            entity_files(settings.data_dir, "pdd", entity),
            key_field(key),
            beijing_time_field(modified),
        )
    return MockState(settings, stores)


def error_body(kind: str, msg: str = "") -> tuple[int, dict[str, Any]]:
    code, text = {
        "rate_limit": (70031, "调用过于频繁"),
        "sign": (10016, "签名错误"),
        "token_expired": (10019, "access_token已过期"),
        "token_missing": (10019, "access_token不存在"),
        "args": (10000, "参数错误"),
        "client": (10015, "client_id不存在"),
        "type": (10001, "type不存在"),
        "decrypt_quota": (20005, "解密额度不足 (decrypt quota exceeded)"),  # ⚠ code not documented
    }[kind]
    return 200, {
        "error_response": {
            "error_code": code,
            "error_msg": text + (f": {msg}" if msg else ""),
            "sub_code": "",
            "sub_msg": msg,
            "request_id": "mock",
        }
    }


def create_app(state: MockState) -> FastAPI:
    app = FastAPI(title="mock PDD gateway")
    state.add_admin_routes(app)

    @app.post("/api/router")
    async def router(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        return await _dispatch(state, form)

    return app


async def _dispatch(state: MockState, p: dict[str, str]) -> Response:
    method = p.get("type", "")
    if p.get("client_id") != state.settings.app_key:
        return state.respond(error_body("client")[1])
    if p.get("sign") != pdd_sign(p, state.settings.app_secret):
        return state.respond(error_body("sign")[1])
    try:
        skew = abs(int(p.get("timestamp", "0")) - state.now())
    except ValueError:
        skew = float("inf")
    if skew > 600 + 10 * state.clock.speed:
        return state.respond(error_body("args", "timestamp out of range")[1])
    if method in ("pdd.pop.auth.token.create", "pdd.pop.auth.token.refresh"):
        return _token(state, method, p)
    status = state.tokens.check(p.get("access_token"))
    if status != "ok":
        return state.respond(
            error_body("token_missing" if status in ("missing", "unknown") else "token_expired")[1]
        )
    handler = HANDLERS.get(method)
    if handler is None:
        return state.respond(error_body("type", method)[1])
    early, fault = await state.gate(error_body, paged=method in PAGED)
    if early is not None:
        return early
    result = handler(state, p, fault)
    if isinstance(result, Response):
        return result
    return state.respond(result, truncate=fault == "truncate")


def _token(state: MockState, method: str, p: Mapping[str, str]) -> Response:
    tok = (
        state.tokens.issue("pdd-shop")
        if method.endswith("create")
        else state.tokens.refresh(p.get("refresh_token", ""))
    )
    if tok is None:
        return state.respond(error_body("args", "refresh_token invalid")[1])
    key = "pop_auth_token_create_response" if method.endswith("create") else "pop_auth_token_refresh_response"
    return state.respond(
        {
            key: {
                "access_token": tok.access_token,
                "expires_in": int(state.settings.token_ttl),
                "expires_at": int(tok.expires_at),
                "refresh_token": tok.refresh_token,
                "refresh_token_expires_in": int(state.settings.refresh_ttl),
                "refresh_token_expires_at": int(tok.refresh_expires_at),
                "owner_id": "1000",
                "owner_name": "mock_shop",
                "scope": ["pdd.order.number.list.increment.get"],
            }
        }
    )


def _paged(
    state: MockState,
    p: Mapping[str, str],
    fault: str | None,
    entity: str,
    windowed: bool,
    key: str,
    inner: str,
) -> dict[str, Any] | Response:
    try:
        page, size = int(p.get("page", "1")), int(p.get("page_size", "100"))
        if windowed:
            start, end = int(p["start_updated_at"]), int(p["end_updated_at"])
    except (KeyError, ValueError):
        return state.respond(error_body("args", "page/page_size/start_updated_at/end_updated_at")[1])
    if page < 1 or not 1 <= size <= state.settings.max_page_size:
        return state.respond(error_body("args", "page_size must be 1-100")[1])
    store = state.stores[entity]
    if windowed:
        if end < start or end - start > MAX_WINDOW:
            return state.respond(error_body("args", "time range must be within 30 minutes")[1])
        rows = store.window(start, end, state.now())
    else:
        rows = store.all_current(state.now())
    chosen = page_slice(rows, page, size, fault)
    store.mark_served(chosen)
    items = [as_delivered(v.record) if entity == "orders" else v.record for v in chosen]
    return {key: {"total_count": len(rows), "has_next": page * size < len(rows), inner: items}}


def as_delivered(order: dict[str, Any]) -> dict[str, Any]:
    """Receiver fields: ciphertext while awaiting shipment and not risk-flagged, else empty."""
    out = dict(order)
    visible = order.get("order_status") == 1 and not order.get("risk_control_status")
    for f in ("receiver_name", "receiver_phone", "receiver_address"):
        out[f] = seal(order.get(f)) if visible else ""
    return out


def _orders(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    return _paged(state, p, fault, "orders", True, "order_sn_increment_get_response", "order_sn_list")


def _refunds(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    return _paged(state, p, fault, "refunds", True, "refund_increment_get_response", "refund_list")


def _goods(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    return _paged(state, p, fault, "products", False, "goods_list_get_response", "goods_list")


def _information(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    version = state.stores["orders"].current(p.get("order_sn", ""), state.now())
    if version is None:
        return state.respond(error_body("args", "order_sn not found")[1])
    state.stores["orders"].mark_served([version])
    return {"order_info_get_response": {"order_info": as_delivered(version.record)}}


def _decrypt(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    items = orjson.loads(p.get("data_list", "[]"))
    if len(items) > 100:
        return state.respond(error_body("args", "at most 100 items per call")[1])
    if not state.take_decrypt(len(items)):
        return state.respond(error_body("decrypt_quota")[1])
    out = [
        {
            "data_tag": i.get("data_tag"),
            "encrypted_data": i.get("encrypted_data"),
            "decrypted_data": unseal(str(i.get("encrypted_data") or "")),
            "data_type": 0,
        }
        for i in items
    ]
    return {"open_decrypt_batch_response": {"data_decrypt_list": out}}


HANDLERS = {
    "pdd.order.number.list.increment.get": _orders,
    "pdd.refund.list.increment.get": _refunds,
    "pdd.goods.list.get": _goods,
    "pdd.order.information.get": _information,
    "pdd.open.decrypt.batch": _decrypt,
}
PAGED = {"pdd.order.number.list.increment.get", "pdd.refund.list.increment.get", "pdd.goods.list.get"}
