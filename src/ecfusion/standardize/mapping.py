"""Declarative per-source mapping files, validated at load (standard 5.2 Table 1 L2 a–c).

One TOML file per platform under ``standardize/mappings/`` maps native payload fields onto
the staging targets of ``targets.py``: field paths (dotted, into the payload JSON), money unit
(yuan or fen), time format (``datetime`` text in the platform's zone, unix ``unix_s`` or
``unix_ms``), values that mean "not set" (``null_values``), defaults, and enum maps from native
status codes to the unified vocabularies. Every documented code must be in the map; a code
that is not is quarantined by the generated SQL, never guessed. Errors name the file, the key
and the fix — every mistake of the file at once.

What loads is what the SQL generator (``sqlgen.py``) can run and what writes only the model's
values: a path it can parse (dotted object keys, never both a value and the parent of another
path), a pattern DuckDB's RE2 compiles with the group it keeps, keys of the field's own kind, and
only values of the field's vocabulary — no guessed status, no empty one.
"""

from __future__ import annotations

import re
import tomllib
import types
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from ecfusion.config import Workspace
from ecfusion.errors import MappingError
from ecfusion.model.carriers import load_carriers
from ecfusion.model.categories import load_tree
from ecfusion.model.vocabulary import VOCABULARIES
from ecfusion.standardize.targets import KEYED_TARGETS, TARGETS, Target

MAPPINGS_DIR = Path(__file__).parent / "mappings"
NO_OVERRIDE = ""  # in an override map: "this code does not override the primary status"
# The only vocabularies whose maps may give a ``default`` for codes they lack: free-text reasons,
# where any wording is still a reason. Every other vocabulary is closed: an unknown status code is
# quarantined unknown_status (or, for open lists such as carriers, flagged), never guessed.
REASON_VOCABULARIES = ("refund_reason",)
ITEM_PREFIX = "item."  # a keyed target with ``items``: a path into one element (sqlgen reads it)
_KEYS_ONLY = (
    "which a path cannot: it names object keys; a list is read with 'items' (one row per element) or 'kv'"
)


def _dotted(path: str) -> str:
    """A path as ``sqlgen`` reads it: object keys joined by '.', each a struct field of the parse."""
    if not path.strip():
        raise ValueError("the path is empty: give the dotted path of the field in the record (a.b)")
    for part in path.split("."):
        if not part:
            raise ValueError(
                f"'{path}' has an empty segment ('..', or a '.' at either end): a path is object keys "
                "joined by '.' (consigneeInfo.mobile)"
            )
        if "[" in part or "]" in part or part == "*":
            raise ValueError(f"'{path}' picks from a list, {_KEYS_ONLY}")
        if part.isascii() and part.isdigit():
            raise ValueError(f"'{path}' names a list position ('{part}'), {_KEYS_ONLY}")
        if part == "$":
            raise ValueError(f"'{path}' starts at JSONPath's '$': a path starts at the record's own keys")
    return path


@cache
def _re2_problem(pattern: str) -> str | None:
    """Why DuckDB (RE2, as the generated ``regexp_extract(…, pattern, 1)`` runs it) refuses
    ``pattern`` or finds no group 1 in it; None when it reads. DuckDB binds the pattern and counts
    its groups itself: Python's ``re`` accepts lookarounds and backreferences RE2 refuses, and
    refuses ``\\p{Han}``, which RE2 reads."""
    import duckdb  # here: a mapping without a pattern is read without a database

    quoted = "'" + pattern.replace("'", "''") + "'"
    try:
        with duckdb.connect() as con:
            con.execute(f"SELECT regexp_extract('', {quoted}, ['kept'])")
    except duckdb.Error as e:
        said = str(e)
        if "capturing groups" in said:
            return (
                "has no capture group, so it keeps nothing: wrap the part to keep in ( ) "
                "(\"颜色:([^;]+)\" keeps what follows 颜色:)"
            )
        why = said.split("Pattern failed to parse: ", 1)[-1].split("Error: ", 1)[-1]
        return (
            f"is not a regular expression DuckDB's RE2 reads ({why}); RE2 has no lookaround "
            "((?=, (?!, (?<=, (?<!) nor backreferences (\\1): match the text around the group instead"
        )
    return None


def _re2(pattern: str) -> str:
    why = _re2_problem(pattern)
    if why is not None:
        raise ValueError(f"'{pattern}' {why}")
    return pattern


DottedPath = Annotated[str, AfterValidator(_dotted)]
Re2Pattern = Annotated[str, AfterValidator(_re2)]


# a platform's name is part of the names of the tables a run makes for it (hdr_<platform>, …)
PLATFORM_NAME = re.compile(r"[a-z0-9_]+")  # 1688 (Alibaba's wholesale site) is a platform too


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Override(_Strict):
    """A second coded field that, when its map gives a value, replaces the primary status."""

    path: DottedPath
    map: str


class FieldRule(_Strict):
    """How to fill one target field from the payload."""

    path: DottedPath | None = None
    paths: list[DottedPath] = Field(default_factory=list, description="first non-null of these paths")
    const: str | None = None
    unit: Literal["yuan", "fen"] = "yuan"
    time: Literal["datetime", "unix_s", "unix_ms"] = "datetime"
    null_values: list[str] = Field(default_factory=list)
    default: str | None = None
    map: str | None = None
    overrides: list[Override] = Field(default_factory=list)
    kv: tuple[str, str] | None = Field(None, description="path is a list of objects; join key:value by ';'")
    join: str | None = Field(None, description="join the non-null values of 'paths' with this text")
    pattern: Re2Pattern | None = Field(
        None, description="keep the first group this regular expression (RE2, as DuckDB reads it) captures"
    )
    add: list[DottedPath] = Field(
        default_factory=list, description="money: amounts at these paths added to the value (not set: 0)"
    )
    subtract: list[DottedPath] = Field(
        default_factory=list, description="money: amounts at these paths subtracted from it (not set: 0)"
    )
    required: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        given = sum([self.path is not None, bool(self.paths), self.const is not None])
        if given != 1:
            raise ValueError("give exactly one of 'path', 'paths' or 'const'")
        return self

    @property
    def all_paths(self) -> list[str]:
        return [self.path] if self.path is not None else list(self.paths)

    @property
    def read_paths(self) -> list[str]:
        """Every payload path the field reads: its value's and its terms'."""
        return self.all_paths + [p for _, p in self.terms]

    @property
    def terms(self) -> list[tuple[str, str]]:
        """('+' or '-', path) of each amount ``add`` and ``subtract`` apply to the value, in order."""
        return [("+", p) for p in self.add] + [("-", p) for p in self.subtract]


class EnumMap(_Strict):
    """Native code → unified value of one vocabulary."""

    vocabulary: str
    codes: dict[str, str]
    default: str | None = Field(None, description="for free-text reasons only: value when no code matches")
    on_unknown: Literal["quarantine", "flag"] = Field(
        "quarantine",
        description="a code not in the map: 'quarantine' the record (statuses: never guessed), or 'flag' "
        "it 'unknown_<vocabulary>' and keep it with the value NULL (open lists such as carriers, where "
        "an unlisted code is still a real parcel); 'flag' works on orders, shipment and keyed targets",
    )
    when_paid: dict[str, str] = Field(
        default_factory=dict,
        description="order statuses only: code → value for an order that was paid (its paid_at is set), "
        "where one code closes an order before and after payment (JD's TRADE_CANCELED: cancelled unpaid, "
        "refunded once paid)",
    )
    partial_refund: list[str] = Field(
        default_factory=list,
        description="a map used under the order status's 'overrides' only: its codes whose value "
        "'refunded' the platform also gives after a refund of part of the order (Pinduoduo's refund_status "
        "4, 退款成功); "
        "an order so refunded is settled against the refunds the warehouse holds for it "
        "(warehouse/settlement.py): when they total less than its payment, its status is what its own "
        "status code says and it is flagged partial_refund",
    )


class TestMarker(_Strict):
    """A payload text that marks a test order (quarantined with rule test_order)."""

    path: DottedPath
    contains: str = Field(min_length=1, description="the text; empty would mark every record")
    target: str = Field(
        "orders", description="the target whose records it marks: orders or a keyed target (pos_sale)"
    )


class TargetRule(_Strict):
    """How one staging target is read from a raw record (which raw entity: ``targets.Target``)."""

    items: DottedPath | None = Field(
        None,
        description="order_line: path of the line list in the order; shipment: path of the parcel list in "
        "the order (absent: the order's own fields name its one parcel); a keyed target (listing): path "
        "of the item list, one staged row per item, whose fields are read by paths starting 'item.'",
    )
    fields: dict[str, FieldRule]


class Mapping(_Strict):
    platform: str
    version: str
    reference: str = ""
    utc_offset_hours: int = Field(8, description="zone of 'datetime' text; China has had no DST since 1991")
    maps: dict[str, EnumMap] = Field(default_factory=dict)
    orders: TargetRule | None = None
    order_line: TargetRule | None = None
    shipment: TargetRule | None = None
    refund: TargetRule | None = None
    member: TargetRule | None = None
    listing: TargetRule | None = None
    inventory: TargetRule | None = None
    behaviour_event: TargetRule | None = None
    ad_impression: TargetRule | None = None
    ad_click: TargetRule | None = None
    service_ticket: TargetRule | None = None
    campaign: TargetRule | None = None
    coupon: TargetRule | None = None
    member_level: TargetRule | None = None
    points_entry: TargetRule | None = None
    pos_sale: TargetRule | None = None
    tracking_event: TargetRule | None = None
    sku: TargetRule | None = None
    max_unit_price: float = Field(
        100_000.0, gt=0, description="unit prices above this are flagged as outliers"
    )
    max_quantity: int = Field(999, gt=0, description="quantities above this are flagged as outliers")
    max_order_amount: float = Field(
        1_000_000.0, gt=0, description="order pay amounts above this (or < 0) are flagged"
    )
    test_markers: list[TestMarker] = Field(default_factory=list)

    @field_validator("platform")
    @classmethod
    def _named(cls, platform: str) -> str:
        if not platform.strip() or platform != platform.strip():
            raise ValueError(
                f"'{platform}' names no platform: give the platform the raw records carry in their envelope "
                "(the source's configured platform, such as \"taobao\")"
            )
        if not PLATFORM_NAME.fullmatch(platform):  # it names the run's tables (hdr_<platform>, …)
            like = re.sub(r"[^a-z0-9_]+", "_", platform.lower()).strip("_") or "shop"
            raise ValueError(
                f"'{platform}' is not a platform name: lowercase letters, digits and '_' (such as "
                f'"{like}"), the name the source gives its raw records'
            )
        return platform

    @field_validator("version")
    @classmethod
    def _versioned(cls, version: str) -> str:
        if not version.strip():
            raise ValueError('the version is empty: give the file one ("1.0.0"), as quarantine names it')
        return version

    @field_validator("utc_offset_hours")
    @classmethod
    def _an_offset(cls, hours: int) -> int:
        if not -12 <= hours <= 14:
            raise ValueError(f"{hours} is no UTC offset: give hours from -12 to 14 (China: 8)")
        return hours

    def rules(self) -> dict[str, TargetRule]:
        found = {name: getattr(self, name) for name in TARGETS}
        return {k: v for k, v in found.items() if v is not None}

    def enum_map(self, name: str) -> EnumMap:
        """The file's own map ``name``, else the shared one (``SHARED_MAPS``)."""
        return self.maps[name] if name in self.maps else shared_maps()[name]

    @property
    def label(self) -> str:
        return f"{self.platform}.toml v{self.version}"


@cache
def shared_maps() -> dict[str, EnumMap]:
    """Maps every mapping file may use without defining them: ``unified_category`` (platform category
    text → node of the unified category tree, ``model/categories.toml``) and ``unified_carrier``
    (carrier name or code → unified carrier code, ``model/carriers.toml``)."""
    return {
        "unified_category": EnumMap(vocabulary="category", codes=load_tree().aliases(), default=None),
        "unified_carrier": EnumMap(vocabulary="carrier", codes=load_carriers().aliases(), on_unknown="flag"),
    }


Problem = tuple[str, str]  # (the key at fault, what is wrong and the fix)


def _values(vocabulary: str) -> str:
    """The values of ``vocabulary`` for a hint (a long one is in the data dictionary)."""
    values = [f"'{v.value}'" for v in VOCABULARIES[vocabulary]]
    shown = values if len(values) <= 15 else [*values[:15], "… (the data dictionary's last section)"]
    return ", ".join(shown)


def _map_uses(m: Mapping) -> dict[str, set[str]]:
    """Each map's uses in the file's fields: 'map' (a field's own) and/or 'override'."""
    uses: dict[str, set[str]] = {}
    for rule in m.rules().values():
        for fr in rule.fields.values():
            if fr.map is not None:
                uses.setdefault(fr.map, set()).add("map")
            for o in fr.overrides:
                uses.setdefault(o.map, set()).add("override")
    return uses


def _check_maps(m: Mapping) -> list[Problem]:
    """Every value a map gives is in its vocabulary: no empty value but an override's "no override",
    no ``default`` but a free-text reason's (a status code the map lacks is never guessed)."""
    problems = []
    uses = _map_uses(m)
    for name, emap in m.maps.items():
        vocab = VOCABULARIES.get(emap.vocabulary)
        if vocab is None:
            problems.append((f"maps.{name}.vocabulary", f"use one of {sorted(VOCABULARIES)}"))
            continue
        allowed = {v.value for v in vocab}
        for code, value in emap.codes.items():
            if value == NO_OVERRIDE and uses.get(name) != {"override"}:
                fix = (
                    "'' says 'this code does not override the status', only in a map used under 'overrides' "
                    f"(Douyin's main_status); give the code a value of {emap.vocabulary}: "
                    + _values(emap.vocabulary)
                )
                problems.append((f"maps.{name}.codes.{code}", fix))
            elif value != NO_OVERRIDE and value not in allowed:
                problems.append((
                    f"maps.{name}.codes.{code}",
                    f"'{value}' is not in {emap.vocabulary}: use one of {sorted(allowed)}",
                ))
        if emap.default is not None and emap.vocabulary not in REASON_VOCABULARIES:
            fix = (
                f"a code of {emap.vocabulary} the map lacks is quarantined unknown_status with its code, "
                "never guessed: remove 'default' and list every code the source documents under codes "
                f"('default' is for free-text reasons only: {', '.join(REASON_VOCABULARIES)})"
            )
            problems.append((f"maps.{name}.default", fix))
        elif emap.default is not None and emap.default not in allowed:
            fix = f"'{emap.default}' is not in {emap.vocabulary}: use one of {sorted(allowed)}"
            problems.append((f"maps.{name}.default", fix))
        problems += _check_when_paid(name, emap, allowed, uses.get(name, set()))
        problems += _check_partial_refund(name, emap, uses.get(name, set()))
    return problems


def _check_partial_refund(name: str, emap: EnumMap, uses: set[str]) -> list[Problem]:
    """``partial_refund`` lists codes of the map that give 'refunded', in an order-status map used
    under 'overrides' (the order's own status code is what the settlement falls back to)."""
    if not emap.partial_refund:
        return []
    key = f"maps.{name}.partial_refund"
    if emap.vocabulary != "order_status" or uses != {"override"}:
        fix = (
            "partial_refund names codes of an order_status map used under the status's 'overrides' "
            "(Pinduoduo's refund_override), whose 'refunded' may follow a refund of part of the order; "
            "remove it here"
        )
        return [(key, fix)]
    return [
        (f"{key}.{code}", f"'{code}' must be a code of maps.{name} whose value is 'refunded': it is "
         + ("not a code there" if code not in emap.codes else f"'{emap.codes[code]}'"))
        for code in emap.partial_refund
        if emap.codes.get(code) != "refunded"
    ]


def _check_when_paid(name: str, emap: EnumMap, allowed: set[str], uses: set[str]) -> list[Problem]:
    """``when_paid`` gives a status of a code the map has, in a map an order's own status reads."""
    if not emap.when_paid:
        return []
    key = f"maps.{name}.when_paid"
    if emap.vocabulary != "order_status" or "override" in uses:
        fix = (
            "when_paid says what an order's own status code means once the order was paid: it belongs in "
            "the order_status map that orders.status reads with 'map', not in one used under 'overrides' "
            "or into another vocabulary; remove it"
        )
        return [(key, fix)]
    problems = []
    for code, value in emap.when_paid.items():
        if code not in emap.codes:
            fix = f"'{code}' is not a code of maps.{name}: list it under codes (its value unpaid) first"
        elif value not in allowed:
            fix = f"'{value}' is not in order_status: use one of {sorted(allowed)}"
        else:
            continue
        problems.append((f"{key}.{code}", fix))
    return problems


_NO_FLAGS = ("order_line", "refund", "member")  # targets whose rows have no flag column for a map's flag
_ONE_ROW = ("orders", "refund", "member")  # one staged row per record: no list to read 'items' from


def _check_kind(key: str, name: str, fr: FieldRule, kind: str) -> list[Problem]:
    """A key given that the field's kind does not read (silently ignored by the SQL) is a mistake."""
    problems = []
    for option, wants in (("unit", "money"), ("time", "time"), ("add", "money"), ("subtract", "money")):
        if option in fr.model_fields_set and kind != wants:
            problems.append((
                f"{key}.{option}",
                f"'{option}' is for {wants} fields; {name} is a {kind} field, which it would not change: "
                f"remove it" + (" (an amount in fen takes unit = \"fen\")" if option == "time" else ""),
            ))
    return problems


def _check_coded(
    m: Mapping, key: str, name: str, fr: FieldRule, required: bool, vocabulary: str
) -> list[Problem]:
    """A field of a vocabulary: a constant is one of its values (or a code of the field's map), a
    field's default a code of its map, and a required field's map quarantines an unknown code."""
    problems: list[Problem] = []
    emap = m.enum_map(fr.map) if fr.map is not None else None
    if fr.const is not None and emap is None and fr.const not in {v.value for v in VOCABULARIES[vocabulary]}:
        fix = f"'{fr.const}' is not in {vocabulary}: use one of {_values(vocabulary)}"
        problems.append((f"{key}.const", fix))
    if emap is None or emap.default is not None:
        return problems
    for option, code in (("const", fr.const), ("default", fr.default)):
        if code is not None and code not in emap.codes:
            fix = (
                f"'{code}' is not a code of maps.{fr.map}: give a native code the map has (it maps it "
                f"into {vocabulary}), or add the code to the map"
            )
            problems.append((f"{key}.{option}", fix))
    if required and emap.on_unknown == "flag":
        fix = (
            f"map '{fr.map}' has on_unknown = 'flag', which leaves an unknown code's value empty: {name} "
            "is required, so the record would be quarantined missing_required without its code, out of "
            "reach of --rule unknown_status; use a map without on_unknown (an unknown code is quarantined "
            "unknown_status, with the code)"
        )
        problems.append((key, fix))
    return problems


def _check_paid_status(rule: TargetRule, key: str, fr: FieldRule) -> list[Problem]:
    """A map with ``when_paid`` is read by orders.status, whose record says when it was paid."""
    if key != "orders.fields.status":
        return [(key, f"map '{fr.map}' has when_paid, which only an order's status reads: use another map")]
    if fr.overrides:
        fix = (f"map '{fr.map}' has when_paid and the status has overrides: which one wins is not defined; "
               "give the override map the after-payment value, or drop when_paid")
        return [(f"{key}.overrides", fix)]
    if "paid_at" not in rule.fields:
        fix = f"map '{fr.map}' has when_paid, which asks whether the order was paid: map orders.paid_at"
        return [(key, fix)]
    return []


def _check_items(target: Target, rule: TargetRule) -> list[Problem]:
    """``items`` where the SQL reads it: a line list, a parcel list, or a keyed target's list whose
    elements the ``item.`` paths read."""
    t = target.name
    if rule.items is None and t == "order_line":
        return [(f"{t}.items", "give the path of the line list inside the order")]
    if rule.items is None:
        return []
    if t in _ONE_ROW:
        return [(f"{t}.items", f"[{t}] is one row per record and reads no list: remove 'items'")]
    if target not in KEYED_TARGETS:
        return []
    problems = []
    item_paths = {n: [p.startswith(ITEM_PREFIX) for p in fr.read_paths] for n, fr in rule.fields.items()}
    if not any(any(found) for found in item_paths.values()):
        fix = (
            f"[{t}] makes one row per element of '{rule.items}', whose fields are read by paths starting "
            f"'{ITEM_PREFIX}' (sku_id = {{ path = \"item.skuId\" }}), and no field reads one: prefix the "
            f"element's fields with '{ITEM_PREFIX}', or remove 'items'"
        )
        problems.append((f"{t}.items", fix))
    for name, found in item_paths.items():
        if any(found) and not all(found):
            fix = (
                f"its paths mix the list's element ('{ITEM_PREFIX}' paths) and the record: a field reads "
                f"one or the other; give every path the prefix '{ITEM_PREFIX}', or none"
            )
            problems.append((f"{t}.fields.{name}", fix))
    return problems


def _check_target(m: Mapping, target: Target, rule: TargetRule) -> list[Problem]:
    problems = []
    for name, fr in rule.fields.items():
        key = f"{target.name}.fields.{name}"
        tf = target.field(name)
        if tf is None:
            problems.append((key, f"unknown field; allowed: {', '.join(f.name for f in target.fields)}"))
            continue
        defined = True
        for ref in [fr.map, *(o.map for o in fr.overrides)]:
            if ref is not None and ref not in m.maps and ref not in shared_maps():
                defined = False
                problems.append((key, f"map '{ref}' is not defined; add a [maps.{ref}] table"))
            elif ref is not None and target.name in _NO_FLAGS and m.enum_map(ref).on_unknown == "flag":
                problems.append((key, f"map '{ref}' flags unknown codes, which {target.name} rows cannot "
                                 "carry: use a map with on_unknown = 'quarantine'"))
        if tf.vocabulary and fr.const is None and fr.map is None:
            problems.append((key, f"this field needs 'map' into vocabulary {tf.vocabulary}"))
        mapped_into = m.enum_map(fr.map).vocabulary if fr.map is not None and defined else None
        if tf.vocabulary and mapped_into is not None and mapped_into != tf.vocabulary:
            problems.append((key, f"map '{fr.map}' must use vocabulary {tf.vocabulary}"))
        elif tf.vocabulary and defined:
            problems += _check_coded(m, key, name, fr, tf.required or fr.required, tf.vocabulary)
        if fr.overrides and fr.map is None:
            fix = "overrides replace the value the field's own map gives: give 'map'"
            problems.append((f"{key}.overrides", fix))
        if fr.map is not None and defined and m.enum_map(fr.map).when_paid:
            problems += _check_paid_status(rule, key, fr)
        if fr.join is not None and not fr.paths:
            problems.append((key, "'join' joins the values of 'paths': give 'paths'"))
        problems += _check_kind(key, name, fr, tf.type)
    for tf in target.fields:
        if tf.required and tf.name not in rule.fields:
            problems.append((f"{target.name}.fields", f"required field '{tf.name}' is missing"))
    if not rule.fields:
        fix = f"[{target.name}] maps no field: map its fields, or remove the table"
        problems.append((f"{target.name}.fields", fix))
    problems += _check_items(target, rule)
    tracking = rule.fields.get("tracking_no")
    if target.name == "shipment" and (tracking is None or not tracking.all_paths):
        fix = "a parcel is known by its waybill: map tracking_no to a path"
        problems.append(("shipment.fields.tracking_no", fix))
    return problems


# ---------------------------------------------------------------- the parse struct of a record

# (path, 'value' or 'list', the key that reads it): one entry of a record's ``json_transform`` struct
Read = tuple[str, str, str]


def _reads(t: str, rule: TargetRule, item: bool | None = None) -> list[Read]:
    """The paths ``rule``'s fields read (with ``item``: only the keyed element's, prefix removed,
    or only the record's)."""
    out = []
    for name, fr in rule.fields.items():
        key = f"{t}.fields.{name}"
        reads = [(p, "list" if fr.kv else "value", key) for p in fr.all_paths]
        reads += [(p, "value", f"{key}.{'add' if sign == '+' else 'subtract'}") for sign, p in fr.terms]
        for p, kind, at in reads:
            if item is None or p.startswith(ITEM_PREFIX) == item:
                out.append((p.removeprefix(ITEM_PREFIX) if item else p, kind, at))
        out += [(o.path, "value", f"{key}.overrides.{i}.path") for i, o in enumerate(fr.overrides)]
    return out


def _marker_reads(m: Mapping, target: str | None) -> list[Read]:
    return [
        (tm.path, "value", f"test_markers.{i}.path")
        for i, tm in enumerate(m.test_markers)
        if target is None or tm.target == target
    ]


def _structs(m: Mapping) -> list[list[Read]]:
    """The paths of each struct ``sqlgen`` parses a record of ``m`` into (as ``parse_structure`` and
    ``_keyed_structure`` build them): an order with its line and parcel lists, a line, a parcel, a
    refund, a member, a keyed record and its element."""
    structs = []
    lines, ships = m.order_line, m.shipment
    if m.orders is not None:
        head = _reads("orders", m.orders) + _marker_reads(m, None)  # every marker's path is parsed
        line = []
        if lines is not None and lines.items:
            head.append((lines.items, "list", "order_line.items"))
            line = _reads("order_line", lines)
        if ships is not None and ships.items is None:
            head += _reads("shipment", ships)  # the order's own fields name its one parcel
        elif ships is not None and ships.items:
            head.append((ships.items, "list", "shipment.items"))
            if lines is not None and ships.items == lines.items:
                line += _reads("shipment", ships)  # the same list: one element, read once
            else:
                structs.append(_reads("shipment", ships))
        structs += [head, line]
    structs += [_reads(t, rule) for t, rule in ((t, m.rules().get(t)) for t in ("refund", "member")) if rule]
    for target in KEYED_TARGETS:
        rule = m.rules().get(target.name)
        if rule is None:
            continue
        if rule.items is None:
            structs.append(_reads(target.name, rule) + _marker_reads(m, target.name))
            continue
        head = _reads(target.name, rule, item=False) + _marker_reads(m, target.name)
        head.append((rule.items, "list", f"{target.name}.items"))
        structs += [head, _reads(target.name, rule, item=True)]
    return structs


def _check_struct(reads: list[Read]) -> list[Problem]:
    """A path is a value (or a list) or the parent of other paths, never both: the parse struct has
    one type at each key (DuckDB: 'Cannot mix values of type VARCHAR and STRUCT')."""
    problems = []
    for path, kind, key in reads:
        for other, other_kind, other_key in reads:
            if other.startswith(path + "."):
                fix = (
                    f"path '{path}' is read as {'a value' if kind == 'value' else 'a list'} here, and "
                    f"{other_key} reads '{other}' inside it: a path is a value or the parent of other "
                    f"paths, never both; read a key inside it ('{path}.…') or another path"
                )
                problems.append((key, fix))
            elif other == path and kind == "value" and other_kind == "list":
                fix = (
                    f"path '{path}' is read as a value here and as a list by {other_key}: read a key of "
                    "the list's elements there, or another path here"
                )
                problems.append((key, fix))
    return list(dict.fromkeys(problems))


def _check_markers(m: Mapping) -> list[Problem]:
    """A test marker marks a target of the file that reads markers: orders or a keyed target."""
    marked = [t for t in m.rules() if t == "orders" or TARGETS[t] in KEYED_TARGETS]
    problems = []
    for i, tm in enumerate(m.test_markers):
        if tm.target not in marked:
            these = ", ".join(f"'{t}'" for t in marked) or "none: the file fills no orders nor keyed target"
            fix = f"'{tm.target}' is no target of this file a test marker can mark: use one of {these}"
            problems.append((f"test_markers.{i}.target", fix))
    return problems


def validate_mapping(m: Mapping, where: str) -> None:
    """Cross-field checks pydantic cannot express; raises MappingError naming every key at fault
    and its fix."""
    problems = _check_maps(m)
    for name, rule in m.rules().items():
        problems += _check_target(m, TARGETS[name], rule)
    for nested in ("order_line", "shipment"):
        if getattr(m, nested) is not None and m.orders is None:
            problems.append((nested, f"[{nested}] is read from the order: it needs an [orders] table"))
    for struct in _structs(m):
        problems += _check_struct(struct)
    problems += _check_markers(m)
    if not m.rules():
        fix = (
            "the file fills no target: add one, such as [orders.fields] (the targets and their fields: "
            "docs/mappings.md 'The targets')"
        )
        problems.append(("(top level)", fix))
    if problems:
        raise _refusal(where, problems)


def _refusal(where: str, problems: list[Problem]) -> MappingError:
    """One error for every problem of a file: the first key and its fix, then each other's."""
    (key, fix), rest = problems[0], problems[1:]
    keys = list(dict.fromkeys(k for k, _ in rest if k != key))
    more = f" (and {len(rest)} more: {', '.join(repr(k) for k in keys)})" if rest else ""
    hint = "; ".join([fix, *(f"{k}: {f}" for k, f in rest)])
    return MappingError(f"{where}: key '{key}' is invalid{more}", hint=hint)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model whose key ``loc`` (a pydantic error's location) names, by walking ``Mapping``."""
    t: Any = Mapping
    for part in loc:
        if get_origin(t) in (Union, types.UnionType):
            t = next(a for a in get_args(t) if a is not type(None))
        if isinstance(t, type) and issubclass(t, BaseModel):
            field = t.model_fields.get(str(part))
            if field is None:
                return None
            t = field.annotation
        elif get_origin(t) in (list, dict):
            t = get_args(t)[-1]
        else:
            return None
    if get_origin(t) in (Union, types.UnionType):
        t = next(a for a in get_args(t) if a is not type(None))
    return t if isinstance(t, type) and issubclass(t, BaseModel) else None


def _pydantic_problem(err: ErrorDetails) -> Problem:
    """A pydantic error as the key at fault and its fix (not pydantic's message again)."""
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind, found = err["type"], err.get("input")
    if kind == "missing":
        return key, f"'{loc[-1]}' is required here: add it"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = f" (allowed: {', '.join(model.model_fields)})" if model is not None else ""
        return key, f"no such key here: remove it or check its spelling{allowed}"
    if kind == "value_error":
        return key, err["msg"].removeprefix("Value error, ")
    if kind in ("model_type", "dict_type"):
        return key, f"give a table ([{key}] or {{ … }}), found {found!r}"
    wanted = err["msg"].removeprefix("Input should be ")
    number = "a number " if wanted.startswith(("greater", "less")) else ""
    return key, f"give {number}{wanted}, found {found!r}"


def parse_mapping(text: str, where: str) -> Mapping:
    """Parse and validate mapping TOML text; ``where`` names it in errors."""
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))  # a byte order mark, as Notepad saves UTF-8
    except tomllib.TOMLDecodeError as e:
        raise MappingError(f"{where}: not valid TOML ({e})", hint="fix the syntax at that line") from e
    try:
        m = Mapping.model_validate(data)
    except ValidationError as e:
        raise _refusal(where, [_pydantic_problem(err) for err in e.errors()]) from e
    validate_mapping(m, where)
    return m


def load_mapping(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        where = f"the shipped ones are in {MAPPINGS_DIR}, a workspace's in its mappings folder"
        raise MappingError(f"mapping file {path} not found", hint=f"give a .toml file; {where}") from e
    except IsADirectoryError as e:
        raise MappingError(f"{path} is a folder, not a mapping file", hint="give the .toml file") from e
    except UnicodeDecodeError as e:
        raise MappingError(f"{path} is not UTF-8 text", hint="save the mapping file as UTF-8") from e
    return parse_mapping(text, str(path))


def mapping_files(folder: Path = MAPPINGS_DIR) -> dict[str, tuple[Mapping, Path]]:
    """Every ``*.toml`` mapping in ``folder`` and its file, by platform."""
    out: dict[str, tuple[Mapping, Path]] = {}
    # a name starting '.' is an editor's (Emacs' lock link .#taobao.toml, a swap file), not a mapping
    for path in sorted(p for p in folder.glob("*.toml") if not p.name.startswith(".")):
        m = load_mapping(path)
        if m.platform in out:
            raise MappingError(
                f"{path}: platform '{m.platform}' is mapped twice (also in {out[m.platform][1].name})",
                hint="keep one mapping file per platform",
            )
        out[m.platform] = (m, path)
    return out


def load_mappings(folder: Path = MAPPINGS_DIR) -> dict[str, Mapping]:
    """Every ``*.toml`` mapping in ``folder``, by platform."""
    return {p: m for p, (m, _) in mapping_files(folder).items()}


def library_files(own: Path | None = None) -> dict[str, tuple[Mapping, Path]]:
    """The mappings in effect and their files: the library shipped with ecfusion, with the files of
    ``own`` (a workspace's mapping folder, which need not exist) added for platforms the library
    lacks, or in place of the library's file of the same platform — the whole file, never merged
    key by key, so what runs is exactly one file per platform."""
    library = mapping_files()
    if own is None or not own.exists():
        return library
    if not own.is_dir():
        raise MappingError(
            f"the workspace's mapping folder {own} is a file",
            hint="[standardize] mappings in ecfusion.toml names a folder of <platform>.toml files",
        )
    return {**library, **mapping_files(own)}


def _and(words: list[str]) -> str:
    return " and ".join(filter(None, [", ".join(words[:-1]), words[-1]]))


def replacement_warnings(files: dict[str, tuple[Mapping, Path]]) -> list[str]:
    """What a workspace loses where one of ``files`` replaces the shipped mapping of its platform but
    lacks targets the shipped file fills (the replacement is the whole file, never merged): those
    targets are no longer read, so their raw records wait as pending — a warning each, since a
    workspace may mean it."""
    shipped = mapping_files()
    warnings = []
    for platform, (m, path) in sorted(files.items()):
        library = shipped.get(platform)
        if library is None or library[1].resolve() == path.resolve():
            continue
        dropped = [t for t in library[0].rules() if t not in m.rules()]
        if not dropped:
            continue
        entities = [e for t in dropped if (e := TARGETS[t].raw_entity)]
        nested = [t.replace("_", " ") + "s" for t in dropped if not TARGETS[t].raw_entity]
        lost = [f"{platform}'s raw {_and(entities)} will wait as pending"] if entities else []
        lost += [f"its orders will be unified without their {_and(nested)}"] if nested else []
        warnings.append(
            f"{path} replaces the shipped {library[1].name} of {platform} but has no "
            f"{', '.join(f'[{t}]' for t in dropped)}: {'; '.join(lost)} — copy the tables from {library[1]} "
            "if the workspace needs them"
        )
    return warnings


def workspace_mappings(ws: Workspace) -> dict[str, Mapping]:
    """The mappings a run of workspace ``ws`` uses (``[standardize] mappings`` in ecfusion.toml)."""
    return {p: m for p, (m, _) in library_files(own_folder(ws)).items()}


def own_folder(ws: Workspace) -> Path:
    """The workspace's own mapping folder."""
    return ws.path(ws.config.standardize.mappings)
