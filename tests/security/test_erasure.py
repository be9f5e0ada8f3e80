"""Crypto-shredding: erased subjects' data in files already written becomes unreadable, untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecfusion.config import Workspace
from ecfusion.errors import InputError, SubjectErased
from ecfusion.security.erasure import erase_person, erase_subject, subjects_with_value
from ecfusion.security.fields import FieldCipher, parse_token

ORDERS = [
    {"tid": "1001", "buyer_open_uid": "U1", "receiver_name": "李娜", "receiver_mobile": "13812345678",
     "receiver_address": "杭州市西湖区文三路100号"},
    {"tid": "1002", "buyer_open_uid": "U2", "receiver_name": "王伟", "receiver_mobile": "13912345678",
     "receiver_address": "北京市朝阳区建国路88号"},
]


def write_lake_file(cipher: FieldCipher, root: Path) -> Path:
    results = cipher.protect_many(ORDERS, source="tmall", platform="taobao")
    folder = root / "raw" / "source=tmall" / "entity=orders" / "dt=2026-11-22"
    folder.mkdir(parents=True)
    path = folder / "part-0.parquet"
    payloads = [json.dumps(r.payload, ensure_ascii=False) for r in results]
    pq.write_table(pa.table({"raw_record_id": ["a", "b"], "payload": payloads}), path)
    return path


def read_payloads(path: Path) -> list[dict[str, str]]:
    return [json.loads(p) for p in pq.read_table(path).column("payload").to_pylist()]


def test_erasure_makes_a_written_parquet_file_unreadable_without_rewriting_it(
    cipher: FieldCipher, tmp_path: Path
) -> None:
    path = write_lake_file(cipher, tmp_path / "lake")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    first, second = read_payloads(path)
    assert cipher.decrypt(first["receiver_mobile"]) == "13812345678"

    erase_subject(cipher, "taobao:U1", "DSR-2026-0042 deletion request")

    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, "the lake file is not rewritten"
    first, second = read_payloads(path)
    for key in ("receiver_name", "receiver_mobile", "receiver_address"):
        with pytest.raises(SubjectErased, match="DSR-2026-0042"):
            cipher.decrypt(first[key])
    assert cipher.decrypt(second["receiver_name"]) == "王伟"
    assert first["tid"] == "1001", "non-personal fields stay usable"


def test_erasure_holds_in_a_fresh_process_after_reopening(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    cipher = FieldCipher.open(ws)
    token = cipher.encrypt("phone", "13812345678", "jd:o-1")
    cipher.erase_subject("jd:o-1", "closed account")
    cipher.close()
    reopened = FieldCipher.open(ws)
    with pytest.raises(SubjectErased, match="closed account"):
        reopened.decrypt(token)
    reopened.close()


def test_erase_person_by_phone_finds_every_subject_holding_it(cipher: FieldCipher, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    path = write_lake_file(cipher, lake)
    bidx = cipher.blind_index("phone", "138 1234 5678")
    found, files = subjects_with_value(lake, "phone", bidx)
    assert files == 1 and found == {cipher.subject_id("taobao:U1")}

    report = erase_person(cipher, lake, phone="+86 138-1234-5678", reason="DSR-9")
    assert cipher.subject_id("taobao:U1") in report.subject_ids
    first, second = read_payloads(path)
    with pytest.raises(SubjectErased):
        cipher.decrypt(first["receiver_mobile"])
    assert cipher.decrypt(second["receiver_mobile"]) == "13912345678"


def test_erase_person_needs_a_value(cipher: FieldCipher, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="needs a phone"):
        erase_person(cipher, tmp_path, reason="x")


def test_erasure_through_the_real_lake(tmp_path: Path) -> None:
    lake_mod = pytest.importorskip("ecfusion.lake")
    ws = Workspace.init(tmp_path / "ws")
    lake = lake_mod.RawLake.open(ws)
    with lake.writer(source="tmall", entity="orders", platform="taobao") as w:
        for order in ORDERS:
            w.add(order, record_key=order["tid"])
    files = sorted(ws.lake_root.rglob("*.parquet"))
    raw_bytes = b"".join(f.read_bytes() for f in files)
    for order in ORDERS:
        for key in ("receiver_name", "receiver_mobile", "receiver_address"):
            assert order[key].encode() not in raw_bytes
    cipher = FieldCipher.open(ws)
    rows = lake.read_raw("tmall", "orders").column("payload").to_pylist()
    payloads = {p["tid"]: p for p in map(json.loads, rows)}
    assert parse_token(payloads["1001"]["receiver_mobile"]).subject == cipher.subject_id("taobao:U1")
    cipher.erase_subject("taobao:U1", "DSR-1")
    with pytest.raises(SubjectErased):
        cipher.decrypt(payloads["1001"]["receiver_mobile"])
    assert cipher.decrypt(payloads["1002"]["receiver_mobile"]) == "13912345678"
    cipher.close()
