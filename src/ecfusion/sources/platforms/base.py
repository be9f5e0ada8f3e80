"""What the four platform connectors share: settings, pacing, tokens, windows and backward paging.

Serves T/JNBDA 0003-2025 5.1 (collection from platform open APIs: authorized, incremental,
resumable, gentle on the source). A platform module supplies only its own wire format — how to
sign and send a call, how to list one page of a stream in a time window, how to fetch details,
refresh a token and read its errors; this module turns that into ``check``/``discover``/``read``.

Incremental order-like streams (orders, refunds) walk modified-time windows no longer than the
platform allows, from the cursor minus an overlap up to the server's clock minus a lag
(``ecfusion.sources.windows``). Inside a window pages are read **from the last page backwards**:
results are sorted newest-modified first, and an order modified while we page leaves the window,
shifting later rows towards page 1 — reading backwards means such a shift can only make us see a
row twice, never miss one. A page answered with rows other pages already listed (a known platform
fault: page p carries page p+1's rows) is fetched again (``_page``). The cursor advances to a
window's end only with the batch of its page 1, i.e. once every page of the window has been landed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import orjson
from pydantic import Field, SecretStr

from ecfusion.errors import AuthError, ConfigError, EcfusionError, RateLimited
from ecfusion.lake import jsontext
from ecfusion.sources.context import SourceContext
from ecfusion.sources.contract import (
    Batch,
    CheckResult,
    QuarantinedItem,
    ReadStats,
    SourceConfig,
    State,
    StreamInfo,
)
from ecfusion.sources.decrypt import DecryptStep
from ecfusion.sources.failures import ResponseInvalid
from ecfusion.sources.oauth import ShopTokens, Token, fingerprint
from ecfusion.sources.ratelimit import ChainedLimiter, RateLimiter, limiter_for
from ecfusion.sources.resilience import RetrySettings
from ecfusion.sources.transport import ApiTransport
from ecfusion.sources.windows import (
    WindowSettings,
    format_cursor,
    start_point,
    windows,
)

Window = tuple[datetime, datetime]


class PlatformConfig(SourceConfig):
    """Settings of one shop on one platform (``[sources.NAME]`` in ecfusion.toml, secrets sealed)."""

    base_url: str = Field(..., description="gateway root, e.g. https://eco.taobao.com or a mock's URL")
    app_key: str = Field(..., description="the ISV app's key (client_id on Pinduoduo)")
    app_secret: SecretStr = Field(..., description="the app's secret; stored encrypted")
    rate_per_app: float = Field(10.0, gt=0, description="the platform's call limit per second for the app")
    rate_per_shop: float | None = Field(None, gt=0, description="a further limit per shop, if any")
    rate_safety: float = Field(0.95, gt=0, le=1, description="use this share of the limits")
    retry: RetrySettings = Field(default_factory=RetrySettings)
    window: WindowSettings = Field(default_factory=WindowSettings)
    streams: list[str] | None = Field(None, description="streams to sync (default: all)")
    decrypt: bool = Field(False, description="call the platform's audited decrypt API for receivers")
    decrypt_purpose: str = Field(
        "order_fulfilment", min_length=3, description="why plaintext is needed; recorded with every call"
    )
    decrypt_rate: float = Field(1.0, gt=0, description="decrypt calls per second")
    decrypt_daily_quota: int | None = Field(
        None, ge=0, description="records to decrypt per Beijing day at most (the platform's quota ⚠)"
    )
    token_refresh_margin: float = Field(300.0, ge=0, description="refresh this many seconds before expiry")


@dataclass(frozen=True)
class StreamSpec:
    info: StreamInfo
    windowed: bool
    max_window: timedelta = timedelta(days=1)


@dataclass
class ListPage:
    items: list[dict[str, Any]]
    total: int


class PlatformConnector:
    """Base of the Taobao, JD, Pinduoduo and Douyin connectors (see module docstring)."""

    platform: ClassVar[str] = ""
    DECRYPT_API: ClassVar[str | None] = None  # the platform's audited decrypt call, if it has one
    STREAMS: ClassVar[dict[str, StreamSpec]] = {}

    def __init__(self, config: PlatformConfig, *, context: SourceContext | None = None) -> None:
        if config.decrypt and self.DECRYPT_API is None:
            raise ConfigError(
                f"source {config.name}: {self.platform} offers no decrypt API here",
                hint="set decrypt = false for this source",
            )
        self.config = config
        self.context = context or SourceContext()
        self.stats = ReadStats()
        self.secret = config.app_secret.get_secret_value()
        self.transport = ApiTransport(
            config.name, limiter=self._limiter(), retry=config.retry, stats=self.stats
        )
        self.tokens = ShopTokens(
            config.name,
            self.context.tokens,
            self.refresh_token,
            refresh_margin=config.token_refresh_margin,
            journal=self.context.refresh_journal,
        )
        self.decrypt_limiter = RateLimiter(config.decrypt_rate)
        self.decrypt_step = DecryptStep(
            source=config.name,
            platform=self.platform,
            api=self.DECRYPT_API or "",
            purpose=config.decrypt_purpose,
            daily_quota=config.decrypt_daily_quota,
            context=self.context,
            needs_decrypt=self.needs_decrypt,
            decrypt=self.decrypt_receivers,
            record_key=lambda r: str(r.get(self.STREAMS["orders"].info.key_field or "", "")),
        )

    # -- the platform's part --------------------------------------------------------------------

    def list_page(self, stream: str, window: Window | None, page: int, size: int) -> ListPage:
        raise NotImplementedError

    def details(self, stream: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return items

    def exchange_code(self, code: str) -> Token:
        raise NotImplementedError

    def refresh_token(self, token: Token) -> Token:
        raise NotImplementedError

    def needs_decrypt(self, record: dict[str, Any]) -> bool:
        """Does this order still carry a sealed receiver the decrypt API would open?"""
        return False

    def decrypt_receivers(self, records: list[dict[str, Any]]) -> None:
        """Put the plaintext receivers of ``records`` (all ``needs_decrypt``) into them, in place."""
        raise AuthError(
            f"{self.platform}: no decrypt API is implemented", hint="set decrypt = false for this source"
        )

    # -- the contract ----------------------------------------------------------------------------

    def authorize(self, code: str) -> Token:
        """Exchange an authorization code for the shop's first token and store it (encrypted)."""
        token = self.exchange_code(code)
        self.context.tokens.save(self.config.name, token)
        # a fresh authorization supersedes any rotation a crashed process left unfinished
        self.context.refresh_journal.done(self.config.name, "", fingerprint(token.refresh_token or ""))
        self.context.audit("sources.authorize", {"source": self.config.name, "platform": self.platform})
        return token

    def check(self) -> CheckResult:
        try:
            self.probe()
        except EcfusionError as e:
            if isinstance(e, RateLimited) and e.hint is None:
                e.hint = "the platform says we call too fast: check again in a minute, or lower rate_per_app"
            elif e.hint is None and not isinstance(e, AuthError):
                e.hint = "check base_url and the platform's status"
            return CheckResult.failed(e)
        return CheckResult(
            True,
            f"{self.platform} gateway {self.config.base_url} reachable and authorized; "
            f"server time {format_cursor(self.transport.clock.now())}",
        )

    def discover(self) -> list[StreamInfo]:
        wanted = self.config.streams or list(self.STREAMS)
        return [self.STREAMS[s].info for s in wanted if s in self.STREAMS]

    def read(self, stream: str, state: State | None) -> Iterator[Batch]:
        spec = self.STREAMS.get(stream)
        if spec is None:
            raise EcfusionError(
                f"{self.platform} has no stream '{stream}'", hint=f"use one of: {', '.join(self.STREAMS)}"
            )
        self.probe()  # learns the server's clock before planning windows
        if spec.windowed:
            yield from self._read_windowed(stream, spec, state)
        else:
            yield from self._read_all(stream, spec, state)

    def close(self) -> None:
        self.transport.close()

    def probe(self) -> None:
        """One cheap authorized call (also sets the server clock)."""
        now = self.transport.clock.now()
        self.list_page(next(iter(self.STREAMS)), (now - timedelta(minutes=1), now), 1, 1)

    # -- reading ---------------------------------------------------------------------------------

    def _read_windowed(self, stream: str, spec: StreamSpec, state: State | None) -> Iterator[Batch]:
        settings = self.config.window
        before = dict(state or {})
        server_now = self.transport.clock.now()
        until = server_now - timedelta(seconds=settings.lag_seconds)
        span = (
            timedelta(seconds=settings.max_window_seconds) if settings.max_window_seconds else spec.max_window
        )
        span = min(span, spec.max_window)
        end = None
        for window in windows(start_point(state, settings, server_now), until, span):
            end = window[1]
            versions: set[tuple[str, str]] = set()
            for items, window_done in self._pages_backward(stream, window):
                after = {"cursor": format_cursor(end)} if window_done else before
                yield self._batch(stream, self._unseen(stream, items, versions), after)
                before = after
        if end is not None:
            self.stats.lag_seconds = (self.transport.clock.now() - end).total_seconds()

    def _unseen(self, stream: str, items: list[dict[str, Any]], versions: set[tuple[str, str]]) -> list[Any]:
        """Drop rows whose (key, modified) this window already yielded (page 1 is read twice)."""
        info = self.STREAMS[stream].info
        if not info.key_field or not info.cursor_field:
            return items
        out = []
        for item in items:
            if not isinstance(item, dict):
                out.append(item)
                continue
            version = (str(item.get(info.key_field)), str(item.get(info.cursor_field)))
            if version not in versions:
                versions.add(version)
                out.append(item)
        return out

    def _read_all(self, stream: str, spec: StreamSpec, state: State | None) -> Iterator[Batch]:
        """Full refresh (listings): page forward through everything; re-landing is a no-op."""
        size = self.config.window.page_size
        seen: dict[int, frozenset[str]] = {}
        suspects: set[int] = set()
        page, before = 1, dict(state or {})
        while True:
            listed = self._page(stream, None, page, size, seen, suspects)
            yield self._batch(stream, listed.items, before)
            if not listed.items or page * size >= listed.total:
                break
            page += 1
        for items in self._suspects(stream, None, size, seen, suspects):
            yield self._batch(stream, items, before)
        yield self._batch(stream, [], {"synced_at": format_cursor(self.transport.clock.now())})

    def _pages_backward(self, stream: str, window: Window) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """Pages of one window, last to first; ``True`` comes with the batch that completes the window.

        The first read of page 1 only learns how many pages there are (its rows are valid versions,
        so they are landed too); it is not a reference for the repeated-page check, as page 1 is
        read again last, checked against every later page. Rows only leave a window while we page
        it, so every order it still holds at that last read was listed by some read: fewer orders
        listed than that read's total means a page went missing (a fault no check caught, or rows
        the platform indexed late), and the window is paged again; still short, the stream fails
        and the cursor stays before the window, never past orders it has not landed.
        """
        size = self.config.window.page_size
        first = self._page(stream, window, 1, size, {}, set())
        pages = max(1, math.ceil(first.total / size))
        if pages == 1:
            yield first.items, True
            return
        yield first.items, False
        listed = _Listed(self.STREAMS[stream].info.key_field or "")
        listed.add(first.items)
        for _ in range(2):
            seen: dict[int, frozenset[str]] = {}
            suspects: set[int] = set()
            for page in range(pages, 0, -1):
                answer = self._page(stream, window, page, size, seen, suspects)
                listed.add(answer.items)
                yield answer.items, False
            total = answer.total  # page 1's, read last
            for items in self._suspects(stream, window, size, seen, suspects):
                listed.add(items)
                yield items, False
            if listed.count >= total:
                yield [], True
                return
            pages = max(1, math.ceil(total / size))
        raise ResponseInvalid(
            f"{self.config.name}: {stream} modified {format_cursor(window[0])} – {format_cursor(window[1])}: "
            f"the platform lists {total} but {listed.count} could be read in two passes",
            hint="the cursor stays before this window; the next sync reads it again",
        )

    def _page(
        self,
        stream: str,
        window: Window | None,
        page: int,
        size: int,
        seen: dict[int, frozenset[str]],
        suspects: set[int],
    ) -> ListPage:
        """One page, checked for the "repeated page" fault against the pages read before it.

        An answer whose every row was already listed on other pages of this pass is suspect: page p
        carrying page p+1's rows looks like that even after rows moved up between the two reads,
        when the answer no longer *equals* the other page. A correct page looks like that only if a
        whole page of rows left the window between the reads, so the page is asked again; the same
        answer twice is accepted, and the pages it repeats are read again (``suspects``), for then
        it was their answer that was wrong (paging forward, a faulty page is only seen to repeat
        when the page it carried is read).
        """
        key_field = self.STREAMS[stream].info.key_field or ""
        previous: frozenset[str] | None = None
        for _ in range(self.config.retry.attempts):
            listed = self.list_page(stream, window, page, size)
            keys = frozenset(str(i.get(key_field)) for i in listed.items if isinstance(i, dict))
            repeats = {p for p, other in seen.items() if p != page and keys & other}
            repeated = bool(keys) and keys <= frozenset().union(*(seen[p] for p in repeats))
            if not repeated or keys == previous:
                if repeated:
                    suspects.update(repeats)
                    for p in repeats:
                        seen.pop(p)
                seen[page] = keys
                self.stats.pages += 1
                return listed
            previous = keys
            self.stats.retries += 1  # the platform repeated other pages' rows: ask again
        raise ResponseInvalid(
            f"{self.config.name}: page {page} of {stream} keeps repeating another page",
            hint="the platform's paging is inconsistent; try again later",
        )

    def _suspects(
        self,
        stream: str,
        window: Window | None,
        size: int,
        seen: dict[int, frozenset[str]],
        suspects: set[int],
    ) -> Iterator[list[dict[str, Any]]]:
        """Read again the pages that turned out to have carried other pages' rows, each once."""
        done: set[int] = set()
        while todo := suspects - done:
            page = min(todo)
            done.add(page)
            yield self._page(stream, window, page, size, seen, suspects).items

    def _batch(self, stream: str, items: list[dict[str, Any]], state: State) -> Batch:
        good, bad = self._validate(stream, items)
        records = self.details(stream, good) if good else []
        if records and stream == "orders" and self.config.decrypt:
            records = self.decrypt_step(records)
        key_field = self.STREAMS[stream].info.key_field
        keys = [str(r[key_field]) if key_field else None for r in records]
        return Batch(records=records, state=state, record_keys=keys, quarantined=bad)

    def _validate(
        self, stream: str, items: Sequence[Any]
    ) -> tuple[list[dict[str, Any]], list[QuarantinedItem]]:
        key_field = self.STREAMS[stream].info.key_field
        good: list[dict[str, Any]] = []
        bad: list[QuarantinedItem] = []
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                bad.append(
                    QuarantinedItem(
                        _bytes(item),
                        f"not_an_object: {stream} item is {type(item).__name__}",
                        f"{self.platform}:{stream}:{n}",
                    )
                )
            elif key_field and item.get(key_field) in (None, ""):
                bad.append(
                    QuarantinedItem(
                        _bytes(item), f"missing_required: {key_field}", f"{self.platform}:{stream}:{n}"
                    )
                )
            else:
                good.append(item)
        return good, bad

    def _limiter(self) -> ChainedLimiter:
        cfg = self.config
        app = limiter_for(
            f"{self.platform}:app:{cfg.app_key}@{cfg.base_url}", cfg.rate_per_app * cfg.rate_safety,
            window_limit=max(1, math.floor(cfg.rate_per_app)),
        )
        limiters = [app]
        if cfg.rate_per_shop:
            limiters.append(
                limiter_for(f"{self.platform}:shop:{cfg.name}", cfg.rate_per_shop * cfg.rate_safety,
                            window_limit=max(1, math.floor(cfg.rate_per_shop)))
            )
        return ChainedLimiter(limiters)


class _Listed:
    """The orders a window's reads have listed: distinct keys, and every row without one (each
    read's count, so a row read twice may count twice: the check it serves never fails wrongly)."""

    def __init__(self, key_field: str) -> None:
        self.key_field = key_field
        self.keys: set[str] = set()
        self.keyless = 0

    def add(self, items: Sequence[Any]) -> None:
        for item in items:
            key = item.get(self.key_field) if isinstance(item, dict) else None
            if key is None:
                self.keyless += 1
            else:
                self.keys.add(str(key))

    @property
    def count(self) -> int:
        return len(self.keys) + self.keyless


def _bytes(item: Any) -> bytes:
    try:
        return orjson.dumps(item)
    except TypeError:
        return repr(item).encode("utf-8")


def json_body(response_text: bytes, source: str) -> Mapping[str, Any]:
    """Parse a body as a JSON object or raise ``ResponseInvalid`` (truncated, HTML error page, …)."""
    try:
        body = jsontext.loads(response_text)
    except orjson.JSONDecodeError as e:
        raise ResponseInvalid(
            f"{source}: the platform's answer is not valid JSON ({e}; {len(response_text)} bytes)",
            hint="retried; a proxy may be cutting bodies",
        ) from e
    if not isinstance(body, dict):
        raise ResponseInvalid(
            f"{source}: the platform's answer is a JSON {type(body).__name__}, not an object"
        )
    return body
