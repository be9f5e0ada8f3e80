"""Landing's fast paths keep protect's guarantees: input untouched, tokens reused only for the
same value of the same live subject, detector pre-checks never hide a personal value."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ecfusion.errors import SubjectErased
from ecfusion.security.detectors import find_pii
from ecfusion.security.fields import FieldCipher
from ecfusion.security.tokens import is_token, parse_token


def _order(uid: str, mobile: str, status: str = "WAIT_SELLER_SEND_GOODS") -> dict[str, Any]:
    return {"tid": 2000000000001, "status": status, "buyer_open_uid": uid,
            "receiver_name": "王伟", "receiver_mobile": mobile,
            "orders": {"order": [{"oid": 1, "title": "面霜 50ml"}]},
            "notes": [{"text": "请联系 139 1234 5678"}]}


def test_input_is_never_changed_and_untouched_branches_keep_their_values(cipher: FieldCipher) -> None:
    payload = _order("U1", "13800138000")
    before = copy.deepcopy(payload)
    out, count = cipher.protect(payload, source="taobao", platform="taobao")
    assert payload == before
    assert count == 3
    assert out["orders"] == before["orders"]
    assert is_token(out["receiver_mobile"]) and "13912345678" not in str(out)
    assert payload["notes"][0]["text"] == "请联系 139 1234 5678"


def test_a_later_version_of_an_order_reuses_its_tokens(cipher: FieldCipher) -> None:
    first, _ = cipher.protect(_order("U1", "13800138000"), source="taobao", platform="taobao")
    later, _ = cipher.protect(_order("U1", "13800138000", "TRADE_FINISHED"), source="taobao",
                              platform="taobao")
    other, _ = cipher.protect(_order("U2", "13800138000"), source="taobao", platform="taobao")
    assert later["receiver_mobile"] == first["receiver_mobile"]
    assert cipher.decrypt(later["receiver_mobile"]) == "13800138000"
    # another subject: its own key, so its own ciphertext (the blind index still matches)
    assert other["receiver_mobile"] != first["receiver_mobile"]
    same_index = parse_token(first["receiver_mobile"]).blind_index
    assert parse_token(other["receiver_mobile"]).blind_index == same_index


def test_no_token_is_reused_after_its_subject_is_erased(cipher: FieldCipher) -> None:
    first, _ = cipher.protect(_order("U9", "13800138000"), source="taobao", platform="taobao")
    cipher.erase_subject("taobao:U9", "DSR-1 deletion request")
    again, _ = cipher.protect(_order("U9", "13800138000"), source="taobao", platform="taobao")
    assert again["receiver_mobile"] != first["receiver_mobile"]
    assert parse_token(again["receiver_mobile"]).withheld
    with pytest.raises(SubjectErased):
        cipher.decrypt(first["receiver_mobile"])


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("2026-01-01 00:00:00", []),
        ("WAIT_SELLER_SEND_GOODS", []),
        ("call 138-0013-8000 please", ["phone"]),
        ("call １３８ ００１３ ８０００", ["phone"]),
        ("+86 13800138000", ["phone"]),
        ("身份证11010519491231002X", ["id_number"]),
        ("卡号 6222 0212 3456 7894", ["bank_card"]),
        ("a@b.cn", ["email"]),
        ("order 20260101000000123456", []),
    ],
)
def test_detector_pre_checks_keep_every_hit(text: str, kinds: list[str]) -> None:
    assert [s.kind for s in find_pii(text)] == kinds
    assert [s.kind for s in find_pii(text)] == kinds  # memoized verdict is the same
