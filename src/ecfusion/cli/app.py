"""The root Typer app. Each command module in ``ecfusion.cli`` adds its commands to ``app``.

Commands are thin: parse options, call the library, print with rich. A command module never
holds logic a library user would also need. Every command is built on every start (``--help``
lists them all), so a command module imports what brings SQLAlchemy, SQLGlot, Splink or the like
inside the command that uses it: a start pays only for the command run (tests/cli/test_startup.py).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from ecfusion.config import ENGINES, Workspace
from ecfusion.errors import ListenError

if TYPE_CHECKING:
    from ecfusion.lake import RawLake
    from ecfusion.sources.workspace import WorkspaceSources

app = typer.Typer(
    name="ecfusion",
    help="Fuse a merchant's e-commerce data from every platform into one governed, privacy-safe asset.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# What ecfusion prints is data (paths, reasons, notes naming "[warehouse] memory_limit"), never Rich
# markup, which would drop any "[word]" in it; a style is given as a Text
# (tests/warehouse/test_cli_output.py).
console = Console(markup=False)


def open_lake(ws: Workspace) -> RawLake:
    """The workspace's lake, for a command that lands (the landing's control plane is SQLAlchemy)."""
    from ecfusion.lake import RawLake

    return RawLake.open(ws)


def open_sources(ws: Workspace) -> WorkspaceSources:
    """The workspace's configured sources (their control plane is SQLAlchemy)."""
    from ecfusion.sources.workspace import WorkspaceSources

    return WorkspaceSources.open(ws)


def _engine_name(value: str) -> str:
    name = value.strip().lower()
    if name and name not in ENGINES:
        raise typer.BadParameter(f"{value!r} is not an engine: use {' or '.join(ENGINES)}")
    return name


# every command that runs set-based stages; "" = the workspace's ``[warehouse] engine``
ENGINE = typer.Option(
    "", "--engine", callback=_engine_name, help="duckdb or spark (default: [warehouse] engine)"
)

# every command that writes a warehouse snapshot (warehouse/snapshot.py: one writer at a time)
WAIT_FOR_WRITER = typer.Option(
    0.0, "--wait", min=0, help="seconds to wait for another writer of the warehouse (default: fail at once)"
)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for a server command (uvicorn serves on it): a port another
    process holds, or a host that is not this machine's, is one line here, not uvicorn's log line
    and its exit code 3."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ListenError(
            f"cannot listen on {host}:{port}: {e.strerror or e}",
            hint="pick another --port or stop what listens there; or a --host of this machine",
        ) from e
    return sock


@app.callback()
def _root() -> None:
    """ecfusion: collect, land, standardize, resolve and serve e-commerce data (T/JNBDA 0003-2025)."""
