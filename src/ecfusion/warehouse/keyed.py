"""The generic path for keyed entities: raw → staged → classified → merged by natural key
(standard 5.2 Table 1 L2, 5.3.1.2; issue 3 Build items 1–2, 4–5).

Every raw entity that is not an order version (product feeds, inventory snapshots, app events,
ad impressions and clicks, service tickets, campaigns, coupons, CRM levels and points ledger)
goes the same way, declared by one ``KeyedEntity``: stage each platform's raw records with the SQL
its mapping generates (``sqlgen.keyed_stage_sql``) → classify every raw record (unified /
quarantined with rule and reason / duplicate) → candidate unified rows (``columns``) → merge by
the table's natural key, the latest ``version`` winning (``merge.keyed_merge_sql``) → replace
exactly the affected keys. POS sales are staged the same way and then become orders and order
lines (``run_pos``). Everything is SQL through the ``Engine`` seam, so DuckDB and Spark agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ecfusion.engine import Engine
from ecfusion.model.categories import path_sql
from ecfusion.model.spec import Table
from ecfusion.model.tables import (
    AD_TOUCH,
    BEHAVIOUR_EVENT,
    CAMPAIGN,
    COUPON,
    INVENTORY_SNAPSHOT,
    LISTING_FEED,
    MEMBER_ACCOUNT,
    MEMBER_LEVEL,
    ORDER_LINE,
    ORDERS,
    POINTS_ENTRY,
    SERVICE_TICKET,
    SKU,
    TRACKING_EVENT,
)
from ecfusion.standardize import sqlgen
from ecfusion.standardize.mapping import Mapping
from ecfusion.standardize.sqlgen import lit
from ecfusion.standardize.targets import TARGETS
from ecfusion.warehouse import from_orders, merge
from ecfusion.warehouse.completion import add_ip_regions
from ecfusion.warehouse.from_orders import Write, flag_write


def _local_date(col: str) -> str:
    return f"CAST({col} + INTERVAL {sqlgen.BUSINESS_UTC_OFFSET_HOURS} HOUR AS DATE)"


@dataclass(frozen=True)
class KeyedEntity:
    """How one raw entity becomes rows of one unified table.

    ``columns``: unified column → SQL over the staged row (envelope columns, the target's fields,
    ``platform_<field>`` native codes, ``_flags``); a column not listed is the staged column of the
    same name. ``version``: SQL over the table's columns; the highest wins per key (None: records
    never change, the highest raw record id wins a clash)."""

    raw_entity: str
    target: str
    table: Table
    key: str
    columns: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    ip_column: str | None = None  # a staged IP column: adds ip_province / ip_city (warehouse.completion)
    # a time column of the table: its rows' account_key / device_id also make member accounts
    account_time: str | None = None

    def select(self) -> str:
        exprs = {"raw_record_ids": "[raw_record_id]", **self.columns, "quality_flags": self.flags()}
        return ", ".join(f"{exprs.get(c, c)} AS {c}" for c in self.table.column_names)

    def flags(self) -> str:
        """SQL of a staged row's quality flags (its ``quality_flags``, what the run summary counts by
        rule): the mapping's, and ``bad_ip`` where the entity's IP is no address
        (``completion.add_ip_regions``)."""
        flags = self.columns.get("quality_flags", "_flags")
        if self.ip_column is None:
            return flags
        return f"NULLIF(concat_ws(',', NULLIF({flags}, ''), CASE WHEN _ip_bad THEN 'bad_ip' END), '')"


_AD = {
    "business_date": _local_date("touched_at"),
    "campaign_id": "campaign",
}

KEYED: tuple[KeyedEntity, ...] = (
    KeyedEntity(
        "products",
        "listing",
        LISTING_FEED,
        "listing_key",
        {
            "listing_key": "platform || ':' || item_id || ':' || sku_id",
            "platform_category": "platform_category",
            "category_id": "category",
            "category_path": path_sql("category"),
        },
        version="modified_at",
    ),
    KeyedEntity(
        "inventory",
        "inventory",
        INVENTORY_SNAPSHOT,
        "snapshot_key",
        {
            "snapshot_key": "warehouse || ':' || sku_code || ':' || "
            f"CAST({_local_date('snapshot_at')} AS VARCHAR)",
            "snapshot_date": _local_date("snapshot_at"),
        },
        version="pulled_at",  # a snapshot re-sent (corrected) replaces the one sent before
    ),
    KeyedEntity(
        "events",
        "behaviour_event",
        BEHAVIOUR_EVENT,
        "event_id",
        {
            "account_key": "CASE WHEN user_id IS NOT NULL THEN platform || ':' || user_id END",
            "listing_key": "CAST(NULL AS VARCHAR)",
            "business_date": _local_date("event_at"),
            "quality_flags": "_flags",
        },
        account_time="event_at",
        ip_column="ip",
    ),
    # an impression and a click are two touches whatever their ids: the logs number them apart
    *(
        KeyedEntity(entity, target, AD_TOUCH, "touch_key",
                    {"touch_key": f"'{kind}:' || touch_id", "touch_type": f"'{kind}'", **_AD})
        for entity, target, kind in (("ad_impressions", "ad_impression", "impression"),
                                     ("ad_clicks", "ad_click", "click"))
    ),
    KeyedEntity(
        "tickets",
        "service_ticket",
        SERVICE_TICKET,
        "ticket_id",
        {
            "platform": "COALESCE(ticket_platform, platform)",
            "account_key": "CASE WHEN account_id IS NOT NULL THEN "
            "COALESCE(ticket_platform, platform) || ':' || account_id END",
            "platform_ticket_type": "platform_ticket_type",
            "complaint_reason": "reason",
            "platform_reason": "platform_reason",
            "order_key": "CASE WHEN platform_order_id IS NOT NULL THEN "
            "COALESCE(ticket_platform, platform) || ':' || platform_order_id END",
            "phone_bidx": sqlgen.token_bidx("phone_token"),
            "business_date": _local_date("created_at"),
        },
        version="COALESCE(closed_at, created_at)",
    ),
    KeyedEntity("campaigns", "campaign", CAMPAIGN, "campaign_id"),
    KeyedEntity(
        "coupons",
        "coupon",
        COUPON,
        "coupon_id",
        {
            "platform": "coupon_platform",
            "account_key": "CASE WHEN account_id IS NOT NULL THEN coupon_platform || ':' || account_id END",
            "order_key": "CASE WHEN used_order_id IS NOT NULL THEN "
            "coupon_platform || ':' || used_order_id END",
            "platform_status": "platform_status",
        },
        version="COALESCE(used_at, issued_at)",
    ),
    KeyedEntity("member_levels", "member_level", MEMBER_LEVEL, "level_code"),
    KeyedEntity(
        "points_ledger",
        "points_entry",
        POINTS_ENTRY,
        "entry_key",
        {
            "entry_key": "platform || ':' || entry_id",
            "account_key": "platform || ':' || member_id",
            "business_date": _local_date("created_at"),
        },
    ),
    KeyedEntity(
        "traces",
        "tracking_event",
        TRACKING_EVENT,
        "event_key",
        {
            # a push repeats the parcel's history: the same event (time, status, text) is one row,
            # whatever carrier the push names (a later push may correct it: the later one wins)
            "event_key": "tracking_no || ':' || CAST(event_at AS VARCHAR) || ':' || event || ':' || "
            "left(md5(COALESCE(description, '')), 8)",
            "business_date": _local_date("event_at"),
            "quality_flags": "_flags",
        },
        version="pulled_at",
    ),
    KeyedEntity(
        "product_master",
        "sku",
        SKU,
        "sku_code",
        {"name": "sku_name", "category_id": "category"},
        version="modified_at",
    ),
)

BY_ENTITY: dict[str, KeyedEntity] = {k.raw_entity: k for k in KEYED}
POS_ENTITY, POS_TARGET = "sales", "pos_sale"
# raw entity → mapping target of every entity this module handles
ENTITY_TARGETS: dict[str, str] = {**{k.raw_entity: k.target for k in KEYED}, POS_ENTITY: POS_TARGET}


# ---------------------------------------------------------------- staging and classification


def stage(engine: Engine, entity: str, target: str, mappings: list[Mapping], files: list[str]) -> str:
    """Stage every raw record of ``entity`` in ``files``; returns the name of the staged relation."""
    engine.register_parquet(f"raw_{entity}", files)
    views = []
    for m in mappings:
        engine.view(f"stg_{entity}_{m.platform}", sqlgen.keyed_stage_sql(m, TARGETS[target], f"raw_{entity}"))
        views.append(f"stg_{entity}_{m.platform}")
    engine.materialize(f"stg_{entity}", merge.union_views(views))
    return f"stg_{entity}"


def bad_sql(entity: str, staged: str, mappings: list[Mapping], target: str) -> str:
    """The first failing rule per raw record; a record with no item in the stage is
    malformed_payload when its payload is not JSON, bad_value when its item list holds something
    (not a list, or an element that is not an object: ``sqlgen.non_object_element``), else
    missing_required (its item list is absent or empty)."""
    parts = [
        f"SELECT raw_record_id, _rule, _reason, _mapping FROM {staged} WHERE _rule IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY raw_record_id ORDER BY _reason) = 1"
    ]
    # the stage's own parse, on the few records it gave no item (any structure: NULL is "not JSON")
    not_json = f"{sqlgen.parse_payload(json.dumps({'_': 'VARCHAR'}))} IS NULL"
    for m in mappings:
        items = m.rules()[target].items
        if items:
            listed = f"json_extract_string(payload, {lit('$.' + items)})"
            held = f"COALESCE({listed}, '[]') NOT IN ('[]', '')"  # no item, yet the list holds something
            empty = lit(f"missing_required: {target} item list (path {items}) is empty in {m.label}")
            unread = (f"{lit(f'bad_value: {target} item list (path {items}) = ')} || {listed} || "
                      "' is not a list of objects'")
            rule = (f"CASE WHEN {not_json} THEN {lit(sqlgen.MALFORMED)} WHEN {held} THEN 'bad_value' "
                    "ELSE 'missing_required' END")
            why = (f"CASE WHEN {not_json} THEN {lit(sqlgen.MALFORMED_REASON)} WHEN {held} THEN {unread} "
                   f"ELSE {empty} END")
            parts.append(
                f"SELECT DISTINCT r.raw_record_id, {rule} AS _rule, {why} AS _reason, "
                f"{lit(m.label)} AS _mapping"
                f" FROM raw_{entity} AS r LEFT JOIN (SELECT DISTINCT raw_record_id FROM {staged}) AS s"
                f" ON s.raw_record_id = r.raw_record_id"
                f" WHERE r.platform = {lit(m.platform)} AND s.raw_record_id IS NULL"
            )
    return merge.union_all(parts)


def classify(
    engine: Engine, entity: str, staged: str, mappings: list[Mapping], target: str, seen: str
) -> str:
    """``out_<entity>``: one outcome per raw record; returns the accepted relation's name."""
    engine.view(f"bad_{entity}", bad_sql(entity, staged, mappings, target))
    engine.view(f"seen_{entity}", f"SELECT DISTINCT raw_record_id FROM ({seen}) AS s")
    engine.materialize(
        f"out_{entity}",
        merge.classify_sql(
            f"(SELECT raw_record_id, source, platform, raw_file FROM raw_{entity})",
            f"bad_{entity}",
            f"seen_{entity}",
        ),
    )
    engine.view(
        f"acc_{entity}", f"SELECT raw_record_id, raw_file FROM out_{entity} WHERE outcome = 'unified'"
    )
    return f"acc_{entity}"


def accepted_rows(staged: str, accepted: str) -> str:
    return (
        f"(SELECT s.* FROM {staged} AS s JOIN {accepted} AS a "
        f"ON a.raw_record_id = s.raw_record_id AND a.raw_file = s.raw_file)"
    )


def flags_sql(staged: str, accepted: str, flags: str = "_flags") -> str:
    """This run's accepted records by flag (one per record and rule, however many items it has);
    ``flags``: SQL of a staged row's flags (``KeyedEntity.flags``)."""
    return (
        "SELECT flag, count(*) FROM "
        f"(SELECT DISTINCT raw_record_id, unnest(string_split(f, ',')) AS flag FROM "
        f"(SELECT raw_record_id, {flags} AS f FROM {accepted_rows(staged, accepted)} AS r) AS r "
        "WHERE f IS NOT NULL) AS f GROUP BY flag"
    )


# ---------------------------------------------------------------- the keyed merge


@dataclass
class StepResult:
    outcomes: list[str] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    flag_queries: list[str] = field(default_factory=list)


def run_keyed(
    engine: Engine,
    spec: KeyedEntity,
    mappings: list[Mapping],
    files: list[str],
    *,
    ip_db: Path | None = None,
    accounts: str = "SELECT * FROM cur_member_account",
) -> StepResult:
    """Stage, classify and merge one keyed entity; the caller applies the writes. ``ip_db``: the
    ip2region database for IP → region completion (None: off, the region columns stay NULL).
    ``accounts``: a query for ``unified.member_account`` as this run has left it so far (after its
    member merge), which the accounts an entity names (app users) merge into."""
    e, name, t = engine, spec.raw_entity, spec.table
    staged = stage(e, name, spec.target, mappings, files)
    if spec.ip_column:
        staged = add_ip_regions(e, staged, ip_db, ip_column=spec.ip_column)
    seen = (
        f"SELECT unnest(raw_record_ids) AS raw_record_id FROM cur_{t.name} UNION ALL "
        f"SELECT raw_record_id FROM cur_quarantine WHERE entity = {lit(name)}"
    )
    accepted = classify(e, name, staged, mappings, spec.target, seen)
    e.materialize(f"cand_{name}", f"SELECT {spec.select()} FROM {accepted_rows(staged, accepted)} AS s")
    e.materialize(f"aff_{name}", merge.affected_sql(f"cand_{name}", spec.key))
    e.materialize(
        f"chg_{name}",
        merge.keyed_merge_sql(t, spec.key, spec.version, f"cur_{t.name}", f"cand_{name}", f"aff_{name}"),
    )
    writes = [Write(f"chg_{name}", t.qualified, spec.key, f"aff_{name}")]
    if spec.account_time:
        writes.append(_device_accounts(e, spec, accounts))
    if "quality_flags" in t.column_names:
        e.materialize(f"flag_{name}", keyed_quality_flag_sql(t, spec.key, f"chg_{name}"))
        e.view(f"flagkeys_{name}", f"SELECT {spec.key} AS row_key FROM aff_{name}")
        writes.append(flag_write(f"flag_{name}", f"flagkeys_{name}", t.name))
    return StepResult([f"out_{name}"], writes, [flags_sql(staged, accepted, spec.flags())])


def _device_accounts(e: Engine, spec: KeyedEntity, accounts: str) -> Write:
    """``unified.member_account`` rows of the accounts this run's rows name or named (app users):
    every device and raw record of the account's rows, first and last time seen, merged into the
    account's row in ``accounts`` — so a profile the app's user export delivered (its bound phone)
    keeps its fields (``merge.merged_accounts_sql``)."""
    name, t, key = spec.raw_entity, spec.table, spec.key
    e.materialize(
        f"accaff_{name}",
        f"SELECT DISTINCT account_key FROM (SELECT account_key FROM cand_{name} UNION ALL "
        f"SELECT account_key FROM cur_{t.name} WHERE {key} IN (SELECT {key} FROM aff_{name})) AS a "
        "WHERE account_key IS NOT NULL",
    )
    merged = merge.after_merge_sql(f"cur_{t.name}", f"chg_{name}", f"aff_{name}", key)
    rows = f"(SELECT * FROM ({merged}) AS m WHERE account_key IN (SELECT account_key FROM accaff_{name}))"
    e.materialize(f"seen_{name}", device_accounts_sql(rows, spec.account_time or "NULL"))
    e.view(f"accounts_now_{name}", accounts)
    e.materialize(f"accounts_{name}", merge.merged_accounts_sql(f"accounts_now_{name}", f"seen_{name}"))
    return Write(f"accounts_{name}", MEMBER_ACCOUNT.qualified, "account_key", f"accaff_{name}")


def device_accounts_sql(rows: str, time: str) -> str:
    """One member account per ``account_key`` of ``rows`` (which have platform, device_id, a time)."""
    own = {
        "account_key": "account_key",
        "platform": "min(platform)",
        "platform_account_id": "substr(account_key, length(min(platform)) + 2)",
        "device_ids": "list_sort(list_distinct(list(device_id)))",
        "wechat_openid": "max(openid)",
        "first_seen_at": f"min({time})",
        "last_seen_at": f"max({time})",
        "raw_record_ids": merge.ids_union_sql("raw_record_ids"),
    }
    cols = ", ".join(
        f"{own.get(c.name, f'CAST(NULL AS {c.type})')} AS {c.name}" for c in MEMBER_ACCOUNT.columns
    )
    return f"SELECT {cols} FROM {rows} AS r GROUP BY account_key"


def keyed_quality_flag_sql(table: Table, key: str, changed: str) -> str:
    """One ``unified.quality_flag`` row per (row, rule) a kept keyed row was flagged by."""
    why = lit(f"kept; a value of this {table.name} row failed the rule (see its raw record)")
    return merge.flag_rows_sql(table.name, key, changed, why, raw_id="list_max(raw_record_ids)")


# ---------------------------------------------------------------- POS sales → orders
#
# A sale row's identity is its receipt and SKU: the export has no line number, and the raw record
# id (a content hash over the shop and the whole row) changes when the same file is landed under
# another shop code or when any value of the row is corrected. When a receipt holds several rows
# of one SKU in a delivery (a landing batch), their values tell them apart: they are numbered in
# value order (``QL021-01``, ``QL021-01#2``), so the whole export delivered again maps row for row.
# A row equal to its line's latest version is a duplicate; a different one is the line's next
# version, and the latest landed wins.

# the values of a sale line: a row that repeats them all is the same sale delivered again
POS_LINE_VALUES = ("shop_id", "barcode", "title", "quantity", "unit_price", "pay_amount", "business_date")
# the order in which the versions of a line landed: the current line, then this run's rows by the
# time their raw file was written, their batch (its id starts with its UTC start time), file and id
_LANDED = ("is_new", "received_at", "batch_id", "raw_file", "version_raw_record_id")


def pos_lines_sql(staged: str, accepted: str, raw: str = "raw_sales") -> str:
    """Accepted POS sale rows as ``unified.order_line`` rows plus the receipt's header fields and the
    landing batch and file of each (``raw``: the raw records, for their batch). A line is its
    receipt's SKU, numbered among the rows of that SKU on the receipt in the same batch (every
    rule-passing row counts, accepted or not, so the numbering does not depend on what was seen)."""
    same = "r.batch_id, s.platform, s.receipt_no, s.sku_code"
    by_value = ", ".join(
        f"s.{c} NULLS LAST" for c in ("quantity", "unit_price", "pay_amount", "barcode", "title", "sold_at")
    )
    landed = f"(SELECT DISTINCT raw_record_id, raw_file, batch_id, received_at FROM {raw})"
    numbered = (
        f"(SELECT s.*, r.batch_id, r.received_at,\n"
        f"    row_number() OVER (PARTITION BY {same} ORDER BY {by_value}, s.raw_record_id) AS _nth\n"
        f"  FROM {staged} AS s JOIN {landed} AS r\n"
        "  ON r.raw_record_id = s.raw_record_id AND r.raw_file = s.raw_file WHERE s._rule IS NULL)"
    )
    line_id = "sku_code || CASE WHEN _nth > 1 THEN '#' || CAST(_nth AS VARCHAR) ELSE '' END"
    amount = "CAST(quantity * unit_price AS DECIMAL(18,2))"
    acct = sqlgen.account_id_sql("phone_token")
    return (
        f"SELECT platform || ':' || receipt_no || ':' || {line_id} AS line_key,\n"
        f"  platform || ':' || receipt_no AS order_key, platform, store_code AS shop_id,\n"
        f"  receipt_no AS platform_order_id, {line_id} AS line_id,\n"
        "  platform || ':' || sku_code || ':' || sku_code AS listing_key, sku_code AS item_id,\n"
        "  sku_code AS sku_id, sku_code AS outer_sku_code, barcode, title,\n"
        "  CAST(NULL AS VARCHAR) AS spec_text,\n"
        f"  quantity, unit_price, {amount} AS line_amount,\n"
        f"  CAST({amount} - COALESCE(pay_amount, {amount}) AS DECIMAL(18,2)) AS discount_amount,\n"
        f"  COALESCE(pay_amount, {amount}) AS pay_amount, 'none' AS refund_status,\n"
        f"  CAST(NULL AS VARCHAR) AS platform_refund_status, {_local_date('sold_at')} AS business_date,\n"
        "  _flags AS quality_flags, _notes AS quality_notes, raw_record_id AS version_raw_record_id,\n"
        "  [raw_record_id] AS raw_record_ids,\n"
        f"  source, sold_at, phone_token, store_name AS shop_name,\n"
        f"  CASE WHEN card_no IS NOT NULL THEN platform || ':' || card_no\n"
        f"       WHEN {acct} IS NOT NULL THEN platform || ':' || {acct} END AS account_key,\n"
        "  raw_record_id, received_at, batch_id, raw_file\n"
        f"FROM {accepted_rows(numbered, accepted)} AS s"
    )


def _pos_versions_sql(cur_lines: str, lines: str, keys: str, columns: str) -> str:
    """``columns`` of every version of the lines in ``keys``: the current line (``is_new`` 0) and
    this run's rows ``lines`` (1), with when, in which batch and file each landed."""
    return (
        f"SELECT {columns}, 0 AS is_new, CAST(NULL AS TIMESTAMP) AS received_at, '' AS batch_id,"
        f" '' AS raw_file FROM {cur_lines}\n"
        f"  WHERE platform = 'pos' AND {keys}\n"
        f"UNION ALL SELECT {columns}, 1 AS is_new, received_at, batch_id, raw_file FROM {lines}"
    )


def pos_repeats_sql(rows: str, cur_lines: str) -> str:
    """Raw record ids of this run's sale rows ``rows`` that repeat the values of their line's
    previous version (the current line or an earlier-landed row of this run): the same sale
    delivered again (landed under another shop code, or in another file), a duplicate. A raw record
    read from several files counts once here (``merge.classify_sql`` makes its later copies the
    duplicates), or its first copy would repeat its second and the sale be lost."""
    cols = ("line_key", "version_raw_record_id", *POS_LINE_VALUES)
    first = "row_number() OVER (PARTITION BY raw_record_id ORDER BY raw_file) = 1"
    once = f"(SELECT * FROM {rows} QUALIFY {first})"
    versions = _pos_versions_sql(
        cur_lines, once, f"line_key IN (SELECT line_key FROM {rows})", ", ".join(cols)
    )
    order = ", ".join(_LANDED)
    prev = ", ".join(
        f"lag({c}) OVER (PARTITION BY line_key ORDER BY {order}) AS prev_{c}"
        for c in ("is_new", *POS_LINE_VALUES)
    )
    same = " AND ".join(f"{c} IS NOT DISTINCT FROM prev_{c}" for c in POS_LINE_VALUES)
    return (
        f"SELECT DISTINCT version_raw_record_id AS raw_record_id FROM (SELECT *, {prev} FROM (\n"
        f"{versions}) AS v) AS p\nWHERE is_new = 1 AND prev_is_new IS NOT NULL AND {same}"
    )


def pos_changed_lines_sql(cur_lines: str, new_lines: str, affected: str) -> str:
    """The lines of the ``affected`` receipts after this run: per line its latest-landed version
    (this run's over the current), keeping the raw record ids of every version it has had."""
    cols = ORDER_LINE.column_names
    versions = _pos_versions_sql(
        cur_lines, new_lines, f"order_key IN (SELECT order_key FROM {affected})", ", ".join(cols)
    )
    order = ", ".join(f"{c} DESC" for c in _LANDED)
    kept = ", ".join(f"ids.{c}" if c == "raw_record_ids" else f"w.{c}" for c in cols)
    return (
        f"SELECT {kept} FROM (SELECT * FROM ({versions}) AS v\n"
        f"  QUALIFY row_number() OVER (PARTITION BY line_key ORDER BY {order}) = 1) AS w\n"
        f"JOIN (SELECT line_key, {merge.ids_union_sql('raw_record_ids')} AS raw_record_ids FROM (\n"
        f"{versions}) AS a GROUP BY line_key) AS ids ON ids.line_key = w.line_key"
    )


def _flag_any(flag: str) -> str:
    return f"CASE WHEN bool_or(COALESCE(contains(quality_flags, '{flag}'), false)) THEN '{flag}' END"


def pos_orders_sql(lines: str, headers: str) -> str:
    """One ``unified.orders`` row per receipt: amounts summed over all its lines, header fields from
    its first sale row; a completed, paid-in-store order."""
    money0 = "CAST(0 AS DECIMAL(18,2))"
    cols = {
        "status": "'completed'",
        "platform_status": "CAST(NULL AS VARCHAR)",
        "paid_at": "h.created_at",
        "shipped_at": "CAST(NULL AS TIMESTAMP)",
        "finished_at": "h.created_at",
        "modified_at": "h.created_at",
        "freight_amount": money0,
        "currency": "'CNY'",
        "receiver_phone_bidx": sqlgen.token_bidx("h.receiver_phone_token"),
    }
    from_lines = (
        "goods_amount",
        "discount_amount",
        "pay_amount",
        "quality_flags",
        "version_raw_record_id",
        "version_count",
        "raw_record_ids",
    )

    def column(c: str) -> str:
        if c in cols:
            return f"{cols[c]} AS {c}"
        if c in from_lines:
            return f"l.{c}"
        return f"h.{c}" if c in _HEADER else f"CAST(NULL AS {_type(c)}) AS {c}"  # receiver fields etc.

    select = ", ".join(column(c) for c in ORDERS.column_names)
    return (
        f"SELECT {select} FROM (\n"
        "  SELECT order_key, sum(line_amount) AS goods_amount, sum(discount_amount) AS discount_amount,\n"
        "    sum(pay_amount) AS pay_amount, max(version_raw_record_id) AS version_raw_record_id,\n"
        "    CAST(1 AS BIGINT) AS version_count,\n"
        f"    {merge.ids_union_sql('raw_record_ids')} AS raw_record_ids,\n"
        f"    NULLIF(concat_ws(',', {_flag_any('price_out_of_range')}, {_flag_any('mixed_timezone')}), '')"
        " AS quality_flags\n"
        f"  FROM {lines} GROUP BY order_key) AS l\n"
        f"JOIN {headers} AS h ON h.order_key = l.order_key"
    )


_HEADER = (
    "order_key",
    "platform",
    "source",
    "shop_id",
    "shop_name",
    "platform_order_id",
    "account_key",
    "created_at",
    "business_date",
    "receiver_phone_token",
)


def _type(column: str) -> str:
    return next(c.type for c in ORDERS.columns if c.name == column)


def pos_headers_sql(new_lines: str, cur_orders: str, affected: str) -> str:
    """Header fields per affected receipt, from this run's rows and the receipt's current order: the
    first sale, a row with a member before one without, and among rows sold at the same time (a
    receipt's lines) the one first in every column, values before NULLs. Rows still tied are the
    same, so every engine picks the same fields."""
    cols = ", ".join(_HEADER)
    order = ", ".join(f"{c} NULLS LAST" for c in ("created_at", "account_key", *(
        c for c in _HEADER if c not in ("created_at", "account_key"))))
    new = (
        "SELECT order_key, platform, source, shop_id, shop_name, platform_order_id, account_key,\n"
        "  sold_at AS created_at,\n"
        f"  business_date, phone_token AS receiver_phone_token FROM {new_lines}"
    )
    return (
        f"SELECT {cols} FROM (SELECT {cols} FROM {cur_orders}\n"
        f"  WHERE order_key IN (SELECT order_key FROM {affected})"
        f" UNION ALL {new}) AS u\n"
        f"QUALIFY row_number() OVER (PARTITION BY order_key ORDER BY {order}) = 1"
    )


def run_pos(engine: Engine, mappings: list[Mapping], files: list[str]) -> StepResult:
    """POS sales: stage each sale row and key it on its receipt and SKU, classify it (a row that
    repeats its line's latest version is a duplicate), then rebuild the affected receipts as orders
    with their lines, the buyers' member accounts, listings and quality flags."""
    e, name = engine, POS_ENTITY
    staged = stage(e, name, POS_TARGET, mappings, files)
    # every rule-passing row, keyed, before classification: whether it repeats a sale needs its line
    e.materialize("pos_rows", pos_lines_sql(staged, f"(SELECT raw_record_id, raw_file FROM {staged})"))
    e.materialize("pos_repeats", pos_repeats_sql("pos_rows", "cur_order_line"))
    seen = (
        "SELECT unnest(raw_record_ids) AS raw_record_id FROM cur_order_line WHERE platform = 'pos' UNION ALL "
        f"SELECT raw_record_id FROM cur_quarantine WHERE entity = {lit(name)} UNION ALL "
        "SELECT raw_record_id FROM pos_repeats"
    )
    accepted = classify(e, name, staged, mappings, POS_TARGET, seen)
    e.materialize("pos_new_lines", f"SELECT * FROM {accepted_rows('pos_rows', accepted)} AS s")
    e.materialize("aff_pos_orders", merge.affected_sql("pos_new_lines", "order_key"))
    e.materialize("chg_pos_lines", pos_changed_lines_sql("cur_order_line", "pos_new_lines", "aff_pos_orders"))
    e.view("pos_headers", pos_headers_sql("pos_new_lines", "cur_orders", "aff_pos_orders"))
    e.materialize("chg_pos_orders", pos_orders_sql("chg_pos_lines", "pos_headers"))
    # a receipt is paid at the till and completed as it is rung up: one payment, one status
    e.view("chg_pos_status_history", merge.first_status_sql("chg_pos_orders"))
    writes = from_orders.derive(
        e, "pos_", "chg_pos_orders", "chg_pos_lines", "aff_pos_orders", payment_method="in_store"
    )
    return StepResult(
        [f"out_{name}"],
        [
            Write("chg_pos_orders", "unified.orders", "order_key", "aff_pos_orders"),
            Write("chg_pos_lines", "unified.order_line", "order_key", "aff_pos_orders"),
            Write("chg_pos_status_history", "unified.order_status_history", "order_key", "aff_pos_orders"),
            *writes,
        ],
        [flags_sql(staged, accepted)],
    )


# ---------------------------------------------------------------- listings: feed over order lines


def listing_overlay_sql(affected: str, lines: str, orders: str, feed: str) -> str:
    """``unified.listing`` rows of the listing keys in ``affected`` (their feed changed): feed fields
    over line fields, feed-only SKUs included. ``lines`` / ``orders`` / ``feed``: the order lines,
    orders and product feed as the run leaves them (``_Run.after_writes``)."""
    of = f"WHERE listing_key IN (SELECT listing_key FROM {affected})"
    return merge.listing_sql(
        f"(SELECT * FROM {lines} {of})", orders, f"(SELECT * FROM {feed} {of})", full=True
    )
