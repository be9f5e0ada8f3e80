"""SQL generated from a mapping: payload JSON → typed staging rows with quarantine reasons
(standard 5.2 Table 1 L1 c, L2 a–c, L3 b).

Written once in DuckDB dialect; engines transpile (``ecfusion.engine.dialect``). For each
platform the payload is parsed ONCE with ``json_transform`` into a struct holding only the
mapped paths (lines included), then every field is null-detected, defaulted, cast (money in
yuan or fen → DECIMAL(18,2); times in Beijing text or unix s/ms → UTC TIMESTAMP) and mapped
through its enum map. Each staged row carries ``_rule``/``_reason``: the first rule it fails
(unknown_status, missing_required, bad_value) or NULL. Nothing is dropped here.

Rules every value meets, whatever the mapping (docs/mappings.md "Rules every value meets"): blank
text is no id; a time is one from ``TIME_FROM`` to ``TIME_UNTIL`` (no value, however large, ends
the run in an overflow); money in fen is a whole number; a ``*_token`` column holds only protected
tokens, and the reason that refuses a value never repeats it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ecfusion.model.spec import MONEY
from ecfusion.standardize.mapping import ITEM_PREFIX, EnumMap, FieldRule, Mapping, TargetRule
from ecfusion.standardize.targets import TARGETS, Target, TargetField

BUSINESS_UTC_OFFSET_HOURS = 8  # Asia/Shanghai; no DST since 1991, so a fixed offset is exact

# The times a record may name (UTC, from inclusive, until exclusive); any other is bad_value. Wide
# enough for a CRM member who joined in the 1990s, narrow enough to catch a unit mistaken: unix_ms
# given seconds lands in January 1970, unix_s given milliseconds after the year 50000.
TIME_FROM, TIME_UNTIL = datetime(1990, 1, 1), datetime(2100, 1, 1)
TIME_SPAN = f"from {TIME_FROM:%Y-%m-%d} to {TIME_UNTIL:%Y-%m-%d} UTC"
# What blank text is made of: ASCII white space, the no-break and the ideographic (full-width) space,
# and the invisible zero-width space and byte-order mark a copy from a web page or an export leaves.
# ``trim`` with these characters reads alike on both engines (their plain ``trim`` does not).
BLANK_CHARS = " \t\n\r\f\v\u00a0\u3000\u200b\ufeff"
# ... as a class of one regular expression, read alike by RE2 (DuckDB) and java.util.regex (Spark):
# \x0B, not \v (Java's \v is every vertical space). Tests with it cost a tenth of DuckDB's trim with
# a character set, which walks the text grapheme by grapheme: some 30 such trims per order made a
# sixth of a run.
_BLANK_CLASS = "[ \\t\\n\\r\\f\\x0B\u00a0\u3000\u200b\ufeff]"
_ALL_BLANK = f"^{_BLANK_CLASS}*\\z"
_BLANK_EDGE = f"^{_BLANK_CLASS}|{_BLANK_CLASS}\\z"
TOKEN_PREFIX = "ef1:"  # a protected personal value (``ecfusion.security.tokens``)

SQL_TYPES = {
    "text": "VARCHAR",
    "id": "VARCHAR",
    "token": "VARCHAR",
    "int": "BIGINT",
    "money": MONEY,
    "time": "TIMESTAMP",
    "bool": "BOOLEAN",
}


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _path_expr(root: str, path: str) -> str:
    return root + "".join("." + ident(p) for p in path.split("."))




def _item_path_expr(item_root: str, path: str) -> str:
    return _path_expr(item_root, path.removeprefix(ITEM_PREFIX))


# ---------------------------------------------------------------- the parse struct


def _insert(tree: dict[str, object], path: str, leaf: object) -> None:
    parts = path.split(".")
    node = tree
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):  # the same key used as a scalar elsewhere: keep the object
            nxt = node[p] = {}
        node = nxt
    if parts[-1] not in node or leaf != "VARCHAR":
        node[parts[-1]] = leaf


def _leaves(fr: FieldRule) -> list[tuple[str, object]]:
    """(path, parse type) of each path ``fr`` reads: text, or a ``kv`` list of key/value objects."""
    value: object = [{fr.kv[0]: "VARCHAR", fr.kv[1]: "VARCHAR"}] if fr.kv else "VARCHAR"
    return [(p, value) for p in fr.all_paths] + [(p, "VARCHAR") for _, p in fr.terms]


def _rule_tree(rule: TargetRule) -> dict[str, object]:
    tree: dict[str, object] = {}
    for fr in rule.fields.values():
        for p, leaf in _leaves(fr):
            _insert(tree, p, leaf)
        for o in fr.overrides:
            _insert(tree, o.path, "VARCHAR")
    return tree


def _merge_tree(into: dict[str, object], other: dict[str, object]) -> None:
    """Add the paths of parse tree ``other`` to ``into`` (lists of objects merge element-wise, so
    the lines and the parcels of one list are parsed once)."""
    for key, leaf in other.items():
        have = into.get(key)
        if isinstance(have, dict) and isinstance(leaf, dict):
            _merge_tree(have, leaf)
        elif isinstance(have, list) and isinstance(leaf, list) and isinstance(have[0], dict):
            _merge_tree(have[0], leaf[0])  # type: ignore[arg-type]
        elif have is None or leaf != "VARCHAR":
            into[key] = leaf


def _under(path: str, tree: object) -> dict[str, object]:
    """``tree`` placed at dotted ``path``."""
    for part in reversed(path.split(".")):
        tree = {part: tree}
    return tree  # type: ignore[return-value]


def parse_structure(
    header: TargetRule,
    lines: TargetRule | None,
    extra_paths: tuple[str, ...] = (),
    shipment: TargetRule | None = None,
) -> str:
    """The ``json_transform`` structure (JSON text) of every mapped path, lines (and a parcel list)
    as lists."""
    tree = _rule_tree(header)
    for p in extra_paths:
        _insert(tree, p, "VARCHAR")
    if lines is not None and lines.items:
        _merge_tree(tree, _under(lines.items, [_rule_tree(lines)]))
    if shipment is not None:
        parcel = _rule_tree(shipment)
        _merge_tree(tree, _under(shipment.items, [parcel]) if shipment.items else parcel)
    return json.dumps(tree, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- one field


@dataclass(frozen=True)
class FieldSql:
    """The SQL of one target field: the native text, the typed value, and its checks."""

    name: str
    text: str  # native value as text after null detection and default (or NULL)
    value: str  # typed / mapped value
    checks: tuple[tuple[str, str, str], ...]  # (condition, rule, reason-expression)
    flags: tuple[tuple[str, str], ...] = ()  # (condition, flag): kept and flagged, never quarantined
    # a condition over ``u_<name>``, the value as ``value`` makes it: the typed value ``v_<name>``
    # is it where the condition holds, else NULL (times: ``time_sql`` and ``TIME_FROM``)
    kept: str | None = None
    # a text time: whether the text names its own zone (``_has_offset``), computed once as the column
    # ``z_<name>`` that ``value`` and the mixed_timezone flag both read
    zone: str | None = None
    # the typed amount of each of ``FieldRule.terms`` (over its text ``x_<name>_<i>``), computed
    # once as the column ``xv_<name>_<i>`` (``_term_value``) that ``value`` and its check both read
    term_values: tuple[str, ...] = ()
    # the field's column in the last layer, where every typed value is known (else ``v_<name>``): an
    # order status that depends on whether the order was paid (``EnumMap.when_paid``)
    final: str | None = None
    # (condition, flag, reason SQL): flags whose reason only the staged text can give (the value as
    # sent), written to the row's ``quality_notes`` (``field_notes``) for its unified.quality_flag row
    noted: tuple[tuple[str, str, str], ...] = ()


def _read(root: str, p: str, item_root: str | None) -> str:
    """Path ``p`` of the record ``root`` (or, starting ``item.``, of the element ``item_root``)."""
    return _item_path_expr(item_root, p) if item_root and p.startswith(ITEM_PREFIX) else _path_expr(root, p)


def _nulled(e: str, fr: FieldRule) -> str:
    """Text ``e``, NULL where it is one of the field's ``null_values`` (texts that mean "not set")."""
    if not fr.null_values:
        return e
    return f"CASE WHEN {e} IN ({', '.join(lit(v) for v in fr.null_values)}) THEN NULL ELSE {e} END"


def _native_text(root: str, fr: FieldRule, item_root: str | None = None) -> str:
    if fr.const is not None:
        return lit(fr.const)
    exprs = []
    for p in fr.all_paths:
        e = _read(root, p, item_root)
        if fr.kv:
            k, v = (ident(x) for x in fr.kv)
            e = f"NULLIF(array_to_string(list_transform({e}, lambda s: s.{k} || ':' || s.{v}), ';'), '')"
        exprs.append(_nulled(e, fr))
    if fr.join is not None:
        e = f"NULLIF(concat_ws({lit(fr.join)}, {', '.join(exprs)}), '')"
    else:
        e = exprs[0] if len(exprs) == 1 else f"COALESCE({', '.join(exprs)})"
    if fr.pattern is not None:
        e = f"NULLIF(regexp_extract({e}, {lit(fr.pattern)}, 1), '')"
    return f"COALESCE({e}, {lit(fr.default)})" if fr.default is not None else e


def _number(t: str, sql_type: str) -> str:
    """Number text → ``sql_type``, NULL when it is not one. Full-width digits, point and signs
    (０-９ ． － ＋, as Chinese input methods type them) read as their ASCII forms: Spark's cast
    reads them and DuckDB's does not, so both engines are given the ASCII text. Only text the plain
    cast cannot read is translated (COALESCE evaluates its second argument for those rows alone)."""
    half = f"translate({t}, {lit(FULL_WIDTH_NUMBER)}, {lit(HALF_WIDTH_NUMBER)})"
    return f"COALESCE(TRY_CAST({t} AS {sql_type}), TRY_CAST({half} AS {sql_type}))"


FULL_WIDTH_NUMBER, HALF_WIDTH_NUMBER = "０１２３４５６７８９．－＋", "0123456789.-+"


def _whole_number(t: str) -> str:
    """Number text → BIGINT when it is a whole number ("99", "99.00", "1e3"), else NULL ("99.5":
    DuckDB's own cast would round it, Spark's would refuse it; neither is a count or an epoch).
    Plain digits, nearly every value, are cast at once; only other text is read as a decimal."""
    d = _number(t, "DECIMAL(38,9)")
    return (
        f"CASE WHEN regexp_matches({t}, '^\\s*[+-]?[0-9]+\\s*$') THEN TRY_CAST({t} AS BIGINT) "
        f"WHEN {d} = floor({d}) THEN TRY_CAST({d} AS BIGINT) END"
    )


def is_blank(t: str) -> str:
    """True when text ``t`` is empty or only white space (``BLANK_CHARS``); NULL when it is NULL."""
    return f"regexp_matches({t}, {lit(_ALL_BLANK)})"


def has_blank_edge(t: str) -> str:
    """True when text ``t`` starts or ends with a blank (``BLANK_CHARS``)."""
    return f"regexp_matches({t}, {lit(_BLANK_EDGE)})"


def trimmed(t: str) -> str:
    """Text ``t`` without the blanks at its ends, NULL when nothing else is left: the trim itself
    only for the few texts that start or end with one."""
    return (
        f"CASE WHEN {has_blank_edge(t)} THEN NULLIF(trim({t}, {lit(BLANK_CHARS)}), '') "
        f"ELSE NULLIF({t}, '') END"
    )


def holds_tokens(tf: TargetField) -> bool:
    """A ``*_token`` column: it holds protected personal values only (``ef1:…``), never text."""
    return tf.type == "token" and tf.name.endswith("_token")


def _typed(tf: TargetField, fr: FieldRule, t: str, utc_offset: int, zone: str | None = None) -> str:
    if tf.type == "id":  # "" or "  " names nothing: two such orders are not one order ':'
        # and " 9200001" is 9200001: an export's padding must not make a second order of one
        return trimmed(t)
    if tf.type == "token":  # an empty personal field is no field, whatever the mapping says
        if holds_tokens(tf):  # anything else is plain text: refused (field_sql), never written
            return f"CASE WHEN starts_with({t}, {lit(TOKEN_PREFIX)}) THEN {t} END"
        return f"NULLIF({t}, '')"
    if tf.type == "int":
        return _whole_number(t)
    if tf.type == "bool":
        return f"TRY_CAST({t} AS BOOLEAN)"
    if tf.type == "money":
        if fr.unit == "fen":  # whole fen only: "199.50" is no amount in fen (a cast would round it)
            fen = f"TRY_CAST({_whole_number(t)} AS DECIMAL(18,0))"
            return f"CAST({fen} * CAST(0.01 AS DECIMAL(3,2)) AS {MONEY})"
        return _number(t, MONEY)
    if tf.type == "time":
        return time_sql(t, fr.time, utc_offset, zone)
    return t


# the end of a time text that names its zone: Z, UTC, GMT, or a sign 6, 5 or 3 characters from the
# end (±hh:mm, ±hhmm, ±hh)
ZONE_SUFFIX = r"(?s)(?:[Zz]|(?i:utc|gmt)|[+-].{5}|[+-].{4}|[+-].{2})\z"


def _has_offset(t: str) -> str:
    """Text that names its own zone (the mixed_timezone case): 2025-01-04T05:18:38Z, …+08:00,
    …+0800, …+08, … UTC or … GMT. Only a text longer than a date and minutes (16) can: the
    sign of a date's own '-01' never counts. One regular expression on the text's end (RE2 on DuckDB,
    Java's on Spark read it alike: ``(?s)`` lets '.' take any character, ``\\z`` is the very end)
    costs a fifth of the equivalent substr/right tests."""
    return f"(length({t}) > 15 AND regexp_matches({t}, {lit(ZONE_SUFFIX)}))"


def _zone_text(t: str) -> str:
    """A text ``_has_offset`` finds, its zone written ±hh:mm after the time (Z, UTC and GMT as
    +00:00; +0800 and +08 as +08:00; a space before the zone dropped): DuckDB and Spark read that
    form alike, and not every other (DuckDB reads no '… +08:00' nor '…GMT', Spark both)."""
    n = f"length({t})"
    return (
        f"CASE WHEN right({t}, 1) IN ('Z', 'z') THEN rtrim(left({t}, {n} - 1)) || '+00:00' "
        f"WHEN upper(right({t}, 3)) IN ('UTC', 'GMT') THEN rtrim(left({t}, {n} - 3)) || '+00:00' "
        f"WHEN substr({t}, {n} - 5, 1) IN ('+', '-') THEN rtrim(left({t}, {n} - 6)) || right({t}, 6) "
        f"WHEN substr({t}, {n} - 4, 1) IN ('+', '-') "
        f"THEN rtrim(left({t}, {n} - 5)) || substr({t}, {n} - 4, 3) || ':' || right({t}, 2) "
        f"ELSE rtrim(left({t}, {n} - 3)) || right({t}, 3) || ':00' END"
    )


def _timestamp(at: datetime) -> str:
    return f"TIMESTAMP '{at:%Y-%m-%d %H:%M:%S}'"


def _clamped(x: str, low: str, high: str) -> str:
    """``x`` held within [low, high], read once (``x`` NULL gives ``low``): a bound one past the
    range of times keeps an absurd value from overflowing, and is itself refused (``time_within``)."""
    return f"LEAST(GREATEST({x}, {low}), {high})"


def zone_column(name: str) -> str:
    """The column holding whether the text time ``t_<name>`` names its own zone (``FieldSql.zone``)."""
    return f"z_{name}"


def _names_own_zone(name: str, fr: FieldRule) -> str:
    """SQL: the time field ``name`` names its own zone (the mixed_timezone case): a text time, its
    ``z_`` column; a unix-time field, a text holding a '-' (a date where a number was declared)."""
    return zone_column(name) if fr.time == "datetime" else f"t_{name} LIKE '%-%'"


def time_sql(t: str, fmt: str, utc_offset: int, zone: str | None = None) -> str:
    """Native time text → UTC TIMESTAMP: zone-less text is in the platform's zone, text that names
    its zone is converted by it, unix seconds/ms by epoch; the declared format is tried first.
    A value outside ``TIME_FROM``…``TIME_UNTIL`` (or none) comes out a bound just outside them,
    never an arithmetic overflow: the run goes on, and ``time_within`` refuses the value.
    ``zone``: a column holding ``_has_offset(t)`` already (``zone_column``), read instead of testing again."""
    shift = timedelta(hours=utc_offset)
    low, high = _timestamp(TIME_FROM + shift - timedelta(seconds=1)), _timestamp(TIME_UNTIL + shift)
    local = f"{_clamped(f'TRY_CAST({t} AS TIMESTAMP)', low, high)} - INTERVAL {utc_offset} HOUR"
    zoned = f"CAST(TRY_CAST({_zone_text(t)} AS TIMESTAMPTZ) AS TIMESTAMP)"
    text = f"CASE WHEN {zone or _has_offset(t)} THEN {zoned} ELSE {local} END"
    if fmt == "datetime":
        return f"CAST({text} AS TIMESTAMP)"
    first, until = (int((d - datetime(1970, 1, 1)).total_seconds()) for d in (TIME_FROM, TIME_UNTIL))
    if fmt == "unix_s":
        epoch = f"make_timestamp({_clamped(_whole_number(t), str(first - 1), str(until))} * 1000000)"
    else:
        epoch = f"epoch_ms({_clamped(_whole_number(t), str(first * 1000 - 1), str(until * 1000))})"
    return f"CAST(CASE WHEN {t} LIKE '%-%' THEN {text} ELSE {epoch} END AS TIMESTAMP)"


def time_within(u: str) -> str:
    """True when the time ``u`` (UTC) is one a record may name (``TIME_FROM``…``TIME_UNTIL``)."""
    return f"{u} >= {_timestamp(TIME_FROM)} AND {u} < {_timestamp(TIME_UNTIL)}"


# the targets whose rows carry quality_notes (orders, refunds; store sales, as order lines): there a
# time that names its own zone is flagged mixed_timezone with the field and the text that named it
ZONE_NOTED = ("orders", "refund", "pos_sale")


def _zone_note(name: str, fr: FieldRule, where: str, t: str, utc_offset: int) -> tuple[str, str, str]:
    """(condition, flag, reason) of a time that names its own zone, or a date in a unix-time field
    (read as text, by the zone it names): kept in UTC by that zone, flagged mixed_timezone."""
    if fr.time == "datetime":
        said = f" names its own zone: read by it, not as the mapping's UTC+{utc_offset}"
    else:
        said = (f" is a date where {fr.time} is declared: read as text (by the zone it names, "
                f"else UTC+{utc_offset})")
    return _names_own_zone(name, fr), "mixed_timezone", f"{lit(f'{where} = ')} || {_shown(t)} || {lit(said)}"


def _map_case(t: str, emap: EnumMap) -> str:
    """The unified value of native code ``t``. A code the map lacks gives NULL, or the map's
    ``default`` (free-text reasons) — only for a text that is there: a reason not given, or blank,
    is none."""
    whens = " ".join(f"WHEN {lit(code)} THEN {lit(value)}" for code, value in emap.codes.items())
    default = "NULL" if emap.default is None else f"CASE WHEN NOT {is_blank(t)} THEN {lit(emap.default)} END"
    return f"CASE {t} {whens} ELSE {default} END"


SHOWN = 100  # characters of a refused text a reason quotes: enough to know it, never a whole payload


def _shown(t: str) -> str:
    """SQL: text ``t`` as a reason quotes it, cut after ``SHOWN`` characters ('…' marks the cut)."""
    return f"CASE WHEN length({t}) > {SHOWN} THEN left({t}, {SHOWN}) || '…' ELSE {t} END"


def _known(t: str, emap: EnumMap) -> str:
    return f"{t} IN ({', '.join(lit(c) for c in emap.codes)})"


def field_sql(target: Target, name: str, fr: FieldRule, m: Mapping, root: str) -> FieldSql:
    """The field over column references: native text ``t_<name>``, override texts ``o_<name>_<i>``,
    typed value ``v_<name>`` (see ``layered_fields``), so no expression is ever repeated."""
    tf = target.field(name)
    assert tf is not None
    text = f"t_{name}"
    where = f"{target.name}.{name} (path {', '.join(fr.all_paths) or 'const'})"
    checks: list[tuple[str, str, str]] = []
    flags: list[tuple[str, str]] = []
    noted: list[tuple[str, str, str]] = []
    zone: str | None = None
    term_values: tuple[str, ...] = ()
    if fr.map:
        emap = m.enum_map(fr.map)
        value = _map_case(text, emap)
        for i, o in enumerate(fr.overrides):
            omap = m.enum_map(o.map)
            otext = f"o_{name}_{i}"
            value = f"COALESCE(NULLIF({_map_case(otext, omap)}, ''), {value})"
            checks.append(
                (
                    f"{otext} IS NOT NULL AND NOT {_known(otext, omap)}",
                    "unknown_status",
                    f"{lit(f'{target.name}.{name} code ')} || {_shown(otext)} || "
                    f"{lit(f' (path {o.path}) is not in maps.{o.map} of {m.label}')}",
                )
            )
        unknown = f"{text} IS NOT NULL AND NOT {_known(text, emap)}"
        if emap.default is None and emap.on_unknown == "flag":
            flags.append((unknown, f"unknown_{emap.vocabulary}"))
        elif emap.default is None:
            checks.insert(
                0,
                (
                    unknown,
                    "unknown_status",
                    f"{lit(f'{target.name}.{name} code ')} || {_shown(text)} || "
                    f"{lit(f' (path {fr.path}) is not in maps.{fr.map} of {m.label}')}",
                ),
            )
    else:
        if tf.type == "time" and fr.time == "datetime":
            zone = _has_offset(text)
        value = _typed(tf, fr, text, m.utc_offset_hours, zone_column(name) if zone else None)
        if tf.type == "money":  # a number, but beyond DECIMAL(18,2): said so, not "not money"
            checks.append(_too_large(tf, fr, where, text, f"v_{name}"))
        if tf.type in ("int", "money", "time", "bool"):
            checks.append(
                (
                    f"{text} IS NOT NULL AND v_{name} IS NULL{_not_set_time(tf, fr, text)}",
                    "bad_value",
                    f"{lit(f'{where} = ')} || {_shown(text)} || {lit(f' is not {_kind(tf, fr)}')}",
                )
            )
        if tf.type == "money" and fr.unit != "fen":
            noted.append(_precision_note(where, text))
        if tf.type == "time" and fr.const is None and target.name in ZONE_NOTED:
            noted.append(_zone_note(name, fr, where, text, m.utc_offset_hours))
        if fr.terms:
            value, term_checks = _with_terms(target, tf, fr, value)
            checks += term_checks
            if fr.unit != "fen":
                noted += [_precision_note(f"{target.name}.{name} (path {p})", _term_text(name, i))
                          for i, (_, p) in enumerate(fr.terms)]
            # an amount has no clock: no utc offset
            term_values = tuple(_typed(tf, fr, _term_text(name, i), 0) for i in range(len(fr.terms)))
        if tf.type == "id":
            checks.append((_float_number(text), "bad_value", _float_id_why(where, text)))
        if holds_tokens(tf):  # the reason names the field and the path, never the text it refuses
            checks.append(
                (f"{text} IS NOT NULL AND v_{name} IS NULL AND NOT {is_blank(text)}", "bad_value",
                 lit(_plain_text_why(m, f"{target.name}.{name}", fr)))
            )
    if tf.required or fr.required:
        if fr.map or tf.type not in ("id", "token"):  # (a blank id or token is NULL already)
            # blank text is empty: no status code, no required text, not a bad number or time
            checks.insert(0, (is_blank(text), "missing_required", lit(f"{where} is empty")))
        checks.append((f"v_{name} IS NULL", "missing_required", lit(f"{where} is empty")))
    kept = time_within(f"u_{name}") if tf.type == "time" else None
    final = _when_paid(text, m.enum_map(fr.map), name) if fr.map else None
    return FieldSql(
        name, text, value, tuple(checks), tuple(flags), kept, zone, term_values, final, tuple(noted)
    )


# A number written as a float with an exponent (1.2345678901234569e+23, as DuckDB reads it;
# 1.2345678901234569E23, as Spark does). An id sent as a JSON integer beyond 64 bits reaches the raw
# zone so: landing's JSON parser (orjson) reads it as a float, its last digits lost, and two ids can
# become one. Nothing can give the digits back; the record is refused, and the reason says to send
# the id as text. ``contains`` first: of the ids of a run, only such a text is matched at all.
_FLOAT_NUMBER = "^[+-]?[0-9]+(\\.[0-9]+)?[eE][+-]?[0-9]+$"


def _float_number(t: str) -> str:
    """SQL: text ``t`` is a number in floating-point form with an exponent."""
    return f"((contains({t}, 'e') OR contains({t}, 'E')) AND regexp_matches({t}, {lit(_FLOAT_NUMBER)}))"


def _float_id_why(where: str, t: str) -> str:
    """SQL of the reason an id in floating-point form is refused: the text as DuckDB writes it on
    both engines (Spark's 1.5E23 as 1.5e+23), and the fix."""
    said = f"replace(replace(lower({t}), 'e+', 'e'), 'e', 'e+')"
    return (
        f"{lit(f'{where} = ')} || {_shown(said)} || "
        + lit(" is a number too large to read exactly: an id sent as a JSON number beyond 64 bits is read "
              "as a floating-point number, its last digits lost (two ids can become one); send the id "
              "as text (a JSON string)")
    )


def _when_paid(text: str, emap: EnumMap, name: str) -> str | None:
    """The status of an order that was paid where its code says otherwise before payment
    (``EnumMap.when_paid``: JD's TRADE_CANCELED is an order cancelled unpaid, or refunded once
    paid); None for a map without it."""
    if not emap.when_paid:
        return None
    whens = " ".join(f"WHEN {text} = {lit(c)} THEN {lit(v)}" for c, v in emap.when_paid.items())
    return f"CASE WHEN v_paid_at IS NULL THEN v_{name} {whens} ELSE v_{name} END"


def _with_terms(
    target: Target, tf: TargetField, fr: FieldRule, value: str
) -> tuple[str, list[tuple[str, str, str]]]:
    """``value`` with the amounts ``fr`` adds and subtracts (``FieldRule.terms``, in the field's
    unit; one not set counts 0), and the bad_value check of each: an amount that is not one
    fails its record, never counts 0."""
    total, checks = value, []
    for i, (sign, p) in enumerate(fr.terms):
        text, typed = _term_text(tf.name, i), _term_value(tf.name, i)
        total = f"{total} {sign} COALESCE({typed}, 0)"
        checks.append(_too_large(tf, fr, f"{target.name}.{tf.name} (path {p})", text, typed))
        checks.append((
            f"{text} IS NOT NULL AND {typed} IS NULL",
            "bad_value",
            f"{lit(f'{target.name}.{tf.name} (path {p}) = ')} || {_shown(text)} || "
            f"{lit(f' is not {_kind(tf, fr)}')}",
        ))
    return f"CAST({total} AS {MONEY})", checks


# The amounts DECIMAL(18,2) holds: below 10^16 yuan, 10^18 fen.
MONEY_LIMIT = {"yuan": ("1e16", "9999999999999999.99 yuan"), "fen": ("1e18", "999999999999999999 fen")}


def _too_large(tf: TargetField, fr: FieldRule, where: str, t: str, typed: str) -> tuple[str, str, str]:
    """The bad_value check of an amount that is a number, but one too large for the model's money
    (DECIMAL(18,2)): said so, with the limit, where text that is no number is "not money". Read as
    a DOUBLE only for the rows the typed value ``typed`` is NULL for."""
    bound, said = MONEY_LIMIT[fr.unit]
    x = _number(t, "DOUBLE")
    cond = f"{t} IS NOT NULL AND {typed} IS NULL AND abs({x}) >= {bound} AND NOT isnan({x})"
    why = f"{lit(f'{where} = ')} || {_shown(t)} || {lit(f' is too large: money holds at most {said}')}"
    return cond, "bad_value", why


def _kind(tf: TargetField, fr: FieldRule) -> str:
    """What a value of ``tf`` must be, as a bad_value reason says it."""
    if tf.type == "money":
        return "money in fen (a whole number)" if fr.unit == "fen" else f"money in {fr.unit}"
    if tf.type == "time":
        return f"{fr.time}, a time {TIME_SPAN}"
    return tf.type


def _not_set_time(tf: TargetField, fr: FieldRule, t: str) -> str:
    """The bad_value condition's exception for 0 in an optional unix time: platforms write it for
    "not yet" (Douyin's pay_time of an unpaid order), so it is no time, not a bad one. In a required
    time it is bad_value: 1970 is no time a record was made."""
    if tf.type == "time" and fr.time != "datetime" and not (tf.required or fr.required):
        return f" AND {t} <> '0'"
    return ""


def _plain_text_why(m: Mapping, field: str, fr: FieldRule) -> str:
    """Why a ``*_token`` field refuses text that is not a protected token, and the fix: declare
    the path personal, so that landing encrypts it. The value itself is never in the reason."""
    paths = ", ".join(fr.all_paths) or "const"
    kind = next((k for k in ("phone", "id_number", "email", "address", "name") if k in field), "name")
    path = fr.all_paths[0].removeprefix(ITEM_PREFIX) if fr.all_paths else "field"
    example = f'"{path}" = "{kind}"'
    return (
        f"{field} (path {paths}) is plain text, not a protected token (ef1:…): declare the path "
        f"personal in the workspace's pii_fields.toml ([platforms.{m.platform}.fields] {example}; "
        f"[security] pii_fields names another file) and land the records again, so that landing "
        f"encrypts it"
    )


def _raised(fields: list[FieldSql]) -> dict[str, list[str]]:
    """Each flag ``fields`` can raise (in the order first raised) → the conditions that raise it."""
    out: dict[str, list[str]] = {}
    for f in fields:
        for cond, flag in f.flags:
            out.setdefault(flag, []).append(cond)
        for cond, flag, _ in f.noted:
            out.setdefault(flag, []).append(cond)
    return out


def field_flags(fields: list[FieldSql]) -> list[str]:
    """One ``CASE`` per flag the fields raise (a code its map does not know, ``on_unknown = 'flag'``;
    an amount rounded to the fen, money_precision), however many fields raise it: the flag's name,
    or NULL."""
    return [f"CASE WHEN {' OR '.join(conds)} THEN {lit(flag)} END" for flag, conds in _raised(fields).items()]


def _flag_names(fields: list[FieldSql]) -> list[str]:
    """The flags ``fields`` can raise, sorted."""
    return sorted(_raised(fields))


NOTE_SEPARATOR = "\n"  # between the 'rule: reason' entries of a row's quality_notes


def field_notes(fields: list[FieldSql]) -> str:
    """SQL of a row's ``quality_notes``: one 'rule: reason' line per noted flag it raises, each
    field that raised it said ('; ' between them); NULL when it raises none."""
    by_flag: dict[str, list[str]] = {}
    for f in fields:
        for cond, flag, why in f.noted:
            by_flag.setdefault(flag, []).append(f"CASE WHEN {cond} THEN {why} END")
    if not by_flag:
        return "CAST(NULL AS VARCHAR)"
    lines = [f"{lit(flag + ': ')} || NULLIF(concat_ws('; ', {', '.join(whys)}), '')"
             for flag, whys in by_flag.items()]
    return f"NULLIF(concat_ws({lit(NOTE_SEPARATOR)}, {', '.join(lines)}), '')"


# Text with three characters after its point (or a negative exponent) may hold a fraction of a fen;
# only there is the exact amount read again and compared with the one kept: one LIKE per amount.
MONEY_PRECISION = "money_precision"


def _precision_note(where: str, t: str) -> tuple[str, str, str]:
    """(condition, flag, reason) of an amount in yuan with a fraction of a fen (99.999): kept
    rounded to the fen (DECIMAL(18,2)) and flagged, the reason saying what was sent and kept."""
    kept = _number(t, MONEY)
    maybe = f"({t} LIKE '%.___%' OR {t} LIKE '%．___%' OR contains({t}, 'e-'))"
    cond = f"({maybe} AND {_number(t, 'DECIMAL(38,9)')} <> {kept})"
    why = (f"{lit(f'{where} = ')} || {_shown(t)} || ' has more than two decimals: kept as ' || "
           f"CAST({kept} AS VARCHAR) || ' yuan'")
    return cond, MONEY_PRECISION, why


def _flag_list(conds: list[str]) -> str:
    """SQL of a row's comma list of flags from ``conds`` (each a flag's name or NULL); NULL for none."""
    return f"NULLIF(concat_ws(',', {', '.join(conds)}), '')" if conds else "CAST(NULL AS VARCHAR)"


def _line_bounds(price: str, quantity: str, m: Mapping) -> list[str]:
    """The flags of an order line's bounds: a unit price ``price`` not above zero or above the
    mapping's bound (price_out_of_range), a ``quantity`` likewise (quantity_out_of_range)."""
    return [
        f"CASE WHEN {price} <= 0 OR {price} > {m.max_unit_price} THEN 'price_out_of_range' END",
        f"CASE WHEN {quantity} <= 0 OR {quantity} > {m.max_quantity} THEN 'quantity_out_of_range' END",
    ]


def _each_once(names: list[str], raised: Callable[[str], str]) -> str:
    """Flags text: each of ``names`` for which the SQL condition ``raised(name)`` holds, once, in the
    order given, comma-joined; NULL when none does."""
    each = ", ".join(f"CASE WHEN {raised(n)} THEN {lit(n)} END" for n in names)
    return f"NULLIF(concat_ws(',', {each}), '')"


def target_fields(target: Target, rule: TargetRule, m: Mapping, root: str) -> list[FieldSql]:
    """SQL for every field of ``target``; unmapped fields are typed NULLs."""
    out = []
    for tf in target.fields:
        fr = rule.fields.get(tf.name)
        if fr is None:
            out.append(FieldSql(tf.name, "NULL", f"CAST(NULL AS {SQL_TYPES[tf.type]})", ()))
        else:
            out.append(field_sql(target, tf.name, fr, m, root))
    return out


def text_columns(rule: TargetRule, root: str, item_root: str | None = None) -> list[str]:
    """Layer 1: each mapped field's native text (and override texts) computed once, as columns;
    with ``item_root``, paths starting ``item.`` read the column ``item_root`` (keyed items)."""
    cols = []
    for name, fr in rule.fields.items():
        cols.append(f"{_native_text(root, fr, item_root)} AS t_{name}")
        cols += [f"{_path_expr(root, o.path)} AS o_{name}_{i}" for i, o in enumerate(fr.overrides)]
        cols += [f"{_nulled(_read(root, p, item_root), fr)} AS {_term_text(name, i)}"
                 for i, (_, p) in enumerate(fr.terms)]
    return cols


def _term_text(name: str, i: int) -> str:
    """The text column of the ``i``-th amount field ``name`` adds or subtracts (``FieldRule.terms``)."""
    return f"x_{name}_{i}"


def _term_value(name: str, i: int) -> str:
    """The typed column of that amount (``FieldSql.term_values``)."""
    return f"xv_{name}_{i}"


def layered_select(
    carry: str,
    source: str,
    rule: TargetRule,
    fields: list[FieldSql],
    root: str,
    layer1_extra: list[str],
    final_extra: list[str],
    item_root: str | None = None,
    *,
    parsed: bool = False,
    record_checks: Sequence[tuple[str, str, str]] = (),
) -> str:
    """text columns (layer 1) → each text time's zone test ``z_`` (``FieldSql.zone``) and each added
    or subtracted amount typed, ``xv_`` (``FieldSql.term_values``; layer 1b) →
    typed ``v_`` columns (layer 2; a field with ``kept``: ``u_``, and ``v_`` where it is kept,
    layer 3) → values, extras, ``_rule``/``_reason``.
    ``parsed``: ``root`` is the payload as ``parse_payload`` gives it, NULL when the payload is not
    JSON; such a record fails ``MALFORMED`` before any field check. ``record_checks``: (condition
    over layer 1, rule, reason SQL) of the record as a whole, checked before its fields."""
    mapped = [f for f in fields if f.name in rule.fields]
    if parsed:  # the first record check: nothing else can be read from a payload that did not parse
        layer1_extra = [*layer1_extra, f"{root} IS NULL AS _unparsed"]
        record_checks = [("_unparsed", MALFORMED, lit(MALFORMED_WHY)), *record_checks]
    rule_sql, reason_sql = rule_columns(fields)
    for cond, name, why in reversed(record_checks):
        rule_sql = f"CASE WHEN {cond} THEN {lit(name)} ELSE {rule_sql} END"
        reason_sql = f"CASE WHEN {cond} THEN {lit(name + ': ')} || {why} ELSE {reason_sql} END"
    layer1 = ",\n      ".join([carry, *text_columns(rule, root, item_root), *layer1_extra])
    texts = f"(SELECT {layer1}\n    FROM {source}) AS s1"
    zones = [f"{f.zone} AS {zone_column(f.name)}" for f in mapped if f.zone]
    # each text time's zone test once, for its value and its mixed_timezone flag; each added or
    # subtracted amount typed once, for its field's value and its bad_value check
    once = zones + [f"{t} AS {_term_value(f.name, i)}" for f in mapped for i, t in enumerate(f.term_values)]
    if once:
        texts = f"(SELECT *, {', '.join(once)}\n    FROM {texts}) AS s0"
    typed = ", ".join(f"{f.value} AS {'u' if f.kept else 'v'}_{f.name}" for f in mapped) or "1 AS _none"
    layer2 = f"SELECT *, {typed}\n  FROM {texts}"
    kept = [f"CASE WHEN {f.kept} THEN u_{f.name} END AS v_{f.name}" for f in mapped if f.kept]
    if kept:  # layer 3: a value kept only where it may be (times within TIME_FROM…TIME_UNTIL)
        layer2 = f"SELECT *, {', '.join(kept)}\n  FROM ({layer2}) AS s3"
    final = ",\n    ".join(
        [
            carry,
            *(f"{f.final or 'v_' + f.name} AS {f.name}" if f in mapped else f"{f.value} AS {f.name}"
              for f in fields),
            *final_extra,
            f"{rule_sql} AS _rule",
            f"{reason_sql} AS _reason",
        ]
    )
    return f"SELECT {final}\nFROM ({layer2}) AS s2"


MALFORMED = "malformed_payload"
MALFORMED_WHY = "the payload is missing, is not valid JSON or is not a JSON object"
MALFORMED_REASON = f"{MALFORMED}: {MALFORMED_WHY}"  # as _reason says it


def parse_payload(structure: str) -> str:
    """The one parse of a raw record's payload into the struct ``structure`` (``json_transform``);
    NULL, not an error, for a payload that is not JSON, so one bad record fails its own rule
    (``MALFORMED``) instead of the whole run. (Spark's ``from_json`` is NULL for it already.) NULL
    too for JSON that is not an object (an array, a string, a number): ``json_transform`` would make
    it a struct of NULLs, and the record would fail as if it lacked its fields. Told by the first
    character that is not blank, which costs a run 1/30 of the parse."""
    return (
        "CASE WHEN regexp_matches(payload, '^\\s*\\{') "
        f"THEN TRY(json_transform(payload, {lit(structure)})) END"
    )


def rule_columns(fields: list[FieldSql]) -> tuple[str, str]:
    """``_rule`` and ``_reason``: the first check that fails, in field order."""
    checks = [c for f in fields for c in f.checks]
    if not checks:
        return "CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)"
    rule = "CASE " + " ".join(f"WHEN {cond} THEN {lit(r)}" for cond, r, _ in checks) + " END"
    reason = (
        "CASE " + " ".join(f"WHEN {cond} THEN {lit(r + ': ')} || {why}" for cond, r, why in checks) + " END"
    )
    return rule, reason


def _token_bidx(col: str) -> str:
    return f"CASE WHEN starts_with({col}, 'ef1:') THEN NULLIF(split_part({col}, ':', 4), '') END"


def _account_id(col: str) -> str:
    # A token as account id (Pinduoduo: no buyer id) stands for its blind index.
    return (
        f"CASE WHEN starts_with({col}, 'ef1:') THEN "
        f"NULLIF(split_part({col}, ':', 2) || '-' || split_part({col}, ':', 4), "
        f"split_part({col}, ':', 2) || '-') ELSE NULLIF({col}, '') END"
    )


# public names for the warehouse's keyed path (warehouse/keyed.py)
token_bidx = _token_bidx
account_id_sql = _account_id

# ---------------------------------------------------------------- orders and lines

ENVELOPE = "raw_record_id, source, platform, shop_id, raw_file"
# an order or keyed record also carries when it was pulled: of two versions that name one time (or,
# keyed, none of their own: a snapshot re-sent, a parcel's history pushed again), the one pulled
# later is the later
KEYED_ENVELOPE = f"{ENVELOPE}, pulled_at"
# the envelope as the stages read it from the raw zone: its time cast as the model keeps times
ENVELOPE_FROM_RAW = f"{ENVELOPE}, CAST(pulled_at AS TIMESTAMP) AS pulled_at"


def line_id_paths(m: Mapping) -> list[str]:
    """The item paths that tell an order line apart: its line id, else its SKU, else its item id."""
    assert m.order_line is not None
    fields = m.order_line.fields
    return [p for f in ("line_id", "sku_id", "item_id") if (fr := fields.get(f)) for p in fr.all_paths]


def non_object_element(items: str, path: str, keys: list[str]) -> str:
    """True when the parsed list ``items`` (at ``path`` in the payload) holds an element that is
    not a JSON object (nor null). Spark's ``from_json`` makes such a list NULL (and
    ``engine.dialect`` types no element there); DuckDB's gives the element a struct of NULLs, as
    it does ``{}``. So the elements' JSON types are read only for a record with an element none of
    whose ``keys`` (expressions of the element ``x``) has a value."""
    no_key = " AND ".join(["x IS NOT NULL", *(f"{k} IS NULL" for k in keys)])
    types = f"json_type(payload, {lit('$.' + path + '[*]')})"
    return (
        f"(array_length(list_filter({items}, lambda x: {no_key})) > 0 AND "
        f"array_length(list_filter({types}, lambda t: t NOT IN ('OBJECT', 'NULL'))) > 0)"
    )


def _list_on(path: str) -> str:
    """The first key on the way to dotted ``path`` whose value in the payload is a list with an
    element, or NULL. The parse reads a list where it expects an object as NULL (DuckDB: a struct
    of NULLs), and so does ``json_extract_string`` of a path through it: only the key's own text
    tells. A second parse: for the records whose ``path`` gave nothing."""
    parts = path.split(".")
    whens = []
    for i in range(1, len(parts)):
        key = ".".join(parts[:i])
        text = f"json_extract_string(payload, {lit('$.' + key)})"
        whens.append(f"WHEN left({text}, 1) = '[' AND {text} <> '[]' THEN {lit(key)}")
    return f"CASE {' '.join(whens)} END"


def orders_header_sql(m: Mapping, raw_view: str) -> str:
    """One row per raw order record of ``m.platform``: typed header + ``_items`` + rule columns."""
    assert m.orders is not None
    structure = parse_structure(
        m.orders, m.order_line, tuple(t.path for t in m.test_markers), shipment=m.shipment
    )
    fields = target_fields(TARGETS["orders"], m.orders, m, "j")
    layer1 = []
    marker = _test_marker_field(m, "orders", "j")
    if marker is not None:
        layer1.append(marker[0])
        fields.insert(0, marker[1])
    items = _path_expr("j", m.order_line.items) if m.order_line and m.order_line.items else "NULL"
    layer1.append(f"{items} AS _items")
    checks = []
    if m.order_line is not None and m.order_line.items:
        # A line list that is there but is not a list of objects ("nope", [7], ["x", {…}]) would
        # leave the order without its lines: read its text (only then, a second parse) and fail it.
        path = m.order_line.items
        ids = [_path_expr("x", p) for p in line_id_paths(m)]  # an object without them is an object
        layer1.append(
            f"CASE WHEN {items} IS NULL AND j IS NOT NULL OR {non_object_element(items, path, ids)} THEN "
            f"json_extract_string(payload, {lit('$.' + path)}) END AS _items_unread"
        )
        said = f"{lit(f'order_line items (path {path}) = ')} || _items_unread || ' is not a list of objects'"
        checks.append(("_items_unread IS NOT NULL", "bad_value", said))
        if "." in path:  # a list on the way (packages.goods, packages a list) reads as no list at all
            layer1.append(
                f"CASE WHEN {items} IS NULL AND j IS NOT NULL THEN {_list_on(path)} END AS _items_crossed"
            )
            said = (f"{lit(f'order_line items (path {path}) crosses a list at ')} || _items_crossed || "
                    f"{lit(': a path names object keys, it cannot reach into the elements of a list')}")
            checks.append(("_items_crossed IS NOT NULL", "bad_value", said))
    ships = _parcels_column(m)
    if ships is not None:
        layer1.append(f"{ships} AS _ships")
    flags = field_flags(fields)  # mixed_timezone among them (``ZONE_NOTED``)
    final = [
        "_items",
        *(["_ships"] if ships is not None else []),
        f"concat_ws(',', {', '.join(flags)}) AS _flags" if flags else "'' AS _flags",
        f"{field_notes(fields)} AS _notes",
        f"{platform_status_expr(m)} AS _platform_status",
        f"{lit(m.label)} AS _mapping",
    ]
    source = (
        f"(SELECT {ENVELOPE_FROM_RAW}, {'payload, ' if checks else ''}{parse_payload(structure)} AS j\n"
        f"      FROM {raw_view} WHERE platform = {lit(m.platform)}) AS src"
    )
    return layered_select(
        KEYED_ENVELOPE, source, m.orders, fields, "j", layer1, final, parsed=True, record_checks=checks
    )


def orders_stage_sql(header_view: str, max_amount: float = 1_000_000.0, regions: str | None = None) -> str:
    """Derived order columns over a header view (same for every platform); ``regions`` (from
    ``regions.RegionStandardizer``) replaces receiver region names by the division table's."""
    off = BUSINESS_UTC_OFFSET_HOURS

    def region(level: str) -> str:
        return f"COALESCE(r.std_{level}, receiver_{level})" if regions else f"receiver_{level}"

    # the triple exactly as ``regions`` holds it (one row per DISTINCT triple, NULL equal to NULL):
    # matching '' to NULL would find two rows for one order and write it twice
    join = (
        f" AS h\nLEFT JOIN {regions} AS r ON r.province IS NOT DISTINCT FROM h.receiver_province "
        f"AND r.city IS NOT DISTINCT FROM h.receiver_city "
        f"AND r.district IS NOT DISTINCT FROM h.receiver_district"
        if regions
        else ""
    )
    return (
        f"SELECT {KEYED_ENVELOPE}, platform || ':' || platform_order_id AS order_key, platform_order_id,\n"
        f"    shop_name,\n"
        f"    CASE WHEN {_account_id('account_id')} IS NOT NULL THEN platform || ':' || "
        f"{_account_id('account_id')} END AS account_key,\n"
        f"    buyer_nickname, status, created_at, paid_at, shipped_at, finished_at, modified_at,\n"
        f"    CAST(COALESCE(created_at, modified_at) + INTERVAL {off} HOUR AS DATE) AS business_date,\n"
        f"    goods_amount, discount_amount, freight_amount, pay_amount, 'CNY' AS currency,\n"
        f"    receiver_name_token, receiver_phone_token, {_token_bidx('receiver_phone_token')} "
        f"AS receiver_phone_bidx,\n"
        f"    receiver_phone_masked, {_completed_region(region('province'), region('city'))},\n"
        f"    {region('district')} AS receiver_district, receiver_phone_province, receiver_phone_city,\n"
        f"    receiver_address_token, {_token_bidx('receiver_address_token')} AS receiver_address_bidx,\n"
        f"    NULLIF(concat_ws(',', NULLIF(_flags, ''), CASE WHEN pay_amount < 0 OR pay_amount >"
        f" {max_amount} "
        f"THEN 'price_out_of_range' END), '') AS quality_flags, _notes AS quality_notes,\n"
        f"    _platform_status AS platform_status, _rule, _reason, _mapping\n"
        f"FROM {header_view}{join}"
    )


def _completed_region(province: str, city: str) -> str:
    """Receiver province/city as observed, or — only when the order names no province — the
    region of the receiver's phone (derived at landing), with ``receiver_region_source`` saying
    which: 'address' or 'phone_prefix' (a completion, not an observation; standard 5.2 L3 c)."""
    missing = f"NULLIF({province}, '') IS NULL"
    completed = f"{missing} AND receiver_phone_province IS NOT NULL"
    return (
        f"CASE WHEN {completed} THEN receiver_phone_province ELSE {province} END AS receiver_province, "
        f"CASE WHEN {completed} THEN receiver_phone_city ELSE {city} END AS receiver_city,\n"
        f"    CASE WHEN NOT ({missing}) THEN 'address' WHEN {completed} THEN 'phone_prefix' END"
        f" AS receiver_region_source"
    )


def platform_status_expr(m: Mapping) -> str:
    assert m.orders is not None
    fr = m.orders.fields["status"]
    parts = ["t_status", *(f"o_status_{i}" for i in range(len(fr.overrides)))]
    return parts[0] if len(parts) == 1 else " || '/' || ".join(f"COALESCE({p}, '')" for p in parts)


@dataclass(frozen=True)
class PartialRefundSql:
    """SQL over an order row's ``platform_status`` (``platform_status_expr``'s codes joined by '/') for
    a mapping whose status overrides name ``partial_refund`` codes (``warehouse/settlement.py``)."""

    said: str  # the override code that made the order refunded, as 'refund_status 4'; NULL: none did
    base: str  # the status the codes give with those codes taken as no override
    own: str  # the status's own code, as 'order_status 2'


def partial_refund_sql(m: Mapping, platform_status: str = "platform_status") -> PartialRefundSql | None:
    """The settlement's view of ``m``'s order statuses; None when no map its status overrides read
    names ``partial_refund`` codes."""
    fr = m.orders.fields.get("status") if m.orders is not None else None
    if fr is None or fr.map is None or not any(m.enum_map(o.map).partial_refund for o in fr.overrides):
        return None

    def part(k: int) -> str:  # platform_status_expr writes a code not given as ''
        # not split_part: DuckDB 2.0 fails to bind `split_part(x, '/', k) = 'c'` over some plans
        # ("BindBuiltinScalarFunction did not return a BoundFunctionExpression")
        return f"NULLIF(regexp_extract({platform_status}, '^{'[^/]*/' * (k - 1)}([^/]*)', 1), '')"

    value, said = _map_case(part(1), m.enum_map(fr.map)), list[str]()
    for i, o in enumerate(fr.overrides):
        omap = m.enum_map(o.map)
        partial = set(omap.partial_refund)
        unsaid = {c: "" if c in partial else v for c, v in omap.codes.items()}  # partial: no override
        kept = omap.model_copy(update={"codes": unsaid})
        code = part(i + 2)
        value = f"COALESCE(NULLIF({_map_case(code, kept)}, ''), {value})"
        if partial:  # a later override wins, so its words come first
            codes = ", ".join(lit(c) for c in sorted(partial))
            said.insert(0, f"CASE WHEN {code} IN ({codes}) THEN {lit(o.path + ' ')} || {code} END")
    said_sql = said[0] if len(said) == 1 else f"COALESCE({', '.join(said)})"
    return PartialRefundSql(said_sql, value, f"{lit(fr.all_paths[0] + ' ')} || {part(1)}")


def lines_sql(m: Mapping, header_view: str) -> str:
    """One row per line item of each order record in ``header_view``."""
    assert m.order_line is not None
    fields = target_fields(TARGETS["order_line"], m.order_line, m, "l")
    carry = (
        "raw_record_id, raw_file, platform, shop_id, order_key, platform_order_id, business_date, "
        "_order_discount, _order_lines"
    )
    rs = "t_refund_status" if "refund_status" in m.order_line.fields else "CAST(NULL AS VARCHAR)"
    source = (
        f"(SELECT raw_record_id, raw_file, platform, shop_id, platform || ':' || platform_order_id"
        f" AS order_key,\n"
        f"      platform_order_id, CAST(COALESCE(created_at, modified_at) + INTERVAL "
        f"{BUSINESS_UTC_OFFSET_HOURS} HOUR AS DATE) AS business_date,\n"
        f"      discount_amount AS _order_discount, array_length(_items) AS _order_lines,\n"
        f"      unnest(_items) AS l\n"
        f"      FROM {header_view}) AS x"
    )
    final = [
        f"{rs} AS platform_refund_status",
        f"{_flag_list(field_flags(fields))} AS _flags",
        f"{field_notes(fields)} AS _notes",
    ]
    return layered_select(carry, source, m.order_line, fields, "l", [], final)


def allocates_order_discount(m: Mapping) -> bool:
    """Whether the platform's lines carry no share of the discount (no line discount, no line paid
    amount: JD, Pinduoduo): then the order's discount is spread over its lines by ``lines_stage_sql``."""
    return m.order_line is not None and not {"discount_amount", "pay_amount"} & set(m.order_line.fields)


# the columns of a staged line (``lines_stage_sql``), in order
LINE_STAGE_COLUMNS = (
    "raw_record_id", "raw_file", "platform", "shop_id", "order_key", "platform_order_id", "business_date",
    "line_id", "line_key", "listing_key", "item_id", "sku_id", "outer_sku_code", "barcode", "title",
    "spec_text", "quantity", "unit_price", "line_amount", "discount_amount", "pay_amount", "refund_status",
    "platform_refund_status", "quality_flags", "quality_notes", "_rule", "_reason",
)


def _cents(amount: str) -> str:
    return f"CAST({amount} * 100 AS BIGINT)"


def _pro_rata_sql(lines: str) -> str:
    """``lines`` with the order's discount spread over its lines in proportion to their amounts,
    in whole fen by the largest-remainder rule (ties by line key), so the lines' discounts add up
    to the order's exactly (at most the order's positive line amounts: no line is paid below 0).
    The line of a one-line order takes the whole discount without a window."""
    own_line = (
        "CASE WHEN line_amount > 0 THEN LEAST(GREATEST(COALESCE(_order_discount, 0), 0), line_amount) "
        "ELSE CAST(0 AS DECIMAL(18,2)) END"
    )
    single = {"discount_amount": f"CAST({own_line} AS DECIMAL(18,2))",
              "pay_amount": f"CAST(line_amount - {own_line} AS DECIMAL(18,2))"}
    cols = ", ".join(f"{single[c]} AS {c}" if c in single else c for c in LINE_STAGE_COLUMNS)
    return (
        f"SELECT {cols} FROM {lines} WHERE _order_lines = 1\nUNION ALL\n"
        f"{_spread_sql(f'(SELECT * FROM {lines} WHERE _order_lines > 1) AS m')}"
    )


def _spread_sql(lines: str) -> str:
    """The windowed largest-remainder spread of ``_pro_rata_sql`` (orders of several lines)."""
    per_order = "PARTITION BY raw_record_id, raw_file"
    amount = f"CASE WHEN line_amount > 0 THEN {_cents('line_amount')} ELSE 0 END"
    shares = (
        f"SELECT *, CASE WHEN _total > 0 THEN _disc * _amount // _total ELSE 0 END AS _base,\n"
        f"    CASE WHEN _total > 0 THEN (_disc * _amount) % _total ELSE 0 END AS _rem\n"
        f"  FROM (SELECT *, LEAST(GREATEST(COALESCE({_cents('_order_discount')}, 0), 0), _total) AS _disc\n"
        f"    FROM (SELECT *, {amount} AS _amount, sum({amount}) OVER ({per_order}) AS _total\n"
        f"      FROM {lines}) AS a) AS d"
    )
    ranked = (
        f"SELECT *, _disc - sum(_base) OVER ({per_order}) AS _short,\n"
        f"    row_number() OVER ({per_order} ORDER BY _rem DESC, line_key) AS _rank\n"
        f"  FROM ({shares}) AS s"
    )
    alloc = "CAST((_base + CASE WHEN _rank <= _short THEN 1 ELSE 0 END) * 0.01 AS DECIMAL(18,2))"
    own = {"discount_amount": alloc, "pay_amount": f"CAST(line_amount - {alloc} AS DECIMAL(18,2))"}
    cols = ", ".join(f"{own[c]} AS {c}" if c in own else c for c in LINE_STAGE_COLUMNS)
    return f"SELECT {cols}\nFROM ({ranked}) AS r"


def lines_stage_sql(lines_view: str, m: Mapping) -> str:
    """Derived line columns: keys, amounts completed from each other, outlier flags; the order's
    discount spread over the lines where the platform gives no line-level share
    (``allocates_order_discount``)."""
    qty_price = "CAST(quantity * unit_price AS DECIMAL(18,2))"
    price = "COALESCE(unit_price, CAST(line_amount / NULLIF(quantity, 0) AS DECIMAL(18,2)))"
    amount = f"COALESCE(line_amount, {qty_price})"
    pro_rata = allocates_order_discount(m)
    # a line needs an id to be told apart (the platform's line id, else its SKU or item id): an object
    # without any fails its order, as a missing required field does (an element that is not an
    # object has failed it in the header already: non_object_element)
    line_id = "COALESCE(line_id, sku_id, item_id)"
    assert m.order_line is not None
    paths = ", ".join(line_id_paths(m))
    no_id = lit(f"missing_required: order_line.line_id (paths {paths}) is empty: the item has no line, SKU "
                "or item id")
    rule = f"COALESCE(_rule, CASE WHEN {line_id} IS NULL THEN 'missing_required' END)"
    reason = f"COALESCE(_reason, CASE WHEN {line_id} IS NULL THEN {no_id} END)"
    # 'none' only where the platform's lines say so; lines that carry no refund state (JD,
    # Pinduoduo) leave it unknown rather than claim no refund: their refunds are unified.refund's
    refund = "COALESCE(refund_status, 'none')" if "refund_status" in m.order_line.fields else "refund_status"
    staged = (
        f"SELECT raw_record_id, raw_file, platform, shop_id, order_key, platform_order_id, business_date,\n"
        f"    {line_id} AS line_id,\n"
        f"    order_key || ':' || {line_id} AS line_key,\n"
        f"    platform || ':' || item_id || ':' || COALESCE(sku_id, item_id) AS listing_key,\n"
        f"    item_id, sku_id, outer_sku_code, barcode, title, spec_text, quantity,\n"
        f"    {price} AS unit_price, {amount} AS line_amount,\n"
        # a line that gives its paid amount but no discount (douyin) was discounted by the difference
        f"    COALESCE(discount_amount, CAST({amount} - pay_amount AS DECIMAL(18,2)),"
        f" CAST(0 AS DECIMAL(18,2))) AS discount_amount,\n"
        f"    COALESCE(pay_amount, CAST({amount} - COALESCE(discount_amount, 0) AS DECIMAL(18,2)))"
        f" AS pay_amount,\n"
        f"    {refund} AS refund_status, platform_refund_status,\n"
        f"    {_flag_list([*_line_bounds(price, 'quantity', m), '_flags'])} AS quality_flags,"
        f" _notes AS quality_notes,\n"
        f"    {'_order_discount, _order_lines, ' if pro_rata else ''}{rule} AS _rule, {reason} AS _reason\n"
        f"FROM {lines_view}"
    )
    return _pro_rata_sql(f"({staged}) AS l") if pro_rata else staged


# ---------------------------------------------------------------- shipments (parcels of an order)


def _struct_sql(tree: dict[str, object], root: str) -> str:
    """A struct literal of the paths of parse ``tree`` read off ``root`` (same nesting)."""
    parts = []
    for key, leaf in tree.items():
        expr = _struct_sql(leaf, f"{root}.{ident(key)}") if isinstance(leaf, dict) else f"{root}.{ident(key)}"
        parts.append(f"{lit(key)}: {expr}")
    return "{" + ", ".join(parts) + "}"


def _parcels_column(m: Mapping) -> str | None:
    """The header column ``_ships``: the order's parcel list as the payload gives it, or a struct of
    the order's own waybill fields (its one parcel); None when the parcels are the order's line list
    (read from ``_items``, not copied) or the mapping has no shipment rule."""
    rule = m.shipment
    if rule is None or (rule.items and m.order_line is not None and rule.items == m.order_line.items):
        return None
    if rule.items:
        return _path_expr("j", rule.items)
    return _struct_sql(_rule_tree(rule), "j")


# the parcel flags a stage may raise besides its maps' own (``shipment_stage_sql``)
_PARCEL_RULES = ("bad_value", "missing_required", "unknown_status")


def shipments_sql(m: Mapping, header_view: str) -> str:
    """One row per parcel entry of each order record in ``header_view``: the target's fields typed,
    ``_flags`` (codes an open list does not know, and any rule the entry fails: a parcel flags, it
    never quarantines its order). Entries without a tracking number are dropped by the stage."""
    assert m.shipment is not None
    fields = target_fields(TARGETS["shipment"], m.shipment, m, "s")
    rule_sql, _ = rule_columns(fields)
    flags = ", ".join([*field_flags(fields), rule_sql])
    if m.shipment.items:
        column = "_ships" if _parcels_column(m) is not None else "_items"
        parcel = f"unnest({column})"
    else:
        parcel = "_ships"
    carry = "raw_record_id, raw_file, platform, shop_id, order_key, _order_shipped_at"
    source = (
        f"(SELECT raw_record_id, raw_file, platform, shop_id, platform || ':' || platform_order_id"
        f" AS order_key,\n"
        f"      shipped_at AS _order_shipped_at, {parcel} AS s\n"
        f"      FROM {header_view}) AS x"
    )
    return layered_select(carry, source, m.shipment, fields, "s", [], [f"concat_ws(',', {flags}) AS _flags"])


def shipment_stage_sql(m: Mapping, parcels_view: str) -> str:
    """One row per (order record, tracking number), shipped when the parcel says, else when the
    order says. Where parcels come as a list, the entries of one tracking number (Taobao names the
    waybill on every line a parcel holds) become one shipment: its earliest time, every flag."""
    assert m.shipment is not None
    off = BUSINESS_UTC_OFFSET_HOURS
    keys = "raw_record_id, raw_file, order_key, order_key || ':' || tracking_no AS shipment_key"
    if not m.shipment.items:  # one parcel per order record: nothing to combine
        shipped = "COALESCE(shipped_at, _order_shipped_at)"
        return (
            f"SELECT {keys},\n    platform, shop_id, tracking_no, carrier, carrier_code,"
            f" {shipped} AS shipped_at,\n    CAST({shipped} + INTERVAL {off} HOUR AS DATE) AS business_date,"
            " NULLIF(_flags, '') AS quality_flags\n"
            f"FROM {parcels_view}\nWHERE tracking_no IS NOT NULL"
        )
    shipped = "min(COALESCE(shipped_at, _order_shipped_at))"
    names = [*_flag_names(target_fields(TARGETS["shipment"], m.shipment, m, "s")), *_PARCEL_RULES]
    any_entry = "max(CASE WHEN list_contains(string_split(_flags, ','), {}) THEN 1 ELSE 0 END) = 1"
    flags = _each_once(names, lambda n: any_entry.format(lit(n)))
    return (
        f"SELECT {keys},\n    platform, shop_id, tracking_no, min(carrier) AS carrier,"
        f" min(carrier_code) AS carrier_code,\n    {shipped} AS shipped_at,\n"
        f"    CAST({shipped} + INTERVAL {off} HOUR AS DATE) AS business_date,\n"
        f"    {flags} AS quality_flags\n"
        f"FROM {parcels_view}\nWHERE tracking_no IS NOT NULL\n"
        "GROUP BY raw_record_id, raw_file, order_key, platform, shop_id, tracking_no"
    )


def refund_stage_sql(m: Mapping, raw_view: str) -> str:
    """One row per raw refund record of ``m.platform``."""
    assert m.refund is not None
    structure = json.dumps(_rule_tree(m.refund), ensure_ascii=False, separators=(",", ":"))
    fields = target_fields(TARGETS["refund"], m.refund, m, "j")
    off = BUSINESS_UTC_OFFSET_HOURS
    source = (
        f"(SELECT {ENVELOPE}, {parse_payload(structure)} AS j\n"
        f"        FROM {raw_view} WHERE platform = {lit(m.platform)}) AS src"
    )
    staged = layered_select(
        ENVELOPE,
        source,
        m.refund,
        fields,
        "j",
        [],
        [
            "t_status AS platform_status",
            ("t_reason" if "reason" in m.refund.fields else "CAST(NULL AS VARCHAR)") + " AS platform_reason",
            f"{refund_flags(m, fields)} AS quality_flags",
            f"{field_notes(fields)} AS quality_notes",
            f"{lit(m.label)} AS _mapping",
        ],
        parsed=True,
    )
    return (
        f"SELECT {ENVELOPE}, platform || ':' || platform_refund_id AS refund_key,\n"
        f"    platform || ':' || platform_order_id AS order_key,\n"
        f"    CASE WHEN line_id IS NOT NULL THEN platform || ':' || platform_order_id || ':' || line_id END "
        f"AS line_key,\n"
        f"    CAST(COALESCE(created_at, modified_at) + INTERVAL {off} HOUR AS DATE) AS business_date,\n"
        f"    {', '.join(f.name for f in fields)}, platform_status, platform_reason, quality_flags,"
        f" quality_notes, _rule, _reason, _mapping\n"
        f"FROM ({staged}) AS t"
    )


# ---------------------------------------------------------------- members (CRM / store cards)


def member_stage_sql(m: Mapping, raw_view: str) -> str:
    """One ``unified.member_account``-shaped row per raw member record of ``m.platform``:
    account_key ``<platform>:<member_id>``, blind indexes from the tokens' 4th field."""
    assert m.member is not None
    structure = json.dumps(_rule_tree(m.member), ensure_ascii=False, separators=(",", ":"))
    fields = target_fields(TARGETS["member"], m.member, m, "j")
    source = (
        f"(SELECT {ENVELOPE}, {parse_payload(structure)} AS j\n"
        f"        FROM {raw_view} WHERE platform = {lit(m.platform)}) AS src"
    )
    staged = layered_select(
        ENVELOPE, source, m.member, fields, "j", [], [f"{lit(m.label)} AS _mapping"], parsed=True
    )
    return (
        f"SELECT {ENVELOPE}, platform || ':' || member_id AS account_key,\n"
        f"    member_id AS platform_account_id, card_no, wechat_openid, nickname, name_token,\n"
        f"    phone_token, {_token_bidx('phone_token')} AS phone_bidx,\n"
        f"    CAST(NULL AS VARCHAR) AS phone_masked, {_token_bidx('id_number_token')} AS id_number_bidx,\n"
        f"    {_token_bidx('email_token')} AS email_bidx,\n"
        f"    province, city, district, address_token, {_token_bidx('address_token')} AS address_bidx,\n"
        f"    phone_province, phone_city,\n"
        f"    CAST([] AS VARCHAR[]) AS device_ids, COALESCE(registered_at, modified_at) AS first_seen_at,\n"
        f"    modified_at AS last_seen_at, [raw_record_id] AS raw_record_ids, modified_at,\n"
        f"    _rule, _reason, _mapping\n"
        f"FROM ({staged}) AS t"
    )


# ---------------------------------------------------------------- keyed entities (warehouse/keyed.py)


def _keyed_structure(rule: TargetRule, extra_paths: tuple[str, ...]) -> str:
    """``json_transform`` structure of a keyed rule: ``item.`` paths go inside the ``items`` list."""
    head_fields = {k: f for k, f in rule.fields.items() if not _is_item(rule, f)}
    head = TargetRule(items=None, fields=head_fields)
    tree = _rule_tree(head)
    for p in extra_paths:
        _insert(tree, p, "VARCHAR")
    if rule.items:
        item_tree: dict[str, object] = {}
        for fr in rule.fields.values():
            for p, leaf in _leaves(fr):
                if p.startswith(ITEM_PREFIX):
                    _insert(item_tree, p.removeprefix(ITEM_PREFIX), leaf)
        _insert(tree, rule.items, [item_tree])
    return json.dumps(tree, ensure_ascii=False, separators=(",", ":"))


def _is_item(rule: TargetRule, fr: FieldRule) -> bool:
    return rule.items is not None and any(p.startswith(ITEM_PREFIX) for p in fr.all_paths)


def _test_marker_field(m: Mapping, target: str, root: str) -> tuple[str, FieldSql] | None:
    """The ``_test`` layer-1 column and its check, when the mapping declares test markers for ``target``."""
    found = [t for t in m.test_markers if t.target == target]
    if not found:
        return None
    markers = [f"COALESCE(contains({_path_expr(root, t.path)}, {lit(t.contains)}), false)" for t in found]
    why = lit(  # the reason is "test_order: " + this (``rule_columns``)
        f"a test-order marker of {m.label} matched ("
        + "; ".join(f"{t.path} contains '{t.contains}'" for t in found)
        + ")"
    )
    check = FieldSql("_test", "NULL", "NULL", (("_test", "test_order", why),))
    return f"({' OR '.join(markers)}) AS _test", check


def _amount_bound(name: str, m: Mapping) -> str:
    """'price_out_of_range' when the amount ``v_<name>`` is below zero or above the mapping's order bound."""
    return f"CASE WHEN v_{name} < 0 OR v_{name} > {m.max_order_amount} THEN 'price_out_of_range' END"


def refund_flags(m: Mapping, fields: list[FieldSql]) -> str:
    """SQL of a refund's ``quality_flags``: an amount below zero or above the mapping's order bound
    (price_out_of_range), and what its fields raise (money_precision, mixed_timezone); NULL for none."""
    assert m.refund is not None
    conds = ([_amount_bound("amount", m)] if "amount" in m.refund.fields else []) + field_flags(fields)
    return _flag_list(conds)


def keyed_flags(target: Target, rule: TargetRule, m: Mapping, fields: list[FieldSql]) -> str:
    """``_flags``: rules a kept record fails — a time naming its own zone (mixed_timezone), money
    below zero or above the mapping's order bound (price_out_of_range), a code an open list does not
    know (``unknown_<vocabulary>``, maps with ``on_unknown = 'flag'``)."""
    conds = []
    for name, fr in rule.fields.items():
        tf = target.field(name)
        if tf is None or fr.const is not None:
            continue
        if tf.type == "time" and target.name not in ZONE_NOTED:  # there its note raises it (field_flags)
            conds.append(f"CASE WHEN {_names_own_zone(name, fr)} THEN 'mixed_timezone' END")
        if tf.type == "money":
            conds.append(_amount_bound(name, m))
    if target.name == "pos_sale":  # a sale row is an order line: the order lines' bounds too
        conds += _line_bounds("v_unit_price", "v_quantity", m)
    conds += field_flags(fields)
    if not conds:
        return "CAST(NULL AS VARCHAR) AS _flags"
    # one flag per rule however many fields fail it
    raised = f"string_split(concat_ws(',', {', '.join(conds)}), ',')"
    names = ["mixed_timezone", "price_out_of_range", "quantity_out_of_range", *_flag_names(fields)]
    return f"{_each_once(names, lambda n: f'list_contains({raised}, {lit(n)})')} AS _flags"


def keyed_stage_sql(m: Mapping, target: Target, raw_view: str) -> str:
    """One typed row per raw record of ``m.platform`` (per item when the rule has ``items``) with the
    target's fields, ``platform_<field>`` (native code of each mapped enum field), ``_flags`` and the
    rule columns ``_rule``/``_reason``/``_mapping``."""
    rule = m.rules()[target.name]
    marker = _test_marker_field(m, target.name, "j")
    structure = _keyed_structure(rule, tuple(t.path for t in m.test_markers if t.target == target.name))
    fields = target_fields(target, rule, m, "j")
    layer1 = []
    if marker is not None:
        layer1.append(marker[0])
        fields.insert(0, marker[1])
    mapped = {n for n, fr in rule.fields.items() if fr.map}
    native = [  # same columns for every platform of the target, so their stages union
        f"{'t_' + tf.name if tf.name in mapped else 'CAST(NULL AS VARCHAR)'} AS platform_{tf.name}"
        for tf in target.fields
        if tf.vocabulary
    ]
    items, payload = "", ""
    if rule.items:
        # a list with an element that is not an object stages no item, on either engine (as Spark
        # reads it: NULL); keyed.bad_sql says what the list holds
        listed = _path_expr("j", rule.items)
        keys = [_item_path_expr("x", p) for fr in rule.fields.values() for p in fr.all_paths
                if p.startswith(ITEM_PREFIX)]
        objects = f"CASE WHEN {non_object_element(listed, rule.items, keys)} THEN NULL ELSE {listed} END"
        items = f", unnest({objects}) AS item"
        payload = "payload, "
    source = (
        f"(SELECT {KEYED_ENVELOPE}, j{items} FROM\n"
        f"      (SELECT {ENVELOPE_FROM_RAW}, {payload}"
        f"{parse_payload(structure)} AS j\n"
        f"        FROM {raw_view} WHERE platform = {lit(m.platform)}) AS p) AS src"
    )
    final = [*native, keyed_flags(target, rule, m, fields), f"{field_notes(fields)} AS _notes",
             f"{lit(m.label)} AS _mapping"]
    # with items, a record whose payload is not JSON has no item: bad_sql names it (missing_required)
    return layered_select(
        KEYED_ENVELOPE, source, rule, fields, "j", layer1, final,
        item_root="item" if rule.items else None, parsed=not rule.items,
    )
