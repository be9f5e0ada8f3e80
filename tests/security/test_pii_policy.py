"""The declared personal fields (pii_fields.toml): validated at load, extendable per deployment."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecfusion.errors import ConfigError
from ecfusion.security.fields import FieldCipher, is_token
from ecfusion.security.pii import PiiPolicy


def test_packaged_policy_loads_and_is_versioned() -> None:
    policy = PiiPolicy.default()
    assert policy.version
    rules = policy.rules_for("jd_flagship", "jd")
    assert rules.kind_for(("consigneeinfo", "fullname")) == "name"
    assert rules.kind_for(("receiver_mobile",)) == "phone"  # common declarations apply everywhere
    assert rules.kind_for(("fullname",)) is None  # the JD rule is a path, not any 'fullname'


def test_a_wrong_kind_names_the_file_and_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "pii.toml"
    bad.write_text('version = "1"\n[platforms.taobao.fields]\nreceiver_mobile = "mobile"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pii\.toml: key 'platforms\.taobao\.fields\.receiver_mobile'"):
        PiiPolicy.from_file(bad)


def test_an_unknown_section_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "pii.toml"
    bad.write_text('version = "1"\n[platfroms.taobao]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="platfroms"):
        PiiPolicy.from_file(bad)


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "pii.toml"
    bad.write_text("version = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        PiiPolicy.from_file(bad)


def test_a_deployment_declares_its_own_source(keystore, master_key: bytes) -> None:  # type: ignore[no-untyped-def]
    extra = PiiPolicy.from_text(
        'version = "shop-1"\n[sources.erp_legacy]\nsubject_keys = ["cust_no"]\n'
        '[sources.erp_legacy.fields]\n"contact.lianxiren" = "name"\n', origin="shop.toml")
    policy = PiiPolicy.default().merged(extra)
    assert policy.version.endswith("+shop-1")
    cipher = FieldCipher(keystore, master_key, policy=policy)
    [result] = cipher.protect_many([{"cust_no": "C9", "contact": {"lianxiren": "赵敏"}}],
                                   source="erp_legacy", platform="erp")
    assert result.subject == "erp:C9"
    assert is_token(result.payload["contact"]["lianxiren"])


IDENTIFIER_KEYS = [
    ("tid", True), ("oid", True), ("num_iid", True), ("sku_id", True), ("skuId", True), ("wareId", True),
    ("order_sn", True), ("orderId", True), ("barcode", True), ("out_sku_code", True), ("tracking_no", True),
    ("created", True), ("pay_time", True), ("update_time", True), ("payment", True),
    ("receiver_mobile", False), ("id_card_no", False), ("buyer_message", False), ("remark", False),
    ("contact_phone_no", False), ("buyer_alipay_no", False),
]


@pytest.mark.parametrize(("key", "identifier"), IDENTIFIER_KEYS)
def test_identifier_keys(key: str, identifier: bool) -> None:
    assert PiiPolicy.default().is_identifier_key(key) is identifier


@pytest.mark.parametrize(("key", "card"), [("bank_card_no", True), ("refund_account", True),
                                           ("member_card_no", False), ("gift_card", False),
                                           ("remark", False)])
def test_card_keys(key: str, card: bool) -> None:
    assert PiiPolicy.default().is_card_key(key) is card
