"""Execution engines for set-based stages: DuckDB (default) and Spark (ARCHITECTURE principle 1)."""

from __future__ import annotations

import duckdb

from ecfusion.engine.base import Engine
from ecfusion.engine.duck import DuckDBEngine
from ecfusion.errors import ConfigError


def open_engine(name: str, warehouse: duckdb.DuckDBPyConnection) -> Engine:
    """The engine called ``name`` ("duckdb" or "spark"); DuckDB runs on the warehouse connection."""
    if name == "duckdb":
        return DuckDBEngine(warehouse)
    if name == "spark":
        from ecfusion.engine.spark import SparkEngine

        return SparkEngine.local()
    raise ConfigError(f"unknown engine {name!r}", hint="use 'duckdb' or 'spark'")


__all__ = ["DuckDBEngine", "Engine", "open_engine"]
