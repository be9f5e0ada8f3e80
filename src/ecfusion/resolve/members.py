"""Members → one_id: rules, similarity and graph in one identity graph (6.1.3; 4.3.6 b OneID).

A full run guards identifiers, builds in-memory features, runs the rule and graph edges in SQL,
trains and applies the Splink model, clusters with constraints and carries previous ids forward.
An incremental run (few new accounts, a saved model, no new reviewer decisions) selects only the
existing accounts that share an unguarded key with a new one (on blind indexes and non-personal
columns), decrypts just those, scores new × candidates and new × new, and re-clusters only the
identities an edge reaches — the rest of the identity map is neither recomputed nor read.
Accounts without a platform account id are isolated (a standardizer pools buyerless orders into
such a row).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ecfusion.interrupt import stoppable
from ecfusion.resolve import graph, rules, similarity
from ecfusion.resolve.features import member_features
from ecfusion.resolve.guards import IdentifierGuard, build_guard
from ecfusion.resolve.ledger import Ledger
from ecfusion.resolve.pii import FieldReader

ENTITY = "member"
INCREMENTAL_MAX_SHARE = 0.2
Progress = Callable[[str], None]
EDGE_SCHEMA = pa.schema(
    [
        ("left_key", pa.string()),
        ("right_key", pa.string()),
        ("method", pa.string()),
        ("reason", pa.string()),
        ("weight", pa.float64()),
        ("evidence", pa.string()),
    ]
)

# Existing accounts sharing an unguarded key with a new one. Each kind of key is a semi-join of
# the accounts' own column against the new accounts' values (no key strings built for a million
# accounts), so the cost is a few column scans.
CANDIDATE_SQL = """
with n as (select * from {acc} where account_key in (select account_key from _er_new)),
v as (
  select 'p' as kind, phone_bidx as v from n
  union all select 'a', address_bidx from n
  union all select 'e', email_bidx from n
  union all select 'i', id_number_bidx from n
  union all select 'v', substr(phone_masked, 1, 3) || substr(phone_masked, -4) from n
  union all select 'k', nickname from n
  union all select 'c', card_no from n
  union all select 'o', wechat_openid from n
  union all select 'd', unnest(device_ids) from n),
keys as (select distinct kind, v from v where v is not null and kind || v not in (select k from _er_guarded)),
hits as (
  select account_key from {acc} where phone_bidx in (select v from keys where kind = 'p')
  union all select account_key from {acc} where address_bidx in (select v from keys where kind = 'a')
  union all select account_key from {acc} where email_bidx in (select v from keys where kind = 'e')
  union all select account_key from {acc} where id_number_bidx in (select v from keys where kind = 'i')
  union all select account_key from {acc}
        where substr(phone_masked, 1, 3) || substr(phone_masked, -4) in (select v from keys where kind = 'v')
  union all select account_key from {acc} where nickname in (select v from keys where kind = 'k')
  union all select account_key from {acc} where card_no in (select v from keys where kind = 'c')
  union all select account_key from {acc} where wechat_openid in (select v from keys where kind = 'o')
  union all select account_key from (select account_key, unnest(device_ids) as d from {acc})
        where d in (select v from keys where kind = 'd')
  union all select account_key from {acc}
        where (platform, platform_account_id) in (select platform, platform_account_id from n)
  union all select account_key from {acc} where (split_part(name_token, ':', 4), city) in
        (select split_part(name_token, ':', 4), city from n
         where name_token is not null and city is not null))
select distinct account_key from hits where account_key not in (select account_key from _er_new)
"""
# candidate-key prefix of each guarded identifier kind (a value the guard excludes links nothing,
# so it selects no candidates: one store tablet would otherwise pull in every walk-in shopper)
_KEY_PREFIX = {
    "phone": "p",
    "phone_vis": "v",
    "email": "e",
    "id_number": "i",
    "address": "a",
    "nickname": "k",
    "device": "d",
}


def _guarded_keys(guard: IdentifierGuard) -> pa.Table:
    keys = [
        _KEY_PREFIX[kind] + v
        for kind, values in guard.excluded.items()
        if kind in _KEY_PREFIX
        for v in values
    ]
    return pa.table({"k": pa.array(keys, pa.string())})


@dataclass
class MemberResult:
    ids: dict[str, str]
    edges: pa.Table
    events: list[graph.IdentityEvent]
    review_pairs: list[tuple[str, str, float, str]]
    incremental: bool
    guard: dict[str, dict[str, int]]
    timings: dict[str, float] = field(default_factory=dict)
    model: dict[str, Any] | None = None
    # the identity-map rows this run read: all of them in a full run, in an incremental one only
    # those of the accounts it compared and of the identities it re-clustered (``ids`` covers them)
    previous: dict[str, str] = field(default_factory=dict)
    rows: pa.Table | None = None  # incremental: the warehouse rows of the new accounts and candidates


def _timed(timings: dict[str, float], name: str, start: float) -> float:
    now = time.perf_counter()
    timings[name] = round(now - start, 3)
    return now


def _features(accounts: pa.Table, reader: FieldReader, guard: IdentifierGuard) -> pa.Table:
    f = member_features(accounts, reader, guard.allow)
    devices = [d or None for d in f.column("device_ids").to_pylist()]
    return f.set_column(
        f.schema.get_field_index("device_ids"), "device_ids", pa.array(devices, pa.list_(pa.string()))
    )


def _edges_table(rule_edges: pa.Table, scored: pa.Table, confirmed: list[tuple[str, str]]) -> pa.Table:
    probability = scored.column("match_probability").cast(pa.float64())
    sim = scored.filter(pc.fill_null(pc.greater_equal(probability, similarity.MATCH_THRESHOLD), False))
    sim_edges = pa.table(
        {
            "left_key": sim.column("left_key"),
            "right_key": sim.column("right_key"),
            "method": pa.array(["similarity"] * sim.num_rows, pa.string()),
            "reason": pa.array(["splink"] * sim.num_rows, pa.string()),
            "weight": sim.column("match_probability").cast(pa.float64()),
            "evidence": sim.column("evidence"),
        }
    )
    review = pa.table(
        {
            "left_key": [a for a, _ in confirmed],
            "right_key": [b for _, b in confirmed],
            "method": ["review"] * len(confirmed),
            "reason": ["reviewer confirmed"] * len(confirmed),
            "weight": [1.0] * len(confirmed),
            "evidence": ["{}"] * len(confirmed),
        },
        schema=EDGE_SCHEMA,
    )
    return pa.concat_tables([rule_edges.cast(EDGE_SCHEMA), sim_edges.cast(EDGE_SCHEMA), review])


def _edge_tuples(edges: pa.Table) -> list[tuple[str, str, str, float]]:
    cols = [edges.column(c).to_pylist() for c in ("left_key", "right_key", "method", "weight")]
    return list(zip(*cols, strict=True))


def _constraints(
    ledger: Ledger, accounts: pa.Table, guard: IdentifierGuard
) -> tuple[list[tuple[str, str]], graph.Constraints]:
    confirmed, constraints = ledger.decisions(ENTITY)
    keys = accounts.column("account_key").to_pylist()
    ids = accounts.column("id_number_bidx").to_pylist()
    for k, i, own in zip(keys, ids, accounts.column("platform_account_id").to_pylist(), strict=True):
        if guard.allow("id_number", i):
            constraints.exclusive[k] = i
        if not own or not own.strip():
            # no account id: the standardizer pooled every order without a buyer into this row
            # (e.g. "pdd:"), so its fields belong to many people and it must link to no one
            constraints.isolated.add(k)
    return confirmed, constraints


def _review_pairs(scored: pa.Table, ids: dict[str, str]) -> list[tuple[str, str, float, str]]:
    out = []
    for a, b, p, ev in zip(
        *(scored.column(c).to_pylist() for c in ("left_key", "right_key", "match_probability", "evidence")),
        strict=True,
    ):
        if p < similarity.MATCH_THRESHOLD and ids.get(a) != ids.get(b):
            out.append((min(a, b), max(a, b), p, ev))
    return out


def resolve_full(
    accounts: pa.Table,
    reader: FieldReader,
    ledger: Ledger,
    previous: dict[str, str],
    *,
    engine: str = "duckdb",
    spark: Any = None,
    progress: Progress | None = None,
) -> MemberResult:
    """Resolve every account from scratch (ids still carried forward from ``previous``, the whole
    identity map)."""
    say = progress or (lambda _s: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    say("guarding identifiers")
    guard = build_guard(accounts, reader)
    say("building in-memory features")
    feats = _features(accounts, reader, guard)
    t = _timed(timings, "features", t)
    con = stoppable(duckdb.connect(":memory:"))
    con.register("f", feats)
    say("rules and graph edges")
    rule_edges = rules.rule_edges(con)
    t = _timed(timings, "rules", t)
    say(f"similarity model ({engine})")
    # Training (EM on samples) always runs on in-memory DuckDB, so both engines apply the very
    # same model; the engine does the heavy part, scoring every blocked pair.
    model_json: dict[str, Any] | None = None
    if feats.num_rows < 2:  # nothing to compare: no model, no pairs
        scored = similarity.PREDICTION_SCHEMA.empty_table()
    else:
        train_api = similarity.make_db_api("duckdb")
        model = similarity.train(
            train_api,
            similarity.register(train_api, feats, "member_features"),
            prior=similarity.prior_match_rate(con, feats.num_rows),
        )
        model_json = model.model_json()
        if engine == "spark":
            spark_api = similarity.make_db_api("spark", spark)
            table = similarity.register(spark_api, feats, "member_features", spark)
            scored = similarity.transfer(model, spark_api, table).predict(similarity.REVIEW_THRESHOLD)
        else:
            scored = model.predict(similarity.REVIEW_THRESHOLD)
    t = _timed(timings, "similarity", t)
    say("clustering")
    confirmed, constraints = _constraints(ledger, accounts, guard)
    edges = _edges_table(rule_edges, scored, confirmed)
    roots, _refused = graph.cluster(feats.column("unique_id").to_pylist(), _edge_tuples(edges), constraints)
    age = _ages(accounts)
    ids, events = graph.assign_ids(roots, previous, age, "oid")
    review = _review_pairs(scored, ids)
    _timed(timings, "clustering", t)
    con.close()
    return MemberResult(ids, edges, events, review, False, guard.report(), timings, model_json, previous)


def _tf_column(wh: duckdb.DuckDBPyConnection, acc: str, feats: pa.Table) -> pa.Table:
    """Term frequency of each name over *all* accounts, from blind indexes (no plaintext TF table)."""
    wh.register("_er_f", feats)
    out = wh.sql(f"""
        with tf as (select split_part(name_token, ':', 4) as b, count(*) / sum(count(*)) over () as tf
                    from {acc} where name_token is not null group by 1)
        select f.*, tf.tf as tf_name_simp from _er_f f left join tf on f.name_bidx = tf.b""").to_arrow_table()
    wh.unregister("_er_f")
    return out


# what ``guards.build_guard`` counts: an incremental run reads just these columns of every account
GUARD_COLUMNS = (
    "phone_bidx",
    "email_bidx",
    "id_number_bidx",
    "address_bidx",
    "nickname",
    "device_ids",
    "phone_masked",
)


def resolve_incremental(
    wh: duckdb.DuckDBPyConnection,
    acc: str,
    new_keys: list[str],
    reader: FieldReader,
    ledger: Ledger,
    model_json: dict[str, Any],
    *,
    engine: str = "duckdb",
    spark: Any = None,
    progress: Progress | None = None,
) -> MemberResult:
    """Add ``new_keys`` to the existing identities, touching only the identities they reach.

    The accounts are the relation ``acc`` in the warehouse connection ``wh``: only the guard's
    columns of every account and the whole rows of the new accounts and their candidates are read
    into memory. Reads from the identity map only the rows of the accounts scored against a new one and of the
    identities an edge reaches (``Ledger.identity_rows`` / ``identity_members``); ``ids`` in the
    result covers just those rows and the new accounts."""
    say = progress or (lambda _s: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    guard = build_guard(wh.sql(f"select {', '.join(GUARD_COLUMNS)} from {acc}").to_arrow_table(), reader)
    if not new_keys:
        return MemberResult({}, EDGE_SCHEMA.empty_table(), [], [], True, guard.report(), timings)
    wh.register("_er_new", pa.table({"account_key": new_keys}))
    wh.register("_er_guarded", _guarded_keys(guard))
    say("selecting candidate accounts by blocking keys")
    candidates = [r[0] for r in wh.execute(CANDIDATE_SQL.format(acc=acc)).fetchall()]
    wh.register("_er_wanted", pa.table({"account_key": new_keys + candidates}))
    subset = wh.sql(f"select a.* from {acc} a join _er_wanted using (account_key)").to_arrow_table()
    for name in ("_er_new", "_er_guarded", "_er_wanted"):
        wh.unregister(name)
    t = _timed(timings, "candidates", t)
    with_tf = _tf_column(wh, acc, _features(subset, reader, guard))
    feats = with_tf.drop_columns(["tf_name_simp"])
    t = _timed(timings, "features", t)
    fcon = stoppable(duckdb.connect(":memory:"))
    fcon.register("f", feats)
    fcon.register("new_keys", pa.table({"unique_id": new_keys}))
    rule_edges = rules.rule_edges(fcon, "f", "new_keys")
    t = _timed(timings, "rules", t)
    say("scoring new accounts against candidates")
    new_set = set(new_keys)
    is_new = pa.array([k in new_set for k in feats.column("unique_id").to_pylist()], pa.bool_())
    db_api = similarity.make_db_api(engine, spark)
    new_t = similarity.register(db_api, feats.filter(is_new), "new_members", spark)
    old_t = similarity.register(db_api, feats.filter(pc.invert(is_new)), "candidate_members", spark)
    model = similarity.load(db_api, new_t, model_json)
    tf = with_tf.select(["name_simp", "tf_name_simp"]).filter(pc.is_valid(with_tf.column("name_simp")))
    tf = pa.table({"name_simp": tf.column("name_simp"), "tf_name_simp": tf.column("tf_name_simp")})
    tf_t = similarity.register(db_api, _distinct(tf), "name_frequency", spark)
    model.linker.table_management.register_term_frequency_lookup(tf_t, "name_simp")
    scored = model.predict_incremental(new_t, old_t, similarity.REVIEW_THRESHOLD)
    t = _timed(timings, "similarity", t)
    confirmed, constraints = _constraints(ledger, subset, guard)
    edges = _edges_table(rule_edges, scored, confirmed)
    # only identities an edge reaches are re-clustered: a candidate that shared a block with a new
    # account but matched nothing keeps its identity untouched
    linked = set(edges.column("left_key").to_pylist()) | set(edges.column("right_key").to_pylist())
    compared = set(scored.column("left_key").to_pylist()) | set(scored.column("right_key").to_pylist())
    known = ledger.identity_rows(ENTITY, (linked | compared) - new_set)
    touched = ledger.identity_members(ENTITY, {known[k] for k in linked if k in known})
    groups: dict[str, list[str]] = defaultdict(list)
    for k, cid in sorted(touched.items()):
        groups[cid].append(k)
    keys = new_keys + [k for cid in sorted(groups) for k in groups[cid]]
    seeds = [groups[cid] for cid in sorted(groups)]
    roots, _refused = graph.cluster(keys, _edge_tuples(edges), constraints, seed_clusters=seeds)
    previous = {**known, **touched}
    age = _ages(subset)
    local_prev = {k: previous[k] for k in roots if k in previous}
    local_ids, events = graph.assign_ids(roots, local_prev, age, "oid")
    ids = {**previous, **local_ids}
    review = _review_pairs(scored, ids)
    _timed(timings, "clustering", t)
    fcon.close()
    return MemberResult(ids, edges, events, review, True, guard.report(), timings, None, previous, subset)


def _ages(accounts: pa.Table) -> dict[str, object]:
    """account → first-seen time as a sortable integer (the oldest account anchors a new id)."""
    seen = pc.fill_null(accounts.column("first_seen_at").cast(pa.timestamp("us")).cast(pa.int64()), 2**62)
    return {
        k: f"{v:020d}"
        for k, v in zip(accounts.column("account_key").to_pylist(), seen.to_pylist(), strict=True)
    }


def _distinct(table: pa.Table) -> pa.Table:
    """One row per name (a name's frequency is the same wherever it appears)."""
    return (
        table.group_by("name_simp")
        .aggregate([("tf_name_simp", "max")])
        .rename_columns(["name_simp", "tf_name_simp"])
    )


def load_model(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    return dict(json.loads(path.read_text(encoding="utf-8")))
