"""Signature checks for platform push messages (采集层 5.1; security 7: accept only authorized data).

Each platform signs what it pushes with the app secret. A ``SignatureScheme`` says where the
signature arrives (header or query parameter), what string is signed (a template over the app
key, the raw body, the app secret and the sorted query parameters) and with which algorithm and
encoding. Presets:

* ``douyin`` — Douyin shop message push: header ``event-sign`` = lowercase hex
  ``md5(app_key + body + app_secret)`` (as in the public 抖店 docs and open-source SDKs; the
  ``douyin-hmac`` variant, HMAC-SHA256 keyed by the secret, is announced there as the newer
  method and is marked ⚠ a guess at its exact string).
* ``taobao`` — Taobao/Tmall Qimen-style HTTP push: query ``sign`` = uppercase hex
  ``md5(secret + k1v1k2v2… + body + secret)`` over the sorted query parameters except ``sign``.
* ``kuaidi100`` — kuaidi100's subscription push (parcel tracking): a form body ``param=<JSON>&sign=…``
  with ``sign`` = uppercase hex ``md5(param + salt)``, the salt being the one the merchant gave when
  subscribing (configured as the source's ``app_secret``).
* ``jd``, ``pdd`` — ⚠ not confirmed from public sources: JD and Pinduoduo deliver most messages
  over their own long-connection SDKs; for HTTP push these presets assume the Qimen-style string
  with uppercase MD5. Override any field in the source's config.

Comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field

from ecfusion.errors import ConfigError


class SignatureScheme(BaseModel):
    """How one platform signs a pushed message."""

    model_config = ConfigDict(extra="forbid")

    location: Literal["header", "query", "form"] = "header"
    name: str = Field("event-sign", description="header, query or form field carrying the signature")
    algorithm: Literal["md5", "sha256", "hmac-sha256", "hmac-md5"] = "md5"
    message: str = Field("{app_key}{body}{app_secret}", description="template of the signed string")
    encoding: Literal["hex", "HEX", "base64"] = "hex"
    form_field: str = Field("param", description="form bodies: the field '{form_field}' stands for")


PRESETS: dict[str, SignatureScheme] = {
    "douyin": SignatureScheme(),
    "douyin-hmac": SignatureScheme(algorithm="hmac-sha256", message="{app_key}{body}{app_secret}"),
    "taobao": SignatureScheme(
        location="query", name="sign", message="{app_secret}{params}{body}{app_secret}", encoding="HEX"
    ),
    "kuaidi100": SignatureScheme(
        location="form", name="sign", message="{form_field}{app_secret}", encoding="HEX"
    ),
    "jd": SignatureScheme(
        location="query", name="sign", message="{app_secret}{params}{body}{app_secret}", encoding="HEX"
    ),
    "pdd": SignatureScheme(
        location="query", name="sign", message="{app_secret}{params}{body}{app_secret}", encoding="HEX"
    ),
}


def preset(name: str) -> SignatureScheme:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown signature preset '{name}'",
            hint=f"use one of {', '.join(sorted(PRESETS))} or give a [signature] table",
        ) from None


def form_fields(body: bytes) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` body (first value of each; a body that
    is not UTF-8 form text has none)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _sorted_params(query: Mapping[str, str], skip: str) -> str:
    return "".join(f"{k}{v}" for k, v in sorted(query.items()) if k != skip)


def signed_bytes(
    scheme: SignatureScheme, *, app_key: str, app_secret: str, body: bytes, query: Mapping[str, str]
) -> bytes:
    """The exact byte string the platform signs (the body stays bytes: never re-encoded)."""
    params = _sorted_params(query, scheme.name) if scheme.location == "query" else ""
    field = form_fields(body).get(scheme.form_field, "") if scheme.location == "form" else ""
    head, sep, tail = scheme.message.partition("{body}")
    fill = {"app_key": app_key, "app_secret": app_secret, "params": params, "form_field": field}
    out = head.format(**fill).encode()
    if sep:
        out += body + tail.format(**fill).encode()
    return out


def compute_signature(
    scheme: SignatureScheme,
    *,
    app_key: str,
    app_secret: str,
    body: bytes,
    query: Mapping[str, str] | None = None,
) -> str:
    """The signature a genuine platform would send (used to verify, and by tests to sign)."""
    data = signed_bytes(scheme, app_key=app_key, app_secret=app_secret, body=body, query=query or {})
    secret = app_secret.encode()
    if scheme.algorithm == "md5":
        digest = hashlib.md5(data).digest()  # noqa: S324 - the platform's choice, not ours
    elif scheme.algorithm == "sha256":
        digest = hashlib.sha256(data).digest()
    elif scheme.algorithm == "hmac-sha256":
        digest = hmac.new(secret, data, hashlib.sha256).digest()
    else:
        digest = hmac.new(secret, data, hashlib.md5).digest()
    if scheme.encoding == "base64":
        return base64.b64encode(digest).decode()
    return digest.hex().upper() if scheme.encoding == "HEX" else digest.hex()


def verify_signature(
    scheme: SignatureScheme,
    *,
    app_key: str,
    app_secret: str,
    body: bytes,
    headers: Mapping[str, str],
    query: Mapping[str, str],
) -> bool:
    """True when the signature the request carries matches (constant-time compare)."""
    if scheme.location == "form":
        given = form_fields(body).get(scheme.name)
    else:
        given = (headers if scheme.location == "header" else query).get(scheme.name)
    if not given:
        return False
    expected = compute_signature(scheme, app_key=app_key, app_secret=app_secret, body=body, query=query)
    if scheme.encoding != "base64":
        given, expected = given.lower(), expected.lower()
    return hmac.compare_digest(given.encode(), expected.encode())
