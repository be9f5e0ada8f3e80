"""Mock of the Douyin shop (抖店) open platform (shapes: shared/platforms.md).

Routes ``/order/searchList``, ``/afterSale/List``, ``/product/listV2``, ``/token/create``,
``/token/refresh``; checks the HMAC-SHA256/MD5 signature over the JSON body (30001 ⚠), the access
token (40003 ``isv.access-token-expired`` / ``-no-existed``), the timestamp and page size (≤ 100,
pages from 0). Rate limits answer 60000. Receivers are served as ``##…##``/``$$…$$`` ciphertexts
with masked copies; plaintext leaves the mock only through ``/order/batchDecrypt`` ⚠, within
``decrypt_quota``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from ecfusion.mock.privacy import seal, unseal
from ecfusion.mock.server import MockSettings, MockState, page_slice
from ecfusion.mock.store import VersionStore, entity_files, key_field, unix_time_field

KEYS = {
    "orders": ("order_id", "update_time"),
    "refunds": ("aftersale_id", "update_time"),
    "products": ("product_id", "update_time"),
}
ROUTES = {"order.searchList": "orders", "afterSale.List": "refunds", "product.listV2": "products"}


def load(settings: MockSettings) -> MockState:
    stores = {}
    for entity, (key, modified) in KEYS.items():
        stores[entity] = VersionStore.load(
            entity_files(settings.data_dir, "douyin", entity),
            key_field(key),
            unix_time_field(modified),
        )
    return MockState(settings, stores)


def error_body(kind: str, msg: str = "") -> tuple[int, dict[str, Any]]:
    code, text, sub = {
        "rate_limit": (60000, "调用频率超限", "isv.frequency-limited"),
        "sign": (30001, "签名错误", "isv.sign-invalid"),
        "token_expired": (40003, "access_token已过期", "isv.access-token-expired"),
        "token_missing": (40003, "access_token不存在", "isv.access-token-no-existed"),
        "refresh_expired": (50001, "refresh_token已过期", "dop.token-generate-failed:token-expired"),
        "timestamp": (40004, "时间戳无效", "isv.invalid-timestamp"),
        "args": (40004, "参数错误", "isv.parameter-invalid"),
        "app": (30002, "app_key无效", "isv.app-invalid"),
        "decrypt_quota": (50002, "解密额度不足", "isv.decrypt-quota-exceeded"),  # ⚠ code not documented
    }[kind]
    return 200, {"code": code, "msg": text, "sub_code": sub, "sub_msg": msg, "log_id": "mock", "data": None}


def ok(data: dict[str, Any]) -> dict[str, Any]:
    return {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "log_id": "mock", "data": data}


def create_app(state: MockState) -> FastAPI:
    app = FastAPI(title="mock Douyin shop open platform")
    state.add_admin_routes(app)

    @app.post("/{group}/{name}")
    async def route(group: str, name: str, request: Request) -> Response:
        return await _dispatch(state, f"{group}.{name}", dict(request.query_params), await request.body())

    return app


async def _dispatch(state: MockState, method: str, q: dict[str, str], raw: bytes) -> Response:
    from ecfusion.sources.platforms.signing import douyin_sign

    if q.get("app_key") != state.settings.app_key or q.get("method") != method:
        return state.respond(error_body("app")[1])
    param_json = raw.decode("utf-8")
    expected = douyin_sign(
        q["app_key"],
        method,
        param_json,
        q.get("timestamp", ""),
        state.settings.app_secret,
        q.get("sign_method", "md5"),
    )
    if q.get("sign") != expected:
        return state.respond(error_body("sign")[1])
    try:
        skew = abs(int(q.get("timestamp", "0")) - state.now())
        body = orjson.loads(raw or b"{}")
    except (ValueError, orjson.JSONDecodeError):
        return state.respond(error_body("args", "timestamp or body")[1])
    if skew > 600 + 10 * state.clock.speed:
        return state.respond(error_body("timestamp", "timestamp out of range")[1])
    if method in ("token.create", "token.refresh"):
        return _token(state, method, body)
    status = state.tokens.check(q.get("access_token"))
    if status != "ok":
        return state.respond(error_body("token_expired" if status == "expired" else "token_missing")[1])
    if method == "order.batchDecrypt":
        early, _fault = await state.gate(error_body)
        return early or _decrypt(state, body)
    entity = ROUTES.get(method)
    if entity is None:
        return state.respond(error_body("args", f"unknown method {method}")[1])
    early, fault = await state.gate(error_body, paged=True)
    if early is not None:
        return early
    result = _list(state, entity, body, fault)
    if isinstance(result, Response):
        return result
    return state.respond(ok(result), truncate=fault == "truncate")


def _token(state: MockState, method: str, body: dict[str, Any]) -> Response:
    tok = (
        state.tokens.issue("douyin-shop")
        if method == "token.create"
        else state.tokens.refresh(str(body.get("refresh_token")))
    )
    if tok is None:
        return state.respond(error_body("refresh_expired")[1])
    return state.respond(
        ok(
            {
                "access_token": tok.access_token,
                "expires_in": int(state.settings.token_ttl),
                "refresh_token": tok.refresh_token,
                "scope": "SCOPE",
                "shop_id": 1000,
                "shop_name": "mock_shop",
            }
        )
    )


def _decrypt(state: MockState, body: dict[str, Any]) -> Response:
    """``order.batchDecrypt`` ⚠ (shape from public SDKs): ≤ 50 ciphertexts, each opened or err_no."""
    infos = body.get("cipher_infos")
    if not isinstance(infos, list) or not 1 <= len(infos) <= 50:
        return state.respond(error_body("args", "cipher_infos: 1-50 items")[1])
    if not state.take_decrypt(len(infos)):
        return state.respond(error_body("decrypt_quota")[1])
    out = []
    for info in infos:
        cipher = str(info.get("cipher_text") or "")
        plain = unseal(cipher, cipher[:2]) if cipher[:2] in ("##", "$$") else None
        out.append(
            {
                "auth_id": info.get("auth_id"),
                "cipher_text": cipher,
                "decrypt_text": plain or "",
                "err_no": 0 if plain is not None else 300008,
                "err_msg": "" if plain is not None else "密文无效",
            }
        )
    return state.respond(ok({"decrypt_infos": out, "custom_err": {"err_code": 0, "err_msg": ""}}))


def _list(
    state: MockState, entity: str, body: dict[str, Any], fault: str | None
) -> dict[str, Any] | Response:
    try:
        size = int(body.get("size", 10))
        page = int(body.get("page", 0)) + (0 if entity == "products" else 1)  # products page from 1
        if entity == "orders":
            window = (int(body["update_time_start"]), int(body["update_time_end"]))
        elif entity == "refunds":
            window = (int(body["update_start_time"]), int(body["update_end_time"]))
        else:
            window = None
    except (KeyError, TypeError, ValueError):
        return state.respond(error_body("args", "page/size/time range")[1])
    if page < 1 or not 1 <= size <= state.settings.max_page_size:
        return state.respond(error_body("args", "size must be 1-100")[1])
    store = state.stores[entity]
    if window is None:
        rows = store.all_current(state.now())
    elif window[1] < window[0] or window[1] - window[0] > state.settings.max_window_seconds:
        return state.respond(error_body("args", "time range too long")[1])
    else:
        rows = store.window(window[0], window[1], state.now())
    chosen = page_slice(rows, page, size, fault)
    store.mark_served(chosen)
    if entity == "orders":
        return {
            "page": page - 1,
            "size": size,
            "total": len(rows),
            "shop_order_list": [as_delivered(v.record) for v in chosen],
        }
    if entity == "refunds":
        return {
            "page": page - 1,
            "size": size,
            "total": len(rows),
            "has_more": page * size < len(rows),
            "items": [v.record for v in chosen],
        }
    return {"page": page, "size": size, "total": len(rows), "data": [v.record for v in chosen]}


def as_delivered(order: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in order.items() if k not in ("post_receiver", "post_tel")}
    out["encrypt_post_receiver"] = seal(order.get("post_receiver"), "##")
    out["encrypt_post_tel"] = seal(order.get("post_tel"), "$$")
    addr = dict(order.get("post_addr") or {})
    addr["encrypt_detail"] = seal(addr.pop("detail", None), "##")
    out["post_addr"] = addr
    return out
