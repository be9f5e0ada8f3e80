"""Control-plane tables of the collection layer (4.3.4, 5.1; 7.4 for secrets at rest).

* ``ecf_source`` — configured sources: public settings as JSON, secret settings sealed one by one
  (``SecretBox``, AES-256-GCM bound to source and field);
* ``ecf_oauth_token`` — each shop's OAuth access/refresh tokens, sealed, with their expiry;
* ``ecf_sync_run`` — every sync run of every stream: outcome, counts and costs;
* ``ecf_source_audit`` — audited actions (authorization, decrypt calls) with who/what/when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import DateTime, Engine, Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecfusion.control.db import Base
from ecfusion.errors import ConfigError
from ecfusion.sources.oauth import Token
from ecfusion.sources.secrets import SecretBox


class SourceRow(Base):
    __tablename__ = "ecf_source"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    settings_json: Mapped[str] = mapped_column(Text)
    secrets_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OAuthTokenRow(Base):
    __tablename__ = "ecf_oauth_token"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refresh_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    scope: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SyncRunRow(Base):
    __tablename__ = "ecf_sync_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    stream: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))
    offered: Mapped[int] = mapped_column(Integer, default=0)
    landed: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    rate_limit_waits: Mapped[int] = mapped_column(Integer, default=0)
    rate_limit_wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    token_refreshes: Mapped[int] = mapped_column(Integer, default=0)
    lag_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    state_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class SourceAuditRow(Base):
    __tablename__ = "ecf_source_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail_json: Mapped[str] = mapped_column(Text)


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(t: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they were stored as UTC.
    return None if t is None else (t if t.tzinfo else t.replace(tzinfo=UTC))


class SourceStore:
    """Configured sources: settings in the clear, secrets sealed field by field."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self.engine, self.box = engine, box

    def save(self, name: str, kind: str, settings: dict[str, Any], secrets: dict[str, str]) -> None:
        sealed = {k: self.box.seal(v, f"source:{name}/{k}") for k, v in secrets.items()}
        with Session(self.engine) as s, s.begin():
            row = s.get(SourceRow, name) or SourceRow(name=name)
            row.kind, row.settings_json = kind, orjson.dumps(settings).decode()
            row.secrets_json, row.updated_at = orjson.dumps(sealed).decode(), _now()
            s.add(row)

    def load(self, name: str) -> tuple[str, dict[str, Any]] | None:
        """(kind, settings with secrets opened) or None."""
        with Session(self.engine) as s:
            row = s.get(SourceRow, name)
            if row is None:
                return None
            settings = orjson.loads(row.settings_json)
            for k, v in orjson.loads(row.secrets_json).items():
                settings[k] = self.box.open(v, f"source:{name}/{k}")
            return row.kind, settings

    def names(self) -> list[str]:
        with Session(self.engine) as s:
            return list(s.scalars(select(SourceRow.name).order_by(SourceRow.name)))

    def delete(self, name: str) -> bool:
        with Session(self.engine) as s, s.begin():
            row = s.get(SourceRow, name)
            if row is None:
                return False
            s.delete(row)
            return True


class SealedTokenStore:
    """``TokenStore`` backed by ``ecf_oauth_token``; tokens sealed, bound to their source."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self.engine, self.box = engine, box

    def load(self, source: str) -> Token | None:
        with Session(self.engine) as s:
            row = s.get(OAuthTokenRow, source)
            if row is None:
                return None
            refresh = (
                self.box.open(row.refresh_token, f"token:{source}/refresh") if row.refresh_token else None
            )
            return Token(
                self.box.open(row.access_token, f"token:{source}/access"),
                refresh,
                _utc(row.expires_at) or _now(),
                _utc(row.refresh_expires_at),
                row.scope,
            )

    def save(self, source: str, token: Token) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.get(OAuthTokenRow, source) or OAuthTokenRow(source=source)
            row.access_token = self.box.seal(token.access_token, f"token:{source}/access")
            row.refresh_token = (
                self.box.seal(token.refresh_token, f"token:{source}/refresh") if token.refresh_token else None
            )
            row.expires_at, row.refresh_expires_at = token.expires_at, token.refresh_expires_at
            row.scope, row.updated_at = token.scope, _now()
            s.add(row)


@dataclass
class SyncRunRecord:
    source: str
    stream: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    counts: dict[str, Any]
    error: str | None = None
    state: dict[str, Any] | None = None


class SyncRunLog:
    """Every sync run, one row per stream, with its outcome (``ecfusion sources runs``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, source: str, stream: str) -> int:
        """Record a run's start; runs of this stream still "running" were killed: mark them so."""
        with Session(self.engine) as s, s.begin():
            stale = select(SyncRunRow).where(SyncRunRow.source == source, SyncRunRow.stream == stream,
                                             SyncRunRow.outcome == "running")
            for old in s.scalars(stale):
                old.outcome, old.error = "interrupted", "the process ended before the run finished"
            row = SyncRunRow(source=source, stream=stream, started_at=_now(), outcome="running")
            s.add(row)
            s.flush()
            return int(row.id)

    def finish(
        self,
        run_id: int,
        outcome: str,
        counts: dict[str, Any],
        *,
        error: str | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.get(SyncRunRow, run_id)
            if row is None:
                raise ConfigError(f"sync run {run_id} is not recorded")
            for k, v in counts.items():
                setattr(row, k, v)
            row.outcome, row.error, row.ended_at = outcome, error, _now()
            row.state_json = orjson.dumps(state).decode() if state is not None else None

    def recent(self, source: str | None = None, limit: int = 20) -> list[SyncRunRecord]:
        with Session(self.engine) as s:
            q = select(SyncRunRow).order_by(SyncRunRow.id.desc()).limit(limit)
            if source:
                q = q.where(SyncRunRow.source == source)
            return [
                SyncRunRecord(
                    r.source,
                    r.stream,
                    _utc(r.started_at) or _now(),
                    _utc(r.ended_at),
                    r.outcome,
                    {c: getattr(r, c) for c in COUNT_COLUMNS},
                    r.error,
                    orjson.loads(r.state_json) if r.state_json else None,
                )
                for r in s.scalars(q)
            ]


COUNT_COLUMNS = (
    "offered",
    "landed",
    "duplicates",
    "quarantined",
    "pages",
    "requests",
    "retries",
    "rate_limit_waits",
    "rate_limit_wait_seconds",
    "token_refreshes",
    "lag_seconds",
)


class SourceAuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, action: str, detail: dict[str, Any]) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(
                SourceAuditRow(
                    at=_now(),
                    action=action,
                    source=detail.get("source"),
                    detail_json=orjson.dumps(detail, default=str).decode(),
                )
            )

    def count(self, action: str) -> int:
        with Session(self.engine) as s:
            return len(list(s.scalars(select(SourceAuditRow.id).where(SourceAuditRow.action == action))))
