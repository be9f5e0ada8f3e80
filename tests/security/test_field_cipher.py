"""Field encryption as the lake and the warehouse meet it: round trips, tokens, tampering, workspaces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecfusion.config import Workspace
from ecfusion.errors import InputError, KeyStoreError, SubjectErased
from ecfusion.security.fields import FieldCipher, is_token, parse_token
from ecfusion.security.keystore import LocalKeyStore
from ecfusion.security.tokens import format_token

VALUES = [
    ("phone", "13812345678"),
    ("id_number", "11010519491231002X"),
    ("name", "欧阳·娜娜"),
    ("address", "浙江省杭州市西湖区文三路100号3幢"),
    ("email", "Li.Na@Example.com"),
    ("bank_card", "6222 0202 0011 2233"),
]


@pytest.mark.parametrize("algorithm", ["aes-256-gcm", "sm4-gcm"])
@pytest.mark.parametrize(("kind", "value"), VALUES)
def test_round_trip(keystore: LocalKeyStore, master_key: bytes, algorithm: str, kind: str,
                    value: str) -> None:
    cipher = FieldCipher(keystore, master_key, cipher=algorithm)  # type: ignore[arg-type]
    token = cipher.encrypt(kind, value, "taobao:buyer-1")
    assert is_token(token)
    assert value not in token
    assert cipher.decrypt(token) == value
    parsed = parse_token(token)
    assert parsed.kind == kind
    assert parsed.subject == cipher.subject_id("taobao:buyer-1")
    assert parsed.blind_index == cipher.blind_index(kind, value)


def test_tokens_of_either_algorithm_stay_readable_after_switching(keystore: LocalKeyStore,
                                                                  master_key: bytes) -> None:
    aes = FieldCipher(keystore, master_key, cipher="aes-256-gcm")
    sm4 = FieldCipher(keystore, master_key, cipher="sm4-gcm")
    a, s = aes.encrypt("phone", "13812345678", "x"), sm4.encrypt("phone", "13812345678", "x")
    assert a != s
    assert sm4.decrypt(a) == aes.decrypt(s) == "13812345678"


def test_same_value_encrypts_differently_but_indexes_the_same(cipher: FieldCipher) -> None:
    t1 = cipher.encrypt("phone", "13812345678", "jd:pin-1")
    t2 = cipher.encrypt("phone", "+86 138 1234 5678", "douyin:open-9")
    assert parse_token(t1).ciphertext != parse_token(t2).ciphertext
    assert parse_token(t1).blind_index == parse_token(t2).blind_index


def test_subject_key_never_appears_in_the_token(cipher: FieldCipher) -> None:
    token = cipher.encrypt("name", "王伟", "taobao:tb_nick_wangwei")
    assert "wangwei" not in token
    assert cipher.subject_id("taobao:tb_nick_wangwei") in token


@pytest.mark.parametrize("part", ["kind", "subject", "blind_index", "ciphertext"])
def test_a_tampered_or_relabelled_token_is_refused(cipher: FieldCipher, part: str) -> None:
    token = parse_token(cipher.encrypt("phone", "13812345678", "s1"))
    other = parse_token(cipher.encrypt("name", "李娜", "s2"))
    fields = {"kind": token.kind, "subject": token.subject, "blind_index": token.blind_index,
              "ciphertext": token.ciphertext}
    if part == "ciphertext":
        fields[part] = token.ciphertext[:-2] + ("AA" if token.ciphertext[-2:] != "AA" else "BB")
    else:
        fields[part] = getattr(other, part)
    with pytest.raises(KeyStoreError, match="fails authentication"):
        cipher.decrypt(format_token(**fields))


@pytest.mark.parametrize("ciphertext", ["A", "AQ", "AAAA", "_w"])
def test_a_truncated_token_is_a_clear_error(cipher: FieldCipher, ciphertext: str) -> None:
    token = parse_token(cipher.encrypt("phone", "13812345678", "s1"))
    with pytest.raises(KeyStoreError, match="malformed"):
        cipher.decrypt(format_token(token.kind, token.subject, token.blind_index, ciphertext))


def test_not_a_token_is_an_input_error_naming_it(cipher: FieldCipher) -> None:
    with pytest.raises(InputError, match="not an ecfusion personal-field token: '13812345678'"):
        cipher.decrypt("13812345678")


def test_a_token_from_another_workspace_is_a_clear_key_store_error(cipher: FieldCipher,
                                                                  tmp_path: Path) -> None:
    other_key = os.urandom(32)
    other = FieldCipher(LocalKeyStore(tmp_path / "other.db", other_key), other_key)
    with pytest.raises(KeyStoreError, match="no data key for subject"):
        cipher.decrypt(other.encrypt("phone", "13812345678", "s"))


def test_keyed_digests_depend_on_the_master_key(cipher: FieldCipher, tmp_path: Path) -> None:
    other_key = os.urandom(32)
    other = FieldCipher(LocalKeyStore(tmp_path / "other.db", other_key), other_key)
    assert cipher.content_hash(b"payload") == cipher.content_hash(b"payload")
    assert len(cipher.content_hash(b"payload")) == 32
    assert cipher.content_hash(b"payload") != other.content_hash(b"payload")
    assert cipher.blind_index("phone", "13812345678") != other.blind_index("phone", "13812345678")
    assert cipher.subject_id("taobao:x") != other.subject_id("taobao:x")


def test_erased_subject_raises_subject_erased(cipher: FieldCipher) -> None:
    token = cipher.encrypt("address", "北京市朝阳区建国路88号", "crm:M0001")
    keep = cipher.encrypt("address", "北京市朝阳区建国路88号", "crm:M0002")
    record = cipher.erase_subject("crm:M0001", "DSR-7")
    assert record.subject_id == parse_token(token).subject
    with pytest.raises(SubjectErased, match="DSR-7"):
        cipher.decrypt(token)
    assert cipher.decrypt(keep) == "北京市朝阳区建国路88号"


def test_values_for_an_already_erased_subject_are_withheld_not_stored(cipher: FieldCipher) -> None:
    cipher.encrypt("phone", "13812345678", "pdd:1")
    cipher.erase_subject("pdd:1", "DSR-8")
    token = cipher.encrypt("phone", "13812345678", "pdd:1")
    parsed = parse_token(token)
    assert parsed.withheld and parsed.blind_index == ""
    with pytest.raises(SubjectErased, match="withheld"):
        cipher.decrypt(token)


def test_open_uses_the_workspace_key_store_and_configured_cipher(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    config = ws.root / "ecfusion.toml"
    config.write_text(config.read_text().replace('cipher = "aes-256-gcm"', 'cipher = "sm4-gcm"'))
    ws = Workspace.open(ws.root)
    cipher = FieldCipher.open(ws)
    assert cipher.cipher == "sm4-gcm"
    token = cipher.encrypt("phone", "13812345678", "s")
    cipher.close()
    again = FieldCipher.open(ws)
    assert again.decrypt(token) == "13812345678"
    assert ws.path(ws.config.security.keystore_path).exists()
    again.close()


def test_open_with_a_different_master_key_fails_clearly(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.init(tmp_path / "ws")
    FieldCipher.open(ws).close()
    monkeypatch.setenv(ws.config.security.master_key_env, os.urandom(32).hex())
    with pytest.raises(KeyStoreError, match="master key does not match the key store at"):
        FieldCipher.open(ws)


def test_reveal_text_decrypts_inline_tokens(cipher: FieldCipher) -> None:
    protected, count = cipher.protect({"buyer_message": "请打13812345678，别打座机"},
                                      source="tb", platform="taobao", subject_hint="t1")
    assert count == 1
    assert "13812345678" not in protected["buyer_message"]
    assert cipher.reveal_text(protected["buyer_message"]) == "请打13812345678，别打座机"
