"""Douyin shop (抖店) open platform connector (T/JNBDA 0003-2025 5.1; facts: shared/platforms.md).

Streams: ``orders`` (``order.searchList`` by ``update_time`` window in unix seconds, pages from 0,
newest first; window limit ⚠ unconfirmed — one day by default), ``refunds`` (``afterSale.List``),
``products`` (``product.listV2``, full refresh). Each call POSTs the JSON body (keys sorted, no
escaping) to ``/<method with '/'>`` with ``app_key, method, timestamp, v=2, sign, sign_method,
access_token`` in the query; the signature is HMAC-SHA256 (or MD5) over
``app_key…method…param_json…timestamp…v2`` wrapped in the secret. OAuth: ``token.create`` /
``token.refresh`` (7-day access, 14-day refresh). Envelope ``{"code": 10000, …, "data"}``; 40003
``isv.access-token-expired`` → refresh; 60000 rate limited; 50001 refresh token expired.
Optional decrypt: ``order.batchDecrypt`` ⚠ (``cipher_infos[{auth_id, cipher_text}]`` ≤ 50 per call →
``decrypt_infos[{auth_id, cipher_text, decrypt_text, err_no}]``) fills ``post_receiver``,
``post_tel`` and ``post_addr.detail`` beside the delivered ciphertexts, audited.
Order ids exceed 2^53: JSON is parsed with exact integers and ids are kept as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from ecfusion.errors import AuthError, RateLimited, SourceError
from ecfusion.sources.contract import StreamInfo, register
from ecfusion.sources.decrypt import quota_error
from ecfusion.sources.failures import ResponseInvalid, TokenExpired, TransientError
from ecfusion.sources.oauth import Token
from ecfusion.sources.platforms.base import (
    ListPage,
    PlatformConfig,
    PlatformConnector,
    StreamSpec,
    Window,
    json_body,
)
from ecfusion.sources.platforms.signing import douyin_param_json, douyin_sign
from ecfusion.sources.windows import unix_seconds


class DouyinConfig(PlatformConfig):
    kind: Literal["douyin"] = "douyin"
    sign_method: Literal["hmac-sha256", "md5"] = "hmac-sha256"
    rate_per_app: float = 20.0  # ⚠ set the app's real quota


@register("douyin", DouyinConfig)
class DouyinConnector(PlatformConnector):
    config: DouyinConfig
    platform = "douyin"
    DECRYPT_API = "order.batchDecrypt"  # ⚠ ≤ 50 ciphertexts per call (DECRYPT_BATCH)
    STREAMS = {
        "orders": StreamSpec(
            StreamInfo(
                "orders",
                "order_id",
                "update_time",
                description="shop_order_list elements with sku_order_list",
            ),
            True,
        ),
        "refunds": StreamSpec(StreamInfo("refunds", "aftersale_id", "update_time"), True),
        "products": StreamSpec(StreamInfo("products", "product_id", None, incremental=False), False),
    }

    def list_page(self, stream: str, window: Window | None, page: int, size: int) -> ListPage:
        if stream == "orders":
            assert window is not None
            data = self.call(
                "order.searchList",
                {
                    "update_time_start": unix_seconds(window[0]),
                    "update_time_end": unix_seconds(window[1]),
                    "page": page - 1,
                    "size": size,
                    "order_by": "update_time",
                    "order_asc": False,
                },
            )
            return ListPage(list(data.get("shop_order_list") or []), int(data.get("total") or 0))
        if stream == "refunds":
            assert window is not None
            data = self.call(
                "afterSale.List",
                {
                    "update_start_time": unix_seconds(window[0]),
                    "update_end_time": unix_seconds(window[1]),
                    "page": page - 1,
                    "size": size,
                    "order_by": ["update_time desc"],
                },
            )
            return ListPage(list(data.get("items") or []), int(data.get("total") or 0))
        data = self.call("product.listV2", {"page": page, "size": size})
        return ListPage(list(data.get("data") or []), int(data.get("total") or 0))

    # -- decrypt (⚠ name and shape from public SDKs, not shared/platforms.md) ----------------------

    def needs_decrypt(self, record: dict[str, Any]) -> bool:
        return any(plain not in holder and holder.get(cipher) for holder, cipher, plain in _sealed(record))

    def decrypt_receivers(self, records: list[dict[str, Any]]) -> None:
        wanted = [
            (str(r["order_id"]), holder, cipher, plain)
            for r in records
            for holder, cipher, plain in _sealed(r)
            if holder.get(cipher) and plain not in holder
        ]
        for i in range(0, len(wanted), DECRYPT_BATCH):
            chunk = wanted[i : i + DECRYPT_BATCH]
            self.decrypt_limiter.acquire()
            infos = [{"auth_id": oid, "cipher_text": h[c]} for oid, h, c, _ in chunk]
            data = self.call(self.DECRYPT_API or "", {"cipher_infos": infos})
            plain_text = {
                (str(d.get("auth_id")), d.get("cipher_text")): d.get("decrypt_text")
                for d in data.get("decrypt_infos") or []
                if not d.get("err_no")
            }
            for oid, holder, cipher, plain in chunk:
                value = plain_text.get((oid, holder[cipher]))
                if value is not None:
                    holder[plain] = value

    def exchange_code(self, code: str) -> Token:
        return _token(
            self.call("token.create", {"code": code, "grant_type": "authorization_code"}, session=False)
        )

    def refresh_token(self, token: Token) -> Token:
        body = {"refresh_token": token.refresh_token, "grant_type": "refresh_token"}
        return _token(self.call("token.refresh", body, session=False))

    # -- wire ------------------------------------------------------------------------------------

    def call(self, method: str, body: Mapping[str, Any], *, session: bool = True) -> Mapping[str, Any]:
        used: dict[str, str] = {}
        param_json = douyin_param_json(body)
        path = "/" + method.replace(".", "/")

        def build() -> httpx.Request:
            ts = str(unix_seconds(self.transport.clock.now()))
            query = {
                "app_key": self.config.app_key,
                "method": method,
                "timestamp": ts,
                "v": "2",
                "sign_method": self.config.sign_method,
                "sign": douyin_sign(
                    self.config.app_key, method, param_json, ts, self.secret, self.config.sign_method
                ),
            }
            if session:
                used["token"] = query["access_token"] = self.tokens.access_token()
            return self.transport.client.build_request(
                "POST",
                self.config.base_url.rstrip("/") + path,
                params=query,
                content=param_json.encode("utf-8"),
                headers={"content-type": "application/json"},
            )

        def refresh() -> None:
            self.tokens.force_refresh(used.get("token", ""))

        return self.transport.call(
            build, lambda r: self.parse(method, r), on_token_expired=refresh if session else None
        )

    def parse(self, method: str, response: httpx.Response) -> Mapping[str, Any]:
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"{self.config.name}: {method} answered HTTP {response.status_code}")
        body = json_body(response.content, self.config.name)
        code = body.get("code")
        if code == 10000:
            data = body.get("data")
            if not isinstance(data, dict):
                raise ResponseInvalid(
                    f"{self.config.name}: {method} answer has no data object", hint="retried"
                )
            return data
        raise self.error(method, body)

    def error(self, method: str, body: Mapping[str, Any]) -> Exception:
        code, sub = body.get("code"), str(body.get("sub_code") or "")
        text = (
            f"{self.config.name}: {method} failed: code {code} {body.get('msg', '')} {sub} "
            f"{body.get('sub_msg', '')} (log_id {body.get('log_id', '')})"
        ).strip()
        if (quota := quota_error(text)) is not None:
            return quota
        if code == 60000:
            return RateLimited(text, retry_after=1.0)
        if code == 40003 and "access-token-expired" in sub:
            return TokenExpired(text)
        if code in (40003, 30001, 30002, 50001):
            return AuthError(text, hint="check app_key/secret, the IP whitelist and the shop's authorization")
        if "timestamp" in sub + str(body.get("sub_msg", "")):
            return TransientError(
                text, hint="local clock differs from the platform's; retried with its clock"
            )
        if isinstance(code, int) and code >= 50000 and code != 50001:
            return TransientError(text)
        return SourceError(text, hint="see the platform's error code documentation")


DECRYPT_BATCH = 50


def _sealed(order: dict[str, Any]) -> list[tuple[dict[str, Any], str, str]]:
    """(object, ciphertext key, plaintext key) of the receiver fields an order carries sealed."""
    addr = order.get("post_addr")
    out = [(order, "encrypt_post_receiver", "post_receiver"), (order, "encrypt_post_tel", "post_tel")]
    if isinstance(addr, dict):
        out.append((addr, "encrypt_detail", "detail"))
    return out


def _token(data: Mapping[str, Any]) -> Token:
    try:
        now = datetime.now(UTC)
        return Token(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=now + timedelta(seconds=int(data["expires_in"])),
            refresh_expires_at=now + timedelta(days=14),
            scope=data.get("scope"),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ResponseInvalid(f"douyin: token answer is not the documented shape ({e})") from e
