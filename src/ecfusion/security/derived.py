"""Facts derived from a personal value at landing, kept beside its token (T/JNBDA 0003-2025 5.2
Table 1 L3 c completion; 7.4 privacy by design; contracts §3).

A phone number is plaintext only while a payload is being protected: afterwards it is an
``ef1:phone:…`` token that standardization cannot read. So the one fact the pipeline needs from
it — where the number was issued — is derived here and written as a sibling of the field:

    "receiver_mobile": "ef1:phone:…",
    "receiver_mobile_region": {"province": "江苏省", "city": "常州市", "basis": "mobile_prefix"}

Only province and city (official division names) are kept: not the number, not its prefix, not
the carrier (the prefix plus the masked copy's last four digits would narrow the number down).
``basis`` says what the region rests on or why there is none: ``mobile_prefix``, ``area_code``,
``unknown_prefix`` (a segment newer than the table), ``virtual_operator`` (170x, 171, 162, 165,
167: sold nationwide, so the segment's city is the reseller's), ``masked`` (``138****5678`` shows
only the network prefix, which names a carrier, not a place), ``not_a_phone`` (platform
ciphertext, junk).
Every source gets the same sibling for every whole-value phone field under a string key; phones
inside free text and values of erased subjects get none. A native field that already has the
sibling's name is never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

REGION_SUFFIX = "_region"


def region_key(key: str) -> str:
    """The sibling field name for the region of phone field ``key``."""
    return key + REGION_SUFFIX


@cache
def _phone_place() -> Callable[[str | None], Any]:
    # Imported on first use: importing the security package must not load the normalizers' tables.
    from ecfusion.standardize.normalize.completion import phone_place

    return phone_place


def phone_region_value(value: str) -> dict[str, Any] | None:
    """The sibling's value for one phone field's plaintext, or None for blank text."""
    place = _phone_place()(value)
    if place is None:
        return None
    return {"province": place.province, "city": place.city, "basis": place.basis}


def add_phone_region(container: dict[Any, Any], key: str, value: str) -> None:
    """Write the region sibling of ``container[key]`` (a phone field) unless the name is taken."""
    sibling = region_key(key)
    if sibling in container:
        return
    region = phone_region_value(value)
    if region is not None:
        container[sibling] = region
