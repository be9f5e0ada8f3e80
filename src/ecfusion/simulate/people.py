"""The simulated merchant's customers: persons, households and their accounts on every source.

Serves issue 2 (Build §3, "People") and the evaluation of OneID (T/JNBDA 0003-2025 clause 6.1.3):
one person holds accounts on several platforms, each showing that person with real-world
variation — a changed phone number, a nickname variant, an abbreviated address, a missing district,
a typo, full-width digits, traditional characters. Households share an address and sometimes a
device (different people!), and many different people carry the same common name (王伟, 李娜…).
Truth (``truth/persons.jsonl``, ``truth/accounts.csv``) records who is who.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from ecfusion.simulate.checkdigits import gb11643_check_char
from ecfusion.simulate.geo import (
    COMPOUND_NAMES,
    DISTRICTS,
    STREET_NAMES,
    TYPO_SWAPS,
    District,
    short_province,
)

T = TypeVar("T")

ONLINE_PLATFORMS: tuple[str, ...] = ("taobao", "jd", "pdd", "douyin")

# Share of persons holding an account on each source (a cosmetics brand sells mostly on Tmall).
ACCOUNT_SHARE: dict[str, float] = {
    "taobao": 0.62,
    "jd": 0.33,
    "pdd": 0.28,
    "douyin": 0.40,
    "crm": 0.35,
    "app": 0.30,
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
FEMALE_CHARS = "娜敏静丽芳艳婷雪慧琳颖倩欣佳悦瑶怡璐晶洁玲萍燕红霞梅莉兰月楠蕾露薇思雨涵梦琪诗婉晓雅妍彤"
MALE_CHARS = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳峰亮成志"
# Names shared by tens of thousands of real people: the same-name-different-person trap.
COMMON_NAMES: tuple[tuple[str, str], ...] = (
    ("王伟", "M"),
    ("李娜", "F"),
    ("张敏", "F"),
    ("王芳", "F"),
    ("刘洋", "F"),
    ("张伟", "M"),
    ("王静", "F"),
    ("李静", "F"),
    ("张丽", "F"),
    ("王秀英", "F"),
    ("李强", "M"),
    ("张静", "F"),
    ("刘伟", "M"),
    ("王磊", "M"),
    ("李敏", "F"),
    ("王丽", "F"),
    ("刘芳", "F"),
    ("陈静", "F"),
)
COMMON_NAME_SHARE = 0.08
FEMALE_SHARE = 0.78

MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "198",
    "199",
)
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "foxmail.com", "sina.com", "gmail.com", "outlook.com")
NICK_WORDS = (
    "小",
    "阿",
    "爱吃鱼的",
    "快乐的",
    "momo",
    "喵喵",
    "糖糖",
    "晴天",
    "星星",
    "柠檬",
    "木子",
    "lucky",
)
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

_PINYIN: dict[str, str] = {}


def _pinyin(text: str) -> str:
    """Toneless pinyin of a name, cached per character (names reuse a small character pool)."""
    out = []
    for ch in text:
        py = _PINYIN.get(ch)
        if py is None:
            from pypinyin import lazy_pinyin

            py = _PINYIN[ch] = lazy_pinyin(ch)[0]
        out.append(py)
    return "".join(out)


@dataclass(slots=True)
class Address:
    district: District
    street: str
    number: int
    compound: str
    building: int
    unit: int
    room: int

    def detail(self) -> str:
        return f"{self.street}{self.number}号{self.compound}{self.building}栋{self.unit}单元{self.room}室"

    def full(self) -> str:
        d = self.district
        city = "" if d.city == d.province else d.city
        return f"{d.province}{city}{d.district}{self.detail()}"


@dataclass(slots=True)
class Account:
    """One person's account on one source, as that source shows it (with its own variations)."""

    source: str
    account_id: str
    person_id: str
    nickname: str
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    device_id: str
    extra: str = ""  # a second platform id (JD open id, Taobao nick…) where the source has one
    activity: float = 1.0
    area_code: str = ""  # GB/T 2260 city code (4 digits) of the address
    rendered: dict[str, Any] = field(default_factory=dict)  # per-platform receiver block, built once


@dataclass(slots=True)
class Person:
    person_id: str
    name: str
    gender: str
    birthday: date
    id_card_no: str
    mobiles: list[str]
    email: str
    address: Address
    household_id: str
    devices: list[str]
    ip: str
    activity: float
    accounts: dict[str, Account] = field(default_factory=dict)

    def truth_record(self) -> dict[str, object]:
        a = self.address
        return {
            "person_id": self.person_id,
            "name": self.name,
            "gender": self.gender,
            "birthday": self.birthday.isoformat(),
            "id_card_no": self.id_card_no,
            "mobiles": self.mobiles,
            "email": self.email,
            "province": a.district.province,
            "city": a.district.city,
            "district": a.district.district,
            "address": a.detail(),
            "household_id": self.household_id,
            "devices": self.devices,
            "accounts": {s: acc.account_id for s, acc in sorted(self.accounts.items())},
        }


@dataclass(slots=True)
class Population:
    persons: list[Person]
    accounts: dict[str, list[Account]]  # per source, in person order

    def same_name_groups(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for p in self.persons:
            groups.setdefault(p.name, []).append(p.person_id)
        return {n: ids for n, ids in groups.items() if len(ids) > 1}


class _Draw:
    """Random draws for people, on a stdlib RNG (scalar draws are faster there than on numpy)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._district_cum = _cumulative([d.weight for d in DISTRICTS])
        self._used_mobiles: set[str] = set()
        self._used_emails: set[str] = set()

    def name(self) -> tuple[str, str]:
        r = self.rng
        if r.random() < COMMON_NAME_SHARE:
            return _pick(r, COMMON_NAMES)
        gender = "F" if r.random() < FEMALE_SHARE else "M"
        return self.name_for(
            gender, _pick(r, SURNAMES[:40]) if r.random() < 0.7 else _pick(r, SURNAMES)
        ), gender

    def name_for(self, gender: str, surname: str) -> str:
        pool = FEMALE_CHARS if gender == "F" else MALE_CHARS
        given = _pick(self.rng, pool) + (_pick(self.rng, pool) if self.rng.random() < 0.7 else "")
        return surname + given

    def mobile(self) -> str:
        while True:
            m = _pick(self.rng, MOBILE_PREFIXES) + f"{_below(self.rng, 10**8):08d}"
            if m not in self._used_mobiles:
                self._used_mobiles.add(m)
                return m

    def birthday(self) -> date:
        return date(1965, 1, 1) + timedelta(days=_below(self.rng, 365 * 42))

    def id_card(self, city_code: str, birthday: date, gender: str) -> str:
        seq = _below(self.rng, 500) * 2 + (1 if gender == "M" else 0)
        body = f"{city_code}{_below(self.rng, 1, 13):02d}{birthday:%Y%m%d}{seq:03d}"
        return body + gb11643_check_char(body)

    def address(self) -> Address:
        r = self.rng
        d = DISTRICTS[_pick_cumulative(self._district_cum, r.random())]
        return Address(
            d,
            _pick(r, STREET_NAMES),
            _below(r, 1, 999),
            _pick(r, COMPOUND_NAMES),
            _below(r, 1, 30),
            _below(r, 1, 6),
            _below(r, 1, 33) * 100 + _below(r, 1, 5),
        )

    def device(self) -> str:
        raw = self.rng.getrandbits(128).to_bytes(16, "big").hex()
        text = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
        # iOS IDFA is upper case; Android OAID lower case
        return text.upper() if self.rng.random() < 0.4 else text

    def ip(self) -> str:
        r = self.rng
        return (
            f"{_pick(r, (36, 58, 101, 112, 113, 114, 116, 117, 120, 121, 123, 180, 183, 222, 223))}."
            f"{_below(r, 256)}.{_below(r, 256)}.{_below(r, 1, 255)}"
        )

    def email(self, name: str, birthday: date) -> str:
        """An address of this person's own: a mailbox belongs to one person, so two 刘芳 born on
        other days get liufang@… and liufang7@…, never the same address."""
        r = self.rng
        u = r.random()
        if u < 0.15:
            return ""
        if u < 0.5:
            address = f"{_below(r, 10**7, 10**10)}@qq.com"
        else:
            suffix = _pick(r, ("", str(birthday.year), f"{birthday:%m%d}", str(_below(r, 100))))
            address = f"{_pinyin(name)}{suffix}@{_pick(r, EMAIL_DOMAINS)}"
        while address in self._used_emails:
            local, domain = address.split("@")
            address = f"{local}{_below(r, 10)}@{domain}"
        self._used_emails.add(address)
        return address


def _pick(r: random.Random, seq: Sequence[T]) -> T:
    """Like ``random.choice`` at a third of its cost (no rejection sampling; bias < 2**-50)."""
    return seq[int(r.random() * len(seq))]


def _below(r: random.Random, a: int, b: int | None = None) -> int:
    """Like ``randrange(a)`` / ``randrange(a, b)`` without its rejection loop (ranges here are small)."""
    return int(r.random() * a) if b is None else a + int(r.random() * (b - a))


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return [x / total for x in out]


def _pick_cumulative(cum: list[float], u: float) -> int:
    import bisect

    return min(bisect.bisect_right(cum, u), len(cum) - 1)


def build_population(persons: int, seed: int) -> Population:
    """Persons, households and accounts; deterministic for (persons, seed)."""
    draw = _Draw(random.Random(f"ecfusion-people-{seed}"))
    people = _build_persons(draw, persons)
    accounts: dict[str, list[Account]] = {s: [] for s in ACCOUNT_SHARE}
    for p in people:
        for source, acc in _build_accounts(draw, p).items():
            p.accounts[source] = acc
            accounts[source].append(acc)
    for n, acc in enumerate(accounts["crm"], start=1):
        acc.account_id = f"M{n:09d}"  # member_id
        acc.extra = f"8860{(n * 7919) % 10**8:08d}"  # card_no: printed on the member card
    return Population(people, accounts)


def _build_persons(draw: _Draw, count: int) -> list[Person]:
    r = draw.rng
    people: list[Person] = []
    i = 0
    household = 0
    while len(people) < count:
        household += 1
        size = 1 if r.random() < 0.75 else _pick(r, (2, 2, 3))
        size = min(size, count - len(people))
        home = draw.address()
        shared_device = draw.device() if size > 1 and r.random() < 0.4 else ""
        head_surname = ""
        for member in range(size):
            i += 1
            taken = {p.name for p in people[len(people) - member :]}  # a family gives no two the same name
            while True:
                name, gender = draw.name()
                if member == 2 and head_surname:  # a child takes the head's surname
                    gender = "F" if r.random() < 0.5 else "M"
                    name = draw.name_for(gender, head_surname)
                if name not in taken:
                    break
            head_surname = head_surname or name[0]
            bday = draw.birthday()
            mobiles = [draw.mobile()] + ([draw.mobile()] if r.random() < 0.25 else [])
            devices = [draw.device()] + ([draw.device()] if r.random() < 0.2 else [])
            if shared_device:
                devices.append(shared_device)
            people.append(
                Person(
                    person_id=f"P{i:08d}",
                    name=name,
                    gender=gender,
                    birthday=bday,
                    id_card_no=draw.id_card(home.district.city_code, bday, gender),
                    mobiles=mobiles,
                    email=draw.email(name, bday),
                    address=home,
                    household_id=f"H{household:08d}",
                    devices=devices,
                    ip=draw.ip(),
                    activity=r.paretovariate(2.2),
                )
            )
    return people


def _build_accounts(draw: _Draw, p: Person) -> dict[str, Account]:
    r = draw.rng
    out: dict[str, Account] = {}
    sources = [s for s, share in ACCOUNT_SHARE.items() if r.random() < share]
    if not any(s in ONLINE_PLATFORMS for s in sources):
        sources.append(_pick(r, ONLINE_PLATFORMS))
    for source in ACCOUNT_SHARE:
        if source in sources:
            out[source] = _account(draw, p, source)
    return out


def _account(draw: _Draw, p: Person, source: str) -> Account:
    r = draw.rng
    # The first mobile is the current one; an older account may still carry the previous one.
    phone = p.mobiles[-1] if len(p.mobiles) > 1 and r.random() < 0.5 else p.mobiles[0]
    name = p.name
    province, city, district, detail = _address_variant(r, p.address)
    if r.random() < 0.03:
        name = name[0] + ("女士" if p.gender == "F" else "先生")
    elif r.random() < 0.02:
        name = _traditional(name)
    nickname = _nickname(r, p)
    account_id, extra = _platform_ids(r, source, nickname)
    return Account(
        source,
        account_id,
        p.person_id,
        nickname,
        name,
        phone,
        province,
        city,
        district,
        detail,
        _pick(r, p.devices),
        extra,
        p.activity * r.uniform(0.5, 1.5),
        p.address.district.city_code,
    )


def _address_variant(r: random.Random, a: Address) -> tuple[str, str, str, str]:
    d = a.district
    province, city, district, detail = d.province, d.city, d.district, a.detail()
    u = r.random()
    if u < 0.08:  # abbreviated: 浙江 杭州
        province, city = short_province(province), city.removesuffix("市")
    elif u < 0.13:  # district left out
        district = ""
    elif u < 0.17:  # one typo
        detail = _typo(r, detail)
    elif u < 0.21:  # full-width digits typed on a phone keyboard
        detail = detail.translate(_FULLWIDTH)
    elif u < 0.23:  # traditional characters (a buyer from Hong Kong/Taiwan input method)
        detail = _traditional(detail)
    elif u < 0.27:  # building/unit/room written the short way
        detail = detail.replace("栋", "-").replace("单元", "-").replace("室", "")
    return province, city, district, detail


def _typo(r: random.Random, text: str) -> str:
    spots = [i for i, ch in enumerate(text) if ch in TYPO_SWAPS]
    if not spots:
        return text
    i = _pick(r, spots)
    return text[:i] + TYPO_SWAPS[text[i]] + text[i + 1 :]


def _traditional(text: str) -> str:
    import zhconv

    return str(zhconv.convert(text, "zh-hant"))


def _nickname(r: random.Random, p: Person) -> str:
    py = _pinyin(p.name)
    u = r.random()
    if u < 0.35:
        return f"{py}{p.birthday.year % 100:02d}"
    if u < 0.55:
        return f"{py}_{_below(r, 1000)}"
    if u < 0.75:
        return f"{_pick(r, NICK_WORDS)}{p.name[-1]}{_below(r, 100)}"
    if u < 0.9:
        return f"{py[:1]}{py[-3:]}{p.birthday:%m%d}"
    return f"tb{_below(r, 10**8, 10**9)}"


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


_B62_TABLE = bytes((_B62 * 5)[:256], "ascii")


def _b62(r: random.Random, n: int) -> str:
    return r.randbytes(n).translate(_B62_TABLE).decode("ascii")


def _platform_ids(r: random.Random, source: str, nickname: str) -> tuple[str, str]:
    """(account id, secondary id) in each platform's own shape."""
    if source == "taobao":
        return "AAH" + _b62(r, 21), nickname  # buyer_open_uid, buyer_nick
    if source == "jd":
        return f"jd_{r.getrandbits(52):013x}", _b62(r, 32)  # pin, open_id_buyer
    if source == "pdd":
        # ⚠ guess: Pinduoduo's order_info exposes no buyer id; the receiver handle open_address_id
        # is stable per buyer and address, and is what this generator keys PDD accounts by.
        return _b62(r, 24), ""
    if source == "douyin":
        return "1@#" + _b62(r, 40), ""  # doudian_open_id
    if source == "crm":
        return "", ""  # filled by the CRM writer (member_id / card_no are sequential)
    if source == "app":
        return f"U{_below(r, 10**9, 10**10)}", "o" + _b62(r, 27)  # user_id, WeChat openid
    raise ValueError(source)
