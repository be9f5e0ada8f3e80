"""Address → province / city / district / detail, fast enough for every order line.

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 c (completion: address → administrative
division) and 6.1.3 (addresses compared by division + detail in entity resolution).

How it works (no per-row NLP): the division table is indexed once into dictionaries of
every full name and alias (山东省/山东, 济南市/济南, 广西壮族自治区/广西, former names such
as 襄樊市), one for the whole country and one per province and city holding everything
below it. Which division a name means is decided when the index is built (the highest
level wins, e.g. 吉林 → 吉林省; a name shared by two divisions of that level is
ambiguous and never guessed). A parse normalizes the text with one character table
(full-width → half-width, 繁 → 简, invisible characters removed) and walks left to right
with longest-match look-ups: the first division (any level), then the children of what
was matched, so ``上海浦东新区``, ``北京市北京市朝阳区`` and ``历下区…`` (city and province
implied) all resolve. Inside a city the index also holds names that only mean something
there: former names of merged districts (``data/former_names.tsv``: 南汇区 in 上海 →
浦东新区) and short names the table leaves out because they collide elsewhere (中山 in
大连 → 中山区). An old suffix after a short name is read as part of it (密云县 → 密云区,
铜仁地区 → 铜仁市), and a restated prefix (广东省广州市天河区 written twice) is skipped.

A confident wrong answer is worse than none, so the parser refuses rather than guesses:
an alias followed by a street or place word (重庆路, 西湖大道, 温泉镇, 香港中路) is not a
division; a match never starts inside a longer name (中区 in 市中区); a bare short district
name with nothing around it (永和豆浆, 太平洋百货) is a word, not an address; and a child
that does not match exactly gets one edit-distance-1 attempt (rapidfuzz) among the
children of what is known, accepted only when exactly one division is that close, the
suffix (市/区/县) agrees, the text is not a development-zone word (高新区 is not 高陵区) and,
in a name of three characters or fewer, the changed character sounds the same (杭洲 →
杭州, but never 南汇 → 徐汇). A lone division with no parent written scores lower. Whatever
follows the last division is the detail (street, 小区, 楼, 室).

Results are cached per distinct input (bounded); ``parse_batch`` dictionary-encodes an
Arrow array so each distinct address of a record batch is parsed once.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ecfusion.standardize.normalize.divisions import Division, DivisionTable, default_division_table
from ecfusion.standardize.normalize.text import fold_chars

_SEPARATORS = frozenset(" \t\r\n,，;；:：/\\|-_()（）[]【】<>《》\"'·.。、")
_DETAIL_STRIP = "".join(sorted(_SEPARATORS - {"(", ")"}))
# An alias followed by one of these is part of a street or place name, not a division:
# 重庆路, 西湖大道, 金华小区, 朝阳门; 温泉镇 and 玉山镇 are towns (not 温泉县, 玉山县), 天宁寺 a
# temple, 永和豆浆 a chain of shops found in every city.
_STREET_CHARS = frozenset("路街巷弄号桥村苑园楼门镇乡寺塔店")
_STREET_WORDS = frozenset(
    [
        "大道",
        "大街",
        "小区",
        "胡同",
        "广场",
        "花园",
        "公园",
        "新村",
        "商场",
        "中心",
        "大厦",
        "大学",
        "中学",
        "小学",
        "公寓",
        "家园",
        "山庄",
        "里弄",
        "东路",
        "西路",
        "南路",
        "北路",
        "中路",
        "酒店",
        "医院",
        "百货",
        "豆浆",
        "超市",
        "商城",
        "商店",
        "饭店",
        "宾馆",
    ]
)
_FILLERS = ("省直辖县级行政区划", "自治区直辖县级行政区划", "省直辖", "市辖区", "市辖县", "县辖区")
_FILLER_FIRST = frozenset(f[0] for f in _FILLERS)
_COUNTRY_PREFIXES = ("中华人民共和国", "中国大陆", "中国", "china", "China", "CHINA")
_COUNTRY_FIRST = frozenset(p[0] for p in _COUNTRY_PREFIXES)
_ALIAS_SUFFIX_SKIP = frozenset("省市")
_MAX_GARBLED = 6  # characters a garbled division name may occupy before the next one
DEFAULT_CACHE_SIZE = 500_000

# The last character of a division's name says what it is; a name without one (香港, 永和) reads as
# an ordinary word first.
_DIVISION_SUFFIXES = frozenset("省市区县旗盟")
# What an older text may write after a short name when the division has since changed type:
# 地区/盟 → 市 (铜仁地区, 乌兰察布盟), 县/市 → 区 (密云县, 从化市), 县 → 市.
_FORMER_SUFFIXES: dict[int, tuple[str, ...]] = {2: ("地区", "盟"), 3: ("县", "市", "区")}
# ... unless the suffix starts a word: 朝阳市场 is a market in 朝阳, not 朝阳市.
_SUFFIX_WORDS = ("市场", "市民", "市政", "市委", "市中心", "区域")
# Development zones, new areas and parks are not divisions (the table holds a few by full name or
# as the city's 经开区/高新区 alias); such a word must never be forgiven as a typo of a district:
# 西安市高新区 is not 高陵区, 长沙市开发区 not 开福区, 天津市经开区 not 南开区.
_ZONE_WORDS = (
    "开发区",
    "高新区",
    "经开区",
    "工业园",
    "产业园",
    "科技园",
    "工业区",
    "保税区",
    "自贸区",
    "试验区",
    "示范区",
)
# A street and its number: what must follow a bare district name written alone (番禺 青年路188号).
_STREET_NUMBER = re.compile(r"[^\d]{0,12}?(?:路|街|大道|巷|弄|胡同)\s*\d")
# Typos forgiven in a name of this many characters or fewer: only a same-sounding substitution.
_SHORT_NAME = 3
# A lone division (no province or city written, nothing below it) is weak evidence: "城西区5号楼".
_LONE_PENALTY = 0.1
_LONE_SHORT_PENALTY = 0.3  # ... the more so when it is a short word (≤ 3 characters)
# Tiers of meaning within one index: a name in the table outranks one that only yields (a former
# name, a short name the table left out); the lower tier is used only when nothing else has the name.
_TIER_TABLE = 0
_TIER_YIELDS = 1

ADDRESS_STRUCT = pa.struct(
    [
        ("province", pa.string()),
        ("city", pa.string()),
        ("district", pa.string()),
        ("detail", pa.string()),
        ("adcode", pa.string()),
        ("confidence", pa.float64()),
    ]
)

# A name's meaning inside one index: (division id, is_alias), AMBIGUOUS, or None (no such name).
_Choice = tuple[int, bool]
AMBIGUOUS: _Choice = (-1, False)
_Entry = tuple[int, bool, int]  # (division id, is_alias, tier)


class ParsedAddress(NamedTuple):
    """An address split against the division table; ``confidence`` is 0 (nothing) … 1 (full names).

    A NamedTuple rather than a dataclass: the parse cache holds hundreds of thousands of
    these, and tuples of plain strings drop out of the garbage collector's scans.
    """

    province: str | None
    city: str | None
    district: str | None
    detail: str
    adcode: str | None
    confidence: float


EMPTY = ParsedAddress(None, None, None, "", None, 0.0)


class _ChainNames(NamedTuple):
    """The names of a division and its parents: name → is_alias, their first two characters, the longest."""

    names: dict[str, bool]
    starts: frozenset[str]
    longest: int


@dataclass(slots=True)
class _Hit:
    div_id: int
    end: int
    alias: bool
    fuzzy: bool = False
    start: int = -1


class _Name(NamedTuple):
    """What one name means in an index, for each way it may be read."""

    any: _Choice | None  # all entries
    full: _Choice | None  # full names only (an alias before a street word is not a division)
    scan: _Choice | None  # without short district aliases (when searching past leading noise)
    street_sensitive: bool  # whether a following street word changes the meaning (an alias is involved)


@dataclass(slots=True)
class _NameIndex:
    """Every name of a set of divisions, with the name lengths worth trying per first two characters."""

    entries: dict[str, list[_Entry]] = field(default_factory=dict)
    names: dict[str, _Name] = field(default_factory=dict)
    lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)
    fuzzy_names: list[str] = field(default_factory=list)
    fuzzy_ids: list[int] = field(default_factory=list)
    fuzzy_widths: tuple[int, ...] = ()
    fuzzy_suffixes: frozenset[str] = frozenset()
    # The nationwide index (None for the nationwide index itself): a "street word" that starts a
    # division name anywhere is not a street (新疆塔城, 江苏镇江).
    nationwide: _NameIndex | None = None

    def add(self, name: str, div_id: int, alias: bool, tier: int = _TIER_TABLE) -> None:
        if len(name) < 2:
            return
        entries = self.entries.setdefault(name, [])
        if (div_id, alias, tier) not in entries:
            entries.append((div_id, alias, tier))

    def freeze(self, levels: dict[int, int], ranks: dict[int, int]) -> None:
        by_first: dict[str, set[int]] = {}  # every name has at least two characters
        for name, entries in self.entries.items():
            by_first.setdefault(name[:2], set()).add(len(name))
            any_ = _choose(entries, ranks)
            # A full name without a suffix (香港, 澳门) is as much a street name as an alias is: 香港中路.
            full = _choose([e for e in entries if not e[1] and not _is_bare(name)], ranks)
            scan = _choose([e for e in entries if not (e[1] and levels[e[0]] == 3)], ranks)
            self.names[name] = _Name(any_, full, scan, street_sensitive=any_ != full or scan != full)
            # Typos are only forgiven on full names of three or more characters below province.
            for div_id, alias, tier in entries:
                if not alias and tier == _TIER_TABLE and len(name) >= 3 and levels[div_id] > 1:
                    self.fuzzy_names.append(name)
                    self.fuzzy_ids.append(div_id)
        self.lengths = {ch: tuple(sorted(ls, reverse=True)) for ch, ls in by_first.items()}
        widths = {w for n in self.fuzzy_names for w in (len(n) - 1, len(n), len(n) + 1) if w >= 3}
        self.fuzzy_widths = tuple(sorted(widths))
        self.fuzzy_suffixes = frozenset(n[-1] for n in self.fuzzy_names)
        self.entries = {}

    def match(self, text: str, pos: int, *, scan: bool = False) -> _Hit | None:
        """The longest name at ``pos``; None when there is none or it is ambiguous."""
        lengths = self.lengths.get(text[pos : pos + 2])
        if not lengths:
            return None
        for n in lengths:
            name = self.names.get(text[pos : pos + n])
            if name is None:
                continue
            choice = name.scan if scan else name.any
            if (
                name.street_sensitive
                and _street_follows(text, pos + n)
                and not self.division_follows(text, pos + n)
            ):
                choice = name.full
            if choice is None:
                continue
            if choice is AMBIGUOUS:
                return None
            return _Hit(choice[0], pos + n, choice[1], start=pos)
        return None

    def name_end(self, text: str, pos: int) -> int:
        """The end of the longest name at ``pos`` whatever it means (even ambiguous); ``pos`` if none."""
        for n in self.lengths.get(text[pos : pos + 2], ()):
            if text[pos : pos + n] in self.names:
                return pos + n
        return pos

    def division_follows(self, text: str, pos: int) -> bool:
        """门源县 after 海北, 桥东区 after 张家口: the next word is itself a division."""
        return (self.nationwide or self).name_end(text, pos) > pos


def _choose(entries: list[_Entry], ranks: dict[int, int]) -> _Choice | None:
    """The highest-ranked division of the best tier among ``entries``; AMBIGUOUS when two share that rank."""
    if not entries:
        return None
    tier = min(t for _, _, t in entries)
    pool = [(d, alias) for d, alias, t in entries if t == tier]
    best = min(ranks[d] for d, _ in pool)
    top = {d: alias for d, alias in pool if ranks[d] == best}
    if len(top) != 1:
        return AMBIGUOUS
    return next(iter(top.items()))


def _is_bare(name: str) -> bool:
    """永和, 杭州, 香港: no suffix says this is a division (州 does only in 延边州, 恩施州 …)."""
    if name.endswith("州"):
        return len(name) < 3
    return name[-1] not in _DIVISION_SUFFIXES


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _stem(name: str) -> str | None:
    """A division's name without its type suffix (江东区 → 江东), when that leaves a word of its own."""
    if name.endswith("新区") or _is_bare(name):
        return None  # 天府新区 → 天府新: not a name anyone writes
    stem = name[:-2] if name.endswith("地区") else name[:-1]
    # 新市区 → 新市 would read as "new 市": a stem ending in a suffix is not a short name.
    return stem if len(stem) >= 2 and stem[-1] not in "省市区县" else None


def _names_a_zone(window: str) -> bool:
    """高新区, 西安高新区, X新区: text naming a development zone or new area rather than a district."""
    if any(word in window for word in _ZONE_WORDS):
        return True
    at = window.find("新区")
    return 0 <= at < 2  # 新区, 江新区; but 浦冬新区 may be a typo of 浦东新区


def _typo_forgiven(window: str, name: str) -> bool:
    """A name longer than three characters forgives any one edit. A short one (高陵区, 房山区) is one
    edit from too many unrelated words (高新区, 南山区), so only a substitution by a character that
    sounds the same is forgiven: the typo an input method makes (杭洲市, 西糊区, 南三区)."""
    if len(name) > _SHORT_NAME or window == name:
        return True  # (the same name: an exact match left to this path because it was ambiguous)
    if len(window) != len(name):
        return False
    changed = [(a, b) for a, b in zip(window, name, strict=True) if a != b]
    return len(changed) == 1 and not _sounds(changed[0][0]).isdisjoint(_sounds(changed[0][1]))


@lru_cache(maxsize=8192)
def _sounds(ch: str) -> frozenset[str]:
    """A character's toneless readings, z/c/s not told from zh/ch/sh (a common input-method slip)."""
    from pypinyin import Style, pinyin  # imported on first typo: loading its dictionary takes 0.7 s

    readings = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
    return frozenset(r.replace("zh", "z").replace("ch", "c").replace("sh", "s") for r in readings)


def _street_follows(text: str, pos: int) -> bool:
    return text[pos : pos + 1] in _STREET_CHARS or text[pos : pos + 2] in _STREET_WORDS


def _normalize(text: str) -> str:
    return fold_chars(text).strip()


def _skip(text: str, pos: int) -> int:
    """Skip separators and filler tokens (市辖区 …) between components."""
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch in _SEPARATORS:
            pos += 1
            continue
        if ch not in _FILLER_FIRST:
            return pos
        for filler in _FILLERS:
            if text.startswith(filler, pos):
                pos += len(filler)
                break
        else:
            return pos
    return pos


def _clean_detail(text: str) -> str:
    return " ".join(text.split()).strip(_DETAIL_STRIP)


class AddressParser:
    """Parses Chinese addresses against a ``DivisionTable``.

    Builds its name index once (the top level at once, each province's or city's on first use) and
    holds a bounded cache of results; not thread-safe (use one parser per thread or process).
    """

    def __init__(self, table: DivisionTable | None = None, *, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.table = table or default_division_table()
        self.cache_size = cache_size
        self._cache: OrderedDict[str, ParsedAddress] = OrderedDict()
        self._levels = {d.id: d.level for d in self.table.divisions}
        self._ranks = {d.id: self._rank(d) for d in self.table.divisions}
        self._labels = {d.id: self._label(d) for d in self.table.divisions}
        self._root = _NameIndex()
        self._under: dict[int, _NameIndex] = {}
        self._chains: dict[int, _ChainNames] = {}
        self._build()

    # -- index ---------------------------------------------------------------------------
    def _rank(self, d: Division) -> int:
        """The level that decides between two divisions of one name (the higher wins: 吉林 → 吉林省).
        A level-2 division with nothing below it is county-level (仙桃市, 昌江黎族自治县, Taiwan's
        连江县): it must not outrank a county of the same name (福建省福州市连江县)."""
        if d.level == 2 and not self.table.children.get(d.id):
            return 3
        return d.level

    def _names_of(self, d: Division) -> list[tuple[str, bool, int]]:
        """Every name that means ``d`` anywhere: (name, is_alias, tier)."""
        out = [(d.name, False, _TIER_TABLE)] + [(a, True, _TIER_TABLE) for a in d.aliases]
        if d.name.endswith("自治州") and d.aliases:
            out.append((d.aliases[0] + "州", True, _TIER_TABLE))  # 延边州, 恩施州
        if d.level < 3:
            # A former city name is unique nationwide (淮阴市 → 淮安市), like the table's own 襄樊市.
            out.extend((f, True, _TIER_YIELDS) for f in self.table.former_names.get(d.id, ()))
        return out

    def _scoped_names(self, d: Division) -> list[str]:
        """Names that mean ``d`` only inside its parent: a district's former names and their stems
        (南汇区/南汇 in 上海 → 浦东新区, 江东区 in 宁波 → 鄞州区), and the short name the table leaves
        out because it collides elsewhere (中山 in 大连 → 中山区, elsewhere 中山市; 白杨 in 新疆)."""
        parent_names = {n for a in self.table.ancestors(d.id)[:-1] for n, _, _ in self._names_of(a)}
        former = self.table.former_names.get(d.id, ()) if d.level == 3 else ()
        stems = [_stem(f) for f in former]
        if not d.aliases:
            stems.append(_stem(d.name))
        return [*former, *(s for s in stems if s and s not in parent_names)]

    def _label(self, d: Division) -> tuple[str | None, str | None, str | None, str | None]:
        chain = self.table.ancestors(d.id)
        names: dict[int, str] = {a.level: a.name for a in chain}
        kids = self.table.children.get(d.id, [])
        if d.level == 1 and len(kids) == 1:
            names[2] = self.table.by_id[kids[0]].name  # a municipality's only city: 北京市 → 北京市, 香港
        adcode = next((a.adcode for a in reversed(chain) if a.adcode), None)
        return names.get(1), names.get(2), names.get(3), adcode

    def _build(self) -> None:
        for d in self.table.divisions:
            for name, alias, tier in self._names_of(d):
                self._root.add(name, d.id, alias, tier)
        self._root.freeze(self._levels, self._ranks)

    def _index_under(self, div_id: int) -> _NameIndex:
        """The names of every division below ``div_id`` (a province or a city), built on first use:
        a run's receiver regions touch a few provinces, and building all ~370 took 0.25 s."""
        idx = self._under.get(div_id)
        if idx is None:
            idx = _NameIndex(nationwide=self._root)
            # Scoped names belong to the children of this division, and of a municipality's only city
            # (上海市 → 上海市 → 浦东新区: the walk goes from the province straight to the district).
            kids = self.table.children.get(div_id, [])
            scope = {div_id, kids[0]} if self._levels[div_id] == 1 and len(kids) == 1 else {div_id}
            for child_id in self.table.descendants(div_id):
                child = self.table.by_id[child_id]
                for name, alias, tier in self._names_of(child):
                    idx.add(name, child_id, alias, tier)
                if child.parent in scope:
                    for name in self._scoped_names(child):
                        idx.add(name, child_id, True, _TIER_YIELDS)
            idx.freeze(self._levels, self._ranks)
            self._under[div_id] = idx
        return idx

    def _chain_names(self, div_id: int) -> _ChainNames:
        """Every name of ``div_id`` and its parents, to recognise them written twice."""
        found = self._chains.get(div_id)
        if found is None:
            chain = self.table.ancestors(div_id)
            kids = self.table.children.get(chain[0].id, [])
            if len(kids) == 1:
                chain.append(self.table.by_id[kids[0]])  # 北京市北京市: the municipality's city
            names: dict[str, bool] = {}
            for d in chain:
                for name, alias, _ in self._names_of(d):
                    if len(name) >= 2:
                        names[name] = names.get(name, True) and alias
            found = _ChainNames(names, frozenset(n[:2] for n in names), max(map(len, names), default=0))
            self._chains[div_id] = found
        return found

    # -- public --------------------------------------------------------------------------
    def parse(self, text: str | None) -> ParsedAddress:
        """Split one address; never raises. Empty input gives an empty result with confidence 0."""
        if not text or not isinstance(text, str):
            return EMPTY
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        result = self._parse_uncached(text)
        self._cache[text] = result
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return result

    def parse_batch(self, values: pa.Array | pa.ChunkedArray) -> pa.StructArray:
        """Parse an Arrow string array (``ADDRESS_STRUCT`` out); each distinct value once; null → null."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        elif not isinstance(values, pa.Array):
            values = pa.array(values, pa.string())
        if not pa.types.is_string(values.type):
            values = values.cast(pa.string())
        encoded = pc.dictionary_encode(values)
        parsed = [self.parse(u) for u in encoded.dictionary.to_pylist()]
        columns = [
            pa.array([p.province for p in parsed], pa.string()),
            pa.array([p.city for p in parsed], pa.string()),
            pa.array([p.district for p in parsed], pa.string()),
            pa.array([p.detail for p in parsed], pa.string()),
            pa.array([p.adcode for p in parsed], pa.string()),
            pa.array([p.confidence for p in parsed], pa.float64()),
        ]
        distinct = pa.StructArray.from_arrays(columns, fields=list(ADDRESS_STRUCT))
        return distinct.take(encoded.indices)

    def cache_clear(self) -> None:
        """Forget cached results (e.g. between unrelated batches to bound memory)."""
        self._cache.clear()

    # -- parsing -------------------------------------------------------------------------
    def _parse_uncached(self, raw: str) -> ParsedAddress:
        try:
            return self._walk(_normalize(raw))
        except Exception:  # noqa: BLE001 - a parser of user text must never crash a run
            return ParsedAddress(None, None, None, _clean_detail(raw), None, 0.0)

    def _walk(self, text: str) -> ParsedAddress:
        pos = self._start(text)
        first = self._first_hit(text, pos)
        if first is None:
            return ParsedAddress(None, None, None, _clean_detail(text[pos:]), None, 0.0)
        cur, skipped = first
        hits = [cur]
        after = self._after(text, cur)
        while self._levels[cur.div_id] < 3:
            nxt = self._child_hit(text, after, cur.div_id) or self._child_after_short_name(text, cur)
            if nxt is None:
                break
            self._absorb_former_suffix(text, nxt)
            hits.append(nxt)
            cur = nxt
            after = self._after(text, cur)
        after = self._past_restatement(text, after, cur.div_id, tail=True)
        return self._result(text, hits, after, skipped)

    def _start(self, text: str) -> int:
        """Skip leading separators and a country name, but only when a division follows it."""
        pos = _skip(text, 0)
        if text[pos : pos + 1] not in _COUNTRY_FIRST:
            return pos
        for prefix in _COUNTRY_PREFIXES:
            if text.startswith(prefix, pos):
                after = _skip(text, pos + len(prefix))
                if self._root.match(text, after) is not None:
                    return after
        return pos

    def _after(self, text: str, hit: _Hit) -> int:
        pos = hit.end
        if hit.alias and self._levels[hit.div_id] == 1 and text[pos : pos + 1] in _ALIAS_SUFFIX_SKIP:
            pos += 1  # 广西省, 内蒙古省: a wrong suffix after a short name
        return _skip(text, pos)

    def _first_hit(self, text: str, pos: int) -> tuple[_Hit, bool] | None:
        """The first division: at ``pos``, else the earliest unambiguous one after leading noise."""
        hit = self._root.match(text, pos)
        if hit is not None:
            self._absorb_former_suffix(text, hit)
            if self._can_open(text, hit, glued=False):
                return hit, False
        # A match never starts inside a name that was refused: 市中区 (four cities have one) is not
        # 台中市中区, 重庆路 not 庆….
        covered = max(pos + 1, self._root.name_end(text, pos))
        for start in range(pos + 1, len(text)):
            if start >= covered:
                hit = self._root.match(text, start, scan=True)
                if hit is not None:
                    self._absorb_former_suffix(text, hit)
                    if self._can_open(text, hit, glued=_is_cjk(text[start - 1])):
                        return hit, True
            covered = max(covered, self._root.name_end(text, start))
        return None

    def _can_open(self, text: str, hit: _Hit, *, glued: bool) -> bool:
        """Whether a first match may stand for the address.

        A district with no province or city before it has nothing to confirm it, so it must not be an
        ordinary word: not the tail of a longer word after leading noise (万科城西区 is an estate, not
        西宁市城西区), and not a bare short name unless a street and number follow it (永和豆浆店,
        太平洋百货 are shops, not 永和县, 太平区; 番禺青年路188号 is an address)."""
        if self._levels[hit.div_id] < 3:
            return True
        if glued:
            return False
        if hit.alias and _is_bare(text[hit.start : hit.end]):
            return _STREET_NUMBER.match(text, _skip(text, hit.end)) is not None  # 番禺青年路188号
        return True

    def _absorb_former_suffix(self, text: str, hit: _Hit) -> None:
        """密云县 → 密云区, 从化市 → 从化区, 铜仁地区 → 铜仁市: a short name followed by the suffix the
        division had before it changed type; the suffix is part of the name, not of the detail."""
        if not hit.alias:
            return
        for suffix in _FORMER_SUFFIXES.get(self._levels[hit.div_id], ()):
            if not text.startswith(suffix, hit.end):
                continue
            if text.startswith(_SUFFIX_WORDS, hit.end) or self._root.division_follows(text, hit.end):
                return  # 朝阳市场; 枣庄市中区
            hit.end += len(suffix)
            return

    def _past_restatement(self, text: str, pos: int, div_id: int, *, tail: bool = False) -> int:
        """Past the names of ``div_id`` and its parents written again at ``pos`` (浙江省 浙江 杭州 杭州市,
        广东省广州市天河区 广东省广州市天河区体育西路). In the detail (``tail``) only a run holding a full
        name or two names is skipped: 上海市黄浦区黄浦江边 keeps 黄浦江边."""
        chain = self._chain_names(div_id)
        if text[pos : pos + 2] not in chain.starts:
            return pos  # the usual case: the detail starts with a street
        names = chain.names
        end, count, full = pos, 0, False
        while True:
            for n in range(min(len(text) - end, chain.longest), 1, -1):
                alias = names.get(text[end : end + n])
                if alias is not None and not (alias and _street_follows(text, end + n)):
                    break
            else:
                break
            end, count, full = _skip(text, end + n), count + 1, full or not alias
        if tail and not (full or count >= 2):
            return pos
        return end

    def _child_after_short_name(self, text: str, hit: _Hit) -> _Hit | None:
        """枣庄市中区: the full name 枣庄市 swallowed the 市 of 市中区; retry after the short name."""
        if hit.start < 0 or hit.alias:
            return None
        idx = self._index_under(hit.div_id)
        for alias in self.table.by_id[hit.div_id].aliases:
            end = hit.start + len(alias)
            if end < hit.end and text.startswith(alias, hit.start):
                child = idx.match(text, _skip(text, end))
                if child is not None and not child.alias:
                    hit.alias = True
                    return child
        return None

    def _child_hit(self, text: str, pos: int, parent: int) -> _Hit | None:
        idx = self._index_under(parent)
        hit = idx.match(text, pos)
        if hit is None:
            later = self._past_restatement(text, pos, parent)
            if later > pos:
                hit = idx.match(text, later)
        if hit is None:
            hit = self._fuzzy_child(text, pos, idx)
        if hit is None:
            hit = self._skipped_child(text, pos, idx)
        return hit

    @staticmethod
    def _fuzzy_child(text: str, pos: int, idx: _NameIndex) -> _Hit | None:
        """Edit distance 1 on a full name with the same suffix (市/区/县), if exactly one division is that
        close and the edit is one a typist makes (``_typo_forgiven``); never on a development zone."""
        if not idx.fuzzy_names or pos + 3 > len(text):
            return None
        if idx.fuzzy_suffixes.isdisjoint(text[pos : pos + idx.fuzzy_widths[-1]]):
            return None  # no 市/区/县… ahead: nothing a typo could be hiding (杭州市西湖大道)
        found: dict[int, int] = {}  # every division one edit away → where its forgiven typo ends (0: none)
        for width in idx.fuzzy_widths:
            window = text[pos : pos + width]
            if len(window) < width:
                break
            if _names_a_zone(window):
                continue
            for name, _dist, i in process.extract(
                window, idx.fuzzy_names, scorer=Levenshtein.distance, score_cutoff=1, limit=None
            ):
                if name[-1] == window[-1]:
                    div_id = idx.fuzzy_ids[i]
                    if not found.get(div_id):
                        found[div_id] = pos + width if _typo_forgiven(window, name) else 0
        # Two candidates are ambiguous even if only one typo would be forgiven (济男 → 济南 or 济宁).
        if len(found) != 1:
            return None
        div_id, end = next(iter(found.items()))
        return _Hit(div_id, end, alias=False, fuzzy=True, start=pos) if end else None

    @staticmethod
    def _skipped_child(text: str, pos: int, idx: _NameIndex) -> _Hit | None:
        """A full name a few characters on (济男市历下区: the city is garbled, the district is not)."""
        for start in range(pos + 1, min(pos + _MAX_GARBLED, len(text))):
            m = idx.match(text, start)
            if m is not None and not m.alias:
                m.fuzzy = True
                return m
        return None

    def _result(self, text: str, hits: list[_Hit], after: int, skipped: bool) -> ParsedAddress:
        province, city, district, adcode = self._labels[hits[-1].div_id]
        detail = _clean_detail(text[after:])
        confidence = 1.0
        for h in hits:
            if h.alias:
                confidence -= 0.05
            if h.fuzzy:
                confidence -= 0.2
        if skipped:
            confidence -= 0.1
        if district is None:
            confidence -= 0.1 if city is not None else 0.3
        confidence -= self._lone_penalty(text, hits)
        return ParsedAddress(province, city, district, detail, adcode, round(max(confidence, 0.05), 2))

    def _lone_penalty(self, text: str, hits: list[_Hit]) -> float:
        """A district, or a city by its bare short name, with nothing written above or below it could
        be a word of a longer name (万科城西区, 东方明珠): less sure, the more so when it is short. A city's
        full name before a street (济南市泉城路) is the usual way to write an address and loses nothing."""
        if len(hits) != 1 or self._levels[hits[0].div_id] == 1:
            return 0.0
        matched = text[hits[0].start : hits[0].end]
        if self._levels[hits[0].div_id] == 2 and not _is_bare(matched):
            return 0.0
        return _LONE_SHORT_PENALTY if len(matched) <= _SHORT_NAME else _LONE_PENALTY


_default_parser: AddressParser | None = None


def parse_address(text: str | None) -> ParsedAddress:
    """Parse with a process-wide parser over the shipped division table (built on first use, ~0.5 s)."""
    global _default_parser
    if _default_parser is None:
        _default_parser = AddressParser()
    return _default_parser.parse(text)
