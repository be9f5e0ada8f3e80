"""A phone's carrier and region (regions.py) and a user's IP range CSV (5.2 Table 1 L3 c)."""

from __future__ import annotations

import ipaddress
import random
import re
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.errors import InputError
from ecfusion.standardize.normalize import (
    DivisionTable,
    IpRegions,
    PlaceGuess,
    Region,
    mobile_carrier,
    phone_place,
    phone_region,
)
from ecfusion.standardize.normalize.completion import _area_code_places, area_code_region, mobile_prefix_table
from ecfusion.standardize.normalize.xdb import xdb_bytes


@pytest.mark.parametrize(
    ("phone", "carrier"),
    [
        ("13800138000", "中国移动"),
        ("13400000000", "中国移动"),
        ("13490000000", "中国电信"),  # 1349 is the satellite segment, not Mobile
        ("13012345678", "中国联通"),
        ("18612345678", "中国联通"),
        ("13312345678", "中国电信"),
        ("19912345678", "中国电信"),
        ("19212345678", "中国广电"),
        ("17012345678", "中国电信"),  # 1700 virtual operator on Telecom
        ("17051234567", "中国移动"),
        ("17091234567", "中国联通"),
        ("+86 150 1234 5678", "中国移动"),
        ("010-12345678", None),
        ("garbage", None),
        (None, None),
    ],
)
def test_mobile_carrier(phone: str | None, carrier: str | None) -> None:
    assert mobile_carrier(phone) == carrier


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("13805311234", Region("山东省", "济南市", "中国移动", "0531")),  # 1380531 → Jinan
        ("+86 138-0531-1234", Region("山东省", "济南市", "中国移动", "0531")),
        ("19212345678", Region("重庆市", "重庆市", "中国广电", "023")),  # 192: newer than 2020 tables
        ("0531-88886666", Region("山东省", "济南市", None, "0531")),
        ("010-62345678", Region("北京市", "北京市", None, "010")),
        ("021 61234567", Region("上海市", "上海市", None, "021")),
        ("0974-2345678", Region("青海省", "海南藏族自治州", None, "0974")),
    ],
)
def test_phone_region_names_official_divisions(phone: str, expected: Region) -> None:
    assert phone_region(phone) == expected


# One row per area code the audit found wrong or missing, and the codes several cities share.
@pytest.mark.parametrize(
    ("phone", "province", "city"),
    [
        ("0431-88886666", "吉林省", "长春市"),
        ("0432-62345678", "吉林省", "吉林市"),
        ("0433-2345678", "吉林省", "延边朝鲜族自治州"),
        ("0434-2345678", "吉林省", "四平市"),
        ("0436-2345678", "吉林省", "白城市"),
        ("0437-2345678", "吉林省", "辽源市"),
        ("0439-2345678", "吉林省", "白山市"),
        ("0555-2345678", "安徽省", "马鞍山市"),
        ("0457-2345678", "黑龙江省", "大兴安岭地区"),
        # retired codes (now 024 / 0851 / 0371): an old record still names its city
        ("0410-2345678", "辽宁省", "铁岭市"),
        ("0413-2345678", "辽宁省", "抚顺市"),
        ("0414-2345678", "辽宁省", "本溪市"),
        ("0852-2345678", "贵州省", "遵义市"),
        ("0378-2345678", "河南省", "开封市"),
        # one code, several cities: only the province is known
        ("0728-2345678", "湖北省", None),  # 仙桃/潜江/天门
        ("0898-66668888", "海南省", None),  # all of Hainan
        ("024-22345678", "辽宁省", None),  # 沈阳/抚顺/本溪/铁岭 since the merge
        ("0731-82345678", "湖南省", None),  # 长沙/株洲/湘潭
        ("0565-2345678", "安徽省", None),  # 巢湖, a prefecture split in 2011
    ],
)
def test_landline_area_code_names_its_city(phone: str, province: str, city: str | None) -> None:
    region = phone_region(phone)
    assert region is not None and (region.province, region.city) == (province, city)


def test_a_mobile_and_a_landline_of_one_city_agree() -> None:
    """1380431 is a Changchun segment whose area code is 0431; a 0431 landline is Changchun too."""
    mobile, landline = phone_region("13804310000"), phone_region("0431-88886666")
    assert mobile == Region("吉林省", "长春市", "中国移动", "0431")
    assert landline == Region("吉林省", "长春市", None, "0431")


# Codes no mobile segment carries any more, kept from libphonenumber's 2011 table (see
# scripts/build_landline_area_codes.py): 0410/0413/0414 → 024, 0852/0853 → 0851, 0378 → 0371;
# 0565 was 巢湖, a prefecture dissolved in 2011.
RETIRED_AREA_CODES = {"0378", "0410", "0413", "0414", "0565", "0852", "0853"}


def test_area_code_table_agrees_with_phone_dat() -> None:
    """Every area code phone.dat gives its mobile segments is in the landline table, with the
    same province; with the same city when all its segments are one city's, with none when
    several cities share it. The table holds no other code but the retired ones."""
    table = mobile_prefix_table()
    provinces: dict[str, set[str | None]] = defaultdict(set)
    cities: dict[str, set[str]] = defaultdict(set)
    for place, code in zip(table.places[1:], table.area_codes[1:], strict=True):
        # phone.dat's own typo (00479 for 0479) is no area code
        if place is None or code is None or not re.fullmatch(r"0(?:10|2\d|[3-9]\d\d)", code):
            continue
        provinces[code].add(place[0])
        if place[1] is not None:  # 雄安 / 江汉: a segment with no single city says nothing
            cities[code].add(place[1])
    shipped = _area_code_places()
    assert set(shipped) == set(provinces) | RETIRED_AREA_CODES
    for code, (province, city) in shipped.items():
        if code in RETIRED_AREA_CODES:
            continue
        assert {province} == provinces[code], code
        expected_city = next(iter(cities[code])) if len(cities[code]) == 1 else None
        assert city == expected_city, (code, city, cities[code])


@pytest.mark.parametrize(
    ("phone", "carrier"),
    [
        ("17012345678", "中国电信"),  # 1700-1702
        ("17051234567", "中国移动"),  # 1703/1705/1706
        ("17091234567", "中国联通"),  # 1704/1707-1709
        ("17112345678", "中国联通"),
        ("16212345678", "中国电信"),
        ("16512345678", "中国移动"),
        ("16712345678", "中国联通"),
    ],
)
def test_virtual_operator_numbers_have_no_region(phone: str, carrier: str) -> None:
    """A virtual operator (虚拟运营商) sells its numbers nationwide: the segment's home city is
    the reseller's, not the buyer's, so no place (and no area code) is given."""
    assert phone_region(phone) == Region(None, None, carrier, None, virtual_operator=True)
    assert mobile_carrier(phone) == carrier


def test_network_operator_170_neighbours_keep_their_region() -> None:
    region = phone_region("17212345678")  # 172 is China Mobile's own segment
    assert region is not None and region.province is not None and not region.virtual_operator
    assert phone_place("17212345678").basis == "mobile_prefix"


@pytest.mark.parametrize("phone", ["17012345678", "17112345678", "16512345678", "+86 167 1234 5678"])
def test_landing_completion_gives_virtual_numbers_no_region(phone: str) -> None:
    assert phone_place(phone) == PlaceGuess(None, None, "virtual_operator")


def test_phone_region_without_a_place() -> None:
    assert phone_region("14000000000") == Region(None, None)  # valid shape, segment not allocated
    assert phone_region("0700-22345678") is None  # no city has area code 0700
    assert phone_region("+86 400 820 8820") is None  # nationwide service number: no place
    assert phone_region("138****5678") is None  # masked: a carrier prefix, not a number
    assert phone_region("not a phone") is None


def test_phone_region_and_landing_completion_agree() -> None:
    """One table behind both answers: the region ``ecfusion normalize phone`` shows is the one
    landing keeps beside the token, for random mobiles (virtual operators aside: see above)."""
    rng = random.Random(11)
    mobiles = [f"1{rng.randrange(30, 100)}{rng.randrange(10**8):08d}" for _ in range(5000)]
    for number in mobiles:
        region, place = phone_region(number), phone_place(number)
        if region.virtual_operator:
            continue
        assert (region.province, region.city) == (place.province, place.city), number


def test_every_landline_area_code_is_a_division_of_the_table() -> None:
    """The area-code table's names all land on a province of the division table and a
    city-level division inside it; a code several cities share names only the province."""
    divisions = DivisionTable.load()
    provinces = {d.name: d.id for d in divisions.divisions if d.level == 1}
    for code in _area_code_places():
        province, city = area_code_region(code)
        assert province in provinces, code
        cities = {divisions.by_id[i].name for i in divisions.children[provinces[province]]}
        assert city is None or city == province or city in cities, (code, province, city)


# ---------------------------------------------------------------- a user's IP range CSV


def _ip(a: str) -> int:
    return int(ipaddress.ip_address(a))


@pytest.fixture()
def ip_table(tmp_path) -> IpRegions:
    path = tmp_path / "ip.csv"
    path.write_text(
        "start_ip,end_ip,province,city,isp\n"
        "1.0.1.0,1.0.3.255,福建省,福州市,电信\n"
        "36.96.0.0,36.111.255.255,0,0,电信\n"
        f"{_ip('58.16.0.0')},{_ip('58.16.255.255')},山东,济南,联通\n"
        "\n"
        "202.96.0.0,202.96.63.255,北京市,北京市,未知\n",
        "utf-8",
    )
    return IpRegions.open(path)


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("1.0.1.0", PlaceGuess("福建省", "福州市", "ip")),
        ("1.0.2.77", PlaceGuess("福建省", "福州市", "ip")),
        ("1.0.3.255", PlaceGuess("福建省", "福州市", "ip")),
        ("1.0.4.0", PlaceGuess(None, None, "ip_unknown")),  # in no range
        ("36.100.1.1", PlaceGuess(None, None, "ip_unknown")),  # a range with no province
        ("58.16.8.8", PlaceGuess("山东省", "济南市", "ip")),  # integer range, short names
        ("202.96.10.10", PlaceGuess("北京市", "北京市", "ip")),
        (" 202.96.10.10 ", PlaceGuess("北京市", "北京市", "ip")),
        ("::1", None),
        ("999.1.1.1", None),
        ("", None),
        (None, None),
    ],
)
def test_ip_lookup_over_a_csv(ip_table: IpRegions, ip: str | None, expected: PlaceGuess | None) -> None:
    assert ip_table.lookup(ip) == expected


def test_ipv6_csv(tmp_path) -> None:
    path = tmp_path / "v6.csv"
    path.write_text("240e::,240e:ffff::,广东省,广州市,电信\n", "utf-8")
    regions = IpRegions.from_csv(path)
    assert regions.lookup("240e:1::5") == PlaceGuess("广东省", "广州市", "ip")
    assert regions.lookup("1.2.3.4") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1.0.1.0,1.0.0.255,福建省,福州市,电信\n", r"bad.csv:1: bad IP range '1.0.1.0'..'1.0.0.255'"),
        ("start_ip,end_ip,province,city,isp\n1.0.1.0,1.0.3.255\n", r"bad.csv:2: expected 5 columns"),
        ("1.0.1.0,1.0.1.255,a,b,c\n1.0.x.0,1.0.9.255,a,b,c\n", r"bad.csv:2: bad IP range '1.0.x.0'"),
        ("1.0.1.0,1.0.1.255,a,b,c\n240e::,240e::ff,a,b,c\n", r"bad.csv:2: bad IP range '240e::'"),
        ("1.0.0.0,1.0.0.9,a,b,c\n1.0.0.5,1.0.0.20,a,b,c\n", r"bad.csv: IP ranges overlap at 1.0.0.5"),
        ("1.0.0.0,1.0.0.9,山东|省,b,c\n", r"bad.csv:1: a region part contains"),
        ("start_ip,end_ip,province,city,isp\n", r"bad.csv: no IP ranges"),
    ],
)
def test_bad_csv_rows_are_clear_errors(tmp_path, content: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, "utf-8")
    with pytest.raises(InputError, match=message):
        IpRegions.from_csv(bad)


def test_unreadable_csv_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(InputError, match="cannot read IP range table"):
        IpRegions.from_csv(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("1.0.0.0,1.0.0.9,Zürich,x,y\n".encode("latin-1"))
    with pytest.raises(InputError, match="cannot read IP range table"):
        IpRegions.from_csv(latin)


_TINY = IpRegions(xdb_bytes([("0.0.0.0", "0.0.0.10", "中国|浙江省|杭州市|0")]), origin="tiny")


@given(st.text(max_size=30))
def test_lookups_never_raise(text: str) -> None:
    phone_region(text)
    mobile_carrier(text)
    _TINY.lookup(text)
