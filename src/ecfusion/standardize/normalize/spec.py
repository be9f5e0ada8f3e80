"""Product-title cleanup and spec extraction (capacity, pack count).

Serves T/JNBDA 0003-2025 6.1.3 (product entity resolution: the same SKU listed on four
platforms under four titles) and 5.2 Table 1 L2 (unit conversion). ``parse_spec`` turns
``"【官方】XX洗发水500ml*3瓶 包邮"`` into capacity 500 ml and pack count 3, so that 500ml,
0.5L and 500毫升 compare equal and a 3-pack is recognised as a pack of the same variant.
``clean_title`` removes bracketed promotions and marketing words (data/marketing_words.txt).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ecfusion.standardize.normalize.text import collapse_whitespace, to_simplified_chars

# unit → (normalized unit, factor)
_UNITS: dict[str, tuple[str, float]] = {
    "ml": ("ml", 1.0),
    "毫升": ("ml", 1.0),
    "cc": ("ml", 1.0),
    "l": ("ml", 1000.0),
    "升": ("ml", 1000.0),
    "公升": ("ml", 1000.0),
    "g": ("g", 1.0),
    "克": ("g", 1.0),
    "mg": ("g", 0.001),
    "毫克": ("g", 0.001),
    "kg": ("g", 1000.0),
    "千克": ("g", 1000.0),
    "公斤": ("g", 1000.0),
    "斤": ("g", 500.0),
}
_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_NUM = r"(\d+(?:\.\d+)?)"
_CAPACITY = re.compile(
    _NUM + r"\s*(毫升|公升|千克|公斤|毫克|ml|mg|kg|cc|l|g|升|克|斤)(?![a-wyz])", re.IGNORECASE
)
_PACK_UNITS = "支瓶罐听袋包盒件片条只枚粒卷桶箱组块颗贴双套"
_PACK_SUFFIX = re.compile(r"(\d+|[一二两三四五六七八九十]{1,2})\s*([" + _PACK_UNITS + r"])\s*装")
_PACK_TIMES = re.compile(r"[x×*]\s*(\d{1,4})(?![\d.]*\s*(?:ml|mg|kg|cc|l|g|毫升|升|克|斤|cm|mm|m)\b)", re.I)
# Without 装, only Arabic digits count: 三只松鼠 is a brand, not three of anything.
_PACK_COUNT = re.compile(r"(?<![\d.])(\d{1,3})\s*([" + _PACK_UNITS + r"])(?![\d装])")
_BRACKETED = re.compile(r"【[^】]*】|\[[^\]]*\]|〖[^〗]*〗|「[^」]*」")


@dataclass(frozen=True, slots=True)
class Spec:
    """What a title says about size: capacity in ml or g, how many units in the pack."""

    capacity_value: float | None
    capacity_unit: str | None  # "ml" | "g"
    pack_count: int
    raw: str  # the fragments the values came from, e.g. "500ml *3"

    @property
    def size(self) -> tuple[float | None, str | None]:
        """(capacity_value, capacity_unit): what tells variants apart; the pack count does not."""
        return self.capacity_value, self.capacity_unit


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if len(text) == 1:
        return _CN_DIGITS.get(text)
    if len(text) == 2 and text[0] == "十":
        return 10 + (_CN_DIGITS.get(text[1]) or 0)
    if len(text) == 2 and text[1] == "十":
        return (_CN_DIGITS.get(text[0]) or 0) * 10
    return None


def _prepare(title: str) -> str:
    text = unicodedata.normalize("NFKC", title)
    return to_simplified_chars(text).replace("X", "x")


def _capacity(text: str) -> tuple[float | None, str | None, str]:
    m = _CAPACITY.search(text)
    if m is None:
        return None, None, ""
    unit, factor = _UNITS[m.group(2).lower()]
    value = round(float(m.group(1)) * factor, 6)
    return value, unit, m.group(0)


def _pack(text: str) -> tuple[int, str]:
    for pattern in (_PACK_SUFFIX, _PACK_TIMES, _PACK_COUNT):
        m = pattern.search(text)
        if m is None:
            continue
        n = _number(m.group(1))
        if n is not None and 1 <= n <= 10000:
            return n, m.group(0)
    return 1, ""


def parse_spec(title: str | None) -> Spec:
    """Capacity (normalized to ml or g) and pack count from a product title; never raises.

    ``"洗发水500ml*3瓶"`` → Spec(500.0, "ml", 3, "500ml *3"); ``"0.5L"`` → 500 ml;
    ``"1kg"`` → 1000 g; ``"3支装"`` → pack 3; no pack wording → pack 1.
    """
    if not title:
        return Spec(None, None, 1, "")
    text = _prepare(title)
    value, unit, cap_raw = _capacity(text)
    rest = text.replace(cap_raw, " ", 1) if cap_raw else text
    count, pack_raw = _pack(rest)
    raw = " ".join(p.strip() for p in (cap_raw, pack_raw) if p.strip())
    return Spec(value, unit, count, raw)


@lru_cache(maxsize=1)
def _marketing_pattern() -> re.Pattern[str]:
    text = (
        resources.files("ecfusion.standardize.normalize.data")
        .joinpath("marketing_words.txt")
        .read_text("utf-8")
    )
    words = [w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")]
    words.sort(key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words))


def clean_title(title: str | None, *, brands: tuple[str, ...] = ()) -> str:
    """A title for comparison: NFKC, 繁→简, bracketed promotions (【…】, [...]) and marketing
    words removed, given brand names removed, Latin case-folded, whitespace collapsed."""
    if not title:
        return ""
    text = _BRACKETED.sub(" ", unicodedata.normalize("NFKC", title))
    text = _marketing_pattern().sub(" ", to_simplified_chars(text))
    for brand in sorted(brands, key=len, reverse=True):
        if brand:
            text = text.replace(brand, " ")
    return collapse_whitespace(text.replace("/", " ")).casefold()
