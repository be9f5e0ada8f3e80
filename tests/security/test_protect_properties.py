"""Property tests: protect() never crashes, loses nothing, and leaves no detectable PII in clear."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecfusion.errors import EcfusionError
from ecfusion.security.detectors import find_pii
from ecfusion.security.fields import FieldCipher, is_token
from ecfusion.security.keystore import LocalKeyStore
from ecfusion.security.pii import PiiPolicy
from ecfusion.security.tokens import INLINE_TOKEN

POLICY = PiiPolicy.default()

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
phones = st.builds(lambda p, rest, sep, cc: f"{cc}1{p}{rest[:1]}{sep}{rest[1:5]}{sep}{rest[5:9]}",
                   st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9),
                   st.sampled_from(["", " ", "-"]), st.sampled_from(["", "+86", "0086 ", "+86-"]))
full_width_phones = phones.map(lambda p: p.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789+"}))
id_numbers = st.sampled_from(["11010519491231002X", "440301199001010019", "11010519491231002x"])
emails = st.builds(lambda user, host, tld: f"{user}@{host}.{tld}",
                   st.text(alphabet="abcxyz019._", min_size=1, max_size=8).map(lambda u: "m" + u),
                   st.text(alphabet="abcdefgh", min_size=1, max_size=6),
                   st.sampled_from(["com", "cn", "net"]))
words = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=12)
personal = st.one_of(phones, full_width_phones, id_numbers, emails)
strings = st.one_of(
    words, digits, personal,
    st.builds(lambda a, p, b: f"{a}{p}{b}", words, personal, words),
    st.builds(lambda a, p, b, q: f"{a}{p}{b}{q}", words, personal, words, personal),
)
keys = st.one_of(
    st.sampled_from(["remark", "buyer_message", "note", "receiver_mobile", "receiver_name", "address",
                     "tid", "order_id", "skuId", "title", "mobile", "content", "pin", "x", "bank_card_no"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), strings)
json_like = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(keys, inner, max_size=5)),
                         max_leaves=25)
payloads = st.dictionaries(keys, json_like, max_size=6)


@pytest.fixture(scope="module")
def shared_cipher(tmp_path_factory: pytest.TempPathFactory) -> FieldCipher:
    master = os.urandom(32)
    store = LocalKeyStore(Path(tmp_path_factory.mktemp("keys")) / "ks.db", master)
    return FieldCipher(store, master)


def leaves(original: Any, protected: Any, key: str = "") -> list[tuple[str, Any, Any]]:
    """(key, original leaf, protected leaf) pairs, walked in parallel."""
    if isinstance(original, dict):
        return [pair for k in original for pair in leaves(original[k], protected[k], str(k))]
    if isinstance(original, (list, tuple)):
        return [pair for o, p in zip(original, protected, strict=True) for pair in leaves(o, p, key)]
    return [(key, original, protected)]


def without_tokens(text: str) -> str:
    return INLINE_TOKEN.sub("\x00", text)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads, platform=st.sampled_from(["taobao", "jd", "pdd", "douyin", "crm", "app"]))
def test_protect_is_lossless_and_leaves_no_detectable_pii(shared_cipher: FieldCipher, payload: dict[str, Any],
                                                          platform: str) -> None:
    protected, count = shared_cipher.protect(payload, source="src", platform=platform, subject_hint="rk")
    replaced = 0
    for key, before, after in leaves(payload, protected):
        if isinstance(after, str) and is_token(after) and before != after:
            replaced += 1
            assert shared_cipher.decrypt(after) == str(before)
            continue
        if isinstance(after, str):
            replaced += len(INLINE_TOKEN.findall(after))
            assert shared_cipher.reveal_text(after) == before
            clear = without_tokens(after)
            identifier = bool(key) and POLICY.is_identifier_key(key)
            assert [s.kind for s in find_pii(clear, digits=not identifier)] == [], (key, after)
        else:
            assert after == before
    assert replaced == count


token_like = st.builds(
    lambda kind, subject, bidx, ct: f"ef1:{kind}:{subject}:{bidx}:{ct}",
    st.sampled_from(["phone", "name", "x_y"]), st.text(alphabet="0123456789abcdef", min_size=24, max_size=24),
    st.one_of(st.just(""), st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=80),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(token_like, st.text(max_size=60)))
def test_decrypt_of_anything_is_a_value_or_a_clear_error(shared_cipher: FieldCipher, text: str) -> None:
    try:
        assert isinstance(shared_cipher.decrypt(text), str)
    except EcfusionError as e:
        assert e.message and e.hint
