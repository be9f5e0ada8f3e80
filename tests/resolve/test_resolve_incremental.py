"""Incremental runs read only what they change, and survive being killed at either commit point."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ecfusion.config import Workspace
from ecfusion.resolve import Ledger, run, sample, store
from ecfusion.resolve import ledger as resolve_ledger
from ecfusion.resolve import pipeline as resolve_pipeline
from ecfusion.warehouse.snapshot import SnapshotStore

pytestmark = pytest.mark.slow



@dataclass
class Staged:
    ws: Workspace
    cipher: sample.SampleCipher
    new_keys: list[str]
    before: dict[str, str]


def one_ids(ws: Workspace) -> dict[str, str]:
    with store.connect(ws, read_only=True) as con:
        return dict(con.sql("select account_key, one_id from fused.member").fetchall())


def stage(root: Path, control_url: str = "") -> Staged:
    """A merchant resolved in full without every 25th account, which is then added to the warehouse."""
    cipher = sample.SampleCipher(4)
    accounts, _truth = sample.member_accounts(300, seed=4, cipher=cipher)
    held = pa.array([i % 25 == 3 for i in range(accounts.num_rows)])
    ws = Workspace.init(root / "ws")
    if control_url:
        config = ws.root / "ecfusion.toml"
        config.write_text(
            config.read_text(encoding="utf-8").replace('url = ""', f'url = "{control_url}"', 1),
            encoding="utf-8",
        )
        ws = Workspace.open(ws.root)
    sample.install(ws, accounts.filter(pc.invert(held)))
    first = run(ws, reader=cipher)
    assert not first.incremental and first.full_reason == "no trained model yet"
    before = one_ids(ws)
    extra = accounts.filter(held)
    sample.install(ws, extra, append=True)
    return Staged(ws, cipher, extra.column("account_key").to_pylist(), before)


class SpyLedger(Ledger):
    """A ledger that refuses to hand out the whole member map and remembers what it read."""

    made: list[SpyLedger] = []

    def __init__(self, url: str) -> None:
        super().__init__(url)
        SpyLedger.made.append(self)

    def identity_map(self, entity: str) -> dict[str, str]:
        if entity == "member":
            raise AssertionError("an incremental run read the whole member identity map")
        return super().identity_map(entity)


def _events_by_run(ws: Workspace) -> Counter[str]:
    return Counter(str(e["run_id"]) for e in Ledger(ws.control_url).events("member", limit=100_000))


def _joined(ws: Workspace) -> Counter[str]:
    """How many join events name each account."""
    return Counter(
        k
        for e in Ledger(ws.control_url).events("member", limit=100_000)
        if e["kind"] == "join"
        for k in e["evidence"]["records"]  # type: ignore[index, union-attr]
    )


def _assert_consistent(ws: Workspace, n_accounts: int) -> dict[str, str]:
    """fused.member, fused.identity and the control-plane map agree and cover every account once."""
    ids = one_ids(ws)
    assert len(ids) == n_accounts
    assert Ledger(ws.control_url).identity_map("member") == ids
    with store.connect(ws, read_only=True) as con:
        in_identities = con.sql("select sum(accounts) from fused.identity").fetchall()[0][0]
    assert in_identities == n_accounts
    return ids


def test_incremental_run_reads_only_the_candidates_identity_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = stage(tmp_path)
    SpyLedger.made.clear()
    monkeypatch.setattr(resolve_pipeline, "Ledger", SpyLedger)
    inc = run(s.ws, reader=s.cipher)
    assert inc.incremental and inc.new_accounts == len(s.new_keys) and inc.full_reason == ""
    n = len(s.before) + len(s.new_keys)
    # the rows of the accounts scored against a new one and of the identities re-clustered
    rows_read = SpyLedger.made[0].rows_read
    assert 0 < rows_read < n / 2
    after = _assert_consistent(s.ws, n)
    changed = {k for k, v in s.before.items() if after[k] != v}
    named = {
        k
        for e in Ledger(s.ws.control_url).events("member", limit=100_000)
        if e["run_id"] == inc.run_id
        for k in e["evidence"]["records"]  # type: ignore[index, union-attr]
    }
    assert changed <= named  # an existing account changes its one_id only through an event
    assert {"join"} <= {e["kind"] for e in Ledger(s.ws.control_url).events("member", limit=100_000)}
    # the next run has nothing new: incremental, nothing read but the check, nothing changed
    SpyLedger.made.clear()
    again = run(s.ws, reader=s.cipher)
    assert again.incremental and again.new_accounts == 0 and again.events == 0
    assert SpyLedger.made[0].rows_read == 0
    assert one_ids(s.ws) == after


def test_run_killed_after_the_control_plane_commit_is_recovered_without_loss_or_doubles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = stage(tmp_path)
    n = len(s.before) + len(s.new_keys)

    def killed(_self: SnapshotStore, _snapshot: Path) -> None:
        raise KeyboardInterrupt("killed before publishing the snapshot")

    with monkeypatch.context() as m:
        m.setattr(SnapshotStore, "publish", killed)
        with pytest.raises(KeyboardInterrupt):
            run(s.ws, reader=s.cipher)
    # the control plane committed the run (map and events together), the warehouse did not
    state = Ledger(s.ws.control_url).map_state("member")
    assert state is not None and _events_by_run(s.ws)[state.run_id] > 0
    assert len(Ledger(s.ws.control_url).identity_map("member")) == n
    assert one_ids(s.ws) == s.before
    joined_once = _joined(s.ws)
    # the snapshot is not the control plane's copy of the map: the next run must not trust it
    again = run(s.ws, reader=s.cipher)
    assert not again.incremental and "does not hold the control plane's identity map" in again.full_reason
    _assert_consistent(s.ws, n)
    joined = _joined(s.ws)
    assert all(joined[k] == joined_once[k] for k in s.new_keys)  # no account joined twice


def test_run_killed_inside_the_control_plane_commit_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = stage(tmp_path)
    state = Ledger(s.ws.control_url).map_state("member")
    events = _events_by_run(s.ws)

    def killed(*_args: Any) -> int:
        raise KeyboardInterrupt("killed after the map and events were written, before the commit")

    with monkeypatch.context() as m:
        m.setattr(resolve_ledger, "_close_linked", killed)
        with pytest.raises(KeyboardInterrupt):
            run(s.ws, reader=s.cipher)
    assert Ledger(s.ws.control_url).map_state("member") == state
    assert _events_by_run(s.ws) == events
    assert one_ids(s.ws) == s.before
    inc = run(s.ws, reader=s.cipher)
    assert inc.incremental and inc.new_accounts == len(s.new_keys) and inc.events > 0
    _assert_consistent(s.ws, len(s.before) + len(s.new_keys))


def test_a_rolled_back_warehouse_is_resolved_in_full(tmp_path: Path) -> None:
    s = stage(tmp_path)
    run(s.ws, reader=s.cipher)
    SnapshotStore.of(s.ws).rollback()  # the warehouse no longer holds the control plane's map
    again = run(s.ws, reader=s.cipher)
    assert not again.incremental and "rolled back" in again.full_reason
    _assert_consistent(s.ws, len(s.before) + len(s.new_keys))


def test_an_account_gone_from_the_warehouse_makes_a_full_run_that_drops_it(tmp_path: Path) -> None:
    s = stage(tmp_path)
    gone = sorted(s.before)[0]
    with store.update(s.ws, "drop-one") as con:
        con.execute("delete from unified.member_account where account_key = ?", [gone])
    again = run(s.ws, reader=s.cipher)
    assert not again.incremental and again.full_reason.startswith("accounts left the warehouse")
    ids = _assert_consistent(s.ws, len(s.before) + len(s.new_keys) - 1)
    assert gone not in ids


def test_enqueue_skips_pairs_already_queued_and_repeated_in_one_batch(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'control.db'}")
    pair = ("jd:a", "tmall:b", 0.7, json.dumps({"w": 1}))
    assert ledger.enqueue("member", "r1", [pair, pair, ("jd:a", "tmall:c", 0.6, "{}")]) == 2
    assert ledger.enqueue("member", "r2", [pair, ("jd:b", "tmall:c", 0.6, "{}")]) == 1
    assert len(ledger.reviews("member")) == 3
    # an item whose two records now share an identity is closed; one whose record did not change stays
    ledger.record_run(
        resolve_ledger.RunRecord(
            "member", "r3", {"jd:a": "oid_1", "tmall:b": "oid_1"}, {"jd:a": "oid_0"}, [], [], 3
        )
    )
    left = {(r.left_key, r.right_key) for r in ledger.reviews("member")}
    assert left == {("jd:a", "tmall:c"), ("jd:b", "tmall:c")}


@pytest.mark.services
def test_incremental_run_on_a_postgresql_control_plane_matches_sqlite(tmp_path: Path, pg_url: str) -> None:
    on_pg = stage(tmp_path / "pg", pg_url)
    on_sqlite = stage(tmp_path / "sqlite")
    assert Ledger(on_pg.ws.control_url)._sessions.kw["bind"].dialect.name == "postgresql"
    pg_run, sqlite_run = run(on_pg.ws, reader=on_pg.cipher), run(on_sqlite.ws, reader=on_sqlite.cipher)
    assert pg_run.incremental and sqlite_run.incremental
    assert (pg_run.events, pg_run.review_queued) == (sqlite_run.events, sqlite_run.review_queued)
    n = len(on_pg.before) + len(on_pg.new_keys)
    assert _assert_consistent(on_pg.ws, n) == _assert_consistent(on_sqlite.ws, n)
