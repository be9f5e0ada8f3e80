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
from functools import lru_cache

from ecfusion.standardize.normalize.text import strip_invisible, to_simplified

# Middle dots, hyphens and look-alikes used inside transliterated / minority names. Korean
# input methods type the name dot as U+318D, which NFKC turns into U+119E.
_NAME_DOTS = "·•・‧∙⋅．.｡・ˑ\u00b7\u2022\u2027\u30fb\u2219\u22c5\u318d\u119e"
_NAME_HYPHENS = "-_\u2010\u2011\u2012\u2013\u2014"
_NAME_SEPARATORS = dict.fromkeys(map(ord, _NAME_DOTS + _NAME_HYPHENS), None)
_WHITESPACE = re.compile(r"\s+")
# Deliberately simple: RFC 5322 allows more, platforms and CRMs do not. A top-level domain is
# letters, or the ASCII (punycode) form of an internationalized one (.中国 → .xn--fiqs8s).
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2,}|xn--[a-z0-9-]+)$"
)
# "张三 <zhang@163.com>": the address a display name wraps.
_DISPLAY_NAME = re.compile(r"<([^<>]*)>$")
_LOCAL_PART_MAX = 64  # RFC 5321 4.5.3.1.1


def normalize_name(text: str | None) -> str | None:
    """A person's name in its comparable form, or None when nothing is left.

    NFKC (full-width → half-width), traditional → simplified, spaces and name dots
    (·, •, ・, .) removed, Latin letters case-folded: ``"Zhang San"`` → ``"zhangsan"``,
    ``"阿卜杜拉 · 艾合买提"`` → ``"阿卜杜拉艾合买提"``, ``"陳小明"`` → ``"陈小明"``.
    """
    if not text:
        return None
    value = unicodedata.normalize("NFKC", _without_symbols(strip_invisible(text)))
    value = _WHITESPACE.sub("", value).translate(_NAME_SEPARATORS)
    value = to_simplified(value).casefold()
    return value or None


def _without_symbols(text: str) -> str:
    """``text`` without emoji and other pictographs (``张三😀``, ``李四★``): Unicode symbols
    (So), their modifiers (Sk: skin tones) and variation selectors. Removed before NFKC, which
    would turn ``™`` into the letters ``TM``. One table lookup per character; characters beyond
    the BMP (most emoji) are rare and checked one by one."""
    text = text.translate(_bmp_symbols())
    if not _BEYOND_BMP.search(text):
        return text
    return "".join(
        c for c in text if unicodedata.category(c) not in ("So", "Sk") and not 0xE0100 <= ord(c) <= 0xE01EF
    )


_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")


@lru_cache(maxsize=1)
def _bmp_symbols() -> dict[int, None]:
    """Deletion table for ``str.translate``: the BMP's symbols (So, Sk) and variation selectors."""
    table: dict[int, None] = dict.fromkeys(range(0xFE00, 0xFE10), None)
    for code in range(0x10000):
        if unicodedata.category(chr(code)) in ("So", "Sk"):
            table[code] = None
    return table


def normalize_email(text: str | None) -> str | None:
    """A syntactically valid e-mail address, lower-cased, or None.

    Full-width characters (＠, ．) are folded; ``mailto:``, a display name
    (``张三 <zhang@163.com>``), surrounding spaces or angle brackets and a sentence's trailing
    dot are removed; an internationalized domain takes its ASCII form (``例子.中国`` →
    ``xn--fsqu00a.xn--fiqs8s``), so both spellings compare equal. Provider-specific rewrites
    (Gmail dots, ``+tags``) are NOT applied: they would merge addresses that are distinct
    mailboxes elsewhere.
    """
    if not text:
        return None
    value = unicodedata.normalize("NFKC", strip_invisible(text)).strip()
    if wrapped := _DISPLAY_NAME.search(value):
        value = wrapped.group(1)
    value = value.strip("<>").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    value = _WHITESPACE.sub("", value).replace("。", ".").rstrip(".").lower()
    local, at, domain = value.rpartition("@")
    if at and not domain.isascii():
        try:
            value = f"{local}@{domain.encode('idna').decode('ascii')}"
        except UnicodeError:
            return None
    if len(value) > 254 or not _EMAIL.match(value):
        return None
    local = value.rpartition("@")[0]
    if len(local) > _LOCAL_PART_MAX or local.startswith(".") or local.endswith(".") or ".." in value:
        return None
    return value
