"""DuckDB stage SQL transpiles to Spark SQL, including the one-parse JSON struct."""

from __future__ import annotations

from ecfusion.engine.dialect import spark_schema, to_spark
from ecfusion.standardize import sqlgen
from ecfusion.standardize.mapping import load_mappings


def test_json_transform_becomes_from_json_with_a_spark_schema() -> None:
    sql = to_spark(
        """SELECT json_transform(payload, '{"a":"VARCHAR","l":[{"x":"VARCHAR"}]}') AS j FROM raw"""
    )
    assert "FROM_JSON(payload, 'STRUCT<`a`: STRING, `l`: ARRAY<STRUCT<`x`: STRING>>>')" in sql


def test_schema_nesting() -> None:
    assert (
        spark_schema({"o": {"order": [{"oid": "VARCHAR"}]}})
        == "STRUCT<`o`: STRUCT<`order`: ARRAY<STRUCT<`oid`: STRING>>>>"
    )


def test_every_generated_stage_transpiles() -> None:
    for m in load_mappings().values():
        if m.member is not None:
            to_spark(sqlgen.member_stage_sql(m, "raw_members"))
        if m.orders is None:
            continue
        assert "FROM_JSON" in to_spark(sqlgen.orders_header_sql(m, "raw_orders"))
        to_spark(sqlgen.orders_stage_sql("hdr", m.max_order_amount, regions="region_std"))
        to_spark(sqlgen.lines_sql(m, "hdr"))
        to_spark(sqlgen.lines_stage_sql("lraw", m))
        if m.refund is not None:
            to_spark(sqlgen.refund_stage_sql(m, "raw_refunds"))
