"""Declarative per-source mapping files, validated at load (standard 5.2 Table 1 L2 a–c).

One TOML file per platform under ``standardize/mappings/`` maps native payload fields onto
the staging targets of ``targets.py``: field paths (dotted, into the payload JSON), money unit
(yuan or fen), time format (``datetime`` text in the platform's zone, unix ``unix_s`` or
``unix_ms``), values that mean "not set" (``null_values``), defaults, and enum maps from native
status codes to the unified vocabularies. Every documented code must be in the map; a code
that is not is quarantined by the generated SQL, never guessed. Errors name the file, the key
and the fix.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ecfusion.config import Workspace
from ecfusion.errors import MappingError
from ecfusion.model.carriers import load_carriers
from ecfusion.model.categories import load_tree
from ecfusion.model.vocabulary import VOCABULARIES
from ecfusion.standardize.targets import TARGETS, Target

MAPPINGS_DIR = Path(__file__).parent / "mappings"
NO_OVERRIDE = ""  # in an override map: "this code does not override the primary status"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Override(_Strict):
    """A second coded field that, when its map gives a value, replaces the primary status."""

    path: str
    map: str


class FieldRule(_Strict):
    """How to fill one target field from the payload."""

    path: str | None = None
    paths: list[str] = Field(default_factory=list, description="first non-null of these paths")
    const: str | None = None
    unit: Literal["yuan", "fen"] = "yuan"
    time: Literal["datetime", "unix_s", "unix_ms"] = "datetime"
    null_values: list[str] = Field(default_factory=list)
    default: str | None = None
    map: str | None = None
    overrides: list[Override] = Field(default_factory=list)
    kv: tuple[str, str] | None = Field(None, description="path is a list of objects; join key:value by ';'")
    join: str | None = Field(None, description="join the non-null values of 'paths' with this text")
    pattern: str | None = Field(None, description="keep the first group this regular expression captures")
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


class TestMarker(_Strict):
    """A payload text that marks a test order (quarantined with rule test_order)."""

    path: str
    contains: str
    target: str = Field("orders", description="the target whose records it marks: orders or pos_sale")


class TargetRule(_Strict):
    """How one staging target is read from a raw record (which raw entity: ``targets.Target``)."""

    items: str | None = Field(
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
    max_unit_price: float = Field(100_000.0, description="unit prices above this are flagged as outliers")
    max_quantity: int = Field(999, description="quantities above this are flagged as outliers")
    max_order_amount: float = Field(
        1_000_000.0, description="order pay amounts above this (or < 0) are flagged"
    )
    test_markers: list[TestMarker] = Field(default_factory=list)

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


def _check_vocabularies(m: Mapping) -> list[tuple[str, str]]:
    problems = []
    for name, emap in m.maps.items():
        vocab = VOCABULARIES.get(emap.vocabulary)
        if vocab is None:
            problems.append((f"maps.{name}.vocabulary", f"use one of {sorted(VOCABULARIES)}"))
            continue
        allowed = {v.value for v in vocab}
        for code, value in emap.codes.items():
            if value != NO_OVERRIDE and value not in allowed:
                problems.append(
                    (
                        f"maps.{name}.codes.{code}",
                        f"'{value}' is not in {emap.vocabulary}: use one of {sorted(allowed)}",
                    )
                )
    return problems


_NO_FLAGS = ("order_line", "refund", "member")  # targets whose rows have no flag column for a map's flag


def _check_target(m: Mapping, target: Target, rule: TargetRule) -> list[tuple[str, str]]:
    problems = []
    for name, fr in rule.fields.items():
        key = f"{target.name}.fields.{name}"
        tf = target.field(name)
        if tf is None:
            problems.append((key, f"unknown field; allowed: {', '.join(f.name for f in target.fields)}"))
            continue
        for ref in [fr.map, *(o.map for o in fr.overrides)]:
            if ref is not None and ref not in m.maps and ref not in shared_maps():
                problems.append((key, f"map '{ref}' is not defined; add a [maps.{ref}] table"))
            elif ref is not None and target.name in _NO_FLAGS and m.enum_map(ref).on_unknown == "flag":
                problems.append((key, f"map '{ref}' flags unknown codes, which {target.name} rows cannot "
                                 "carry: use a map with on_unknown = 'quarantine'"))
        if tf.vocabulary and fr.const is None and fr.map is None:
            problems.append((key, f"this field needs 'map' into vocabulary {tf.vocabulary}"))
        known = fr.map is not None and (fr.map in m.maps or fr.map in shared_maps())
        if known and tf.vocabulary and m.enum_map(fr.map).vocabulary != tf.vocabulary:  # type: ignore[arg-type]
            problems.append((key, f"map '{fr.map}' must use vocabulary {tf.vocabulary}"))
        if fr.join is not None and not fr.paths:
            problems.append((key, "'join' joins the values of 'paths': give 'paths'"))
    for tf in target.fields:
        if tf.required and tf.name not in rule.fields:
            problems.append((f"{target.name}.fields", f"required field '{tf.name}' is missing"))
    if target.name == "order_line" and not rule.items:
        problems.append(("order_line.items", "give the path of the line list inside the order"))
    tracking = rule.fields.get("tracking_no")
    if target.name == "shipment" and (tracking is None or not tracking.all_paths):
        fix = "a parcel is known by its waybill: map tracking_no to a path"
        problems.append(("shipment.fields.tracking_no", fix))
    return problems


def validate_mapping(m: Mapping, where: str) -> None:
    """Cross-field checks pydantic cannot express; raises MappingError naming key and fix."""
    problems = _check_vocabularies(m)
    for name, rule in m.rules().items():
        problems += _check_target(m, TARGETS[name], rule)
    for nested in ("order_line", "shipment"):
        if getattr(m, nested) is not None and m.orders is None:
            problems.append((nested, f"[{nested}] is read from the order: it needs an [orders] table"))
    if problems:
        key, fix = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise MappingError(f"{where}: key '{key}' is invalid{more}", hint=fix)


def parse_mapping(text: str, where: str) -> Mapping:
    """Parse and validate mapping TOML text; ``where`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise MappingError(f"{where}: not valid TOML ({e})", hint="fix the syntax at that line") from e
    try:
        m = Mapping.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        hint = "remove it or check its spelling" if first["type"] == "extra_forbidden" else first["msg"]
        raise MappingError(f"{where}: key '{key}' is invalid ({first['msg']})", hint=hint) from e
    validate_mapping(m, where)
    return m


def load_mapping(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8")
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
    for path in sorted(folder.glob("*.toml")):
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


def workspace_mappings(ws: Workspace) -> dict[str, Mapping]:
    """The mappings a run of workspace ``ws`` uses (``[standardize] mappings`` in ecfusion.toml)."""
    return {p: m for p, (m, _) in library_files(own_folder(ws)).items()}


def own_folder(ws: Workspace) -> Path:
    """The workspace's own mapping folder."""
    return ws.path(ws.config.standardize.mappings)
