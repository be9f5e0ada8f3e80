"""``ecfusion mock-platform``: serve a simulated merchant as a platform's open API (tests, demos)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from ecfusion.cli.app import app, console
from ecfusion.mock.faults import FaultPlan


@app.command("mock-platform")
def mock_platform(
    platform: str = typer.Argument(..., help="taobao, jd, pdd or douyin"),
    data: Path = typer.Option(..., "--data", help="simulated merchant folder (`ecfusion demo-data` output)"),
    port: int = typer.Option(8000, "--port"),
    host: str = typer.Option("127.0.0.1", "--host"),
    rate: float = typer.Option(None, "--rate", help="server-side limit, business calls per second"),
    faults: str = typer.Option("", "--faults", help="e.g. rate_limit=0.02,http5xx=0.02,truncate=0.01"),
    seed: int = typer.Option(0, "--seed", help="seed of the fault injection"),
    app_key: str = typer.Option("mock-app", "--app-key"),
    app_secret: str = typer.Option("mock-secret", "--app-secret"),
    token_ttl: float = typer.Option(86400.0, "--token-ttl", help="seconds an access token lives"),
    clock_start: str = typer.Option(
        None, "--clock-start", help="ISO time of the mock clock (default: data end)"
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
    from ecfusion.mock.runner import serve

    console.print(f"mock {platform} on http://{host}:{port} (app_key {app_key}); Ctrl-C stops it")
    serve(
        platform,
        data,
        host=host,
        port=port,
        rate=rate,
        faults=FaultPlan.parse(faults, seed=seed),
        app_key=app_key,
        app_secret=app_secret,
        token_ttl=token_ttl,
        clock_start=datetime.fromisoformat(clock_start) if clock_start else None,
        clock_speed=clock_speed,
        decrypt_quota=decrypt_quota,
        refresh_grace=refresh_grace,
    )


@app.command("mock-fixture")
def mock_fixture(
    out: Path = typer.Argument(..., help="folder to write"),
    orders: int = typer.Option(1000, "--orders", help="orders per platform"),
    days: float = typer.Option(3.0, "--days"),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Write a small platform-shaped merchant folder for the mocks (when no demo-data is at hand)."""
    from ecfusion.mock.fixtures import write_platform_fixture

    write_platform_fixture(out, orders_per_platform=orders, days=days, seed=seed)
    console.print(f"wrote {orders} orders per platform to {out}")
