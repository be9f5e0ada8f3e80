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


def test_a_table_an_older_model_shaped_differently_is_made_anew_while_empty() -> None:
    con = duckdb.connect()
    ensure_schema(con)
    # as ecfusion made them before tracking events were fed: a NOT NULL column the model dropped
    con.execute("DROP TABLE unified.tracking_event")
    con.execute("CREATE TABLE unified.tracking_event (shipment_key VARCHAR NOT NULL, event_at TIMESTAMP)")
    con.execute("DROP TABLE unified.discount_allocation")
    con.execute("CREATE TABLE unified.discount_allocation (line_key VARCHAR NOT NULL, legacy VARCHAR)")
    con.execute("INSERT INTO unified.discount_allocation VALUES ('k', 'kept')")
    ensure_schema(con)
    columns = (
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position"
    )
    tracking = [c for (c,) in con.execute(columns, ["tracking_event"]).fetchall()]
    assert tracking == next(t for t in TABLES if t.name == "tracking_event").column_names
    # a table holding rows keeps them (and its old column); the new columns are added
    allocation = [c for (c,) in con.execute(columns, ["discount_allocation"]).fetchall()]
    assert allocation[:2] == ["line_key", "legacy"] and "allocation_key" in allocation
    assert con.execute("SELECT legacy FROM unified.discount_allocation").fetchall() == [("kept",)]


def test_unified_rows_carry_raw_record_ids() -> None:
    bookkeeping = {
        "quarantine",
        "quality_flag",
        "processed_file",
        "run_reconciliation",
        "run_mapping",
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
