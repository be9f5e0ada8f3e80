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
        # huge values, the ones the check exists for: flagged, never raised, printed compactly
        (PRICE, 9007199254740993, "price_out_of_range: 9.007199254740992e+15 outside 0 < x <= 100000"),
        (PRICE, 2**63, "price_out_of_range: 9.223372036854776e+18 outside 0 < x <= 100000"),
        (PRICE, 10**40, "price_out_of_range: 1e+40 outside 0 < x <= 100000"),
        (PRICE, 1e300, "price_out_of_range: 1e+300 outside 0 < x <= 100000"),
        (PRICE, "1e300", "price_out_of_range: 1e+300 outside 0 < x <= 100000"),
        (PRICE, -(2**70), "price_out_of_range: -1.1805916207174113e+21 outside 0 < x <= 100000"),
        # infinity and NaN, whatever their spelling, are not numbers
        (PRICE, Decimal("Infinity"), "price_out_of_range: not a number"),
        (PRICE, Decimal("NaN"), "price_out_of_range: not a number"),
        (PRICE, float("inf"), "price_out_of_range: not a number"),
        (PRICE, float("-inf"), "price_out_of_range: not a number"),
        (PRICE, "inf", "price_out_of_range: not a number"),
        (PRICE, "nan", "price_out_of_range: not a number"),
        (QTY, float("inf"), "quantity_out_of_range: not a number"),  # passed integer = true before
        # blank text is missing, as None is
        (PRICE, "", None),
        (PRICE, "   ", None),
        (PRICE, "\u3000", None),  # ideographic space
        # text float() takes but no platform sends
        (PRICE, "1_000", "price_out_of_range: not a number"),
        (PRICE, "\u0663", "price_out_of_range: not a number"),  # Arabic-Indic 3
        (PRICE, "1,2", "price_out_of_range: not a number"),  # a decimal comma, not 12
        (PRICE, "12,50", "price_out_of_range: not a number"),
        # what platforms and input methods do send
        (PRICE, "１２．５０", None),  # full-width
        (PRICE, "+12.5", None),
        (PRICE, ".5", None),
        (PRICE, "1,234,567.00", "price_out_of_range: 1234567 outside 0 < x <= 100000"),
        (PRICE, "-0.5", "price_out_of_range: -0.5 outside 0 < x <= 100000"),
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
    assert check_bounds(["", " ", "1"], required).to_pylist() == ["qty: missing", "qty: missing", None]


@pytest.mark.parametrize(
    "values",
    [
        pa.array(["0", "19.9", "0", None]).dictionary_encode(),  # Parquet / pandas categoricals
        pa.array([0.0, 19.9, 0.0, None]).dictionary_encode(),
        pa.chunked_array(
            [pa.array(["0", "19.9"]).dictionary_encode(), pa.array(["0", None]).dictionary_encode()]
        ),
    ],
)
def test_dictionary_encoded_columns(values) -> None:
    zero = "price_out_of_range: 0 outside 0 < x <= 100000"
    assert check_bounds(values, PRICE).to_pylist() == [zero, None, zero, None]


def test_huge_integers_in_arrow_and_numpy() -> None:
    assert check_bounds(pa.array([2**64 - 1], pa.uint64()), PRICE).to_pylist() == [
        "price_out_of_range: 1.8446744073709552e+19 outside 0 < x <= 100000"
    ]
    assert check_bounds(np.array([2**63], dtype=np.uint64), PRICE).to_pylist() == [
        "price_out_of_range: 9.223372036854776e+18 outside 0 < x <= 100000"
    ]
    wide = pa.array([Decimal("1" + "0" * 30)], pa.decimal128(38, 0))
    assert check_bounds(wide, PRICE).to_pylist() == ["price_out_of_range: 1e+30 outside 0 < x <= 100000"]


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
        ('{"rules": [{"name": "p", "max": NaN}]}', r"rules\[0\] max: .*finite"),
    ],
)
def test_rule_spec_errors_name_the_rule(tmp_path, body: str, message: str) -> None:
    path = tmp_path / "bounds.json"
    path.write_text(body, "utf-8")
    with pytest.raises(ConfigError, match=message):
        load_bounds_rules(path)


@pytest.mark.parametrize("bound", ["max = nan", "min = nan", "max = inf", "min = -inf"])
def test_a_non_finite_bound_is_refused_not_silently_off(tmp_path, bound: str) -> None:
    """``max = nan`` is valid TOML; every comparison with NaN is false, so it would pass everything."""
    path = tmp_path / "bounds.toml"
    path.write_text(f'[[rules]]\nname = "price"\n{bound}\n', "utf-8")
    with pytest.raises(ConfigError, match=rf"rules\[0\] {bound.split()[0]}: Input should be a finite number"):
        load_bounds_rules(path)


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(),  # beyond int64 too
            st.decimals(allow_nan=True, allow_infinity=True),
            st.text(max_size=8),
        ),
        max_size=30,
    )
)
def test_never_raises_and_keeps_length(values: list) -> None:
    assert len(check_bounds(values, PRICE)) == len(values)
