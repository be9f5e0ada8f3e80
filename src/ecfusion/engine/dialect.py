"""DuckDB-dialect stage SQL → Spark SQL (ARCHITECTURE principle 1; TOOLCHAIN "SQLGlot").

SQLGlot transpiles almost everything; the pieces it cannot are rewritten here on the syntax
tree: ``json_transform(payload, '<structure>')`` (one JSON parse into a struct) becomes
``from_json(payload, '<Spark DDL schema>')``, and ``json_type`` of a list's elements an empty
list (``_no_element_types``); DuckDB ``make_timestamp(µs)`` and ``epoch_ms`` arrive as SQLGlot's
Spark equivalents already.
"""

from __future__ import annotations

import json
from functools import lru_cache

import sqlglot
from sqlglot import exp


def spark_schema(structure: object) -> str:
    """A DuckDB ``json_transform`` structure as a Spark DDL type."""
    if isinstance(structure, dict):
        fields = ", ".join(f"`{k}`: {spark_schema(v)}" for k, v in structure.items())
        return f"STRUCT<{fields}>"
    if isinstance(structure, list):
        return f"ARRAY<{spark_schema(structure[0])}>"
    return {"VARCHAR": "STRING", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE"}.get(str(structure), "STRING")


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Try) and _is_json_transform(node.this):
        return _parse_or_null(node.this)
    if _is_json_transform(node):
        return _from_json(node)
    if isinstance(node, exp.JSONType) and node.expression.name.endswith("[*]"):
        return _no_element_types()
    return node


def _no_element_types() -> exp.Expression:
    """``json_type(payload, '$.list[*]')``: DuckDB's types of a list's elements, which stage SQL
    reads to tell an element that is not an object (``sqlgen.non_object_element``). On Spark such a
    list is NULL after ``from_json``, caught as such, so there is no element to type: an empty
    list of types."""
    return exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("ARRAY<STRING>", dialect="spark"))


def _from_json(node: exp.Expression) -> exp.Expression:
    payload, structure = node.expressions
    ddl = spark_schema(json.loads(structure.name))
    return exp.Anonymous(this="FROM_JSON", expressions=[payload, exp.Literal.string(ddl)])


def _parse_or_null(node: exp.Expression) -> exp.Expression:
    """``TRY(json_transform(p, s))`` (sqlgen.parse_payload) is NULL on DuckDB when ``p`` is not
    JSON, or is the JSON ``null``. Spark has no TRY, and its ``from_json`` gives a struct of NULLs
    for either, so the same test is spelled out: ``get_json_object(p, '$')`` is NULL for text that
    is not JSON and 'null' for the JSON null."""
    payload = node.expressions[0]
    as_text = exp.Anonymous(this="GET_JSON_OBJECT", expressions=[payload.copy(), exp.Literal.string("$")])
    not_json = exp.EQ(
        this=exp.Coalesce(this=as_text, expressions=[exp.Literal.string("null")]),
        expression=exp.Literal.string("null"),
    )
    return exp.Case(ifs=[exp.If(this=not_json, true=exp.Null())], default=_from_json(node))


def _is_json_transform(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower() == "json_transform"


@lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """Transpile one DuckDB statement to Spark SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(_rewrite)
    return tree.sql(dialect="spark")
