"""Region completion: phone prefix → province/city, IP → province/city over a user's ip2region xdb."""

from __future__ import annotations

import ipaddress
import pickle
import random
import struct
from pathlib import Path

import phone
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ip2region import searcher, util

from ecfusion.config import Workspace
from ecfusion.errors import ConfigError, InputError
from ecfusion.standardize.normalize import DivisionTable
from ecfusion.standardize.normalize.completion import (
    IpRegions,
    IpRegionStandardizer,
    PlaceGuess,
    ip_completion_note,
    ip_database,
    mobile_prefix_table,
    official_names,
    phone_place,
)
from ecfusion.standardize.normalize.phone import mobile_segment
from ecfusion.standardize.normalize.xdb import write_xdb, xdb_bytes

# One row per case a user meets: (text, province, city, basis)
PHONES = [
    ("13912345678", "江苏省", "常州市", "mobile_prefix"),
    ("+86 139-1234-5678", "江苏省", "常州市", "mobile_prefix"),
    ("１３９１２３４５６７８", "江苏省", "常州市", "mobile_prefix"),  # full-width digits
    ("13800138000", "北京市", "北京市", "mobile_prefix"),  # municipality: city repeats it
    ("19212345678", "重庆市", "重庆市", "mobile_prefix"),  # 192: China Broadnet, newer than 2020 tables
    ("0571-88888888", "浙江省", "杭州市", "area_code"),  # landline by area code
    ("(020)87654321", "广东省", "广州市", "area_code"),
    ("14000000000", None, None, "unknown_prefix"),  # valid shape, segment not allocated
    ("138****5678", None, None, "masked"),  # 3 visible digits: a carrier, not a place
    ("138＊＊＊＊5678", None, None, "masked"),
    ("$$c2VjcmV0LXBob25lLWhhbmRsZQ==$$", None, None, "not_a_phone"),  # platform ciphertext handle
    ("到了打电话", None, None, "not_a_phone"),
]


@pytest.mark.parametrize(("text", "province", "city", "basis"), PHONES, ids=[p[0] for p in PHONES])
def test_phone_place(text: str, province: str | None, city: str | None, basis: str) -> None:
    assert phone_place(text) == PlaceGuess(province, city, basis)


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_phone_has_no_guess(blank: str | None) -> None:
    assert phone_place(blank) is None


def test_every_segment_region_is_a_division_of_the_table() -> None:
    """All ~360 places of phone.dat land on the division table's official names (no short names
    leak into the unified model): a province, and a city-level division inside it (西昌 → 凉山彝族
    自治州, 万州 → 重庆市). Only 雄安 (newer than the table) and 江汉 (a numbering area of three
    cities) keep just their province."""
    book = phone.Phone()
    raw, offset, count = book.buf, book.first_phone_record_offset, book.phone_record_count
    pairs = set()
    for i in range(count):
        _, record, _ = struct.unpack_from("<iiB", raw, offset + i * 9)
        province, city = raw[record: raw.index(b"\0", record)].decode().split("|")[:2]
        pairs.add((province, city))
    divisions = DivisionTable.load()
    provinces = {d.name: d.id for d in divisions.divisions if d.level == 1}
    unplaced = set()
    for province, city in pairs:
        std_province, std_city = official_names(province, city)
        assert std_province in provinces and std_province.startswith(province[:2]), (province, std_province)
        if std_city is None:
            unplaced.add(city)
            continue
        cities = {divisions.by_id[i].name for i in divisions.children[provinces[std_province]]}
        municipality = std_city == std_province
        assert municipality or std_city in cities, (province, city, std_city)
    assert unplaced == {"雄安", "江汉"}


def test_segment_index_agrees_with_the_phone_package() -> None:
    """The numpy index over phone.dat answers as ``phone.Phone().find`` does, segment by segment,
    except for a virtual operator's segment: no place (phone.dat names the reseller's city)."""
    book, table = phone.Phone(), mobile_prefix_table()
    rng = random.Random(3)
    for _ in range(20_000):
        number = f"1{rng.randrange(30, 100)}{rng.randrange(10**8):08d}"
        found = book.find(number)
        names = official_names(found["province"], found["city"]) if found else (None, None)
        segment = mobile_segment(number)
        expected = names if names[0] and not (segment and segment.virtual) else None
        assert table.region(number) == expected, number
    assert table.version == book.version.decode()


Names = tuple[str | None, str | None]

# One row per case: (province, city) as a table gives them → official names.
NAMES: list[tuple[Names, Names]] = [
    (("江苏", "常州"), ("江苏省", "常州市")),
    (("广西省", "南宁"), ("广西壮族自治区", "南宁市")),  # a short name with the wrong suffix
    (("北京", None), ("北京市", "北京市")),  # a municipality's city is itself
    (("北京", "海淀"), ("北京市", "北京市")),  # a district names its city
    (("四川", "西昌"), ("四川省", "凉山彝族自治州")),
    (("青海", "海西州"), ("青海省", "海西蒙古族藏族自治州")),
    (("广东", "深圳电信"), ("广东省", None)),  # the city is not a whole name: province only
    (("加利福尼亚", None), (None, None)),
    ((None, "杭州"), (None, None)),
    # a foreign place is not the division whose name it contains or shares
    (("北海道", None), (None, None)),  # not 北海市 (广西)
    (("泗水", None), (None, None)),  # Surabaya, not 泗水县 (山东济宁)
    (("吉隆坡", None), (None, None)),  # Kuala Lumpur, not 吉隆县 (西藏日喀则)
    (("乌兰巴托", None), (None, None)),  # Ulaanbaatar, not 乌兰县 (青海海西)
    (("深圳市", None), (None, None)),  # a city where the province belongs: not guessed
]


@pytest.mark.parametrize(("given", "expected"), NAMES, ids=[f"{p}|{c}" for (p, c), _ in NAMES])
def test_official_names(given: Names, expected: Names) -> None:
    assert official_names(*given) == expected


# ---------------------------------------------------------------- IP → region

RANGES = [
    ("1.0.0.0", "1.0.255.255", "中国|广东省|深圳市|电信"),
    ("1.1.0.0", "1.3.10.255", "中国|浙江|杭州|0"),  # crosses /16 blocks; short names
    ("36.96.0.0", "36.96.0.255", "中国|0|北京|北京|联通"),  # older 5-part region text
    ("8.8.8.0", "8.8.8.255", "美国|0|0|Google"),
    ("223.255.255.0", "223.255.255.255", "中国|湖北省|武汉市|移动"),
    ("27.0.0.0", "27.0.0.255", "中国|广东省|深圳市|移动|CN"),  # ip2region data since 2026: ISO code last
    ("27.0.1.0", "27.0.1.255", "中国|华东|浙江省|宁波市|电信"),  # older data: 区域 named
    # foreign places ip2region writes in Chinese, each containing or sharing a division's name
    ("9.9.9.0", "9.9.9.255", "马来西亚|0|吉隆坡|0|0"),
    ("9.9.10.0", "9.9.10.255", "蒙古|0|乌兰巴托|0|0"),
    ("9.9.11.0", "9.9.11.255", "日本|0|北海道|札幌|0"),
    ("9.9.12.0", "9.9.12.255", "印度尼西亚|泗水|0|0"),
    ("9.9.13.0", "9.9.13.255", "Malaysia|Kuala Lumpur|Kuala Lumpur|0|MY"),
    ("10.0.0.0", "10.255.255.255", "Reserved|Reserved|Reserved|0|0"),
]


@pytest.fixture
def xdb(tmp_path: Path) -> Path:
    return write_xdb(tmp_path / "ip.xdb", RANGES)


IPS = [
    ("1.0.3.4", PlaceGuess("广东省", "深圳市", "ip")),
    ("1.2.200.1", PlaceGuess("浙江省", "杭州市", "ip")),
    ("1.3.10.255", PlaceGuess("浙江省", "杭州市", "ip")),
    ("36.96.0.7", PlaceGuess("北京市", "北京市", "ip")),
    ("223.255.255.255", PlaceGuess("湖北省", "武汉市", "ip")),
    ("1.3.11.0", PlaceGuess(None, None, "ip_unknown")),  # in no range
    ("8.8.8.8", PlaceGuess(None, None, "ip_unknown")),  # abroad
    (" 1.0.0.1 ", PlaceGuess("广东省", "深圳市", "ip")),
    ("27.0.0.9", PlaceGuess("广东省", "深圳市", "ip")),
    ("27.0.1.9", PlaceGuess("浙江省", "宁波市", "ip")),
    ("9.9.9.9", PlaceGuess(None, None, "ip_unknown")),  # 吉隆坡, Malaysia
    ("9.9.10.1", PlaceGuess(None, None, "ip_unknown")),  # 乌兰巴托, Mongolia
    ("9.9.11.1", PlaceGuess(None, None, "ip_unknown")),  # 北海道, Japan
    ("9.9.12.1", PlaceGuess(None, None, "ip_unknown")),  # 泗水, Indonesia
    ("9.9.13.1", PlaceGuess(None, None, "ip_unknown")),
    ("10.1.2.3", PlaceGuess(None, None, "ip_unknown")),  # reserved
    # how addresses arrive from forms, logs and dual-stack servers
    ("１.０.０.１", PlaceGuess("广东省", "深圳市", "ip")),  # full-width digits
    ("１．０．０．１", PlaceGuess("广东省", "深圳市", "ip")),  # and dots
    ("001.000.000.001", PlaceGuess("广东省", "深圳市", "ip")),  # zero-padded, read as decimal
    ("::ffff:1.0.0.1", PlaceGuess("广东省", "深圳市", "ip")),  # IPv4-mapped IPv6
    ("::FFFF:0100:0001", PlaceGuess("广东省", "深圳市", "ip")),
    ("1.0.0.1:8080", PlaceGuess("广东省", "深圳市", "ip")),  # with a port
    ("[::ffff:1.0.0.1]:443", PlaceGuess("广东省", "深圳市", "ip")),
    ("1.0.0", None),  # malformed
    ("256.0.0.1", None),
    ("001.000.000.256", None),
    ("1.0.0.1:", None),
    ("1.0.0.1:123456", None),
    ("2001:db8::1", None),  # IPv6 against an IPv4 database
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("ip", "expected"), IPS, ids=[str(i[0]) for i in IPS])
def test_ip_lookup(xdb: Path, ip: str | None, expected: PlaceGuess | None) -> None:
    assert IpRegions.open(xdb).lookup(ip) == expected


def test_written_xdb_reads_the_same_with_an_independent_reader(xdb: Path) -> None:
    """The maker against the upstream searcher and upstream verifier, over random addresses inside
    and around the ranges (the expected answer is computed from the ranges, not from a reader)."""
    content = xdb.read_bytes()
    upstream = searcher.new_with_buffer(util.version_from_header(util.Header(content[:256])), content)
    rng = random.Random(7)
    for _ in range(3000):
        lo, hi, region = RANGES[rng.randrange(len(RANGES))]
        base = int(ipaddress.ip_address(lo)) + rng.randint(-300, int(ipaddress.ip_address(hi))
                                                           - int(ipaddress.ip_address(lo)) + 300)
        ip = str(ipaddress.ip_address(max(0, min(base, 2**32 - 1))))
        text = upstream.search(ip)
        inside = [r for r in RANGES if int(ipaddress.ip_address(r[0])) <= int(ipaddress.ip_address(ip))
                  <= int(ipaddress.ip_address(r[1]))]
        assert text == (inside[0][2] if inside else ""), ip
    util.verify_from_file(str(xdb))


def test_ipv6_database(tmp_path: Path) -> None:
    path = write_xdb(tmp_path / "v6.xdb", [("240e::", "240e:ffff::", "中国|广东省|广州市|电信"),
                                          ("2001:db8::", "2001:db8::ffff", "中国|北京市|北京市|0")],
                     ip_version=6)
    regions = IpRegions.open(path)
    assert regions.lookup("240e:1::5") == PlaceGuess("广东省", "广州市", "ip")
    assert regions.lookup("[240e:1::5]:443") == PlaceGuess("广东省", "广州市", "ip")
    assert regions.lookup("２４０ｅ：１：：５") == PlaceGuess("广东省", "广州市", "ip")
    assert regions.lookup("2001:db8::1:0") == PlaceGuess(None, None, "ip_unknown")
    assert regions.lookup("1.2.3.4") is None


_SEARCHED = IpRegions(xdb_bytes(RANGES), origin="ranges")


@given(st.integers(0, 2**32 - 1) | st.integers(0x01000000, 0x01030AFF), st.integers(1, 65535))  # any | placed
def test_every_spelling_of_an_ipv4_address_has_one_region(number: int, port: int) -> None:
    """Full-width, zero-padded, with a port or IPv4-mapped: the same address, the same answer."""
    plain = str(ipaddress.IPv4Address(number))
    padded = ".".join(f"{int(octet):03d}" for octet in plain.split("."))
    wide = plain.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    expected = _SEARCHED.lookup(plain)
    assert expected is not None
    for spelling in (padded, wide, f"{plain}:{port}", f"::ffff:{plain}", f"[::ffff:{plain}]:{port}"):
        assert _SEARCHED.lookup(spelling) == expected, spelling


def test_overlapping_or_bad_ranges_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="overlap at 1.0.0.5"):
        write_xdb(tmp_path / "x.xdb", [("1.0.0.0", "1.0.0.9", "a"), ("1.0.0.5", "1.0.0.20", "b")])
    with pytest.raises(InputError, match="bad IP range"):
        write_xdb(tmp_path / "x.xdb", [("1.0.0.9", "1.0.0.0", "a")])
    assert not (tmp_path / "x.xdb").exists()


@pytest.mark.parametrize(("content", "message"), [
    (b"", "too short"),
    (b"\x07\x00" + b"\0" * 600_000, "structure 7"),
])
def test_unreadable_database_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.xdb"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        IpRegions.open(path)


def test_truncated_database_fails_at_open(xdb: Path) -> None:
    content = xdb.read_bytes()
    with pytest.raises(InputError, match="corrupt"):
        IpRegions(content[:-20], origin="cut.xdb")


def test_standardizer_batch_and_pickling(xdb: Path) -> None:
    step = pickle.loads(pickle.dumps(IpRegionStandardizer(xdb)))
    batch = pa.RecordBatch.from_pydict({"ip": ["1.0.3.4", None, "bogus", "8.8.8.8"]})
    out = step(batch)
    assert out.column("ip_province").to_pylist() == ["广东省", None, None, None]
    assert out.column("ip_city").to_pylist() == ["深圳市", None, None, None]
    assert out.column("ip_bad").to_pylist() == [False, None, True, False]
    off = IpRegionStandardizer(None)(batch)  # completion off: no region, the addresses still read
    assert off.column("ip_province").null_count == 4
    assert off.column("ip_bad").to_pylist() == [False, None, True, False]


def _workspace(tmp_path: Path, ip_database_line: str) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    cfg = ws.root / "ecfusion.toml"
    cfg.write_text(cfg.read_text().replace('ip_database = ""', ip_database_line), encoding="utf-8")
    return Workspace.open(ws.root)


def test_ip_completion_is_off_without_a_database_and_says_so(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    assert ip_database(ws) is None
    note = ip_completion_note(ws)
    assert note.startswith("IP → region completion: off") and "ip_database" in note and "\n" not in note


def test_ip_completion_on_with_a_configured_database(tmp_path: Path, xdb: Path) -> None:
    ws = _workspace(tmp_path, f'ip_database = "{xdb}"')
    assert ip_database(ws) == xdb
    assert ip_completion_note(ws) == "IP → region completion: on (ip.xdb)"


def test_a_csv_range_table_serves_as_the_configured_database(tmp_path: Path) -> None:
    """A merchant's ``start_ip,end_ip,province,city,isp`` export works without building an xdb;
    a bad row in it stops the run naming the key and the line."""
    table = tmp_path / "ranges.csv"
    table.write_text("start_ip,end_ip,province,city,isp\n1.0.0.0,1.0.255.255,广东,深圳,电信\n"
                     "9.9.9.0,9.9.9.255,北海道,札幌,0\n", "utf-8")  # no country column: names decide
    ws = _workspace(tmp_path, f'ip_database = "{table}"')
    assert ip_completion_note(ws) == "IP → region completion: on (ranges.csv)"
    step = IpRegionStandardizer(ip_database(ws))
    out = step(pa.RecordBatch.from_pydict({"ip": ["1.0.3.4", "2.0.0.1", "9.9.9.9"]}))
    assert out.column("ip_province").to_pylist() == ["广东省", None, None]
    table.write_text("1.0.0.0,1.0.255.255,广东,深圳,电信\n1.0.9.0,1.0.8.0,广东,深圳,电信\n", "utf-8")
    with pytest.raises(ConfigError, match=r"completion\.ip_database = .*ranges\.csv:2: bad IP range"):
        ip_database(ws)


@pytest.mark.parametrize("line", ['ip_database = "missing.xdb"', 'ip_database = "ecfusion.toml"'])
def test_bad_configured_database_names_the_key(tmp_path: Path, line: str) -> None:
    ws = _workspace(tmp_path, line)
    with pytest.raises(ConfigError, match=r"completion\.ip_database"):
        ip_database(ws)
