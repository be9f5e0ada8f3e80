"""Completion at landing: each phone's region is kept beside its token (contracts §3 ``<field>_region``)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ecfusion.config import Workspace
from ecfusion.lake import RawLake
from ecfusion.security.fields import FieldCipher, is_token

CHANGZHOU = {"province": "江苏省", "city": "常州市", "basis": "mobile_prefix"}
MASKED = {"province": None, "city": None, "basis": "masked"}

# (platform, payload, {path of the sibling: its value}) — one row per platform shape.
CASES: list[tuple[str, dict[str, Any], dict[tuple[str, ...], dict[str, Any]]]] = [
    ("taobao",
     {"tid": "1", "buyer_open_uid": "AAF1", "receiver_mobile": "13912345678",
      "receiver_phone": "0571-88888888", "receiver_state": "", "buyer_message": "到了打13912345678"},
     {("receiver_mobile_region",): CHANGZHOU,
      ("receiver_phone_region",): {"province": "浙江省", "city": "杭州市", "basis": "area_code"}}),
    ("jd",
     {"orderId": "2", "pin": "jd_1", "consigneeInfo": {"mobile": "139****5678", "telephone": "13912345678",
                                                        "encrypt_mobile": "$$MTM5MTIzNDU2Nzg=$$"}},
     {("consigneeInfo", "mobile_region"): MASKED, ("consigneeInfo", "telephone_region"): CHANGZHOU,
      ("consigneeInfo", "encrypt_mobile_region"): {"province": None, "city": None, "basis": "not_a_phone"}}),
    ("pdd",
     {"order_sn": "3", "receiver_phone": "13800138000", "receiver_phone_mask": "138****8000"},
     {("receiver_phone_region",): {"province": "北京市", "city": "北京市", "basis": "mobile_prefix"},
      ("receiver_phone_mask_region",): MASKED}),
    ("douyin",
     {"order_id": "4", "doudian_open_id": "dy1", "post_tel": "+86 139 1234 5678",
      "mask_post_tel": "139****5678"},
     {("post_tel_region",): CHANGZHOU, ("mask_post_tel_region",): MASKED}),
    ("crm", {"member_id": "m1", "card_no": "C1", "mobile": "13912345678"}, {("mobile_region",): CHANGZHOU}),
]


def _at(payload: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        payload = payload[key]
    return payload


@pytest.mark.parametrize(("platform", "payload", "regions"), CASES, ids=[c[0] for c in CASES])
def test_every_platform_gets_the_same_sibling(cipher: FieldCipher, platform: str, payload: dict[str, Any],
                                              regions: dict[tuple[str, ...], dict[str, Any]]) -> None:
    before = copy.deepcopy(payload)
    protected, _ = cipher.protect(payload, source=f"{platform}_shop", platform=platform)
    assert payload == before, "protect must not modify its input"
    for path, region in regions.items():
        assert _at(protected, path) == region, path
        assert is_token(_at(protected, (*path[:-1], path[-1].removesuffix("_region"))))
    siblings = re.findall(r'"([^"]+_region)"', json.dumps(protected, ensure_ascii=False))
    assert sorted(siblings) == sorted(p[-1] for p in regions), "free-text phones get no sibling"


def test_sibling_holds_no_digit_of_the_number(cipher: FieldCipher) -> None:
    protected, _ = cipher.protect(CASES[0][1], source="tb", platform="taobao")
    text = json.dumps({k: v for k, v in protected.items() if k.endswith("_region")}, ensure_ascii=False)
    assert not re.search(r"\d", text)
    assert "移动" not in text and "联通" not in text and "电信" not in text  # no carrier either


def test_protecting_twice_changes_nothing(cipher: FieldCipher) -> None:
    once, _ = cipher.protect(CASES[3][1], source="dy", platform="douyin")
    twice, count = cipher.protect(once, source="dy", platform="douyin")
    assert twice == once and count == 0


def test_a_native_field_with_the_sibling_name_is_kept(cipher: FieldCipher) -> None:
    payload = {"tid": "1", "buyer_open_uid": "u", "receiver_mobile": "13912345678",
               "receiver_mobile_region": "华东"}
    protected, _ = cipher.protect(payload, source="tb", platform="taobao")
    assert protected["receiver_mobile_region"] == "华东"


def test_erased_subject_gets_no_region(cipher: FieldCipher) -> None:
    payload = {"tid": "1", "buyer_open_uid": "gone", "receiver_mobile": "13912345678"}
    cipher.erase_subject("taobao:gone", "data-subject request")
    protected, _ = cipher.protect(payload, source="tb", platform="taobao")
    assert "receiver_mobile_region" not in protected


def test_landing_writes_the_region_beside_the_token(tmp_path: Path) -> None:
    """Through the lake: the raw zone row carries token and region, never the number."""
    ws = Workspace.init(tmp_path / "ws")
    with RawLake.open(ws, protect_workers=0) as lake:
        with lake.writer(source="taobao", entity="orders", platform="taobao") as w:
            w.add({"tid": "9", "buyer_open_uid": "AAF9", "receiver_mobile": "13912345678"}, record_key="9")
        row = lake.read_raw("taobao", "orders").to_pylist()[0]
    payload = json.loads(row["payload"])
    assert payload["receiver_mobile_region"] == CHANGZHOU
    assert "13912345678" not in row["payload"]
