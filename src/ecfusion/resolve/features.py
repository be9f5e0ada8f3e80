"""Comparison features of member accounts, built in memory only (6.1.3 similarity; 7.4 privacy).

Input: ``unified.member_account`` rows (contracts §4) whose personal fields are ``ef1:`` tokens.
Output: an Arrow table with one row per account holding what the similarity model compares —
the simplified name and its pinyin, the visible digits of the phone, the address parsed into
province / city / district (``standardize.normalize.parse_address``) plus a compact detail key,
the nickname — next to the blind indexes rules match on. Plaintext lives only in this in-memory table
(and in-memory DuckDB/Spark tables made from it); it is never written to disk.

Identifier hygiene (``guards``) has already blanked blocked and over-shared identifiers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

import pyarrow as pa
import zhconv
from pypinyin import lazy_pinyin

from ecfusion.resolve.pii import FieldReader, safe_decrypt, token_blind_index
from ecfusion.standardize.normalize.address import parse_address

FEATURE_COLUMNS = [
    "unique_id",
    "platform",
    "platform_account_id",
    "card_no",
    "wechat_openid",
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
    "address_numbers",
    "nickname",
    "device_ids",
    "first_seen_at",
]
_NON_NAME = re.compile(r"[\s·•.\-_,，0-9a-zA-Z*]+")
_ADDRESS_NOISE = re.compile(r"[\s,，。.#\-]+")
# Building words dropped from the detail key, so 13栋1单元1702室 and the shorthand 13-1-1702 or
# 1311702 that shoppers type compare equal.
_DETAIL_WORDS = re.compile(r"栋|幢|单元|室|号楼|号|楼|[\s,，。.#\-()（）]")
# A receiver written as surname + form of address (宋女士, 王先生): the surname is all it says.
_TITLE_NAME = re.compile(r"^(.{1,2}?)(女士|先生|小姐|太太|同学|老师|师傅)$")


@lru_cache(maxsize=200_000)
def simplify_name(name: str) -> str:
    """A person's name for comparison: traditional → simplified, spaces and marks removed."""
    return _NON_NAME.sub("", zhconv.convert(name, "zh-cn"))


def name_parts(name: str | None) -> tuple[str | None, str | None]:
    """(comparable full name or None, surname) — ``宋女士`` gives (None, "宋"): a title, not a name."""
    if not name:
        return None, None
    simp = simplify_name(name)
    title = _TITLE_NAME.match(simp)
    if title:
        return None, title.group(1)
    if len(simp) == 1:  # a masked name (李**) shows only the surname
        return None, simp
    return (simp or None), (simp[0] if simp else None)


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


def detail_key(detail: str | None) -> str | None:
    """An address detail for similarity: NFKC (full-width digits), building words and marks dropped."""
    if not detail:
        return None
    key = _DETAIL_WORDS.sub("", unicodedata.normalize("NFKC", detail)).lower()
    return key or None


def address_numbers(detail: str | None) -> str | None:
    """The numbers of an address detail in order (street no., building, unit, room): neighbours
    differ only here, so two details are one address only if these are equal."""
    digits = "".join(c for c in detail if c.isdigit()) if detail else ""
    return digits or None


def parsed_address(
    address: str | None, province: str | None, city: str | None, district: str | None
) -> tuple[str | None, str | None, str | None, str | None]:
    """(province, city, district, detail key): the platform's own division fields where it sent them,
    else what the address text says (``parse_address``), and the detail below the district."""
    if not address:
        return province, city, district, None
    parsed = parse_address(address)
    if parsed.confidence > 0:
        detail = parsed.detail
        province = province or admin_name(parsed.province)
        city = city or city_key(parsed.city)
        district = district or admin_name(parsed.district)
    else:
        detail = address_detail(address, province, city, district) or ""
    return province, city, district, detail_key(detail)


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
    # the loyalty card (CRM member, store sale); tables written before the column existed have none
    def optional(name: str) -> list[str | None]:
        return accounts.column(name).to_pylist() if name in accounts.column_names else [None] * len(accounts)

    cards, openids = optional("card_no"), optional("wechat_openid")
    keep = blank or (lambda _kind, value: value)
    names = _decrypt_all(reader, col["name_token"])
    phones = _decrypt_all(reader, col["phone_token"])
    addresses = _decrypt_all(reader, col["address_token"])
    parts = [name_parts(n) for n in names]
    simp = [p[0] for p in parts]
    masked = _masked(reader, col["phone_masked"])
    vis = [phone_visible_digits(p, m) for p, m in zip(phones, masked, strict=True)]
    places = [
        parsed_address(a, admin_name(p), city_key(c), admin_name(d))
        for a, p, c, d in zip(addresses, col["province"], col["city"], col["district"], strict=True)
    ]
    features = {
        "unique_id": col["account_key"],
        "platform": col["platform"],
        "platform_account_id": col["platform_account_id"],
        "card_no": [keep("card", c) for c in cards],
        "wechat_openid": [keep("openid", o) for o in openids],
        "name_bidx": [token_blind_index(t) for t in col["name_token"]],
        "name_simp": simp,
        "name_pinyin": [name_pinyin(s) if s else None for s in simp],
        "surname": [p[1] for p in parts],
        "phone_bidx": [keep("phone", b) for b in col["phone_bidx"]],
        "phone_vis": [keep("phone_vis", v) for v in vis],
        "id_number_bidx": [keep("id_number", b) for b in col["id_number_bidx"]],
        "email_bidx": [keep("email", b) for b in col["email_bidx"]],
        "province": [p[0] for p in places],
        "city": [p[1] for p in places],
        "district": [p[2] for p in places],
        "address_bidx": [keep("address", b) for b in col["address_bidx"]],
        "address_detail": [p[3] for p in places],
        "address_numbers": [address_numbers(p[3]) for p in places],
        "nickname": [keep("nickname", n) for n in col["nickname"]],
        "device_ids": [[d for d in (ds or []) if keep("device", d)] for ds in col["device_ids"]],
        "first_seen_at": accounts.column("first_seen_at"),
    }
    return pa.table(features)
