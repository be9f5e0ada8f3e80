"""Declarative outlier bounds (5.2 Table 1 L3 b): flag with a reason, never drop."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.errors import ConfigError, InputError
from ecfusion.standardize.normalize import BoundsRule, check_bounds, load_bounds_rules

PRICE = BoundsRule(name="price_out_of_range", column="price", min=0, min_inclusive=False, max=100000)
QTY = BoundsRule(name="quantity_out_of_range", column="quantity", min=1, max=9999, integer=True)


@pytest.mark.parametrize(
    ("rule", "value", "reason"),
    [
        (PRICE, 0.01, None),
        (PRICE, 100000, None),
        (PRICE, 0, "price_out_of_range: 0 outside 0 < x <= 100000"),
        (PRICE, -5, "price_out_of_range: -5 outside 0 < x <= 100000"),
        (PRICE, 100000.01, "price_out_of_range: 100000.01 outside 0 < x <= 100000"),
        (PRICE, None, None),
        (PRICE, float("nan"), "price_out_of_range: not a number"),
        (PRICE, "12.50", None),
        (PRICE, "1,299.00", None),
        (PRICE, "免费", "price_out_of_range: not a number"),
        (QTY, 1, None),
        (QTY, 9999, None),
        (QTY, 0, "quantity_out_of_range: 0 outside 1 <= x <= 9999, integer"),
        (QTY, 10000, "quantity_out_of_range: 10000 outside 1 <= x <= 9999, integer"),
        (QTY, 2.5, "quantity_out_of_range: 2.5 outside 1 <= x <= 9999, integer"),
    ],
)
def test_single_values(rule: BoundsRule, value, reason: str | None) -> None:
    assert check_bounds([value], rule).to_pylist() == [reason]


def test_every_row_gets_an_answer_in_order() -> None:
    values = pa.array([10, 0, None, 200000, 5], pa.int64())
    reasons = check_bounds(values, PRICE).to_pylist()
    assert len(reasons) == len(values)
    assert [r is None for r in reasons] == [True, False, True, False, True]


@pytest.mark.parametrize(
    "values",
    [
        pa.array([Decimal("0.00"), Decimal("19.90")], pa.decimal128(18, 2)),
        pa.chunked_array([[0.0], [19.9]]),
        np.array([0.0, 19.9]),
        [0, Decimal("19.9")],
    ],
)
def test_input_kinds(values) -> None:
    assert check_bounds(values, PRICE).to_pylist() == ["price_out_of_range: 0 outside 0 < x <= 100000", None]


def test_missing_is_flagged_only_when_required() -> None:
    required = BoundsRule(name="qty", min=1, allow_null=False)
    assert check_bounds([None, 1], required).to_pylist() == ["qty: missing", None]


def test_non_numeric_arrow_type_is_an_input_error() -> None:
    with pytest.raises(InputError, match="timestamp"):
        check_bounds(pa.array([0], pa.timestamp("s")), PRICE)


def test_rule_spec_from_toml(tmp_path) -> None:
    path = tmp_path / "bounds.toml"
    path.write_text(
        '[[rules]]\nname = "price_out_of_range"\ncolumn = "price"\n'
        "min = 0\nmin_inclusive = false\nmax = 100000\n"
        '[[rules]]\nname = "quantity_out_of_range"\ncolumn = "quantity"\n'
        "min = 1\nmax = 9999\ninteger = true\n",
        "utf-8",
    )
    rules = load_bounds_rules(path)
    assert rules == [PRICE, QTY]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"rules": [{"name": "p", "min": 5, "max": 1}]}', r"rules\[0\].*greater than max"),
        ('{"rules": [{"name": "p", "mni": 5}]}', r"rules\[0\] mni"),
        ('{"rules": [{"min": 5}]}', r"rules\[0\] name"),
        ('{"rulez": []}', "no 'rules' list"),
        ("{not json", "cannot read"),
    ],
)
def test_rule_spec_errors_name_the_rule(tmp_path, body: str, message: str) -> None:
    path = tmp_path / "bounds.json"
    path.write_text(body, "utf-8")
    with pytest.raises(ConfigError, match=message):
        load_bounds_rules(path)


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(10**12), 10**12),
            st.text(max_size=8),
        ),
        max_size=30,
    )
)
def test_never_raises_and_keeps_length(values: list) -> None:
    assert len(check_bounds(values, PRICE)) == len(values)
