"""``ecfusion demo``: the main job end to end on a simulated merchant (standard 4.4, first two phases).

Generates a merchant's multi-platform data into a folder OUTSIDE the workspace (it holds plaintext
personal data, as a merchant's own systems do), lands it in the raw zone (encrypting personal
fields), standardizes it into the unified warehouse, resolves members and products, and prints
what landed, what was quarantined and why, the unified figures, and where everything is. The
pipeline (with entity resolution's Splink) is imported when the demo runs, so other commands start
without it (``tests/cli/test_startup.py``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ecfusion.cli.app import ENGINE, app, console
from ecfusion.config import Workspace, without_password

if TYPE_CHECKING:
    from ecfusion.pipeline import DemoResult


def _progress() -> Progress:
    return Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


@app.command()
def demo(
    workspace: Path = typer.Option(Path("ecfusion-demo"), "--workspace", "-w",
                                   help="workspace folder (created)"),
    persons: int = typer.Option(2_000, min=10, help="people in the simulated merchant's customer base"),
    days: int = typer.Option(90, min=1, max=3_650, help="days of history"),
    seed: int = typer.Option(42, help="random seed; the same seed gives the same merchant"),
    sources: Path = typer.Option(None, "--sources", help="where to write the simulated source data "
                                 "(default: a temporary folder outside the workspace, removed afterwards)"),
    engine: str = ENGINE,
) -> None:
    """Generate a simulated merchant, land it, standardize it, resolve it, and print the summary."""
    from ecfusion.pipeline import run_demo

    ws = Workspace.init(workspace)
    keep = sources is not None
    folder = sources.resolve() if keep else Path(tempfile.mkdtemp(prefix="ecfusion-sources-"))
    if folder.is_relative_to(ws.root):
        raise typer.BadParameter("--sources must be outside the workspace: it holds plaintext personal data")
    try:
        with _progress() as bar:
            tasks: dict[str, TaskID] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=max(total, 1))
                bar.update(tasks[stage], completed=done, total=max(total, 1))

            result = run_demo(ws, folder, persons=persons, days=days, seed=seed,
                              engine=engine or ws.config.warehouse.engine, progress=progress)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    _print(result, ws, folder if keep else None)
    if not result.balanced:
        raise typer.Exit(1)


def _print(result: DemoResult, ws: Workspace, kept_sources: Path | None) -> None:
    from ecfusion.cli.ingest import summary_table
    from ecfusion.cli.run import print_summary

    console.rule("landed in the raw zone")
    console.print(summary_table(result.landing, title="offered = landed + duplicates + quarantined"))
    total = result.landing.total
    if total.reasons:
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(total.reasons.items()))
        console.print(f"quarantined by reason: {reasons}")
    console.rule("standardized into the unified warehouse")
    print_summary(result.warehouse)
    if result.resolve is not None:
        r = result.resolve
        console.rule("resolved")
        console.print(f"{r.raw_accounts:,} raw accounts → {r.unified_customers:,} unified customers "
                      f"({r.cross_platform_shoppers:,} shop on more than one platform); "
                      f"{r.listings:,} listings → {r.std_skus:,} standard SKUs; "
                      f"{r.review_queued:,} pairs queued for review")
    console.rule("where it is")
    console.print(f"workspace  {ws.root}\nraw zone   {ws.lake_root / 'raw'}\n"
                  f"quarantine {ws.lake_root / 'quarantine'}\nwarehouse  {ws.warehouse_root}\n"
                  f"control    {without_password(ws.control_url)}")
    if kept_sources is not None:
        console.print(f"sources    {kept_sources} (simulated; truth in {kept_sources / 'truth'})")
    console.print(f"done in {result.seconds:.1f}s")
