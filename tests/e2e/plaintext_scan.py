"""Reads every file under a workspace as a user's adversary would, decompressing what is compressed.

Parquet (zstd) is read column by column, DuckDB and SQLite databases table by table; every other
file as raw bytes. ``find_plaintext`` returns where any of the given values appears.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq


def _parquet_text(path: Path) -> Iterator[str]:
    table = pq.read_table(path)
    for column in table.columns:
        for value in column.to_pylist():
            if value is not None:
                yield value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _duckdb_text(path: Path) -> Iterator[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, name in tables:
            for row in con.execute(f'select * from "{schema}"."{name}"').fetchall():
                yield " | ".join("" if v is None else str(v) for v in row)
    finally:
        con.close()


def _sqlite_text(path: Path) -> Iterator[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield from con.iterdump()
    finally:
        con.close()


def texts_of(path: Path) -> Iterator[str]:
    head = path.read_bytes()[:16]
    if head.startswith(b"PAR1"):
        yield from _parquet_text(path)
    elif head.startswith(b"SQLite format 3"):
        yield from _sqlite_text(path)
    elif path.suffix == ".duckdb":
        yield from _duckdb_text(path)
    else:
        data = path.read_bytes()
        yield data.decode("utf-8", "replace")
        yield data.decode("gb18030", "replace")  # a GBK file shows its Chinese only this way


def find_plaintext(root: Path, needles: Iterable[str]) -> list[tuple[str, str]]:
    """(file, needle) for every needle found as a substring of any text in any file under root."""
    needles = sorted({n for n in needles if n}, key=len, reverse=True)
    hits: list[tuple[str, str]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        seen: set[str] = set()
        for text in texts_of(path):
            for needle in needles:
                if needle not in seen and needle in text:
                    seen.add(needle)
                    hits.append((str(path.relative_to(root)), needle))
    return hits
