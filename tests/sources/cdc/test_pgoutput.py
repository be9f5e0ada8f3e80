"""pgoutput protocol-v1 decoding, message by message (built as PostgreSQL sends them)."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from ecfusion.sources.cdc.pgoutput import (
    Begin,
    Commit,
    PgOutputDecoder,
    Relation,
    RowChange,
    lsn_int,
    lsn_text,
)

INT4, TEXT = 23, 25


def _cstr(s: str) -> bytes:
    return s.encode() + b"\0"


def _tuple(*values: str | None) -> bytes:
    out = struct.pack("!h", len(values))
    for v in values:
        out += b"n" if v is None else b"t" + struct.pack("!i", len(v.encode())) + v.encode()
    return out


RELATION = (
    b"R"
    + struct.pack("!i", 16384)
    + _cstr("public")
    + _cstr("members")
    + b"f"
    + struct.pack("!h", 2)
    + b"\x01"
    + _cstr("id")
    + struct.pack("!ii", INT4, -1)
    + b"\x00"
    + _cstr("name")
    + struct.pack("!ii", TEXT, -1)
)


def _load(oid: int, raw: bytes) -> Any:
    return int(raw) if oid == INT4 else raw.decode()


@pytest.fixture
def decoder() -> PgOutputDecoder:
    d = PgOutputDecoder(_load)
    rel = d.decode(RELATION)
    assert isinstance(rel, Relation) and rel.key_columns == ["id"]
    return d


@pytest.mark.parametrize(
    ("message", "op", "before", "after"),
    [
        (
            b"I" + struct.pack("!i", 16384) + b"N" + _tuple("7", "王小明"),
            "c",
            None,
            {"id": 7, "name": "王小明"},
        ),
        (
            b"U" + struct.pack("!i", 16384) + b"O" + _tuple("7", "a") + b"N" + _tuple("7", "b"),
            "u",
            {"id": 7, "name": "a"},
            {"id": 7, "name": "b"},
        ),
        (b"U" + struct.pack("!i", 16384) + b"N" + _tuple("7", None), "u", None, {"id": 7, "name": None}),
        (b"D" + struct.pack("!i", 16384) + b"K" + _tuple("7", None), "d", {"id": 7, "name": None}, None),
    ],
)
def test_row_messages(decoder: PgOutputDecoder, message: bytes, op: str, before: Any, after: Any) -> None:
    got = decoder.decode(message)
    assert isinstance(got, RowChange)
    assert (got.op, got.before, got.after, got.relation.name) == (op, before, after, "members")


def test_unchanged_toast_values_are_named_not_invented(decoder: PgOutputDecoder) -> None:
    msg = (
        b"U"
        + struct.pack("!i", 16384)
        + b"N"
        + struct.pack("!h", 2)
        + b"t"
        + struct.pack("!i", 1)
        + b"7"
        + b"u"
    )
    got = decoder.decode(msg)
    assert isinstance(got, RowChange) and got.after == {"id": 7} and got.unchanged_toast == ["name"]


def test_transaction_boundaries_and_lsn_text() -> None:
    d = PgOutputDecoder(_load)
    begin = d.decode(b"B" + struct.pack("!qqi", 0x1_0000_00A0, 1_000_000, 763))
    commit = d.decode(b"C" + b"\0" + struct.pack("!qqq", 0x1_0000_00A0, 0x1_0000_00D8, 1_000_000))
    assert isinstance(begin, Begin) and begin.xid == 763
    assert isinstance(commit, Commit) and lsn_text(commit.end_lsn) == "1/D8"
    assert lsn_int("1/D8") == commit.end_lsn
    assert d.decode(b"T" + b"\0" * 8) is None  # truncate: not a row change
