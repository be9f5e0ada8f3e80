"""Phone numbers: canonical mobile / landline forms, mobile segments and masked-phone matching.

Serves T/JNBDA 0003-2025 5.2 Table 1 L2 (normalization of phone fields) and 6.1.3
(a phone number is an exact-match key; platforms often return only a mask such as
``138****5678``, which can still confirm or refute a candidate match).

* ``normalize_phone`` → the 11-digit mainland mobile number, or None. A landline is
  never turned into a mobile: ``normalize_landline`` gives ``"0531-88886666"``.
* Prefixes ``+86``/``0086``/``86`` (a landline's trunk 0 after them or not), spaces, dashes,
  dots, underscores, brackets and full-width digits are accepted; an extension follows
  转/分机/ext/x/#.
* A landline is an area code of ``data/landline_area_codes.tsv`` and a local number of 7-8
  digits that starts with 2-9. Nationwide service numbers (400/800) have no area code and name
  no person or place: ``parse_phone`` gives None for them, as for any other non-number.
* ``mobile_segment`` → the carrier of a mobile's 3-4 digit segment (``data/carriers.tsv``) and
  whether a virtual operator sells it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, NamedTuple

from ecfusion.standardize.normalize.text import strip_invisible

_SEPARATORS = re.compile(r"[\s\-–—.()\[\]/_]+")
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_COUNTRY = re.compile(r"^(?:\+86|0086|\+0086|86)(?=1[3-9]\d{9}$)", re.ASCII)
# Extension markers met in order data, longest first: 转分机 / 分机(号) / 转, ext, x, and a
# dialler's # , * pauses.
_EXTENSION = r"(?:转分机|分机号?|转|ext|x|#|,|\*)"
# Area codes: 010 and 02X are three digits; all others are four (0 + 3). A local number never
# starts with 0 (the trunk prefix) or 1 (special services: 110, 114 …).
_LANDLINE = re.compile(rf"^(0(?:10|2\d|[3-9]\d{{2}}))([2-9]\d{{6,7}})(?:{_EXTENSION}(\d{{1,6}}))?$", re.ASCII)
# +86 / 0086 / 86 stand for the trunk 0; people often keep it as well ("+86 010 …", "+86 (0)571 …").
# A bare 86 cannot open a domestic landline (those start with 0), so it is a country code here too.
_LANDLINE_COUNTRY = re.compile(r"^(?:\+86|\+0086|0086|86)0?(?=[1-9]\d{8,10})", re.ASCII)
_TRAILING_EXTENSION = re.compile(rf"^(.*\d)\s*(?:-|{_EXTENSION}\.?)\s*(\d{{1,6}})$", re.IGNORECASE | re.ASCII)
_MASK = re.compile(r"^(?:\+86|0086|86)?(1[3-9]\d)[*xX●•]{4}(\d{4})$", re.ASCII)


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A parsed phone number: ``number`` is the canonical text form."""

    kind: Literal["mobile", "landline"]
    number: str
    area_code: str | None = None
    extension: str | None = None


@dataclass(frozen=True, slots=True)
class MaskedPhone:
    """The visible digits of a masked mobile number such as ``138****5678``."""

    prefix: str
    suffix: str

    def matches(self, mobile: str | None) -> bool:
        """True when a full mobile number is consistent with this mask."""
        return bool(mobile) and mobile[:3] == self.prefix and mobile[-4:] == self.suffix  # type: ignore[index]


class MobileSegment(NamedTuple):
    """What a mobile number's 3-4 digit segment says (``data/carriers.tsv``, MIIT allocations)."""

    carrier: str  # 中国移动 | 中国联通 | 中国电信 | 中国广电: the network the number runs on
    # Sold by a virtual operator (虚拟运营商: 170/171/162/165/167). Such numbers are sold
    # nationwide, so the segment's home city is the reseller's, not the buyer's.
    virtual: bool


@lru_cache(maxsize=1)
def _segments() -> dict[str, MobileSegment]:
    text = resources.files("ecfusion.standardize.normalize.data").joinpath("carriers.tsv").read_text("utf-8")
    rows = (r.split("\t") for r in text.splitlines()[1:] if r)
    return {prefix: MobileSegment(carrier, virtual == "1") for prefix, carrier, virtual in rows}


def mobile_segment(mobile: str) -> MobileSegment | None:
    """The segment of an 11-digit mainland mobile (a 4-digit prefix before its 3-digit one:
    1349 is satellite, 1700 a virtual operator), or None when it is not allocated."""
    table = _segments()
    return table.get(mobile[:4]) or table.get(mobile[:3])


@lru_cache(maxsize=1)
def _area_codes() -> frozenset[str]:
    text = resources.files("ecfusion.standardize.normalize.data").joinpath("landline_area_codes.tsv")
    return frozenset(r.split("\t", 1)[0] for r in text.read_text("utf-8").splitlines()[1:] if r)


def _compact(text: str) -> str:
    value = unicodedata.normalize("NFKC", strip_invisible(text)).strip()
    return _SEPARATORS.sub("", value)


def _landline(value: str) -> PhoneNumber | None:
    m = _LANDLINE.match(_LANDLINE_COUNTRY.sub("0", value))
    # An area code no city has is no landline: 0300 does not exist, and "+86 400 …" / "+86 800 …"
    # are nationwide service numbers that only look like a 0400 / 0800 code once the 0 is restored.
    if m is None or m.group(1) not in _area_codes():
        return None
    area, local, ext = m.groups()
    return PhoneNumber(kind="landline", number=f"{area}-{local}", area_code=area, extension=ext)


def parse_phone(text: str | None) -> PhoneNumber | None:
    """Classify and canonicalize a phone number; None when it is neither a mobile nor a landline."""
    if not text:
        return None
    value = _compact(text).lower()
    mobile = _COUNTRY.sub("", value)
    if _MOBILE.match(mobile):
        return PhoneNumber(kind="mobile", number=mobile)
    parsed = _landline(value)
    if parsed is None:
        # "0531-88886666-123": once separators are gone the extension cannot be told apart.
        m = _TRAILING_EXTENSION.match(unicodedata.normalize("NFKC", text).strip())
        base = _landline(_compact(m.group(1))) if m else None
        if base is not None and m is not None and base.extension is None:
            parsed = PhoneNumber("landline", base.number, base.area_code, m.group(2))
    return parsed


def normalize_phone(text: str | None) -> str | None:
    """The 11-digit mainland mobile number, or None (landlines, garbage, masks)."""
    parsed = parse_phone(text)
    return parsed.number if parsed is not None and parsed.kind == "mobile" else None


def normalize_landline(text: str | None) -> str | None:
    """A landline as ``AREA-LOCAL`` (``"0531-88886666"``), or None; extensions are dropped."""
    parsed = parse_phone(text)
    return parsed.number if parsed is not None and parsed.kind == "landline" else None


def phone_visible_digits(masked: str | None) -> MaskedPhone | None:
    """The visible prefix (3) and suffix (4) of a masked mobile like ``138****5678``.

    Accepts ``+86``, spaces and full-width asterisks; None when the text is not such a mask.
    """
    if not masked:
        return None
    m = _MASK.match(_compact(masked))
    return MaskedPhone(prefix=m.group(1), suffix=m.group(2)) if m else None
