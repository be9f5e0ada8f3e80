"""Per-subject data keys: bulk creation, durability, wrong master key, erasure, two processes."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from ecfusion.errors import KeyStoreError, SubjectErased
from ecfusion.security.keystore import KeyStore, LocalKeyStore


def test_local_keystore_implements_the_keystore_interface(keystore: LocalKeyStore) -> None:
    assert isinstance(keystore, KeyStore)


def test_ensure_keys_creates_thousands_in_one_call_and_they_survive_reopening(
    tmp_path: Path, master_key: bytes
) -> None:
    path = tmp_path / "ks.db"
    subjects = [f"s{i:05d}" for i in range(5000)]
    with LocalKeyStore(path, master_key) as store:
        keys = store.ensure_keys(subjects)
        assert len(keys) == 5000
        assert len(set(keys.values())) == 5000
        assert all(len(k) == 32 for k in keys.values())
        assert store.ensure_keys(subjects[:10]) == {s: keys[s] for s in subjects[:10]}
    with LocalKeyStore(path, master_key) as reopened:
        assert reopened.get_keys(subjects) == keys
        assert reopened.stats() == {"keys": 5000, "erasures": 0}


def test_get_keys_never_creates(keystore: LocalKeyStore) -> None:
    assert keystore.get_keys(["nobody"]) == {}
    with pytest.raises(KeyStoreError, match="no data key for subject nobody"):
        keystore.key_for("nobody")


def test_wrong_master_key_is_refused_at_open_with_a_clear_message(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "ks.db"
    LocalKeyStore(path, master_key).close()
    with pytest.raises(KeyStoreError, match=r"master key does not match the key store at .*ks\.db") as info:
        LocalKeyStore(path, os.urandom(32))
    assert info.value.hint and "master key" in info.value.hint


def test_key_store_file_is_private_and_holds_no_raw_key(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "ks.db"
    with LocalKeyStore(path, master_key) as store:
        key = store.ensure_keys(["subject-a"])["subject-a"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key not in path.read_bytes()


def test_destroy_shreds_the_key_and_records_who_when_why(keystore: LocalKeyStore) -> None:
    keystore.ensure_keys(["a", "b"])
    record = keystore.destroy("a", "DSR-42 deletion request")
    assert (record.subject_id, record.reason) == ("a", "DSR-42 deletion request")
    assert keystore.erasure("a") == record
    assert keystore.get_keys(["a", "b"]).keys() == {"b"}
    with pytest.raises(SubjectErased, match="DSR-42"):
        keystore.key_for("a")


def test_erasure_is_sticky_no_new_key_is_ever_issued(keystore: LocalKeyStore) -> None:
    keystore.ensure_keys(["a"])
    keystore.destroy("a", "request")
    assert keystore.ensure_keys(["a", "c"]).keys() == {"c"}


def test_destroy_needs_a_reason(keystore: LocalKeyStore) -> None:
    keystore.ensure_keys(["a"])
    with pytest.raises(KeyStoreError, match="needs a reason"):
        keystore.destroy("a", "  ")


def test_an_erasure_by_another_process_evicts_the_cached_key(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "ks.db"
    with LocalKeyStore(path, master_key) as mine, LocalKeyStore(path, master_key) as theirs:
        mine.ensure_keys(["a"])
        before = mine.erasure_generation()
        theirs.destroy("a", "erased elsewhere")
        assert mine.get_keys(["a"]) == {}
        assert mine.erasure_generation() > before


def _ensure_in_child(path: str, master_key: bytes, subjects: list[str], out: multiprocessing.Queue) -> None:
    with LocalKeyStore(path, master_key) as store:
        out.put({s: k.hex() for s, k in store.ensure_keys(subjects).items()})


def test_two_processes_creating_overlapping_keys_agree(tmp_path: Path, master_key: bytes) -> None:
    path = str(tmp_path / "ks.db")
    LocalKeyStore(path, master_key).close()
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = ctx.Queue()
    subjects = [f"s{i}" for i in range(2000)]
    procs = [ctx.Process(target=_ensure_in_child, args=(path, master_key, subjects[i * 500:], out))
             for i in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    overlap = set(results[0]) & set(results[1])
    assert len(overlap) == 1500
    assert all(results[0][s] == results[1][s] for s in overlap)
    with LocalKeyStore(path, master_key) as store:
        assert {s: k.hex() for s, k in store.get_keys(overlap).items()} == {s: results[0][s] for s in overlap}
