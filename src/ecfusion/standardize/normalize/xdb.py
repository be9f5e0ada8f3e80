"""Write an ip2region ``.xdb`` database from IP ranges (the format ``py-ip2region`` searches).

ecfusion ships no IP database (completion.py); a merchant may build one from its own ranges
(a CSV exported from a licensed IP library, its stores' networks) and tests build small ones.
``py-ip2region`` has a searcher but no maker, so this writes the documented layout:

    header (256 B) | vector index (256 × 256 × 8 B) | region texts | segment index

* header: ``u16 structure`` (2 for IPv4, 3 for IPv6), ``u16 index policy`` (1 = vector),
  ``u32 created``, ``u32 first segment ptr``, ``u32 last segment ptr``; structure 3 adds
  ``u16 ip version`` (4/6) and ``u16 pointer bytes`` (4). Little-endian throughout.
* vector index: for each first-two-bytes block, ``u32`` pointers to its first and last segment;
  a range crossing blocks is split at their boundaries.
* segment: ``start ip, end ip, u16 region length, u32 region ptr``; IPv4 addresses as
  little-endian ``u32``, IPv6 as 16 big-endian bytes.

Region texts follow ip2region's ``国家|省份|城市|ISP`` (``0`` = unknown). ``read_range_csv``
turns a ``start_ip,end_ip,province,city,isp`` CSV into such ranges; ``xdb_bytes`` builds the
database in memory (``completion.IpRegions.from_csv`` searches a CSV without a file on disk).
"""

from __future__ import annotations

import csv
import ipaddress
import os
import struct
import time
from collections.abc import Iterable
from pathlib import Path

from ecfusion.errors import InputError

_HEADER = 256
_BLOCKS = 256 * 256
_VECTOR = _BLOCKS * 8


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    value = text.strip()
    return ipaddress.ip_address(int(value) if value.isascii() and value.isdigit() else value)


def _addresses(start: str, end: str, version: int) -> tuple[int, int]:
    try:
        lo, hi = _address(start), _address(end)
    except ValueError as e:
        raise InputError(f"bad IP range {start!r}..{end!r}: {e}",
                         hint="use dotted IPv4, IPv6 text or an IPv4 integer") from e
    if lo.version != version or hi.version != version or int(hi) < int(lo):
        raise InputError(f"bad IP range {start!r}..{end!r}",
                         hint=f"give IPv{version} addresses with start <= end, one version per file")
    return int(lo), int(hi)


def _split_by_block(lo: int, hi: int, bits: int) -> Iterable[tuple[int, int]]:
    """Pieces of [lo, hi] inside one first-two-bytes block each."""
    shift = bits - 16
    while lo <= hi:
        block_end = ((lo >> shift) + 1 << shift) - 1
        yield lo, min(hi, block_end)
        lo = block_end + 1


def write_xdb(path: str | Path, ranges: Iterable[tuple[str, str, str]], *, ip_version: int = 4) -> Path:
    """Write ``(start_ip, end_ip, region_text)`` ranges (sorted or not, not overlapping) as an xdb file.

    The file appears atomically (temporary name, then rename); ``xdb_bytes`` says what is written
    and raises InputError on a bad or overlapping range, before anything touches the disk.
    """
    content = xdb_bytes(ranges, ip_version=ip_version)
    out = Path(path)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(out)
    return out


def xdb_bytes(ranges: Iterable[tuple[str, str, str]], *, ip_version: int = 4) -> bytes:
    """The xdb database of ``(start_ip, end_ip, region_text)`` ranges (sorted or not, not overlapping).

    IPv4 is structure 2.0 (what every ip2region searcher reads), IPv6 3.0. Raises InputError on a
    bad or overlapping range.
    """
    if ip_version not in (4, 6):
        raise InputError(f"ip_version {ip_version} is not 4 or 6", hint="build one file per IP version")
    bits = 32 if ip_version == 4 else 128
    rows = sorted((*_addresses(s, e, ip_version), region) for s, e, region in ranges)
    for (_, prev_hi, _), (lo, _, _) in zip(rows, rows[1:], strict=False):
        if lo <= prev_hi:
            raise InputError(f"IP ranges overlap at {ipaddress.ip_address(lo)}",
                             hint="give each address one region")
    texts: dict[str, tuple[int, int]] = {}
    data = bytearray()
    for _, _, region in rows:
        if region not in texts:
            encoded = region.encode("utf-8")
            texts[region] = (_HEADER + _VECTOR + len(data), len(encoded))
            data += encoded
    pack_ip = (lambda v: struct.pack("<I", v)) if ip_version == 4 else (lambda v: v.to_bytes(16, "big"))
    entry_size = 2 * (bits // 8) + 6
    index = bytearray()
    vector = [(0, 0)] * _BLOCKS
    base = _HEADER + _VECTOR + len(data)
    for lo, hi, region in rows:
        ptr, length = texts[region]
        for a, b in _split_by_block(lo, hi, bits):
            at = base + len(index)
            block = a >> (bits - 16)
            first = vector[block][0] or at
            vector[block] = (first, at)
            index += pack_ip(a) + pack_ip(b) + struct.pack("<HI", length, ptr)
    if not index:
        raise InputError("no IP ranges to write", hint="give at least one range")
    first_ptr, last_ptr = base, base + len(index) - entry_size
    header = struct.pack("<HHIII", 2 if ip_version == 4 else 3, 1, int(time.time()), first_ptr, last_ptr)
    if ip_version == 6:
        header += struct.pack("<HH", 6, 4)
    vector_bytes = b"".join(struct.pack("<II", s, e) for s, e in vector)
    return header.ljust(_HEADER, b"\0") + vector_bytes + bytes(data) + bytes(index)


_UNKNOWN = ("", "0", "-", "未知")
_CSV_HINT = "one range a row: start_ip,end_ip,province,city,isp (dotted IPv4, IPv6 or IPv4 integers)"


def read_range_csv(path: str | Path) -> tuple[list[tuple[str, str, str]], int]:
    """A ``start_ip,end_ip,province,city,isp`` CSV → (``(start, end, "0|province|city|isp")`` ranges
    for ``xdb_bytes``, IP version). Header optional; ``0``, ``-``, ``未知`` or empty = unknown; the
    first range decides the IP version. Raises InputError naming ``path:line`` for an unreadable
    file or a short, malformed, inverted or other-version row."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read IP range table {path}: {e}", hint=_CSV_HINT) from e
    ranges: list[tuple[str, str, str]] = []
    version = 4
    for line, row in enumerate(rows, start=1):
        header = line == 1 and bool(row) and row[0].strip().lower() in ("start_ip", "start")
        if header or not any(cell.strip() for cell in row):
            continue
        if len(row) < 5:
            raise InputError(f"{path}:{line}: expected 5 columns start_ip,end_ip,province,city,isp, "
                             f"got {len(row)}", hint=_CSV_HINT)
        if not ranges:
            version = 6 if ":" in row[0] else 4
        try:
            _addresses(row[0], row[1], version)
        except InputError as e:
            raise InputError(f"{path}:{line}: {e.message}", hint=e.hint) from e
        parts = ["0" if p.strip() in _UNKNOWN else p.strip() for p in row[2:5]]
        if any("|" in p for p in parts):
            raise InputError(f"{path}:{line}: a region part contains '|'", hint="remove '|' from the names")
        ranges.append((row[0], row[1], "|".join(["0", *parts])))
    return ranges, version
