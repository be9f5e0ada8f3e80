"""``ecfusion ingest files|db|manifest``: land file, database and simulated-merchant sources into the
raw zone (standard 4.3.4, 4.3.5 a). Thin: parse options, call ``ecfusion.lake``, print the summary.
The landing (its control plane is SQLAlchemy) is imported inside each command, so the other
commands start without it (``tests/cli/test_startup.py``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from ecfusion.cli.app import app, console, open_lake
from ecfusion.config import Workspace
from ecfusion.errors import InputError
from ecfusion.lake.encoding import DECLARABLE
from ecfusion.lake.readers import FORMATS
from ecfusion.lake.result import LandingSummary
from ecfusion.standardize.targets import RAW_ENTITIES, unread_entity_hint

ingest_app = typer.Typer(
    help="Land sources into the raw zone of the lake (append-only, idempotent, resumable).",
    no_args_is_help=True,
)
app.add_typer(ingest_app, name="ingest")

_WORKSPACE = typer.Option(Path("."), "--workspace", "-w", help="workspace folder (made by `ecfusion init`)")


def summary_table(summary: LandingSummary, title: str = "landed") -> Table:
    """Per source/entity: offered, landed, duplicates, quarantined by reason, and the reconciliation."""
    t = Table(title=title)
    for col in ("source", "entity", "offered", "landed", "duplicates", "quarantined"):
        t.add_column(col, justify="left" if col in ("source", "entity") else "right", no_wrap=True)
    t.add_column("reasons", overflow="fold", min_width=12)
    rows = sorted(summary.results.items())
    for (source, entity), r in rows:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(r.reasons.items())) or "-"
        t.add_row(
            source,
            entity,
            f"{r.offered:,}",
            f"{r.landed:,}",
            f"{r.duplicates:,}",
            f"{r.quarantined:,}",
            reasons,
        )
    if len(rows) > 1:
        tot = summary.total
        t.add_row(
            "total",
            "",
            f"{tot.offered:,}",
            f"{tot.landed:,}",
            f"{tot.duplicates:,}",
            f"{tot.quarantined:,}",
            "",
        )
    bad = [f"{s}/{e}" for (s, e), r in rows if not r.reconciled]
    t.caption = (
        "reconciled: offered = landed + duplicates + quarantined"
        if not bad
        else f"NOT reconciled: {', '.join(bad)}"
    )
    return t


def _print_summary(summary: LandingSummary, ws: Workspace) -> None:
    console.print(summary_table(summary))
    for entity in sorted({e for _, e in summary.results} - set(RAW_ENTITIES)):
        console.print(
            f"warning: entity '{entity}' is not one `ecfusion run` reads, so its records will wait as "
            f"pending: {unread_entity_hint(entity)}",
            highlight=False,
        )
    if summary.skipped_files:
        console.print(f"{len(summary.skipped_files)} file(s) already landed, skipped")
    console.print(f"raw zone: {ws.lake_root / 'raw'}   quarantine: {ws.lake_root / 'quarantine'}")


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise InputError(f"{option} {value!r} is not supported", hint=f"use one of: {', '.join(allowed)}")
    return value


@ingest_app.command("files")
def files_command(
    source: str = typer.Argument(..., help="source name, e.g. pos or taobao_flagship"),
    paths: list[Path] = typer.Argument(..., help="files or folders (searched for known formats)"),  # noqa: B008
    entity: str = typer.Option(None, help="entity (default: each file's folder name, e.g. orders)"),
    platform: str = typer.Option(None, help="platform / system kind (default: the source name)"),
    shop: str = typer.Option(None, help="shop or store id"),
    fmt: str = typer.Option("auto", "--format", help="auto|" + "|".join(FORMATS)),
    encoding: str = typer.Option("auto", help="|".join(DECLARABLE)),
    workspace: Path = _WORKSPACE,
) -> None:
    """Land CSV, Excel, JSON, JSONL and XML files. Re-running skips what landed and resumes what was cut."""
    from ecfusion.lake.files import ingest_files

    _choice(fmt, ("auto", *FORMATS), "--format")
    _choice(encoding, DECLARABLE, "--encoding")
    ws = Workspace.open(workspace)
    with (
        open_lake(ws) as lake,
        Progress(
            TextColumn("{task.description}", markup=False),  # a file's name
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        tasks: dict[str, TaskID] = {}

        def progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(Path(label).name, total=total)
            bar.update(tasks[label], completed=done)

        summary = ingest_files(
            lake,
            source,
            paths,
            entity=entity,
            platform=platform,
            shop_id=shop,
            fmt=fmt,
            encoding=encoding,
            progress=progress,
        )
    _print_summary(summary, ws)


@ingest_app.command("db")
def db_command(
    source: str = typer.Argument(..., help="source name, e.g. crm"),
    url: str = typer.Argument(
        ..., help="SQLAlchemy URL: sqlite:///crm.sqlite, postgresql+psycopg://…, mysql+pymysql://…"
    ),
    table: str = typer.Option(..., "--table", help="table to land"),
    key: str = typer.Option(None, "--key", help="column to page and resume by (default: the primary key)"),
    entity: str = typer.Option(None, help="entity (default: the table's name)"),
    platform: str = typer.Option(None, help="platform / system kind (default: the source name)"),
    shop: str = typer.Option(None, help="shop or store id"),
    workspace: Path = _WORKSPACE,
) -> None:
    """Land a database table as a resumable keyed snapshot."""
    from ecfusion.lake.tables import ingest_table

    ws = Workspace.open(workspace)
    with open_lake(ws) as lake:
        result = ingest_table(
            lake, source, url, table, key=key, entity=entity, platform=platform, shop_id=shop
        )
    summary = LandingSummary()
    summary.add(source, entity or table, result)
    _print_summary(summary, ws)


@ingest_app.command("manifest")
def manifest_command(
    folder: Path = typer.Argument(..., help="a simulated merchant's folder (with manifest.json)"),  # noqa: B008
    workspace: Path = _WORKSPACE,
) -> None:
    """Land every file a simulated merchant's manifest.json lists (files and SQLite databases)."""
    from ecfusion.lake.manifest import ingest_manifest

    ws = Workspace.open(workspace)
    with open_lake(ws) as lake, console.status("landing") as status:
        summary = ingest_manifest(lake, folder, on_group=lambda s, e: status.update(f"landing {s}/{e}"))
    _print_summary(summary, ws)
