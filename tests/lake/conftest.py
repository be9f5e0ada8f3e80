"""Fixtures for the raw-zone tests: a lake on a temporary SQLite control plane.

Until the security package lands, ``TokenizingCipher`` stands in for FieldCipher: it keys the
content hash with BLAKE2b and replaces the declared personal fields by opaque ``ef1:`` tokens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecfusion.control.checkpoints import CheckpointStore
from ecfusion.lake import RawLake

PERSONAL_KEYS = {"receiver_mobile", "receiver_name", "receiver_address", "phone", "name", "mobile"}


class TokenizingCipher:
    def __init__(self, key: bytes = b"k" * 32) -> None:
        self.key = key

    def content_hash(self, data: bytes) -> str:
        return hashlib.blake2b(data, key=self.key, digest_size=16).hexdigest()

    def protect(
        self, payload: dict[str, Any], *, source: str, platform: str, subject_hint: str | None = None
    ) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        n = 0
        for k, v in payload.items():
            if k in PERSONAL_KEYS and isinstance(v, str):
                out[k] = "ef1:x:s:" + self.content_hash(v.encode()) + ":c"
                n += 1
            elif isinstance(v, dict):
                out[k], m = self.protect(v, source=source, platform=platform)
                n += m
            else:
                out[k] = v
        return out, n


def make_lake(tmp_path: Path, *, url: str | None = None, target_file_rows: int = 1_000) -> RawLake:
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = CheckpointStore.open(url or f"sqlite:///{tmp_path / 'control.db'}")
    return RawLake(tmp_path / "lake", TokenizingCipher(), store, target_file_rows=target_file_rows)


@pytest.fixture
def lake(tmp_path: Path) -> RawLake:
    return make_lake(tmp_path)


@pytest.fixture
def lake_factory() -> Callable[..., RawLake]:
    """``make_lake(tmp_path, url=..., target_file_rows=...)`` for tests that need a particular lake."""
    return make_lake
