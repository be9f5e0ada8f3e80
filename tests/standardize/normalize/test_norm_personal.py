"""Names, e-mails, phone numbers and ID numbers (5.2 Table 1 L2; 6.1.3 exact-match keys)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.standardize.normalize import (
    MaskedPhone,
    normalize_email,
    normalize_id_number,
    normalize_landline,
    normalize_name,
    normalize_phone,
    parse_phone,
    phone_visible_digits,
)
from ecfusion.standardize.normalize.id_number import id_check_char


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        (" 张 三 ", "张三"),
        ("張三", "张三"),
        ("陳小明", "陈小明"),
        ("ＺＨＡＮＧ　ＳＡＮ", "zhangsan"),
        ("Zhang San", "zhangsan"),
        ("阿卜杜拉·艾合买提", "阿卜杜拉艾合买提"),
        ("阿卜杜拉 · 艾合买提", "阿卜杜拉艾合买提"),
        ("阿卜杜拉•艾合买提", "阿卜杜拉艾合买提"),
        ("阿卜杜拉・艾合买提", "阿卜杜拉艾合买提"),
        ("阿卜杜拉.艾合买提", "阿卜杜拉艾合买提"),
        ("阿卜杜拉．艾合买提", "阿卜杜拉艾合买提"),
        ("张\u200b三", "张三"),
        ("阿卜杜拉ㆍ艾合买提", "阿卜杜拉艾合买提"),  # the dot Korean input methods type
        ("阿卜杜拉‐艾合买提", "阿卜杜拉艾合买提"),
        ("阿卜杜拉—艾合买提", "阿卜杜拉艾合买提"),
        ("張三😀", "张三"),
        ("王五👍🏻", "王五"),
        ("李四★", "李四"),
        ("Smith™", "smith"),
        ("😀", None),
        ("", None),
        ("   ", None),
        ("··", None),
        (None, None),
    ],
)
def test_normalize_name(text: str | None, expected: str | None) -> None:
    assert normalize_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("foo@example.com", "foo@example.com"),
        ("  Foo.Bar@Example.COM ", "foo.bar@example.com"),
        ("１２３４５＠ｑｑ．ｃｏｍ", "12345@qq.com"),
        ("<zhang@163.com>", "zhang@163.com"),
        ("mailto:zhang@163.com", "zhang@163.com"),
        ("zhang+shop@gmail.com", "zhang+shop@gmail.com"),
        ("zhang@163。com", "zhang@163.com"),
        ("foo@qq.com.", "foo@qq.com"),  # the end of a sentence
        ("foo@qq.com。", "foo@qq.com"),
        ("张三 <foo@qq.com>", "foo@qq.com"),
        ("user@例子.中国", "user@xn--fsqu00a.xn--fiqs8s"),
        ("user@xn--fsqu00a.xn--fiqs8s", "user@xn--fsqu00a.xn--fiqs8s"),
        ("a" * 65 + "@qq.com", None),  # a local part is at most 64 characters
        ("zhang@@163.com", None),
        ("zhang@163", None),
        ("zhang.@163.com", None),
        ("zh..ang@163.com", None),
        ("not an email", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_email(text: str | None, expected: str | None) -> None:
    assert normalize_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+86-13800138000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("(+86)13800138000", "13800138000"),
        ("138_0013_8000", "13800138000"),  # underscores as separators (spreadsheet exports)
        ("19912345678", "19912345678"),
        ("12800138000", None),  # no 12x mobile segment
        ("1380013800", None),  # 10 digits
        ("138001380001", None),  # 12 digits
        ("010-12345678", None),  # landline stays a landline
        ("01012345678", None),
        ("138****8000", None),  # a mask is not a number
        ("", None),
        (None, None),
        ("电话", None),
    ],
)
def test_normalize_phone(text: str | None, expected: str | None) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected", "ext"),
    [
        ("010-62345678", "010-62345678", None),
        ("(010)62345678", "010-62345678", None),
        ("0531-88886666", "0531-88886666", None),
        ("0531 8888 6666", "0531-88886666", None),
        ("053188886666", "0531-88886666", None),
        ("021-6123456", "021-6123456", None),
        ("0431-88886666", "0431-88886666", None),
        # every international spelling: +86 / 0086 / 86, with or without the trunk 0
        ("+86 21 61234567", "021-61234567", None),
        ("+86-10-62345678", "010-62345678", None),
        ("+86 010 62345678", "010-62345678", None),
        ("+86 0571 88886666", "0571-88886666", None),
        ("+86 (0)571 88886666", "0571-88886666", None),
        ("0086 571 88886666", "0571-88886666", None),
        ("86-571-88886666", "0571-88886666", None),
        # every extension marker: 转 / 分机 / ext / x / # / a trailing dash
        ("0531-88886666转123", "0531-88886666", "123"),
        ("0531-88886666-123", "0531-88886666", "123"),
        ("0571-88886666 ext 123", "0571-88886666", "123"),
        ("0571-88886666 ext. 123", "0571-88886666", "123"),
        ("0571-88886666 x123", "0571-88886666", "123"),
        ("0571-88886666 X 123", "0571-88886666", "123"),
        ("0571-88886666 分机 123", "0571-88886666", "123"),
        ("0571-88886666 转分机 123", "0571-88886666", "123"),
        ("0571-88886666#123", "0571-88886666", "123"),
        ("13800138000", None, None),
        ("12345678", None, None),  # no area code
    ],
)
def test_landline(text: str, expected: str | None, ext: str | None) -> None:
    assert normalize_landline(text) == expected
    parsed = parse_phone(text)
    if expected is not None:
        assert parsed is not None and parsed.kind == "landline" and parsed.extension == ext


@pytest.mark.parametrize(
    "text",
    [
        # 400/800 are nationwide service numbers, not a 0400/0800 area code: no place, no person
        "+86 400 820 8820",
        "400-820-8820",
        "4008208820",
        "800-820-8820",
        "+86 800 820 8820",
        # a local number never starts with 0 (a trunk prefix) or 1 (special services)
        "010-02345678",
        "010-12345678",
        "0571-08888666",
        "0571-18888666",
        # area codes no city has
        "0300-1234567",
        "026-22345678",
        "0700-22345678",
        "86-300-22345678",
    ],
)
def test_not_a_phone_number(text: str) -> None:
    assert parse_phone(text) is None
    assert normalize_landline(text) is None


@pytest.mark.parametrize(
    ("masked", "expected"),
    [
        ("138****5678", MaskedPhone("138", "5678")),
        ("138 **** 5678", MaskedPhone("138", "5678")),
        ("138＊＊＊＊5678", MaskedPhone("138", "5678")),
        ("+86-138****5678", MaskedPhone("138", "5678")),
        ("138xxxx5678", MaskedPhone("138", "5678")),
        ("13800005678", None),
        ("138***5678", None),
        ("1*********8", None),
        ("", None),
        (None, None),
    ],
)
def test_phone_visible_digits(masked: str | None, expected: MaskedPhone | None) -> None:
    assert phone_visible_digits(masked) == expected


def test_masked_phone_matches() -> None:
    mask = phone_visible_digits("138****5678")
    assert mask is not None
    assert mask.matches("13812345678")
    assert not mask.matches("13912345678")
    assert not mask.matches("13812345679")
    assert not mask.matches(None)


# GB 11643-1999's own examples and their first-generation form.
@pytest.mark.parametrize(
    ("text", "value", "birth", "gender"),
    [
        ("11010519491231002X", "11010519491231002X", dt.date(1949, 12, 31), "F"),
        ("11010519491231002x", "11010519491231002X", dt.date(1949, 12, 31), "F"),
        ("440524188001010014", "440524188001010014", dt.date(1880, 1, 1), "M"),
        ("110105 19491231 002X", "11010519491231002X", dt.date(1949, 12, 31), "F"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", dt.date(1949, 12, 31), "F"),
        ("110105491231002", "11010519491231002X", dt.date(1949, 12, 31), "F"),
    ],
)
def test_id_number_valid(text: str, value: str, birth: dt.date, gender: str) -> None:
    got = normalize_id_number(text)
    assert got is not None
    assert (got.value, got.birth_date, got.gender, got.region_code) == (value, birth, gender, value[:6])


@pytest.mark.parametrize(
    "text",
    [
        "110105194912310021",  # wrong check digit
        "11010519491231002",  # 17 characters
        "11010519491331002X",  # month 13 (check digit recomputed below would still fail the date)
        "1101051949123100XX",
        "ABCDEFGHIJKLMNOPQR",
        "",
        None,
    ],
)
def test_id_number_invalid(text: str | None) -> None:
    assert normalize_id_number(text) is None


def test_id_number_with_valid_check_but_impossible_date() -> None:
    first17 = "11010519490230002"  # 30 February
    assert normalize_id_number(first17 + id_check_char(first17)) is None


@given(st.text(max_size=40))
def test_identifier_normalizers_never_raise(text: str) -> None:
    normalize_name(text)
    normalize_email(text)
    normalize_phone(text)
    normalize_landline(text)
    phone_visible_digits(text)
    normalize_id_number(text)


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.sampled_from(["", "+86 ", "0086", "86"]),
    st.sampled_from(["", " ", "-"]),
)
def test_any_formatted_mobile_normalizes_back(mobile: str, prefix: str, sep: str) -> None:
    formatted = prefix + sep.join([mobile[:3], mobile[3:7], mobile[7:]])
    assert normalize_phone(formatted) == mobile
