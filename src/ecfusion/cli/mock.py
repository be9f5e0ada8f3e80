"""``ecfusion mock-platform``: serve a simulated merchant as a platform's open API (tests, demos)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from ecfusion.cli.app import app, console, listening_socket
from ecfusion.mock.faults import FaultPlan


def _iso_time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError as e:
        raise typer.BadParameter(f"{value!r} is not an ISO time, e.g. 2026-09-01T08:00:00+08:00") from e


@app.command("mock-platform")
def mock_platform(
    platform: str = typer.Argument(..., help="taobao, jd, pdd or douyin"),
    data: Path = typer.Option(..., "--data", help="simulated merchant folder (`ecfusion demo-data` output)"),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    host: str = typer.Option("127.0.0.1", "--host"),
    rate: float = typer.Option(None, "--rate", help="server-side limit, business calls per second"),
    faults: str = typer.Option("", "--faults", help="e.g. rate_limit=0.02,http5xx=0.02,truncate=0.01"),
    seed: int = typer.Option(0, "--seed", help="seed of the fault injection"),
    app_key: str = typer.Option("mock-app", "--app-key"),
    app_secret: str = typer.Option("mock-secret", "--app-secret"),
    token_ttl: float = typer.Option(86400.0, "--token-ttl", help="seconds an access token lives"),
    clock_start: datetime = typer.Option(
        None,
        "--clock-start",
        parser=_iso_time,
        help="ISO time of the mock clock (default: data end)",
    ),
    clock_speed: float = typer.Option(0.0, "--clock-speed", help="simulated seconds per real second"),
    decrypt_quota: int = typer.Option(
        None, "--decrypt-quota", help="items the decrypt API opens before answering 'quota spent'"
    ),
    refresh_grace: float = typer.Option(
        None,
        "--refresh-grace",
        help="seconds a rotated refresh token is still honoured (default: Douyin 3600, others 0 ⚠)",
    ),
) -> None:
    """Serve PLATFORM's open API over HTTP from a simulated merchant folder, until interrupted."""
    import uvicorn

    from ecfusion.mock.runner import build
    from ecfusion.mock.server import uvicorn_config

    # built, then bound, then said: a platform, a folder or a port that will not do is the only line
    served, _ = build(
        platform,
        data,
        rate=rate,
        faults=FaultPlan.parse(faults, seed=seed),
        app_key=app_key,
        app_secret=app_secret,
        token_ttl=token_ttl,
        clock_start=clock_start,
        clock_speed=clock_speed,
        decrypt_quota=decrypt_quota,
        refresh_grace=refresh_grace,
    )
    sock = listening_socket(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"  # --port 0: the free port the system gave
    console.print(f"mock {platform} on {url} (app_key {app_key}); Ctrl-C stops it")
    uvicorn.Server(uvicorn_config(served, host, port)).run(sockets=[sock])


@app.command("mock-fixture")
def mock_fixture(
    out: Path = typer.Argument(..., help="folder to write"),
    orders: int = typer.Option(1000, "--orders", min=0, help="orders per platform"),
    days: float = typer.Option(3.0, "--days"),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Write a small platform-shaped merchant folder for the mocks (when no demo-data is at hand)."""
    from ecfusion.mock.fixtures import write_platform_fixture

    write_platform_fixture(out, orders_per_platform=orders, days=days, seed=seed)
    console.print(f"wrote {orders} orders per platform to {out}")
