"""Products → standard SKU (T/JNBDA 0003-2025 6.1.3, product side of 4.3.6 b).

Listings of one product on four platforms carry four titles. A standard SKU (std_sku_id) groups
the listings that are the same sellable unit:

1. strong keys first — the same barcode, or the same merchant outer SKU code, links listings;
   two *different* barcodes keep listings apart whatever their titles say;
2. then similarity of titles within a block of equal spec: capacity normalized to ml or g
   (500ml = 0.5L = 500毫升), pack count (3支装 is a bundle, a different SKU from the single item),
   model codes (A12 ≠ B30), brand and product words compared with a token-set ratio;
3. sanity: category leaf agreement and a price ratio inside a band (per unit of pack).

Spec parsing prefers the normalizer library (``ecfusion.standardize.normalize.parse_spec``) when
installed; the local parser below covers capacity, unit and pack count only.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass

import pyarrow as pa
from rapidfuzz import fuzz

MATCH_SCORE = 88.0
REVIEW_SCORE = 75.0
PRICE_BAND = 1.8
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "八": 8, "十": 10}
_CAPACITY = re.compile(r"(\d+(?:\.\d+)?)\s*(ml|毫升|l|升|g|克|kg|千克|公斤)(?![a-z])", re.I)
_PACK = re.compile(
    r"(?:(\d+|[一二两三四五六八十])\s*(?:支|瓶|盒|袋|罐|件|包|片)\s*装)|(?:[x×*]\s*(\d+)(?!\d*\s*(?:ml|g)))",
    re.I,
)
_MODEL = re.compile(r"\b([A-Z]{1,3}-?\d{2,5}[A-Z]?)\b")
_NOISE = re.compile(r"【[^】]*】|\[[^\]]*\]|官方|旗舰店|正品|包邮|新品|限时|秒杀|直播专享|专享|特价|热卖")
_UNIT_ML = {
    "ml": 1.0,
    "毫升": 1.0,
    "l": 1000.0,
    "升": 1000.0,
    "g": 1.0,
    "克": 1.0,
    "kg": 1000.0,
    "千克": 1000.0,
    "公斤": 1000.0,
}
_UNIT_DIM = {
    "ml": "ml",
    "毫升": "ml",
    "l": "ml",
    "升": "ml",
    "g": "g",
    "克": "g",
    "kg": "g",
    "千克": "g",
    "公斤": "g",
}


@dataclass(frozen=True)
class Spec:
    """What a title says about the sellable unit."""

    capacity: float | None  # in ml or g
    dimension: str | None  # "ml" | "g"
    pack: int
    model: str | None
    core: str  # the title without promotion words, spec and model: brand and product words
    variant: frozenset[str] = frozenset()  # variant words of the spec text (colour, scent, shade)

    @property
    def block(self) -> str:
        cap = f"{self.capacity:g}{self.dimension}" if self.capacity else "?"
        return f"{cap}|{self.pack}"


def parse_spec(title: str, spec_text: str | None = None) -> Spec:
    """Capacity with unit normalization, pack count and model code from a listing title."""
    text = f"{title or ''} {spec_text or ''}"
    cap, dim = None, None
    m = _CAPACITY.search(text)
    if m:
        unit = m.group(2).lower()
        cap, dim = round(float(m.group(1)) * _UNIT_ML[unit], 3), _UNIT_DIM[unit]
    pack = 1
    p = _PACK.search(title or "")
    if p:
        raw = p.group(1) or p.group(2)
        pack = int(raw) if raw.isdigit() else _CN_NUM.get(raw, 1)
    model_m = _MODEL.search(title or "")
    core = _NOISE.sub(" ", title or "")
    core = _CAPACITY.sub(" ", core)
    core = _PACK.sub(" ", core)
    if model_m:
        core = core.replace(model_m.group(1), " ")
    core = re.sub(r"\s+", "", core).lower()
    return Spec(
        cap, dim, max(pack, 1), model_m.group(1) if model_m else None, core, _variant_words(spec_text)
    )


def _variant_words(spec_text: str | None) -> frozenset[str]:
    """Words of the spec text that are not capacity or pack count: 黑色, 栀子, 01号 …"""
    if not spec_text:
        return frozenset()
    rest = _PACK.sub(" ", _CAPACITY.sub(" ", spec_text))
    rest = re.sub(r"[^:：;；,，/\s]+[:：]", " ", rest)  # attribute names such as 规格: 颜色:
    return frozenset(w for w in re.split(r"[\s;；,，/]+", rest.lower()) if w)


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


def _price_ok(a: float | None, b: float | None) -> bool:
    if not a or not b or a <= 0 or b <= 0:
        return True
    return abs(math.log(a / b)) <= math.log(PRICE_BAND)


def _pairs_on_key(rows: list[dict], column: str, reason: str) -> list[ListingPair]:
    groups: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r[column]:
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


def _distinct_skus(a: dict, b: dict) -> bool:
    """Two SKUs of one platform item, or two different barcodes, are never the same standard SKU."""
    if a["platform"] == b["platform"] and a["item_id"] == b["item_id"] and a["item_id"]:
        return True
    return bool(a["barcode"] and b["barcode"] and a["barcode"].strip() != b["barcode"].strip())


def score_pair(a: dict, b: dict, sa: Spec, sb: Spec) -> tuple[float, dict[str, object]]:
    """Title/spec similarity of two listings in the same spec block, 0–100, with its evidence."""
    title = fuzz.token_set_ratio(sa.core, sb.core)
    partial = fuzz.ratio(sa.core, sb.core)
    score = 0.6 * title + 0.4 * partial
    evidence: dict[str, object] = {"title": round(title, 1), "title_ratio": round(partial, 1)}
    if sa.variant and sb.variant and not sa.variant & sb.variant:
        evidence["variant"] = False
        score = 0.0
    if sa.model and sb.model:
        agree = sa.model == sb.model
        evidence["model"] = agree
        score = score + 8 if agree else 0.0
    la, lb = _category_leaf(a["category_path"]), _category_leaf(b["category_path"])
    if la and lb:
        evidence["category"] = la == lb
        if la != lb:
            score -= 15
    if not _price_ok(a["price"], b["price"]):
        evidence["price"] = "out of band"
        score -= 30
    return max(0.0, min(100.0, score)), evidence


def listing_pairs(listings: pa.Table) -> tuple[list[ListingPair], list[tuple[str, str]], dict[str, Spec]]:
    """Rule pairs, similarity pairs (score ≥ REVIEW_SCORE) and cannot-link pairs (different barcodes)."""
    rows = listings.select(
        ["platform", "item_id"]
        + ["listing_key", "barcode", "outer_sku_code", "title", "spec_text", "price", "category_path"]
    ).to_pylist()
    for r in rows:
        r["price"] = float(r["price"]) if r["price"] is not None else None
    specs = {r["listing_key"]: parse_spec(r["title"], r["spec_text"]) for r in rows}
    pairs = _pairs_on_key(rows, "barcode", "barcode") + _pairs_on_key(
        rows, "outer_sku_code", "outer_sku_code"
    )
    blocks: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        blocks[specs[r["listing_key"]].block].append(r)
    cannot = _same_item_pairs(rows)
    for members in blocks.values():
        members.sort(key=lambda r: r["listing_key"])
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                ka, kb = a["listing_key"], b["listing_key"]
                if _distinct_skus(a, b):
                    if a["barcode"] and b["barcode"]:
                        cannot.append((ka, kb))
                    continue
                score, evidence = score_pair(a, b, specs[ka], specs[kb])
                if score >= REVIEW_SCORE:
                    pairs.append(
                        ListingPair(
                            ka,
                            kb,
                            "similarity",
                            "title+spec",
                            score,
                            json.dumps(evidence, ensure_ascii=False),
                        )
                    )
    return pairs, cannot, specs
