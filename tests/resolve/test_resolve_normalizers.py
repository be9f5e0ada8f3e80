"""Normalizers entity resolution compares on: names, phones, addresses, product specs (table-driven)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.resolve.features import address_detail, name_pinyin, phone_visible_digits, simplify_name
from ecfusion.resolve.products import parse_spec


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("王伟", "王伟"),
        ("陳偉", "陈伟"),  # traditional → simplified compares equal
        ("王 伟", "王伟"),  # stray space from a form
        ("阿卜杜·热合曼", "阿卜杜热合曼"),  # middle dot of minority names
        ("李**", "李"),  # a masked name keeps what is visible
    ],
)
def test_simplify_name(raw: str, expected: str) -> None:
    assert simplify_name(raw) == expected


@pytest.mark.parametrize(("a", "b"), [("王伟", "王玮"), ("李娜", "李纳"), ("张静", "张晶")])
def test_homophone_names_share_pinyin(a: str, b: str) -> None:
    assert name_pinyin(a) == name_pinyin(b)


@pytest.mark.parametrize(
    ("phone", "masked", "expected"),
    [
        ("13812345678", None, "1385678"),
        (None, "138****5678", "1385678"),  # masked copy shows the same digits as the plaintext
        ("13812345678", "138****5678", "1385678"),
        (None, "***", None),
        (None, None, None),
        ("12345", None, None),
    ],
)
def test_phone_visible_digits(phone: str | None, masked: str | None, expected: str | None) -> None:
    assert phone_visible_digits(phone, masked) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("浙江省杭州市西湖区文一西路100号1栋2单元301室", "文一西路100号1栋2单元301室"),
        ("浙江省 杭州市 西湖区 文一西路100号", "文一西路100号"),
        (None, None),
    ],
)
def test_address_detail_strips_admin_parts(address: str | None, expected: str | None) -> None:
    assert address_detail(address and address.replace(" ", ""), "浙江省", "杭州市", "西湖区") == expected


@pytest.mark.parametrize(
    ("title", "capacity", "pack"),
    [
        ("自然堂 补水精华液 500ml", 500, 1),
        ("自然堂 补水精华液 0.5L", 500, 1),  # 500ml = 0.5L
        ("自然堂 补水精华液 500毫升", 500, 1),
        ("自然堂 补水精华液 50ml 3支装", 50, 3),  # 3支装 is a bundle, not a variant
        ("自然堂 补水精华液 50ml 三支装", 50, 3),
        ("自然堂 补水精华液 50ML ×3", 50, 3),
        ("自然堂 补水精华液 50ml 两支装", 50, 2),
        ("百雀羚 洗面奶 1kg", 1000, 1),
        ("百雀羚 洗面奶", None, 1),
    ],
)
def test_parse_spec(title: str, capacity: float | None, pack: int) -> None:
    spec = parse_spec(title)
    assert spec.capacity == capacity
    assert spec.pack == pack


def test_spec_blocks_separate_bundle_from_single() -> None:
    assert parse_spec("韩束 面霜 50ml").block != parse_spec("韩束 面霜 50ml 3支装").block
    assert parse_spec("韩束 面霜 500ml").block == parse_spec("韩束 面霜 0.5L").block


@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=30)))
def test_parse_spec_never_crashes(title: str, spec_text: str | None) -> None:
    spec = parse_spec(title, spec_text)
    assert spec.pack >= 1


@given(st.one_of(st.none(), st.text(max_size=20)), st.one_of(st.none(), st.text(max_size=20)))
def test_visible_digits_never_crash(phone: str | None, masked: str | None) -> None:
    out = phone_visible_digits(phone, masked)
    assert out is None or len(out) == 7
