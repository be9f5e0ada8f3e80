"""Region completion from phone numbers and IP addresses.

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 c ("通过 IP 地址补全地域信息"): a member or an
order with no address can still be placed in a province/city from its mobile number
segment, its landline area code or the IP it ordered from.

* Mobile segments (first 7 digits → province/city) and landline area codes ship as
  package data extracted from jionlp 1.5.31 (data/SOURCE.md); the segment table dates
  from 2020, so newer segments return a carrier (from ``data/carriers.tsv``) without a region.
* IP → region needs a range table the user supplies (no IP database is shipped, see
  TOOLCHAIN.md): ``IpRegionLookup.from_csv`` reads ``start_ip,end_ip,province,city,isp``
  rows (dotted IPv4 or integers); ``IpRegionLookup.from_xdb`` reads an ip2region v2 ``.xdb``
  file (the format py-ip2region searches). Both answer with a binary search in memory.
"""

from __future__ import annotations

import bisect
import csv
import ipaddress
import struct
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ecfusion.errors import InputError
from ecfusion.standardize.normalize.phone import normalize_phone, parse_phone


@dataclass(frozen=True, slots=True)
class Region:
    """Where a phone number or IP is registered; any part may be unknown."""

    province: str | None
    city: str | None
    carrier: str | None = None
    area_code: str | None = None


def _data_text(name: str) -> str:
    return resources.files("ecfusion.standardize.normalize.data").joinpath(name).read_text("utf-8")


@lru_cache(maxsize=1)
def _carriers() -> dict[str, str]:
    rows = _data_text("carriers.tsv").splitlines()[1:]
    return {p: c for p, c, _virtual in (r.split("\t") for r in rows if r)}


def mobile_carrier(phone: str | None) -> str | None:
    """The carrier (中国移动/中国联通/中国电信/中国广电) of a mainland mobile number, by prefix."""
    mobile = normalize_phone(phone)
    if mobile is None:
        return None
    table = _carriers()
    return table.get(mobile[:4]) or table.get(mobile[:3])


class _SegmentTable:
    """Sorted, non-overlapping 7-digit segment ranges → region index (numpy + searchsorted)."""

    def __init__(
        self,
        starts: np.ndarray,
        ends: np.ndarray,
        region_ids: np.ndarray,
        regions: list[tuple[str, str, str]],
    ) -> None:
        self.starts, self.ends, self.region_ids, self.regions = starts, ends, region_ids, regions

    def find(self, prefix7: int) -> tuple[str, str, str] | None:
        i = int(np.searchsorted(self.starts, prefix7, side="right")) - 1
        if i < 0 or prefix7 > self.ends[i]:
            return None
        return self.regions[int(self.region_ids[i])]


def _parse_ranges(head: str, spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.append((int(head + lo), int(head + (hi or lo))))
    return out


@lru_cache(maxsize=1)
def _segments() -> _SegmentTable:
    regions: list[tuple[str, str, str]] = []
    triples: list[tuple[int, int, int]] = []
    for line in _data_text("mobile_regions.txt").splitlines():
        if not line.strip():
            continue
        if not line.startswith("\t"):
            place, area_code, _post = line.split("\t")
            province, _, city = place.partition(" ")
            regions.append((province, city or province, area_code))
            continue
        head, spec = line.strip().split("\t")
        triples.extend((lo, hi, len(regions) - 1) for lo, hi in _parse_ranges(head, spec))
    triples.sort()
    arr = np.array(triples, dtype=np.int64).reshape(-1, 3)
    return _SegmentTable(arr[:, 0], arr[:, 1], arr[:, 2].astype(np.int32), regions)


@lru_cache(maxsize=1)
def _area_codes() -> dict[str, tuple[str, str]]:
    rows = _data_text("landline_area_codes.tsv").splitlines()[1:]
    return {code: (prov, city) for code, prov, city in (r.split("\t") for r in rows if r)}


def phone_region(phone: str | None) -> Region | None:
    """Province/city (short names, e.g. ``山东``/``济南``) and carrier of a mobile or landline.

    None when the text is not a phone number. A mobile whose segment is newer than the
    shipped table gives a Region with only the carrier.
    """
    parsed = parse_phone(phone)
    if parsed is None:
        return None
    if parsed.kind == "landline":
        prov_city = _area_codes().get(parsed.area_code or "")
        if prov_city is None:
            return Region(None, None, area_code=parsed.area_code)
        return Region(prov_city[0], prov_city[1], area_code=parsed.area_code)
    carrier = mobile_carrier(parsed.number)
    hit = _segments().find(int(parsed.number[:7]))
    if hit is None:
        return Region(None, None, carrier=carrier)
    return Region(hit[0], hit[1], carrier=carrier, area_code=hit[2])


def _ip_to_int(text: str) -> int | None:
    value = text.strip()
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    return int(ip) if ip.version == 4 else None


@dataclass(frozen=True, slots=True)
class IpRegion:
    """One answer of ``IpRegionLookup``."""

    province: str | None
    city: str | None
    isp: str | None


class IpRegionLookup:
    """IPv4 → province/city/isp over a user-supplied range table, by binary search."""

    def __init__(self, ranges: list[tuple[int, int, IpRegion]]) -> None:
        ranges = sorted(ranges, key=lambda r: r[0])
        self._starts = [r[0] for r in ranges]
        self._ends = [r[1] for r in ranges]
        self._regions = [r[2] for r in ranges]

    def __len__(self) -> int:
        return len(self._starts)

    @classmethod
    def from_csv(cls, path: str | Path) -> IpRegionLookup:
        """Load ``start_ip,end_ip,province,city,isp`` (header optional; ``0`` or empty = unknown).

        Raises InputError when the file cannot be read or a row is malformed or inverted.
        """
        path = Path(path)
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh))
        except OSError as exc:
            raise InputError(
                f"cannot read IP range table {path}: {exc}",
                hint="pass a CSV with start_ip,end_ip,province,city,isp",
            ) from exc
        return cls(_ranges_from_rows(rows, str(path)))

    @classmethod
    def from_xdb(cls, path: str | Path) -> IpRegionLookup:
        """Load an ip2region structure-2.0 (IPv4) ``.xdb`` file into memory.

        Regions are ``国家|区域|省份|城市|ISP`` (or ``国家|省份|城市|ISP``) with ``0`` = unknown.
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"cannot read ip2region database {path}: {exc}",
                hint="pass an ip2region .xdb file (structure 2.0, IPv4)",
            ) from exc
        return cls(_ranges_from_xdb(data, str(path)))

    def lookup(self, ip: str | None) -> IpRegion | None:
        """The region of an IPv4 address, or None (unknown, malformed, IPv6, not covered)."""
        if not ip:
            return None
        value = _ip_to_int(ip)
        if value is None:
            return None
        i = bisect.bisect_right(self._starts, value) - 1
        if i < 0 or value > self._ends[i]:
            return None
        return self._regions[i]


def _unknown_to_none(value: str) -> str | None:
    value = value.strip()
    return None if value in ("", "0", "-", "未知") else value


def _ranges_from_rows(rows: list[list[str]], where: str) -> list[tuple[int, int, IpRegion]]:
    out: list[tuple[int, int, IpRegion]] = []
    for n, row in enumerate(rows, start=1):
        if not row or (n == 1 and row[0].strip().lower() in ("start_ip", "start")):
            continue
        if len(row) < 5:
            raise InputError(
                f"{where}:{n}: expected 5 columns start_ip,end_ip,province,city,isp, got {len(row)}",
                hint="fix or remove the row",
            )
        start, end = _ip_to_int(row[0]), _ip_to_int(row[1])
        if start is None or end is None or end < start:
            raise InputError(
                f"{where}:{n}: bad IPv4 range {row[0]!r}..{row[1]!r}",
                hint="use dotted IPv4 or integers with start <= end",
            )
        out.append((start, end, IpRegion(*(_unknown_to_none(v) for v in row[2:5]))))
    return out


_XDB_HEADER = 256
_XDB_SEGMENT = struct.Struct("<IIHI")  # start_ip, end_ip, data_len, data_ptr


def _region_from_xdb_text(text: str) -> IpRegion:
    parts = [_unknown_to_none(p) for p in text.split("|")]
    if len(parts) >= 5:  # country|region|province|city|isp
        return IpRegion(parts[2], parts[3], parts[4])
    if len(parts) == 4:  # country|province|city|isp
        return IpRegion(parts[1], parts[2], parts[3])
    return IpRegion(None, None, None)


def _ranges_from_xdb(data: bytes, where: str) -> list[tuple[int, int, IpRegion]]:
    if len(data) < _XDB_HEADER:
        raise InputError(f"{where}: too short for an ip2region database", hint="check the file")
    version, _policy, _created, start_ptr, end_ptr = struct.unpack_from("<HHIII", data, 0)
    if version != 2:
        raise InputError(
            f"{where}: ip2region structure version {version} is not supported",
            hint="use a structure-2.0 (IPv4) .xdb, or export start_ip,end_ip,province,city,isp CSV",
        )
    if not (_XDB_HEADER <= start_ptr <= end_ptr <= len(data) - _XDB_SEGMENT.size):
        raise InputError(
            f"{where}: segment index pointers {start_ptr}..{end_ptr} are out of the file",
            hint="the file is truncated or not an ip2region database",
        )
    out: list[tuple[int, int, IpRegion]] = []
    cache: dict[int, IpRegion] = {}
    for off in range(start_ptr, end_ptr + 1, _XDB_SEGMENT.size):
        sip, eip, dlen, dptr = _XDB_SEGMENT.unpack_from(data, off)
        region = cache.get(dptr)
        if region is None:
            text = data[dptr : dptr + dlen].decode("utf-8", errors="replace")
            region = cache[dptr] = _region_from_xdb_text(text)
        out.append((sip, eip, region))
    return out
