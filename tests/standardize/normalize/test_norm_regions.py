"""A phone's carrier and region (regions.py) and a user's IP range CSV (5.2 Table 1 L3 c)."""

from __future__ import annotations

import ipaddress
import random

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
from ecfusion.standardize.normalize.completion import _area_code_places, area_code_region
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
        ("010-12345678", Region("北京市", "北京市", None, "010")),
        ("021 61234567", Region("上海市", "上海市", None, "021")),
        ("0974-1234567", Region("青海省", "海南藏族自治州", None, "0974")),
    ],
)
def test_phone_region_names_official_divisions(phone: str, expected: Region) -> None:
    assert phone_region(phone) == expected


def test_phone_region_without_a_place() -> None:
    assert phone_region("14000000000") == Region(None, None)  # valid shape, segment not allocated
    assert phone_region("0700-12345678") == Region(None, None, area_code="0700")  # code not in the table
    assert phone_region("138****5678") is None  # masked: a carrier prefix, not a number
    assert phone_region("not a phone") is None


def test_phone_region_and_landing_completion_agree() -> None:
    """One table behind both answers: the region ``ecfusion normalize phone`` shows is the one
    landing keeps beside the token, for random mobiles and every landline area code."""
    rng = random.Random(11)
    mobiles = [f"1{rng.randrange(30, 100)}{rng.randrange(10**8):08d}" for _ in range(5000)]
    for number in mobiles:
        region, place = phone_region(number), phone_place(number)
        assert (region.province, region.city) == (place.province, place.city), number


def test_every_landline_area_code_is_a_division_of_the_table() -> None:
    """The area-code table's short names (山东/济南, 青海/海南藏族) all land on a province of the
    division table and a city-level division inside it."""
    divisions = DivisionTable.load()
    provinces = {d.name: d.id for d in divisions.divisions if d.level == 1}
    for code in _area_code_places():
        province, city = area_code_region(code)
        assert province in provinces, code
        cities = {divisions.by_id[i].name for i in divisions.children[provinces[province]]}
        assert city == province or city in cities, (code, province, city)


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
