"""Per-subject data keys and their erasure (T/JNBDA 0003-2025 clause 7.4 d; ARCHITECTURE principle 3).

Every data subject (a buyer account, a CRM member, …) gets its own 256-bit data key (DEK).
Personal fields of that subject are encrypted under it, so an erasure request is served by
destroying one key (crypto-shredding) instead of rewriting the immutable lake.

``KeyStore`` is the seam a KMS can implement later. ``LocalKeyStore`` keeps DEKs in a SQLite
file of its own (``security.keystore_path``, never the control plane), each wrapped with
AES-256-GCM under a key-encryption key derived from the workspace master key, with the
subject id as associated data so a wrapped key cannot be moved to another subject.

Design points:

* **Bulk.** ``ensure_keys`` creates every missing key of a chunk in one ``BEGIN IMMEDIATE``
  transaction and commits (fsync) before returning, so a key is always durable before any
  ciphertext made with it is written. Unwrapped keys live in an in-memory LRU cache.
* **Two processes.** SQLite WAL with a busy timeout serialises writers; a key created by a
  concurrent process wins by ``INSERT OR IGNORE`` and is re-read. Erasures done by another
  process are noticed through ``PRAGMA data_version``: key lookups check on every call, the
  cheap ``erasure_generation`` poll (used by ``FieldCipher.decrypt`` per token) at most every
  ``ERASURE_POLL_SECONDS`` — so a long-running reader stops decrypting a subject erased
  elsewhere within half a second; in the erasing process at once.
* **Wrong master key** is detected at open by a key-check value stored in the file.
* **Erasure is sticky**: once destroyed, a subject id never gets a key again, and the erasure
  (subject id, time, reason) is recorded. Subject ids are pseudonymous (see ``fields``), so
  this file holds no personal data. ``secure_delete`` and a WAL checkpoint make sure the
  wrapped key does not linger in free pages of the file.
"""

from __future__ import annotations

import hmac
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ecfusion.errors import KeyStoreError, SubjectErased

DEK_BYTES = 32
_NONCE_BYTES = 12
_SQL_CHUNK = 500  # host parameters per statement, well under SQLite's limit
_FORMAT_VERSION = "1"
ERASURE_POLL_SECONDS = 0.5

# HKDF info labels: one independent key per purpose, all derived from the master key.
LABEL_KEY_WRAP = b"ecfusion/key-wrap/v1"
LABEL_KEY_CHECK = b"ecfusion/key-check/v1"
LABEL_BLIND_INDEX = b"ecfusion/blind-index/v1"
LABEL_CONTENT_HASH = b"ecfusion/content-hash/v1"
LABEL_SUBJECT_ID = b"ecfusion/subject-id/v1"


def derive_key(master_key: bytes, label: bytes, length: int = 32) -> bytes:
    """A purpose-bound key from the master key (HKDF-SHA256, ``label`` as info)."""
    if len(master_key) != 32:
        raise KeyStoreError(
            f"master key must be 32 bytes, got {len(master_key)}",
            hint="give the 64-hex-character key from the workspace (Workspace.master_key())",
        )
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(master_key)


@dataclass(frozen=True)
class ErasureRecord:
    """Proof that a subject's data key was destroyed: which subject id, when and why."""

    subject_id: str
    erased_at: datetime
    reason: str


@runtime_checkable
class KeyStore(Protocol):
    """Where per-subject data keys live. Subjects are pseudonymous subject ids (``FieldCipher.subject_id``).

    A KMS-backed store implements the same five calls; everything above it only sees bytes.
    """

    def ensure_keys(self, subject_ids: Iterable[str]) -> dict[str, bytes]:
        """Durably create the missing keys (one transaction) and return the key of every subject
        given that is not erased. Erased subjects are left out of the result."""
        ...

    def get_keys(self, subject_ids: Iterable[str]) -> dict[str, bytes]:
        """Existing keys only, never creating any; unknown and erased subjects are left out."""
        ...

    def destroy(self, subject_id: str, reason: str) -> ErasureRecord:
        """Crypto-shred: delete the subject's key for good and record the erasure."""
        ...

    def erasure(self, subject_id: str) -> ErasureRecord | None:
        """The erasure record of a subject, or None if its key was never destroyed."""
        ...

    def erasure_generation(self) -> int:
        """A number that grows whenever any erasure becomes visible to this process."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS data_key (
    subject_id TEXT PRIMARY KEY,
    wrapped BLOB NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS erasure (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id TEXT NOT NULL UNIQUE,
    erased_at TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


def _chunks(items: list[str], size: int = _SQL_CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class LocalKeyStore:
    """A ``KeyStore`` in a local SQLite file, keys wrapped by the workspace master key."""

    def __init__(self, path: Path | str, master_key: bytes, *, cache_size: int = 200_000) -> None:
        self.path = Path(path)
        self._kek = AESGCM(derive_key(master_key, LABEL_KEY_WRAP))
        self._check_value = derive_key(master_key, LABEL_KEY_CHECK, 16).hex()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.RLock()
        self._generation = 0
        self._last_erasure_seq = 0
        self._data_version = -1
        self._polled_at = -ERASURE_POLL_SECONDS
        self._db = self._connect()
        self._check_master_key()

    @classmethod
    def open(cls, path: Path | str, master_key: bytes) -> LocalKeyStore:
        return cls(path, master_key)

    # ---- connection and master-key check -------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # Create the file readable by its owner only before SQLite opens it.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        try:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA secure_delete=ON")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise KeyStoreError(
                f"cannot open the key store at {self.path}: {e}",
                hint="check the file is an ecfusion key store and the folder is writable",
            ) from e
        return db

    def _check_master_key(self) -> None:
        query = "SELECT value FROM meta WHERE name='key_check'"
        row = self._db.execute(query).fetchone()
        if row is None:  # a new store: the first opener records its key-check value
            with self._lock, self._transaction():
                row = self._db.execute(query).fetchone()
                if row is None:
                    self._db.executemany(
                        "INSERT INTO meta(name, value) VALUES (?, ?)",
                        [("key_check", self._check_value), ("format_version", _FORMAT_VERSION),
                         ("created_at", _now())],
                    )
                    return
        if not hmac.compare_digest(row[0], self._check_value):
            raise KeyStoreError(
                f"master key does not match the key store at {self.path}",
                hint="use the master key this workspace was created with "
                "(environment variable or keys/master.key); a new key cannot read old data",
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # ---- cache and cross-process erasures ------------------------------------------------

    def _remember(self, subject_id: str, key: bytes) -> None:
        self._cache[subject_id] = key
        self._cache.move_to_end(subject_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _sync_erasures(self) -> None:
        """Evict keys that another process destroyed since we last looked."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return
        self._data_version = version
        rows = self._db.execute(
            "SELECT seq, subject_id FROM erasure WHERE seq > ? ORDER BY seq", (self._last_erasure_seq,)
        ).fetchall()
        for seq, subject_id in rows:
            self._cache.pop(subject_id, None)
            self._last_erasure_seq = seq
        if rows:
            self._generation += 1

    # ---- wrapping ------------------------------------------------------------------------

    def _wrap(self, subject_id: str, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._kek.encrypt(nonce, key, subject_id.encode())

    def _unwrap(self, subject_id: str, wrapped: bytes) -> bytes:
        try:
            return self._kek.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], subject_id.encode())
        except InvalidTag as e:
            raise KeyStoreError(
                f"the data key of subject {subject_id} in {self.path} fails its integrity check",
                hint="the key store file was altered or copied between workspaces; restore it from backup",
            ) from e

    # ---- KeyStore ------------------------------------------------------------------------

    def _load(self, subject_ids: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for chunk in _chunks(subject_ids):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT subject_id, wrapped FROM data_key WHERE subject_id IN ({marks})", chunk
            ).fetchall()
            for subject_id, wrapped in rows:
                key = self._unwrap(subject_id, wrapped)
                found[subject_id] = key
                self._remember(subject_id, key)
        return found

    def _erased_among(self, subject_ids: list[str]) -> set[str]:
        erased: set[str] = set()
        for chunk in _chunks(subject_ids):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT subject_id FROM erasure WHERE subject_id IN ({marks})", chunk)
            erased.update(r[0] for r in rows)
        return erased

    def _cached(self, subject_ids: Iterable[str]) -> tuple[dict[str, bytes], list[str]]:
        self._sync_erasures()
        hits: dict[str, bytes] = {}
        misses: list[str] = []
        for subject_id in dict.fromkeys(subject_ids):
            key = self._cache.get(subject_id)
            if key is None:
                misses.append(subject_id)
            else:
                hits[subject_id] = key
        return hits, misses

    def get_keys(self, subject_ids: Iterable[str]) -> dict[str, bytes]:
        with self._lock:
            keys, misses = self._cached(subject_ids)
            if misses:
                keys.update(self._load(misses))
            return keys

    def ensure_keys(self, subject_ids: Iterable[str]) -> dict[str, bytes]:
        with self._lock:
            keys, misses = self._cached(subject_ids)
            if misses:
                keys.update(self._load(misses))
                missing = [s for s in misses if s not in keys]
                if missing:
                    keys.update(self._create(missing))
            return keys

    def _create(self, subject_ids: list[str]) -> dict[str, bytes]:
        """Create keys for subjects that have none, in one durable transaction."""
        created_at = _now()
        with self._transaction():
            erased = self._erased_among(subject_ids)
            fresh = {s: os.urandom(DEK_BYTES) for s in subject_ids if s not in erased}
            self._db.executemany(
                "INSERT OR IGNORE INTO data_key(subject_id, wrapped, created_at) VALUES (?, ?, ?)",
                [(s, self._wrap(s, k), created_at) for s, k in fresh.items()],
            )
        # Another process may have won the race for some subjects: read back what is stored.
        return self._load(list(fresh))

    def destroy(self, subject_id: str, reason: str) -> ErasureRecord:
        if not reason.strip():
            raise KeyStoreError(f"erasure of subject {subject_id} needs a reason",
                                hint="give the request reference, e.g. 'DSR-2026-0042 deletion request'")
        with self._lock:
            with self._transaction():
                self._db.execute("DELETE FROM data_key WHERE subject_id = ?", (subject_id,))
                self._db.execute(
                    "INSERT OR IGNORE INTO erasure(subject_id, erased_at, reason) VALUES (?, ?, ?)",
                    (subject_id, _now(), reason),
                )
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._cache.pop(subject_id, None)
            self._generation += 1
            record = self.erasure(subject_id)
        assert record is not None
        return record

    def erasure(self, subject_id: str) -> ErasureRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT erased_at, reason FROM erasure WHERE subject_id = ?", (subject_id,)
            ).fetchone()
        if row is None:
            return None
        return ErasureRecord(subject_id, datetime.fromisoformat(row[0]), row[1])

    def erasure_generation(self) -> int:
        """Erasures done here count at once; those of other processes are looked up at most every
        ``ERASURE_POLL_SECONDS`` (key lookups themselves always check)."""
        with self._lock:
            now = time.monotonic()
            if now - self._polled_at >= ERASURE_POLL_SECONDS:
                self._sync_erasures()
                self._polled_at = now
            return self._generation

    # ---- conveniences ----------------------------------------------------------------------

    def key_for(self, subject_id: str) -> bytes:
        """The key of one subject; raises ``SubjectErased`` or ``KeyStoreError`` if there is none."""
        key = self.get_keys([subject_id]).get(subject_id)
        if key is not None:
            return key
        record = self.erasure(subject_id)
        if record is not None:
            raise SubjectErased(
                f"subject {subject_id} was erased on {record.erased_at:%Y-%m-%d %H:%M:%S} UTC "
                f"({record.reason}); its data is unreadable by design",
                hint="erasure is permanent; the record stays in the lake as ciphertext only",
            )
        raise KeyStoreError(
            f"no data key for subject {subject_id} in the key store at {self.path}",
            hint="the token was written by another workspace or the key store was replaced",
        )

    def stats(self) -> dict[str, int]:
        """How many live keys and erasures the store holds."""
        with self._lock:
            keys = self._db.execute("SELECT count(*) FROM data_key").fetchone()[0]
            erased = self._db.execute("SELECT count(*) FROM erasure").fetchone()[0]
        return {"keys": int(keys), "erasures": int(erased)}

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            self._db.close()

    def __enter__(self) -> LocalKeyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error): one writer at a time across processes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
