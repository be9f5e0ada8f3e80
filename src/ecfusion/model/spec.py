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


def create_table_sql(table: Table) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for ``table`` in DuckDB dialect."""
    cols = ",\n  ".join(f"{c.name} {c.type}{'' if c.nullable else ' NOT NULL'}" for c in table.columns)
    return f"CREATE TABLE IF NOT EXISTS {table.qualified} (\n  {cols}\n)"


def empty_select_sql(table: Table) -> str:
    """A zero-row SELECT with the table's column names and types (to seed views on any engine)."""
    cols = ", ".join(f"CAST(NULL AS {c.type}) AS {c.name}" for c in table.columns)
    return f"SELECT {cols} WHERE 1 = 0"
