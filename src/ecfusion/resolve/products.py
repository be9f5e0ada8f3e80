"""Products → standard SKU (T/JNBDA 0003-2025 6.1.3, product side of 4.3.6 b).

Listings of one product on four platforms carry four titles. A standard SKU (std_sku_id) groups
the listings that are the same sellable unit:

1. strong keys first — the same barcode, or the same merchant outer SKU code, links listings;
   two *different* barcodes keep listings apart whatever their titles say;
2. a *product family* is the listings whose cleaned titles (``standardize.normalize.clean_title``:
   promotions, marketing words and Latin brand spellings removed) share most of their characters
   in order — platforms append different selling words, so the shorter title is compared against
   the longer one;
3. within a family the spec tells SKUs apart, parsed by the one spec parser of the product
   (``standardize.normalize.parse_spec``: 500ml = 0.5L = 500毫升; 3支装 is a bundle of the same
   item, a different SKU from the single) plus shade codes (#01, 02自然色) and model codes
   (A12 ≠ B30). Two listings link when they agree on every dimension the family varies on and
   their per-unit prices sit inside a band; any known disagreement is a cannot-link;
4. a listing that says nothing about a dimension its family varies on (Pinduoduo titles often
   carry no spec) joins the one compatible SKU whose price is clearly nearest, or waits in the
   review queue when two are equally near — never a guess that could merge two SKUs.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

import pyarrow as pa
from rapidfuzz.distance import LCSseq

from ecfusion.resolve.graph import Constraints, cluster
from ecfusion.standardize.normalize.spec import clean_title
from ecfusion.standardize.normalize.spec import parse_spec as parse_size

MATCH_SCORE = 88.0
REVIEW_SCORE = 75.0
PRICE_BAND = 1.8
FAMILY_SIMILARITY = 0.9  # shared characters in order / length of the shorter cleaned title
NEAREST_MARGIN = 0.5  # the nearest SKU's price distance must be under half the runner-up's
_MODEL = re.compile(r"\b([A-Z]{1,3}-?\d{2,5}[A-Z]?)\b")
_SHADE = re.compile(r"#\s*(\d{1,3})|(?<![\d.])(0\d{1,2})(?=[\u4e00-\u9fff])")
_SHADE_WORD = re.compile(r"#\s*\d{1,3}[\u4e00-\u9fff]{0,4}|(?<![\d.])0\d{1,2}[\u4e00-\u9fff]{0,4}")
_NON_CORE = re.compile(r"[^\u4e00-\u9fff]+")
_SPEC_LABEL = re.compile(r"[^:：;；,，/\s]+[:：]")
_WORDS = re.compile(r"[\s;；,，/*×x]+")


@dataclass(frozen=True)
class Spec:
    """What a listing says about its sellable unit; None / empty where it says nothing."""

    capacity: tuple[float, str] | None  # (value in ml or g, "ml" | "g")
    pack: int | None  # units in the pack when the listing says (3支装, *3), else None
    shades: frozenset[str]  # shade / colour codes: "1" for #01, "101" for #101
    variant: frozenset[str]  # named variant words of the spec text (透明色, 栀子)
    model: str | None
    core: str  # the product words of the title: Chinese characters after cleanup

    @property
    def block(self) -> str:
        cap = f"{self.capacity[0]:g}{self.capacity[1]}" if self.capacity else "?"
        return f"{cap}|{self.pack or 1}"

    @property
    def unit_count(self) -> int:
        return self.pack or 1


def _sizes(text: str) -> tuple[tuple[float, str] | None, int | None, str]:
    """Capacity, pack count (None unless more than one: 1支 says no more than silence) and the text
    left once every size fragment (a second capacity too: 3支装 #101 4克) is taken out."""
    capacity, pack, rest = None, None, text
    for _ in range(3):
        size = parse_size(rest)
        if not size.raw:
            break
        if capacity is None and size.capacity_value is not None and size.capacity_unit:
            capacity = (size.capacity_value, size.capacity_unit)
        if pack is None and size.pack_count > 1:
            pack = size.pack_count
        for fragment in size.raw.split():
            rest = rest.replace(fragment, " ", 1)
    return capacity, pack, rest


def parse_spec(title: str | None, spec_text: str | None = None) -> Spec:
    """Capacity, pack, shade and model codes, named variant and product words of a listing."""
    title, spec_text = title or "", spec_text or ""
    capacity, pack, rest = _sizes(f"{title} {spec_text}")
    shades = frozenset(str(int(a or b)) for a, b in _SHADE.findall(rest))
    model = _MODEL.search(title.upper())
    variant_text = _SHADE_WORD.sub(" ", _sizes(_SPEC_LABEL.sub(" ", spec_text))[2])
    variant = frozenset(w for w in _WORDS.split(clean_title(variant_text)) if w and not w.isdigit())
    core_text = _SHADE_WORD.sub(" ", clean_title(title))
    for word in variant:
        core_text = core_text.replace(word, " ")
    core = _NON_CORE.sub("", _sizes(core_text)[2])
    if pack is None and (capacity or shades or variant):
        pack = 1  # a listing that states its size or shade but no count is the single item
    return Spec(capacity, pack, shades, variant, model.group(1) if model else None, core)


def _category_leaf(path: str | None) -> str | None:
    if not path:
        return None
    return re.split(r"[>/|\\]", path)[-1].strip() or None


@dataclass(frozen=True)
class ListingPair:
    left: str
    right: str
    method: str  # "rule" | "similarity"
    reason: str
    score: float
    evidence: str


def _price_distance(a: dict, b: dict, sa: Spec, sb: Spec) -> float | None:
    """|log| of the price ratio (per unit when both packs are known); None when a price is missing."""
    pa_, pb = a["price"], b["price"]
    if not pa_ or not pb or pa_ <= 0 or pb <= 0:
        return None
    if sa.pack and sb.pack:
        pa_, pb = pa_ / sa.pack, pb / sb.pack
    return abs(math.log(pa_ / pb))


def _pairs_on_key(rows: list[dict], column: str, reason: str) -> list[ListingPair]:
    groups: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r[column] and r[column].strip():
            groups[r[column].strip()].append(r["listing_key"])
    out = []
    for value, keys in groups.items():
        keys.sort()
        for other in keys[1:]:
            out.append(ListingPair(keys[0], other, "rule", reason, 100.0, json.dumps({column: value})))
    return out


def _same_item_pairs(rows: list[dict]) -> list[tuple[str, str]]:
    """Every pair of SKUs under one platform item: variants of an item are different SKUs."""
    items: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        if r["item_id"]:
            items[(r["platform"], r["item_id"])].append(r["listing_key"])
    return [(a, b) for keys in items.values() for i, a in enumerate(keys) for b in keys[i + 1 :]]


def same_family(sa: Spec, sb: Spec) -> bool:
    """The same product (any size or shade): most characters of the shorter title in order."""
    short = min(len(sa.core), len(sb.core))
    if short < 3:
        return False
    return LCSseq.similarity(sa.core, sb.core) / short >= FAMILY_SIMILARITY


def conflicts(a: dict, b: dict, sa: Spec, sb: Spec) -> list[str]:
    """The dimensions on which two listings of one family are known to differ."""
    out = []
    if sa.capacity and sb.capacity and sa.capacity != sb.capacity:
        out.append("capacity")
    if sa.pack and sb.pack and sa.pack != sb.pack:
        out.append("pack")
    if sa.shades and sb.shades and not sa.shades & sb.shades:
        out.append("shade")
    if sa.variant and sb.variant and not sa.variant & sb.variant and not sa.shades & sb.shades:
        out.append("variant")
    if sa.model and sb.model and sa.model != sb.model:
        out.append("model")
    if a["barcode"] and b["barcode"] and a["barcode"].strip() != b["barcode"].strip():
        out.append("barcode")
    if a["platform"] == b["platform"] and a["item_id"] and a["item_id"] == b["item_id"]:
        out.append("same item")
    la, lb = _category_leaf(a["category_path"]), _category_leaf(b["category_path"])
    if la and lb and la != lb:
        out.append("category")
    distance = _price_distance(a, b, sa, sb)
    if distance is not None and distance > math.log(PRICE_BAND):
        out.append("price")
    return out


def _varying(members: list[dict], specs: dict[str, Spec]) -> set[str]:
    """The dimensions on which a family's listings take more than one known value."""
    values: dict[str, set[object]] = defaultdict(set)
    for r in members:
        s = specs[r["listing_key"]]
        if s.capacity:
            values["capacity"].add(s.capacity)
        values["pack"].add(s.pack or 1)
        if s.shades or s.variant:
            values["shade"].add(s.shades or s.variant)
    return {k for k, v in values.items() if len(v) > 1}


def _knows(s: Spec, dims: set[str]) -> bool:
    """The listing states every dimension its family varies on."""
    return (
        ("capacity" not in dims or s.capacity is not None)
        and ("pack" not in dims or s.pack is not None)
        and ("shade" not in dims or bool(s.shades or s.variant))
    )


def decoration_words(pairs: list[tuple[str, str]], *, min_seen: int = 2) -> list[str]:
    """Title words the merchant's own strong keys show to be decoration.

    Two listings linked by barcode or outer SKU code are one SKU, so whatever their product words
    do not share (热卖提亮肤色 on one, 持久 on the other) is selling talk of that platform. A
    fragment seen in at least ``min_seen`` such pairs is stripped from every title before titles
    are compared; longest first, so a long phrase goes before a word inside it.
    """
    seen: dict[str, int] = defaultdict(int)
    for a, b in pairs:
        pos_a = pos_b = 0
        for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
            for gap in (a[pos_a : block.a], b[pos_b : block.b]):
                if len(gap) >= 2:
                    seen[gap] += 1
            pos_a, pos_b = block.a + block.size, block.b + block.size
    return sorted((w for w, n in seen.items() if n >= min_seen), key=len, reverse=True)


def _strip_decoration(specs: dict[str, Spec], rules: list[ListingPair]) -> None:
    words = decoration_words([(specs[p.left].core, specs[p.right].core) for p in rules])
    if not words:
        return
    pattern = re.compile("|".join(re.escape(w) for w in words))
    for key, s in specs.items():
        core = pattern.sub("", s.core)
        if len(core) >= 3:  # never strip a title down to nothing comparable
            specs[key] = replace(s, core=core)


def _families(rows: list[dict], specs: dict[str, Spec]) -> list[list[dict]]:
    """Connected groups of listings whose titles name the same product."""
    keys = [r["listing_key"] for r in rows]
    edges = []
    by_head: dict[str, list[dict]] = defaultdict(list)
    for r in rows:  # block on the first two product characters (the brand, usually)
        by_head[specs[r["listing_key"]].core[:2]].append(r)
    for block in by_head.values():
        for i, a in enumerate(block):
            for b in block[i + 1 :]:
                if same_family(specs[a["listing_key"]], specs[b["listing_key"]]):
                    edges.append((a["listing_key"], b["listing_key"], "rule", 1.0))
    roots, _ = cluster(keys, edges, Constraints())
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[roots[r["listing_key"]]].append(r)
    return list(groups.values())


def _learn_variants(members: list[dict], specs: dict[str, Spec]) -> None:
    """A listing whose title names a variant of its family (JD puts 杏色 in the title, others in the
    spec text) takes that variant: the family's own spec texts are the vocabulary."""
    words = {w for r in members for w in specs[r["listing_key"]].variant}
    for r in members:
        s = specs[r["listing_key"]]
        if s.variant or s.shades or not words:
            continue
        found = frozenset(w for w in words if w in clean_title(r["title"]))
        if len(found) == 1:
            specs[r["listing_key"]] = replace(
                s, variant=found, core=s.core.replace(next(iter(found)), ""), pack=s.pack or 1
            )


def _direct_pairs(
    members: list[dict], specs: dict[str, Spec], known_keys: set[str], dims: set[str]
) -> tuple[list[ListingPair], list[tuple[str, str]]]:
    """Links between listings that state every varying dimension alike; cannot-links on conflicts."""
    pairs: list[ListingPair] = []
    cannot: list[tuple[str, str]] = []
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            ka, kb = a["listing_key"], b["listing_key"]
            why = conflicts(a, b, specs[ka], specs[kb])
            if why:
                if set(why) - {"price"}:  # price alone is doubt, not proof of a different SKU
                    cannot.append((ka, kb))
                continue
            if ka in known_keys and kb in known_keys:
                evidence = {"family": True, "agree": sorted(dims) or ["single sku"]}
                pairs.append(ListingPair(ka, kb, "similarity", "title+spec", 95.0, json.dumps(evidence)))
    return pairs, cannot


def _attach_vague(
    vague: list[dict],
    groups: list[list[dict]],
    specs: dict[str, Spec],
    banned: set[tuple[str, str]],
    dims: set[str],
) -> list[ListingPair]:
    """Each listing silent on a varying dimension joins the SKU whose price is clearly nearest.

    A group the listing may not join (a sibling SKU of its own item) still competes: when it is
    nearest, or nearly so, price cannot tell which SKU this is, and nothing is linked.
    """
    pairs = []
    for u in vague:
        ku = u["listing_key"]
        options = []
        for group in groups:
            allowed = not any((ku, g["listing_key"]) in banned for g in group)
            distances = [_price_distance(u, g, specs[ku], specs[g["listing_key"]]) for g in group]
            d = min((x for x in distances if x is not None), default=None)
            if d is not None and d <= math.log(PRICE_BAND):
                options.append((d, not allowed, group[0]["listing_key"]))
        options.sort()
        if not options or options[0][1]:
            continue
        best_d, _banned, best = options[0]
        clear = len(options) == 1 or best_d < NEAREST_MARGIN * options[1][0]
        evidence: dict[str, object] = {
            "family": True,
            "silent_on": sorted(dims),
            "price_distance": round(best_d, 3),
        }
        if len(options) > 1:
            evidence["runner_up_distance"] = round(options[1][0], 3)
        score = 90.0 if clear else 80.0  # an unclear nearest goes to the review queue
        pairs.append(ListingPair(ku, best, "similarity", "title+price", score, json.dumps(evidence)))
    return pairs


def _family_pairs(
    members: list[dict], specs: dict[str, Spec], rule_pairs: list[ListingPair]
) -> tuple[list[ListingPair], list[tuple[str, str]]]:
    """Similarity pairs and cannot-links inside one product family."""
    _learn_variants(members, specs)
    dims = _varying(members, specs)
    known = [r for r in members if _knows(specs[r["listing_key"]], dims)]
    vague = [r for r in members if not _knows(specs[r["listing_key"]], dims)]
    pairs, cannot = _direct_pairs(members, specs, {r["listing_key"] for r in known}, dims)
    constraints = Constraints()
    for left, right in cannot:
        constraints.forbid(left, right)
    edges = [(p.left, p.right, p.method, p.score) for p in rule_pairs + pairs]
    roots, _ = cluster([r["listing_key"] for r in known], edges, constraints)
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in known:
        groups[roots[r["listing_key"]]].append(r)
    banned = set(cannot) | {(b, a) for a, b in cannot}
    pairs += _attach_vague(vague, list(groups.values()), specs, banned, dims)
    return pairs, cannot


def listing_pairs(listings: pa.Table) -> tuple[list[ListingPair], list[tuple[str, str]], dict[str, Spec]]:
    """Rule pairs, similarity pairs (score ≥ REVIEW_SCORE) and cannot-link pairs."""
    rows = listings.select(
        ["platform", "item_id"]
        + ["listing_key", "barcode", "outer_sku_code", "title", "spec_text", "price", "category_path"]
    ).to_pylist()
    for r in rows:
        r["price"] = float(r["price"]) if r["price"] is not None else None
    specs = {r["listing_key"]: parse_spec(r["title"], r["spec_text"]) for r in rows}
    rules = _pairs_on_key(rows, "barcode", "barcode")
    rules += _pairs_on_key(rows, "outer_sku_code", "outer_sku_code")
    pairs = list(rules)
    cannot = _same_item_pairs(rows)
    _strip_decoration(specs, rules)
    for members in _families(rows, specs):
        if len(members) < 2:
            continue
        inside = {r["listing_key"] for r in members}
        family_rules = [p for p in rules if p.left in inside and p.right in inside]
        more, never = _family_pairs(members, specs, family_rules)
        pairs += more
        cannot += never
    return pairs, cannot, specs
