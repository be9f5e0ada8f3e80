"""The raw-zone envelope v1 and the content hash (standard 4.3.5 a, 5.3.1.1; contracts §2).

Every landed record is one row: the payload as delivered (personal fields already tokenized)
beside envelope columns. ``content_hash`` is a keyed BLAKE2b-128 over source, entity, shop and
the canonical (sorted-keys) *plaintext* payload: it is computed before encryption, because
tokens are randomized, and it is keyed so that the hash of a known phone number cannot be
recomputed by someone who reads the lake without the workspace's key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa

from ecfusion.lake import jsontext

SCHEMA_VERSION = 1

_TS = pa.timestamp("us", tz="UTC")

RAW_SCHEMA = pa.schema(
    [
        pa.field("raw_record_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("platform", pa.string(), nullable=False),
        pa.field("shop_id", pa.string()),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("record_key", pa.string()),
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("pulled_at", _TS, nullable=False),
        pa.field("received_at", _TS, nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("schema_version", pa.int32(), nullable=False),
        pa.field("payload", pa.string(), nullable=False),
    ]
)

# raw_bytes are sealed (AES-256-GCM under the lake's quarantine key): input that failed to parse
# may still hold a plaintext phone or name, and nothing personal rests on disk in plaintext.
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("quarantine_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("platform", pa.string(), nullable=False),
        pa.field("shop_id", pa.string()),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("raw_bytes", pa.binary(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("location", pa.string(), nullable=False),
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("received_at", _TS, nullable=False),
        pa.field("sealing", pa.string(), nullable=False),
    ]
)


def json_default(value: Any) -> Any:
    """orjson fallback for values a database or spreadsheet hands us."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    raise TypeError(f"cannot represent {type(value).__name__} as JSON")


_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical_json(payload: Any) -> bytes:
    """Sorted-keys compact JSON: equal records give equal bytes whatever their key order."""
    return jsontext.dumps(payload, option=_CANONICAL, default=json_default)


def derive_key(lake_key: bytes, purpose: str) -> bytes:
    """A 32-byte sub-key of the lake key for one purpose (content hash, quarantine sealing)."""
    return hashlib.blake2b(lake_key, digest_size=32, person=purpose.encode()[:16].ljust(16, b"\0")).digest()


def content_hasher(key: bytes, source: str, entity: str, shop_id: str | None) -> Callable[[bytes], str]:
    """A function canonical-payload-bytes → content hash hex, pre-keyed for one (source, entity, shop)."""
    base = hashlib.blake2b(key=key, digest_size=16)
    base.update(b"\x1f".join(p.encode() for p in (source, entity, shop_id or "")) + b"\x1e")

    def digest(canonical: bytes) -> str:
        h = base.copy()
        h.update(canonical)
        return h.hexdigest()

    return digest
