"""Normalization of personal names and e-mail addresses for matching.

Serves T/JNBDA 0003-2025 5.2 Table 1 L2 (normalization) and 6.1.3 (entity resolution
needs comparable identifiers). The normalized value is what the blind index is computed
over (ARCHITECTURE principle 3), so two spellings of the same person must normalize to
the same string: width, script (繁→简), spacing and the middle dot of minority and
transliterated names (阿卜杜拉·艾合买提 == 阿卜杜拉艾合买提).
"""

from __future__ import annotations

import re
import unicodedata

from ecfusion.standardize.normalize.text import strip_invisible, to_simplified

# Middle dots and look-alikes used inside transliterated / minority names.
_NAME_SEPARATORS = dict.fromkeys(map(ord, "·•・‧∙⋅．.｡・ˑ\u00b7\u2022\u2027\u30fb\u2219\u22c5-_"), None)
_WHITESPACE = re.compile(r"\s+")
# Deliberately simple: RFC 5322 allows more, platforms and CRMs do not.
_EMAIL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


def normalize_name(text: str | None) -> str | None:
    """A person's name in its comparable form, or None when nothing is left.

    NFKC (full-width → half-width), traditional → simplified, spaces and name dots
    (·, •, ・, .) removed, Latin letters case-folded: ``"Zhang San"`` → ``"zhangsan"``,
    ``"阿卜杜拉 · 艾合买提"`` → ``"阿卜杜拉艾合买提"``, ``"陳小明"`` → ``"陈小明"``.
    """
    if not text:
        return None
    value = unicodedata.normalize("NFKC", strip_invisible(text))
    value = _WHITESPACE.sub("", value).translate(_NAME_SEPARATORS)
    value = to_simplified(value).casefold()
    return value or None


def normalize_email(text: str | None) -> str | None:
    """A syntactically valid e-mail address, lower-cased, or None.

    Full-width characters (＠, ．) are folded, ``mailto:`` and surrounding spaces or
    angle brackets are removed. Provider-specific rewrites (Gmail dots, ``+tags``) are NOT
    applied: they would merge addresses that are distinct mailboxes elsewhere.
    """
    if not text:
        return None
    value = unicodedata.normalize("NFKC", strip_invisible(text)).strip().strip("<>").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    value = _WHITESPACE.sub("", value).replace("。", ".").lower()
    if len(value) > 254 or not _EMAIL.match(value):
        return None
    local, _, domain = value.rpartition("@")
    if local.startswith(".") or local.endswith(".") or ".." in value:
        return None
    return value
