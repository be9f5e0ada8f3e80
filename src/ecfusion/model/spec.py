"""Declarative table and column specifications of the unified model (standard 6.1.1, 6.1.2).

A ``Table`` is data: its columns with type, Chinese name (the standard's term), business
definition and unit. Both the warehouse DDL and the data dictionary (docs/data-dictionary.md) are
generated from these objects, so they cannot drift. A column's source fields are traced from the
mapping library's SQL (``ecfusion.lineage.columns``); ``Column.sources`` says in words where the
others come from (the envelope, bookkeeping the merge adds, tables no mapping fills).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MONEY = "DECIMAL(18,2)"
TIME = "TIMESTAMP"  # always UTC; the column's business date carries Asia/Shanghai
DATE = "DATE"
TEXT = "VARCHAR"
INT = "BIGINT"
TEXT_LIST = "VARCHAR[]"
BOOL = "BOOLEAN"


@dataclass(frozen=True)
class Column:
    """One column: name, SQL type (DuckDB), Chinese name, definition, unit and source fields."""

    name: str
    type: str
    zh: str
    definition: str
    unit: str = ""
    sources: str = ""  # only where no mapping fills the column: the traced sources replace it
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    """One unified table in a subject domain; ``key`` names its natural-key columns."""

    name: str
    zh: str
    domain: str
    definition: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    schema: str = "unified"
    populated_by: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.qualified} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


# Text columns holding a value (nearly) unique to each row: the row's own key, and the order, line,
# account or raw record it belongs to. DuckDB's default string compression (dictionary, then FSST)
# finds no values to share there and costs most of a large write's time: storing them as zstd makes
# writing the order tables about a third faster (1M orders: 5.2 → 3.3 s, benchmarks/) for a file of
# the same size. Columns of few values (platform, status, sku_id, …) keep the default, which is
# smaller for them. What it costs a reader: a lookup of one order by order_key with no index scans
# the column decompressed, 5.0 ms against 3.8 ms on 1M orders; a scan, and a run's semi-joins on the
# keys of its changed rows, are no slower (A/B of three incremental days on a 1M warehouse).
ROW_IDENTIFIERS = frozenset(
    {
        "order_key",
        "line_key",
        "account_key",
        "platform_order_id",
        "platform_account_id",
        "line_id",
        "raw_record_id",
        "version_raw_record_id",
        "tracking_no",
    }
)


def column_sql(table: Table, column: Column) -> str:
    """``column``'s name, type and storage (``ROW_IDENTIFIERS``) in DuckDB DDL, without its NOT NULL
    (which a column added to a table that holds rows cannot have)."""
    identifier = column.type == TEXT and (column.name in ROW_IDENTIFIERS or column.name in table.key)
    return f"{column.name} {column.type}{' USING COMPRESSION zstd' if identifier else ''}"


def create_table_sql(table: Table) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for ``table`` in DuckDB dialect."""
    cols = ",\n  ".join(f"{column_sql(table, c)}{'' if c.nullable else ' NOT NULL'}" for c in table.columns)
    return f"CREATE TABLE IF NOT EXISTS {table.qualified} (\n  {cols}\n)"


def empty_select_sql(table: Table) -> str:
    """A zero-row SELECT with the table's column names and types (to seed views on any engine)."""
    cols = ", ".join(f"CAST(NULL AS {c.type}) AS {c.name}" for c in table.columns)
    return f"SELECT {cols} WHERE 1 = 0"
