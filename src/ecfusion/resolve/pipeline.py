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

from ecfusion.config import ENGINES, Workspace
from ecfusion.errors import InputError
from ecfusion.resolve import graph, members, products, store
from ecfusion.resolve.ledger import Ledger, RunRecord
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
    full_reason: str = ""  # why a run resolved every account again ("" when incremental)
    new_accounts: int = 0
    events: int = 0
    review_queued: int = 0
    guard: dict[str, dict[str, int]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_path(workspace: Workspace) -> Path:
    return workspace.warehouse_root / "models" / "member_model.json"


ACCOUNTS = "resolve_accounts"  # temp view: unified.member_account with the columns a run expects


def _accounts_view(con: duckdb.DuckDBPyConnection) -> int:
    """Define the temp view ``ACCOUNTS`` over ``unified.member_account``; returns its row count.

    A view, not an Arrow copy: an incremental run reads a few columns of every account and whole
    rows of only a few, and a million whole rows in memory cost it more than its own work."""
    if not store.has_table(con, "unified", "member_account"):
        raise InputError(
            "warehouse table unified.member_account does not exist",
            hint="standardize the sources first (`ecfusion run`), then resolve",
        )
    names = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'unified' and table_name = 'member_account'"
        ).fetchall()
    }
    missing = [c for c in MEMBER_COLUMNS if c not in names]
    if missing:
        raise InputError(
            f"unified.member_account lacks columns {missing}",
            hint="rebuild the unified tables with the current ecfusion (contracts §4)",
        )
    # columns a warehouse written before them lacks
    later = "".join(f", null::varchar as {c}" for c in ("card_no", "wechat_openid") if c not in names)
    con.execute(f"create or replace temp view {ACCOUNTS} as select *{later} from unified.member_account")
    return int(con.execute(f"select count(*) from {ACCOUNTS}").fetchall()[0][0])


IDENTITY_SQL = """
    select one_id, count(*) as accounts, count(distinct platform) as platforms,
           list(distinct platform order by platform) as platform_list,
           min(first_seen_at) as first_seen_at, max(last_seen_at) as last_seen_at
    from fused.member {where} group by one_id"""


def _write_members(
    con: duckdb.DuckDBPyConnection,
    result: members.MemberResult,
    incremental: bool,
) -> None:
    """Write fused.member / identity / member_link; an incremental run touches only changed rows
    (``_new_accounts`` made it incremental only where the fused tables exist)."""
    previous = result.previous
    changed = dict(result.ids.items() - previous.items()) if incremental else result.ids
    ids = pa.table(
        {"account_key": list(changed.keys()), "one_id": list(changed.values())},
        schema=pa.schema([("account_key", pa.string()), ("one_id", pa.string())]),
    )
    con.register("_ids", ids)
    if incremental:
        touched = pa.table(
            {"one_id": sorted(set(changed.values()) | {previous[k] for k in changed if k in previous})},
            schema=pa.schema([("one_id", pa.string())]),
        )
        con.register("_touched", touched)
        _update_members(con, result, changed)
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
        store.write_table(
            con, "member", f"select a.*, i.one_id from {ACCOUNTS} a join _ids i using (account_key)"
        )
        store.write_table(con, "identity", IDENTITY_SQL.format(where=""))
        store.write_table(con, "member_link", result.edges)
    con.unregister("_ids")


def _update_members(
    con: duckdb.DuckDBPyConnection, result: members.MemberResult, changed: dict[str, str]
) -> None:
    """An existing account whose one_id changed gets one column updated; a new account's row is
    inserted from the rows the run already holds (``result.rows`` has every new account; a join
    with the accounts view would read every column of every account)."""
    schema = pa.schema([("account_key", pa.string()), ("one_id", pa.string())])
    moved = {k: v for k, v in changed.items() if k in result.previous}
    fresh = {k: v for k, v in changed.items() if k not in result.previous}
    con.register(
        "_moved", pa.table({"account_key": list(moved), "one_id": list(moved.values())}, schema=schema)
    )
    con.register(
        "_fresh", pa.table({"account_key": list(fresh), "one_id": list(fresh.values())}, schema=schema)
    )
    if moved:
        con.execute(
            "update fused.member as m set one_id = i.one_id from _moved i where m.account_key = i.account_key"
        )
    if fresh:
        assert result.rows is not None, "an incremental run holds the rows of its new accounts"
        con.register("_rows", result.rows)
        con.execute(
            "insert into fused.member select a.*, i.one_id from _rows a join _fresh i using (account_key)"
        )
        con.unregister("_rows")
    con.unregister("_moved")
    con.unregister("_fresh")


def _new_accounts(con: duckdb.DuckDBPyConnection, ledger: Ledger, n_accounts: int) -> list[str] | str:
    """The accounts not yet in the identity map, found in the warehouse — or why the run must
    resolve every account again.

    Only when this snapshot's ``fused.member`` *is* the control plane's identity map (same run
    mark, same size, no account gone since) are the new accounts those missing from it; the map
    itself is then read by key, for the few rows the run may change, never as a whole.
    """
    state = ledger.map_state(members.ENTITY)
    if state is None:
        return "no identity map yet"
    if store.resolve_mark(con, members.ENTITY) != state.run_id:
        return (
            "the warehouse snapshot does not hold the control plane's identity map (a run stopped "
            "before it published, or the warehouse was rolled back)"
        )
    if not all(store.has_table(con, "fused", t) for t in ("member", "identity", "member_link")):
        return "the warehouse snapshot has no fused member tables"
    mapped = con.execute("select count(*) from fused.member").fetchall()[0][0]
    if mapped != state.records:
        return f"fused.member holds {mapped:,} accounts, the identity map {state.records:,}"
    if con.table("fused.member").columns != [*con.sql(f"select * from {ACCOUNTS}").columns, "one_id"]:
        return "unified.member_account gained or lost a column: fused.member is rewritten"
    rows = con.execute("""
        select distinct account_key from unified.member_account
        where account_key not in (select account_key from fused.member) order by 1""").fetchall()
    new_keys = [str(r[0]) for r in rows]
    accounts = con.execute("select count(distinct account_key) from unified.member_account").fetchall()[0][0]
    if mapped + len(new_keys) != accounts:
        return "accounts left the warehouse since the last run: they leave the map"
    if len(new_keys) > members.INCREMENTAL_MAX_SHARE * n_accounts:
        return (
            f"{len(new_keys):,} new accounts, over {members.INCREMENTAL_MAX_SHARE:.0%} of all: "
            "training again on everyone"
        )
    if ledger.identity_rows(members.ENTITY, new_keys):
        return "the control plane already maps some of the new accounts: the snapshot is not its copy"
    return new_keys


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
    t = time.perf_counter()
    n = _accounts_view(con)
    saved = members.load_model(model_path(workspace))
    decided = ledger.decision_count(members.ENTITY)
    plan: list[str] | str
    if full:
        plan = "--full asked for"
    elif saved is None:
        plan = "no trained model yet"
    elif saved.get("_ecfusion_decisions") != decided:
        plan = "review decisions changed since the model was trained"
    else:
        plan = _new_accounts(con, ledger, n)
    new_keys = plan if isinstance(plan, list) else None
    if new_keys is not None and saved is not None:
        load_s = time.perf_counter() - t
        had_map, fresh = True, len(new_keys)
        result = members.resolve_incremental(
            con, ACCOUNTS, new_keys, reader, ledger, saved, engine=engine, spark=spark, progress=progress
        )
    else:
        accounts = con.sql(f"select * from {ACCOUNTS}").to_arrow_table()
        previous = ledger.identity_map(members.ENTITY)
        load_s = time.perf_counter() - t
        had_map = bool(previous)
        result = members.resolve_full(
            accounts, reader, ledger, previous, engine=engine, spark=spark, progress=progress
        )
        fresh = sum(1 for k in result.ids if k not in previous)
        if result.model is not None:
            result.model["_ecfusion_decisions"] = decided
            path = model_path(workspace)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result.model, ensure_ascii=False), encoding="utf-8")
    incremental = new_keys is not None
    t = time.perf_counter()
    _write_members(con, result, incremental)
    store.set_resolve_mark(con, members.ENTITY, run_id)
    n_events, queued = ledger.record_run(
        RunRecord(
            members.ENTITY,
            run_id,
            result.ids,
            result.previous,
            result.events if had_map else [],
            result.review_pairs,
            records=n if incremental else len(result.ids),
        )
    )
    row = con.execute(
        "select count(*), count(*) filter (where platforms > 1) from fused.identity"
    ).fetchall()[0]
    timings = {"load": round(load_s, 3), **result.timings, "write": round(time.perf_counter() - t, 3)}
    summary = ResolveSummary(
        run_id,
        n,
        int(row[0]),
        int(row[1]),
        incremental=incremental,
        full_reason="" if isinstance(plan, list) else plan,
        new_accounts=fresh,
        events=n_events,
        review_queued=queued,
        guard=result.guard,
        timings=timings,
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
    review = [
        (p.left, p.right, p.score / 100, p.evidence)
        for p in pairs
        if p.method == "similarity" and p.score < products.MATCH_SCORE and ids[p.left] != ids[p.right]
    ]
    n_events, queued = ledger.record_run(
        RunRecord("product", run_id, ids, previous, events if previous else [], review, len(ids))
    )
    con.register("_sku", pa.table({"listing_key": list(ids), "std_sku_id": list(ids.values())}))
    store.write_table(
        con, "listing", "select l.*, s.std_sku_id from unified.listing l join _sku s using (listing_key)"
    )
    used = [p for p in pairs if p.method == "rule" or p.score >= products.MATCH_SCORE]
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
    wait: float = 0.0,
) -> ResolveSummary:
    """Resolve members to one_id and listings to std_sku_id; write ``fused``; return the summary.

    ``engine`` picks the similarity backend ("duckdb" or "spark"; with "spark" pass ``spark=`` a
    session or one is started in local mode). ``full=True`` forces a from-scratch member run.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}", hint=f"use {' or '.join(ENGINES)}")
    reader = reader or open_reader(workspace)
    if engine == "spark" and spark is None:
        from ecfusion.resolve.spark import local_session

        spark = local_session(workspace.warehouse_root / "spark-checkpoints", log=workspace.spark_log)
    run_id = f"er-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    t = time.perf_counter()
    ledger = Ledger(workspace.control_url)
    with store.update(workspace, run_id, wait=wait) as con:
        # fixed costs of every run, timed so the stages add up to the total: opening the control
        # plane, copying the live snapshot (below, its checkpoint and publication)
        opened = round(time.perf_counter() - t, 3)
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
        to = time.perf_counter()
        _order_stage(con)
        summary.timings["orders"] = round(time.perf_counter() - to, 3)
        tc = time.perf_counter()
    summary.timings["publish"] = round(time.perf_counter() - tc, 3)
    summary.timings = {"open": opened, **summary.timings, "total": round(time.perf_counter() - t, 3)}
    return summary
