"""Fixtures for the security tests: a key store in a temporary folder and a cipher over it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecfusion.security.fields import FieldCipher
from ecfusion.security.keystore import LocalKeyStore


@pytest.fixture
def master_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def keystore(tmp_path: Path, master_key: bytes) -> Iterator[LocalKeyStore]:
    store = LocalKeyStore(tmp_path / "keys" / "keystore.db", master_key)
    yield store
    store.close()


@pytest.fixture
def cipher(keystore: LocalKeyStore, master_key: bytes) -> FieldCipher:
    return FieldCipher(keystore, master_key)
