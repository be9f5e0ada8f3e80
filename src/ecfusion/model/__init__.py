"""The unified data model (standard 6.1): table specs, vocabularies, DDL and the data dictionary."""

from ecfusion.model.dictionary import render_dictionary
from ecfusion.model.spec import Column, Table, create_table_sql
from ecfusion.model.tables import TABLES, table
from ecfusion.model.vocabulary import LineRefundStatus, OrderStatus, RefundReason, RefundStatus

__all__ = [
    "TABLES",
    "Column",
    "LineRefundStatus",
    "OrderStatus",
    "RefundReason",
    "RefundStatus",
    "Table",
    "create_table_sql",
    "render_dictionary",
    "table",
]
