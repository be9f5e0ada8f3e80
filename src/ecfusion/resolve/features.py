"""Comparison features of member accounts, built in memory only (6.1.3 similarity; 7.4 privacy).

Input: ``unified.member_account`` rows (contracts §4) whose personal fields are ``ef1:`` tokens.
Output: an Arrow table with one row per account holding what the similarity model compares —
the simplified name and its pinyin, the visible digits of the phone, the address detail, the
nickname — next to the blind indexes rules match on. Plaintext lives only in this in-memory table
(and in-memory DuckDB/Spark tables made from it); it is never written to disk.

Identifier hygiene (``guards``) has already blanked blocked and over-shared identifiers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import pyarrow as pa
import zhconv
from pypinyin import lazy_pinyin

from ecfusion.resolve.pii import FieldReader, safe_decrypt, token_blind_index

FEATURE_COLUMNS = [
    "unique_id",
    "platform",
    "platform_account_id",
    "name_bidx",
    "name_simp",
    "name_pinyin",
    "surname",
    "phone_bidx",
    "phone_vis",
    "id_number_bidx",
    "email_bidx",
    "province",
    "city",
    "district",
    "address_bidx",
    "address_detail",
    "nickname",
    "device_ids",
    "first_seen_at",
]
_NON_NAME = re.compile(r"[\s·•.\-_,，0-9a-zA-Z*]+")
_ADDRESS_NOISE = re.compile(r"[\s,，。.#\-]+")


@lru_cache(maxsize=200_000)
def simplify_name(name: str) -> str:
    """A person's name for comparison: traditional → simplified, spaces and marks removed."""
    return _NON_NAME.sub("", zhconv.convert(name, "zh-cn"))


@lru_cache(maxsize=50_000)
def _char_pinyin(char: str) -> str:
    return lazy_pinyin(char)[0]


@lru_cache(maxsize=200_000)
def name_pinyin(name: str) -> str:
    """Toneless pinyin of a simplified name, syllables joined by spaces (homophones compare equal).

    Character by character (cached): a name is 2–4 characters from a small alphabet, and both sides
    of a comparison get the same reading of a polyphone, which is all matching needs.
    """
    return " ".join(_char_pinyin(c) for c in name)


def phone_visible_digits(phone: str | None, masked: str | None) -> str | None:
    """First three and last four digits: what a masked copy (``138****5678``) still shows."""
    source = phone or masked
    if not source:
        return None
    digits = source.strip()
    if len(digits) != 11 or not digits[:3].isdigit() or not digits[-4:].isdigit():
        return None
    return digits[:3] + digits[-4:]


def address_detail(
    address: str | None, province: str | None, city: str | None, district: str | None
) -> str | None:
    """The part of an address below the district (street, building, room), for similarity."""
    if not address:
        return None
    rest = address  # traditional forms are rare in addresses and zhconv costs ~60 µs a call
    for part in (province, city, district):
        if part and rest.startswith(part):
            rest = rest[len(part) :]
    rest = _ADDRESS_NOISE.sub("", rest)
    return rest or None


def usable(value: str | None) -> str | None:
    """None for values a platform still holds encrypted (Douyin ``##…##``, ``$$…$$``, ``~…~``)."""
    if not value or value[0] in "#$~" or not value.strip():
        return None
    return value


def admin_name(value: str | None) -> str | None:
    """A province/city/district name; tolerates ``{"name": "杭州市", "id": …}`` objects as text."""
    if not value:
        return None
    if value.startswith("{"):
        try:
            value = str(json.loads(value).get("name") or "")
        except (ValueError, AttributeError):
            return None
    value = value.strip()
    return value or None


def city_key(value: str | None) -> str | None:
    """A city compared without its 市 suffix (南昌 = 南昌市)."""
    name = admin_name(value)
    return name[:-1] if name and len(name) > 2 and name.endswith("市") else name


def _decrypt_all(reader: FieldReader, tokens: Iterable[str | None]) -> list[str | None]:
    return [usable(safe_decrypt(reader, t)) for t in tokens]


def _masked(reader: FieldReader, values: Iterable[str | None]) -> list[str | None]:
    """Masked phones, decrypting them when they arrive as tokens."""
    return [usable(safe_decrypt(reader, v)) if v and v.startswith("ef1:") else usable(v) for v in values]


def member_features(
    accounts: pa.Table, reader: FieldReader, blank: Callable[[str, str | None], str | None] | None = None
) -> pa.Table:
    """One feature row per account; ``blank(kind, value)`` drops identifiers the guards block."""
    needed = [
        "account_key",
        "platform",
        "platform_account_id",
        "name_token",
        "phone_token",
        "phone_masked",
        "phone_bidx",
        "id_number_bidx",
        "email_bidx",
        "province",
        "city",
        "district",
        "address_token",
        "address_bidx",
        "nickname",
        "device_ids",
    ]
    col = {name: accounts.column(name).to_pylist() for name in needed}
    keep = blank or (lambda _kind, value: value)
    names = _decrypt_all(reader, col["name_token"])
    phones = _decrypt_all(reader, col["phone_token"])
    addresses = _decrypt_all(reader, col["address_token"])
    simp = [simplify_name(n) or None if n else None for n in names]
    masked = _masked(reader, col["phone_masked"])
    vis = [phone_visible_digits(p, m) for p, m in zip(phones, masked, strict=True)]
    provinces = [admin_name(v) for v in col["province"]]
    cities = [city_key(v) for v in col["city"]]
    districts = [admin_name(v) for v in col["district"]]
    features = {
        "unique_id": col["account_key"],
        "platform": col["platform"],
        "platform_account_id": col["platform_account_id"],
        "name_bidx": [token_blind_index(t) for t in col["name_token"]],
        "name_simp": simp,
        "name_pinyin": [name_pinyin(s) if s else None for s in simp],
        "surname": [s[0] if s else None for s in simp],
        "phone_bidx": [keep("phone", b) for b in col["phone_bidx"]],
        "phone_vis": [keep("phone_vis", v) for v in vis],
        "id_number_bidx": [keep("id_number", b) for b in col["id_number_bidx"]],
        "email_bidx": [keep("email", b) for b in col["email_bidx"]],
        "province": provinces,
        "city": cities,
        "district": districts,
        "address_bidx": [keep("address", b) for b in col["address_bidx"]],
        "address_detail": [
            address_detail(a, p, c, d)
            for a, p, c, d in zip(addresses, provinces, cities, districts, strict=True)
        ],
        "nickname": [keep("nickname", n) for n in col["nickname"]],
        "device_ids": [[d for d in (ds or []) if keep("device", d)] for ds in col["device_ids"]],
        "first_seen_at": accounts.column("first_seen_at"),
    }
    return pa.table(features)
