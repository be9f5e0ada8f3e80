"""The simulated brand's products and their listings on every platform.

Serves issue 2 (Build §3, "Products") and the evaluation of standard-SKU alignment
(T/JNBDA 0003-2025 clause 6.1.3): about two hundred standard SKUs (SPU + spec variants and
bundles), each listed on several platforms under a different title, SKU code and price; some carry
a GTIN-13 barcode (69…), some only the merchant's outer SKU code, some neither; specs are written
differently on different platforms (500ml / 0.5L, 50g / 50克). Truth: ``truth/products.jsonl`` and
``truth/listings.csv``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ecfusion.simulate.checkdigits import gtin13_check_digit

BRAND = "青岚"
BRAND_EN = "QINGLAN"
COMPANY_PREFIX = "6975321"  # a GS1 China company prefix (69…), invented for the simulated brand

# (SPU name, category path, [(spec value, unit, quantity-in-ml-or-g, base price fen)], bundle counts)
_SPUS: tuple[tuple[str, str, tuple[tuple[int, str, int], ...], tuple[int, ...]], ...] = (
    (
        "玻尿酸补水精华液",
        "美妆护肤/面部精华",
        ((30, "ml", 19900), (50, "ml", 29900), (100, "ml", 49900)),
        (2,),
    ),
    ("烟酰胺亮肤精华", "美妆护肤/面部精华", ((30, "ml", 22900), (50, "ml", 33900)), (2,)),
    ("视黄醇抗皱精华", "美妆护肤/面部精华", ((30, "ml", 25900),), ()),
    ("寡肽修护安瓶", "美妆护肤/面部精华", ((14, "支", 15900), (28, "支", 28900)), ()),
    ("胶原蛋白紧致面霜", "美妆护肤/面霜", ((50, "g", 26900), (30, "g", 17900)), (2,)),
    ("积雪草舒缓面霜", "美妆护肤/面霜", ((50, "g", 16900),), (2,)),
    ("神经酰胺屏障霜", "美妆护肤/面霜", ((50, "g", 18900), (80, "g", 26900)), ()),
    ("氨基酸温和洁面乳", "美妆护肤/洁面", ((100, "g", 6900), (150, "g", 8900)), (2, 3)),
    ("净透控油洁面泡沫", "美妆护肤/洁面", ((150, "ml", 7900),), (3,)),
    ("水光保湿爽肤水", "美妆护肤/化妆水", ((150, "ml", 12900), (300, "ml", 19900), (500, "ml", 29900)), ()),
    ("清爽平衡柔肤水", "美妆护肤/化妆水", ((200, "ml", 9900), (500, "ml", 18900)), ()),
    ("柔润保湿乳液", "美妆护肤/乳液", ((100, "ml", 13900), (150, "ml", 17900)), ()),
    ("多肽淡纹眼霜", "美妆护肤/眼霜", ((15, "g", 19900), (20, "g", 24900)), (2,)),
    ("咖啡因眼部精华", "美妆护肤/眼霜", ((15, "ml", 15900),), ()),
    ("补水保湿面膜", "美妆护肤/面膜", ((5, "片", 6900), (10, "片", 12900), (20, "片", 21900)), ()),
    ("清洁泥膜", "美妆护肤/面膜", ((100, "g", 9900),), (2,)),
    ("睡眠晚安冻膜", "美妆护肤/面膜", ((80, "ml", 11900),), ()),
    ("清透防晒霜SPF50", "美妆护肤/防晒", ((50, "ml", 12900), (30, "ml", 8900)), (2, 3)),
    ("户外防晒喷雾", "美妆护肤/防晒", ((150, "ml", 9900),), (2,)),
    ("温和卸妆油", "美妆护肤/卸妆", ((200, "ml", 11900), (500, "ml", 22900)), ()),
    ("卸妆水", "美妆护肤/卸妆", ((400, "ml", 8900), (500, "ml", 9900)), (3,)),
    ("丝绒哑光口红", "彩妆/唇部", ((3, "g", 12900),), (3,)),
    ("水润唇釉", "彩妆/唇部", ((4, "g", 11900),), (3,)),
    ("润唇膏", "彩妆/唇部", ((4, "g", 3900),), (3, 5)),
    ("持妆粉底液", "彩妆/底妆", ((30, "ml", 19900),), ()),
    ("气垫BB霜", "彩妆/底妆", ((15, "g", 16900),), (2,)),
    ("定妆散粉", "彩妆/底妆", ((8, "g", 12900),), ()),
    ("浓密睫毛膏", "彩妆/眼部", ((8, "g", 9900),), (2,)),
    ("极细眉笔", "彩妆/眼部", ((1, "支", 4900),), (3,)),
    ("香氛身体乳", "身体护理/身体乳", ((250, "ml", 8900), (500, "ml", 13900)), (2,)),
    ("烟酰胺沐浴露", "身体护理/沐浴", ((500, "ml", 6900), (1000, "ml", 11900)), (2,)),
    ("护手霜", "身体护理/手部", ((30, "g", 2900), (50, "g", 3900)), (3, 5)),
    ("氨基酸洗发水", "洗护/洗发", ((500, "ml", 7900), (750, "ml", 10900)), (2,)),
    ("修护护发素", "洗护/护发", ((500, "ml", 7900),), (2,)),
    ("头皮精华液", "洗护/头皮", ((60, "ml", 15900),), ()),
    ("男士控油洁面", "男士护理/洁面", ((120, "g", 6900),), (2,)),
    ("男士保湿乳", "男士护理/乳液", ((100, "ml", 11900),), ()),
    ("焕颜护肤套装", "美妆护肤/套装", ((4, "件", 49900), (6, "件", 69900)), ()),
    ("旅行装体验套装", "美妆护肤/套装", ((5, "件", 9900),), ()),
    ("精华油", "美妆护肤/面部精华", ((30, "ml", 21900),), ()),
    ("小棕瓶修护精华", "美妆护肤/面部精华", ((50, "ml", 39900), (75, "ml", 52900), (100, "ml", 65900)), ()),
    ("紧致提拉面膜", "美妆护肤/面膜", ((6, "片", 15900),), (3,)),
    ("美白淡斑精华", "美妆护肤/面部精华", ((40, "ml", 32900),), (2,)),
    ("舒缓修护喷雾", "美妆护肤/化妆水", ((150, "ml", 8900), (300, "ml", 13900)), ()),
    ("洁颜粉", "美妆护肤/洁面", ((50, "g", 8900),), (2,)),
    ("身体磨砂膏", "身体护理/身体乳", ((200, "g", 7900),), ()),
    ("止汗香体露", "身体护理/止汗", ((50, "ml", 4900),), (2, 3)),
    ("眼部卸妆液", "美妆护肤/卸妆", ((120, "ml", 6900),), (2,)),
    ("去角质凝胶", "美妆护肤/洁面", ((100, "g", 7900),), ()),
    ("高保湿面霜", "美妆护肤/面霜", ((50, "g", 21900), (100, "g", 36900)), ()),
    ("控油蜜粉饼", "彩妆/底妆", ((10, "g", 13900),), ()),
    ("遮瑕液", "彩妆/底妆", ((6, "ml", 9900),), (2,)),
    ("腮红", "彩妆/脸部", ((5, "g", 8900),), ()),
    ("高光修容盘", "彩妆/脸部", ((10, "g", 12900),), ()),
    ("眼影盘", "彩妆/眼部", ((12, "g", 16900),), ()),
    ("眼线笔", "彩妆/眼部", ((1, "支", 5900),), (2, 3)),
    ("香水", "香水/女士香水", ((30, "ml", 29900), (50, "ml", 42900), (100, "ml", 69900)), ()),
    ("洗面奶", "美妆护肤/洁面", ((120, "ml", 5900),), (2, 3)),
    ("发膜", "洗护/护发", ((200, "ml", 8900), (500, "ml", 15900)), ()),
    ("精油洗发露", "洗护/洗发", ((400, "ml", 8900), (800, "ml", 14900)), ()),
    ("抗初老精华水", "美妆护肤/化妆水", ((120, "ml", 18900),), ()),
    ("紧致眼膜", "美妆护肤/眼霜", ((60, "片", 9900),), (2,)),
    ("修护晚霜", "美妆护肤/面霜", ((50, "g", 23900),), ()),
    ("隔离霜", "彩妆/底妆", ((40, "ml", 11900),), (2,)),
    ("唇部磨砂膏", "彩妆/唇部", ((15, "g", 4900),), ()),
)

# Shades (色号) of colour cosmetics: each shade is its own standard SKU.
SHADES: dict[str, tuple[str, ...]] = {
    "丝绒哑光口红": ("#01正红", "#02豆沙", "#03枫叶红", "#04番茄红", "#05奶茶", "#06烂番茄"),
    "水润唇釉": ("#101蜜桃", "#102玫瑰", "#103焦糖", "#104复古红"),
    "润唇膏": ("无色", "樱桃"),
    "持妆粉底液": ("01象牙白", "02自然色", "03小麦色"),
    "气垫BB霜": ("00亮白", "01象牙白", "02自然色"),
    "眼影盘": ("大地色", "蜜桃粉", "烟熏"),
    "腮红": ("蜜桃", "玫瑰", "杏色"),
    "遮瑕液": ("01亮肤", "02自然"),
    "极细眉笔": ("灰棕", "深棕", "浅咖"),
    "眼线笔": ("黑色", "棕色"),
    "隔离霜": ("绿色", "紫色"),
    "定妆散粉": ("透明色", "自然色"),
    "香水": ("白茶", "栀子", "雪松"),
}
# Travel minis (旅行装) offered for the best sellers.
MINIS: dict[str, tuple[int, str, int]] = {
    "玻尿酸补水精华液": (5, "ml", 2900),
    "小棕瓶修护精华": (7, "ml", 4900),
    "胶原蛋白紧致面霜": (15, "g", 6900),
    "水光保湿爽肤水": (30, "ml", 2900),
    "柔润保湿乳液": (30, "ml", 2900),
    "温和卸妆油": (50, "ml", 2900),
    "氨基酸洗发水": (100, "ml", 1900),
    "香氛身体乳": (50, "ml", 1500),
    "清透防晒霜SPF50": (10, "ml", 1900),
    "多肽淡纹眼霜": (5, "g", 4900),
}

PLATFORM_SHARE_OF_LISTING: dict[str, float] = {"taobao": 0.98, "jd": 0.8, "pdd": 0.6, "douyin": 0.75}
# Relative price level per platform (PDD sells cheaper; Douyin runs livestream prices).
PLATFORM_PRICE_LEVEL: dict[str, float] = {"taobao": 1.0, "jd": 1.02, "pdd": 0.88, "douyin": 0.93}

MARKETING_WORDS = (
    "正品",
    "官方",
    "补水保湿",
    "提亮肤色",
    "修护",
    "敏感肌可用",
    "热卖",
    "新品",
    "限时特惠",
    "送礼",
    "学生党",
    "网红同款",
    "收缩毛孔",
    "水润",
    "持久",
)


@dataclass(frozen=True, slots=True)
class Product:
    """One standard SKU (the truth the listings must be aligned to)."""

    product_id: str
    std_sku_code: str
    spu_code: str
    spu_name: str
    category: str
    amount: int  # ml / g / pieces in ONE unit
    unit: str
    pack: int  # 1, or the count of a bundle (3支装)
    barcode: str  # GTIN-13, or ""
    outer_code: str  # merchant outer SKU code, or ""
    price_fen: int
    shade: str = ""

    @property
    def spec(self) -> str:
        base = f"{self.amount}{self.unit}" + (f" {self.shade}" if self.shade else "")
        return base if self.pack == 1 else f"{base}*{self.pack}"

    def name(self) -> str:
        return f"{BRAND}{self.spu_name} {self.spec}"

    def truth_record(self) -> dict[str, object]:
        return {
            "product_id": self.product_id,
            "std_sku_code": self.std_sku_code,
            "spu_code": self.spu_code,
            "name": self.name(),
            "spu_name": self.spu_name,
            "category": self.category,
            "amount": self.amount,
            "unit": self.unit,
            "pack": self.pack,
            "barcode": self.barcode,
            "outer_code": self.outer_code,
            "price_fen": self.price_fen,
            "shade": self.shade,
        }


@dataclass(frozen=True, slots=True)
class Listing:
    """One platform SKU: the product as one platform lists it."""

    platform: str
    item_id: str
    sku_id: str
    product: Product
    title: str  # the item (SPU) title on that platform
    spec_text: str  # the SKU's spec as that platform writes it
    outer_sku_id: str  # what the merchant typed in the platform's outer code field ("" if nothing)
    barcode: str
    price_fen: int


@dataclass(slots=True)
class Catalog:
    products: list[Product]
    listings: dict[str, list[Listing]]  # per platform

    def items(self, platform: str) -> list[list[Listing]]:
        """The platform's listings grouped into items (one item = one SPU, its SKUs in order)."""
        groups: dict[str, list[Listing]] = {}
        for listing in self.listings[platform]:
            groups.setdefault(listing.item_id, []).append(listing)
        return list(groups.values())


def build_catalog(seed: int) -> Catalog:
    r = random.Random(f"ecfusion-catalog-{seed}")
    products = _build_products(r)
    listings = {p: _build_listings(r, p, products) for p in PLATFORM_SHARE_OF_LISTING}
    return Catalog(products, listings)


def _build_products(r: random.Random) -> list[Product]:
    products: list[Product] = []
    for s, (spu_name, category, variants, bundles) in enumerate(_SPUS, start=1):
        spu_code = f"QL{s:03d}"
        mini = MINIS.get(spu_name)
        for v, (amount, unit, price) in enumerate(variants + ((mini,) if mini else ()), start=1):
            packs = (1,) + (bundles if v == 1 else ())
            for pack, shade in [(p, sh) for p in packs for sh in SHADES.get(spu_name, ("",))]:
                n = len(products) + 1
                u = r.random()
                barcode = _gtin(n) if u < 0.6 else ""
                shade_code = f"-{SHADES[spu_name].index(shade) + 1:02d}" if shade else ""
                outer = (
                    f"{spu_code}-{v:02d}{shade_code}" + (f"-X{pack}" if pack > 1 else "") if u < 0.85 else ""
                )
                bundle_price = price * pack * (90 if pack > 1 else 100) // 100
                products.append(
                    Product(
                        product_id=f"SKU{n:05d}",
                        std_sku_code=f"QL{n:05d}",
                        spu_code=spu_code,
                        spu_name=spu_name,
                        category=category,
                        amount=amount,
                        unit=unit,
                        pack=pack,
                        barcode=barcode,
                        outer_code=outer,
                        price_fen=bundle_price,
                        shade=shade,
                    )
                )
    return products


def _gtin(n: int) -> str:
    body = f"{COMPANY_PREFIX}{n:05d}"
    return body + gtin13_check_digit(body)


def spec_text(platform: str, product: Product, r: random.Random) -> str:
    """The spec as a platform writes it: 500ml / 0.5L / 500毫升, 50g / 50克, bundles as 3支装 / *3."""
    amount, unit = product.amount, product.unit
    if unit == "ml" and amount >= 500 and r.random() < 0.5:
        base = f"{amount / 1000:g}L"
    elif unit == "ml" and r.random() < 0.2:
        base = f"{amount}毫升"
    elif unit == "g" and r.random() < 0.25:
        base = f"{amount}克"
    elif unit == "ml" and platform == "jd" and r.random() < 0.5:
        base = f"{amount}mL"
    else:
        base = f"{amount}{unit}"
    if product.shade:
        base = r.choice((f"{base} {product.shade}", f"{product.shade} {base}", product.shade))
    if product.pack > 1:
        word = "支" if unit in ("g", "ml", "支") else "盒"
        base = r.choice(
            (f"{base}*{product.pack}", f"{base} {product.pack}{word}装", f"{product.pack}{word}装 {base}")
        )
    return base


def _title(platform: str, spu_name: str, r: random.Random) -> str:
    words = r.sample(MARKETING_WORDS, 2)
    shop = {"taobao": "官方旗舰店", "jd": "京东自营", "pdd": "品牌直营", "douyin": "直播间专享"}[platform]
    style = r.random()
    if style < 0.3:
        return f"【{words[0]}】{BRAND}{spu_name}{words[1]}"
    if style < 0.55:
        return f"{BRAND}/{BRAND_EN} {spu_name} {words[0]} {words[1]} {shop}"
    if style < 0.8:
        return f"{BRAND}{spu_name}女{words[0]}{words[1]}正品"
    return f"【{shop}】{BRAND_EN} {BRAND}{spu_name}"


def _build_listings(r: random.Random, platform: str, products: list[Product]) -> list[Listing]:
    out: list[Listing] = []
    by_spu: dict[str, list[Product]] = {}
    for p in products:
        by_spu.setdefault(p.spu_code, []).append(p)
    level = PLATFORM_PRICE_LEVEL[platform]
    for spu_code, group in by_spu.items():
        if r.random() > PLATFORM_SHARE_OF_LISTING[platform]:
            continue
        item_id = _item_id(platform, r)
        title = _title(platform, group[0].spu_name, r)
        for p in group:
            if r.random() < 0.1 and len(group) > 1:
                continue  # not every variant is on every platform
            price = int(p.price_fen * level * r.uniform(0.95, 1.05)) // 10 * 10
            outer = p.outer_code if p.outer_code and r.random() < 0.9 else ""
            if not outer and r.random() < 0.3:
                outer = f"{platform[:2].upper()}{spu_code}{r.randrange(100):02d}"  # platform-local code
            out.append(
                Listing(
                    platform,
                    item_id,
                    _sku_id(platform, r),
                    p,
                    title,
                    spec_text(platform, p, r),
                    outer,
                    p.barcode if r.random() < 0.8 else "",
                    max(price, 100),
                )
            )
    return out


def _item_id(platform: str, r: random.Random) -> str:
    if platform == "taobao":
        return str(r.randrange(6 * 10**11, 8 * 10**11))  # num_iid, 12 digits
    if platform == "jd":
        return str(r.randrange(10**11, 10**12 - 1))  # wareId
    if platform == "pdd":
        return str(r.randrange(10**11, 9 * 10**11))  # goods_id
    return str(r.randrange(3 * 10**18, 4 * 10**18))  # Douyin product_id, > 2**53


def _sku_id(platform: str, r: random.Random) -> str:
    if platform == "taobao":
        return str(r.randrange(4 * 10**12, 6 * 10**12))
    if platform == "jd":
        return str(r.randrange(10**13, 10**14 - 1))
    if platform == "pdd":
        return str(r.randrange(10**12, 9 * 10**12))
    return str(r.randrange(1 * 10**18, 2 * 10**18))
