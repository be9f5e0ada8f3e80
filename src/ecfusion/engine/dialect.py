"""DuckDB-dialect stage SQL → Spark SQL (ARCHITECTURE principle 1; TOOLCHAIN "SQLGlot").

SQLGlot transpiles almost everything; the pieces it cannot are rewritten here on the syntax
tree: ``json_transform(payload, '<structure>')`` (one JSON parse into a struct) becomes
``from_json(payload, '<Spark DDL schema>')``; DuckDB ``make_timestamp(µs)`` and ``epoch_ms``
arrive as SQLGlot's Spark equivalents already.
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
    name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
    if isinstance(node, exp.JSONExtract | exp.Anonymous) and name == "json_transform":
        payload, structure = node.expressions
        ddl = spark_schema(json.loads(structure.name))
        return exp.Anonymous(this="FROM_JSON", expressions=[payload, exp.Literal.string(ddl)])
    return node


@lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """Transpile one DuckDB statement to Spark SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(_rewrite)
    return tree.sql(dialect="spark")
