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
"""

from __future__ import annotations

import json
import math
import tomllib
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

    model_config = ConfigDict(frozen=True, extra="forbid")

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
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _to_float_array(
    values: pa.Array | pa.ChunkedArray | np.ndarray | Sequence[Any],
) -> tuple[pa.Array, pa.Array]:
    """(float64 values, is-unparseable mask). Strings are parsed; what does not parse is flagged."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = _as_arrow(values)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        parsed = [_parse_float(v) for v in values.to_pylist()]
        bad = pa.array([v is not None and p is None for v, p in zip(values.to_pylist(), parsed, strict=True)])
        return pa.array(parsed, pa.float64()), bad
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), pa.float64()), pa.array(np.zeros(len(values), dtype=bool))
    if not (
        pa.types.is_integer(values.type)
        or pa.types.is_floating(values.type)
        or pa.types.is_decimal(values.type)
        or pa.types.is_boolean(values.type)
    ):
        raise InputError(
            f"check_bounds cannot compare values of type {values.type}",
            hint="pass numbers, decimals or numeric strings",
        )
    floats = pc.cast(values, pa.float64())
    nan = pc.fill_null(pc.is_nan(floats), False)
    return pc.if_else(nan, pa.scalar(None, pa.float64()), floats), nan


def _as_arrow(values: np.ndarray | Sequence[Any]) -> pa.Array:
    items = values if isinstance(values, np.ndarray) else list(values)
    try:
        return pa.array(items)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed Python types (1, "2", Decimal("3")): compare them through their text.
        return pa.array([None if v is None else str(v) for v in items], pa.string())


def _parse_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        x = float(value.strip().replace(",", ""))
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def check_bounds(
    values: pa.Array | pa.ChunkedArray | np.ndarray | Sequence[Any], rule: BoundsRule
) -> pa.StringArray:
    """Per value: None when plausible, else ``"<rule.name>: <value> outside <range>"``.

    Nulls pass unless ``rule.allow_null`` is False; NaN and unparseable strings are flagged
    ``"<rule.name>: not a number"``. Output length always equals input length.
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
