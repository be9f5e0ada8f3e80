"""The merchant's own identifiers link accounts deterministically: a loyalty card (a CRM member
and the store sales made on it) and the brand mini-program's openid (an app user and the CRM
member bound to it) — and link nobody when they differ."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from tests.resolve.test_resolve_guards import CIPHER, account

from ecfusion.resolve import rules
from ecfusion.resolve.features import member_features
from ecfusion.resolve.graph import Constraints, cluster
from ecfusion.resolve.guards import build_guard
from ecfusion.resolve.sample import MEMBER_SCHEMA

SCHEMA = MEMBER_SCHEMA.append(pa.field("card_no", pa.string())).append(pa.field("wechat_openid", pa.string()))


def _account(
    key: str, platform: str, *, card: str | None = None, openid: str | None = None, **kw: object
) -> dict:
    row = account(key, platform=platform, **kw)  # type: ignore[arg-type]
    return {**row, "card_no": card, "wechat_openid": openid}


def _resolve(rows: list[dict]) -> tuple[dict[str, str], list[str]]:
    accounts = pa.Table.from_pylist(rows, schema=SCHEMA)
    feats = member_features(accounts, CIPHER, build_guard(accounts, CIPHER).allow)
    con = duckdb.connect()
    con.register("f", feats)
    edges = rules.rule_edges(con)
    cols = ("left_key", "right_key", "method", "weight")
    roots, _ = cluster(
        feats.column("unique_id").to_pylist(),
        list(zip(*(edges.column(c).to_pylist() for c in cols), strict=True)),
        Constraints(),
    )
    return roots, edges.column("reason").to_pylist()


def test_a_store_card_joins_the_crm_member_with_that_card() -> None:
    roots, reasons = _resolve(
        [
            _account("M1", "crm", card="886000007919", name="王芳", phone="13912345678"),
            _account("886000007919", "pos", card="886000007919"),
            _account("886000015838", "pos", card="886000015838"),
        ]
    )
    assert roots["crm:M1"] == roots["pos:886000007919"] != roots["pos:886000015838"]
    assert "loyalty_card" in reasons


def test_an_app_user_joins_the_crm_member_bound_to_its_openid() -> None:
    roots, reasons = _resolve(
        [
            _account("M1", "crm", card="1", openid="oXa9TlwjBuvp5RZK4PQ3on74md9X", name="王芳"),
            _account("U3305496167", "app", openid="oXa9TlwjBuvp5RZK4PQ3on74md9X", devices=["d1"]),
            _account("U1111111111", "app", openid="oQ0000000000000000000000000", devices=["d2"]),
        ]
    )
    assert roots["crm:M1"] == roots["app:U3305496167"] != roots["app:U1111111111"]
    assert "wechat_openid" in reasons
