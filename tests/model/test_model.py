"""The model's specs generate valid DDL and a dictionary naming every table and column."""

from __future__ import annotations

import duckdb

from ecfusion.model import TABLES, create_table_sql, render_dictionary
from ecfusion.model.vocabulary import OrderStatus
from ecfusion.warehouse import ensure_schema


def test_every_table_creates_and_money_is_decimal_18_2() -> None:
    con = duckdb.connect()
    ensure_schema(con)
    for t in TABLES:
        cols = dict(
            con.execute(
                f"SELECT column_name, data_type FROM information_schema.columns "
                f"WHERE table_schema = '{t.schema}' AND table_name = '{t.name}'"
            ).fetchall()
        )
        assert list(cols) == t.column_names
        for c in t.columns:
            if c.unit == "CNY yuan":
                assert cols[c.name] == "DECIMAL(18,2)", (t.name, c.name)
            if c.unit == "UTC":
                assert cols[c.name] == "TIMESTAMP", (t.name, c.name)


def test_unified_rows_carry_raw_record_ids() -> None:
    bookkeeping = {
        "quarantine",
        "quality_flag",
        "processed_file",
        "run_reconciliation",
        "order_version",
        "order_status_history",
        "category",
        "carrier",
    }
    for t in TABLES:
        if t.name not in bookkeeping:
            assert "raw_record_ids" in t.column_names, t.name


def test_dictionary_names_every_table_column_and_status() -> None:
    text = render_dictionary()
    for t in TABLES:
        assert f"`{t.qualified}` — {t.zh}" in text
        for c in t.columns:
            assert f"| `{c.name}` |" in text
    for s in OrderStatus:
        assert f"`{s.value}`" in text


def test_ddl_is_idempotent() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA unified; CREATE SCHEMA meta")
    for _ in range(2):
        for t in TABLES:
            con.execute(create_table_sql(t))
