"""``ecfusion demo-data``: write a simulated merchant (issue 2, Build §3; docs/dev/contracts.md §1)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ecfusion.cli.app import app, console
from ecfusion.errors import InputError


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as e:
        raise InputError(f"--start-date {text!r} is not a date", hint="write it as YYYY-MM-DD") from e


@app.command("demo-data")
def demo_data(
    out: Annotated[
        Path, typer.Option("--out", help="folder to write (a previous demo-data one is replaced)")
    ],
    persons: int = typer.Option(1000, help="number of distinct people behind the accounts"),
    days: int = typer.Option(90, help="number of days of activity"),
    seed: int = typer.Option(42, help="random seed: the same seed writes byte-identical files"),
    orders: int = typer.Option(
        None, help="exact number of online orders (default: derived from persons x days)"
    ),
    defect_rate: float = typer.Option(
        None, "--defect-rate", help="share of records given a defect (default 0.0075)"
    ),
    start_date: str = typer.Option(None, "--start-date", help="first day, YYYY-MM-DD (default 2025-01-01)"),
) -> None:
    """Generate a deterministic simulated cosmetics brand: four platforms, stores, CRM, logs and truth."""
    from ecfusion.simulate import DefectRates, generate

    rates = DefectRates.scaled_to(defect_rate) if defect_rate is not None else None
    start = _parse_date(start_date)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        manifest = generate(
            out,
            persons=persons,
            days=days,
            seed=seed,
            orders=orders,
            defects=rates,
            start_date=start,
            progress=report,
        )
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    console.print(
        f"simulated merchant {manifest.brand}: {manifest.orders:,} orders, {persons:,} persons, "
        f"{manifest.start_date}..{manifest.end_date}, {len(manifest.files)} files, "
        f"{size / 1e6:,.1f} MB in {out}"
    )
    for platform in ("taobao", "jd", "pdd", "douyin"):
        console.print(
            f"  {platform:<7} order versions {manifest.records(platform=platform, entity='orders'):>10,}"
            f"  refunds {manifest.records(platform=platform, entity='refunds'):>8,}"
        )
    console.print(f"  truth in {out / 'truth'} (the pipeline never reads it)")
