"""``ecfusion sources …``, ``ecfusion sync`` and ``ecfusion schedule``: run the collection layer (5.1).

Thin: options are parsed here, everything else is ``ecfusion.sources.workspace.WorkspaceSources``,
imported when a command opens it (its control plane is SQLAlchemy), so the other commands start
without it (``tests/cli/test_startup.py``).
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ecfusion.cli.app import app, console, open_sources
from ecfusion.config import Workspace
from ecfusion.errors import ConfigError, EcfusionError, SourceError
from ecfusion.sources.contract import known_kinds
from ecfusion.sources.sync import StreamReport, SyncReport

if TYPE_CHECKING:
    from ecfusion.sources.workspace import WorkspaceSources

sources_app = typer.Typer(
    help="Configure, check and sync sources (platform APIs and more).", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")

WS_OPTION = typer.Option(Path("."), "--workspace", "-w", envvar="ECFUSION_WORKSPACE", help="workspace folder")


def _open(workspace: Path) -> tuple[Workspace, WorkspaceSources]:
    ws = Workspace.open(workspace)
    return ws, open_sources(ws)


def _parse_setting(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ConfigError(
            f"setting '{text}' is not KEY=VALUE", hint="e.g. -s base_url=https://eco.taobao.com"
        )
    if value.startswith("env:"):
        var = value[4:]
        if var not in os.environ:
            raise ConfigError(
                f"setting {key} reads environment variable {var}, which is not set",
                hint=f"export {var}=... first",
            )
        return key, os.environ[var]
    # A table or a list is JSON; a number or true/false stays the text typed, which the connector's
    # settings model reads by its field's type: app_key=12345678 (Taobao's keys are digits) is a
    # string there, and was refused as a number ("Input should be a valid string")
    try:
        parsed = orjson.loads(value)
        return key, parsed if isinstance(parsed, (dict, list)) else value
    except orjson.JSONDecodeError:
        return key, value


@sources_app.command("kinds")
def kinds() -> None:
    """List the connector kinds this installation knows, each with its settings (* required)."""
    from ecfusion.sources.contract import connector_kind

    table = Table("kind", "settings (* required)")
    for k in known_kinds():
        fields = connector_kind(k).config_model.model_fields.items()
        settings = [n + ("*" if f.is_required() else "") for n, f in fields if n not in ("name", "kind")]
        table.add_row(k, ", ".join(settings))
    console.print(table)


@sources_app.command("add")
def add(
    name: str = typer.Argument(..., help="the source's name, e.g. tmall_flagship"),
    kind: str = typer.Option(..., "--kind", help="connector kind (see `ecfusion sources kinds`)"),
    shop_id: str = typer.Option(None, "--shop-id", help="shop or store id"),
    setting: list[str] = typer.Option(
        [], "--set", "-s", help="KEY=VALUE (JSON values allowed; VALUE env:VAR reads a variable)"
    ),
    workspace: Path = WS_OPTION,
) -> None:
    """Add or replace a source; its secrets are stored encrypted in the control plane."""
    _, sources = _open(workspace)
    settings: dict[str, Any] = {"name": name, "kind": kind, "shop_id": shop_id}
    for text in setting:
        key, value = _parse_setting(text)
        settings[key] = value
    config = sources.add(settings)
    hidden = ", ".join(config.secret_fields()) or "none"
    console.print(f"source {name} ({kind}) saved; secret fields stored encrypted: {hidden}")


@sources_app.command("list")
def list_sources(workspace: Path = WS_OPTION) -> None:
    """The workspace's sources (secrets never shown) and their last run."""
    _, sources = _open(workspace)
    table = Table("name", "kind", "shop", "last run", "outcome")
    for name in sources.names():
        cfg = sources.config(name)
        last = sources.runs.recent(name, limit=1)
        table.add_row(
            name,
            cfg.kind,
            cfg.shop_id or "",
            last[0].started_at.isoformat(timespec="seconds") if last else "never",
            last[0].outcome if last else "",
        )
    console.print(table)


@sources_app.command("authorize")
def authorize(
    name: str,
    code: str = typer.Option(..., "--code", help="authorization code from the shop owner"),
    workspace: Path = WS_OPTION,
) -> None:
    """Exchange the shop's OAuth authorization code for tokens (stored encrypted)."""
    _, sources = _open(workspace)
    connector = sources.connector(name)
    try:
        token = connector.authorize(code)  # type: ignore[attr-defined]
    finally:
        connector.close()
    console.print(f"source {name} authorized; access token valid until {token.expires_at.isoformat()}")


@sources_app.command("check")
def check(name: str, workspace: Path = WS_OPTION) -> None:
    """Connect and prove we are authorized."""
    _, sources = _open(workspace)
    connector = sources.connector(name)
    try:
        result = connector.check()
    finally:
        connector.close()
    if not result.ok:
        # the connector's own error, as a sync meets it: its code and exit status, not ECF000
        error = result.error or SourceError(result.message, hint=result.hint)
        error.message = _naming(name, error.message)
        error.args = (error.message,)
        raise error
    console.print(f"source {name}: ok — {result.message}")


def _naming(name: str, message: str) -> str:
    """``message`` naming source ``name`` once: a connector's errors mostly name their source
    already ("source tb has no OAuth token", "webhook wh has …", "… for source q: …"), as they
    do in a sync; "source tb: source tb …" said it twice."""
    # as a word of its own: not in a path or a URL (/var/log/orders.log for a source "orders")
    if re.search(rf"(?:^|\s){re.escape(name)}(?:$|[\s:,;)])", message):
        return message
    return f"source {name}: {message}"


@sources_app.command("sync")
def sync_one(
    name: str,
    full: bool = typer.Option(False, "--full", help="ignore saved state; re-read all"),
    stream: list[str] = typer.Option([], "--stream", help="only these streams"),
    workspace: Path = WS_OPTION,
) -> None:
    """Sync one source into the raw zone (incremental from its checkpoints unless --full)."""
    ws, sources = _open(workspace)
    reports = _run_syncs(ws, sources, [name], full=full, streams=stream or None, parallel=False)
    _summary(reports)
    _exit_on_failure(reports)


@sources_app.command("runs")
def runs(name: str = typer.Argument(None), limit: int = 20, workspace: Path = WS_OPTION) -> None:
    """Recent sync runs recorded in the control plane."""
    _, sources = _open(workspace)
    table = Table("source", "stream", "started", "outcome", "landed", "requests", "retries", "error")
    for r in sources.runs.recent(name, limit):
        table.add_row(
            r.source,
            r.stream,
            r.started_at.isoformat(timespec="seconds"),
            r.outcome,
            str(r.counts["landed"]),
            str(r.counts["requests"]),
            str(r.counts["retries"]),
            (r.error or "")[:60],
        )
    console.print(table)


@app.command("sync")
def sync_all(
    names: list[str] = typer.Argument(None, help="sources to sync (default with --all: every source)"),
    all_sources: bool = typer.Option(False, "--all", help="sync every configured source"),
    full: bool = typer.Option(False, "--full", help="ignore saved state; re-read all"),
    parallel: bool = typer.Option(True, "--parallel/--sequential", help="sync sources side by side"),
    workspace: Path = WS_OPTION,
) -> None:
    """Sync several sources with progress bars and a summary table."""
    ws, sources = _open(workspace)
    chosen = sources.names() if all_sources else list(names or [])
    if not chosen:
        raise ConfigError("no source to sync", hint="name sources or pass --all")
    reports = _run_syncs(ws, sources, chosen, full=full, streams=None, parallel=parallel)
    _summary(reports)
    _exit_on_failure(reports)


@app.command("schedule")
def schedule(
    every: float = typer.Option(300.0, "--every", help="seconds between the starts of two rounds"),
    iterations: int = typer.Option(0, "--iterations", help="stop after N rounds (0 = until interrupted)"),
    once: bool = typer.Option(False, "--once", help="run one round and stop"),
    workspace: Path = WS_OPTION,
) -> None:
    """Run `sync --all` periodically; every run is recorded in the control plane."""
    ws, sources = _open(workspace)
    rounds = 1 if once else iterations
    done = 0
    while True:
        started = time.monotonic()
        reports = _run_syncs(ws, sources, sources.names(), full=False, streams=None, parallel=True)
        _summary(reports)
        done += 1
        if rounds and done >= rounds:
            return
        time.sleep(max(0.0, every - (time.monotonic() - started)))


def _run_syncs(
    ws: Workspace,
    sources: WorkspaceSources,
    names: list[str],
    *,
    full: bool,
    streams: list[str] | None,
    parallel: bool,
) -> list[SyncReport]:
    from ecfusion.lake import RawLake

    # a name that is no source is said once, before any progress bar starts (a source that is
    # there but misconfigured fails alone, the others still sync)
    known = set(sources.names())
    for name in (n for n in names if n not in known):
        sources.config(name)  # raises "no source named …"
    lake = RawLake.open(ws)
    reports: list[SyncReport] = []
    errors: list[EcfusionError] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        tasks = {n: progress.add_task(n, total=None, detail="starting") for n in names}

        def one(name: str) -> None:
            def on_batch(report: StreamReport, batch: Any) -> None:
                progress.update(
                    tasks[name],
                    detail=f"{report.stream}: {report.pages} pages, cursor {batch.state.get('cursor', '')}",
                )

            try:
                reports.append(sources.sync(name, lake, full=full, streams=streams, on_batch=on_batch))
                progress.update(tasks[name], total=1, completed=1, detail="done")
            except EcfusionError as e:
                errors.append(e)
                progress.update(tasks[name], total=1, completed=1, detail=f"failed: {e.message[:60]}")

        if parallel and len(names) > 1:
            threads = [threading.Thread(target=one, args=(n,), name=f"sync-{n}") for n in names]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        else:
            for n in names:
                one(n)
    if errors and not reports:  # the first is said by main, as every error is
        for e in errors[1:]:
            console.print(e.one_line())
        raise errors[0]
    for e in errors:
        console.print(e.one_line())
    return reports


def _summary(reports: list[SyncReport]) -> None:
    table = Table(
        "source",
        "stream",
        "outcome",
        "records",
        "duplicates",
        "pages",
        "requests",
        "retries",
        "rate-limit waits",
        "quarantined",
        "lag",
    )
    for rep in reports:
        for s in rep.streams:
            lag = f"{s.stats.lag_seconds:.0f}s" if s.stats.lag_seconds is not None else ""
            table.add_row(
                rep.source,
                s.stream,
                s.outcome,
                str(s.landed),
                str(s.duplicates),
                str(s.pages),
                str(s.stats.requests),
                str(s.stats.retries),
                f"{s.stats.rate_limit_waits} ({s.stats.rate_limit_wait_seconds:.1f}s)",
                str(s.quarantined),
                lag,
            )
    console.print(table)
    for rep in reports:
        for s in rep.streams:
            if s.error:
                console.print(f"{rep.source}/{s.stream}: {s.error}")


def _exit_on_failure(reports: list[SyncReport]) -> None:
    failed = [f"{r.source}/{s.stream}" for r in reports for s in r.streams if s.error]
    if failed:
        raise SourceError(
            f"{len(failed)} stream(s) failed: {', '.join(failed)}",
            hint="their checkpoints stay at the last landed batch; run the sync again",
        )
