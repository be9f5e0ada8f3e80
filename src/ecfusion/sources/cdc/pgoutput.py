"""Decode PostgreSQL's ``pgoutput`` logical-replication messages (protocol version 1).

Only what change capture needs: Begin, Commit, Relation, Insert, Update, Delete (Truncate, Type,
Origin and logical Messages are skipped). Column values arrive as text and are turned into
Python values with the connection's own type loaders, so streamed rows look like snapshot rows.
Reference: PostgreSQL docs, "Logical Replication Message Formats".
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

TextLoader = Callable[[int, bytes], Any]


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str
    columns: list[tuple[str, int, bool]]  # (name, type oid, part of the replica identity key)

    @property
    def key_columns(self) -> list[str]:
        return [c[0] for c in self.columns if c[2]]


@dataclass
class Begin:
    final_lsn: int
    commit_ts_us: int
    xid: int


@dataclass
class Commit:
    lsn: int
    end_lsn: int
    commit_ts_us: int


@dataclass
class RowChange:
    op: Literal["c", "u", "d"]
    relation: Relation
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    unchanged_toast: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        self.pos += 1
        return self.data[self.pos - 1]

    def int16(self) -> int:
        (v,) = struct.unpack_from("!h", self.data, self.pos)
        self.pos += 2
        return int(v)

    def int32(self) -> int:
        (v,) = struct.unpack_from("!i", self.data, self.pos)
        self.pos += 4
        return int(v)

    def int64(self) -> int:
        (v,) = struct.unpack_from("!q", self.data, self.pos)
        self.pos += 8
        return int(v)

    def cstring(self) -> str:
        end = self.data.index(b"\0", self.pos)
        s = self.data[self.pos : end].decode("utf-8")
        self.pos = end + 1
        return s

    def raw(self, n: int) -> bytes:
        self.pos += n
        return self.data[self.pos - n : self.pos]


class PgOutputDecoder:
    """Stateful decoder: remembers Relation messages to name the columns of later row messages."""

    def __init__(self, load: TextLoader) -> None:
        self.load = load
        self.relations: dict[int, Relation] = {}

    def decode(self, data: bytes) -> Begin | Commit | RowChange | Relation | None:
        r = _Reader(bytes(data))
        kind = chr(r.byte())
        if kind == "B":
            return Begin(r.int64(), r.int64(), r.int32())
        if kind == "C":
            r.byte()  # flags
            return Commit(r.int64(), r.int64(), r.int64())
        if kind == "R":
            return self._relation(r)
        if kind in "IUD":
            return self._row(kind, r)
        return None  # T(runcate), Y(type), O(rigin), M(essage): not row changes

    def _relation(self, r: _Reader) -> Relation:
        oid, schema, name = r.int32(), r.cstring(), r.cstring()
        r.byte()  # replica identity setting
        cols = []
        for _ in range(r.int16()):
            flags = r.byte()
            col_name = r.cstring()
            type_oid = r.int32()
            r.int32()  # type modifier
            cols.append((col_name, type_oid, bool(flags & 1)))
        rel = Relation(oid, schema, name, cols)
        self.relations[oid] = rel
        return rel

    def _tuple(self, rel: Relation, r: _Reader) -> tuple[dict[str, Any], list[str]]:
        out: dict[str, Any] = {}
        toast: list[str] = []
        for i in range(r.int16()):
            name, type_oid, _ = rel.columns[i]
            kind = chr(r.byte())
            if kind == "n":
                out[name] = None
            elif kind == "u":
                toast.append(name)  # unchanged TOASTed value: not sent
            else:
                raw = r.raw(r.int32())
                out[name] = self.load(type_oid, raw) if kind == "t" else raw
        return out, toast

    def _row(self, kind: str, r: _Reader) -> RowChange:
        rel = self.relations[r.int32()]
        if kind == "I":
            r.byte()  # 'N'
            after, toast = self._tuple(rel, r)
            return RowChange("c", rel, None, after, toast)
        if kind == "D":
            r.byte()  # 'K' (key only) or 'O' (whole old row)
            before, _ = self._tuple(rel, r)
            return RowChange("d", rel, before, None)
        marker = chr(r.byte())
        old: dict[str, Any] | None = None
        if marker in "KO":
            old, _ = self._tuple(rel, r)
            r.byte()  # 'N'
        new, toast = self._tuple(rel, r)
        return RowChange("u", rel, old, new, toast)


def lsn_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def lsn_int(text: str) -> int:
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)
