"""Declarative plausibility bounds: flag outliers with a reason, never drop them.

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 b ("能自动识别并处理异常值（如超出合理范围的商品
价格）"). A rule is data (a TOML/JSON spec validated by pydantic); ``check_bounds`` is
vectorised over an Arrow array and returns, per value, ``None`` (plausible) or a reason
string starting with the rule name, which the pipeline writes beside the row or into
quarantine.

Rule spec file::

    [[rules]]
    name = "price_out_of_range"
    column = "price"
    min = 0
    min_inclusive = false     # 0 < price
    max = 100000              # price <= 100000

    [[rules]]
    name = "quantity_out_of_range"
    column = "quantity"
    min = 1
    max = 9999
    integer = true

What a value is: numbers, decimals and numeric text as platforms write it (``12.50``,
``1,299.00``, full-width digits folded); null, empty and blank text are missing (flagged only
when ``allow_null = false``); NaN, ±infinity and any other text are ``not a number``.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ecfusion.errors import ConfigError, InputError


class BoundsRule(BaseModel):
    """A plausible range for one numeric field."""

    # allow_inf_nan=False: ``max = nan`` is valid TOML, and every comparison with NaN is false,
    # so it would silently switch the bound off; an infinite bound is better written by leaving it out.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str
    column: str | None = None
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    integer: bool = False
    allow_null: bool = True

    @model_validator(mode="after")
    def _range_is_sane(self) -> BoundsRule:
        if self.min is None and self.max is None and not self.integer:
            raise ValueError("a bounds rule needs min, max or integer = true")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self

    def describe(self) -> str:
        """The allowed range in words, e.g. ``0 < x <= 100000``."""
        parts = []
        if self.min is not None:
            parts.append(f"{_fmt(self.min)} {'<=' if self.min_inclusive else '<'} ")
        parts.append("x")
        if self.max is not None:
            parts.append(f" {'<=' if self.max_inclusive else '<'} {_fmt(self.max)}")
        return "".join(parts) + (", integer" if self.integer else "")


def _fmt(x: float) -> str:
    """``100000``, ``2.5``, ``1e+300``: whole numbers without ``.0`` while float64 holds them exactly
    (below 2**53); beyond, the exponent form, which neither runs to hundreds of digits nor shows
    digits the float does not have (9007199254740993 reads back as 9.007199254740992e+15)."""
    x = float(x)
    if abs(x) < 2**53:
        return str(int(x)) if x.is_integer() else repr(x)
    return np.format_float_scientific(x, unique=True, trim="-")


def _to_float_array(
    values: pa.Array | pa.ChunkedArray | np.ndarray | Sequence[Any],
) -> tuple[pa.Array, pa.Array]:
    """(float64 values, is-not-a-number mask). Strings are parsed; what does not parse is flagged."""
    if isinstance(values, pa.ChunkedArray):
        values = _decoded(values).combine_chunks()
    elif isinstance(values, pa.Array):
        values = _decoded(values)
    else:
        values = _as_arrow(values)
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        # Blank text is missing, as None is: a CSV export or a form writes an absent number as "".
        texts = [None if v is None or not v.strip() else v for v in values.to_pylist()]
        parsed = [_parse_float(v) for v in texts]
        bad = pa.array([v is not None and p is None for v, p in zip(texts, parsed, strict=True)], pa.bool_())
        return pa.array(parsed, pa.float64()), bad
    if pa.types.is_null(kind):
        return pa.nulls(len(values), pa.float64()), pa.array(np.zeros(len(values), dtype=bool))
    if not (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
    ):
        raise InputError(
            f"check_bounds cannot compare values of type {kind}",
            hint="pass numbers, decimals or numeric strings",
        )
    # safe=False: an integer beyond 2**53 or a wide decimal has no exact float64; rounding it by
    # one unit does not move it across a plausible bound, and refusing it would crash on exactly
    # the huge values this check exists to flag.
    floats = pc.cast(values, pa.float64(), safe=False)
    # NaN and ±inf are not measurements (a broken export, a division by zero upstream): "not a
    # number", as the text "inf" is, rather than passing a rule that has no max or integer = true.
    bad = pc.fill_null(pc.invert(pc.is_finite(floats)), False)
    return pc.if_else(bad, pa.scalar(None, pa.float64()), floats), bad


def _decoded(values: pa.Array | pa.ChunkedArray) -> Any:
    """A dictionary-encoded column (Parquet and pandas categoricals arrive so) as plain values."""
    if pa.types.is_dictionary(values.type):
        return pc.cast(values, values.type.value_type)
    return values


def _as_arrow(values: np.ndarray | Sequence[Any]) -> pa.Array:
    items = values if isinstance(values, np.ndarray) else list(values)
    try:
        return pa.array(items)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        # Mixed Python types (1, "2", Decimal("3")), integers beyond int64/uint64, Decimal("Infinity"):
        # compare them through their text, which _parse_float reads or flags.
        return pa.array([None if v is None else str(v) for v in items], pa.string())


# A decimal number as platforms write it: optional sign, ASCII digits with optional comma grouping
# (1,299.00), optional fraction and exponent. float() alone is too lenient: it also takes "1_000",
# Arabic-Indic and other Unicode digits, "inf" and "nan", and strip-all-commas read "1,2" as 12.
_NUMBER = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _parse_float(value: str | None) -> float | None:
    """The number in ``value``; None when it is not one (or is None). Full-width digits are folded
    (NFKC), as the phone and address parsers do: they come from Chinese input methods."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    if not _NUMBER.fullmatch(text):
        return None
    return float(text.replace(",", ""))


def check_bounds(
    values: pa.Array | pa.ChunkedArray | np.ndarray | Sequence[Any], rule: BoundsRule
) -> pa.StringArray:
    """Per value: None when plausible, else ``"<rule.name>: <value> outside <range>"``.

    Nulls and blank text pass unless ``rule.allow_null`` is False (``"<rule.name>: missing"``);
    NaN, ±infinity and text that is not a number are flagged ``"<rule.name>: not a number"``.
    Output length always equals input length; bad values are flagged, never raised.
    """
    floats, bad = _to_float_array(values)
    violation: pa.Array = pa.array(np.zeros(len(floats), dtype=bool))
    if rule.min is not None:
        below = pc.less(floats, rule.min) if rule.min_inclusive else pc.less_equal(floats, rule.min)
        violation = pc.or_(violation, below)
    if rule.max is not None:
        above = pc.greater(floats, rule.max) if rule.max_inclusive else pc.greater_equal(floats, rule.max)
        violation = pc.or_(violation, above)
    if rule.integer:
        violation = pc.or_(violation, pc.not_equal(pc.floor(floats), floats))
    violation = pc.fill_null(violation, False)
    null = pc.and_(pc.is_null(floats), pc.invert(bad))
    return _reasons(floats, violation, bad, null, rule)


def _reasons(
    floats: pa.Array, violation: pa.Array, bad: pa.Array, null: pa.Array, rule: BoundsRule
) -> pa.StringArray:
    out: list[str | None] = [None] * len(floats)
    allowed = rule.describe()
    for i in np.flatnonzero(violation.to_numpy(zero_copy_only=False)):
        out[i] = f"{rule.name}: {_fmt(floats[int(i)].as_py())} outside {allowed}"
    for i in np.flatnonzero(bad.to_numpy(zero_copy_only=False)):
        out[i] = f"{rule.name}: not a number"
    if not rule.allow_null:
        for i in np.flatnonzero(null.to_numpy(zero_copy_only=False)):
            out[i] = f"{rule.name}: missing"
    return pa.array(out, pa.string())


def load_bounds_rules(path: str | Path) -> list[BoundsRule]:
    """Read a ``.toml`` or ``.json`` rule spec (``rules = [...]``); ConfigError names the file and rule."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        doc = tomllib.loads(raw.decode("utf-8")) if path.suffix == ".toml" else json.loads(raw)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"cannot read bounds rules {path}: {exc}",
            hint='a TOML file with [[rules]] tables or JSON {"rules": [...]}',
        ) from exc
    rules = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rules, list):
        raise ConfigError(f"{path}: no 'rules' list", hint="add [[rules]] tables with name, min, max")
    out = []
    for n, item in enumerate(rules):
        try:
            out.append(BoundsRule.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "rule"
            raise ConfigError(
                f"{path}: rules[{n}] {where}: {first['msg']}",
                hint="fields: name, column, min, max, min_inclusive, max_inclusive, integer, allow_null",
            ) from exc
    return out
