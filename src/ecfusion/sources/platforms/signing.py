"""Request signatures of the four platforms' open APIs, exactly as documented (shared/platforms.md).

Used by the connectors to sign and by the mock platforms to verify; the test vectors in
tests/sources/test_signing.py pin each algorithm to independently computed values.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any


def _concat_sorted(params: Mapping[str, Any], *, skip: tuple[str, ...] = ("sign",)) -> str:
    return "".join(f"{k}{params[k]}" for k in sorted(params) if k not in skip and params[k] is not None)


def taobao_sign(params: Mapping[str, Any], secret: str, sign_method: str = "md5") -> str:
    """TOP: sort params (not ``sign``) by name, concat ``k1v1k2v2``; MD5(secret+s+secret) or HMAC-MD5."""
    s = _concat_sorted(params)
    if sign_method == "hmac":
        return hmac.new(secret.encode(), s.encode(), hashlib.md5).hexdigest().upper()
    if sign_method == "md5":
        return hashlib.md5((secret + s + secret).encode()).hexdigest().upper()
    raise ValueError(f"unsupported TOP sign_method {sign_method!r}")


def jd_sign(params: Mapping[str, Any], secret: str) -> str:
    """JOS: MD5(secret + sorted ``k``+``v`` pairs including ``360buy_param_json`` + secret), upper hex."""
    s = _concat_sorted(params)
    return hashlib.md5((secret + s + secret).encode()).hexdigest().upper()


def pdd_value(value: Any) -> str:
    """PDD's text form of a parameter: objects as JSON, booleans ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def pdd_sign(params: Mapping[str, Any], secret: str) -> str:
    """PDD: MD5(client_secret + ``k1v1k2v2`` (sorted, nulls dropped) + client_secret), upper hex."""
    s = "".join(f"{k}{pdd_value(params[k])}" for k in sorted(params) if k != "sign" and params[k] is not None)
    return hashlib.md5((secret + s + secret).encode()).hexdigest().upper()


def douyin_param_json(body: Mapping[str, Any]) -> str:
    """Douyin's ``param_json``: keys sorted (recursively), compact, no HTML or non-ASCII escaping."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def douyin_sign(
    app_key: str,
    method: str,
    param_json: str,
    timestamp: str | int,
    secret: str,
    sign_method: str = "hmac-sha256",
) -> str:
    """Douyin: s = app_key..method..param_json..timestamp..v2, wrapped secret+s+secret."""
    s = f"app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v2"
    wrapped = secret + s + secret
    if sign_method == "hmac-sha256":
        return hmac.new(secret.encode(), wrapped.encode(), hashlib.sha256).hexdigest()
    if sign_method == "md5":
        return hashlib.md5(wrapped.encode()).hexdigest()
    raise ValueError(f"unsupported Douyin sign_method {sign_method!r}")
