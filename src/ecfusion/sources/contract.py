"""The connector contract every source implements (T/JNBDA 0003-2025 4.3.4, 5.1 采集层).

Concepts follow Airbyte's protocol, Singer and dlt, named from the user's side:

* a **source** is one configured connection (a shop on a platform, a database, a broker, a log);
  its settings are a pydantic model (``SourceConfig``); secret settings are ``SecretStr`` and are
  stored encrypted in the control plane, never in plaintext on disk;
* ``check()`` connects and proves we are authorized (``CheckResult``);
* ``discover()`` lists the **streams** (entities) it offers and their fields (``StreamInfo``);
* ``read(stream, state)`` yields page **batches**: records plus the state that is true once those
  records (and all earlier ones) are durable. The driver (``ecfusion.sources.sync``) lands each
  batch in the raw zone and only then saves its state, so state never claims more than was written.

A connector never writes to the lake or the checkpoint store itself. ``read`` must be resumable
from any state it yielded before, and re-reading a range is harmless (the lake is idempotent by
content hash). Bad items go into ``Batch.quarantined`` with a reason, never silently dropped.

To add a connector: subclass ``SourceConfig`` with your settings, write a class satisfying
``Connector`` and decorate it with ``@register("kind", YourConfig)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ecfusion.errors import ConfigError, EcfusionError
from ecfusion.lake.folders import FOLDER_NAME_RULE, is_folder_name

State = dict[str, Any]


class SourceConfig(BaseModel):
    """Settings common to every source; a connector subclasses it with its own fields.

    Fields typed ``SecretStr`` are secrets: ``secret_fields()`` names them so the control plane
    stores them encrypted and ``ecfusion sources list`` never prints them.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., description="the source's name, unique in the workspace (e.g. tmall_flagship)")
    kind: str = Field(..., description="connector kind (taobao, jd, pdd, douyin, webhook, mysql_cdc, ...)")
    shop_id: str | None = Field(None, description="shop or store this source belongs to")

    @field_validator("name")
    @classmethod
    def _a_folder_name(cls, value: str) -> str:
        """The name is the raw zone's ``source=`` folder: refused here, not at every sync."""
        if not is_folder_name(value):
            raise ValueError(f"{value!r} cannot name the source's lake folder: use {FOLDER_NAME_RULE}")
        return value

    @classmethod
    def secret_fields(cls) -> list[str]:
        return [n for n, f in cls.model_fields.items() if f.annotation in (SecretStr, SecretStr | None)]

    def public_dict(self) -> dict[str, Any]:
        """The settings without secrets (safe to print and to store in plaintext)."""
        return self.model_dump(mode="json", exclude=set(self.secret_fields()))

    def secret_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in self.secret_fields():
            value = getattr(self, name)
            if value is not None:
                out[name] = value.get_secret_value()
        return out


@dataclass(frozen=True)
class CheckResult:
    """Outcome of ``check()``: reachable and authorized, or why not (with a hint).

    A failed check carries ``error``, the connector's own error for the cause (``AuthError`` for a
    token the platform refuses, ``RateLimited``, …) as a sync meets it, so that ``ecfusion sources
    check`` says that error's code and exits with its status; build it with ``failed(error)``.
    """

    ok: bool
    message: str
    hint: str | None = None
    error: EcfusionError | None = None

    @classmethod
    def failed(cls, error: EcfusionError) -> CheckResult:
        return cls(False, error.message, error.hint, error)


@dataclass(frozen=True)
class StreamInfo:
    """One stream a source offers: the entity it lands as, its natural key and its cursor."""

    name: str
    key_field: str | None
    cursor_field: str | None = None
    fields: tuple[str, ...] = ()
    incremental: bool = True
    description: str = ""


@dataclass(frozen=True)
class QuarantinedItem:
    """Something the source delivered that cannot be accepted as a record, kept with its reason."""

    raw_bytes: bytes
    reason: str
    location: str


@dataclass
class Batch:
    """One page of records and the state that holds once they (and all before them) are landed.

    ``record_keys[i]`` is the natural key of ``records[i]`` (tid, orderId, order_sn, ...) or None.
    """

    records: Sequence[Mapping[str, Any]]
    state: State
    record_keys: Sequence[str | None] = ()
    quarantined: Sequence[QuarantinedItem] = ()
    pulled_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def keys(self) -> Sequence[str | None]:
        return self.record_keys or [None] * len(self.records)


@dataclass
class ReadStats:
    """What reading cost, for the run summary and the control plane (counts, not timings)."""

    requests: int = 0
    pages: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    token_refreshes: int = 0
    lag_seconds: float | None = None  # how far the newest covered point is behind the source's clock

    def merge(self, other: ReadStats) -> None:
        self.requests += other.requests
        self.pages += other.pages
        self.retries += other.retries
        self.rate_limit_waits += other.rate_limit_waits
        self.rate_limit_wait_seconds += other.rate_limit_wait_seconds
        self.token_refreshes += other.token_refreshes
        if other.lag_seconds is not None:
            self.lag_seconds = other.lag_seconds


@runtime_checkable
class Connector(Protocol):
    """What every source implements. ``stats`` accumulates over the connector's life."""

    stats: ReadStats

    @property
    def config(self) -> SourceConfig: ...  # read-only: a connector may narrow it to its own config type

    def check(self) -> CheckResult: ...

    def discover(self) -> list[StreamInfo]: ...

    def read(self, stream: str, state: State | None) -> Iterator[Batch]: ...

    def close(self) -> None: ...


ConnectorFactory = Callable[..., Any]  # a Connector class or a function building one


@dataclass(frozen=True)
class ConnectorKind:
    kind: str
    config_model: type[SourceConfig]
    factory: ConnectorFactory


_KINDS: dict[str, ConnectorKind] = {}


def register(kind: str, config_model: type[SourceConfig]) -> Callable[[ConnectorFactory], ConnectorFactory]:
    """Class decorator: make ``kind`` buildable from a config table (``[sources.NAME] kind = ...``)."""

    def deco(factory: ConnectorFactory) -> ConnectorFactory:
        _KINDS[kind] = ConnectorKind(kind, config_model, factory)
        return factory

    return deco


def connector_kind(kind: str) -> ConnectorKind:
    _load_builtin_kinds()
    try:
        return _KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "(none)"
        raise ConfigError(f"unknown source kind '{kind}'", hint=f"use one of: {known}") from None


def known_kinds() -> list[str]:
    _load_builtin_kinds()
    return sorted(_KINDS)


def _load_builtin_kinds() -> None:
    """Import the built-in connector modules so their ``@register`` runs (missing ones are skipped)."""
    import importlib

    modules = (
        "ecfusion.sources.platforms",
        "ecfusion.sources.push",
        "ecfusion.sources.cdc",
        "ecfusion.sources.mq",
        "ecfusion.sources.logs",
    )
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:  # pragma: no cover - a package still being written
            continue
