"""Pinduoduo open platform connector (T/JNBDA 0003-2025 5.1; facts: shared/platforms.md).

Streams: ``orders`` (``pdd.order.number.list.increment.get`` by ``updated_at`` window ≤ 30 min in
unix seconds, ``order_status``/``refund_status`` = 5 (all); its list rows are full ``order_info``
objects — set ``detail_fetch`` to re-read each through ``pdd.order.information.get``), ``refunds``
(``pdd.refund.list.increment.get``), ``products`` (``pdd.goods.list.get``, full refresh). Calls POST
form fields to ``/api/router``, signed MD5 (``signing.pdd_sign``). OAuth: ``pdd.pop.auth.token.create``
/ ``.refresh``. Errors: 10019 token expired → refresh; rate-limit codes are configurable (⚠ not
confirmed; default 70031). Receiver fields arrive as ciphertext while awaiting shipment; the
optional decrypt step calls ``pdd.open.decrypt.batch`` with ≤ 100 items per call, audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import Field

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
from ecfusion.sources.platforms.signing import pdd_sign, pdd_value
from ecfusion.sources.windows import unix_seconds

RECEIVER_FIELDS = ("receiver_name", "receiver_phone", "receiver_address")


class PddConfig(PlatformConfig):
    kind: Literal["pdd"] = "pdd"
    rate_per_app: float = 20.0  # ⚠ set the app's real quota
    detail_fetch: bool = Field(False, description="re-read each order via pdd.order.information.get")
    rate_limit_codes: list[int] = Field([70031], description="error_code values meaning 'too many calls' ⚠")


@register("pdd", PddConfig)
class PddConnector(PlatformConnector):
    config: PddConfig
    platform = "pdd"
    DECRYPT_API = "pdd.open.decrypt.batch"
    STREAMS = {
        "orders": StreamSpec(
            StreamInfo("orders", "order_sn", "updated_at", description="order_info objects with item_list"),
            True,
            timedelta(minutes=30),
        ),
        "refunds": StreamSpec(StreamInfo("refunds", "id", "updated_time"), True, timedelta(minutes=30)),
        "products": StreamSpec(StreamInfo("products", "goods_id", None, incremental=False), False),
    }
    LIST = {
        "orders": ("pdd.order.number.list.increment.get", "order_sn_increment_get_response", "order_sn_list"),
        "refunds": ("pdd.refund.list.increment.get", "refund_increment_get_response", "refund_list"),
        "products": ("pdd.goods.list.get", "goods_list_get_response", "goods_list"),
    }

    def list_page(self, stream: str, window: Window | None, page: int, size: int) -> ListPage:
        method, outer, inner = self.LIST[stream]
        params: dict[str, Any] = {"page": page, "page_size": size}
        if stream == "orders":
            params.update({"order_status": 5, "refund_status": 5, "is_lucky_flag": 0})
        if stream == "refunds":
            params.update({"after_sales_status": 1, "after_sales_type": 1})
        if window is not None:
            params["start_updated_at"] = unix_seconds(window[0])
            params["end_updated_at"] = unix_seconds(window[1])
        body = self.response(self.call(method, params), outer)
        return ListPage(list(body.get(inner) or []), int(body.get("total_count") or 0))

    def details(self, stream: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if stream != "orders" or not self.config.detail_fetch:
            return items
        out = []
        for item in items:
            body = self.response(
                self.call("pdd.order.information.get", {"order_sn": item["order_sn"]}),
                "order_info_get_response",
            )
            info = body.get("order_info")
            if not isinstance(info, dict):
                raise ResponseInvalid(f"{self.config.name}: order {item['order_sn']} has no order_info")
            out.append(info)
        return out

    def exchange_code(self, code: str) -> Token:
        body = self.call("pdd.pop.auth.token.create", {"code": code}, session=False)
        return _token(self.response(body, "pop_auth_token_create_response"))

    def refresh_token(self, token: Token) -> Token:
        body = self.call("pdd.pop.auth.token.refresh", {"refresh_token": token.refresh_token}, session=False)
        return _token(self.response(body, "pop_auth_token_refresh_response"))

    def needs_decrypt(self, record: dict[str, Any]) -> bool:
        return any(str(record.get(f) or "").startswith("~") for f in RECEIVER_FIELDS)

    def decrypt_receivers(self, records: list[dict[str, Any]]) -> None:
        wanted = [(r, f) for r in records for f in RECEIVER_FIELDS if str(r.get(f) or "").startswith("~")]
        for i in range(0, len(wanted), 100):
            chunk = wanted[i : i + 100]
            self.decrypt_limiter.acquire()
            data_list = [{"data_tag": r["order_sn"], "encrypted_data": r[f]} for r, f in chunk]
            body = self.response(
                self.call("pdd.open.decrypt.batch", {"data_list": data_list}), "open_decrypt_batch_response"
            )
            plain = {
                (d.get("data_tag"), d.get("encrypted_data")): d.get("decrypted_data")
                for d in body.get("data_decrypt_list") or []
            }
            for r, f in chunk:
                value = plain.get((r["order_sn"], r[f]))
                if value is not None:
                    r[f] = value

    # -- wire ------------------------------------------------------------------------------------

    def call(self, method: str, params: Mapping[str, Any], *, session: bool = True) -> Mapping[str, Any]:
        used: dict[str, str] = {}

        def build() -> httpx.Request:
            form: dict[str, Any] = dict(params)
            form.update(
                {
                    "type": method,
                    "client_id": self.config.app_key,
                    "data_type": "JSON",
                    "timestamp": unix_seconds(self.transport.clock.now()),
                }
            )
            if session:
                used["token"] = form["access_token"] = self.tokens.access_token()
            form["sign"] = pdd_sign(form, self.secret)
            data = {k: pdd_value(v) for k, v in form.items() if v is not None}
            return self.transport.client.build_request(
                "POST", self.config.base_url.rstrip("/") + "/api/router", data=data
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
        err = body.get("error_response")
        if isinstance(err, dict):
            raise self.error(method, err)
        if response.status_code != 200:
            raise SourceError(f"{self.config.name}: {method} answered HTTP {response.status_code}")
        return body

    def response(self, body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        inner = body.get(key)
        if not isinstance(inner, dict):
            raise ResponseInvalid(f"{self.config.name}: answer lacks '{key}'", hint="retried")
        return inner

    def error(self, method: str, err: Mapping[str, Any]) -> Exception:
        code = int(err.get("error_code") or 0)
        text = (
            f"{self.config.name}: {method} failed: error_code {code} {err.get('error_msg', '')} "
            f"{err.get('sub_code', '')} {err.get('sub_msg', '')}"
        ).strip()
        if (quota := quota_error(text)) is not None:
            return quota
        if code in self.config.rate_limit_codes:
            return RateLimited(text, retry_after=1.0)
        if code == 10019:
            return TokenExpired(text)
        if code in (10016, 10020, 10021):
            return AuthError(text, hint="check client_id/client_secret and the shop's authorization")
        if "timestamp" in str(err.get("error_msg", "")).lower():
            return TransientError(
                text, hint="local clock differs from the platform's; retried with its clock"
            )
        if code >= 50000 and code < 60000:
            return TransientError(text)
        return SourceError(text, hint="see the platform's error_code documentation")


def _token(body: Mapping[str, Any]) -> Token:
    try:
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=int(body["expires_in"]))
        refresh_in = body.get("refresh_token_expires_in")
        return Token(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token"),
            expires_at=expires,
            refresh_expires_at=now + timedelta(seconds=int(refresh_in)) if refresh_in else None,
            scope=",".join(body.get("scope") or []) or None,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ResponseInvalid(f"pdd: token answer is not the documented shape ({e})") from e
