"""Width, script, whitespace and punctuation normalization (5.2 Table 1 L1 b, L2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.standardize.normalize import (
    clean_text,
    collapse_whitespace,
    fold_chars,
    normalize_punctuation,
    strip_invisible,
    to_halfwidth,
    to_simplified,
    to_simplified_chars,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１３８００１３８０００", "13800138000"),
        ("ＡＢＣａｂｃ", "ABCabc"),
        ("a\u3000b", "a b"),
        ("＠＃＄％", "@#$%"),
        ("（）", "()"),
        ("中文不变", "中文不变"),
        ("", ""),
    ],
)
def test_to_halfwidth(text: str, expected: str) -> None:
    assert to_halfwidth(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("廣東省", "广东省"),
        ("臺灣", "台湾"),
        ("陳小明", "陈小明"),
        ("簡體中文", "简体中文"),
        ("深圳市南山區", "深圳市南山区"),
        ("已经是简体", "已经是简体"),
        ("ASCII only", "ASCII only"),
    ],
)
def test_to_simplified(text: str, expected: str) -> None:
    assert to_simplified(text) == expected
    assert to_simplified_chars(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("乾燥", "干燥"),  # 乾 is 干 inside words ...
        ("乾淨的衣服", "干净的衣服"),
        ("陕西省乾县", "陕西省乾县"),  # ... and itself in names
        ("乾隆", "乾隆"),
    ],
)
def test_to_simplified_reads_乾_by_its_phrase(text: str, expected: str) -> None:
    assert to_simplified(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  a \t b\n\nc  ", "a b c"),
        ("a\u3000\u3000b", "a b"),
        ("", ""),
    ],
)
def test_collapse_whitespace(text: str, expected: str) -> None:
    assert collapse_whitespace(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好，世界。", "你好,世界."),
        ("【包邮】", "[包邮]"),
        ("“引号”", '"引号"'),
        ("a—b", "a-b"),
    ],
)
def test_normalize_punctuation(text: str, expected: str) -> None:
    assert normalize_punctuation(text) == expected


def test_strip_invisible_and_fold() -> None:
    assert strip_invisible("a\u200bb\ufeffc") == "abc"
    assert fold_chars("廣東\u200b１２３") == "广东123"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Ｈｅｌｌｏ，　世界！ ", "Hello, 世界!"),
        ("\ufeff订单\u200b备注", "订单备注"),
        ("line1\r\nline2", "line1 line2"),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    assert clean_text(text) == expected


@given(st.text())
def test_text_functions_are_total(text: str) -> None:
    for fn in (
        to_halfwidth,
        to_simplified,
        to_simplified_chars,
        collapse_whitespace,
        normalize_punctuation,
        strip_invisible,
        clean_text,
        fold_chars,
    ):
        assert isinstance(fn(text), str)


@given(st.text())
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
