"""Blind indexes match across the spellings real sources use — one row per quirk."""

from __future__ import annotations

import pytest

from ecfusion.errors import InputError
from ecfusion.security.fields import FieldCipher
from ecfusion.security.normalize import normalize

NORMALIZE = [
    # kind, as delivered, normalized
    ("phone", "13812345678", "13812345678"),
    ("phone", "+86 138 1234 5678", "13812345678"),
    ("phone", "+86-138-1234-5678", "13812345678"),
    ("phone", "0086 13812345678", "13812345678"),
    ("phone", "8613812345678", "13812345678"),
    ("phone", "１３８１２３４５６７８", "13812345678"),
    ("phone", "138-1234-5678", "13812345678"),
    ("phone", " 138 1234 5678 ", "13812345678"),
    ("phone", "(138)12345678", "13812345678"),
    ("phone", "＋８６　１３８１２３４５６７８", "13812345678"),
    ("phone", "0571-88888888", "057188888888"),
    ("phone", "+86 571 8888 8888", "057188888888"),
    ("phone", "138****5678", "1385678"),
    ("id_number", "11010519491231002x", "11010519491231002X"),
    ("id_number", "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    ("id_number", "110105 19491231 002X", "11010519491231002X"),
    ("email", "  Li.Na@Example.COM ", "li.na@example.com"),
    ("email", "ｌｉｎａ＠ｑｑ．ｃｏｍ", "lina@qq.com"),
    ("name", "王 伟", "王伟"),
    ("name", "欧阳·娜娜", "欧阳娜娜"),
    ("name", "欧阳•娜娜", "欧阳娜娜"),
    ("name", "歐陽娜娜", "欧阳娜娜"),
    ("name", "迪丽热巴・迪力木拉提", "迪丽热巴迪力木拉提"),
    ("name", "Ｗａｎｇ Wei", "wangwei"),
    ("name", "\u3000张敏\u3000", "张敏"),
    ("address", "浙江省 杭州市 西湖区 文三路100号", "浙江省杭州市西湖区文三路100号"),
    ("address", "浙江省杭州市西湖區文三路１００號", "浙江省杭州市西湖区文三路100号"),
    ("address", "北京市朝阳区建国路88号，SOHO现代城A座-1201", "北京市朝阳区建国路88号soho现代城a座1201"),
    ("address", "上海市（浦东新区）世纪大道8号。", "上海市浦东新区世纪大道8号"),
    ("address", "臺北市中正區重慶南路一段122號", "台北市中正区重庆南路一段122号"),
    ("bank_card", "6222 0202 0011 2233 445", "6222020200112233445"),
    ("bank_card", "6222-0202-0011-2233", "6222020200112233"),
    ("bank_card", "６２２２０２０２００１１２２３３", "6222020200112233"),
]


@pytest.mark.parametrize(("kind", "raw", "expected"), NORMALIZE)
def test_normalize(kind: str, raw: str, expected: str) -> None:
    assert normalize(kind, raw) == expected


SAME_INDEX = [
    ("phone", ["13812345678", "+86 138-1234-5678", "１３８ １２３４ ５６７８", "0086-138-1234-5678"]),
    ("id_number", ["11010519491231002X", "11010519491231002x", "１１０１０５１９４９１２３１００２ｘ"]),
    ("email", ["lina@qq.com", "LiNa@QQ.com ", "ｌｉｎａ＠ｑｑ．ｃｏｍ"]),
    ("name", ["欧阳娜娜", "歐陽娜娜", "欧阳·娜娜", " 欧阳 娜娜 "]),
    ("address", ["广东省深圳市南山区科技园路1号", "廣東省深圳市南山區科技園路1號",
                 "广东省 深圳市 南山区 科技园路 1 号"]),
    ("bank_card", ["6222020200112233", "6222 0202 0011 2233", "6222-0202-0011-2233"]),
]


@pytest.mark.parametrize(("kind", "spellings"), SAME_INDEX)
def test_blind_index_is_equal_across_spellings(cipher: FieldCipher, kind: str, spellings: list[str]) -> None:
    assert len({cipher.blind_index(kind, s) for s in spellings}) == 1


DIFFERENT_INDEX = [
    ("phone", "13812345678", "13812345679"),
    ("name", "王伟", "王玮"),
    ("address", "文三路100号", "文三路101号"),
]


@pytest.mark.parametrize(("kind", "a", "b"), DIFFERENT_INDEX)
def test_blind_index_differs_for_different_values(cipher: FieldCipher, kind: str, a: str, b: str) -> None:
    assert cipher.blind_index(kind, a) != cipher.blind_index(kind, b)


def test_same_digits_of_different_kinds_do_not_match(cipher: FieldCipher) -> None:
    assert cipher.blind_index("phone", "6222020200112") != cipher.blind_index("bank_card", "6222020200112")


def test_unknown_kind_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown personal-data kind 'passport'"):
        normalize("passport", "E12345678")
