"""``ecfusion.resolve.run``: the fusion-layer stage (T/JNBDA 0003-2025 4.3.6 b, 6.1.3).

Inputs: ``unified.member_account``, ``unified.listing`` (and ``unified.orders`` /
``unified.order_line`` when present). Outputs: the ``fused`` schema (see ``store``), the identity
map, events and review queue in the control plane, and the member model (m/u parameters only —
no personal data) next to the warehouse for incremental runs.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ecfusion.config import Workspace
from ecfusion.errors import InputError
from ecfusion.resolve import graph, members, products, store
from ecfusion.resolve.ledger import Ledger
from ecfusion.resolve.pii import FieldReader, open_reader

MEMBER_COLUMNS = [
    "account_key",
    "platform",
    "shop_id",
    "platform_account_id",
    "nickname",
    "name_token",
    "phone_token",
    "phone_bidx",
    "phone_masked",
    "id_number_bidx",
    "email_bidx",
    "province",
    "city",
    "district",
    "address_token",
    "address_bidx",
    "device_ids",
    "first_seen_at",
    "last_seen_at",
    "raw_record_ids",
]


@dataclass
class ResolveSummary:
    """What a resolution run did, in the numbers a merchant asks about first."""

    run_id: str
    raw_accounts: int
    unified_customers: int
    cross_platform_shoppers: int
    listings: int = 0
    std_skus: int = 0
    incremental: bool = False
    new_accounts: int = 0
    events: int = 0
    review_queued: int = 0
    guard: dict[str, dict[str, int]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_path(workspace: Workspace) -> Path:
    return workspace.warehouse_root / "models" / "member_model.json"


def _read_accounts(con: duckdb.DuckDBPyConnection) -> pa.Table:
    table = store.read_table(con, "unified", "member_account")
    missing = [c for c in MEMBER_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(
            f"unified.member_account lacks columns {missing}",
            hint="rebuild the unified tables with the current ecfusion (contracts §4)",
        )
    for later in ("card_no", "wechat_openid"):  # columns a warehouse written before them lacks
        if later not in table.column_names:
            table = table.append_column(later, pa.nulls(len(table), pa.string()))
    return table


IDENTITY_SQL = """
    select one_id, count(*) as accounts, count(distinct platform) as platforms,
           list(distinct platform order by platform) as platform_list,
           min(first_seen_at) as first_seen_at, max(last_seen_at) as last_seen_at
    from fused.member {where} group by one_id"""


def _write_members(
    con: duckdb.DuckDBPyConnection,
    accounts: pa.Table,
    result: members.MemberResult,
    previous: dict[str, str],
    incremental: bool,
) -> None:
    """Write fused.member / identity / member_link; an incremental run touches only changed rows."""
    in_place = incremental and all(
        store.has_table(con, "fused", t) for t in ("member", "identity", "member_link")
    )
    changed = dict(result.ids.items() - previous.items()) if in_place else result.ids
    ids = pa.table(
        {"account_key": list(changed.keys()), "one_id": list(changed.values())},
        schema=pa.schema([("account_key", pa.string()), ("one_id", pa.string())]),
    )
    con.register("_ids", ids)
    con.register("_acc", accounts)
    if in_place:
        touched = pa.table(
            {"one_id": sorted(set(changed.values()) | {previous[k] for k in changed if k in previous})},
            schema=pa.schema([("one_id", pa.string())]),
        )
        con.register("_touched", touched)
        con.execute("delete from fused.member where account_key in (select account_key from _ids)")
        con.execute(
            "insert into fused.member select a.*, i.one_id from _acc a join _ids i using (account_key)"
        )
        con.execute("delete from fused.identity where one_id in (select one_id from _touched)")
        con.execute(
            "insert into fused.identity "
            + IDENTITY_SQL.format(where="where one_id in (select one_id from _touched)")
        )
        con.register("_links", result.edges)
        con.execute("insert into fused.member_link select * from _links")
        con.unregister("_links")
        con.unregister("_touched")
    else:
        store.write_table(con, "member", "select a.*, i.one_id from _acc a join _ids i using (account_key)")
        store.write_table(con, "identity", IDENTITY_SQL.format(where=""))
        store.write_table(con, "member_link", result.edges)
    con.unregister("_ids")
    con.unregister("_acc")


def _member_stage(
    workspace: Workspace,
    con: duckdb.DuckDBPyConnection,
    reader: FieldReader,
    ledger: Ledger,
    run_id: str,
    engine: str,
    spark: Any,
    progress: Callable[[str], None] | None,
    full: bool,
) -> tuple[ResolveSummary, members.MemberResult]:
    accounts = _read_accounts(con)
    previous = ledger.identity_map(members.ENTITY)
    keys = accounts.column("account_key").to_pylist()
    new_keys = sorted(set(keys) - previous.keys())
    saved = members.load_model(model_path(workspace))
    decided = ledger.decision_count(members.ENTITY)
    incremental = (
        not full
        and bool(previous)
        and saved is not None
        and len(new_keys) <= members.INCREMENTAL_MAX_SHARE * len(keys)
        and saved.get("_ecfusion_decisions") == decided
        and len(previous) <= len(keys)
    )
    if incremental and saved is not None:
        result = members.resolve_incremental(
            accounts, new_keys, reader, ledger, saved, previous, engine=engine, spark=spark, progress=progress
        )
    else:
        result = members.resolve_full(accounts, reader, ledger, engine=engine, spark=spark, progress=progress)
        if result.model is not None:
            result.model["_ecfusion_decisions"] = decided
            path = model_path(workspace)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result.model, ensure_ascii=False), encoding="utf-8")
    t = time.perf_counter()
    _write_members(con, accounts, result, previous, incremental)
    ledger.save_identity_map(members.ENTITY, result.ids, previous, run_id)
    n_events = ledger.record_events(members.ENTITY, run_id, result.events if previous else [])
    queued = ledger.enqueue(members.ENTITY, run_id, result.review_pairs)
    ledger.close_linked(members.ENTITY, result.ids)
    result.timings["write"] = round(time.perf_counter() - t, 3)
    row = con.execute(
        "select count(*), count(*) filter (where platforms > 1) from fused.identity"
    ).fetchall()[0]
    summary = ResolveSummary(
        run_id,
        len(keys),
        int(row[0]),
        int(row[1]),
        incremental=incremental,
        new_accounts=len(new_keys) if previous else len(keys),
        events=n_events,
        review_queued=queued,
        guard=result.guard,
        timings=dict(result.timings),
    )
    return summary, result


def _product_stage(con: duckdb.DuckDBPyConnection, ledger: Ledger, run_id: str) -> tuple[int, int, int, int]:
    if not store.has_table(con, "unified", "listing"):
        return 0, 0, 0, 0
    listings = store.read_table(con, "unified", "listing")
    pairs, cannot, _specs = products.listing_pairs(listings)
    confirmed, constraints = ledger.decisions("product")
    for a, b in cannot:
        constraints.forbid(a, b)
    edges = [
        (p.left, p.right, p.method, p.score)
        for p in pairs
        if p.method == "rule" or p.score >= products.MATCH_SCORE
    ]
    edges += [(a, b, "review", 100.0) for a, b in confirmed]
    keys = listings.column("listing_key").to_pylist()
    roots, _ = graph.cluster(keys, edges, constraints)
    previous = ledger.identity_map("product")
    ids, events = graph.assign_ids(roots, previous, {k: k for k in keys}, "sku")
    ledger.save_identity_map("product", ids, previous, run_id)
    n_events = ledger.record_events("product", run_id, events if previous else [])
    review = [
        (p.left, p.right, p.score / 100, p.evidence)
        for p in pairs
        if p.method == "similarity" and p.score < products.MATCH_SCORE and ids[p.left] != ids[p.right]
    ]
    queued = ledger.enqueue("product", run_id, review)
    con.register("_sku", pa.table({"listing_key": list(ids), "std_sku_id": list(ids.values())}))
    store.write_table(
        con, "listing", "select l.*, s.std_sku_id from unified.listing l join _sku s using (listing_key)"
    )
    used = [p for p in pairs if p.method == "rule" or p.score >= products.MATCH_SCORE]
    ledger.close_linked("product", ids)
    store.write_table(
        con,
        "listing_link",
        pa.table(
            {
                "left_key": [p.left for p in used],
                "right_key": [p.right for p in used],
                "method": [p.method for p in used],
                "reason": [p.reason for p in used],
                "weight": [p.score for p in used],
                "evidence": [p.evidence for p in used],
            }
        ),
    )
    con.unregister("_sku")
    return len(keys), len(set(ids.values())), n_events, queued


def _order_stage(con: duckdb.DuckDBPyConnection) -> None:
    """Orders joined to one_id and std_sku_id (when the unified order tables exist)."""
    if store.has_table(con, "unified", "orders") and store.has_table(con, "fused", "member"):
        store.write_table(
            con,
            "orders",
            """
            select o.*, m.one_id from unified.orders o
            left join fused.member m on m.account_key = o.account_key""",
        )
    if store.has_table(con, "unified", "order_line") and store.has_table(con, "fused", "listing"):
        store.write_table(
            con,
            "order_line",
            """
            select l.*, s.std_sku_id from unified.order_line l
            left join fused.listing s on s.listing_key = l.listing_key""",
        )


def run(
    workspace: Workspace,
    *,
    engine: str = "duckdb",
    progress: Callable[[str], None] | None = None,
    reader: FieldReader | None = None,
    spark: Any = None,
    full: bool = False,
) -> ResolveSummary:
    """Resolve members to one_id and listings to std_sku_id; write ``fused``; return the summary.

    ``engine`` picks the similarity backend ("duckdb" or "spark"; with "spark" pass ``spark=`` a
    session or one is started in local mode). ``full=True`` forces a from-scratch member run.
    """
    if engine not in ("duckdb", "spark"):
        raise InputError(f"unknown engine {engine!r}", hint="use 'duckdb' or 'spark'")
    reader = reader or open_reader(workspace)
    if engine == "spark" and spark is None:
        from ecfusion.resolve.spark import local_session

        spark = local_session(workspace.warehouse_root / "spark-checkpoints")
    run_id = f"er-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    ledger = Ledger(workspace.control_url)
    t = time.perf_counter()
    with store.update(workspace, run_id) as con:
        summary, _result = _member_stage(
            workspace, con, reader, ledger, run_id, engine, spark, progress, full
        )
        if progress:
            progress("standard SKUs")
        tp = time.perf_counter()
        summary.listings, summary.std_skus, product_events, product_queued = _product_stage(
            con, ledger, run_id
        )
        summary.review_queued += product_queued
        summary.timings["products"] = round(time.perf_counter() - tp, 3)
        summary.events += product_events
        _order_stage(con)
    summary.timings["total"] = round(time.perf_counter() - t, 3)
    return summary
