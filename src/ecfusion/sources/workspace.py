"""A workspace's configured sources, wired to the control plane (4.3.4, 5.1; secrets 7.4).

Sources come from two places: ``ecfusion sources add`` (stored in the control plane, secrets
sealed) and ``[sources.NAME]`` tables in ecfusion.toml, where a secret is never written in the
clear but named by an environment variable (``app_secret_env = "TMALL_SECRET"``). ``WorkspaceSources``
builds connectors with the sealed token store and the audit log, and runs syncs that are recorded,
stream by stream, in ``ecf_sync_run``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecfusion.config import CONFIG_NAME, Workspace
from ecfusion.control.db import connect
from ecfusion.control.sources import (
    SealedTokenStore,
    SourceAuditLog,
    SourceAuditRow,
    SourceStore,
    SyncRunLog,
)
from ecfusion.errors import ConfigError
from ecfusion.sources.context import SourceContext
from ecfusion.sources.contract import Connector, ConnectorKind, SourceConfig, connector_kind
from ecfusion.sources.decrypt import AUDIT_ACTION as DECRYPT_AUDIT_ACTION
from ecfusion.sources.decrypt import BEIJING
from ecfusion.sources.oauth import RefreshIntent
from ecfusion.sources.secrets import SecretBox
from ecfusion.sources.sync import BatchCallback, Lake, SyncReport, sync


@dataclass
class WorkspaceSources:
    workspace: Workspace
    store: SourceStore
    tokens: SealedTokenStore
    runs: SyncRunLog
    audit: SourceAuditLog

    @classmethod
    def open(cls, workspace: Workspace) -> WorkspaceSources:
        engine = connect(workspace.control_url)
        box = SecretBox.from_master_key(workspace.master_key())
        return cls(
            workspace,
            SourceStore(engine, box),
            SealedTokenStore(engine, box),
            SyncRunLog(engine),
            SourceAuditLog(engine),
        )

    def context(self) -> SourceContext:
        return SourceContext(
            tokens=self.tokens,
            audit=self.audit,
            decrypt_usage=self.decrypt_usage,
            refresh_journal=AuditRefreshJournal(self.audit),
        )

    def decrypt_usage(self, source: str, day: str) -> int:
        """Records decrypted for ``source`` on Beijing ``day``, summed from the audit trail."""
        since = datetime.fromisoformat(day).replace(tzinfo=BEIJING).astimezone(UTC)
        with Session(self.audit.engine) as s:
            rows = s.scalars(
                select(SourceAuditRow.detail_json).where(
                    SourceAuditRow.action == DECRYPT_AUDIT_ACTION,
                    SourceAuditRow.source == source,
                    SourceAuditRow.at >= since - timedelta(days=1),  # coarse; the day decides
                )
            )
            details = [orjson.loads(d) for d in rows]
        return sum(int(d.get("records") or 0) for d in details if d.get("day") == day)

    # -- configuration ---------------------------------------------------------------------------

    def add(self, settings: dict[str, Any]) -> SourceConfig:
        """Validate and store a source; secret fields are sealed."""
        config = self.validate(settings, origin="ecfusion sources add")
        self.store.save(config.name, config.kind, config.public_dict(), config.secret_dict())
        self.audit("sources.add", {"source": config.name, "kind": config.kind})
        return config

    def names(self) -> list[str]:
        from_toml = list(self.workspace.config.sources)
        return sorted(set(self.store.names()) | set(from_toml))

    def config(self, name: str) -> SourceConfig:
        stored = self.store.load(name)
        if stored is not None:
            kind, settings = stored
            return self.validate({**settings, "name": name, "kind": kind}, origin="control plane")
        table = self.workspace.config.sources.get(name)
        if table is None:
            raise ConfigError(
                f"no source named '{name}'",
                hint="list them with `ecfusion sources list`; add one with `ecfusion sources add`",
            )
        return self.validate(
            _resolve_env_secrets(name, dict(table)), origin=str(self.workspace.root / CONFIG_NAME)
        )

    def validate(self, settings: dict[str, Any], *, origin: str) -> SourceConfig:
        kind = _kind_of(settings.get("kind"), f"{origin}: source '{settings.get('name')}'")
        try:
            return kind.config_model.model_validate(settings)
        except ValidationError as e:
            first = e.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            said = first["msg"].removeprefix("Value error, ")  # a validator's own words, as written
            raise ConfigError(
                f"{origin}: source '{settings.get('name')}' key '{key}' is invalid ({said})",
                hint=f"see the {kind.kind} connector's settings: `ecfusion sources kinds`",
            ) from e

    def connector(self, name: str) -> Connector:
        config = self.config(name)
        return connector_kind(config.kind).factory(config, context=self.context())

    # -- running ---------------------------------------------------------------------------------

    def sync(
        self,
        name: str,
        lake: Lake,
        *,
        full: bool = False,
        streams: list[str] | None = None,
        on_batch: BatchCallback | None = None,
        on_connector: Callable[[Connector], None] | None = None,
    ) -> SyncReport:
        """Sync one source; each stream's run is recorded with its outcome, even when it fails."""
        connector = self.connector(name)
        if on_connector is not None:
            on_connector(connector)
        try:
            names = streams or [s.name for s in connector.discover()]
            report: SyncReport | None = None
            for stream in names:
                run_id = self.runs.start(name, stream)
                part = sync(connector, lake, streams=[stream], full=full, on_batch=on_batch)
                s = part.streams[0]
                self.runs.finish(run_id, s.outcome, _counts(s), error=s.error, state=s.state)
                if report is None:
                    report = part
                else:
                    report.streams.extend(part.streams)
                    report.ended_at = part.ended_at
            assert report is not None or not names
            return report or SyncReport(source=name, started_at=datetime.now(UTC))
        finally:
            connector.close()


def _counts(s: Any) -> dict[str, Any]:
    st = s.stats
    return {
        "offered": s.offered,
        "landed": s.landed,
        "duplicates": s.duplicates,
        "quarantined": s.quarantined,
        "pages": s.pages,
        "requests": st.requests,
        "retries": st.retries,
        "rate_limit_waits": st.rate_limit_waits,
        "rate_limit_wait_seconds": st.rate_limit_wait_seconds,
        "token_refreshes": st.token_refreshes,
        "lag_seconds": st.lag_seconds,
    }


def _kind_of(kind: object, where: str) -> ConnectorKind:
    """The connector kind a source's settings name, or an error saying ``where`` the source is set."""
    try:
        return connector_kind(str(kind or ""))
    except ConfigError as e:
        said = f"has an {e.message}" if kind else "has no kind (kind = ...)"
        raise ConfigError(f"{where} {said}", hint=e.hint) from e


def _resolve_env_secrets(name: str, table: dict[str, Any]) -> dict[str, Any]:
    """``app_secret_env = "VAR"`` → ``app_secret`` from the environment; plaintext secrets are refused."""
    table["name"] = name
    kind = _kind_of(table.get("kind"), f"{CONFIG_NAME}: [sources.{name}]")
    for field in kind.config_model.secret_fields():
        if field in table:
            raise ConfigError(
                f"{CONFIG_NAME}: [sources.{name}] holds '{field}' in plaintext",
                hint=f'use {field}_env = "VARIABLE" or `ecfusion sources add` (stored encrypted)',
            )
        var = table.pop(f"{field}_env", None)
        if var is not None:
            value = os.environ.get(str(var))
            if value is None:
                raise ConfigError(
                    f"[sources.{name}] {field}_env names {var}, which is not set",
                    hint=f"export {var}=... before running",
                )
            table[field] = value
    return table


class AuditRefreshJournal:
    """``RefreshJournal`` on the audit trail: each refresh leaves a ``begin`` and a ``done`` entry.

    Entries carry refresh-token fingerprints only. Each is committed before the call returns, so a
    ``begin`` survives a kill that follows it (``ecfusion.sources.oauth`` explains the recovery).
    """

    ACTION = "sources.token_refresh"

    def __init__(self, audit: SourceAuditLog) -> None:
        self.audit = audit

    def begin(self, source: str, old: str) -> None:
        self.audit(self.ACTION, {"source": source, "phase": "begin", "old": old})

    def done(self, source: str, old: str, new: str) -> None:
        self.audit(self.ACTION, {"source": source, "phase": "done", "old": old, "new": new})

    def pending(self, source: str) -> RefreshIntent | None:
        with Session(self.audit.engine) as s:
            row = s.execute(
                select(SourceAuditRow.at, SourceAuditRow.detail_json)
                .where(SourceAuditRow.action == self.ACTION, SourceAuditRow.source == source)
                .order_by(SourceAuditRow.id.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        detail = orjson.loads(row.detail_json)
        if detail.get("phase") != "begin":
            return None
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        return RefreshIntent(str(detail.get("old")), at)
