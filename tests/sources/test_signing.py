"""Request signatures: one row per platform quirk; expected values computed outside Python
(TOP's MD5 row is the example from TOP's own signing documentation; the others via md5sum/openssl)."""

from __future__ import annotations

import pytest

from ecfusion.sources.platforms.signing import douyin_param_json, douyin_sign, jd_sign, pdd_sign, taobao_sign

TOP_PARAMS = {
    "app_key": "12345678",
    "fields": "num_iid,title,nick,price,num",
    "format": "json",
    "method": "taobao.item.seller.get",
    "num_iid": "11223344",
    "session": "test",
    "sign_method": "md5",
    "timestamp": "2016-01-01 12:00:00",
    "v": "2.0",
}


@pytest.mark.parametrize(
    ("params", "secret", "method", "expected"),
    [
        (TOP_PARAMS, "helloworld", "md5", "66987CB115214E59E6EC978214934FB8"),
        ({**TOP_PARAMS, "sign_method": "hmac"}, "helloworld", "hmac", "D56D7858309C31B6251083A874D48273"),
        ({**TOP_PARAMS, "sign": "IGNORED"}, "helloworld", "md5", "66987CB115214E59E6EC978214934FB8"),
    ],
)
def test_taobao_sign(params: dict, secret: str, method: str, expected: str) -> None:
    assert taobao_sign(params, secret, method) == expected


def test_jd_sign_includes_param_json_and_is_uppercase() -> None:
    params = {
        "method": "jingdong.pop.order.get",
        "app_key": "ak",
        "access_token": "tok",
        "v": "2.0",
        "timestamp": "2026-01-01 12:00:00",
        "360buy_param_json": '{"order_id":"123"}',
    }
    assert jd_sign(params, "secret1") == "02F10A545B85FBE904F05C5740F87D74"


def test_pdd_sign_drops_nulls_and_writes_json_and_booleans() -> None:
    params = {
        "type": "pdd.order.information.get",
        "client_id": "cid",
        "timestamp": 1700000000,
        "data_type": "JSON",
        "customer_id": 12,
        "flag": True,
        "items": [{"a": 1}],
        "skipped": None,
    }
    assert pdd_sign(params, "sec2") == "971B6358F1114CAE694662C79F494A62"


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("hmac-sha256", "9d38e75be8ebf5d1e5e7cef4bfa3e309e6d2ba5a85a7a8a1ac501ead39b61e4f"),
        ("md5", "6755e454b0b927209de60beb692994b7"),
    ],
)
def test_douyin_sign(method: str, expected: str) -> None:
    body = douyin_param_json({"size": 10, "page": 0})
    assert body == '{"page":0,"size":10}'
    assert douyin_sign("app", "order.searchList", body, 1700000000, "sec3", method) == expected


def test_douyin_param_json_keeps_chinese_and_html_unescaped() -> None:
    assert douyin_param_json({"b": "<店>", "a": 1}) == '{"a":1,"b":"<店>"}'
