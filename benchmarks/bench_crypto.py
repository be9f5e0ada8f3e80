"""Privacy at landing, measured (issue 2 §4 "Privacy at landing"; T/JNBDA 0003-2025 7.4).

Landing 1M orders encrypts several million personal fields, so the field cipher must keep up.
Each figure is reported as CPU-seconds based throughput (these machines are shared: wall time
drifts with the load average, which is recorded) beside its floor and the ratio:

* ``ensure_keys`` — new per-subject data keys created durably (wrapped, one SQLite transaction
  per chunk of 5,000, fsync on commit): keys/s.
* ``encrypt_many`` AES-256-GCM and SM4-GCM — fields/s over a realistic mix (phone, name,
  address; 10 fields per subject), cold (no blind index memoized) and warm (the same values
  again, as when an order is re-landed after a status change). Floor: the bare AEAD call with
  one key and a fresh nonce per field (``AESGCM.encrypt`` / SM4-GCM), nothing else. Target:
  >= 200,000 fields/s on one core for AES cold.
* ``decrypt`` — fields/s; floor: the bare AEAD decrypt.
* ``protect_many`` — Taobao-shaped orders (27 leaves, 5 personal fields, one free-text message
  with a phone in it) per second, new subject per order; floor: ``orjson`` parse + dump of the same
  orders, which landing does anyway.
* peak RSS.

    .venv/bin/python benchmarks/bench_crypto.py [--fields 1000000] [--orders 100000]

Writes benchmarks/results/crypto.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ecfusion.security.fields import FieldCipher
from ecfusion.security.keystore import LocalKeyStore

RESULTS = Path(__file__).resolve().parent / "results"
CHUNK = 10_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
ROADS = ["文三路", "建国路", "人民路", "中山路", "解放路", "科技园路", "世纪大道"]


class Timer:
    """CPU and wall seconds of a block."""

    def __enter__(self) -> Timer:
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self.cpu
        self.wall = time.perf_counter() - self.wall


def figure(count: int, t: Timer, floor: Timer | None = None, target: float | None = None) -> dict[str, Any]:
    per_cpu = count / t.cpu if t.cpu else float("inf")
    out: dict[str, Any] = {"count": count, "cpu_seconds": round(t.cpu, 3), "wall_seconds": round(t.wall, 3),
                           "per_cpu_second": round(per_cpu), "per_wall_second": round(count / t.wall)}
    if floor is not None:
        out["floor_cpu_seconds"] = round(floor.cpu, 3)
        out["floor_per_cpu_second"] = round(count / floor.cpu) if floor.cpu else None
        out["ratio_to_floor_cpu"] = round(t.cpu / floor.cpu, 2) if floor.cpu else None
    if target is not None:
        out["target_per_second"] = target
        out["ratio_to_target"] = round(per_cpu / target, 2)
    return out


def field_mix(n: int, subjects: int) -> list[tuple[str, str, str]]:
    items = []
    for i in range(n):
        s = i % subjects
        kind = ("phone", "name", "address")[i % 3]
        if kind == "phone":
            value = f"1{3 + i % 7}{(i * 7919) % 10**9:09d}"
        elif kind == "name":
            value = SURNAMES[i % 20] + GIVEN[(i // 20) % len(GIVEN)] + GIVEN[(i // 440) % len(GIVEN)]
        else:
            value = f"浙江省杭州市西湖区{ROADS[i % 7]}{i % 997}号{i % 31}幢{i % 7}单元"
        items.append((kind, value, f"taobao:buyer{s}"))
    return items


def chunked(items: list[Any], size: int = CHUNK) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def bare_aead_loop(items: list[tuple[str, str, str]], seal: Callable[[bytes, bytes, bytes], bytes]) -> Timer:
    with Timer() as t:
        for kind, value, _ in items:
            seal(os.urandom(12), value.encode(), b"ef1:" + kind.encode())
    return t


def sm4_seal(key: bytes) -> Callable[[bytes, bytes, bytes], bytes]:
    def seal(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        return enc.update(data) + enc.finalize() + enc.tag
    return seal


def taobao_order(i: int) -> dict[str, Any]:
    phone = f"1{3 + i % 7}{(i * 7919) % 10**9:09d}"
    return {
        "tid": 4012345678901234567 + i, "tid_str": str(4012345678901234567 + i), "status": "TRADE_FINISHED",
        "buyer_nick": f"tb_{i}", "buyer_open_uid": f"AAH{i:08d}", "created": "2026-11-11 00:00:01",
        "modified": "2026-11-12 10:00:00", "pay_time": "2026-11-11 00:00:05", "payment": "199.00",
        "post_fee": "0.00", "total_fee": "199.00", "receiver_name": SURNAMES[i % 20] + GIVEN[i % len(GIVEN)],
        "receiver_mobile": phone, "receiver_phone": "", "receiver_state": "浙江省", "receiver_city": "杭州市",
        "receiver_district": "西湖区", "receiver_address": f"{ROADS[i % 7]}{i % 997}号",
        "receiver_zip": "310000", "buyer_message": f"到了打{phone}" if i % 5 == 0 else "",
        "orders": {"order": [{"oid": 4012345678901234567 + i, "num_iid": 600000000000 + i % 500,
                              "sku_id": str(5000000000000 + i % 900), "outer_sku_id": f"WH-{i % 50}",
                              "title": "保湿水 500ml", "price": "199.00", "num": 1,
                              "sku_properties_name": "规格:500ml", "refund_status": "NO_REFUND"}]},
    }


def run(fields: int, orders: int, subjects_per_field: int = 10) -> dict[str, Any]:
    master = os.urandom(32)
    tmp = Path(tempfile.mkdtemp(prefix="bench_crypto_"))
    store = LocalKeyStore(tmp / "keystore.db", master)
    subjects = max(1, fields // subjects_per_field)
    result: dict[str, Any] = {
        "benchmark": "crypto",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "load_average_1m_at_start": round(os.getloadavg()[0], 1),
        "input": {"fields": fields, "subjects": subjects, "orders": orders},
    }

    ids = [f"subject-{i}" for i in range(subjects)]
    with Timer() as t:
        for chunk in chunked(ids, 5_000):
            store.ensure_keys(chunk)
    result["ensure_keys_new"] = figure(subjects, t)

    items = field_mix(fields, subjects)
    aes = FieldCipher(store, master, cipher="aes-256-gcm")
    aes.ensure_subjects({s for _, _, s in items})
    floor_aes = bare_aead_loop(items, AESGCM(os.urandom(32)).encrypt)
    tokens: list[str] = []
    with Timer() as cold:
        for chunk in chunked(items):
            out = aes.encrypt_many(chunk)
            if len(tokens) < 200_000:  # a decrypt sample; keeping all would measure memory, not crypto
                tokens.extend(out)
    with Timer() as warm:
        for chunk in chunked(items):
            aes.encrypt_many(chunk)
    result["encrypt_aes_256_gcm_cold"] = figure(fields, cold, floor_aes, target=200_000)
    result["encrypt_aes_256_gcm_warm"] = figure(fields, warm, floor_aes, target=200_000)

    sm4 = FieldCipher(store, master, cipher="sm4-gcm")
    sm4.ensure_subjects({s for _, _, s in items})
    floor_sm4 = bare_aead_loop(items, sm4_seal(os.urandom(16)))
    with Timer() as t:
        for chunk in chunked(items):
            sm4.encrypt_many(chunk)
    result["encrypt_sm4_gcm_cold"] = figure(fields, t, floor_sm4)

    sample = tokens[: min(len(tokens), 200_000)]
    plain_aead = AESGCM(os.urandom(32))
    sealed = [(n, plain_aead.encrypt(n, v.encode(), b"ef1")) for n, (_, v, _) in
              ((os.urandom(12), it) for it in items[: len(sample)])]
    with Timer() as floor_dec:
        for n, c in sealed:
            plain_aead.decrypt(n, c, b"ef1")
    with Timer() as t:
        for tok in sample:
            aes.decrypt(tok)
    result["decrypt_aes_256_gcm"] = figure(len(sample), t, floor_dec)

    payloads = [taobao_order(i) for i in range(orders)]
    encoded = [orjson.dumps(p) for p in payloads]
    with Timer() as floor_json:
        for raw in encoded:
            orjson.dumps(orjson.loads(raw))
    fresh = FieldCipher(store, master)
    with Timer() as t:
        pii = 0
        for chunk in chunked(payloads, 5_000):
            pii += sum(r.pii_count for r in fresh.protect_many(chunk, source="tmall", platform="taobao"))
    result["protect_many_taobao_orders"] = figure(orders, t, floor_json)
    result["protect_many_taobao_orders"]["personal_values"] = pii
    result["protect_many_taobao_orders"]["personal_values_per_cpu_second"] = round(pii / t.cpu)

    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["load_average_1m_at_end"] = round(os.getloadavg()[0], 1)
    store.close()
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fields", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=100_000)
    args = ap.parse_args(argv)
    result = run(args.fields, args.orders)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "crypto.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
