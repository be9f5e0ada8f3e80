"""Tiny and degenerate merchants resolve instead of crashing (Splink cannot train on them).

A shop on its first day has one account; a test shop has two; a single-platform merchant has no
cross-platform rule matches to estimate a prior from; a platform that hides phones gives EM no
phone block. Each must resolve — on rules and the model's priors — and say what it did.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ecfusion.config import Workspace
from ecfusion.resolve import run, sample, store

pytestmark = pytest.mark.slow

CIPHER = sample.SampleCipher(3)
ACCOUNTS, TRUTH = sample.member_accounts(60, seed=3, cipher=CIPHER)


def _without(table: pa.Table, *columns: str) -> pa.Table:
    for c in columns:
        table = table.set_column(table.schema.get_field_index(c), c, pa.nulls(table.num_rows, pa.string()))
    return table


CASES: dict[str, Callable[[], pa.Table]] = {
    "no accounts": lambda: ACCOUNTS.slice(0, 0),
    "one account": lambda: ACCOUNTS.slice(0, 1),
    "two accounts": lambda: ACCOUNTS.slice(0, 2),
    "one platform": lambda: ACCOUNTS.filter(pc.equal(ACCOUNTS.column("platform"), "taobao")),
    "no phones": lambda: _without(ACCOUNTS, "phone_token", "phone_bidx", "phone_masked"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_degenerate_merchant_resolves(case: str, tmp_path: Path) -> None:
    accounts = CASES[case]()
    ws = Workspace.init(tmp_path / "ws")
    sample.install(ws, accounts)
    summary = run(ws, reader=CIPHER)
    assert summary.raw_accounts == accounts.num_rows
    with store.connect(ws, read_only=True) as con:
        rows = con.sql("select account_key, one_id from fused.member").fetchall()
    assert len(rows) == accounts.num_rows  # every account got an identity, none was dropped
    ids = dict(rows)
    people: dict[str, set[str]] = {}
    for key, oid in ids.items():
        people.setdefault(oid, set()).add(TRUTH.accounts[key])
    assert all(len(p) == 1 for p in people.values()), "no two people merged"
    assert summary.unified_customers == len(set(ids.values()))


def test_a_merchant_without_phones_still_links_by_name_and_address(tmp_path: Path) -> None:
    accounts = CASES["no phones"]()
    ws = Workspace.init(tmp_path / "ws")
    sample.install(ws, accounts)
    summary = run(ws, reader=CIPHER)
    assert summary.unified_customers < accounts.num_rows


def test_an_account_without_an_account_id_links_to_no_one(tmp_path: Path) -> None:
    """A row keyed "pdd:" pools orders of many buyers: even with a matching name and phone it stays alone."""
    keys = ACCOUNTS.column("account_key").to_pylist()
    person = TRUTH.accounts[keys[0]]
    twins = [k for k in keys if TRUTH.accounts[k] == person]
    assert len(twins) > 1
    own = ACCOUNTS.column("platform_account_id").to_pylist()
    own[keys.index(twins[1])] = ""
    accounts = ACCOUNTS.set_column(
        ACCOUNTS.schema.get_field_index("platform_account_id"), "platform_account_id", pa.array(own)
    )
    ws = Workspace.init(tmp_path / "ws")
    sample.install(ws, accounts)
    run(ws, reader=CIPHER)
    with store.connect(ws, read_only=True) as con:
        ids = dict(con.sql("select account_key, one_id from fused.member").fetchall())
    assert sum(1 for v in ids.values() if v == ids[twins[1]]) == 1
