"""protect(): personal values replaced by tokens wherever they sit in real platform payloads."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ecfusion.security.fields import FieldCipher, is_token, parse_token
from ecfusion.security.keystore import LocalKeyStore
from ecfusion.security.protect import ProtectBatch, Protected
from ecfusion.security.tokens import tokens_in_text

TAOBAO = {
    "tid": 4012345678901234567, "tid_str": "4012345678901234567", "status": "WAIT_SELLER_SEND_GOODS",
    "buyer_nick": "tb_lina", "buyer_open_uid": "AAHk5d-BEvD1", "created": "2026-11-11 00:00:01",
    "modified": "2026-11-11 00:05:00", "payment": "199.00", "post_fee": "0.00",
    "receiver_name": "李娜", "receiver_mobile": "13812345678", "receiver_phone": "0571-88888888",
    "receiver_state": "浙江省", "receiver_city": "杭州市", "receiver_district": "西湖区",
    "receiver_address": "文三路100号3幢", "receiver_zip": "310000",
    "buyer_message": "到了打13812345678", "oaid": "1mWx2kHc9sXJ3h4",
    "orders": {"order": [{"oid": 4012345678901234568, "num_iid": 13912345678, "sku_id": "13712345678",
                          "outer_sku_id": "WH-500ML", "title": "保湿水 500ml", "price": "199.00",
                          "sku_properties_name": "规格:500ml", "num": 1}]},
}
JD = {
    "orderId": "290123456789", "orderState": "WAIT_SELLER_STOCK_OUT", "pin": "jd_lina",
    "open_id_buyer": "o-jd-77",
    "orderStartTime": "2026-11-11 00:00:01", "orderTotalPrice": "199.00",
    "consigneeInfo": {"fullname": "李*", "mobile": "138****5678", "telephone": "13812345678",
                      "fullAddress": "浙江杭州市西湖区文三路100号", "province": "浙江", "city": "杭州市",
                      "county": "西湖区", "encrypt_mobile": "MTM4MTIzNDU2Nzg=encrypted~"},
    "itemInfoList": [{"skuId": "13812345678", "wareId": "100012", "skuName": "保湿水", "itemTotal": "1"}],
}
PDD = {
    "order_sn": "241122-123456789012345", "order_status": 1, "updated_at": "2026-11-22 10:00:00",
    "pay_amount": 199.0, "receiver_name": "李娜", "receiver_phone": "13812345678",
    "receiver_address": "浙江省杭州市西湖区文三路100号", "receiver_name_mask": "李*",
    "receiver_phone_mask": "138****5678", "receiver_address_mask": "浙江省杭州市西湖区****",
    "item_list": [{"sku_id": 13812345678, "goods_id": 9001, "goods_count": 1, "goods_price": 199.0}],
}
DOUYIN = {
    "order_id": "6920000000000000001", "order_status": 2, "doudian_open_id": "dy_open_5",
    "create_time": 1732012345, "pay_amount": 19900, "post_receiver": "李娜", "post_tel": "13812345678",
    "encrypt_post_receiver": "##Zm9vYmFyYmF6cXV4cXV1eA==##", "encrypt_post_tel": "$$MTM4MTIzNDU2Nzg=bG9uZw$$",
    "mask_post_receiver": "李*", "mask_post_tel": "138****5678",
    "post_addr": {"province": {"name": "浙江省", "id": "33"}, "city": {"name": "杭州市", "id": "3301"},
                  "detail": "文三路100号3幢", "encrypt_detail": "#abc#def#xyz=#"},
    "sku_order_list": [{"sku_order_id": "6920000000000000002", "sku_id": 13812345678,
                        "spec": [{"name": "规格", "value": "500ml"}], "code": "WH500"}],
}
CRM = {"member_id": "M000123", "card_no": "8800123", "name": "歐陽娜娜", "mobile": "13812345678",
       "id_card_no": "11010519491231002X",
       "email": "LiNa@Example.com", "address": "浙江省杭州市西湖区文三路100号", "level": "gold",
       "points": 1380, "registered_at": "2025-01-01 10:00:00"}
POS = {"门店编码": "WH001", "小票号": "WH00125010400001", "会员卡号": "8800123", "会员手机": "13812345678",
       "商品条码": "6975321001224", "销售时间": "2025-01-04 12:47:00", "实收金额": "69.00",
       "store_id": "S01", "receipt_no": "20261111000123", "card_no": "VIP0012345", "phone": "13812345678",
       "sku_code": "6901234567892", "amount": "199.00", "cashier": "C07"}

CASES = [
    # platform, payload, paths that must become whole tokens (kind), paths that must stay as they are
    ("taobao", TAOBAO,
     {("receiver_name",): "name", ("receiver_mobile",): "phone", ("receiver_phone",): "phone",
      ("receiver_address",): "address"},
     [("tid",), ("tid_str",), ("buyer_nick",), ("buyer_open_uid",), ("payment",), ("receiver_zip",),
      ("receiver_city",), ("oaid",), ("orders", "order", 0, "num_iid"), ("orders", "order", 0, "sku_id"),
      ("orders", "order", 0, "oid"), ("created",)]),
    ("jd", JD,
     {("consigneeInfo", "fullname"): "name", ("consigneeInfo", "mobile"): "phone",
      ("consigneeInfo", "telephone"): "phone", ("consigneeInfo", "fullAddress"): "address",
      ("consigneeInfo", "encrypt_mobile"): "phone"},
     [("orderId",), ("pin",), ("consigneeInfo", "city"), ("itemInfoList", 0, "skuId")]),
    ("pdd", PDD,
     {("receiver_name",): "name", ("receiver_phone",): "phone", ("receiver_address",): "address",
      ("receiver_name_mask",): "name", ("receiver_phone_mask",): "phone",
      ("receiver_address_mask",): "address"},
     [("order_sn",), ("pay_amount",), ("item_list", 0, "sku_id"), ("updated_at",)]),
    ("douyin", DOUYIN,
     {("post_receiver",): "name", ("post_tel",): "phone", ("encrypt_post_receiver",): "name",
      ("encrypt_post_tel",): "phone", ("mask_post_receiver",): "name", ("mask_post_tel",): "phone",
      ("post_addr", "detail"): "address", ("post_addr", "encrypt_detail"): "address"},
     [("order_id",), ("create_time",), ("post_addr", "city", "name"), ("sku_order_list", 0, "sku_id"),
      ("sku_order_list", 0, "spec", 0, "name")]),
    ("crm", CRM,
     {("name",): "name", ("mobile",): "phone", ("id_card_no",): "id_number", ("email",): "email",
      ("address",): "address"},
     [("member_id",), ("points",), ("registered_at",)]),
    ("pos", POS, {("phone",): "phone", ("会员手机",): "phone"},
     [("receipt_no",), ("card_no",), ("sku_code",), ("amount",), ("小票号",), ("会员卡号",), ("商品条码",),
      ("销售时间",)]),
]


def at(payload: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        payload = payload[part]
    return payload


@pytest.mark.parametrize(("platform", "payload", "personal", "kept"), CASES, ids=[c[0] for c in CASES])
def test_platform_payloads(cipher: FieldCipher, platform: str, payload: dict[str, Any],
                           personal: dict[tuple[Any, ...], str], kept: list[tuple[Any, ...]]) -> None:
    before = copy.deepcopy(payload)
    protected, count = cipher.protect(payload, source=f"{platform}_shop", platform=platform)
    assert payload == before, "protect must not modify its input"
    for path, kind in personal.items():
        token = at(protected, path)
        assert is_token(token), path
        assert parse_token(token).kind == kind
        assert cipher.decrypt(token) == str(at(payload, path))
    for path in kept:
        assert at(protected, path) == at(payload, path), path
    assert count >= len(personal)
    assert list(protected)[: len(payload)] == list(payload), "key order is kept"
    added = list(protected)[len(payload):]
    assert all(k.endswith("_region") and k.removesuffix("_region") in payload for k in added), added


def test_masked_and_platform_encrypted_copies_get_no_blind_index(cipher: FieldCipher) -> None:
    protected, _ = cipher.protect(DOUYIN, source="dy", platform="douyin")
    for key in ("mask_post_tel", "mask_post_receiver", "encrypt_post_tel", "encrypt_post_receiver"):
        assert parse_token(protected[key]).blind_index == "", key
    assert parse_token(protected["post_tel"]).blind_index == cipher.blind_index("phone", "13812345678")


def test_free_text_keeps_its_words_and_loses_its_phone(cipher: FieldCipher) -> None:
    protected, count = cipher.protect(TAOBAO, source="tb", platform="taobao")
    message = protected["buyer_message"]
    assert message.startswith("到了打⟦ef1:phone:")
    assert [t.kind for t in tokens_in_text(message)] == ["phone"]
    assert count == 5


SUBJECTS = [
    ("taobao", {"buyer_open_uid": "AAH1", "buyer_nick": "nick", "receiver_mobile": "13812345678"}, "t1",
     "taobao:AAH1"),
    ("taobao", {"buyer_nick": "nick", "receiver_mobile": "13812345678"}, "t1", "taobao:nick"),
    ("jd", {"pin": "jd_x", "open_id_buyer": "o1", "consigneeInfo": {"mobile": "13812345678"}}, None,
     "jd:jd_x"),
    ("jd", {"open_id_buyer": "o1", "consigneeInfo": {"mobile": "13812345678"}}, None, "jd:o1"),
    ("douyin", {"doudian_open_id": "d9", "post_tel": "13812345678"}, None, "douyin:d9"),
    # CRM members and POS sales share the membership card: one erasure covers both
    ("crm", {"member_id": "M1", "card_no": "8800001", "mobile": "13812345678"}, None, "member:8800001"),
    ("crm", {"member_id": "M1", "mobile": "13812345678"}, None, "member:M1"),
    ("pos", {"会员卡号": "8800001", "会员手机": "13812345678"}, "WH0012501", "member:8800001"),
    ("pos", {"会员卡号": "", "会员手机": "13812345678"}, "WH0012501",
     "phone:BIDX"),
    # a ticket names its buyer's platform: the same subject as that platform's orders
    ("service", {"platform": "jd", "buyer_id": "jd_x", "phone": "13812345678"}, None, "jd:jd_x"),
    ("service", {"buyer_id": "u7", "phone": "13812345678"}, None, "service:u7"),
    ("pdd", {"order_sn": "1-2", "receiver_phone_mask": "138****5678"}, "1-2", "pdd:record:1-2"),
]


@pytest.mark.parametrize(("platform", "payload", "hint", "subject"), SUBJECTS)
def test_subject_rule(cipher: FieldCipher, platform: str, payload: dict[str, Any], hint: str | None,
                      subject: str) -> None:
    [result] = cipher.protect_many([payload], source="s", platform=platform, subject_hints=[hint])
    assert result.subject == subject.replace("BIDX", cipher.blind_index("phone", "13812345678"))


def test_without_an_account_the_real_phone_is_the_subject_on_every_platform(cipher: FieldCipher) -> None:
    pdd = cipher.protect_many([PDD], source="p", platform="pdd")[0]
    service = cipher.protect_many([{"content": "客户13812345678投诉"}], source="cs", platform="service")[0]
    assert pdd.subject == service.subject == f"phone:{cipher.blind_index('phone', '13812345678')}"


def test_no_subject_at_all_falls_back_to_the_content(cipher: FieldCipher) -> None:
    [a, b] = cipher.protect_many([{"note": "a@b.com"}, {"note": "a@b.com"}], source="s", platform="app")
    assert a.subject == b.subject and a.subject.startswith("app:content:")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"tid": 2**70, "total": "10.00"}, {"tid": 2**70, "total": "99.00"}),  # alike but elsewhere
        ({"tid": 2**70}, {"tid": 2**70 + 1}),  # alike but in the long integer itself
        ({"tid": 2**70}, {"tid": str(2**70)}),  # the number and the text of its digits
    ],
    ids=["another-field", "the-integer", "int-or-string"],
)
def test_a_record_with_an_integer_beyond_64_bits_gets_a_content_subject_of_its_own(
    cipher: FieldCipher, first: dict[str, Any], second: dict[str, Any]
) -> None:
    """orjson refuses such an integer, and the content subject was the keyed hash of the personal
    values alone: two different records with the same e-mail shared one data key (erasing one
    shredded the other)."""
    [a, b] = cipher.protect_many([{"note": "a@b.com", **first}, {"note": "a@b.com", **second}],
                                 source="s", platform="app")
    assert a.subject.startswith("app:content:") and b.subject.startswith("app:content:")
    assert a.subject != b.subject
    [again] = cipher.protect_many([{**first, "note": "a@b.com"}], source="s", platform="app")
    assert again.subject == a.subject, "the same record, whatever its key order, is the same subject"


def test_a_record_nested_deeper_than_orjson_writes_gets_a_content_subject_of_its_own(
    cipher: FieldCipher,
) -> None:
    """Past orjson's 255 levels the same fallback made the personal values alone the subject."""

    def nested(leaf: str) -> Any:
        value: Any = leaf
        for _ in range(300):
            value = [value]
        return {"note": "a@b.com", "lines": value}

    [a, b] = cipher.protect_many([nested("1"), nested("2")], source="s", platform="app")
    assert a.subject.startswith("app:content:") and a.subject != b.subject


def test_the_content_subject_of_an_ordinary_record_is_the_one_earlier_versions_gave(tmp_path: Path) -> None:
    """Computed with ecfusion at f930659, before long integers were written whole: a record landed
    then and again now is the same subject, under the same data key."""
    master_key = bytes(range(32))
    keystore = LocalKeyStore(tmp_path / "keystore.db", master_key)
    cipher = FieldCipher(keystore, master_key)
    record = {"note": "a@b.com", "tid": "1001", "amount": 12.5, "items": [{"n": 2**63 - 1}]}
    [result] = cipher.protect_many([record], source="s", platform="app")
    keystore.close()
    assert result.subject == "app:content:442d3474995217dee7dcb8a054f884a5"


def test_batch_ensures_all_keys_in_one_transaction(cipher: FieldCipher,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = cipher.keystore.ensure_keys

    def counting(ids: Any) -> dict[str, bytes]:
        ids = list(ids)
        calls.append(len(ids))
        return real(ids)

    monkeypatch.setattr(cipher.keystore, "ensure_keys", counting)
    payloads = [{"buyer_open_uid": f"u{i}", "receiver_mobile": f"138{i:08d}"} for i in range(300)]
    results = cipher.protect_many(payloads, source="tb", platform="taobao")
    assert calls == [300]
    assert all(isinstance(r, Protected) and r.pii_count == 1 for r in results)
    assert cipher.decrypt(results[7].payload["receiver_mobile"]) == "13800000007"


def test_protect_batch_can_be_reused(cipher: FieldCipher) -> None:
    batch = ProtectBatch(cipher)
    batch.add({"phone": "13812345678"}, source="s", platform="crm", subject_hint="r1")
    assert len(batch.run()) == 1
    assert batch.run() == []


def test_protecting_twice_changes_nothing(cipher: FieldCipher) -> None:
    once, _ = cipher.protect(TAOBAO, source="tb", platform="taobao")
    twice, count = cipher.protect(once, source="tb", platform="taobao")
    assert twice == once and count == 0


def test_erased_subject_values_are_withheld_on_landing(cipher: FieldCipher) -> None:
    cipher.protect(CRM, source="crm", platform="crm")
    cipher.erase_subject("member:8800123", "DSR-1")
    protected, count = cipher.protect(CRM, source="crm", platform="crm")
    assert count == 5
    personal = ("name", "mobile", "id_card_no", "email", "address")
    assert all(parse_token(protected[k]).withheld for k in personal)


def test_phone_as_a_json_number_in_a_phone_field_is_protected(cipher: FieldCipher) -> None:
    protected, count = cipher.protect({"buyer_phone_number": 13812345678, "order_id": 13812345678},
                                      source="s", platform="app", subject_hint="r")
    assert count == 1
    assert cipher.decrypt(protected["buyer_phone_number"]) == "13812345678"
    assert protected["order_id"] == 13812345678


def test_deep_nesting_does_not_crash(cipher: FieldCipher) -> None:
    payload: Any = {"phone": "13812345678"}
    for _ in range(5000):
        payload = {"x": [payload]}
    protected, count = cipher.protect(payload, source="s", platform="app", subject_hint="r")
    assert count == 1


def test_deep_nesting_without_any_subject_does_not_crash(cipher: FieldCipher) -> None:
    payload: Any = {"note": "a@b.com"}
    for _ in range(1000):
        payload = [payload]
    [result] = cipher.protect_many([payload], source="s", platform="app")
    assert result.pii_count == 1 and result.subject.startswith("app:content:")


def test_every_key_is_durable_before_protect_many_returns(cipher: FieldCipher, master_key: bytes) -> None:
    from ecfusion.security.keystore import LocalKeyStore

    payloads = [{"buyer_open_uid": f"d{i}", "receiver_mobile": f"139{i:08d}"} for i in range(50)]
    results = cipher.protect_many(payloads, source="tb", platform="taobao")
    subject_ids = {parse_token(r.payload["receiver_mobile"]).subject for r in results}
    with LocalKeyStore(cipher.keystore.path, master_key) as other_connection:  # type: ignore[attr-defined]
        assert other_connection.get_keys(subject_ids).keys() == subject_ids
