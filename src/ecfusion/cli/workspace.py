"""``ecfusion init``: create a workspace."""

from __future__ import annotations

from pathlib import Path

import typer

from ecfusion.cli.app import app, console
from ecfusion.config import CONFIG_NAME, Workspace


@app.command()
def init(
    directory: Path = typer.Argument(..., help="folder of the new workspace (created if missing)"),
    name: str = typer.Option(None, help="workspace name (default: the folder's name)"),
) -> None:
    """Create a workspace: a commented ecfusion.toml, lake/, warehouse/ and a master key."""
    ws = Workspace.init(directory, name=name)
    console.print(f"workspace ready at {ws.root} (config: {ws.root / CONFIG_NAME})")
