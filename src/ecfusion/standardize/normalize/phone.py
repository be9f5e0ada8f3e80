"""Phone numbers: canonical mobile / landline forms and masked-phone matching.

Serves T/JNBDA 0003-2025 5.2 Table 1 L2 (normalization of phone fields) and 6.1.3
(a phone number is an exact-match key; platforms often return only a mask such as
``138****5678``, which can still confirm or refute a candidate match).

* ``normalize_phone`` → the 11-digit mainland mobile number, or None. A landline is
  never turned into a mobile: ``normalize_landline`` gives ``"0531-88886666"``.
* Prefixes ``+86``/``0086``/``86``, spaces, dashes, dots, brackets and full-width digits
  are accepted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from ecfusion.standardize.normalize.text import strip_invisible

_SEPARATORS = re.compile(r"[\s\-–—.()\[\]/]+")
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_COUNTRY = re.compile(r"^(?:\+86|0086|\+0086|86)(?=1[3-9]\d{9}$)", re.ASCII)
# Area codes: 010 and 02X are three digits; all others are four (0 + 3).
_LANDLINE = re.compile(r"^(0(?:10|2\d|[3-9]\d{2}))(\d{7,8})(?:(?:ext|转|#|,|\*)(\d{1,6}))?$", re.ASCII)
_LANDLINE_COUNTRY = re.compile(r"^(?:\+86|0086)(?=[1-9]\d{9,10})", re.ASCII)
_TRAILING_EXTENSION = re.compile(r"^(.*\d)\s*(?:-|转|ext\.?|#|,)\s*(\d{1,6})$", re.IGNORECASE | re.ASCII)
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


def _compact(text: str) -> str:
    value = unicodedata.normalize("NFKC", strip_invisible(text)).strip()
    return _SEPARATORS.sub("", value)


def _landline(value: str) -> PhoneNumber | None:
    m = _LANDLINE.match(_LANDLINE_COUNTRY.sub("0", value))
    if m is None:
        return None
    area, local, ext = m.groups()
    return PhoneNumber(kind="landline", number=f"{area}-{local}", area_code=area, extension=ext)


def parse_phone(text: str | None) -> PhoneNumber | None:
    """Classify and canonicalize a phone number; None when it is neither a mobile nor a landline."""
    if not text:
        return None
    value = _compact(text).lower().replace("转", "ext")
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
