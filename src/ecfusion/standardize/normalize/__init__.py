"""Preprocessing normalizers for standardization and entity resolution.

Serves T/JNBDA 0003-2025 5.2 Table 1 L1-L3 (预处理: encoding/character conversion,
normalization, outlier flags, completion from IP / phone / address) and feeds 6.1.3
(entity resolution compares the normalized values). The normalizers and parsers are pure
functions that never raise on bad text — they return ``None`` (or an empty/zero-confidence
result), so the caller decides whether a row goes to quarantine; only loaders of user files
(rules, IP tables, division tables) raise ``ConfigError`` / ``InputError``. Vectorised entry points work on
Arrow arrays for record batches (DuckDB UDFs, Spark ``mapInArrow``).

Public API (import from ``ecfusion.standardize.normalize``)::

    # text (text.py)
    to_halfwidth(text: str) -> str             # "１２３ＡＢＣ，" → "123ABC,"; ideographic space → " "
    to_simplified(text: str) -> str            # "廣東" → "广东" (zhconv zh-hans, phrase aware)
    to_simplified_chars(text: str) -> str      # character table only, ~15x faster
    fold_chars(text: str) -> str               # invisible chars out + half-width + simplified chars
    collapse_whitespace / normalize_punctuation / strip_invisible (text: str) -> str
    clean_text(text: str) -> str               # NFKC + invisible + punctuation + whitespace

    # personal identifiers (personal.py, phone.py, id_number.py); None = not valid
    normalize_name(text: str | None) -> str | None       # "阿卜杜拉 · 艾合買提" → "阿卜杜拉艾合买提"
    normalize_email(text: str | None) -> str | None      # " Foo@Example.COM " → "foo@example.com"
    normalize_phone(text: str | None) -> str | None      # "+86 138-0013-8000" → "13800138000"
    normalize_landline(text: str | None) -> str | None   # "(0531)88886666" → "0531-88886666"
    parse_phone(text: str | None) -> PhoneNumber | None  # .kind mobile|landline .number .area_code .extension
    phone_visible_digits(masked: str | None) -> MaskedPhone | None  # "138****5678" → ("138", "5678")
    MaskedPhone.matches(mobile: str | None) -> bool
    normalize_id_number(text: str | None) -> IdNumber | None
        # GB 11643 check digit; .value .region_code .birth_date .gender ("M"/"F")

    # regions / completion (regions.py, completion.py, xdb.py)
    mobile_carrier(phone: str | None) -> str | None      # 中国移动 | 中国联通 | 中国电信 | 中国广电
    phone_region(phone: str | None) -> Region | None     # .province .city .carrier .area_code
        # .virtual_operator
    phone_place(text: str | None) -> PlaceGuess | None   # .province .city .basis (what landing keeps)
        # a virtual operator's mobile (170x/171/162/165/167) and a 400/800 number get no place
    IpRegions.open(path) -> IpRegions                    # user ip2region .xdb (2.0 IPv4 / 3.0 IPv6) or .csv
    IpRegions.from_csv(path) -> IpRegions                # user CSV: start_ip,end_ip,province,city,isp
    IpRegions.lookup(ip: str | None) -> PlaceGuess | None   # .province .city .basis "ip" | "ip_unknown"
        # reads "１.０.０.１", "1.0.0.1:8080", "::ffff:1.0.0.1"; a range in another country: ip_unknown
    write_xdb(path, ranges, *, ip_version=4) -> Path     # (start_ip, end_ip, "国家|省份|城市|ISP") ranges

    # addresses (address.py, divisions.py)
    AddressParser(table: DivisionTable | None = None, *, cache_size: int = 500_000)
    AddressParser.parse(text: str | None) -> ParsedAddress
        # NamedTuple (province, city, district, detail, adcode, confidence 0..1)
    AddressParser.parse_batch(values: pa.Array | pa.ChunkedArray) -> pa.StructArray  # ADDRESS_STRUCT
    parse_address(text: str | None) -> ParsedAddress     # process-wide default parser
    DivisionTable.load(path: str | Path | None = None) -> DivisionTable

    # SQL: from ecfusion.standardize.normalize.sql_functions import register_duckdb_functions
    register_duckdb_functions(con, parser=None) -> list[str]  # ecf_parse_address, ecf_normalize_*

    # outliers (bounds.py)
    BoundsRule(name, column=None, min=None, max=None, min_inclusive=True, max_inclusive=True,
               integer=False, allow_null=True)
    check_bounds(values: pa.Array | np.ndarray | Sequence, rule) -> pa.StringArray  # reason | null
    load_bounds_rules(path: str | Path) -> list[BoundsRule]    # TOML/JSON; ConfigError on bad spec

    # product titles (spec.py)
    parse_spec(title: str | None) -> Spec  # .capacity_value .capacity_unit "ml"|"g" .pack_count .raw .size
    clean_title(title: str | None, *, brands: tuple[str, ...] = ()) -> str

Province/city/district names are the official full names (山东省, 济南市, 历下区; for a
municipality the city repeats it: 北京市/北京市/朝阳区) — the address parser, phone and IP
completion all answer with them.
"""

from __future__ import annotations

from ecfusion.standardize.normalize.address import ADDRESS_STRUCT, AddressParser, ParsedAddress, parse_address
from ecfusion.standardize.normalize.bounds import BoundsRule, check_bounds, load_bounds_rules
from ecfusion.standardize.normalize.completion import IpRegions, PlaceGuess, phone_place
from ecfusion.standardize.normalize.divisions import Division, DivisionTable
from ecfusion.standardize.normalize.id_number import IdNumber, normalize_id_number
from ecfusion.standardize.normalize.personal import normalize_email, normalize_name
from ecfusion.standardize.normalize.phone import (
    MaskedPhone,
    PhoneNumber,
    normalize_landline,
    normalize_phone,
    parse_phone,
    phone_visible_digits,
)
from ecfusion.standardize.normalize.regions import Region, mobile_carrier, phone_region
from ecfusion.standardize.normalize.spec import Spec, clean_title, parse_spec
from ecfusion.standardize.normalize.text import (
    clean_text,
    collapse_whitespace,
    fold_chars,
    normalize_punctuation,
    strip_invisible,
    to_halfwidth,
    to_simplified,
    to_simplified_chars,
)
from ecfusion.standardize.normalize.xdb import write_xdb

__all__ = [
    "ADDRESS_STRUCT",
    "AddressParser",
    "BoundsRule",
    "Division",
    "DivisionTable",
    "IdNumber",
    "IpRegions",
    "MaskedPhone",
    "ParsedAddress",
    "PhoneNumber",
    "PlaceGuess",
    "Region",
    "Spec",
    "check_bounds",
    "clean_text",
    "clean_title",
    "fold_chars",
    "collapse_whitespace",
    "load_bounds_rules",
    "mobile_carrier",
    "normalize_email",
    "normalize_id_number",
    "normalize_landline",
    "normalize_name",
    "normalize_phone",
    "normalize_punctuation",
    "parse_address",
    "parse_phone",
    "parse_spec",
    "phone_place",
    "phone_visible_digits",
    "phone_region",
    "strip_invisible",
    "to_halfwidth",
    "to_simplified",
    "to_simplified_chars",
    "write_xdb",
]
