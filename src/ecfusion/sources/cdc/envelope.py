"""Change envelopes: one database row change as landed in the raw zone (采集层 5.1.4 CDC; 5.3.3).

``{"op": "r"|"c"|"u"|"d", "before": {...}|None, "after": {...}|None,
   "source": {"db", "table", "pos", "ts", "txid"}}`` — ``r`` is a row read by the initial
snapshot, ``c``/``u``/``d`` are insert/update/delete from the log. ``pos`` is the log position
(MariaDB/MySQL ``file:offset``, PostgreSQL LSN), so replays land byte-identical envelopes and the
lake's content hash makes them harmless. Values are made JSON-safe without losing precision:
decimals and big integers stay exact (decimals as strings), times as ISO-8601 text.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Literal

Op = Literal["r", "c", "u", "d"]


def json_safe(value: Any) -> Any:
    """A database value as JSON: exact decimals as text, times ISO-8601, bytes base64."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    return str(value)


def row_dict(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {str(k): json_safe(v) for k, v in row.items()}


def change(
    op: Op,
    *,
    db: str,
    table: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    pos: str,
    ts: str | None,
    txid: str | None,
) -> dict[str, Any]:
    return {
        "op": op,
        "before": row_dict(before),
        "after": row_dict(after),
        "source": {"db": db, "table": table, "pos": pos, "ts": ts, "txid": txid},
    }


def record_key(table: str, key_columns: list[str], row: dict[str, Any] | None) -> str | None:
    """``table:pk1|pk2`` — the natural key of the changed row, for tracing and standardization."""
    if row is None or not key_columns:
        return None
    return table + ":" + "|".join(str(json_safe(row.get(c))) for c in key_columns)
