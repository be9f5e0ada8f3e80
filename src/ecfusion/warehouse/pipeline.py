"""``warehouse.run``: raw zone → standardized, merged, published warehouse snapshot
(standard 5.2 Table 1, 5.3.1.2, 6.1; Build items 4–8).

Steps: find raw files not yet processed → stage them with the SQL generated from each
platform's mapping → classify every raw record (unified / quarantined / duplicate) → merge into
the unified tables (latest version wins; status history keeps every transition) → write the
new state into a fresh snapshot file → reconcile → publish atomically. Nothing here depends on
the engine: stage SQL goes through the ``Engine`` seam.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from ecfusion.config import Workspace
from ecfusion.engine import Engine, open_engine
from ecfusion.engine.duck import memory_errors
from ecfusion.errors import EngineError, InputError, OutOfMemory, WorkspaceError
from ecfusion.model import revisions
from ecfusion.model.carriers import carrier_rows
from ecfusion.model.categories import category_rows
from ecfusion.model.spec import column_sql, create_table_sql
from ecfusion.model.tables import TABLES
from ecfusion.standardize import sqlgen
from ecfusion.standardize.mapping import Mapping, workspace_mappings
from ecfusion.standardize.normalize.completion import ip_database
from ecfusion.standardize.regions import REGION_SCHEMA, RegionStandardizer
from ecfusion.standardize.targets import unread_entity_hint
from ecfusion.warehouse import (
    compaction,
    discounts,
    from_orders,
    keyed,
    mapping_drift,
    members,
    merge,
    model_drift,
    reasons,
    settlement,
    spu,
)
from ecfusion.warehouse import rebuild as rebuild_from_raw
from ecfusion.warehouse.completion import completion_notes
from ecfusion.warehouse.from_orders import Write, flag_write
from ecfusion.warehouse.lakefiles import RawFile, damaged, platform_counts, scan, unprocessed
from ecfusion.warehouse.retry import Retry, nothing_released, release
from ecfusion.warehouse.snapshot import SnapshotStore, clone_file
from ecfusion.warehouse.summary import PlatformFigures, Reconciliation, RunSummary

ProgressFn = Callable[[str, int, int], None]
ENTITY_TARGET = {"orders": "orders", "refunds": "refund", "members": "member", **keyed.ENTITY_TARGETS}
STEPS = (
    "discover",
    "stage orders",
    "merge orders",
    "stage refunds",
    "merge refunds",
    "stage members",
    "merge members",
    "keyed entities",
    "publish",
)


def _noop(stage: str, done: int, total: int) -> None:
    return None


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas and every model table that is missing, and add the columns a newer
    model has to a table an older ecfusion created (additive: existing rows get NULL there). A
    table an older model shaped differently (columns this model dropped) is made anew while it is
    empty — a table that was pending then; one that holds rows keeps them, and its old columns."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS unified; CREATE SCHEMA IF NOT EXISTS meta")
    existing: dict[str, set[str]] = {}
    for schema, table, column in conn.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_schema IN ('unified', 'meta')"
    ).fetchall():
        existing.setdefault(f"{schema}.{table}", set()).add(column)
    for t in TABLES:
        have = existing.get(t.qualified)
        if have is not None and not have <= set(t.column_names):
            [(rows,)] = conn.execute(f"SELECT count(*) FROM {t.qualified}").fetchall()
            if rows == 0:
                conn.execute(f"DROP TABLE {t.qualified}")
                have = None
        if have is None:
            conn.execute(create_table_sql(t))
            continue
        for c in t.columns:
            if c.name not in have:
                conn.execute(f"ALTER TABLE {t.qualified} ADD COLUMN {column_sql(t, c)}")


def _expose(engine: Engine, conn: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """``cur_<name>``: the current state of unified/meta tables, visible to the engine."""
    for name in names:
        qualified = next(t.qualified for t in TABLES if t.name == name)
        if engine.name == "duckdb":
            engine.view(f"cur_{name}", f"SELECT * FROM {qualified}")
        else:
            engine.register_arrow(f"cur_{name}", conn.sql(f"SELECT * FROM {qualified}").to_arrow_table())


class _Run:
    """State of one run: the snapshot connection, the engine and what has been counted."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        engine: Engine,
        mappings: dict[str, Mapping],
        run_id: str,
        progress: ProgressFn,
    ) -> None:
        self.conn, self.engine, self.mappings = conn, engine, mappings
        self.run_id, self.progress = run_id, progress
        self.writes: list[Write] = []
        self.outcomes: list[str] = []
        self.flag_queries: list[str] = []
        self.notes: list[str] = []  # for the run summary, from what the stages found
        self.ip_db: Path | None = None  # IP → region completion (completion.ip_database), off by default
        # unified.member_account as this run has left it so far: the member merge replaces it
        self.accounts_now = "SELECT * FROM cur_member_account"

    def _platforms(self, files: list[RawFile], counts: dict[str, dict[str, int]]) -> list[Mapping]:
        present = {p for f in files for p in counts[str(f.path)]}
        return [self.mappings[p] for p in sorted(present)]

    def orders(self, files: list[RawFile], counts: dict[str, dict[str, int]]) -> None:
        e = self.engine
        e.register_parquet("raw_orders", [str(f.path) for f in files])
        heads, lines = [], []
        platforms = self._platforms(files, counts)
        for m in platforms:
            e.materialize(f"hdr_{m.platform}", sqlgen.orders_header_sql(m, "raw_orders"))
        self._standardize_regions([f"hdr_{m.platform}" for m in platforms])
        narrow = []
        for m in platforms:
            e.view(
                f"ord_{m.platform}",
                sqlgen.orders_stage_sql(f"hdr_{m.platform}", m.max_order_amount, regions="region_std"),
            )
            # the same rows without the region join, for the narrow passes that never read regions
            e.view(f"nar_{m.platform}", sqlgen.orders_stage_sql(f"hdr_{m.platform}", m.max_order_amount))
            heads.append(f"ord_{m.platform}")
            narrow.append(f"nar_{m.platform}")
            if m.order_line is not None:
                e.view(f"lraw_{m.platform}", sqlgen.lines_sql(m, f"hdr_{m.platform}"))
                e.view(f"lin_{m.platform}", sqlgen.lines_stage_sql(f"lraw_{m.platform}", m))
                lines.append(f"lin_{m.platform}")
        e.view("staged_orders", merge.union_views(heads))
        e.view("staged_narrow", merge.union_views(narrow))
        # a view: its two readers (the line checks, the winners' lines) unnest the parsed headers
        # again for less than copying 1.25M wide rows per 1M orders into a table once (~0.5 s)
        e.view("stg_lines", merge.union_views(lines))
        self.progress("stage orders", 1, 1)
        e.view("bad_orders", merge.bad_orders_sql("staged_narrow", "stg_lines"))
        e.view(
            "seen_orders",
            "SELECT raw_record_id FROM cur_order_version UNION ALL "
            "SELECT raw_record_id FROM cur_quarantine WHERE entity = 'orders'",
        )
        # Decisions on narrow rows (outcome, winning version); the wide rows are read once, below.
        lined = [f"hdr_{m.platform}" for m in platforms if m.order_line is not None and m.order_line.items]
        lineless = merge.lineless_versions_sql(lined)
        if lineless is not None:
            e.materialize("lineless_orders", lineless)  # few rows, read by several checks
        e.materialize("cls_orders", merge.classified_orders_sql(
            "staged_narrow", "bad_orders", "seen_orders",
            lineless=None if lineless is None else "lineless_orders", known="cur_order_version",
        ))
        e.view("out_orders", merge.outcomes_sql("cls_orders"))
        e.view("new_order_version", merge.new_versions_sql("cls_orders", self.run_id))
        e.view("ver_orders", merge.touched_versions_sql("cls_orders", "cur_order_version"))
        e.materialize("rep_orders", merge.repeated_hashes_sql("ver_orders", "order_key"))
        e.materialize("sev_orders", merge.several_versions_sql("ver_orders", "rep_orders"))
        e.view("one_orders", merge.single_versions_sql("ver_orders", "rep_orders"))
        e.materialize("win_orders", merge.winners_sql("one_orders", "sev_orders"))
        # aff_orders: the orders whose current rows the write replaces (new orders have none).
        e.materialize("aff_orders", merge.stale_orders_sql("win_orders"))
        e.materialize(
            "fill_orders", merge.contact_fill_sql("staged_orders", "cur_orders", "win_orders")
        )
        e.materialize(
            "chg_orders", merge.changed_orders_sql("staged_orders", "cur_orders", "win_orders", "fill_orders")
        )
        e.materialize("chg_order_line", merge.changed_lines_sql("stg_lines", "cur_order_line", "win_orders"))
        e.materialize("chg_order_status_history", merge.status_history_sql("one_orders", "sev_orders"))
        self._shipments(platforms)
        self.writes += [
            Write("new_order_version", "unified.order_version"),
            Write("chg_orders", "unified.orders", "order_key", "aff_orders"),
            Write("chg_order_line", "unified.order_line", "order_key", "aff_orders"),
            Write("chg_order_status_history", "unified.order_status_history", "order_key", "aff_orders"),
            *from_orders.derive(e, "", "chg_orders", "chg_order_line", "aff_orders"),
        ]
        self.outcomes.append("out_orders")
        self.progress("merge orders", 1, 1)

    def _shipments(self, platforms: list[Mapping]) -> None:
        """The parcels of each touched order's winning version (from the order headers' parcel
        lists, parsed with the order), their flags, and the carrier list they join."""
        e = self.engine
        views = []
        for m in platforms:
            if m.shipment is None:
                continue
            e.view(f"par_{m.platform}", sqlgen.shipments_sql(m, f"hdr_{m.platform}"))
            e.view(f"shp_{m.platform}", sqlgen.shipment_stage_sql(m, f"par_{m.platform}"))
            views.append(f"shp_{m.platform}")
        if not views:
            return
        e.view("stg_shipments", merge.union_views(views))
        e.materialize(
            "chg_shipment", merge.changed_shipments_sql("stg_shipments", "cur_shipment", "win_orders")
        )
        e.materialize(
            "old_shipment_flag_keys", merge.old_shipment_flag_keys_sql("cur_shipment", "aff_orders")
        )
        e.view("chg_shipment_flag", merge.shipment_flag_sql("chg_shipment"))
        # the summary's "flagged and kept": the parcels this run wrote, by flag
        self.flag_queries.append("SELECT rule, count(*) FROM chg_shipment_flag GROUP BY rule")
        e.register_arrow("carrier_list", carrier_rows())
        self.writes += [
            Write("chg_shipment", "unified.shipment", "order_key", "aff_orders"),
            flag_write("chg_shipment_flag", "old_shipment_flag_keys", "shipment"),
            Write("carrier_list", "unified.carrier", "carrier_code", "carrier_list"),
        ]

    def _standardize_regions(self, headers: list[str]) -> None:
        """Division-table names for the distinct receiver regions of this run (row-wise, Arrow batches)."""
        triples = " UNION ALL ".join(
            "SELECT receiver_province AS province, receiver_city AS city, receiver_district AS district "
            f"FROM {h}"
            for h in headers
        )
        self.engine.materialize("region_keys", f"SELECT DISTINCT * FROM ({triples}) AS t")
        self.engine.map_batches("region_std", "region_keys", RegionStandardizer(), REGION_SCHEMA)

    def refunds(self, files: list[RawFile], counts: dict[str, dict[str, int]]) -> None:
        e = self.engine
        e.register_parquet("raw_refunds", [str(f.path) for f in files])
        views, platforms = [], self._platforms(files, counts)
        for m in platforms:
            e.view(f"ref_{m.platform}", sqlgen.refund_stage_sql(m, "raw_refunds"))
            views.append(f"ref_{m.platform}")
        e.materialize("stg_refunds", merge.union_views(views))
        self.progress("stage refunds", 1, 1)
        e.view(
            "bad_refunds",
            "SELECT raw_record_id, _rule, _reason, _mapping FROM stg_refunds WHERE _rule IS NOT NULL",
        )
        e.view(
            "seen_refunds",
            "SELECT unnest(raw_record_ids) AS raw_record_id FROM cur_refund UNION ALL "
            "SELECT raw_record_id FROM cur_quarantine WHERE entity = 'refunds'",
        )
        e.materialize("out_refunds", merge.classify_sql("stg_refunds", "bad_refunds", "seen_refunds"))
        e.view("acc_refunds", "SELECT raw_record_id, raw_file FROM out_refunds WHERE outcome = 'unified'")
        e.materialize("cand_refunds", merge.candidate_refunds_sql("stg_refunds", "acc_refunds"))
        e.materialize("aff_refunds", merge.affected_sql("cand_refunds", "refund_key"))
        e.materialize("chg_refund", merge.changed_refunds_sql("cur_refund", "cand_refunds", "aff_refunds"))
        unmatched = reasons.unmatched_sql("cand_refunds", platforms)
        if unmatched is not None and (said := reasons.note(e.scalar_rows(unmatched), self.mappings)):
            self.notes.append(said)
        e.view("chg_refund_flag", merge.refund_flag_sql("chg_refund"))
        e.view("old_refund_flag_keys", "SELECT refund_key AS row_key FROM aff_refunds")
        # the summary's "flagged and kept": the refunds this run wrote, by flag
        self.flag_queries.append("SELECT rule, count(*) FROM chg_refund_flag GROUP BY rule")
        self.writes += [
            Write("chg_refund", "unified.refund", "refund_key", "aff_refunds"),
            flag_write("chg_refund_flag", "old_refund_flag_keys", "refund"),
        ]
        self.outcomes.append("out_refunds")
        self.progress("merge refunds", 1, 1)

    def members(self, files: list[RawFile], counts: dict[str, dict[str, int]]) -> None:
        """CRM members / store cards → ``unified.member_account`` (keys ``<platform>:<member_id>``)."""
        e = self.engine
        e.register_parquet("raw_members", [str(f.path) for f in files])
        views = []
        for m in self._platforms(files, counts):
            e.view(f"mem_{m.platform}", sqlgen.member_stage_sql(m, "raw_members"))
            views.append(f"mem_{m.platform}")
        e.materialize("stg_members", merge.union_views(views))
        self.progress("stage members", 1, 1)
        e.view(
            "bad_members",
            "SELECT raw_record_id, _rule, _reason, _mapping FROM stg_members WHERE _rule IS NOT NULL",
        )
        e.view(
            "seen_members",
            "SELECT unnest(raw_record_ids) AS raw_record_id FROM cur_member_account UNION ALL "
            "SELECT raw_record_id FROM cur_quarantine WHERE entity = 'members'",
        )
        e.materialize("out_members", merge.classify_sql("stg_members", "bad_members", "seen_members"))
        e.view("acc_members", "SELECT raw_record_id, raw_file FROM out_members WHERE outcome = 'unified'")
        e.materialize("cand_members", merge.candidate_members_sql("stg_members", "acc_members"))
        e.materialize("aff_members", merge.affected_sql("cand_members", "account_key"))
        e.materialize(
            "chg_members", merge.changed_members_sql("cur_member_account", "cand_members", "aff_members")
        )
        self.writes.append(Write("chg_members", "unified.member_account", "account_key", "aff_members"))
        self.accounts_now = merge.after_merge_sql(
            "cur_member_account", "chg_members", "aff_members", "account_key"
        )
        self.outcomes.append("out_members")
        self.progress("merge members", 1, 1)

    def keyed(self, entity: str, files: list[RawFile], counts: dict[str, dict[str, int]]) -> None:
        """A keyed entity (``warehouse/keyed.py``) or POS sales: stage, classify, merge."""
        paths, platforms = [str(f.path) for f in files], self._platforms(files, counts)
        spec = keyed.BY_ENTITY.get(entity)
        step = (keyed.run_keyed(self.engine, spec, platforms, paths, ip_db=self.ip_db,
                                accounts=self.accounts_now) if spec
                else keyed.run_pos(self.engine, platforms, paths))
        self.outcomes += step.outcomes
        self.writes += step.writes
        self.flag_queries += step.flag_queries
        if entity == "products":
            self.engine.register_arrow("category_tree", category_rows())
            self.writes.append(Write("category_tree", "unified.category", "category_id", "category_tree"))
        self.progress("keyed entities", 1, 1)

    def kept_flags(self) -> dict[str, int]:
        """Flags raised on this run's accepted keyed records (POS prices, event times) and on the
        parcels it wrote (unknown carriers); order versions count theirs in ``version_flags``."""
        out: dict[str, int] = {}
        for q in self.flag_queries:
            for rule, n in self.engine.scalar_rows(q):
                out[str(rule)] = out.get(str(rule), 0) + int(n)  # type: ignore[call-overload]
        return out

    def _merges_into(self, target: str) -> list[tuple[str, str]]:
        """``(rows, replaced keys)`` of each planned write that merges into ``target``."""
        return [(w.relation, w.keys) for w in self.writes if w.target == target and w.keys]

    def after_writes(self, table: str) -> str:
        """Relation ``aft_<table>``: the unified table as this run's planned writes will leave it
        (current rows whose keys a write replaces are left out, every write's rows added), so a
        step that needs the post-run state runs on the engine before anything is written."""
        spec = next(t for t in TABLES if t.name == table)
        cols = ", ".join(spec.column_names)
        mine = [w for w in self.writes if w.target == spec.qualified]
        kept = " AND ".join(f"NOT ({replaced})" for w in mine if (replaced := w.replaces()) is not None)
        parts = [f"SELECT {cols} FROM cur_{table}" + (f" WHERE {kept}" if kept else "")]
        parts += [f"SELECT {cols} FROM {w.relation}" for w in mine]
        self.engine.view(f"aft_{table}", merge.union_all(parts))
        return f"aft_{table}"

    def overlay_listings(self) -> None:
        """Listings whose product feed changed: feed fields over line fields, from the state after
        every other write (orders, POS sales and the feed merge). Its write comes last, so it
        replaces whatever the order merges wrote for those keys."""
        if "aff_products" not in {w.keys for w in self.writes}:
            return
        lines, orders, feed = (self.after_writes(t) for t in ("order_line", "orders", "listing_feed"))
        self.engine.materialize("ovl_listing", keyed.listing_overlay_sql("aff_products", lines, orders, feed))
        self.writes.append(Write("ovl_listing", "unified.listing", "listing_key", "aff_products"))

    def derive_spus(self) -> None:
        """``unified.spu`` of every SPU whose SKUs this run's product master records change
        (``warehouse/spu.py``), from ``unified.sku`` as the run leaves it."""
        changed = self._merges_into("unified.sku")
        if not changed:
            return
        e = self.engine
        e.materialize("aff_spu", spu.affected_spus_sql(changed))
        e.materialize("chg_spu", spu.spu_sql("aff_spu", self.after_writes("sku")))
        self.writes.append(Write("chg_spu", "unified.spu", "spu_id", "aff_spu"))

    def allocate_discounts(self) -> None:
        """Discount allocation of every order whose lines or coupons this run writes, from the state
        after every other write (``warehouse/discounts.py``); replaces those orders' rows."""
        lines, coupons = self._merges_into("unified.order_line"), self._merges_into("unified.coupon")
        if not lines and not coupons:
            return
        e = self.engine
        e.materialize("aff_allocation", discounts.affected_orders_sql(lines, coupons))
        after_lines, after_coupons = self.after_writes("order_line"), self.after_writes("coupon")
        e.materialize(
            "chg_discount_allocation", discounts.allocation_sql("aff_allocation", after_lines, after_coupons)
        )
        self.writes.append(
            Write("chg_discount_allocation", "unified.discount_allocation", "order_key", "aff_allocation")
        )

    def settle_refunds(self) -> None:
        """Refunds settled against their orders (``warehouse/settlement.py``): every order this run's
        order or refund writes touch, from the state after every other write, its status, flags and
        notes; the orders whose settlement changed are written again, with all their flag rows (a
        settlement flag never costs a row its other flags). Last of the steps that read
        ``after_writes('orders')``: its rows replace some the order merge wrote."""
        orders, refunds = self._merges_into("unified.orders"), self._merges_into("unified.refund")
        if not orders and not refunds:
            return
        e = self.engine
        e.materialize("aff_settlement", settlement.affected_orders_sql(orders, refunds))
        orders_now = self.after_writes("orders")
        e.materialize("stl_all", settlement.settled_orders_sql(
            "aff_settlement", orders_now, self.after_writes("refund"), self.mappings
        ))
        e.materialize("stl_orders", settlement.changed_orders_sql("stl_all", orders_now))
        e.view("stl_order_keys", "SELECT order_key FROM stl_all WHERE _changed")
        e.view("stl_flag_keys", "SELECT order_key AS row_key FROM stl_all WHERE _changed")
        e.view("stl_quality_flag", merge.order_flag_sql("stl_orders"))
        # the summary's "flagged and kept": the orders this run settled, by settlement flag
        self.flag_queries.append(settlement.settlement_flags_sql("stl_all"))
        rows = e.scalar_rows(settlement.untold_sql("stl_all"))
        untold = [(str(p), int(n)) for p, n in rows]  # type: ignore[call-overload]
        if said := settlement.untold_note(untold):
            self.notes.append(said)
        self.writes += [
            Write("stl_orders", "unified.orders", "order_key", "stl_order_keys"),
            flag_write("stl_quality_flag", "stl_flag_keys", "orders"),
        ]

    def quarantine(self) -> None:
        parts = [f"SELECT *, '{name.removeprefix('out_')}' AS entity FROM {name}" for name in self.outcomes]
        # a view: three small scans (quarantine, reconciliation, rules) cost less than copying every row
        self.engine.view("run_outcomes", merge.union_all(parts))
        self.engine.materialize(
            "new_quarantine",
            (
                "SELECT raw_record_id, source, platform, entity, rule, reason, mapping, raw_file, "
                f"'{self.run_id}' AS run_id FROM run_outcomes WHERE outcome = 'quarantined'"
            ),
        )
        self.writes.append(Write("new_quarantine", "unified.quarantine"))

    def _order_flags(self, relation: str) -> dict[str, int]:
        """Rows of ``relation`` (this run's order versions or lines) per rule of their comma list
        ``quality_flags``; none when the run read no order."""
        if "out_orders" not in self.outcomes:
            return {}
        rows = self.engine.scalar_rows(
            "SELECT rule, count(*) FROM (SELECT unnest(string_split(quality_flags, ',')) AS rule "
            f"FROM {relation} WHERE quality_flags IS NOT NULL) AS f GROUP BY rule ORDER BY rule"
        )
        return {str(r): int(n) for r, n in rows}  # type: ignore[call-overload]

    def version_flags(self) -> dict[str, int]:
        """Flags raised on this run's accepted records (every version, not only the latest)."""
        return self._order_flags("new_order_version")

    def line_flags(self) -> dict[str, int]:
        """Flags on the order lines this run wrote from platform orders (``unified.quality_flag``
        holds them with their reason)."""
        return self._order_flags("chg_order_line")

    def reconcile(self) -> list[Reconciliation]:
        rows = self.engine.scalar_rows(
            "SELECT source, entity, count(*), count(*) FILTER (WHERE outcome = 'unified'),\n"
            "  count(*) FILTER (WHERE outcome = 'quarantined'), count(*) FILTER (WHERE outcome ="
            " 'duplicate')\n"
            "FROM run_outcomes GROUP BY source, entity ORDER BY source, entity"
        )
        return [
            Reconciliation(str(s), str(en), int(a), int(b), int(c), int(d))  # type: ignore[call-overload]
            for s, en, a, b, c, d in rows
        ]

    def quarantine_rules(self) -> dict[str, int]:
        rows = self.engine.scalar_rows(
            "SELECT rule, count(*) FROM run_outcomes "
            "WHERE outcome = 'quarantined' GROUP BY rule ORDER BY rule"
        )
        return {str(r): int(n) for r, n in rows}  # type: ignore[call-overload]

    def _to_warehouse(self, relation: str) -> str:
        """A name the warehouse connection can read ``relation`` under."""
        if self.engine.name == "duckdb":
            return relation
        alias = f"__{relation}"
        self.conn.register(alias, self.engine.table(relation))
        return alias

    def write(self) -> None:
        """Apply every write (inside the run's transaction): replace the affected keys, append the rest."""
        for w in self.writes:
            with self.engine.timings.timed(f"write {w.target}"):
                if w.key is not None and w.keys is not None:
                    replaced = w.replaces(self._to_warehouse(w.keys))
                    self.conn.execute(f"DELETE FROM {w.target} WHERE {replaced}")
                rows = self._to_warehouse(w.relation)
                self.conn.execute(f"INSERT INTO {w.target} BY NAME SELECT * FROM {rows}")


def _record_files(
    conn: duckdb.DuckDBPyConnection, files: list[RawFile], counts: dict[str, dict[str, int]], run_id: str
) -> None:
    now, revision = datetime.now(UTC).replace(tzinfo=None), revisions.CURRENT
    conn.executemany(
        "INSERT INTO meta.processed_file VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (f.relative, f.source, f.entity, sum(counts[str(f.path)].values()), run_id, now, revision)
            for f in files
        ],
    )


def _record_reconciliation(conn: duckdb.DuckDBPyConnection, recs: list[Reconciliation], run_id: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.executemany(
        "INSERT INTO meta.run_reconciliation VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, r.source, r.entity, r.raw_in, r.unified, r.quarantined, r.duplicates, now) for r in recs],
    )


def platform_figures(conn: duckdb.DuckDBPyConnection) -> list[PlatformFigures]:
    """Orders, GMV (paid amount of paid orders, without price outliers and orders split into others,
    whose parts carry the payment) and refunds per platform;
    parcels, how many a tracking event says were delivered, and the median hours from shipping (the
    parcel's first tracking event where the platform gives no ship time: JD) to delivery."""
    rows = conn.execute(
        "WITH o AS (SELECT platform, count(*) AS n, sum(pay_amount) FILTER (WHERE (paid_at IS NOT NULL OR "
        "status NOT IN ('created', 'cancelled')) AND status <> 'split'"
        " AND COALESCE(quality_flags, '') NOT LIKE '%price_out_of_range%') "
        "AS gmv FROM unified.orders GROUP BY platform),\n"
        "r AS (SELECT platform, count(*) AS n, sum(amount) FILTER (WHERE status = 'refunded') AS amt "
        "FROM unified.refund GROUP BY platform),\n"
        "d AS (SELECT tracking_no, carrier_code, min(event_at) FILTER (WHERE event = 'delivered') AS at,\n"
        "  min(event_at) AS first FROM unified.tracking_event GROUP BY ALL),\n"
        "s AS (SELECT s.platform, count(*) AS n, count(d.at) AS delivered,\n"
        "  median(date_diff('second', COALESCE(s.shipped_at, d.first), d.at) / 3600.0) AS hours\n"
        "  FROM unified.shipment AS s LEFT JOIN d ON d.tracking_no = s.tracking_no\n"
        "    AND d.carrier_code IS NOT DISTINCT FROM s.carrier_code GROUP BY s.platform)\n"
        "SELECT COALESCE(o.platform, r.platform), COALESCE(o.n, 0), COALESCE(o.gmv, 0), COALESCE(r.n, 0), "
        "COALESCE(r.amt, 0), COALESCE(s.n, 0), COALESCE(s.delivered, 0), s.hours\n"
        "FROM o FULL JOIN r ON r.platform = o.platform\n"
        "LEFT JOIN s ON s.platform = COALESCE(o.platform, r.platform) ORDER BY 1"
    ).fetchall()
    return [
        PlatformFigures(p, int(n), Decimal(g), int(rn), Decimal(ra), int(sn), int(sd), h)
        for p, n, g, rn, ra, sn, sd, h in rows
    ]


def _split(
    files: list[RawFile], counts: dict[str, dict[str, int]], mappings: dict[str, Mapping], summary: RunSummary
) -> dict[str, list[RawFile]]:
    """Files by entity that every platform in them has a mapping for; the rest are pending."""
    ready: dict[str, list[RawFile]] = {}
    unread: dict[str, int] = {}  # records of entities no target reads (a mistyped --entity, a folder's name)
    for f in files:
        target = ENTITY_TARGET.get(f.entity)
        platforms = counts.get(str(f.path), {})
        if target is None:
            unread[f.entity] = unread.get(f.entity, 0) + sum(platforms.values())
        missing = [
            p for p in platforms if target is None or p not in mappings or target not in mappings[p].rules()
        ]
        if missing:
            why = f"{f.entity} of {', '.join(missing)}"
            summary.pending_reasons[why] = summary.pending_reasons.get(why, 0) + sum(platforms.values())
            summary.files_pending += 1
            continue
        ready.setdefault(f.entity, []).append(f)
    for entity, n in sorted(unread.items()):
        summary.notes.append(
            f"{n:,} raw records of entity '{entity}' wait as pending: no mapping target reads that entity; "
            + unread_entity_hint(entity)
        )
    return ready


def _standardize(
    conn: duckdb.DuckDBPyConnection,
    ws: Workspace,
    mappings: dict[str, Mapping],
    summary: RunSummary,
    engine_name: str,
    progress: ProgressFn,
    retry: Retry | None = None,
    skip: dict[str, str] | None = None,
) -> bool:
    """Stage, merge and write into ``conn``; False when there was nothing new. ``skip``: raw files
    found damaged by an earlier attempt of this run (absolute path → why), left unprocessed.
    Raises ``_DamagedRaw`` when a stage fails on a raw file that cannot be read whole."""
    ensure_schema(conn)
    if retry is not None:
        released = release(conn, retry)
        summary.retried, summary.retried_files = released.records, released.files
        if not released.records:
            summary.notes.append(nothing_released(conn, retry))
    placed, stray = scan(ws.lake_root)
    files = unprocessed(conn, placed)
    if stray:
        shown = ", ".join(stray[:3]) + (f" and {len(stray) - 3:,} more" if len(stray) > 3 else "")
        summary.notes.append(
            f"Parquet files outside the raw zone's layout, not read: {len(stray):,} ({shown}); a raw "
            "file belongs in raw/source=<source>/entity=<entity>/dt=<YYYY-MM-DD>/"
        )
    progress("discover", 1, 1)
    counts, unreadable = platform_counts(conn, files)
    unreadable |= skip or {}
    # left unprocessed, so the run after a restore takes them; said in the summary, never dropped
    summary.unreadable_files = {f.relative: why for f in files if (why := unreadable.get(str(f.path)))}
    files = [f for f in files if str(f.path) not in unreadable]
    # a file without a record (a pull that brought nothing) is read once and recorded, not pending
    empty = [f for f in files if not counts.get(str(f.path))]
    if empty:
        summary.notes.append(f"raw files with no record, recorded as read: {len(empty):,}")
    ready = _split([f for f in files if counts.get(str(f.path))], counts, mappings, summary)
    if not ready:
        if not empty:
            return False
        conn.execute("BEGIN TRANSACTION")
        _record_files(conn, empty, counts, summary.run_id)
        conn.execute("COMMIT")
        summary.files_processed = len(empty)
        return True
    engine = open_engine(engine_name, conn, log=ws.spark_log)
    try:
        _stage_and_write(conn, engine, ws, mappings, summary, progress, ready, counts, empty)
    except OutOfMemory:
        raise
    except (EngineError, duckdb.Error) as e:
        # A data page damaged on disk fails the first stage that decodes it, with DuckDB's
        # words and a hint about mappings; if that is what happened, name the files instead.
        found = damaged([f for fs in ready.values() for f in fs])
        if not found:
            raise
        raise _DamagedRaw(found) from e
    finally:
        engine.close()
    summary.files_processed = sum(len(fs) for fs in ready.values()) + len(empty)
    return True


class _DamagedRaw(Exception):
    """Raw files that failed a stage because they cannot be read whole (absolute path → why)."""

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__(", ".join(sorted(files)))
        self.files = files


def _stage_and_write(
    conn: duckdb.DuckDBPyConnection,
    engine: Engine,
    ws: Workspace,
    mappings: dict[str, Mapping],
    summary: RunSummary,
    progress: ProgressFn,
    ready: dict[str, list[RawFile]],
    counts: dict[str, dict[str, int]],
    empty: list[RawFile],
) -> None:
    """Every stage of the ``ready`` files on ``engine``, then one transaction that writes their
    rows and records them and the ``empty`` files as processed."""
    keyed_tables = [keyed.BY_ENTITY[e].table.name for e in ready if e in keyed.BY_ENTITY]
    _expose(
        engine,
        conn,
        ["order_version", "orders", "order_line", "shipment", "quarantine", "refund", "member_account"]
        + ["listing_feed", "coupon"]
        + sorted((set(keyed_tables) | set(members.TABLES_READ)) - {"listing_feed", "coupon"}),
    )
    run = _Run(conn, engine, mappings, summary.run_id, progress)
    run.ip_db = ip_database(ws)
    if "orders" in ready:
        run.orders(ready["orders"], counts)
    if "refunds" in ready:
        run.refunds(ready["refunds"], counts)
    if "members" in ready:
        run.members(ready["members"], counts)
    for entity in sorted(set(ready) & set(keyed.ENTITY_TARGETS)):
        run.keyed(entity, ready[entity], counts)
    inputs = members.MemberInputs("members" in ready, "points_ledger" in ready, "member_levels" in ready)
    run.writes += members.run_members(engine, inputs)  # after the member, ledger and level merges
    run.overlay_listings()  # after every write that touches lines, orders or the feed
    run.allocate_discounts()  # after every write that touches lines or coupons
    run.derive_spus()  # after the product master merge
    run.settle_refunds()  # after every write that touches orders or refunds; last to read orders
    run.quarantine()
    summary.reconciliation = run.reconcile()
    summary.quarantine_by_rule = run.quarantine_rules()
    summary.notes += run.notes
    summary.flagged_by_rule = run.version_flags()
    summary.flagged_lines_by_rule = run.line_flags()
    for rule, n in run.kept_flags().items():
        summary.flagged_by_rule[rule] = summary.flagged_by_rule.get(rule, 0) + n
    done = [f for fs in ready.values() for f in fs]
    # One transaction: the unified rows and the bookkeeping that says which files they came
    # from (a separate commit after a large one costs a checkpoint).
    conn.execute("BEGIN TRANSACTION")
    run.write()
    _record_files(conn, done + empty, counts, summary.run_id)
    _record_reconciliation(conn, summary.reconciliation, summary.run_id)
    read: Counter[str] = Counter()  # raw records per platform the run read
    for f in done:
        read.update(counts[str(f.path)])
    mapping_drift.record(conn, summary.run_id, mappings, read)
    with engine.timings.timed("commit"):
        conn.execute("COMMIT")
    summary.timings = engine.timings.seconds


def run(
    workspace: Workspace | Path | str,
    *,
    engine: str = "duckdb",
    progress: ProgressFn | None = None,
    mappings: dict[str, Mapping] | None = None,
    retry: Retry | None = None,
    wait: float = 0.0,
    rebuild: bool = False,
    dry_run: bool = False,
) -> RunSummary:
    """Standardize every raw file not processed before, merge, and publish a new warehouse snapshot.
    ``retry``: quarantined records to take again first (``warehouse/retry.py``), after a fix.
    ``wait``: seconds to wait for another writer of the warehouse (``WarehouseBusy`` after).
    ``rebuild``: standardize every raw file again, into unified tables made anew (``warehouse/rebuild.py``);
    ``RunSummary.rebuilt`` says what changed against the snapshot it replaces.
    ``dry_run``: all of it, summary included, but the draft is deleted instead of published (what a
    mapping change would do to the warehouse, seen before it does it)."""
    if rebuild and retry is not None:
        raise InputError(
            "--rebuild and --retry-quarantined do not go together",
            hint="a rebuild takes every raw record again, the quarantined ones too: use --rebuild alone",
        )
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    ip_database(ws)  # a misconfigured IP database fails here, before any work, naming the key
    if mappings is None:  # so does a bad file in the workspace's mapping folder, naming file and key
        mappings = workspace_mappings(ws)
    started = time.perf_counter()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    store = SnapshotStore.of(ws)
    found: dict[str, str] = {}  # raw files found damaged, absolute path → why
    while True:  # again without the raw files an attempt found damaged: each attempt finds new ones
        try:
            with memory_errors():  # outside a stage too (the write, the checkpoint)
                summary = _attempt(
                    ws, store, run_id, engine, mappings, progress or _noop, retry, wait, found,
                    _Mode(rebuild, dry_run),
                )
            break
        except _DamagedRaw as d:
            found |= d.files
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass(frozen=True)
class _Mode:
    """How a run treats the live snapshot: built on (default) or made anew (``rebuild``), and
    replaced (default) or left as it is (``dry_run``)."""

    rebuild: bool = False
    dry_run: bool = False


def _attempt(
    ws: Workspace,
    store: SnapshotStore,
    run_id: str,
    engine: str,
    mappings: dict[str, Mapping],
    progress: ProgressFn,
    retry: Retry | None,
    wait: float,
    skip: dict[str, str],
    mode: _Mode = _Mode(),
) -> RunSummary:
    """One draft of the run, published if it changed anything (and ``mode`` is no dry run); ``skip``
    as in ``_standardize``."""
    # Under the writer lock, from reading what is processed to publishing: a draft that is not
    # published (an error, kill -9, nothing new, a dry run) is deleted and the live snapshot is unchanged.
    rebuild = mode.rebuild
    build = rebuild_from_raw.start_fresh if rebuild else clone_file
    with store.draft(run_id, wait=wait, build=build) as draft:
        summary = RunSummary(run_id=run_id, engine=engine, snapshot=draft.path)
        replaced = store.current()  # the live snapshot the draft was made from, under the lock
        with draft.connection() as conn:
            if not rebuild:
                model_drift.refuse_outdated(conn)
            changed = _standardize(conn, ws, mappings, summary, engine, progress, retry, skip)
            if rebuild and replaced is not None:
                _refuse_losing_files(conn, replaced, summary)  # also when it found no raw file at all
                summary.rebuilt = rebuild_from_raw.compare(conn, replaced)
            elif rebuild:
                summary.notes.append("--rebuild: there was no warehouse yet, so this run built the first one")
            summary.notes += mapping_drift.stale_mappings(conn, mappings).notes()
            summary.platforms = platform_figures(conn)
            summary.notes += completion_notes(ws, conn)
            summary.quality_flags = dict(
                conn.execute(
                    "SELECT rule, count(*) FROM unified.quality_flag GROUP BY rule ORDER BY rule"
                ).fetchall()
            )
        steps = summary.timings | draft.timings.seconds
        summary.timings = dict(sorted(steps.items(), key=lambda kv: -kv[1]))
        if changed and draft.compacting:  # its checkpoint wrote, so it vacuumed: say why it took longer
            dropped = "; ".join(f"{t.table}: {t.what_compacts}" for t in draft.compacting)
            mb = (draft.path.stat().st_size / 1e6, compaction.free_bytes_of(draft.path) / 1e6)
            summary.notes.append(
                f"compacted at this run's checkpoint (why it took longer): {dropped}; {mb[1]:,.1f} MB of "
                f"the {mb[0]:,.1f} MB file are free blocks now, which later runs reuse "
                "(`ecfusion warehouse compact` gives them back to the disk)"
            )
        if mode.dry_run:
            summary.snapshot = replaced
            summary.notes.append("--dry-run: nothing was published; the live snapshot is unchanged")
        else:
            summary.snapshot = draft.publish() if changed or replaced is None else replaced
    progress("publish", 1, 1)
    return summary


def _refuse_losing_files(conn: duckdb.DuckDBPyConnection, replaced: Path, summary: RunSummary) -> None:
    """A rebuild that could not read every raw file the live snapshot holds would publish a warehouse
    without their records: refused (the draft is deleted, the live snapshot stays)."""
    lost = rebuild_from_raw.lost_files(conn, replaced)
    if not lost:
        return
    shown = "; ".join(f"{p} ({summary.unreadable_files.get(p, 'not in the raw zone')})" for p in lost[:3])
    more = f" and {len(lost) - 3:,} more" if len(lost) > 3 else ""
    raise WorkspaceError(
        f"the rebuild did not publish: {len(lost):,} raw files the live warehouse was built from could not "
        f"be read again, and their records would be lost: {shown}{more}",
        hint="restore them into the raw zone from the lake's backup and rebuild again; the live snapshot "
        "is unchanged",
    )
