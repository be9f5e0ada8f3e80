"""How a platform call can fail, as the retry policy and the run summary see it (5.1 reliability).

These extend ``ecfusion.errors``: transient failures (5xx, timeouts, truncated or invalid bodies,
duplicated pages) are retried with backoff; an expired token is refreshed once and the call
repeated; an open circuit stops calling a source that keeps failing.
"""

from __future__ import annotations

from ecfusion.errors import AuthError, SourceError


class TransientError(SourceError):
    """The source failed in a way that usually heals: 5xx, timeout, connection reset, bad body."""

    code = "ECF330"


class ResponseInvalid(TransientError):
    """The body was not the documented shape (truncated JSON, missing envelope, repeated page)."""

    code = "ECF331"


class TokenExpired(AuthError):
    """The platform said the access token expired (TOP 27, JD 19, PDD 10019, Douyin 40003)."""

    code = "ECF311"


class CircuitOpen(SourceError):
    """Too many consecutive failures: calls to this source are paused for a cool-down."""

    code = "ECF340"
