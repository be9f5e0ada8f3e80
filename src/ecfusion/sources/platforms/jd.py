"""JD open platform (JOS) connector (T/JNBDA 0003-2025 5.1; facts: shared/platforms.md).

Streams: ``orders`` (``jingdong.pop.order.enSearch`` by modified time, ``dateType`` 0, newest first,
window ≤ 1 month allowed; one day used so the cursor, and a resumed run, advance in finer steps),
``refunds`` (after-sales, ``jingdong.asc.query.list`` ⚠ the method and its fields are a best guess
from public SDKs), ``products``
(``jingdong.ware.read.searchWare4Valid``, full refresh). Calls go to ``/routerjson`` with all business
parameters as one JSON string in ``360buy_param_json``, MD5-signed (``signing.jd_sign``); responses
are wrapped in ``<method>_responce`` (sic). OAuth: authorization-code grant at ``/oauth2/access_token``
and ``/oauth2/refresh_token`` ⚠. Errors: ``{"error_response": {"code", "zh_desc", "en_desc"}}``;
"19" token expired ⚠; rate-limit codes configurable ⚠ (no code confirmed). Optional decrypt:
``jingdong.jos.order.oaid.decrypt`` ⚠ (``orderInfos[{orderId}]`` ≤ 20 per call → ``result.data[{orderId,
consigneeName, consigneeMobile, consigneeAddress}]``) replaces the masked ``consigneeInfo`` fields, audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import orjson
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
from ecfusion.sources.platforms.signing import jd_sign
from ecfusion.sources.windows import beijing_text

ORDER_STATES = (
    "WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,WAIT_SELLER_DELIVERY,POP_ORDER_PAUSE,PAUSE,"
    "FINISHED_L,TRADE_CANCELED,LOCKED,WAIT_SEND_CODE"
)
OPTIONAL_FIELDS = (
    "orderId,orderType,orderState,orderStartTime,paymentConfirmTime,modified,orderEndTime,pin,"
    "open_id_buyer,xid_buyer,orderTotalPrice,orderSellerPrice,orderPayment,freightPrice,"
    "sellerDiscount,consigneeInfo,itemInfoList"
)


CONSIGNEE_FIELDS = ("fullname", "mobile", "fullAddress")
DECRYPT_ANSWER_FIELDS = ("consigneeName", "consigneeMobile", "consigneeAddress")  # ⚠
DECRYPT_BATCH = 20


class JdConfig(PlatformConfig):
    kind: Literal["jd"] = "jd"
    rate_per_app: float = 20.0  # ⚠ set the app's real quota
    rate_limit_codes: list[str] = Field(["67"], description="error codes meaning 'too many calls' ⚠")


@register("jd", JdConfig)
class JdConnector(PlatformConnector):
    config: JdConfig
    platform = "jd"
    DECRYPT_API = "jingdong.jos.order.oaid.decrypt"  # ⚠ name and shape guessed; ≤ 20 orders per call
    STREAMS = {
        "orders": StreamSpec(
            StreamInfo(
                "orders",
                "orderId",
                "modified",
                tuple(OPTIONAL_FIELDS.split(",")),
                description="orderInfoList elements",
            ),
            True,
            timedelta(days=1),
        ),
        "refunds": StreamSpec(StreamInfo("refunds", "afsServiceId", "updateTime"), True, timedelta(days=1)),
        "products": StreamSpec(StreamInfo("products", "wareId", None, incremental=False), False),
    }

    def list_page(self, stream: str, window: Window | None, page: int, size: int) -> ListPage:
        if stream == "orders":
            assert window is not None
            params = {
                "start_date": beijing_text(window[0]),
                "end_date": beijing_text(window[1]),
                "order_state": ORDER_STATES,
                "optional_fields": OPTIONAL_FIELDS,
                "page": str(page),
                "page_size": str(size),
                "sortType": 1,
                "dateType": 0,
            }
            body = self.call("jingdong.pop.order.enSearch", params)
            result = _dict(body.get("searchorderinfo_result"), "searchorderinfo_result")
            return ListPage(list(result.get("orderInfoList") or []), int(result.get("orderTotal") or 0))
        if stream == "refunds":
            assert window is not None
            params = {
                "updateTimeBegin": beijing_text(window[0]),
                "updateTimeEnd": beijing_text(window[1]),
                "pageNumber": page,
                "pageSize": size,
            }
            result = _dict(self.call("jingdong.asc.query.list", params).get("result"), "result")
            return ListPage(list(result.get("data") or []), int(result.get("totalCount") or 0))
        body = self.call("jingdong.ware.read.searchWare4Valid", {"pageNo": page, "pageSize": size})
        result = _dict(body.get("page"), "page")
        return ListPage(list(result.get("data") or []), int(result.get("totalItem") or 0))

    # -- decrypt (⚠ the API's name and shape are a best guess; platforms.md is silent) ------------

    def needs_decrypt(self, record: dict[str, Any]) -> bool:
        c = record.get("consigneeInfo")
        return isinstance(c, dict) and any(
            c.get("encrypt_" + f) and "*" in str(c.get(f) or "") for f in CONSIGNEE_FIELDS
        )

    def decrypt_receivers(self, records: list[dict[str, Any]]) -> None:
        by_id = {str(r["orderId"]): r for r in records}
        ids = list(by_id)
        for i in range(0, len(ids), DECRYPT_BATCH):
            self.decrypt_limiter.acquire()
            params = {
                "scenesType": "1001",
                "orderInfos": [{"orderId": o} for o in ids[i : i + DECRYPT_BATCH]],
            }
            result = self.call(self.DECRYPT_API or "", params).get("result")
            items = result.get("data") if isinstance(result, dict) else None
            for item in items or []:
                order = by_id.get(str(item.get("orderId")))
                if order is None:
                    continue
                consignee = order["consigneeInfo"]
                for field, answer in zip(CONSIGNEE_FIELDS, DECRYPT_ANSWER_FIELDS, strict=True):
                    if item.get(answer) is not None:
                        consignee[field] = item[answer]

    def exchange_code(self, code: str) -> Token:
        return self._oauth("/oauth2/access_token", {"grant_type": "authorization_code", "code": code})

    def refresh_token(self, token: Token) -> Token:
        return self._oauth(
            "/oauth2/refresh_token",
            {"grant_type": "refresh_token", "refresh_token": token.refresh_token or ""},
        )

    # -- wire ------------------------------------------------------------------------------------

    def _oauth(self, path: str, params: dict[str, str]) -> Token:
        query = {"app_key": self.config.app_key, "app_secret": self.secret, **params}

        def build() -> httpx.Request:
            return self.transport.client.build_request(
                "GET", self.config.base_url.rstrip("/") + path, params=query
            )

        def parse(r: httpx.Response) -> Token:
            if r.status_code >= 500:
                raise TransientError(f"{self.config.name}: JD OAuth answered HTTP {r.status_code}")
            body = json_body(r.content, self.config.name)
            if "access_token" not in body:
                raise AuthError(
                    f"{self.config.name}: JD OAuth refused: {body.get('error_description') or body}",
                    hint=f"authorize again: `ecfusion sources authorize {self.config.name} --code CODE`",
                )
            now = datetime.now(UTC)
            return Token(
                access_token=str(body["access_token"]),
                refresh_token=body.get("refresh_token"),
                expires_at=now + timedelta(seconds=int(body.get("expires_in") or 0)),
                scope=body.get("scope"),
            )

        return self.transport.call(build, parse)

    def call(self, method: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        used: dict[str, str] = {}
        param_json = orjson.dumps(dict(params)).decode()

        def build() -> httpx.Request:
            form = {
                "method": method,
                "app_key": self.config.app_key,
                "v": "2.0",
                "format": "json",
                "timestamp": beijing_text(self.transport.clock.now()),
                "360buy_param_json": param_json,
            }
            used["token"] = form["access_token"] = self.tokens.access_token()
            form["sign"] = jd_sign(form, self.secret)
            return self.transport.client.build_request(
                "POST", self.config.base_url.rstrip("/") + "/routerjson", data=form
            )

        def refresh() -> None:
            self.tokens.force_refresh(used.get("token", ""))

        return self.transport.call(build, lambda r: self.parse(method, r), on_token_expired=refresh)

    def parse(self, method: str, response: httpx.Response) -> Mapping[str, Any]:
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"{self.config.name}: {method} answered HTTP {response.status_code}")
        body = json_body(response.content, self.config.name)
        err = body.get("error_response")
        if isinstance(err, dict):
            raise self.error(method, err)
        key = method.replace(".", "_") + "_responce"
        inner = body.get(key)
        if not isinstance(inner, dict):
            raise ResponseInvalid(f"{self.config.name}: {method} answer lacks '{key}'", hint="retried")
        if str(inner.get("code", "0")) != "0":
            raise SourceError(f"{self.config.name}: {method} failed with code {inner.get('code')}")
        return inner

    def error(self, method: str, err: Mapping[str, Any]) -> Exception:
        code = str(err.get("code"))
        desc = err.get("en_desc") or err.get("zh_desc") or ""
        text = f"{self.config.name}: {method} failed: code {code} {desc}"
        if (quota := quota_error(text)) is not None:
            return quota
        if code in self.config.rate_limit_codes:
            return RateLimited(text, retry_after=1.0)
        if code == "19":
            return TokenExpired(text)
        if code in ("14", "15", "18"):
            return AuthError(text, hint="check app_key/app_secret and the shop's authorization")
        if "timestamp" in (str(err.get("en_desc")) + str(err.get("zh_desc"))).lower():
            return TransientError(
                text, hint="local clock differs from the platform's; retried with its clock"
            )
        return SourceError(text, hint="see JOS error code documentation")


def _dict(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ResponseInvalid(f"jd: answer lacks '{name}'", hint="retried")
    api = value.get("apiResult")
    if isinstance(api, dict) and api.get("success") is False:
        raise SourceError(f"jd: {name} reports failure: {api.get('englishErrorMsg') or api}")
    return value
