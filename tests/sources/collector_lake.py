"""A raw lake in a fresh workspace for the collector tests (push, CDC, queues, logs).

Like the lake's own tests, it uses a hash-only stand-in for FieldCipher: these tests are about
collection (nothing lost, nothing doubled), and stay independent of the key store's speed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ecfusion.config import Workspace
from ecfusion.control.checkpoints import CheckpointStore
from ecfusion.lake import RawLake


class HashOnlyCipher:
    def content_hash(self, data: bytes) -> str:
        return hashlib.blake2b(data, key=b"k" * 32, digest_size=16).hexdigest()

    def protect(
        self, payload: dict[str, Any], *, source: str, platform: str, subject_hint: str | None = None
    ) -> tuple[dict[str, Any], int]:
        return payload, 0


def open_test_lake(root: Path | str) -> RawLake:
    ws = Workspace.init(root)
    return RawLake(ws.lake_root, HashOnlyCipher(), CheckpointStore.open(ws.control_url))
