"""OAuth 2.0 tokens per shop: kept encrypted, refreshed before expiry and on token-expired errors.

Standard 5.1 asks for authorized access only: every platform call carries the shop's access token.
``ShopTokens`` hands out a token that is valid for at least ``refresh_margin`` more seconds,
refreshing through the platform's refresh call first when needed, and saves every new token to a
``TokenStore`` (the control plane, encrypted — ``ecfusion.control.sources``) before using it.

The crash window of a rotation. Platforms rotate the refresh token when it is used: once the
platform has answered, only that answer holds a usable refresh token. A process killed between the
answer and the save used to leave the shop needing re-authorization. Nothing on our side can make
"the platform rotated" and "we saved" one atomic step, so the window is narrowed and then bridged:

1. before calling the platform, a ``RefreshJournal`` durably records that a refresh of refresh
   token F (a fingerprint, never the token) begins; after the new token is saved, that it is done;
2. the first time a process needs the token, it looks for a begun-but-not-done refresh whose F is
   still the stored refresh token: the previous process died inside the window. It repeats the
   refresh at once with the stored token. Platforms that honour a just-rotated refresh token for a
   grace period (Douyin: the old tokens stay valid for 1 h, shared/platforms.md; ⚠ that the repeat
   answers with the same successor is assumed) then hand over the successor, which is saved;
3. a platform that refuses it (⚠ assumed for Taobao, JD, Pinduoduo, which document nothing) gets a
   precise error — when the refresh was interrupted and that the shop must be authorized again —
   instead of an unexplained authorization failure. Recovering at the next start, rather than
   when the old access token runs out, is what keeps the repeat inside a grace period.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ecfusion.errors import AuthError, RateLimited, SourceError
from ecfusion.sources.failures import CircuitOpen, TransientError


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


def fingerprint(refresh_token: str) -> str:
    """A short digest that tells refresh tokens apart without revealing them (for the journal)."""
    return hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RefreshIntent:
    """A refresh that began (durably recorded) and was not recorded as done."""

    old: str  # fingerprint of the refresh token being used
    at: datetime


class RefreshJournal(Protocol):
    def begin(self, source: str, old: str) -> None: ...

    def done(self, source: str, old: str, new: str) -> None: ...

    def pending(self, source: str) -> RefreshIntent | None: ...


class MemoryRefreshJournal:
    """The journal of one process (tests, one-off runs): it cannot outlive a crash."""

    def __init__(self) -> None:
        self._open: dict[str, RefreshIntent] = {}

    def begin(self, source: str, old: str) -> None:
        self._open[source] = RefreshIntent(old, datetime.now(UTC))

    def done(self, source: str, old: str, new: str) -> None:
        self._open.pop(source, None)

    def pending(self, source: str) -> RefreshIntent | None:
        return self._open.get(source)


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
        journal: RefreshJournal | None = None,
    ) -> None:
        self.source = source
        self.store = store
        self.refresher = refresher
        self.refresh_margin = refresh_margin
        self.on_refresh = on_refresh
        self.journal = journal or MemoryRefreshJournal()
        self._lock = threading.Lock()
        self._recovery_checked = False

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
        if not self._recovery_checked:
            token = self._recover(token)
            self._recovery_checked = True
        return token

    def _recover(self, token: Token) -> Token:
        """Finish a rotation a previous process began and did not save (module docstring, step 2)."""
        intent = self.journal.pending(self.source)
        if intent is None or not token.refresh_token or intent.old != fingerprint(token.refresh_token):
            return token  # nothing interrupted, or the new token was saved before the crash
        try:
            return self._refresh(token)
        except (TransientError, CircuitOpen, RateLimited):
            raise  # the platform did not answer; the intent stays, the next start tries again
        except SourceError as e:
            cause = e
        latest = self.store.load(self.source)
        if latest is not None and latest.refresh_token != token.refresh_token:
            return latest  # the refresh was another live process's, and it has saved its answer
        raise AuthError(
            f"source {self.source}: a token refresh begun at {intent.at:%Y-%m-%d %H:%M:%S} UTC was "
            "interrupted before the new token was saved, and the platform no longer accepts the "
            f"previous refresh token ({cause.message})",
            hint=f"authorize the shop again: `ecfusion sources authorize {self.source} --code CODE`",
        ) from cause

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
        old = fingerprint(token.refresh_token)
        self.journal.begin(self.source, old)  # durable before the platform can rotate anything
        new = self.refresher(token)
        if new.refresh_token is None:
            new = replace(new, refresh_token=token.refresh_token)
        self.store.save(self.source, new)
        self.journal.done(self.source, old, fingerprint(new.refresh_token or ""))
        if self.on_refresh is not None:
            self.on_refresh()
        return new
