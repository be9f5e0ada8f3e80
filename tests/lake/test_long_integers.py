"""Integers beyond 64 bits land with every digit (orjson alone reads them as floats, refuses to write them).

Before: ``{"oid": 123456789012345678901234}`` landed as ``1.2345678901234569e+23``, and a second order
differing only in the id's last digits was counted a duplicate and dropped; a payload dict holding
such a Python int (a collector's, a database row's) ended the landing with ``TypeError: Integer
exceeds 64-bit range``. Records without one land with the very bytes and content hash they always
had, so a raw zone landed before does not take them again as new.
"""

from __future__ import annotations

import json
from concurrent.futures import Future
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.lake.conftest import TokenizingCipher, make_lake

from ecfusion.lake import RawLake
from ecfusion.lake import privacy as lake_privacy
from ecfusion.lake.envelope import canonical_json, content_hasher, json_default
from ecfusion.lake.files import ingest_files
from ecfusion.lake.privacy import ParallelProtection

LONG = 123456789012345678901234  # 24 digits: a kuaishou-style order id sent as a JSON number


def _payloads(lake: RawLake, source: str = "kuaishou", entity: str = "orders") -> list[dict[str, Any]]:
    return [json.loads(p) for p in lake.read_raw(source, entity).column("payload").to_pylist()]


# One row per way an export writes a long integer; each file holds two records that differ only there.
EXPORTS = [
    ("orders.jsonl", lambda a, b: f'{{"oid": {a}, "status": "30"}}\n{{"oid": {b}, "status": "30"}}\n'),
    ("orders.json", lambda a, b: f'[{{"oid": {a}, "status": "30"}}, {{"oid": {b}, "status": "30"}}]'),
    ("orders.json", lambda a, b: f'{{"data": [{{"oid": {a}}}, {{"oid": {b}}}]}}'),
    ("orders.jsonl", lambda a, b: f'{{"oid": "K1", "items": [{{"itemId": {a}}}]}}\n'
                                  f'{{"oid": "K1", "items": [{{"itemId": {b}}}]}}\n'),
]
NUMBERS = [
    (LONG, LONG + 1),  # 24 digits
    (2**64, 2**64 + 1),  # the first integer orjson cannot read
    (-(2**63) - 1, -(2**63) - 2),  # below -2**63: only 19 digits
    (10**300, 10**300 + 7),
]


@pytest.mark.parametrize(("name", "render"), EXPORTS, ids=["jsonl", "array", "data", "nested"])
@pytest.mark.parametrize(("a", "b"), NUMBERS, ids=["24-digits", "2**64", "below-2**63", "301-digits"])
def test_records_differing_only_in_a_long_numeric_id_both_land_with_every_digit(
    lake: RawLake, tmp_path: Path, name: str, render: Any, a: int, b: int
) -> None:
    path = tmp_path / name
    path.write_text(render(a, b), encoding="utf-8")
    r = ingest_files(lake, "kuaishou", [path], entity="orders").total
    assert (r.offered, r.landed, r.duplicates, r.quarantined) == (2, 2, 0, 0)
    text = "".join(lake.read_raw("kuaishou", "orders").column("payload").to_pylist())
    assert str(a) in text and str(b) in text and "e+" not in text


def test_the_same_file_landed_twice_is_all_duplicates(lake: RawLake, tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text(f'{{"oid": {LONG}}}\n{{"oid": {LONG + 1}}}\n', encoding="utf-8")
    first = ingest_files(lake, "kuaishou", [path], entity="orders").total
    path.write_text(f'{{"oid": {LONG + 1}}}\n{{ "oid" : {LONG} }}\n', encoding="utf-8")  # reordered, respaced
    again = ingest_files(lake, "kuaishou", [path], entity="orders").total
    assert (first.landed, first.duplicates) == (2, 0)
    assert (again.offered, again.landed, again.duplicates) == (2, 0, 2)
    assert sorted(p["oid"] for p in _payloads(lake)) == [LONG, LONG + 1]


def test_a_gbk_export_keeps_its_long_ids_too(lake: RawLake, tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    text = f'{{"oid": {LONG}, "店铺": "南京店"}}\n{{"oid": {LONG + 1}, "店铺": "南京店"}}\n'
    path.write_bytes(text.encode("gbk"))
    r = ingest_files(lake, "kuaishou", [path], entity="orders").total
    assert (r.landed, r.duplicates) == (2, 0)
    assert sorted(p["oid"] for p in _payloads(lake)) == [LONG, LONG + 1]


@pytest.mark.parametrize("as_text", [False, True])
def test_a_collector_offering_a_long_python_int_lands_it_not_a_traceback(
    lake: RawLake, as_text: bool
) -> None:
    """A dict as a database row or a collector hands it (Python ints have no size limit), or its text."""
    rows = [{"oid": LONG, "lines": [{"sku": -(2**70)}], "n": 1}, {"oid": LONG + 1, "lines": [], "n": 1}]
    with lake.writer("crm", "orders", "crm") as w:
        for row in rows:
            w.add(json.dumps(row) if as_text else row)
        w.add(json.dumps(rows[0]) if as_text else dict(rows[0]))  # the same again
    assert (w.result.offered, w.result.landed, w.result.duplicates) == (3, 2, 1)
    assert sorted(_payloads(lake, "crm"), key=lambda p: p["oid"]) == rows


class _InProcessPool:
    """``ProcessPoolExecutor.submit`` run on the spot: the workers' JSON round trip without processes."""

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done

    def shutdown(self, **_: Any) -> None:
        pass


def test_parallel_protection_keeps_long_ints_across_the_worker_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = make_lake(tmp_path, target_file_rows=2)  # chunks of 2 rows: all but the first go to workers
    lake.parallel = ParallelProtection(tmp_path, workers=1)
    lake.parallel._pool = _InProcessPool()  # type: ignore[assignment]
    monkeypatch.setattr(lake_privacy, "_WORKER_CIPHER", TokenizingCipher())
    rows = [{"oid": LONG + i, "phone": "13800000000"} for i in range(6)]
    with lake.writer("crm", "orders", "crm") as w:
        for row in rows:
            w.add(dict(row))
    assert (w.result.landed, w.result.duplicates) == (6, 0)
    landed = _payloads(lake, "crm")
    assert sorted(p["oid"] for p in landed) == [r["oid"] for r in rows]
    assert all(p["phone"].startswith("ef1:") for p in landed)


# -- what was landed before must hash the same ----------------------------------------------------------

# A record as ecfusion before this change wrote it: its canonical bytes and content hash (computed there).
RECORD = {
    "tid": 2_000_000_000_001, "n": -(2**63), "u": 2**64 - 1, "fee": 19.9, "店": "南京", "ok": True,
    "lines": [{"oid": 3, "price": "9.90"}], "none": None, "big_text": "1" * 30, 7: "x",
    "paid": Decimal("12.50"), "at": datetime(2026, 1, 1, 8, 0, tzinfo=UTC),
}
RECORD_BYTES = (
    b'{"7":"x","at":"2026-01-01T08:00:00+00:00","big_text":"111111111111111111111111111111","fee":19.9,'
    b'"lines":[{"oid":3,"price":"9.90"}],"n":-9223372036854775808,"none":null,"ok":true,"paid":"12.50",'
    b'"tid":2000000000001,"u":18446744073709551615,"\xe5\xba\x97":"\xe5\x8d\x97\xe4\xba\xac"}'
)
RECORD_HASH = "f9158b3e7f6ba3ba982f24d9aee516f4"


def test_a_record_without_long_integers_keeps_its_bytes_and_content_hash() -> None:
    assert canonical_json(RECORD) == RECORD_BYTES
    assert content_hasher(b"k" * 32, "taobao", "orders", None)(canonical_json(RECORD)) == RECORD_HASH


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)
    | st.text(alphabet=st.sampled_from("0123456789-.eE\"\\ab店 \n"), max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _json_values, max_size=6))
def test_within_64_bits_the_lake_reads_and_writes_exactly_what_orjson_does(
    payload: dict[str, Any],
) -> None:
    """Digit runs in strings, floats, 20-digit texts: they may take the exact path, never change a byte."""
    from ecfusion.lake import jsontext

    options = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    canonical = orjson.dumps(payload, option=options, default=json_default)
    assert canonical_json(payload) == canonical
    assert orjson.dumps(jsontext.loads(canonical)) == orjson.dumps(orjson.loads(canonical))
