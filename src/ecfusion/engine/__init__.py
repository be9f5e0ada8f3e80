"""Execution engines for set-based stages: DuckDB (default) and Spark (ARCHITECTURE principle 1)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ecfusion.config import ENGINES
from ecfusion.engine.base import Engine
from ecfusion.engine.duck import DuckDBEngine
from ecfusion.errors import ConfigError


def open_engine(name: str, warehouse: duckdb.DuckDBPyConnection, *, log: Path | None = None) -> Engine:
    """The engine called ``name`` ("duckdb" or "spark"); DuckDB runs on the warehouse connection.
    ``log``: where Spark's JVM writes its own output (``spark.local_session``)."""
    if name == "duckdb":
        return DuckDBEngine(warehouse)
    if name == "spark":
        from ecfusion.engine.spark import SparkEngine

        return SparkEngine.local(log=log)
    raise ConfigError(f"unknown engine {name!r}", hint=f"use {' or '.join(ENGINES)}")


__all__ = ["DuckDBEngine", "Engine", "open_engine"]
