"""A synthetic population with known truth, for testing and benchmarking resolution (6.1.3).

``ecfusion.simulate`` builds whole merchants; this module builds only what entity resolution
reads — ``unified.member_account`` and ``unified.listing`` rows (contracts §4) — quickly enough
for a million accounts, with the defects resolution must survive: homophone typos, traditional
characters, masked and changed phones, test numbers, shared store devices, households sharing an
address, common names shared by different people, titles in several unit and pack spellings.
Truth is returned separately (``SampleTruth``); the pipeline never sees it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国文斌宇浩凯欣怡婷雪琳晨阳"
COMMON_NAMES = ["王伟", "张伟", "王芳", "李娜", "张敏", "李静", "王静", "刘伟"]
HOMOPHONES = {
    "伟": "玮",
    "芳": "方",
    "娜": "纳",
    "静": "晶",
    "敏": "民",
    "丽": "莉",
    "军": "君",
    "杰": "洁",
    "磊": "蕾",
    "涛": "韬",
    "明": "鸣",
    "华": "桦",
    "平": "萍",
    "刚": "钢",
    "红": "虹",
    "玲": "琳",
    "燕": "艳",
    "鹏": "朋",
    "辉": "晖",
    "斌": "彬",
    "婷": "亭",
    "雪": "薛",
    "阳": "洋",
}
TRADITIONAL = {
    "陈": "陳",
    "刘": "劉",
    "张": "張",
    "杨": "楊",
    "黄": "黃",
    "赵": "趙",
    "吴": "吳",
    "孙": "孫",
    "马": "馬",
    "罗": "羅",
    "伟": "偉",
    "华": "華",
    "丽": "麗",
    "军": "軍",
    "杰": "傑",
    "涛": "濤",
    "静": "靜",
    "国": "國",
    "红": "紅",
    "娟": "娟",
    "鹏": "鵬",
    "辉": "輝",
    "东": "東",
}
PLACES = [
    ("浙江省", "杭州市", "西湖区"),
    ("浙江省", "杭州市", "余杭区"),
    ("浙江省", "宁波市", "鄞州区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("江苏省", "苏州市", "姑苏区"),
    ("广东省", "广州市", "天河区"),
    ("广东省", "深圳市", "南山区"),
    ("上海市", "上海市", "浦东新区"),
    ("北京市", "北京市", "朝阳区"),
    ("四川省", "成都市", "武侯区"),
    ("湖北省", "武汉市", "洪山区"),
    ("山东省", "济南市", "历下区"),
]
ROADS = [
    "文一西路",
    "学院路",
    "中山路",
    "人民路",
    "解放路",
    "建设路",
    "和平路",
    "青年路",
    "新华路",
    "长江路",
    "黄河路",
    "湖滨路",
    "文化路",
    "东风路",
]
NICK_WORDS = [
    "小",
    "阿",
    "大",
    "猫",
    "鱼",
    "星",
    "月",
    "风",
    "云",
    "糖",
    "果",
    "兔",
    "熊",
    "鹿",
    "晴",
    "夏",
    "秋",
    "冬",
    "木",
    "米",
]
PLATFORMS = ["taobao", "jd", "pdd", "douyin", "crm", "pos"]
BLOCKED_PHONE = "13800138000"
MEMBER_SCHEMA = pa.schema(
    [
        ("account_key", pa.string()),
        ("platform", pa.string()),
        ("shop_id", pa.string()),
        ("platform_account_id", pa.string()),
        ("nickname", pa.string()),
        ("name_token", pa.string()),
        ("phone_token", pa.string()),
        ("phone_bidx", pa.string()),
        ("phone_masked", pa.string()),
        ("id_number_bidx", pa.string()),
        ("email_bidx", pa.string()),
        ("province", pa.string()),
        ("city", pa.string()),
        ("district", pa.string()),
        ("address_token", pa.string()),
        ("address_bidx", pa.string()),
        ("device_ids", pa.list_(pa.string())),
        ("first_seen_at", pa.timestamp("us", tz="UTC")),
        ("last_seen_at", pa.timestamp("us", tz="UTC")),
        ("raw_record_ids", pa.list_(pa.string())),
    ]
)
LISTING_SCHEMA = pa.schema(
    [
        ("listing_key", pa.string()),
        ("platform", pa.string()),
        ("shop_id", pa.string()),
        ("item_id", pa.string()),
        ("sku_id", pa.string()),
        ("outer_sku_code", pa.string()),
        ("barcode", pa.string()),
        ("title", pa.string()),
        ("spec_text", pa.string()),
        ("price", pa.decimal128(18, 2)),
        ("category_path", pa.string()),
        ("raw_record_ids", pa.list_(pa.string())),
    ]
)


class SampleCipher:
    """A field cipher with the contract's token shape (``ef1:kind:subject:bidx:ct``), for samples.

    Same behaviour as the workspace cipher for resolution's purposes: AES-256-GCM ciphertext and
    an HMAC-SHA256 blind index of the normalized value. Keys live in memory only.
    """

    def __init__(self, seed: int = 0) -> None:
        rng = random.Random(seed)
        self._aead = AESGCM(bytes(rng.getrandbits(8) for _ in range(32)))
        self._bidx_key = bytes(rng.getrandbits(8) for _ in range(32))

    def blind_index(self, kind: str, value: str) -> str:
        digest = hmac.new(self._bidx_key, f"{kind}\x00{value.strip()}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:15]).decode().lower()

    def encrypt(self, kind: str, value: str, subject: str = "s0") -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, value.encode(), None)
        payload = base64.urlsafe_b64encode(nonce + ct).decode()
        return f"ef1:{kind}:{subject}:{self.blind_index(kind, value)}:{payload}"

    def decrypt(self, token: str) -> str:
        raw = base64.urlsafe_b64decode(token.split(":", 4)[4])
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()


@dataclass
class SampleTruth:
    """Ground truth: account_key → person_id and listing_key → std_sku_code."""

    accounts: dict[str, str] = field(default_factory=dict)
    listings: dict[str, str] = field(default_factory=dict)

    def write(self, folder: os.PathLike[str] | str) -> None:
        """Write ``accounts.csv`` and ``listings.csv`` in the simulator's truth layout (contracts §1)."""
        from pathlib import Path

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "accounts.csv", "w", encoding="utf-8") as f:
            f.write("source,platform,account_id,person_id\n")
            for key, person in self.accounts.items():
                platform, account_id = key.split(":", 1)
                f.write(f"{platform},{platform},{account_id},{person}\n")
        with open(out / "listings.csv", "w", encoding="utf-8") as f:
            f.write("platform,item_id,sku_id,product_id,std_sku_code\n")
            for key, code in self.listings.items():
                platform, item_id, sku_id = key.split(":", 2)
                f.write(f"{platform},{item_id},{sku_id},{code.split('/')[0]},{code}\n")


@dataclass
class _Person:
    pid: str
    name: str
    phones: list[str]
    place: tuple[str, str, str]
    detail: str
    nick: str
    email: str | None
    id_number: str | None
    device: str


def _person(rng: random.Random, i: int) -> _Person:
    if rng.random() < 0.04:
        name = rng.choice(COMMON_NAMES)
    else:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    phones = [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"]
    if rng.random() < 0.15:
        phones.append(f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
    building = f"{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元{rng.randrange(101, 2999)}室"
    detail = f"{rng.choice(ROADS)}{rng.randrange(1, 999)}号{building}"
    nick = "".join(rng.choice(NICK_WORDS) for _ in range(2)) + str(rng.randrange(10, 9999))
    email = f"u{i}x{rng.randrange(10**6)}@example.com" if rng.random() < 0.4 else None
    id_number = f"{rng.randrange(10**17):017d}X" if rng.random() < 0.3 else None
    return _Person(
        f"P{i:08d}",
        name,
        phones,
        rng.choice(PLACES),
        detail,
        nick,
        email,
        id_number,
        f"dev{rng.getrandbits(48):012x}",
    )


def _typo(rng: random.Random, name: str) -> str:
    r = rng.random()
    if r < 0.05:
        chars = [HOMOPHONES.get(c, c) if rng.random() < 0.7 else c for c in name]
        return "".join(chars)
    if r < 0.09:
        return "".join(TRADITIONAL.get(c, c) for c in name)
    if r < 0.11:
        return name[0] + " " + name[1:]
    return name


def _mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


class _AccountWriter:
    """Builds member_account rows column-wise (fast enough for a million rows)."""

    def __init__(self, cipher: SampleCipher) -> None:
        self.cipher = cipher
        self.cols: dict[str, list[Any]] = {f.name: [] for f in MEMBER_SCHEMA}

    def add(self, rng: random.Random, p: _Person, platform: str, n: int, when: datetime) -> str:
        c, enc = self.cols, self.cipher.encrypt
        account_id = f"{platform[:2]}{p.pid[1:]}{n}{rng.randrange(100):02d}"
        key = f"{platform}:{account_id}"
        phone = p.phones[-1] if len(p.phones) > 1 and rng.random() < 0.5 else p.phones[0]
        if rng.random() < 0.01:
            phone = BLOCKED_PHONE
        has_name = platform != "pos" or rng.random() < 0.3
        phone_plain = not (platform == "douyin" and rng.random() < 0.4) and not (
            platform == "pdd" and rng.random() < 0.2
        )
        has_addr = platform in ("taobao", "jd", "pdd") or (platform == "crm" and rng.random() < 0.5)
        detail = (
            p.detail if rng.random() > 0.15 else p.detail.split("栋")[0] + "栋" + p.detail.split("单元")[1]
        )
        devices: list[str] = []
        if platform in ("taobao", "douyin", "pdd") and rng.random() < 0.5:
            devices.append(p.device)
        if rng.random() < 0.02:
            devices.append("00000000")
        if platform == "pos" and rng.random() < 0.3:
            devices.append(f"store-pad-{rng.randrange(3)}")
        nick = p.nick if rng.random() < 0.7 else p.nick + rng.choice(NICK_WORDS)
        if rng.random() < 0.01:
            nick = "anonymous"
        name = _typo(rng, p.name)
        c["account_key"].append(key)
        c["platform"].append(platform)
        c["shop_id"].append(f"{platform}_shop")
        c["platform_account_id"].append(account_id)
        c["nickname"].append(nick if platform in ("taobao", "douyin", "pdd") else None)
        c["name_token"].append(enc("name", name) if has_name else None)
        c["phone_token"].append(enc("phone", phone) if phone_plain else None)
        c["phone_bidx"].append(self.cipher.blind_index("phone", phone) if phone_plain else None)
        c["phone_masked"].append(_mask(phone) if platform != "pos" else None)
        crm = platform == "crm"
        c["id_number_bidx"].append(
            self.cipher.blind_index("id_number", p.id_number) if crm and p.id_number else None
        )
        c["email_bidx"].append(self.cipher.blind_index("email", p.email) if crm and p.email else None)
        prov, city, dist = p.place
        c["province"].append(prov if platform != "pos" else None)
        c["city"].append(city if platform != "pos" else None)
        c["district"].append(dist if has_addr or platform == "douyin" else None)
        c["address_token"].append(enc("address", f"{prov}{city}{dist}{detail}") if has_addr else None)
        c["address_bidx"].append(
            self.cipher.blind_index("address", f"{prov}{city}{dist}{detail}") if has_addr else None
        )
        c["device_ids"].append(devices)
        c["first_seen_at"].append(when)
        c["last_seen_at"].append(when + timedelta(days=rng.randrange(0, 200)))
        c["raw_record_ids"].append([hashlib.blake2b(key.encode(), digest_size=16).hexdigest()])
        return key

    def table(self) -> pa.Table:
        return pa.table(self.cols, schema=MEMBER_SCHEMA)


def member_accounts(
    persons: int, *, seed: int = 7, cipher: SampleCipher | None = None, start: int = 0
) -> tuple[pa.Table, SampleTruth]:
    """``unified.member_account`` rows for ``persons`` people (≈2.2 accounts each) and their truth.

    ``start`` offsets person numbers, so a second call adds new people (an incremental batch).
    """
    rng = random.Random(seed * 1_000_003 + start)
    writer = _AccountWriter(cipher or SampleCipher(seed))
    truth = SampleTruth()
    base = datetime(2025, 1, 1, tzinfo=UTC)
    household: _Person | None = None
    for i in range(start, start + persons):
        p = _person(rng, i)
        if household is not None and rng.random() < 0.2:
            # a spouse or flat-mate: same address, own name and phone
            p.place, p.detail = household.place, household.detail
        household = p
        k = rng.choices((1, 2, 3, 4, 5), weights=(30, 30, 22, 12, 6))[0]
        for n, platform in enumerate(rng.sample(PLATFORMS, k)):
            key = writer.add(rng, p, platform, n, base + timedelta(days=rng.randrange(600)))
            truth.accounts[key] = p.pid
    return writer.table(), truth


BRANDS = ["雅诗兰黛", "欧莱雅", "自然堂", "百雀羚", "珀莱雅", "韩束", "薇诺娜", "完美日记", "花西子", "丸美"]
LINES = [
    "补水保湿精华液",
    "焕颜修护爽肤水",
    "美白淡斑乳液",
    "舒缓修护面霜",
    "控油洁面乳",
    "防晒隔离霜",
    "紧致眼霜",
    "氨基酸洗面奶",
]
CATEGORIES = {
    "精华液": "美妆护肤>面部护理>精华",
    "爽肤水": "美妆护肤>面部护理>化妆水",
    "乳液": "美妆护肤>面部护理>乳液",
    "面霜": "美妆护肤>面部护理>面霜",
    "洁面乳": "美妆护肤>面部清洁>洁面",
    "隔离霜": "美妆护肤>防晒>隔离",
    "眼霜": "美妆护肤>眼部护理>眼霜",
    "洗面奶": "美妆护肤>面部清洁>洁面",
}
SERIES = [
    "小棕瓶",
    "红石榴",
    "水光",
    "玻尿酸",
    "胶原蛋白",
    "烟酰胺",
    "积雪草",
    "人参",
    "雪绒花",
    "小白瓶",
    "紫苏",
    "",
]
PROMO = ["【官方旗舰店】", "【限时秒杀】", "正品", "包邮", "新品", "【直播专享】", ""]
PACK_WORDS = {2: ["2支装", "两支装", "x2"], 3: ["3支装", "三支装", "×3", "3瓶装"]}


def _capacity_text(rng: random.Random, ml: int) -> str:
    options = [f"{ml}ml", f"{ml}ML", f"{ml}毫升"]
    if ml >= 500:
        options.append(f"{ml / 1000:g}L")
    return rng.choice(options)


def listings(products: int, *, seed: int = 11) -> tuple[pa.Table, SampleTruth]:
    """``unified.listing`` rows: every SKU variant (capacity × pack) listed on 1–4 platforms."""
    rng = random.Random(seed)
    cols: dict[str, list[Any]] = {f.name: [] for f in LISTING_SCHEMA}
    truth = SampleTruth()
    combos = [(b, s, line) for b in BRANDS for s in SERIES for line in LINES]
    rng.shuffle(combos)
    for i in range(products):
        brand, series, line = combos[i % len(combos)]
        line = series + line
        model = f"{rng.choice('ABCDEFGHKMNPRSTXYZ')}{rng.randrange(10, 99)}" if rng.random() < 0.5 else ""
        category = next(v for k, v in CATEGORIES.items() if line.endswith(k))
        base_price = rng.randrange(59, 599)
        sizes = rng.sample([30, 50, 100, 150, 200, 500, 1000], rng.choice((1, 2)))
        for ml in sizes:
            for pack in rng.sample([1, 1, 2, 3], rng.choice((1, 2))) if ml < 500 else [1]:
                code = f"PRD{i:05d}/{ml}/{pack}"
                if code in truth.listings.values():
                    continue
                barcode = f"69{rng.randrange(10**11):011d}"
                outer = f"M{i:05d}-{ml}-{pack}"
                for platform in rng.sample(["taobao", "jd", "pdd", "douyin"], rng.choice((1, 2, 3, 4))):
                    item_id, sku_id = f"{rng.randrange(10**11)}", f"{rng.randrange(10**12)}"
                    key = f"{platform}:{item_id}:{sku_id}"
                    pack_txt = rng.choice(PACK_WORDS[pack]) if pack > 1 else ""
                    parts = [rng.choice(PROMO), brand, model, line, _capacity_text(rng, ml), pack_txt]
                    if rng.random() < 0.3:
                        parts[3] = line[:-3] + " " + line[-3:]
                    title = " ".join(p for p in parts if p)
                    cat = category if rng.random() < 0.8 else category.replace(">", "/")
                    price = round(base_price * (ml / 100) ** 0.6 * pack * rng.uniform(0.9, 1.1), 2)
                    cols["listing_key"].append(key)
                    cols["platform"].append(platform)
                    cols["shop_id"].append(f"{platform}_shop")
                    cols["item_id"].append(item_id)
                    cols["sku_id"].append(sku_id)
                    cols["outer_sku_code"].append(outer if rng.random() < 0.5 else None)
                    cols["barcode"].append(barcode if rng.random() < 0.5 else None)
                    cols["title"].append(title)
                    cols["spec_text"].append(
                        f"容量:{_capacity_text(rng, ml)}" if rng.random() < 0.5 else None
                    )
                    from decimal import Decimal

                    cols["price"].append(Decimal(f"{price:.2f}"))
                    cols["category_path"].append(cat)
                    cols["raw_record_ids"].append([hashlib.blake2b(key.encode(), digest_size=16).hexdigest()])
                    truth.listings[key] = code
    return pa.table(cols, schema=LISTING_SCHEMA), truth


def install(
    workspace: Any,
    accounts: pa.Table | None = None,
    listing_rows: pa.Table | None = None,
    *,
    append: bool = False,
) -> None:
    """Write sample rows as ``unified.member_account`` / ``unified.listing`` in the workspace warehouse."""
    from ecfusion.resolve import store

    run_id = f"sample-{uuid.uuid4().hex[:8]}"
    with store.update(workspace, run_id) as con:
        con.execute("create schema if not exists unified")
        for name, table in (("member_account", accounts), ("listing", listing_rows)):
            if table is None:
                continue
            con.register("_sample", table)
            if append and store.has_table(con, "unified", name):
                con.execute(f"insert into unified.{name} select * from _sample")
            else:
                con.execute(f"create or replace table unified.{name} as select * from _sample")
            con.unregister("_sample")
