"""Taobao/Tmall open platform (TOP) connector (T/JNBDA 0003-2025 5.1; facts: shared/platforms.md).

Streams: ``orders`` (``taobao.trades.sold.increment.get`` by modified window ≤ 1 day, then
``taobao.trade.fullinfo.get`` per tid — the full order is what lands), ``refunds``
(``taobao.refunds.receive.get``), ``products`` (``taobao.items.onsale.get``, full refresh).
Calls are form-encoded POSTs to ``/router/rest`` signed with MD5 or HMAC-MD5 (``signing``);
timestamps are in Beijing time from the server's clock. OAuth: ``taobao.top.auth.token.create`` /
``.refresh`` (token as a JSON string in ``token_result``). Errors: 7 rate limited ("ban will last
for N more seconds"), 27 session expired → refresh, 25/26/11 auth, ``isp.*`` sub-codes transient.
Optional decrypt: ``taobao.top.oaid.decrypt`` ≤ 20 receivers per call, audited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import orjson

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
from ecfusion.sources.platforms.signing import taobao_sign
from ecfusion.sources.windows import beijing_text

ORDER_FIELDS = (
    "tid,tid_str,status,created,pay_time,consign_time,end_time,modified,payment,total_fee,"
    "post_fee,discount_fee,adjust_fee,buyer_nick,buyer_open_uid,receiver_name,receiver_mobile,"
    "receiver_phone,receiver_state,receiver_city,receiver_district,receiver_town,"
    "receiver_address,receiver_zip,oaid,orders"
)
_BAN = re.compile(r"ban will last for (\d+) more seconds")


class TaobaoConfig(PlatformConfig):
    kind: Literal["taobao"] = "taobao"
    sign_method: Literal["md5", "hmac"] = "md5"
    rate_per_app: float = 40.0  # ⚠ TOP's per-app limits vary by app tier; set yours


@register("taobao", TaobaoConfig)
class TaobaoConnector(PlatformConnector):
    config: TaobaoConfig
    platform = "taobao"
    DECRYPT_API = "taobao.top.oaid.decrypt"
    STREAMS = {
        "orders": StreamSpec(
            StreamInfo("orders", "tid", "modified", tuple(ORDER_FIELDS.split(",")),
                description="trades with line items (fullinfo)",
            ),
            True,
        ),
        "refunds": StreamSpec(StreamInfo("refunds", "refund_id", "modified"), True),
        "products": StreamSpec(StreamInfo("products", "num_iid", None, incremental=False), False),
    }
    LIST = {
        "orders": ("taobao.trades.sold.increment.get", "trades", "trade"),
        "refunds": ("taobao.refunds.receive.get", "refunds", "refund"),
        "products": ("taobao.items.onsale.get", "items", "item"),
    }

    def list_page(self, stream: str, window: Window | None, page: int, size: int) -> ListPage:
        method, outer, inner = self.LIST[stream]
        params: dict[str, Any] = {"page_no": page, "page_size": size}
        if stream == "orders":
            params["fields"] = "tid,modified,status"
        if window is not None:
            params["start_modified"] = beijing_text(window[0])
            params["end_modified"] = beijing_text(window[1])
        body = self.call(method, params)
        items = (body.get(outer) or {}).get(inner) or []
        return ListPage(list(items), int(body.get("total_results") or 0))

    def details(self, stream: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if stream != "orders":
            return items
        out = []
        for item in items:
            body = self.call("taobao.trade.fullinfo.get", {"tid": str(item["tid"]), "fields": ORDER_FIELDS})
            trade = body.get("trade")
            if not isinstance(trade, dict) or "tid" not in trade:
                raise ResponseInvalid(f"{self.config.name}: fullinfo of tid {item['tid']} has no trade")
            out.append(trade)
        return out

    def probe(self) -> None:
        self.call("taobao.time.get", {})

    def exchange_code(self, code: str) -> Token:
        body = self.call("taobao.top.auth.token.create", {"code": code}, session=False)
        return _token(body)

    def refresh_token(self, token: Token) -> Token:
        body = self.call(
            "taobao.top.auth.token.refresh", {"refresh_token": token.refresh_token}, session=False
        )
        return _token(body)

    def needs_decrypt(self, record: dict[str, Any]) -> bool:
        masked = (record.get(f) for f in ("receiver_name", "receiver_mobile", "receiver_address"))
        return bool(record.get("oaid")) and any("*" in str(v or "") for v in masked)

    def decrypt_receivers(self, records: list[dict[str, Any]]) -> None:
        by_oaid = {r["oaid"]: r for r in records if r.get("oaid")}
        oaids = list(by_oaid)
        for i in range(0, len(oaids), 20):
            self.decrypt_limiter.acquire()
            chunk = [{"oaid": o, "tid": str(by_oaid[o]["tid"]), "scene": "1001"} for o in oaids[i : i + 20]]
            body = self.call("taobao.top.oaid.decrypt", {"query_list": orjson.dumps(chunk).decode()})
            for rec in (body.get("receiver_list") or {}).get("receiver") or []:
                target = by_oaid.get(rec.get("oaid"))
                if target is not None:
                    target.update(
                        {
                            "receiver_name": rec.get("name"),
                            "receiver_mobile": rec.get("mobile"),
                            "receiver_address": rec.get("address_detail"),
                        }
                    )

    # -- wire ------------------------------------------------------------------------------------

    def call(self, method: str, params: Mapping[str, Any], *, session: bool = True) -> Mapping[str, Any]:
        used: dict[str, str] = {}

        def build() -> httpx.Request:
            form = {k: str(v) for k, v in params.items()}
            form.update(
                {
                    "method": method,
                    "app_key": self.config.app_key,
                    "format": "json",
                    "v": "2.0",
                    "sign_method": self.config.sign_method,
                    "timestamp": beijing_text(self.transport.clock.now()),
                }
            )
            if session:
                used["token"] = form["session"] = self.tokens.access_token()
            form["sign"] = taobao_sign(form, self.secret, self.config.sign_method)
            return self.transport.client.build_request(
                "POST", self.config.base_url.rstrip("/") + "/router/rest", data=form
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
        if "error_response" in body:
            raise _error(self.config.name, method, body["error_response"])
        if response.status_code != 200:
            raise SourceError(f"{self.config.name}: {method} answered HTTP {response.status_code}")
        key = method.removeprefix("taobao.").replace(".", "_") + "_response"
        inner = body.get(key)
        if not isinstance(inner, dict):
            raise ResponseInvalid(
                f"{self.config.name}: {method} answer lacks '{key}'",
                hint="the gateway returned an unexpected shape; retried",
            )
        return inner


def _error(source: str, method: str, err: Mapping[str, Any]) -> Exception:
    code = str(err.get("code"))
    sub = str(err.get("sub_code") or "")
    text = (
        f"{source}: {method} failed: code {code} {err.get('msg', '')} {sub} {err.get('sub_msg', '')}".strip()
    )
    if (quota := quota_error(text)) is not None:
        return quota
    if code == "7":
        ban = _BAN.search(str(err.get("sub_msg") or "") + str(err.get("msg") or ""))
        return RateLimited(text, retry_after=float(ban.group(1)) if ban else None)
    if code == "27":
        return TokenExpired(text)
    if code in ("25", "26", "11"):
        return AuthError(text, hint="check app_key/app_secret and the shop's authorization")
    if "timestamp" in sub:  # our clock is off; the answer's Date header has just corrected it
        return TransientError(text, hint="local clock differs from the platform's; retried with its clock")
    if sub.startswith("isp."):
        return TransientError(text)
    return SourceError(text, hint="see the platform's sub_code documentation")


def _token(body: Mapping[str, Any]) -> Token:
    try:
        data = orjson.loads(body["token_result"])
        now = datetime.now(UTC)
        return Token(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=now + timedelta(seconds=int(data["expires_in"])),
            refresh_expires_at=now + timedelta(seconds=int(data.get("re_expires_in") or 0))
            if data.get("re_expires_in")
            else None,
        )
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as e:
        raise ResponseInvalid(f"taobao: token answer is not the documented shape ({e})") from e
