"""Resolution on Spark (local mode) yields the same identities as on DuckDB for the same input."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecfusion.config import Workspace
from ecfusion.resolve import run, sample, store

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def partition(ws: Workspace) -> set[frozenset[str]]:
    with store.connect(ws, read_only=True) as con:
        rows = con.sql(
            "select list(account_key order by account_key) from fused.member group by one_id"
        ).fetchall()
    return {frozenset(r[0]) for r in rows}


def test_spark_and_duckdb_give_the_same_identities(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    from ecfusion.resolve.spark import local_session

    cipher = sample.SampleCipher(8)
    accounts, _truth = sample.member_accounts(150, seed=8, cipher=cipher)
    results = {}
    spark = local_session(tmp_path / "checkpoints")
    try:
        for engine in ("duckdb", "spark"):
            ws = Workspace.init(tmp_path / engine)
            sample.install(ws, accounts)
            summary = run(ws, reader=cipher, engine=engine, spark=spark if engine == "spark" else None)
            assert summary.raw_accounts == accounts.num_rows
            results[engine] = partition(ws)
    finally:
        spark.stop()
    assert results["spark"] == results["duckdb"]
