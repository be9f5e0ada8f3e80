"""End to end on a small synthetic merchant: quality, privacy, stability, incremental runs, review."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ecfusion.resolve import Ledger, evaluate, explain, run, sample, store
from ecfusion.resolve.features import simplify_name

pytestmark = pytest.mark.slow


def one_ids(ws) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with store.connect(ws, read_only=True) as con:
        return dict(con.sql("select account_key, one_id from fused.member").fetchall())


def test_quality_on_the_sample_merchant(resolved: Any) -> None:
    scores = evaluate(resolved.ws, resolved.truth_dir)
    members, products = scores["members"], scores["products"]
    assert members.pairwise_precision >= 0.99
    assert members.pairwise_f1 >= 0.95
    assert products.pairwise_f1 >= 0.95
    s = resolved.summary
    assert s.raw_accounts == resolved.accounts.num_rows
    assert s.unified_customers < s.raw_accounts and s.cross_platform_shoppers > 0


def test_same_name_different_people_are_not_merged(resolved: Any) -> None:
    ids = one_ids(resolved.ws)
    names = resolved.accounts.column("name_token").to_pylist()
    keys = resolved.accounts.column("account_key").to_pylist()
    people_by_name: dict[str, set[str]] = defaultdict(set)
    for key, token in zip(keys, names, strict=True):
        if token:
            people_by_name[simplify_name(resolved.cipher.decrypt(token))].add(resolved.truth.accounts[key])
    shared = {n: p for n, p in people_by_name.items() if len(p) > 1}
    assert shared, "the sample must contain common names shared by different people"
    person_ids: dict[str, set[str]] = defaultdict(set)
    for key, oid in ids.items():
        person_ids[oid].add(resolved.truth.accounts[key])
    assert all(len(p) == 1 for p in person_ids.values())


def test_no_plaintext_personal_data_in_the_warehouse_or_control_plane(resolved: Any) -> None:
    token = next(t for t in resolved.accounts.column("name_token").to_pylist() if t)
    name = resolved.cipher.decrypt(token)
    phone = resolved.cipher.decrypt(next(t for t in resolved.accounts.column("phone_token").to_pylist() if t))
    for path in [*resolved.ws.warehouse_root.rglob("*"), resolved.ws.root / "control.db"]:
        if path.is_file():
            data = path.read_bytes()
            assert name.encode() not in data and phone.encode() not in data, path


def test_explain_names_the_rule_or_the_path(resolved: Any) -> None:
    with store.connect(resolved.ws, read_only=True) as con:
        a, b, reason = con.sql(
            "select left_key, right_key, reason from fused.member_link where method = 'rule' limit 1"
        ).fetchall()[0]
        x, y = con.sql(
            "select min(account_key), max(account_key) from fused.member group by one_id "
            "having count(*) >= 3 limit 1"
        ).fetchall()[0]
        p, q = con.sql(
            "select a.account_key, b.account_key from fused.member a, fused.member b "
            "where a.one_id < b.one_id limit 1"
        ).fetchall()[0]
    ex = explain(resolved.ws, a, b)
    assert ex.same and reason in ex.verdict()
    ex = explain(resolved.ws, x, y)
    assert ex.same and (ex.direct or ex.path)
    if ex.path:
        assert ex.path[0].left in (x, ex.path[0].right) or ex.path[0].right == x
    ex = explain(resolved.ws, p, q)
    assert not ex.same and "different identities" in ex.verdict()


def test_rerun_keeps_every_one_id(tmp_path: Path, build_merchant: Any) -> None:
    r = build_merchant(tmp_path, persons=150, seed=3)
    before = one_ids(r.ws)
    again = run(r.ws, reader=r.cipher, full=True)
    assert one_ids(r.ws) == before
    assert again.events == 0


def test_incremental_run_joins_new_accounts_to_existing_identities(tmp_path: Path) -> None:
    cipher = sample.SampleCipher(4)
    accounts, truth = sample.member_accounts(300, seed=4, cipher=cipher)
    held = pa.array([i % 25 == 3 for i in range(accounts.num_rows)])
    from ecfusion.config import Workspace

    ws = Workspace.init(tmp_path / "ws")
    sample.install(ws, accounts.filter(pc.invert(held)))
    run(ws, reader=cipher)
    before = one_ids(ws)
    sample.install(ws, accounts.filter(held), append=True)
    inc = run(ws, reader=cipher)
    assert inc.incremental and inc.new_accounts == accounts.filter(held).num_rows
    after = one_ids(ws)
    assert all(after[k] == v for k, v in before.items() if k in after) or inc.events > 0
    new_keys = accounts.filter(held).column("account_key").to_pylist()
    # a held-out account of a person already known joins that person's identity
    person_ids: dict[str, set[str]] = defaultdict(set)
    for k, oid in before.items():
        person_ids[truth.accounts[k]].add(oid)
    joined = [k for k in new_keys if after[k] in person_ids.get(truth.accounts[k], set())]
    assert len(joined) >= 0.6 * len([k for k in new_keys if truth.accounts[k] in person_ids])
    with store.connect(ws) as con:
        rows, in_identities = con.sql(
            "select (select count(*) from fused.member), (select sum(accounts) from fused.identity)"
        ).fetchall()[0]
    assert rows == in_identities == accounts.num_rows
    events = Ledger(ws.control_url).events("member")
    assert any(e["kind"] == "join" for e in events)


def test_review_decisions_are_respected_by_later_runs(tmp_path: Path, build_merchant: Any) -> None:
    r = build_merchant(tmp_path, persons=150, seed=5)
    ledger = Ledger(r.ws.control_url)
    with store.connect(r.ws, read_only=True) as con:
        a, b = con.sql(
            "select left_key, right_key from fused.member_link where method = 'rule' limit 1"
        ).fetchall()[0]
        solo = con.sql(
            "select account_key from fused.member where one_id in (select one_id from fused.member "
            "group by one_id having count(*) = 1) limit 2"
        ).fetchall()
    x, y = solo[0][0], solo[1][0]
    ledger.decide("member", "reject", a, b, by="tester")
    ledger.decide("member", "confirm", x, y, by="tester")
    run(r.ws, reader=r.cipher)
    ids = one_ids(r.ws)
    assert ids[a] != ids[b]
    assert ids[x] == ids[y]
    ledger.decide("member", "split", x, None, by="tester")
    run(r.ws, reader=r.cipher)
    ids = one_ids(r.ws)
    assert sum(1 for v in ids.values() if v == ids[x]) == 1
    assert ledger.events("member")
