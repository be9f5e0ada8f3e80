"""Column lineage from the mapping library to the unified model (standard 5.3.3; ARCHITECTURE
principle 4: column lineage is derived from the stage's SQL with SQLGlot).

For every staging target a mapping fills, the SQL the pipeline runs for it (a ``Stage``) is traced
with SQLGlot's lineage from each unified column back to what it reads:

* the target's fields: the SQL generator makes every mapped field a native text column ``t_<field>``
  (an override ``o_<field>_<i>``) and a typed value ``v_<field>`` (``sqlgen.layered_select``), so a
  leaf with such a name is that field, and the mapping says which payload paths fill it and how
  (unit, time format, enum map);
* the raw envelope (``platform``, ``shop_id``, ``raw_record_id`` …).

Tables the warehouse derives from other unified tables (payments, the buyers' accounts, listings,
SPUs: a ``Derived`` stage) continue the trace through their SQL to the columns they read.

Only what a value is made of counts (OpenLineage's DIRECT transformations): the keys a window
partitions or orders by and the ordering key of ``arg_max`` pick a row, they are not its value, and
are dropped before tracing.

The result is exact by construction: change a mapping's path or a stage's SQL and the lineage (and
the data dictionary generated from it, ``model.dictionary``) changes with it. A column made of
nothing a mapping names (a constant, bookkeeping the merge adds) has no traced source; the table
spec's hand-written ``sources`` describes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.lineage import Node, lineage

from ecfusion.lake.envelope import RAW_SCHEMA
from ecfusion.model.dictionary import dictionary_data, render_dictionary
from ecfusion.model.spec import Table
from ecfusion.model.tables import (
    COUPON,
    DISCOUNT_ALLOCATION,
    LISTING,
    LISTING_FEED,
    MEMBER_ACCOUNT,
    ORDER_LINE,
    ORDER_STATUS_HISTORY,
    ORDER_VERSION,
    ORDERS,
    PAYMENT,
    REFUND,
    SHIPMENT,
    SKU,
    SPU,
)
from ecfusion.standardize import sqlgen
from ecfusion.standardize.mapping import FieldRule, Mapping, TargetRule, load_mappings
from ecfusion.standardize.targets import TARGETS
from ecfusion.warehouse import discounts, keyed, merge, spu

# the relations stage SQL reads besides its views: the raw zone (plus the file each row came from)
# and the receiver regions standardized against the division table
_RAW = {f.name: "VARCHAR" for f in RAW_SCHEMA} | {"raw_file": "VARCHAR"}
_REGIONS = {c: "VARCHAR" for c in ("province", "city", "district", "std_province", "std_city",
                                    "std_district")}
_FIELD_LEAF = re.compile(r"^(?:[vt]_(?P<field>\w+?)|o_(?P<overridden>\w+)_(?P<i>\d+))$")
ENVELOPE_COLUMNS = ("raw_record_id", "source", "platform", "shop_id", "raw_file", "pulled_at")


@dataclass(frozen=True, order=True)
class SourceField:
    """One thing a unified column is read from: a field of one mapping's target (its payload paths
    and conversion) or, with ``field`` None, the raw envelope column ``paths[0]``."""

    platform: str
    target: str
    position: int  # the field's place in its mapping rule (display order); -1: envelope
    field: str | None
    paths: tuple[str, ...]
    how: str = ""  # conversion, e.g. "fen", "unix s", "map order_status", "as sent"

    def text(self, *, markdown: bool = True) -> str:
        """``a`` \\| ``b`` (the first that is set), the conversion in brackets; plain: a | b."""
        if self.field is None:
            return f"envelope {self.paths[0]}"
        shown = (" \\| " if markdown else " | ").join(f"`{p}`" if markdown else p for p in self.paths)
        return f"{shown} ({self.how})" if self.how else shown


# ---------------------------------------------------------------- the stages traced


@dataclass(frozen=True)
class Stage:
    """The SQL that turns one mapping target's fields into rows of ``table``: ``sql(m)``'s output
    columns are the table's columns; ``sources(m)`` the views it reads that the trace continues into
    (name → SQL); ``schema`` the raw relations' columns."""

    table: Table
    target: str
    sql: Callable[[Mapping], str]
    sources: Callable[[Mapping], dict[str, str]] = field(default=lambda m: {})
    schema: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Derived:
    """A table the warehouse derives from other unified tables: ``sql`` reads each relation of
    ``inputs`` (name → the unified table it stands for)."""

    table: Table
    sql: str
    inputs: dict[str, Table]


def _header(m: Mapping) -> dict[str, str]:
    return {f"hdr_{m.platform}": sqlgen.orders_header_sql(m, "raw_orders")}


def _keyed(spec: keyed.KeyedEntity) -> Stage:
    raw = f"raw_{spec.raw_entity}"

    def staged(m: Mapping) -> dict[str, str]:
        sql = sqlgen.keyed_stage_sql(m, TARGETS[spec.target], raw)
        if spec.ip_column:  # warehouse.completion: the region is looked up by the IP
            ip = spec.ip_column
            sql = f"SELECT *, {ip} AS ip_province, {ip} AS ip_city, {ip} IS NULL AS _ip_bad FROM ({sql}) AS s"
        return {"stg": sql}

    return Stage(spec.table, spec.target, lambda m: f"SELECT {spec.select()} FROM stg", staged, {raw: _RAW})


def _pos_sales(m: Mapping) -> dict[str, str]:
    return {
        "lines": keyed.pos_lines_sql("stg", "acc"),
        "stg": sqlgen.keyed_stage_sql(m, TARGETS[keyed.POS_TARGET], "raw_sales"),
    }


_POS = {
    "raw_sales": _RAW,
    "acc": {"raw_record_id": "VARCHAR", "raw_file": "VARCHAR"},
    "cur": {c: "VARCHAR" for c in ORDERS.column_names},  # the receipt's current order: not a source
    "affected": {"order_key": "VARCHAR"},
}

def _orders_stage(m: Mapping) -> str:
    return sqlgen.orders_stage_sql(f"hdr_{m.platform}", m.max_order_amount, regions="region_std")


def _classified(m: Mapping) -> dict[str, str]:
    """The staged order rows as the run classifies them (the outcome is bookkeeping, no source;
    ``merge.classified_orders_sql``): whether the record names lines (``merge.lineless_versions_sql``)
    and shows the receiver."""
    lineless = merge.lineless_versions_sql([f"hdr_{m.platform}"])
    return {
        "cls": (
            "SELECT s.*, 'unified' AS outcome, l.raw_record_id IS NULL AS has_lines,\n"
            "  s.receiver_phone_token IS NOT NULL OR s.receiver_name_token IS NOT NULL AS has_contact\n"
            f"FROM ({_orders_stage(m)}) AS s\n"
            f"LEFT JOIN ({lineless}) AS l ON l.raw_record_id = s.raw_record_id AND l.raw_file = s.raw_file"
        ),
        **_header(m),
    }


STAGES: tuple[Stage, ...] = (
    Stage(ORDERS, "orders", _orders_stage, _header, {"raw_orders": _RAW, "region_std": _REGIONS}),
    # every accepted version of a platform order (store sales keep none)
    Stage(
        ORDER_VERSION,
        "orders",
        lambda m: merge.new_versions_sql("cls", "run"),
        _classified,
        {"raw_orders": _RAW, "region_std": _REGIONS},
    ),
    Stage(
        ORDER_LINE,
        "order_line",
        lambda m: sqlgen.lines_stage_sql("lraw", m),
        lambda m: {"lraw": sqlgen.lines_sql(m, f"hdr_{m.platform}"), **_header(m)},
        {"raw_orders": _RAW},
    ),
    Stage(
        SHIPMENT,
        "shipment",
        lambda m: sqlgen.shipment_stage_sql(m, "par"),
        lambda m: {"par": sqlgen.shipments_sql(m, f"hdr_{m.platform}"), **_header(m)},
        {"raw_orders": _RAW},
    ),
    Stage(REFUND, "refund", lambda m: sqlgen.refund_stage_sql(m, "raw_refunds"),
          schema={"raw_refunds": _RAW}),
    Stage(MEMBER_ACCOUNT, "member", lambda m: sqlgen.member_stage_sql(m, "raw_members"),
          schema={"raw_members": _RAW}),
    *(_keyed(spec) for spec in keyed.KEYED),
    # store sales: one line per sale row, one order per receipt
    Stage(ORDER_LINE, keyed.POS_TARGET, lambda m: keyed.pos_lines_sql("stg", "acc"), _pos_sales, _POS),
    Stage(
        ORDERS,
        keyed.POS_TARGET,
        lambda m: keyed.pos_orders_sql("lines", "headers"),
        lambda m: {"headers": keyed.pos_headers_sql("lines", "cur", "affected"), **_pos_sales(m)},
        _POS,
    ),
)

# in dependency order: a derived table's inputs are traced before it
DERIVED: tuple[Derived, ...] = (
    Derived(PAYMENT, merge.payment_sql("orders"), {"orders": ORDERS}),
    Derived(ORDER_STATUS_HISTORY, merge.first_status_sql("orders"), {"orders": ORDERS}),
    Derived(MEMBER_ACCOUNT, merge.member_account_sql("orders"), {"orders": ORDERS}),
    Derived(
        LISTING,
        merge.listing_sql("lines", "orders", "feed", full=True),
        {"lines": ORDER_LINE, "orders": ORDERS, "feed": LISTING_FEED},
    ),
    Derived(SPU, spu.spu_sql("affected", "skus"), {"skus": SKU, "affected": SKU}),
    Derived(
        DISCOUNT_ALLOCATION,
        discounts.allocation_sql("affected", "lines", "coupons"),
        {"lines": ORDER_LINE, "coupons": COUPON, "affected": ORDERS},
    ),
)


# ---------------------------------------------------------------- what a leaf stands for


def _how(m: Mapping, target: str, name: str, fr: FieldRule, *, native: bool) -> str:
    """The conversion a field's rule applies, in a few words."""
    tf = TARGETS[target].field(name)
    notes = []
    if native:
        notes.append("as sent")
    elif fr.map:
        notes.append(f"map {fr.map}")
    if tf is not None and tf.type == "money" and fr.unit == "fen":
        notes.append("fen")
    if tf is not None and tf.type == "time" and fr.const is None:
        zone = f"UTC{m.utc_offset_hours:+d} text"
        notes.append({"datetime": zone, "unix_s": "unix s", "unix_ms": "unix ms"}[fr.time])
    if fr.kv:
        notes.append(f"{fr.kv[0]}:{fr.kv[1]} pairs")
    if fr.join is not None:
        notes.append(f"joined by '{fr.join}'")
    if fr.pattern:
        notes.append(f"pattern {fr.pattern}")
    if fr.default is not None:
        notes.append(f"default '{fr.default}'")
    return ", ".join(notes)


def _paths(rule: TargetRule, fr: FieldRule, target: str) -> tuple[str, ...]:
    """The field's payload paths as a reader finds them: a path inside a list names the list."""
    if fr.const is not None:
        return (f"'{fr.const}'",)
    return tuple(_shown(rule, p, target) for p in fr.all_paths)


def _shown(rule: TargetRule, p: str, target: str) -> str:
    if p.startswith(sqlgen.ITEM_PREFIX) and rule.items:
        return f"{rule.items}[].{p.removeprefix(sqlgen.ITEM_PREFIX)}"
    if rule.items and TARGETS[target].raw_entity is None:  # nested in the order: per line/parcel
        return f"{rule.items}[].{p}"
    return p


def _terms(rule: TargetRule, fr: FieldRule, target: str) -> str:
    """The amounts a money field adds and subtracts, as a reader finds them: "+ a − b"."""
    return " ".join(f"{'+' if sign == '+' else '−'} {_shown(rule, p, target)}" for sign, p in fr.terms)


def _leaf_sources(m: Mapping, target: str, relation: str, column: str) -> list[SourceField]:
    """What one leaf of a stage's lineage (``v_status``, ``o_status_0``, ``platform`` of
    ``raw_orders``) stands for."""
    found = _FIELD_LEAF.match(column)
    if found is None:
        if column in ENVELOPE_COLUMNS and relation.startswith("raw_"):
            return [SourceField(m.platform, target, -1, None, (column,))]
        return []
    name = found["overridden"] or found["field"]
    # a line or parcel reads its order's header fields too: its own target first, then the order's
    for owner in (target, "orders"):
        rule = m.rules().get(owner)
        if rule is None or name not in rule.fields:
            continue
        fr, position = rule.fields[name], list(rule.fields).index(name)
        if found["overridden"] is not None:
            o = fr.overrides[int(found["i"])]
            return [SourceField(m.platform, owner, position, name, (o.path,), f"overrides, map {o.map}")]
        how = _how(m, owner, name, fr, native=column.startswith("t_"))
        if fr.terms and not column.startswith("t_"):
            how = ", ".join(filter(None, [how, _terms(rule, fr, owner)]))
        return [SourceField(m.platform, owner, position, name, _paths(rule, fr, owner), how)]
    return []


# ---------------------------------------------------------------- tracing


def _direct_only(tree: exp.Expr) -> exp.Expr:
    """``tree`` without the columns that pick a row rather than make a value: window partition
    and order keys, the ordering key of ``arg_max`` / ``arg_min``."""

    def strip(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Window):
            node.set("partition_by", None)
            node.set("order", None)
        if isinstance(node, (exp.ArgMax, exp.ArgMin)):
            return node.this
        return node

    return tree.transform(strip)


def _parsed(sql: str) -> exp.Query:
    """``sql`` parsed for tracing, its field columns blanked: every ``t_``/``o_``/``v_`` column the
    generator makes (``sqlgen.layered_select``) keeps its name and loses its expression, so the
    trace stops at it (the mapping says what it reads) instead of walking the JSON parsing and the
    enum maps below, which are most of the SQL. The rule and reason texts go the same way."""
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    for select in tree.find_all(exp.Select):
        for p in select.expressions:
            name = p.alias_or_name
            if isinstance(p, exp.Alias) and (_FIELD_LEAF.match(name) or name in ("_rule", "_reason")):
                p.set("this", exp.Null())
    tree = _direct_only(tree)
    assert isinstance(tree, exp.Query)
    return tree


def _trace(sql: str, columns: list[str], schema: dict[str, dict[str, str]],
           sources: dict[str, str] | None = None) -> dict[str, Node]:
    """SQLGlot lineage of ``columns`` of ``sql``."""
    parsed_sources = {name: _parsed(s) for name, s in (sources or {}).items()}
    tree = _parsed(sql)
    if isinstance(tree, exp.Select):  # only the wanted outputs: not the long rule and reason texts
        tree.set("expressions", [p for p in tree.expressions if p.alias_or_name in columns])
    nodes = lineage(None, tree, schema, sources=parsed_sources, dialect="duckdb", trim_selects=False)
    assert isinstance(nodes, dict)
    return {c: n for c, n in nodes.items() if c in columns}


def _leaves(node: Node) -> Iterable[tuple[str, str]]:
    """(relation, column) of the leaves of a lineage tree, stopping at the field columns the SQL
    generator makes; the relation is the table a column is read from, whatever its alias."""
    stack = [node]
    while stack:
        n = stack.pop()
        alias, _, column = n.name.rpartition(".")
        if _FIELD_LEAF.match(column) or not n.downstream:
            yield (n.source.name if isinstance(n.source, exp.Table) else alias), column
            continue
        stack.extend(n.downstream)


@dataclass
class ColumnLineage:
    """Unified (table, column) → the mapped fields and envelope columns it is read from."""

    sources: dict[tuple[str, str], set[SourceField]] = field(default_factory=dict)

    def of(self, table: str, column: str) -> list[SourceField]:
        return sorted(self.sources.get((table, column), ()))

    def add(self, table: str, column: str, found: Iterable[SourceField]) -> None:
        self.sources.setdefault((table, column), set()).update(found)

    def fields_reached(self) -> set[tuple[str, str, str]]:
        """(platform, target, field) of every mapped field some unified column reads."""
        return {(s.platform, s.target, s.field) for ss in self.sources.values() for s in ss if s.field}


def trace(mappings: dict[str, Mapping]) -> ColumnLineage:
    """Column lineage of every stage of every mapping that fills the stage's target, then of the
    derived tables."""
    out = ColumnLineage()
    for stage in STAGES:
        table = stage.table
        for m in sorted(mappings.values(), key=lambda m: m.platform):
            if stage.target not in m.rules():
                continue
            nodes = _trace(stage.sql(m), table.column_names, stage.schema, stage.sources(m))
            for column, node in nodes.items():
                for relation, read in _leaves(node):
                    out.add(table.qualified, column, _leaf_sources(m, stage.target, relation, read))
    for d in DERIVED:
        schema = {name: {c: "VARCHAR" for c in t.column_names} for name, t in d.inputs.items()}
        for column, node in _trace(d.sql, d.table.column_names, schema).items():
            for relation, read in _leaves(node):
                if relation in d.inputs:
                    out.add(d.table.qualified, column, out.of(d.inputs[relation].qualified, read))
    return out


@cache
def library_lineage() -> ColumnLineage:
    """The column lineage of the mapping library shipped with ecfusion."""
    return trace(load_mappings())


def dictionary_sources(traced: ColumnLineage) -> dict[tuple[str, str], str]:
    """The data dictionary's "source fields" cell of every traced column: the envelope columns,
    then per platform the payload paths it is read from."""
    cells: dict[tuple[str, str], str] = {}
    for table, column in traced.sources:
        found = traced.of(table, column)
        envelope = sorted({s.paths[0] for s in found if s.field is None})
        by_platform: dict[str, list[str]] = {}
        for s in found:
            texts = by_platform.setdefault(s.platform, [])
            if s.field is not None and s.text() not in texts:
                texts.append(s.text())
        parts = [f"envelope {', '.join(envelope)}"] if envelope else []
        parts += [f"{p}: {'; '.join(texts)}" for p, texts in sorted(by_platform.items()) if texts]
        if parts:
            cells[(table, column)] = " · ".join(parts)
    return cells


def data_dictionary(mappings: dict[str, Mapping] | None = None) -> str:
    """The data dictionary (``docs/data-dictionary.md``) with the sources traced from ``mappings``
    (default: the library shipped with ecfusion)."""
    traced = library_lineage() if mappings is None else trace(mappings)
    return render_dictionary(dictionary_sources(traced))


def data_dictionary_json(mappings: dict[str, Mapping] | None = None) -> dict[str, Any]:
    """The same as data (``model.dictionary.dictionary_data``): each traced source an object."""
    traced = library_lineage() if mappings is None else trace(mappings)
    sources = {
        key: [
            {"platform": s.platform, "target": s.target, "field": s.field, "paths": list(s.paths),
             "how": s.how} if s.field is not None else {"platform": s.platform, "envelope": s.paths[0]}
            for s in traced.of(*key)
        ]
        for key in sorted(traced.sources)
    }
    return dictionary_data(sources)


@dataclass(frozen=True)
class MappingReport:
    """What one mapping file fills: per unified column, the fields it reads there; and the fields
    the file maps that no unified column reads (collected, then dropped: a mistake)."""

    mapping: Mapping
    columns: dict[tuple[str, str], list[SourceField]]
    unread: list[tuple[str, str]]  # (target, field)


def mapping_report(m: Mapping) -> MappingReport:
    """Trace one mapping (``ecfusion model check``): the unified columns it fills and with what."""
    traced = trace({m.platform: m})
    columns = {key: [s for s in traced.of(*key) if s.field is not None] for key in sorted(traced.sources)}
    reached = traced.fields_reached()
    unread = [
        (target, name)
        for target, rule in m.rules().items()
        for name in rule.fields
        if (m.platform, target, name) not in reached
    ]
    return MappingReport(m, {k: v for k, v in columns.items() if v}, unread)
