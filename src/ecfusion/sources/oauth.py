"""OAuth 2.0 tokens per shop: kept encrypted, refreshed before expiry and on token-expired errors.

Standard 5.1 asks for authorized access only: every platform call carries the shop's access token.
``ShopTokens`` hands out a token that is valid for at least ``refresh_margin`` more seconds,
refreshing through the platform's refresh call first when needed, and saves every new token to a
``TokenStore`` (the control plane, encrypted — ``ecfusion.control.sources``) before using it, so a
crash right after a refresh never strands a rotated refresh token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ecfusion.errors import AuthError


@dataclass(frozen=True)
class Token:
    access_token: str
    refresh_token: str | None
    expires_at: datetime
    refresh_expires_at: datetime | None = None
    scope: str | None = None

    def expires_within(self, seconds: float, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return self.expires_at - now <= timedelta(seconds=seconds)


class TokenStore(Protocol):
    def load(self, source: str) -> Token | None: ...

    def save(self, source: str, token: Token) -> None: ...


class MemoryTokenStore:
    """Tokens in memory only (tests, one-off runs)."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def load(self, source: str) -> Token | None:
        return self._tokens.get(source)

    def save(self, source: str, token: Token) -> None:
        self._tokens[source] = token


Refresher = Callable[[Token], Token]


class ShopTokens:
    """The access token of one source (shop), refreshed before expiry and on demand."""

    def __init__(
        self,
        source: str,
        store: TokenStore,
        refresher: Refresher,
        *,
        refresh_margin: float = 300.0,
        on_refresh: Callable[[], None] | None = None,
    ) -> None:
        self.source = source
        self.store = store
        self.refresher = refresher
        self.refresh_margin = refresh_margin
        self.on_refresh = on_refresh
        self._lock = threading.Lock()

    def access_token(self) -> str:
        with self._lock:
            token = self._load()
            if token.expires_within(self.refresh_margin):
                token = self._refresh(token)
            return token.access_token

    def force_refresh(self, rejected: str) -> str:
        """The platform rejected ``rejected`` as expired: refresh unless another thread already did."""
        with self._lock:
            token = self._load()
            if token.access_token == rejected:
                token = self._refresh(token)
            return token.access_token

    def _load(self) -> Token:
        token = self.store.load(self.source)
        if token is None:
            raise AuthError(
                f"source {self.source} has no OAuth token",
                hint=f"authorize the shop: `ecfusion sources authorize {self.source} --code CODE`",
            )
        return token

    def _refresh(self, token: Token) -> Token:
        if not token.refresh_token:
            raise AuthError(
                f"source {self.source}: access token expired and no refresh token is stored",
                hint=f"authorize again: `ecfusion sources authorize {self.source} --code CODE`",
            )
        if token.refresh_expires_at is not None and token.refresh_expires_at <= datetime.now(UTC):
            raise AuthError(
                f"source {self.source}: the refresh token expired at {token.refresh_expires_at}",
                hint=f"authorize again: `ecfusion sources authorize {self.source} --code CODE`",
            )
        new = self.refresher(token)
        if new.refresh_token is None:
            new = replace(new, refresh_token=token.refresh_token)
        self.store.save(self.source, new)
        if self.on_refresh is not None:
            self.on_refresh()
        return new
