"""The lake's seam to the security package: personal fields tokenized before landing (standard 7.4).

The raw zone never holds a personal value in plaintext. ``PayloadCipher`` is what the lake needs
from ``ecfusion.security.fields.FieldCipher`` (contracts §3): a keyed ``content_hash`` and a way to
replace personal values by ``ef1:`` tokens. ``ChunkProtector`` calls the security package's batch
API when it offers one (keys for a whole chunk ensured in one transaction) and its per-record
``protect`` otherwise. Quarantined bytes, which may hold unparsed personal data, are sealed with
AES-256-GCM under a key derived from the content-hash key (a keyed-PRF in counter mode), so they
rest encrypted yet stay recoverable byte for byte.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ecfusion.lake import jsontext

SEALING = "aes-256-gcm/v1"
_NONCE = 12


@runtime_checkable
class PayloadCipher(Protocol):
    """What the lake needs from FieldCipher."""

    def content_hash(self, data: bytes) -> str: ...

    def protect(
        self, payload: dict[str, Any], *, source: str, platform: str, subject_hint: str | None = None
    ) -> Any: ...


def _unwrap(result: Any) -> dict[str, Any]:
    """``protect`` returns ``(payload, pii_count)``; a ``Protected`` result carries ``.payload``."""
    if isinstance(result, tuple):
        return result[0]  # type: ignore[no-any-return]
    inner = getattr(result, "payload", None)
    return inner if isinstance(inner, dict) else result  # type: ignore[no-any-return]


class ChunkProtector:
    """Tokenize the personal fields of a chunk of payloads of one source."""

    def __init__(self, cipher: PayloadCipher, *, source: str, platform: str) -> None:
        self.cipher = cipher
        self.source = source
        self.platform = platform
        self._batch_api = getattr(cipher, "protect_many", None)

    def protect(
        self, payloads: Sequence[dict[str, Any]], subject_hints: Sequence[str | None]
    ) -> list[dict[str, Any]]:
        if self._batch_api is not None:
            out = self._batch_api(
                list(payloads), source=self.source, platform=self.platform, subject_hints=list(subject_hints)
            )
            return [_unwrap(r) for r in out]
        protect = self.cipher.protect
        return [
            _unwrap(protect(p, source=self.source, platform=self.platform, subject_hint=h))
            for p, h in zip(payloads, subject_hints, strict=True)
        ]


def protected_json(
    protector: ChunkProtector, payloads: Sequence[dict[str, Any]], subject_hints: Sequence[str | None]
) -> list[str]:
    """Tokenize a chunk and serialize each payload as the JSON text the lake stores."""
    from ecfusion.lake.envelope import json_default

    return [
        jsontext.dumps(p, default=json_default).decode() for p in protector.protect(payloads, subject_hints)
    ]


_WORKER_CIPHER: Any = None


def _exit_with_parent(parent_pid: int) -> None:
    """A worker whose parent was killed (kill -9) exits instead of waiting on its queue forever."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="ecf-parent-watch", daemon=True).start()


def _open_worker_cipher(workspace_root: str, parent_pid: int) -> None:
    global _WORKER_CIPHER
    from ecfusion.config import Workspace
    from ecfusion.security.fields import FieldCipher

    _exit_with_parent(parent_pid)
    _WORKER_CIPHER = FieldCipher.open(Workspace.open(workspace_root))


def _protect_in_worker(texts: list[bytes], hints: list[str | None], source: str, platform: str) -> list[str]:
    payloads = [jsontext.loads(t) for t in texts]
    return protected_json(ChunkProtector(_WORKER_CIPHER, source=source, platform=platform), payloads, hints)


class ParallelProtection:
    """Tokenize chunks in worker processes, each with the workspace's own FieldCipher.

    Encryption and PII detection are most of a landing's CPU; on a multi-core machine the
    writer keeps parsing, hashing and writing while workers protect the chunks before. Workers
    are spawned (not forked: the parent may hold threads and database connections) on first
    use and share the key store safely (it serialises key creation across processes)."""

    def __init__(self, workspace_root: Path, workers: int) -> None:
        self.workspace_root = workspace_root
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def submit(
        self, payloads: list[dict[str, Any]], hints: list[str | None], *, source: str, platform: str
    ) -> Future[list[str]]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_open_worker_cipher,
                initargs=(str(self.workspace_root), os.getpid()),
            )
        # JSON bytes cross the process boundary several times faster than pickled dicts.
        from ecfusion.lake.envelope import json_default

        texts = [jsontext.dumps(p, default=json_default) for p in payloads]
        return self._pool.submit(_protect_in_worker, texts, hints, source, platform)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class QuarantineSeal:
    """Seal and open quarantined bytes (nonce ‖ AES-256-GCM ciphertext, AAD = location)."""

    def __init__(self, cipher: PayloadCipher) -> None:
        key = b"".join(
            bytes.fromhex(cipher.content_hash(f"ecfusion/quarantine-key/{i}".encode())) for i in (1, 2)
        )
        self._aead = AESGCM(key[:32].ljust(32, b"\0"))

    def seal(self, raw: bytes, location: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, raw, location.encode())

    def open(self, sealed: bytes, location: str) -> bytes:
        return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], location.encode())
