"""Value detectors: what they must find in any string, and the ids they must leave alone."""

from __future__ import annotations

import pytest

from ecfusion.security.detectors import find_pii, id_check_digit_ok, luhn_ok

FOUND = [
    # text, expected (kind, matched text) in order
    ("13812345678", [("phone", "13812345678")]),
    ("+8613812345678", [("phone", "+8613812345678")]),
    ("+86 138-1234-5678", [("phone", "+86 138-1234-5678")]),
    ("0086 13812345678", [("phone", "0086 13812345678")]),
    ("１３８１２３４５６７８", [("phone", "１３８１２３４５６７８")]),
    ("138 1234 5678", [("phone", "138 1234 5678")]),
    ("请联系13912345678送货", [("phone", "13912345678")]),
    ("tel:19912345678, thanks", [("phone", "19912345678")]),
    ("电话：15012345678／18612345678", [("phone", "15012345678"), ("phone", "18612345678")]),
    ("11010519491231002X", [("id_number", "11010519491231002X")]),
    ("身份证11010519491231002x已核验", [("id_number", "11010519491231002x")]),
    ("１１０１０５１９４９１２３１００２Ｘ", [("id_number", "１１０１０５１９４９１２３１００２Ｘ")]),
    ("li.na@example.com", [("email", "li.na@example.com")]),
    ("邮箱：wang_wei+shop@163.com。", [("email", "wang_wei+shop@163.com")]),
    ("13812345678@qq.com", [("email", "13812345678@qq.com")]),
    ("ｌｉｎａ＠ｑｑ．ｃｏｍ", [("email", "ｌｉｎａ＠ｑｑ．ｃｏｍ")]),
    ("退款到银行卡 4111111111111111", [("bank_card", "4111111111111111")]),
    ("卡号：6222 0202 0011 2233 446", [("bank_card", "6222 0202 0011 2233 446")]),
]


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_detector_finds(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(s.kind, text[s.start:s.end]) for s in find_pii(text)] == expected


NOT_PERSONAL = [
    "4012345678901234567",        # Taobao tid (19 digits)
    "241122-123456789012345",     # Pinduoduo order_sn
    "6920000000000000001",        # Douyin order_id (19 digits)
    "290123456789",               # JD orderId
    "1732012345",                 # unix seconds
    "1732012345678",              # unix milliseconds
    "2026-11-11 00:00:00",
    "138.00",                     # amount
    "13812345678.00",             # a (large) amount, not a phone
    "0.13812345678",
    "6901234567892",              # GTIN-13 barcode
    "4111111111111111",           # Luhn-valid digits without any card context
    "110105194912310021",         # ID-shaped, wrong check digit
    "11010519491331002X",         # month 13
    "SKU-138123456789",           # 12 digits after a prefix
    "13812345678901",             # 14 digits
    "1381234567",                 # 10 digits
    "12812345678",                # 12x is not a mobile prefix
    "颜色:夜宴黑;尺码:175",
    "user@localhost",             # no top-level domain
    "",
]


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_detector_leaves_alone(text: str) -> None:
    assert find_pii(text) == []


def test_identifier_fields_are_scanned_for_emails_only() -> None:
    assert find_pii("13812345678", digits=False) == []
    assert [s.kind for s in find_pii("a@b.com", digits=False)] == ["email"]


def test_a_card_field_needs_no_words_around_the_number() -> None:
    assert [s.kind for s in find_pii("4111111111111111", card_field=True)] == ["bank_card"]


@pytest.mark.parametrize(("number", "ok"), [
    ("11010519491231002X", True), ("110105194912310021", False), ("44030119900307001X", False),
    ("1101051949123100", False),
])
def test_gb11643_check_digit(number: str, ok: bool) -> None:
    assert id_check_digit_ok(number) is ok


@pytest.mark.parametrize(("digits", "ok"), [("4111111111111111", True), ("4111111111111112", False),
                                             ("79927398713", True)])
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


@pytest.mark.parametrize(("text", "kinds"), [
    ("m0@a.com11010519491231002X", ["email", "id_number"]),
    ("a@b.com13812345678", ["email", "phone"]),
])
def test_a_value_hidden_behind_another_is_found_too(text: str, kinds: list[str]) -> None:
    assert [s.kind for s in find_pii(text)] == kinds
