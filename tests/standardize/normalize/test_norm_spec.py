"""Product spec extraction and title cleanup for product entity resolution (6.1.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.standardize.normalize import clean_title, parse_spec


@pytest.mark.parametrize(
    ("title", "value", "unit", "pack"),
    [
        ("海飞丝去屑洗发水500ml", 500.0, "ml", 1),
        ("海飞丝去屑洗发水500ML", 500.0, "ml", 1),
        ("海飞丝去屑洗发水0.5L", 500.0, "ml", 1),
        ("海飞丝去屑洗发水0.5升", 500.0, "ml", 1),
        ("海飞丝去屑洗发水500毫升", 500.0, "ml", 1),
        ("海飞丝去屑洗发水５００ｍｌ", 500.0, "ml", 1),
        ("可乐1.25L", 1250.0, "ml", 1),
        ("五常大米1kg", 1000.0, "g", 1),
        ("五常大米1000g", 1000.0, "g", 1),
        ("五常大米1千克", 1000.0, "g", 1),
        ("五常大米2公斤", 2000.0, "g", 1),
        ("五常大米5斤", 2500.0, "g", 1),
        ("坚果 250克", 250.0, "g", 1),
        ("鱼油 1000mg", 1.0, "g", 1),
        ("牙膏120g 3支装", 120.0, "g", 3),
        ("牙膏 两支装", None, None, 2),
        ("洗发水500ml*3瓶", 500.0, "ml", 3),
        ("洗发水500ml x3", 500.0, "ml", 3),
        ("洗发水500mlX3", 500.0, "ml", 3),
        ("可乐330ml×24罐", 330.0, "ml", 24),
        ("薯片70g*3袋", 70.0, "g", 3),
        ("洗发水500ml 3瓶", 500.0, "ml", 3),
        ("面膜10片装", None, None, 10),
        ("纸巾3层130抽*24包", None, None, 24),
        ("洗衣液2kg+1kg", 2000.0, "g", 1),
        ("手机壳", None, None, 1),
        ("三只松鼠坚果礼盒", None, None, 1),
        ("三只松鼠每日坚果750g 30包", 750.0, "g", 30),
        ("", None, None, 1),
    ],
)
def test_parse_spec(title: str, value: float | None, unit: str | None, pack: int) -> None:
    spec = parse_spec(title)
    assert (spec.capacity_value, spec.capacity_unit, spec.pack_count) == (value, unit, pack)


def test_equal_sizes_compare_equal() -> None:
    sizes = {parse_spec(t).size for t in ("洗发水500ml", "洗发水0.5L", "洗发水500毫升", "洗发水 0.5 升")}
    assert sizes == {(500.0, "ml")}
    assert parse_spec("大米1kg").size == parse_spec("大米1000g").size


def test_pack_is_not_a_variant() -> None:
    single, pack = parse_spec("牙膏120g"), parse_spec("牙膏120g 3支装")
    assert single.size == pack.size
    assert (single.pack_count, pack.pack_count) == (1, 3)
    assert clean_title("牙膏120g 3支装").startswith(clean_title("牙膏120g"))


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("【官方旗舰店】海飞丝去屑洗发水500ml 包邮", "海飞丝去屑洗发水500ml"),
        ("[限时秒杀] 海飞丝 去屑洗发水 正品", "海飞丝 去屑洗发水"),
        ("海飞丝官方旗舰店 新品 洗发水", "海飞丝 洗发水"),
        ("海飛絲洗髮水", "海飞丝洗发水"),
        ("ＳＫ－Ⅱ神仙水", "sk-ii神仙水"),
        ("Apple/苹果 iPhone 15", "apple 苹果 iphone 15"),
        ("买一送一 顺丰包邮 洗发水", "洗发水"),
        ("", ""),
    ],
)
def test_clean_title(title: str, expected: str) -> None:
    assert clean_title(title) == expected


def test_clean_title_strips_given_brands() -> None:
    assert clean_title("海飞丝 去屑洗发水 500ml", brands=("海飞丝",)) == "去屑洗发水 500ml"


@given(st.text(max_size=60))
def test_never_raises(title: str) -> None:
    spec = parse_spec(title)
    assert spec.pack_count >= 1
    assert isinstance(clean_title(title), str)
