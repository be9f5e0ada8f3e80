"""Build a mock platform by name (``ecfusion mock-platform`` serves it), or start one in a thread
(tests, benchmarks)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from ecfusion.errors import ConfigError, InputError
from ecfusion.mock.server import MockSettings, MockState, RunningMock, start_in_thread

PLATFORMS = ("taobao", "jd", "pdd", "douyin")


def build(platform: str, data_dir: Path, **settings: Any) -> tuple[FastAPI, MockState]:
    if platform not in PLATFORMS:
        raise ConfigError(f"unknown mock platform '{platform}'", hint=f"use one of: {', '.join(PLATFORMS)}")
    if not (Path(data_dir) / "platforms" / platform).is_dir():
        raise InputError(
            f"{data_dir} has no platforms/{platform}/ folder",
            hint="point --data at `ecfusion demo-data` output (contracts §1)",
        )
    module = importlib.import_module(f"ecfusion.mock.{platform}")
    state = module.load(MockSettings(platform=platform, data_dir=Path(data_dir), **settings))
    return module.create_app(state), state


def start(platform: str, data_dir: Path, **settings: Any) -> RunningMock:
    """A mock on a free loopback port in a background thread; ``.url``, ``.state``, ``.stop()``."""
    app, state = build(platform, data_dir, **settings)
    return start_in_thread(app, state)
