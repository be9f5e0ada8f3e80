"""Mock of the JD open platform (JOS) gateway ``/routerjson`` and OAuth (shapes: shared/platforms.md).

Checks app_key, the MD5 signature (code 14 ⚠), the access token (19 expired ⚠), the timestamp, the
modified-time span (≤ 31 days) and page size (≤ 100); rate limits answer code 67 ⚠. Wraps answers in
``<method>_responce`` (sic) and serves consignee fields masked with ``encrypt_*`` ciphertexts beside.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from ecfusion.mock.privacy import mask_address, mask_name, mask_phone, seal
from ecfusion.mock.server import MockSettings, MockState, page_slice
from ecfusion.mock.store import VersionStore, beijing_time_field, entity_files, key_field
from ecfusion.sources.platforms.signing import jd_sign
from ecfusion.sources.windows import parse_beijing_text

KEYS = {
    "orders": ("orderId", "modified"),
    "refunds": ("afsServiceId", "updateTime"),
    "products": ("wareId", "modified"),
}
MAX_WINDOW = 31 * 86400


def load(settings: MockSettings) -> MockState:
    stores = {}
    for entity, (key, modified) in KEYS.items():
        stores[entity] = VersionStore.load(
            entity_files(settings.data_dir, "jd", entity),
            key_field(key),
            beijing_time_field(modified),
        )
    return MockState(settings, stores)


def error_body(kind: str, msg: str = "") -> tuple[int, dict[str, Any]]:
    code, zh, en = {
        "rate_limit": ("67", "调用频率超限", "call frequency exceeded"),
        "sign": ("14", "签名无效", "invalid signature"),
        "token": ("19", "token已过期或被删除", "token expired or deleted"),
        "app": ("15", "app_key无效", "invalid app_key"),
        "args": ("61", "参数错误", "invalid parameter"),
        "method": ("16", "方法不存在", "method not found"),
        "decrypt_quota": ("80006", "解密额度不足", "decrypt quota exceeded"),  # ⚠ code not documented
    }[kind]
    return 200, {
        "error_response": {
            "code": code,
            "zh_desc": zh + (f": {msg}" if msg else ""),
            "en_desc": en + (f": {msg}" if msg else ""),
        }
    }


def create_app(state: MockState) -> FastAPI:
    app = FastAPI(title="mock JOS gateway")
    state.add_admin_routes(app)

    @app.post("/routerjson")
    async def router(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        return await _dispatch(state, form)

    @app.get("/oauth2/access_token")
    async def access_token(app_key: str = "", app_secret: str = "", code: str = "") -> Response:
        if app_key != state.settings.app_key or app_secret != state.settings.app_secret or not code:
            return state.respond({"error": "invalid_client", "error_description": "bad app or code"}, 401)
        return state.respond(_token_body(state, state.tokens.issue("jd-shop")))

    @app.get("/oauth2/refresh_token")
    async def refresh_token(app_key: str = "", app_secret: str = "", refresh_token: str = "") -> Response:
        if app_key != state.settings.app_key or app_secret != state.settings.app_secret:
            return state.respond({"error": "invalid_client", "error_description": "bad app"}, 401)
        tok = state.tokens.refresh(refresh_token)
        if tok is None:
            return state.respond(
                {"error": "invalid_grant", "error_description": "refresh_token invalid"}, 400
            )
        return state.respond(_token_body(state, tok))

    return app


def _token_body(state: MockState, tok: Any) -> dict[str, Any]:
    return {
        "access_token": tok.access_token,
        "expires_in": int(state.settings.token_ttl),
        "refresh_token": tok.refresh_token,
        "scope": "snsapi_base",
        "uid": "mock",
        "token_type": "bearer",
    }


async def _dispatch(state: MockState, p: dict[str, str]) -> Response:
    method = p.get("method", "")
    if p.get("app_key") != state.settings.app_key:
        return state.respond(error_body("app")[1])
    if p.get("sign") != jd_sign(p, state.settings.app_secret):
        return state.respond(error_body("sign")[1])
    try:
        skew = abs(parse_beijing_text(p.get("timestamp", "")).timestamp() - state.now())
    except ValueError:
        skew = float("inf")
    if skew > 600 + 10 * state.clock.speed:
        return state.respond(error_body("args", "timestamp out of range")[1])
    if state.tokens.check(p.get("access_token")) != "ok":
        return state.respond(error_body("token")[1])
    handler = HANDLERS.get(method)
    if handler is None:
        return state.respond(error_body("method", method)[1])
    early, fault = await state.gate(error_body, paged=True)
    if early is not None:
        return early
    try:
        params = orjson.loads(p.get("360buy_param_json", "{}"))
    except orjson.JSONDecodeError:
        return state.respond(error_body("args", "360buy_param_json is not JSON")[1])
    result = handler(state, params, fault)
    if isinstance(result, Response):
        return result
    key = method.replace(".", "_") + "_responce"
    return state.respond({key: {"code": "0", **result}}, truncate=fault == "truncate")


def _rows(state: MockState, entity: str, start: str | None, end: str | None) -> list | Response:
    if start is None:
        return state.stores[entity].all_current(state.now())
    try:
        a, b = parse_beijing_text(start).timestamp(), parse_beijing_text(str(end)).timestamp()
    except ValueError:
        return state.respond(error_body("args", "start/end time format")[1])
    if b < a or b - a > MAX_WINDOW:
        return state.respond(error_body("args", "time span must be within one month")[1])
    return state.stores[entity].window(a, b, state.now())


def _page(state: MockState, page: Any, size: Any) -> tuple[int, int] | Response:
    try:
        pg, sz = int(page), int(size)
    except (TypeError, ValueError):
        return state.respond(error_body("args", "page/page_size")[1])
    if pg < 1 or not 1 <= sz <= state.settings.max_page_size:
        return state.respond(error_body("args", "page_size must be 1-100")[1])
    return pg, sz


def as_delivered(order: dict[str, Any]) -> dict[str, Any]:
    out = dict(order)
    c = dict(order.get("consigneeInfo") or {})
    c["encrypt_fullname"], c["encrypt_mobile"] = seal(c.get("fullname")), seal(c.get("mobile"))
    c["encrypt_fullAddress"] = seal(c.get("fullAddress"))
    c["fullname"], c["mobile"] = mask_name(c.get("fullname")), mask_phone(c.get("mobile"))
    c["fullAddress"] = mask_address(c.get("fullAddress"))
    out["consigneeInfo"] = c
    return out


def _orders(state: MockState, q: Mapping[str, Any], fault: str | None) -> dict[str, Any] | Response:
    rows = _rows(state, "orders", q.get("start_date"), q.get("end_date"))
    paging = _page(state, q.get("page", 1), q.get("page_size", 20))
    if isinstance(rows, Response) or isinstance(paging, Response):
        return rows if isinstance(rows, Response) else paging  # type: ignore[return-value]
    chosen = page_slice(rows, *paging, fault)
    state.stores["orders"].mark_served(chosen)
    return {
        "searchorderinfo_result": {
            "orderTotal": len(rows),
            "orderInfoList": [as_delivered(v.record) for v in chosen],
            "apiResult": {"success": True, "chineseErrCode": "成功"},
        }
    }


def _refunds(state: MockState, q: Mapping[str, Any], fault: str | None) -> dict[str, Any] | Response:
    rows = _rows(state, "refunds", q.get("updateTimeBegin"), q.get("updateTimeEnd"))
    paging = _page(state, q.get("pageNumber", 1), q.get("pageSize", 20))
    if isinstance(rows, Response) or isinstance(paging, Response):
        return rows if isinstance(rows, Response) else paging  # type: ignore[return-value]
    chosen = page_slice(rows, *paging, fault)
    state.stores["refunds"].mark_served(chosen)
    return {"result": {"success": True, "totalCount": len(rows), "data": [v.record for v in chosen]}}


def _wares(state: MockState, q: Mapping[str, Any], fault: str | None) -> dict[str, Any] | Response:
    rows = _rows(state, "products", None, None)
    paging = _page(state, q.get("pageNo", 1), q.get("pageSize", 20))
    if isinstance(rows, Response) or isinstance(paging, Response):
        return rows if isinstance(rows, Response) else paging  # type: ignore[return-value]
    chosen = page_slice(rows, *paging, fault)
    state.stores["products"].mark_served(chosen)
    return {"page": {"totalItem": len(rows), "data": [v.record for v in chosen]}}


def _decrypt(state: MockState, q: Mapping[str, Any], fault: str | None) -> dict[str, Any] | Response:
    """``jingdong.jos.order.oaid.decrypt`` ⚠ (name and shape guessed): ≤ 20 orders per call."""
    infos = q.get("orderInfos")
    if not isinstance(infos, list) or not 1 <= len(infos) <= 20:
        return state.respond(error_body("args", "orderInfos: 1-20 items")[1])
    if not state.take_decrypt(len(infos)):
        return state.respond(error_body("decrypt_quota")[1])
    out = []
    for info in infos:
        version = state.stores["orders"].current(str(info.get("orderId")), state.now())
        if version is None:
            continue
        c = version.record.get("consigneeInfo") or {}
        out.append(
            {
                "orderId": info.get("orderId"),
                "consigneeName": c.get("fullname"),
                "consigneeMobile": c.get("mobile"),
                "consigneeAddress": c.get("fullAddress"),
            }
        )
    return {"result": {"success": True, "data": out}}


HANDLERS = {
    "jingdong.jos.order.oaid.decrypt": _decrypt,
    "jingdong.pop.order.enSearch": _orders,
    "jingdong.asc.query.list": _refunds,
    "jingdong.ware.read.searchWare4Valid": _wares,
}
