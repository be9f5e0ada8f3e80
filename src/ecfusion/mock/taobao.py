"""Mock of the Taobao/Tmall open platform (TOP) gateway ``/router/rest`` (shapes: shared/platforms.md).

Verifies the MD5/HMAC signature (code 25), the session (26 missing, 27 expired), the timestamp
(±10 min of the mock clock, widened by the clock's speed), window ≤ 1 day and page size ≤ 100
(code 41 invalid arguments); answers rate limits with code 7 "This ban will last for 1 more seconds".
Serves trades newest-modified first; ``fullinfo`` returns the order's current version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from ecfusion.mock.privacy import mask_address, mask_name, mask_phone
from ecfusion.mock.server import MockSettings, MockState, page_slice
from ecfusion.mock.store import VersionStore, beijing_time_field, entity_files, key_field
from ecfusion.sources.platforms.signing import taobao_sign
from ecfusion.sources.windows import beijing_text, parse_beijing_text

KEYS = {"orders": "tid", "refunds": "refund_id", "products": "num_iid"}


def load(settings: MockSettings) -> MockState:
    stores = {}
    for entity, key in KEYS.items():
        stores[entity] = VersionStore.load(
            entity_files(settings.data_dir, "taobao", entity),
            key_field(key),
            beijing_time_field("modified"),
        )
    return MockState(settings, stores)


def error_body(kind: str, msg: str = "", sub_code: str = "") -> tuple[int, dict[str, Any]]:
    codes = {
        "rate_limit": (
            "7",
            "App Call Limited",
            "accesscontrol.limited-by-app-access-count",
            "This ban will last for 1 more seconds",
        ),
        "sign": ("25", "Invalid signature", "", ""),
        "session_missing": ("26", "Missing session", "", ""),
        "session_expired": ("27", "Invalid session", "session-expired", ""),
        "args": ("41", "Invalid arguments", sub_code or "isv.invalid-parameter", msg),
        "method": ("22", "Invalid method", "", msg),
        "app": ("29", "Invalid app Key", "", ""),
        # ⚠ the code of a spent decrypt quota is not documented in shared/platforms.md
        "decrypt_quota": (
            "15",
            "Remote service error",
            "isv.decrypt-quota-exceeded",
            "oaid decrypt quota used up",
        ),
    }
    code, text, sub, sub_msg = codes[kind]
    body = {"code": int(code), "msg": text, "request_id": "mock"}
    if sub:
        body["sub_code"] = sub
    if sub_msg:
        body["sub_msg"] = sub_msg
    return 200, {"error_response": body}


def create_app(state: MockState) -> FastAPI:
    app = FastAPI(title="mock TOP gateway")
    state.add_admin_routes(app)

    @app.post("/router/rest")
    async def router(request: Request) -> Response:
        # Parsed here rather than with request.form(): it needs python-multipart for no gain.
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        return await _dispatch(state, form)

    return app


async def _dispatch(state: MockState, p: dict[str, str]) -> Response:
    method = p.get("method", "")
    if p.get("app_key") != state.settings.app_key:
        return state.respond(error_body("app")[1])
    if p.get("sign") != taobao_sign(p, state.settings.app_secret, p.get("sign_method", "md5")):
        return state.respond(error_body("sign")[1])
    if (bad := _timestamp_error(state, p.get("timestamp", ""))) is not None:
        return bad
    if method == "taobao.top.auth.token.create":
        return state.respond({"top_auth_token_create_response": {"token_result": _token_json(state, None)}})
    if method == "taobao.top.auth.token.refresh":
        token = _token_json(state, p.get("refresh_token", ""))
        if token is None:
            return state.respond(
                error_body("args", "refresh token invalid or expired", "isv.refresh-token")[1]
            )
        return state.respond({"top_auth_token_refresh_response": {"token_result": token}})
    status = state.tokens.check(p.get("session"))
    if status != "ok":
        return state.respond(error_body("session_missing" if status == "missing" else "session_expired")[1])
    handler = HANDLERS.get(method)
    if handler is None:
        return state.respond(error_body("method", method)[1])
    early, fault = await state.gate(error_body, paged=method in PAGED)
    if early is not None:
        return early
    result = handler(state, p, fault)
    if isinstance(result, Response):
        return result
    return state.respond(result, truncate=fault == "truncate")


def _timestamp_error(state: MockState, text: str) -> Response | None:
    try:
        sent = parse_beijing_text(text).timestamp()
    except ValueError:
        return state.respond(error_body("args", "timestamp format", "isv.invalid-timestamp")[1])
    allowed = 600 + 10 * state.clock.speed  # a fast simulated clock makes real latency look longer
    if abs(sent - state.now()) > allowed:
        return state.respond(error_body("args", "timestamp out of range", "isv.invalid-timestamp")[1])
    return None


def _token_json(state: MockState, refresh: str | None) -> str | None:
    tok = state.tokens.issue("taobao-shop") if refresh is None else state.tokens.refresh(refresh)
    if tok is None:
        return None
    return orjson.dumps(
        {
            "access_token": tok.access_token,
            "token_type": "Bearer",
            "expires_in": int(state.settings.token_ttl),
            "refresh_token": tok.refresh_token,
            "re_expires_in": int(state.settings.refresh_ttl),
            "taobao_user_nick": "mock_shop",
            "taobao_user_id": "1000",
        }
    ).decode()


def _window(state: MockState, p: Mapping[str, str]) -> tuple[float, float] | Response:
    try:
        start = parse_beijing_text(p["start_modified"]).timestamp()
        end = parse_beijing_text(p["end_modified"]).timestamp()
    except (KeyError, ValueError):
        return state.respond(error_body("args", "start_modified/end_modified required")[1])
    if end < start or end - start > state.settings.max_window_seconds:
        return state.respond(
            error_body("args", "time span must be within one day", "isv.invalid-time-span")[1]
        )
    return start, end


def _paging(state: MockState, p: Mapping[str, str]) -> tuple[int, int] | Response:
    try:
        page, size = int(p.get("page_no", "1")), int(p.get("page_size", "40"))
    except ValueError:
        return state.respond(error_body("args", "page_no/page_size")[1])
    if page < 1 or not 1 <= size <= state.settings.max_page_size:
        return state.respond(error_body("args", "page_size must be 1-100")[1])
    return page, size


def _list(
    state: MockState,
    p: Mapping[str, str],
    fault: str | None,
    entity: str,
    outer: str,
    inner: str,
    project: tuple[str, ...] | None,
) -> dict[str, Any] | Response:
    window = _window(state, p)
    if isinstance(window, Response):
        return window
    paging = _paging(state, p)
    if isinstance(paging, Response):
        return paging
    rows = state.stores[entity].window(*window, state.now())
    chosen = page_slice(rows, *paging, fault)
    if project is None:
        state.stores[entity].mark_served(chosen)
        items = [v.record for v in chosen]
    else:
        items = [{k: v.record.get(k) for k in project} for v in chosen]
    return {f"{entity_response(p['method'])}": {"total_results": len(rows), outer: {inner: items}}}


def entity_response(method: str) -> str:
    return method.removeprefix("taobao.").replace(".", "_") + "_response"


def _trades(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    return _list(state, p, fault, "orders", "trades", "trade", ("tid", "modified", "status"))


def _refunds(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    return _list(state, p, fault, "refunds", "refunds", "refund", None)


def _items(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    paging = _paging(state, p)
    if isinstance(paging, Response):
        return paging
    rows = state.stores["products"].all_current(state.now())
    chosen = page_slice(rows, *paging, fault)
    state.stores["products"].mark_served(chosen)
    return {
        "items_onsale_get_response": {
            "total_results": len(rows),
            "items": {"item": [v.record for v in chosen]},
        }
    }


def _fullinfo(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    version = state.stores["orders"].current(p.get("tid", ""), state.now())
    if version is None:
        return state.respond(error_body("args", "trade not found", "isv.trade-not-exist")[1])
    state.stores["orders"].mark_served([version])
    return {"trade_fullinfo_get_response": {"trade": as_delivered(version.record)}}


def as_delivered(trade: dict[str, Any]) -> dict[str, Any]:
    """TOP returns receiver fields masked; the oaid opens them through ``taobao.top.oaid.decrypt``."""
    out = dict(trade)
    out["receiver_name"] = mask_name(trade.get("receiver_name"))
    out["receiver_mobile"] = mask_phone(trade.get("receiver_mobile"))
    out["receiver_address"] = mask_address(trade.get("receiver_address"))
    return out


def _time(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any]:
    return {"time_get_response": {"time": beijing_text(datetime.fromtimestamp(state.now()).astimezone())}}


def _oaid_decrypt(state: MockState, p: Mapping[str, str], fault: str | None) -> dict[str, Any] | Response:
    queries = orjson.loads(p.get("query_list", "[]"))
    if len(queries) > 20:
        return state.respond(error_body("args", "at most 20 oaids per call")[1])
    if not state.take_decrypt(len(queries)):
        return state.respond(error_body("decrypt_quota")[1])
    out = []
    for q in queries:
        version = state.stores["orders"].current(str(q.get("tid")), state.now())
        if version is not None and version.record.get("oaid") == q.get("oaid"):
            r = version.record
            out.append(
                {
                    "oaid": q["oaid"],
                    "tid": q["tid"],
                    "name": r.get("receiver_name"),
                    "mobile": r.get("receiver_mobile"),
                    "state": r.get("receiver_state"),
                    "city": r.get("receiver_city"),
                    "district": r.get("receiver_district"),
                    "address_detail": r.get("receiver_address"),
                }
            )
    return {"top_oaid_decrypt_response": {"receiver_list": {"receiver": out}}}


HANDLERS = {
    "taobao.trades.sold.increment.get": _trades,
    "taobao.refunds.receive.get": _refunds,
    "taobao.items.onsale.get": _items,
    "taobao.trade.fullinfo.get": _fullinfo,
    "taobao.time.get": _time,
    "taobao.top.oaid.decrypt": _oaid_decrypt,
}
PAGED = {"taobao.trades.sold.increment.get", "taobao.refunds.receive.get", "taobao.items.onsale.get"}
