"""The webhook receiver: platform order messages pushed over HTTP (采集层 4.3.4, 5.1; 7 access control).

``POST /webhook/{source}`` for each configured ``kind = "webhook"`` source:

1. the signature is verified with the source's app secret (``signatures``); a bad or missing one
   gets HTTP 401 and the platform's own error body, and nothing is landed;
2. the body is split into messages and handed to the ``PushLander``, which lands them durably;
3. only then the platform's success body is returned (HTTP 200). If landing fails the answer is
   HTTP 503, so the platform redelivers later.

A correctly signed body that is not the platform's message shape is quarantined with its reason
and acknowledged — redelivering it would not make it parseable, and its bytes are kept.
Success and error bodies per platform follow their public docs (⚠ JD and PDD bodies are guesses).
Besides the shops' order messages, ``platform = "kuaidi100"`` receives parcel tracking pushes (set
``entity = "traces"``: they standardize into ``unified.tracking_event``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field, SecretStr

from ecfusion.errors import ConfigError, SourceError
from ecfusion.sources.contract import (
    Batch,
    CheckResult,
    ReadStats,
    SourceConfig,
    State,
    StreamInfo,
    register,
)
from ecfusion.sources.push.lander import Delivery, PushLander
from ecfusion.sources.push.messages import BodyParseError, split_body
from ecfusion.sources.push.signatures import SignatureScheme, preset, verify_signature

if TYPE_CHECKING:
    from ecfusion.lake import RawLake

Platform = Literal["douyin", "taobao", "jd", "pdd", "kuaidi100"]

SUCCESS_BODY: dict[str, dict[str, Any]] = {
    "douyin": {"code": 0, "msg": "success"},
    "taobao": {"response": {"flag": "success", "code": "0", "message": "ok"}},
    "jd": {"code": "0", "msg": "success"},
    "pdd": {"success": True, "error_code": 0, "error_msg": ""},
    "kuaidi100": {"result": True, "returnCode": "200", "message": "成功"},
}
BAD_SIGNATURE_BODY: dict[str, dict[str, Any]] = {
    "douyin": {"code": 40004, "msg": "签名校验失败 (signature verification failed)"},
    "taobao": {"response": {"flag": "failure", "code": "sign-check-failure", "message": "Illegal request"}},
    "jd": {"code": "25", "msg": "invalid signature"},
    "pdd": {"success": False, "error_code": 10003, "error_msg": "sign check failed"},
    "kuaidi100": {"result": False, "returnCode": "500", "message": "签名校验失败 (bad signature)"},
}


class WebhookSourceConfig(SourceConfig):
    """A push source: ``[sources.NAME] kind = "webhook"``, ``platform``, ``app_key``, ``app_secret``."""

    kind: Literal["webhook"] = "webhook"
    platform: Platform
    app_key: str = ""
    app_secret: SecretStr
    entity: str = Field("order_messages", description="raw-zone entity the messages land in")
    signature: SignatureScheme | None = Field(None, description="override the platform's signature preset")
    msg_id_field: str = Field("msg_id", description="message id field (Taobao/JD/PDD-style bodies)")
    topic_field: str = Field("topic", description="message topic field (Taobao/JD/PDD-style bodies)")

    def scheme(self) -> SignatureScheme:
        return self.signature or preset(self.platform)


@register("webhook", WebhookSourceConfig)
class WebhookConnector:
    """``check``/``discover`` of a webhook source; it is pushed to, so ``read`` explains how to run it."""

    def __init__(self, config: WebhookSourceConfig, **_: Any) -> None:
        self.config = config
        self.stats = ReadStats()

    def read(self, stream: str, state: State | None) -> Iterator[Batch]:
        raise SourceError(
            f"source {self.config.name} is a webhook: platforms push to it, it cannot be pulled",
            hint="run `ecfusion webhook serve` and point the platform's push URL at it",
        )

    def check(self) -> CheckResult:
        if not self.config.app_secret.get_secret_value():
            # a setting of the source that is wrong: every push it is sent would be refused as unsigned
            return CheckResult.failed(
                ConfigError(
                    f"webhook {self.config.name} has an empty app_secret",
                    hint="set app_secret to the app secret of the platform's open console",
                )
            )
        return CheckResult(
            True, f"ready to receive {self.config.platform} messages at /webhook/{self.config.name}"
        )

    def discover(self) -> list[StreamInfo]:
        return [
            StreamInfo(
                self.config.entity,
                key_field="msg_id",
                incremental=False,
                description=f"{self.config.platform} pushed messages",
            )
        ]

    def close(self) -> None:
        return None


def _error(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def create_app(
    lake: RawLake, sources: list[WebhookSourceConfig], *, lander: PushLander | None = None
) -> FastAPI:
    """The receiver app for ``sources``; its lander is ``app.state.lander`` (closed on shutdown)."""
    by_name = {s.name: s for s in sources}
    if len(by_name) != len(sources):
        raise ConfigError(
            "two webhook sources have the same name", hint="give every [sources.NAME] its own name"
        )
    the_lander = lander or PushLander(lake)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        the_lander.close()

    app = FastAPI(title="ecfusion webhook receiver", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.lander = the_lander

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True, "sources": sorted(by_name)}

    @app.post("/webhook/{name}")
    async def receive(name: str, request: Request) -> JSONResponse:
        cfg = by_name.get(name)
        if cfg is None:
            return _error(404, {"code": 404, "msg": f"no webhook source named {name!r}"})
        body = await request.body()
        ok = verify_signature(
            cfg.scheme(),
            app_key=cfg.app_key,
            app_secret=cfg.app_secret.get_secret_value(),
            body=body,
            headers=request.headers,
            query=dict(request.query_params),
        )
        if not ok:
            return _error(401, BAD_SIGNATURE_BODY[cfg.platform])
        delivery = _delivery(cfg, body)
        try:
            await asyncio.wrap_future(app.state.lander.submit(delivery))
        except Exception:
            return _error(503, {"code": 503, "msg": "not stored; please redeliver"})
        return JSONResponse(SUCCESS_BODY[cfg.platform])

    return app


def _delivery(cfg: WebhookSourceConfig, body: bytes) -> Delivery:
    try:
        messages = split_body(cfg.platform, body, msg_id_field=cfg.msg_id_field, topic_field=cfg.topic_field)
    except BodyParseError as e:
        return Delivery(cfg.name, cfg.entity, cfg.platform, cfg.shop_id,
                        quarantine=(body, e.reason, f"webhook:{cfg.name}"))
    return Delivery(cfg.name, cfg.entity, cfg.platform, cfg.shop_id, messages=messages)
