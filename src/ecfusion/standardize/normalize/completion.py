"""Region completion: a mobile number's prefix → province/city, an IP address → province/city.

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 c (补全: "通过 IP 地址补全地域信息", and the same for a
mobile number's 号段). Both answer with the administrative-division table's official names
(江苏省/常州市, municipalities 北京市/北京市), so a completed region joins the observed ones.

* **Phone prefix.** The first 7 digits of a mainland mobile (号段) name the province and city
  where the number was issued. The table is ``phone.dat`` of the ``phone`` package (MIT, data
  of 2023-12, about 500k segments), read through its own ``Phone`` class; a landline's area
  code goes through ``data/landline_area_codes.tsv`` (jionlp). These are the package's only
  phone → place tables: ``regions.phone_region`` (carrier + area code, for the CLI) answers
  from them too. A masked number (``138****5678``) shows only the
  3-digit network prefix, which names a carrier, not a place: no region (basis ``masked``).
  Personal numbers exist in plaintext only at landing, so this runs there
  (``ecfusion.security.protect`` keeps the answer beside the token; contracts §3).
* **IP.** ip2region ``.xdb`` databases (structure 2.0 IPv4, 3.0 IPv4/IPv6) searched by
  ``py-ip2region`` from memory. No database ships with ecfusion (their licences and size): the
  user names one in ``ecfusion.toml`` ``[completion] ip_database``; without it IP completion is
  off and the run summary says so. ``xdb.write_xdb`` builds a database from ranges (tests,
  a merchant's own ranges); ``IpRegions.from_csv`` (and a ``.csv`` ``ip_database``) searches a
  ``start_ip,end_ip,province,city,isp`` range table through an xdb built in memory.
  A range ip2region places in another country gets no region, and a place name must be a whole
  division name: 吉隆坡 (Kuala Lumpur) is not 吉隆县, 北海道 not 北海市. ``parse_ip`` reads an
  address as logs and forms write it (full-width, zero-padded, with a port, IPv4-mapped IPv6).

Answers are memoized: segments and IPs repeat across an order's versions and a buyer's events.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

import pyarrow as pa

from ecfusion.errors import ConfigError, InputError
from ecfusion.standardize.normalize.divisions import default_division_table
from ecfusion.standardize.normalize.phone import mobile_segment, parse_phone, phone_visible_digits
from ecfusion.standardize.normalize.text import fold_chars
from ecfusion.standardize.normalize.xdb import read_range_csv, xdb_bytes

if TYPE_CHECKING:
    from ecfusion.config import Workspace

Basis = Literal[
    "mobile_prefix", "area_code", "unknown_prefix", "virtual_operator", "masked", "not_a_phone",
    "ip", "ip_unknown",
]


class PlaceGuess(NamedTuple):
    """A completed region and what it rests on (``basis``); the parts are None when unknown."""

    province: str | None
    city: str | None
    basis: Basis


_UNKNOWN_PREFIX = PlaceGuess(None, None, "unknown_prefix")
# A virtual operator (170x, 171, 162, 165, 167) sells its numbers nationwide: the city phone.dat
# gives such a segment is the reseller's, not the buyer's.
_VIRTUAL_OPERATOR = PlaceGuess(None, None, "virtual_operator")

# Short names in phone.dat the division matcher cannot place on its own (a 盟/州/地区 spelled
# without its suffix, a city named like its province); "" = a numbering area that is no single
# city (湖北 江汉: 仙桃/潜江/天门 share area code 0728), so only the province is kept.
_CITY_SPELLINGS = {
    ("内蒙古", "兴安"): "兴安盟",
    ("吉林", "吉林"): "吉林市",
    ("新疆", "博州"): "博尔塔拉蒙古自治州",
    ("西藏", "阿里"): "阿里地区",
    ("青海", "海南"): "海南藏族自治州",
    ("青海", "海南藏族"): "海南藏族自治州",  # the landline table's spelling
    ("湖北", "江汉"): "",
}


@lru_cache(maxsize=4096)
def official_names(province: str | None, city: str | None) -> tuple[str | None, str | None]:
    """Short or full province/city names → the division table's names; (None, None) when the
    province is not a mainland one (abroad, unknown). Distinct pairs are few: memoized.

    Each part must be a whole division name (full, short, 自治州 short + 州): these are table
    fields, not free text, and a name found inside another one is a different place (吉隆坡 is
    not 吉隆县, 北海道 not 北海市, 泗水 as a province is Surabaya, not 泗水县). A city the table
    does not know (雄安) keeps the province; a municipality's city is the municipality."""
    if not province:
        return None, None
    city = _CITY_SPELLINGS.get((province, city or ""), city)
    province_id = _province_ids().get(_folded(province))
    if province_id is None:
        return None, None
    table = default_division_table()
    if city == "":  # a numbering area that is no single city
        return table.by_id[province_id].name, None
    official_city = _city_names(province_id).get(_folded(city)) if city else None
    if official_city is None:
        cities = table.children.get(province_id, [])
        official_city = table.by_id[cities[0]].name if len(cities) == 1 else None  # 北京市 → 北京市
    return table.by_id[province_id].name, official_city


def _folded(name: str) -> str:
    """Full-width, traditional and invisible characters folded, as the address parser reads names."""
    return fold_chars(name).strip()


@lru_cache(maxsize=1)
def _province_ids() -> dict[str, int]:
    """Every province's full and short name → its id; a short name with 省 too (广西省, 内蒙古省),
    a common misspelling the address parser also allows."""
    names: dict[str, int] = {}
    for d in default_division_table().divisions:
        if d.level == 1:
            for name in (d.name, *d.aliases, *(a + "省" for a in d.aliases)):
                names.setdefault(_folded(name), d.id)
    return names


@lru_cache(maxsize=64)
def _city_names(province_id: int) -> dict[str, str | None]:
    """Every name of a division below a province → its city-level division's name. A city's own
    name wins over a district's (吉林 → 吉林市 over any 吉林区); a name two cities share at the
    same level is ambiguous: None, never a guess."""
    table = default_division_table()
    found: dict[str, dict[int, set[str]]] = {}
    for div_id in table.descendants(province_id):
        d = table.by_id[div_id]
        city = next((a.name for a in table.ancestors(div_id) if a.level == 2), None)
        if city is None:  # a district hung directly under its province: no city to answer with
            continue
        names = [d.name, *d.aliases]
        if d.name.endswith("自治州"):
            names += [a + "州" for a in d.aliases]  # 海西州, 恩施州
        for name in names:
            if len(name) >= 2:  # one-character short names (县 of 某县) are not names
                found.setdefault(_folded(name), {}).setdefault(d.level, set()).add(city)
    out: dict[str, str | None] = {}
    for name, by_level in found.items():
        cities = by_level[min(by_level)]
        out[name] = next(iter(cities)) if len(cities) == 1 else None
    return out


class MobilePrefixTable:
    """7-digit mobile segments → official province/city, over the ``phone`` package's data.

    ``phone.Phone`` reads the file and its header; its records (``<i4 segment, <i4 place offset,
    u1 carrier``, sorted) are then indexed once with numpy into a direct array segment → place
    (2 MB), because its per-call binary search in Python managed ~50k cold lookups/s."""

    _FIRST, _SPAN = 1_000_000, 1_000_000  # 7-digit segments 1000000..1999999

    def __init__(self, dat_file: str | Path | None = None) -> None:
        import numpy as np
        import phone

        book = phone.Phone(str(dat_file) if dat_file else None)
        self._version = book.version
        records = np.frombuffer(book.buf, dtype=np.dtype([("seg", "<i4"), ("ptr", "<i4"), ("kind", "u1")]),
                                count=book.phone_record_count, offset=book.first_phone_record_offset)
        inside = (records["seg"] >= self._FIRST) & (records["seg"] < self._FIRST + self._SPAN)
        records = records[inside]
        offsets, place_ids = np.unique(records["ptr"], return_inverse=True)
        self.places: list[tuple[str | None, str | None] | None] = [None]  # id 0: not allocated
        self.area_codes: list[str | None] = [None]
        for ptr in offsets.tolist():
            text = book.buf[ptr : book.buf.index(b"\0", ptr)].decode("utf-8")
            province, city, _zip, area_code = (text.split("|") + ["", "", "", ""])[:4]
            names = official_names(province, city)
            self.places.append(names if names[0] else None)
            self.area_codes.append(area_code or None)
        index = np.zeros(self._SPAN, dtype=np.int16)
        index[records["seg"] - self._FIRST] = place_ids + 1
        virtual = len(self.places)  # one more id: no place, no area code, its own guess
        self.places.append(None)
        self.area_codes.append(None)
        for prefix in range(1000, 2000):  # every 4-digit prefix: its 1,000 segments share its operator
            segment = mobile_segment(f"{prefix}0000000")
            if segment is not None and segment.virtual:
                block = index[prefix * 1000 - self._FIRST : (prefix + 1) * 1000 - self._FIRST]
                block[block > 0] = virtual
        self._index: list[int] = index.tolist()  # a list answers a scalar lookup ~5x faster than numpy
        self.guesses = [PlaceGuess(*p, "mobile_prefix") if p else _UNKNOWN_PREFIX for p in self.places]
        self.guesses[virtual] = _VIRTUAL_OPERATOR

    @property
    def version(self) -> str:
        """The data release (``2312`` = December 2023)."""
        return self._version.decode("ascii", "replace")

    def region(self, mobile: str) -> tuple[str | None, str | None] | None:
        """Official names for an 11-digit mobile, or None when its segment is not in the table."""
        return self.places[self._index[int(mobile[:7]) - self._FIRST]]

    def area_code(self, mobile: str) -> str | None:
        """The landline area code of an 11-digit mobile's issuing city (``0519``), or None."""
        return self.area_codes[self._index[int(mobile[:7]) - self._FIRST]]

    def guess(self, mobile: str) -> PlaceGuess:
        """``phone_place`` of an 11-digit mobile (prebuilt answers: landing calls this per phone)."""
        return self.guesses[self._index[int(mobile[:7]) - self._FIRST]]


@lru_cache(maxsize=1)
def mobile_prefix_table() -> MobilePrefixTable:
    """The process-wide table (4.5 MB, loaded on first use)."""
    return MobilePrefixTable()


@lru_cache(maxsize=1)
def _area_code_places() -> dict[str, tuple[str | None, str | None]]:
    text = resources.files("ecfusion.standardize.normalize.data").joinpath("landline_area_codes.tsv")
    rows = (r.split("\t") for r in text.read_text("utf-8").splitlines()[1:] if r)
    return {code: official_names(province, city) for code, province, city in rows}


def area_code_region(area_code: str | None) -> tuple[str | None, str | None]:
    """Official province/city of a landline area code (``0531`` → 山东省/济南市); (None, None)
    when the code is unknown."""
    return _area_code_places().get(area_code or "", (None, None))


def phone_place(text: str | None) -> PlaceGuess | None:
    """Where a phone number was issued: a mobile by its 7-digit segment, a landline by its area
    code. None for empty text; a masked number or a non-number gives a guess with no region
    and says why (``masked``, ``not_a_phone``)."""
    if text is None or not text.strip():
        return None
    if len(text) == 11 and text.isascii() and text.isdigit() and text[0] == "1" and text[1] in "3456789":
        return mobile_prefix_table().guess(text)  # the common case: a plain mobile, no parsing
    parsed = parse_phone(text)
    if parsed is None:
        masked = phone_visible_digits(text) is not None or "*" in text or "＊" in text
        return PlaceGuess(None, None, "masked" if masked else "not_a_phone")
    if parsed.kind == "mobile":
        return mobile_prefix_table().guess(parsed.number)
    names = area_code_region(parsed.area_code)
    return PlaceGuess(*names, "area_code") if names[0] else _UNKNOWN_PREFIX


# ---------------------------------------------------------------- IP → region


# ip2region writes the country in Chinese for China, and its own data puts foreign places in
# the province field (马来西亚|0|吉隆坡): a range placed in another country is never completed.
_CHINA = "中国"


def _region_text(text: str) -> tuple[str | None, str | None]:
    """ip2region region text → (province, city), (None, None) for a range outside China. Three
    layouts, ``0`` = unknown:

    * ``国家|省份|城市|ISP|CN`` (data since 2026: a 5th part, the ISO 3166 alpha-2 code),
    * ``国家|区域|省份|城市|ISP`` (older data, 区域 = 华东, 华南 … or 0),
    * ``国家|省份|城市|ISP`` (data in between; ``xdb.read_range_csv`` writes country 0).

    A known country other than 中国 gives no region; an unknown one (a merchant's CSV ranges)
    leaves it to the province name."""
    parts = [None if p in ("", "0") else p for p in text.split("|")]
    iso_code = parts[-1] or ""
    if len(parts) == 5 and len(iso_code) == 2 and iso_code.isascii() and iso_code.isupper():
        country, province, city = parts[0], parts[1], parts[2]
    elif len(parts) == 5:
        country, province, city = parts[0], parts[2], parts[3]
    elif len(parts) == 4:
        country, province, city = parts[0], parts[1], parts[2]
    else:
        return None, None
    if country is not None and country != _CHINA:
        return None, None
    return province, city


@lru_cache(maxsize=65536)
def _place_of_region(text: str) -> PlaceGuess:
    """The answer for one region text (a database holds a few thousand distinct ones)."""
    names = official_names(*_region_text(text))
    return PlaceGuess(*names, "ip") if names[0] else PlaceGuess(None, None, "ip_unknown")


_IPV4_PORT = re.compile(r"(\d+(?:\.\d+){3}):\d{1,5}", re.ASCII)  # 1.0.0.1:8080 (access logs)
_IPV6_BRACKETED = re.compile(r"\[([^\]]+)\](?::\d{1,5})?")  # [240e::1]:443 (RFC 3986 host)
_IPV4_ZERO_PADDED = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}", re.ASCII)


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address as platforms and logs write it; None when ``text`` is not one.

    Beyond what ``ipaddress`` reads: surrounding space, full-width characters (NFKC, as the phone
    and address parsers fold them), a port (``1.0.0.1:8080``, ``[240e::1]:443``), and zero-padded
    IPv4 (``001.000.000.001``, fixed-width exports) read as decimal. ``ipaddress`` refuses leading
    zeros because C's ``inet_aton`` reads them as octal, and a filter and a socket disagreeing on
    ``010.0.0.1`` is an access-control hole; here the address is only located, never connected to
    or allowed, and octal IPs do not occur in order or event data, while padded ones do."""
    value = text.strip()
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        pass
    value = unicodedata.normalize("NFKC", value).strip()
    if m := _IPV4_PORT.fullmatch(value) or _IPV6_BRACKETED.fullmatch(value):
        value = m.group(1)
    if _IPV4_ZERO_PADDED.fullmatch(value):
        value = ".".join(str(int(octet)) for octet in value.split("."))
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


class IpRegions:
    """IP → official province/city over an ip2region ``.xdb`` held in memory."""

    def __init__(self, content: bytes, *, origin: str = "(bytes)") -> None:
        from ip2region import searcher, util

        if len(content) < util.HeaderInfoLength + util.VectorIndexLength:
            raise InputError(f"{origin}: too short for an ip2region database ({len(content)} bytes)",
                             hint="give an ip2region .xdb file (structure 2.0 or 3.0)")
        header = util.Header(content[: util.HeaderInfoLength])
        version = util.version_from_header(header) if header.version in (2, 3) else None
        if version is None:
            raise InputError(f"{origin}: not an ip2region database this searcher reads "
                             f"(structure {header.version}, ip version {header.ipVersion})",
                             hint="give an ip2region .xdb of structure 2.0 (IPv4) or 3.0 (IPv4/IPv6)")
        start, end = header.startIndexPtr, header.endIndexPtr
        first_possible = util.HeaderInfoLength + util.VectorIndexLength
        if not first_possible <= start <= end <= len(content) - version.index_size:
            raise InputError(f"{origin}: corrupt ip2region database (segment index {start}..{end} lies "
                             f"outside the file of {len(content)} bytes)",
                             hint="the file is truncated or not an ip2region database: rebuild it")
        self.origin = origin
        self.ip_version: int = version.id  # 4 or 6
        self._searcher = searcher.new_with_buffer(version, content)
        self._memo: dict[str, PlaceGuess | None] = {}

    @classmethod
    def open(cls, path: str | Path) -> IpRegions:
        """An ip2region ``.xdb`` file, or a ``.csv`` range table (``from_csv``)."""
        path = Path(path)
        if path.suffix.lower() == ".csv":
            return cls.from_csv(path)
        try:
            content = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read ip2region database {path}: {e.strerror or e}",
                             hint="check completion.ip_database in ecfusion.toml") from e
        return cls(content, origin=str(path))

    @classmethod
    def from_csv(cls, path: str | Path) -> IpRegions:
        """A ``start_ip,end_ip,province,city,isp`` range table (``xdb.read_range_csv``), searched
        through an xdb built in memory. Raises InputError naming the file (and line) for an
        unreadable file or a malformed, inverted or overlapping range."""
        ranges, version = read_range_csv(path)
        try:
            content = xdb_bytes(ranges, ip_version=version)
        except InputError as e:
            raise InputError(f"{path}: {e.message}", hint=e.hint) from e
        return cls(content, origin=str(path))

    def lookup(self, ip: str | None) -> PlaceGuess | None:
        """The region of an IP address (as ``parse_ip`` reads it); None for empty text, text that
        is not an IP address, or the other IP version; basis ``ip_unknown`` when the database does
        not place it in a mainland province."""
        if not ip:
            return None
        if ip in self._memo:
            return self._memo[ip]
        answer = self._uncached(ip)
        if len(self._memo) >= 500_000:
            self._memo.clear()
        self._memo[ip] = answer
        return answer

    def _uncached(self, ip: str) -> PlaceGuess | None:
        address = parse_ip(ip)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped and self.ip_version == 4:
            address = address.ipv4_mapped  # ::ffff:1.0.0.1, how a dual-stack server logs IPv4 clients
        if address is None or address.version != self.ip_version:
            return None
        try:
            text = self._searcher.search(address.packed)
        except (ValueError, IndexError, UnicodeDecodeError):
            return None
        return _place_of_region(text)

    def lookup_array(self, ips: pa.Array | pa.ChunkedArray) -> pa.StructArray:
        """A string array of IPs → struct array (``province``, ``city``), null parts when unknown."""
        places = [self.lookup(ip) for ip in ips.to_pylist()]
        return pa.StructArray.from_arrays(
            [pa.array([p.province if p else None for p in places], pa.string()),
             pa.array([p.city if p else None for p in places], pa.string())],
            names=["province", "city"],
        )


IP_REGION_SCHEMA = pa.schema(
    [("ip", pa.string()), ("ip_province", pa.string()), ("ip_city", pa.string()), ("ip_bad", pa.bool_())]
)


class IpRegionStandardizer:
    """Callable Arrow batch (column ``ip``) → batch (``ip``, ``ip_province``, ``ip_city``,
    ``ip_bad``) for the engine's ``map_batches`` over a run's DISTINCT IPs. ``ip_bad``: the text is
    no IP address as ``parse_ip`` reads them (null for no text); the regions are null without a
    database (``path`` None: IP completion off, the addresses are still checked). Opens the
    database lazily so it can be shipped to Spark workers (only the path is pickled)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = None if path is None else str(path)
        self._regions: IpRegions | None = None

    def __getstate__(self) -> dict[str, object]:
        return {"path": self.path, "_regions": None}

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        ips = batch.column("ip")
        bad = pa.array([None if not ip else parse_ip(ip) is None for ip in ips.to_pylist()], pa.bool_())
        if self.path is None:
            province = city = pa.nulls(len(ips), pa.string())
        else:
            if self._regions is None:
                self._regions = IpRegions.open(self.path)
            places = self._regions.lookup_array(ips)
            province, city = places.field("province"), places.field("city")
        return pa.RecordBatch.from_arrays([ips, province, city, bad], schema=IP_REGION_SCHEMA)


def ip_database(workspace: Workspace) -> Path | None:
    """The configured ip2region database, checked; None when IP completion is off.

    Raises ConfigError naming the key when the file is missing or unreadable as an xdb."""
    name = workspace.config.completion.ip_database
    if not name:
        return None
    path = workspace.path(name)
    if not path.is_file():
        raise ConfigError(f"ecfusion.toml: completion.ip_database = '{name}': no such file ({path})",
                          hint="give the path of an ip2region .xdb file or a start_ip,end_ip,province,"
                               "city,isp .csv, or \"\" to turn IP completion off")
    try:
        IpRegions.open(path)
    except InputError as e:
        raise ConfigError(f"ecfusion.toml: completion.ip_database = '{name}': {e.message}",
                          hint=e.hint) from e
    return path


def ip_completion_note(workspace: Workspace) -> str:
    """One line for the run summary: whether IP → region completion is on, and how to turn it on."""
    path = ip_database(workspace)
    if path is None:
        return ("IP → region completion: off (no ip2region database; set [completion] ip_database "
                "in ecfusion.toml)")
    return f"IP → region completion: on ({path.name})"
