"""Region completion from phone numbers and IPs (5.2 Table 1 L3 c)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.errors import InputError
from ecfusion.standardize.normalize import IpRegion, IpRegionLookup, mobile_carrier, phone_region


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
    ("phone", "province", "city"),
    [
        ("13805311234", "山东", "济南"),  # 1380531 → Jinan
        ("+86 138-0531-1234", "山东", "济南"),
        ("0531-88886666", "山东", "济南"),
        ("010-12345678", "北京", "北京"),
        ("021 61234567", "上海", "上海"),
    ],
)
def test_phone_region(phone: str, province: str, city: str) -> None:
    got = phone_region(phone)
    assert got is not None and (got.province, got.city) == (province, city)


def test_phone_region_unknown_segment_keeps_carrier() -> None:
    got = phone_region("19212345678")
    assert got is not None and got.carrier == "中国广电"
    assert phone_region("not a phone") is None


def _ip(a: str) -> int:
    return int(ipaddress.ip_address(a))


@pytest.fixture()
def ip_table(tmp_path):
    path = tmp_path / "ip.csv"
    path.write_text(
        "start_ip,end_ip,province,city,isp\n"
        "1.0.1.0,1.0.3.255,福建省,福州市,电信\n"
        "36.96.0.0,36.111.255.255,0,0,电信\n"
        f"{_ip('58.16.0.0')},{_ip('58.16.255.255')},山东省,济南市,联通\n"
        "202.96.0.0,202.96.63.255,北京市,北京市,未知\n",
        "utf-8",
    )
    return IpRegionLookup.from_csv(path)


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("1.0.1.0", IpRegion("福建省", "福州市", "电信")),
        ("1.0.2.77", IpRegion("福建省", "福州市", "电信")),
        ("1.0.3.255", IpRegion("福建省", "福州市", "电信")),
        ("1.0.4.0", None),
        ("0.0.0.1", None),
        ("36.100.1.1", IpRegion(None, None, "电信")),
        ("58.16.8.8", IpRegion("山东省", "济南市", "联通")),
        (str(_ip("58.16.8.8")), IpRegion("山东省", "济南市", "联通")),
        ("202.96.10.10", IpRegion("北京市", "北京市", None)),
        (" 202.96.10.10 ", IpRegion("北京市", "北京市", None)),
        ("255.255.255.255", None),
        ("::1", None),
        ("999.1.1.1", None),
        ("", None),
        (None, None),
    ],
)
def test_ip_lookup(ip_table: IpRegionLookup, ip: str | None, expected: IpRegion | None) -> None:
    assert ip_table.lookup(ip) == expected


def test_ip_table_errors_name_the_row(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("1.0.1.0,1.0.0.255,福建省,福州市,电信\n", "utf-8")
    with pytest.raises(InputError, match=r"bad.csv:1"):
        IpRegionLookup.from_csv(bad)
    short = tmp_path / "short.csv"
    short.write_text("1.0.1.0,1.0.3.255\n", "utf-8")
    with pytest.raises(InputError, match="5 columns"):
        IpRegionLookup.from_csv(short)
    with pytest.raises(InputError, match="cannot read"):
        IpRegionLookup.from_csv(tmp_path / "missing.csv")


@given(st.text(max_size=30))
def test_lookups_never_raise(text: str) -> None:
    lookup = IpRegionLookup([(0, 10, IpRegion("a", "b", "c"))])
    lookup.lookup(text)
    phone_region(text)
    mobile_carrier(text)


def _write_xdb(path, segments: list[tuple[str, str, str]], version: int = 2) -> None:
    """A minimal ip2region structure-2.0 file: header, (empty) vector index, regions, segment index."""
    import struct

    header_len, vector_len = 256, 256 * 256 * 8
    payload, pointers = b"", []
    for _s, _e, region in segments:
        pointers.append((header_len + vector_len + len(payload), len(region.encode())))
        payload += region.encode()
    start = header_len + vector_len + len(payload)
    index = b"".join(
        struct.pack("<IIHI", _ip(s), _ip(e), dlen, dptr)
        for (s, e, _r), (dptr, dlen) in zip(segments, pointers, strict=True)
    )
    end = start + len(index) - 14
    header = struct.pack("<HHIII", version, 1, 0, start, end).ljust(header_len, b"\0")
    path.write_bytes(header + bytes(vector_len) + payload + index)


def test_ip_lookup_from_xdb(tmp_path) -> None:
    path = tmp_path / "ip2region.xdb"
    _write_xdb(
        path,
        [
            ("0.0.0.0", "1.0.0.255", "0|0|0|内网IP|内网IP"),
            ("1.0.1.0", "1.0.3.255", "中国|0|福建省|福州市|电信"),
            ("1.0.4.0", "58.15.255.255", "中国|0|0|0|0"),
            ("58.16.0.0", "58.16.255.255", "中国|山东省|济南市|联通"),
        ],
    )
    lookup = IpRegionLookup.from_xdb(path)
    assert len(lookup) == 4
    assert lookup.lookup("1.0.2.1") == IpRegion("福建省", "福州市", "电信")
    assert lookup.lookup("58.16.1.1") == IpRegion("山东省", "济南市", "联通")
    assert lookup.lookup("20.0.0.1") == IpRegion(None, None, None)
    assert lookup.lookup("58.17.0.0") is None


def test_xdb_errors(tmp_path) -> None:
    v3 = tmp_path / "v3.xdb"
    _write_xdb(v3, [("1.0.1.0", "1.0.3.255", "中国|0|福建省|福州市|电信")], version=3)
    with pytest.raises(InputError, match="version 3"):
        IpRegionLookup.from_xdb(v3)
    short = tmp_path / "short.xdb"
    short.write_bytes(b"xdb")
    with pytest.raises(InputError, match="too short"):
        IpRegionLookup.from_xdb(short)
