"""Normalizers entity resolution compares on: names, phones, addresses, product specs (table-driven)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.resolve.features import (
    address_detail,
    detail_key,
    name_parts,
    name_pinyin,
    parsed_address,
    phone_visible_digits,
    simplify_name,
)
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


@pytest.mark.parametrize(
    ("raw", "name", "surname"),
    [
        ("王伟", "王伟", "王"),
        ("宋女士", None, "宋"),  # a receiver written as a title says only the surname
        ("欧阳先生", None, "欧阳"),
        ("李**", None, "李"),  # masked to the surname
        (None, None, None),
    ],
)
def test_name_parts(raw: str | None, name: str | None, surname: str | None) -> None:
    assert name_parts(raw) == (name, surname)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # full-width digits
        ("新华路520号蓝湾半岛13栋1单元1702室", "新华路５２０号蓝湾半岛１３栋１单元１７０２室"),
        ("新华路520号蓝湾半岛13栋1单元1702室", "新华路520号蓝湾半岛1311702"),  # shorthand a shopper types
        ("新华路520号 蓝湾半岛 13-1-1702", "新华路520号蓝湾半岛13栋1单元1702室"),
    ],
)
def test_detail_key_makes_spellings_of_one_address_equal(a: str, b: str) -> None:
    assert detail_key(a) == detail_key(b)


def test_parsed_address_fills_divisions_from_the_text_and_keeps_only_the_detail() -> None:
    # JD sends the full address; the district field may be missing on the other platform
    assert parsed_address("石家庄市新华区建国路981号丽景湾2栋3单元2403室", None, "石家庄", None) == (
        "河北省",
        "石家庄",
        "新华区",
        detail_key("建国路981号丽景湾2栋3单元2403室"),
    )
    assert parsed_address(None, "浙江省", "杭州", None) == ("浙江省", "杭州", None, None)


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
    ("title", "spec_text", "capacity", "pack", "shades", "variant"),
    [
        ("自然堂 补水精华液 500ml", None, (500, "ml"), 1, set(), set()),
        ("自然堂 补水精华液 0.5L", None, (500, "ml"), 1, set(), set()),  # 500ml = 0.5L
        ("自然堂 补水精华液 500毫升", None, (500, "ml"), 1, set(), set()),
        ("自然堂 补水精华液 50ml 3支装", None, (50, "ml"), 3, set(), set()),  # a bundle, not a variant
        ("自然堂 补水精华液 50ml 三支装", None, (50, "ml"), 3, set(), set()),
        ("自然堂 补水精华液 50ML ×3", None, (50, "ml"), 3, set(), set()),
        ("百雀羚 洗面奶 1kg", None, (1000, "g"), 1, set(), set()),
        ("百雀羚 洗面奶", None, None, None, set(), set()),  # says nothing: pack unknown, not 1
        ("青岚丝绒哑光口红 3g #02豆沙*3", None, (3, "g"), 3, {"2"}, set()),
        ("青岚/QINGLAN 丝绒哑光口红", "规格:#02豆沙 3g 3支装", (3, "g"), 3, {"2"}, set()),
        ("青岚气垫BB霜 15克 02自然色", None, (15, "g"), 1, {"2"}, set()),
        ("青岚定妆散粉", "规格:透明色 8g", (8, "g"), 1, set(), {"透明色"}),
    ],
)
def test_parse_spec(
    title: str,
    spec_text: str | None,
    capacity: tuple[float, str] | None,
    pack: int | None,
    shades: set[str],
    variant: set[str],
) -> None:
    spec = parse_spec(title, spec_text)
    assert spec.capacity == capacity
    assert spec.pack == pack
    assert spec.shades == shades and spec.variant == variant


def test_product_words_survive_platform_decorations() -> None:
    a = parse_spec("【官方旗舰店】QINGLAN 青岚清洁泥膜", "规格:100克")
    b = parse_spec("青岚/QINGLAN 清洁泥膜 限时特惠 热卖", "规格:100g")
    assert a.core == b.core == "青岚清洁泥膜" and a.capacity == b.capacity


def test_spec_blocks_separate_bundle_from_single() -> None:
    assert parse_spec("韩束 面霜 50ml").block != parse_spec("韩束 面霜 50ml 3支装").block
    assert parse_spec("韩束 面霜 500ml").block == parse_spec("韩束 面霜 0.5L").block


@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=30)))
def test_parse_spec_never_crashes(title: str, spec_text: str | None) -> None:
    spec = parse_spec(title, spec_text)
    assert spec.pack is None or spec.pack >= 1


@given(st.one_of(st.none(), st.text(max_size=20)), st.one_of(st.none(), st.text(max_size=20)))
def test_visible_digits_never_crash(phone: str | None, masked: str | None) -> None:
    out = phone_visible_digits(phone, masked)
    assert out is None or len(out) == 7
