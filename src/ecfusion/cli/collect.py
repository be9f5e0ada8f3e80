"""``ecfusion webhook serve``, ``cdc run``, ``mq consume``, ``logs tail``: the long-running collectors (5.1).

Thin: each command finds its source in the workspace (``WorkspaceSources``), opens the lake and
calls the library. SIGTERM/SIGINT stop a collector after the batch in hand is landed. The lake
and the sources' control plane (SQLAlchemy) are imported when a command opens them, so the other
commands start without them (``tests/cli/test_startup.py``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from ecfusion.cli.app import app, console, listening_socket, open_lake, open_sources
from ecfusion.config import Workspace
from ecfusion.errors import ConfigError
from ecfusion.sources.contract import SourceConfig
from ecfusion.sources.sync import StreamReport

webhook_app = typer.Typer(help="Receive platform push messages (webhooks).", no_args_is_help=True)
cdc_app = typer.Typer(help="Change data capture from MariaDB/MySQL and PostgreSQL.", no_args_is_help=True)
mq_app = typer.Typer(
    help="Consume order events from a message bus (NATS JetStream or RabbitMQ).", no_args_is_help=True
)
logs_app = typer.Typer(help="Tail JSONL and nginx access logs.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")
app.add_typer(cdc_app, name="cdc")
app.add_typer(mq_app, name="mq")
app.add_typer(logs_app, name="logs")

SOURCES = typer.Option(None, "--source", "-s", help="webhook sources to serve (default: all)")
WS = typer.Option(Path("."), "--workspace", "-w", envvar="ECFUSION_WORKSPACE", help="workspace folder")


def _source(workspace: Path, name: str, kinds: tuple[str, ...]) -> tuple[Workspace, SourceConfig]:
    ws = Workspace.open(workspace)
    cfg = open_sources(ws).config(name)
    if cfg.kind not in kinds:
        raise ConfigError(
            f"source {name} is of kind '{cfg.kind}', this command runs {' or '.join(kinds)}",
            hint="pick a source of that kind (`ecfusion sources list`)",
        )
    return ws, cfg


def _on_stop(stop: Callable[[], None]) -> None:
    def handler(_signum: int, _frame: Any) -> None:
        console.print("stopping after the batch in hand is landed…")
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _summary(report: StreamReport) -> None:
    console.print(
        f"{report.source}/{report.stream}: offered {report.offered}, landed {report.landed}, "
        f"duplicates {report.duplicates}, quarantined {report.quarantined}, batches {report.pages}"
    )


@webhook_app.command("serve")
def webhook_serve(
    workspace: Path = WS,
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8088, min=0, max=65535, help="port to listen on"),
    source: list[str] = SOURCES,
) -> None:
    """Serve POST /webhook/SOURCE for the workspace's webhook sources: verify, land, then acknowledge."""
    import uvicorn

    from ecfusion.sources.push import WebhookSourceConfig, create_app

    ws = Workspace.open(workspace)
    sources = open_sources(ws)
    names = source or sources.names()
    configs = [c for c in (sources.config(n) for n in names) if isinstance(c, WebhookSourceConfig)]
    if not configs:
        raise ConfigError(
            "no webhook sources configured",
            hint='add one: [sources.NAME] kind = "webhook", platform = "douyin", app_secret_env = …',
        )
    served = create_app(open_lake(ws), configs)
    sock = listening_socket(host, port)
    receiving = ", ".join(c.name for c in configs)
    console.print(f"receiving {receiving} on http://{host}:{sock.getsockname()[1]}/webhook/<source>")
    uvicorn.Server(uvicorn.Config(served, host=host, port=port, log_level="warning")).run(sockets=[sock])


@cdc_app.command("run")
def cdc_run(
    name: str = typer.Argument(..., help="a mysql_cdc or postgres_cdc source"),
    workspace: Path = WS,
    full: bool = typer.Option(False, "--full", help="forget the position and snapshot again"),
    once: bool = typer.Option(False, "--once", help="stop when caught up (after 2 s without changes)"),
) -> None:
    """Snapshot (resuming a crashed one), then stream changes until stopped."""
    from ecfusion.sources.cdc import MySqlCdcConnector, PostgresCdcConnector, run_cdc

    ws, cfg = _source(workspace, name, ("mysql_cdc", "postgres_cdc"))
    if once:
        cfg = cfg.model_copy(update={"idle_stop_seconds": 2.0})
    connector = MySqlCdcConnector(cfg) if cfg.kind == "mysql_cdc" else PostgresCdcConnector(cfg)  # type: ignore[arg-type]
    _on_stop(connector.stop)
    try:
        _summary(run_cdc(connector, open_lake(ws), full=full))
    finally:
        connector.close()


@mq_app.command("consume")
def mq_consume(
    name: str = typer.Argument(..., help="an mq source"),
    workspace: Path = WS,
    once: bool = typer.Option(False, "--once", help="stop when the subscription is drained"),
    bus: str | None = typer.Option(None, "--bus", help="override the source's broker: nats | rabbitmq"),
    url: str | None = typer.Option(None, "--url", help="override the source's broker address"),
) -> None:
    """Consume until stopped; every batch is acknowledged only after it is durable in the lake."""
    from ecfusion.sources.mq import MqConnector, consume

    ws, cfg = _source(workspace, name, ("mq",))
    overrides: dict[str, Any] = {"idle_stop_seconds": 2.0} if once else {}
    if bus is not None:  # a new broker without a new address means that broker's default address
        overrides |= {"bus": bus, "url": url or ""}
    elif url is not None:
        overrides["url"] = url
    if overrides:  # validated again, so a bad --bus is one clear line
        cfg = open_sources(ws).validate(cfg.model_dump() | overrides, origin="--bus/--url")
    connector = MqConnector(cfg)  # type: ignore[arg-type]
    _on_stop(connector.stop)
    try:
        _summary(consume(connector, open_lake(ws)))
    finally:
        connector.close()


@logs_app.command("tail")
def logs_tail(
    name: str = typer.Argument(..., help="a logs source"),
    workspace: Path = WS,
    follow: bool = typer.Option(
        False, "--follow", "-f", help="keep tailing (poll with back-off) until stopped"
    ),
) -> None:
    """Land the log's new complete lines (following rotation); with --follow, keep going."""
    from ecfusion.sources.logs import LogConnector
    from ecfusion.sources.logs.tail import follow as follow_log

    ws, cfg = _source(workspace, name, ("logs",))
    connector = LogConnector(cfg)  # type: ignore[arg-type]
    stop = threading.Event()
    _on_stop(stop.set)
    report = follow_log(connector, open_lake(ws), stop, once=not follow)
    _summary(report)
    for warning in connector.warnings:
        console.print(f"warning: {warning}")
