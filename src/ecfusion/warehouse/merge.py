"""Incremental merge of staged rows into the unified tables (standard 5.3.1.2; Build item 5).

Each function returns one SELECT (DuckDB dialect, transpiled for Spark). A merge touches only
the keys this run brings (``affected``): it computes their NEW rows from the current rows of
those keys (``cur_<table>``) and this run's accepted rows, as a union-and-pick — the latest
``modified_at`` wins per natural key whatever order versions arrive in, ties broken by raw
record id — and the writer replaces exactly those keys. Re-running changes nothing.
"""

from __future__ import annotations

from ecfusion.model.tables import MEMBER_ACCOUNT, ORDER_LINE, ORDERS, REFUND, Table

VERSION_ORDER = "modified_at DESC NULLS LAST, version_raw_record_id DESC"


def _cols(t: Table, prefix: str = "") -> str:
    return ", ".join(f"{prefix}{c}" for c in t.column_names)


def classify_sql(stage: str, bad: str, seen: str) -> str:
    """Each staged raw record: 'duplicate' (seen before or twice now), 'quarantined' or 'unified'."""
    return (
        f"SELECT s.raw_record_id, s.source, s.platform, s.raw_file,\n"
        f"  CASE WHEN s._n > 1 OR seen.raw_record_id IS NOT NULL THEN 'duplicate'\n"
        f"       WHEN b.raw_record_id IS NOT NULL THEN 'quarantined' ELSE 'unified' END AS outcome,\n"
        f"  b._rule AS rule, b._reason AS reason, b._mapping AS mapping\n"
        f"FROM (SELECT raw_record_id, source, platform, raw_file,\n"
        f"        row_number() OVER (PARTITION BY raw_record_id ORDER BY raw_file) AS _n FROM {stage}) AS s\n"
        f"LEFT JOIN {bad} AS b ON b.raw_record_id = s.raw_record_id\n"
        f"LEFT JOIN {seen} AS seen ON seen.raw_record_id = s.raw_record_id"
    )


def bad_orders_sql(orders: str, lines: str) -> str:
    """The first failing rule per raw order record: header rules, then line rules, then a line id
    that repeats inside one order (its lines could not be told apart)."""
    dup = (
        f"SELECT raw_record_id, 'duplicate_line_id' AS _rule, 'duplicate_line_id: line ' || line_key || "
        f"' appears ' || CAST(count(*) AS VARCHAR) || ' times in the order' AS _reason FROM {lines} "
        f"GROUP BY raw_record_id, line_key HAVING count(*) > 1"
    )
    return (
        "SELECT raw_record_id, _rule, _reason, _mapping FROM (\n"
        f"  SELECT raw_record_id, _rule, _reason, _mapping, 0 AS prio FROM {orders} WHERE _rule IS NOT NULL\n"
        f"  UNION ALL SELECT l.raw_record_id, l._rule, l._reason, o._mapping, 1 AS prio FROM (\n"
        f"    SELECT raw_record_id, _rule, _reason FROM {lines} WHERE _rule IS NOT NULL UNION ALL"
        f" {dup}) AS l\n"
        f"    JOIN {orders} AS o ON o.raw_record_id = l.raw_record_id) AS x\n"
        "QUALIFY row_number() OVER (PARTITION BY raw_record_id ORDER BY prio, _reason) = 1"
    )


def _candidates_sql(spec, staged: str, accepted: str, *, extra: dict[str, str] | None = None) -> str:  # type: ignore[no-untyped-def]
    """Accepted staged rows of ``spec``'s table: each row is its own first version, so
    ``version_raw_record_id`` and ``raw_record_ids`` come from its raw record (``extra`` overrides)."""
    own = {"version_raw_record_id": "s.raw_record_id AS version_raw_record_id",
           "raw_record_ids": "[s.raw_record_id] AS raw_record_ids", **(extra or {})}
    cols = ", ".join(own.get(c, f"s.{c}") for c in spec.column_names)
    return (
        f"SELECT {cols} FROM {staged} AS s "
        f"JOIN {accepted} AS a ON a.raw_record_id = s.raw_record_id AND a.raw_file = s.raw_file"
    )


def candidate_orders_sql(orders: str, accepted: str) -> str:
    return _candidates_sql(ORDERS, orders, accepted,
                           extra={"version_count": "CAST(NULL AS BIGINT) AS version_count"})


def new_versions_sql(orders: str, accepted: str, run_id: str) -> str:
    """This run's accepted order versions (appended to unified.order_version)."""
    return (
        f"SELECT o.order_key, o.platform, o.source, o.modified_at, o.status, o.platform_status, "
        f"o.quality_flags, o.raw_record_id, '{run_id}' AS run_id\n"
        f"FROM {orders} AS o JOIN {accepted} AS a ON a.raw_record_id = o.raw_record_id AND"
        f" a.raw_file = o.raw_file"
    )


def affected_sql(candidates: str, key: str) -> str:
    return f"SELECT DISTINCT {key} FROM {candidates}"


def _of(rel: str, key: str, affected: str) -> str:
    return f"{rel} WHERE {key} IN (SELECT {key} FROM {affected})"


def changed_orders_sql(cur: str, candidates: str, affected: str, cur_versions: str, new_versions: str) -> str:
    """New state of every affected order: the latest version wins, version ids aggregated."""
    cols = ", ".join(
        "v.version_count"
        if c == "version_count"
        else "v.raw_record_ids"
        if c == "raw_record_ids"
        else f"w.{c}"
        for c in ORDERS.column_names
    )
    versions = (
        f"SELECT order_key, raw_record_id FROM {_of(cur_versions, 'order_key', affected)} "
        f"UNION ALL SELECT order_key, raw_record_id FROM {new_versions}"
    )
    return (
        f"SELECT {cols} FROM (\n"
        f"  SELECT * FROM (SELECT {_cols(ORDERS)} FROM {_of(cur, 'order_key', affected)}\n"
        f"                 UNION ALL SELECT {_cols(ORDERS)} FROM {candidates}) AS u\n"
        f"  QUALIFY row_number() OVER (PARTITION BY order_key ORDER BY {VERSION_ORDER}) = 1) AS w\n"
        f"JOIN (SELECT order_key, count(*) AS version_count, list_sort(list(raw_record_id)) AS"
        f" raw_record_ids\n"
        f"      FROM ({versions}) AS x GROUP BY order_key) AS v ON v.order_key = w.order_key"
    )


def candidate_lines_sql(lines: str, accepted: str) -> str:
    return _candidates_sql(ORDER_LINE, lines, accepted)


def changed_lines_sql(cur: str, candidates: str, affected: str, changed_orders: str) -> str:
    """Lines of the winning version of each affected order: a version's lines replace the previous ones."""
    return (
        f"SELECT {_cols(ORDER_LINE, 'l.')} FROM (\n"
        f"  SELECT {_cols(ORDER_LINE)} FROM {_of(cur, 'order_key', affected)}\n"
        f"  UNION ALL SELECT {_cols(ORDER_LINE)} FROM {candidates}) AS l\n"
        f"JOIN {changed_orders} AS o ON o.order_key = l.order_key "
        f"AND o.version_raw_record_id = l.version_raw_record_id"
    )


def affected_versions_sql(cur_versions: str, new_versions: str, affected: str) -> str:
    return f"SELECT * FROM {_of(cur_versions, 'order_key', affected)} UNION ALL SELECT * FROM {new_versions}"


def after_merge_sql(cur: str, changed: str, affected: str, key: str) -> str:
    """The whole table after the merge: untouched rows plus the changed ones."""
    return (
        f"SELECT * FROM {cur} WHERE {key} NOT IN (SELECT {key} FROM {affected})\n"
        f"UNION ALL SELECT * FROM {changed}"
    )


def affected_accounts_sql(cur_orders: str, changed_orders: str, affected: str) -> str:
    return (
        f"SELECT DISTINCT account_key FROM (SELECT account_key FROM"
        f" {_of(cur_orders, 'order_key', affected)}\n"
        f"  UNION ALL SELECT account_key FROM {changed_orders}) AS a WHERE account_key IS NOT NULL"
    )


def affected_listings_sql(cur_lines: str, changed_lines: str, affected: str) -> str:
    return (
        f"SELECT DISTINCT listing_key FROM (SELECT listing_key FROM {_of(cur_lines, 'order_key', affected)}\n"
        f"  UNION ALL SELECT listing_key FROM {changed_lines}) AS a WHERE listing_key IS NOT NULL"
    )


def old_flag_keys_sql(cur_lines: str, affected: str) -> str:
    """Row keys whose quality flags the merge recomputes: affected orders and their old lines."""
    return (
        f"SELECT line_key AS row_key FROM {_of(cur_lines, 'order_key', affected)}\n"
        f"UNION ALL SELECT order_key AS row_key FROM {affected}"
    )


def status_history_sql(versions: str) -> str:
    """Every transition: a version whose (status, platform_status) differs from the one before it."""
    return (
        "SELECT order_key, row_number() OVER (PARTITION BY order_key ORDER BY modified_at,"
        " raw_record_id) AS seq,\n"
        "  prev_status AS from_status, status, platform_status, modified_at AS changed_at, raw_record_id\n"
        "FROM (SELECT *, lag(status) OVER w AS prev_status, lag(platform_status) OVER w AS prev_platform,\n"
        "        row_number() OVER w AS n\n"
        f"      FROM {versions} WINDOW w AS (PARTITION BY order_key ORDER BY modified_at,"
        f" raw_record_id)) AS v\n"
        "WHERE n = 1 OR status IS DISTINCT FROM prev_status OR platform_status IS DISTINCT FROM prev_platform"
    )


def payment_sql(orders: str) -> str:
    return (
        "SELECT order_key || ':pay' AS payment_key, order_key, platform, 'platform_escrow' AS method,\n"
        "  paid_at, pay_amount AS amount,\n"
        "  CAST(paid_at + INTERVAL 8 HOUR AS DATE) AS business_date, raw_record_ids\n"
        f"FROM {orders} WHERE paid_at IS NOT NULL"
    )


def member_account_sql(orders: str) -> str:
    """One row per buyer account; contact fields from its latest order."""
    latest = "arg_max({c}, modified_at)"
    contact = {
        "name_token": "receiver_name_token",
        "phone_token": "receiver_phone_token",
        "phone_bidx": "receiver_phone_bidx",
        "phone_masked": "receiver_phone_masked",
        "province": "receiver_province",
        "city": "receiver_city",
        "district": "receiver_district",
        "address_token": "receiver_address_token",
    }
    fields = ",\n  ".join(f"{latest.format(c=src)} AS {dst}" for dst, src in contact.items())
    return (
        "SELECT account_key, arg_max(platform, modified_at) AS platform, arg_max(shop_id,"
        " modified_at) AS shop_id,\n"
        "  substr(account_key, length(arg_max(platform, modified_at)) + 2) AS platform_account_id,\n"
        "  arg_max(buyer_nickname, modified_at) AS nickname,\n"
        f"  {fields},\n"
        "  CAST(NULL AS VARCHAR) AS id_number_bidx, CAST(NULL AS VARCHAR) AS email_bidx,\n"
        "  arg_max(CASE WHEN starts_with(receiver_address_token, 'ef1:') THEN\n"
        "    NULLIF(split_part(receiver_address_token, ':', 4), '') END, modified_at) AS address_bidx,\n"
        "  CAST([] AS VARCHAR[]) AS device_ids,\n"
        "  min(COALESCE(created_at, modified_at)) AS first_seen_at, max(modified_at) AS last_seen_at,\n"
        "  list_sort(list_distinct(flatten(list(raw_record_ids)))) AS raw_record_ids\n"
        f"FROM {orders} WHERE account_key IS NOT NULL GROUP BY account_key"
    )


def listing_sql(lines: str, orders: str) -> str:
    """One row per platform SKU; descriptive fields from its latest observation."""
    pick = "arg_max({c}, o.modified_at)"
    fields = ", ".join(
        f"{pick.format(c='l.' + c)} AS {c}" for c in ("outer_sku_code", "barcode", "title", "spec_text")
    )
    return (
        "SELECT l.listing_key, arg_max(l.platform, o.modified_at) AS platform,\n"
        "  arg_max(l.shop_id, o.modified_at) AS shop_id, arg_max(l.item_id, o.modified_at) AS item_id,\n"
        f"  arg_max(l.sku_id, o.modified_at) AS sku_id, {fields},\n"
        "  arg_max(l.unit_price, o.modified_at) AS price, CAST(NULL AS VARCHAR) AS category_path,\n"
        "  max(o.modified_at) AS last_seen_at,\n"
        "  list_sort(list_distinct(flatten(list(l.raw_record_ids)))) AS raw_record_ids\n"
        f"FROM {lines} AS l JOIN {orders} AS o ON o.order_key = l.order_key\n"
        "WHERE l.listing_key IS NOT NULL GROUP BY l.listing_key"
    )


def quality_flag_sql(lines: str, orders: str) -> str:
    """One row per (row, rule) an outlier or format rule flagged on a kept order or line (L3 b)."""
    return (
        "SELECT 'order_line' AS table_name, line_key AS row_key, flag AS rule,\n"
        "  flag || ': unit_price ' || CAST(unit_price AS VARCHAR) || ', quantity ' || CAST(quantity"
        " AS VARCHAR) "
        "AS reason, version_raw_record_id AS raw_record_id\n"
        f"FROM (SELECT *, unnest(string_split(quality_flags, ',')) AS flag FROM {lines} "
        "WHERE quality_flags IS NOT NULL) AS f\n"
        "UNION ALL\n"
        "SELECT 'orders' AS table_name, order_key AS row_key, flag AS rule,\n"
        "  flag || ': pay_amount ' || COALESCE(CAST(pay_amount AS VARCHAR), 'null') || ', created_at ' || "
        "COALESCE(CAST(created_at AS VARCHAR), 'null') AS reason, version_raw_record_id AS raw_record_id\n"
        f"FROM (SELECT *, unnest(string_split(quality_flags, ',')) AS flag FROM {orders} "
        "WHERE quality_flags IS NOT NULL) AS o"
    )


def candidate_refunds_sql(refunds: str, accepted: str) -> str:
    return _candidates_sql(REFUND, refunds, accepted)


def changed_refunds_sql(cur: str, candidates: str, affected: str) -> str:
    cols = ", ".join("v.raw_record_ids" if c == "raw_record_ids" else f"w.{c}" for c in REFUND.column_names)
    union = (
        f"SELECT {_cols(REFUND)} FROM {_of(cur, 'refund_key', affected)} "
        f"UNION ALL SELECT {_cols(REFUND)} FROM {candidates}"
    )
    return (
        f"SELECT {cols} FROM (\n"
        f"  SELECT * FROM ({union}) AS u\n"
        f"  QUALIFY row_number() OVER (PARTITION BY refund_key ORDER BY {VERSION_ORDER}) = 1) AS w\n"
        f"JOIN (SELECT refund_key, list_sort(list_distinct(flatten(list(raw_record_ids)))) AS"
        f" raw_record_ids\n"
        f"      FROM ({union}) AS a GROUP BY refund_key) AS v ON v.refund_key = w.refund_key"
    )


def candidate_members_sql(members: str, accepted: str) -> str:
    """Accepted staged member records as ``unified.member_account`` rows."""
    cols = ", ".join(f"m.{c}" for c in MEMBER_ACCOUNT.column_names)
    return (
        f"SELECT {cols} FROM {members} AS m "
        f"JOIN {accepted} AS a ON a.raw_record_id = m.raw_record_id AND a.raw_file = m.raw_file"
    )


def changed_members_sql(cur: str, candidates: str, affected: str) -> str:
    """New state of every affected member account: the latest record wins, the first sighting and
    every raw record id are kept."""
    union = (
        f"SELECT {_cols(MEMBER_ACCOUNT)} FROM {_of(cur, 'account_key', affected)} "
        f"UNION ALL SELECT {_cols(MEMBER_ACCOUNT)} FROM {candidates}"
    )
    keep = {"first_seen_at": "v.first_seen_at", "raw_record_ids": "v.raw_record_ids"}
    cols = ", ".join(keep.get(c, f"w.{c}") for c in MEMBER_ACCOUNT.column_names)
    return (
        f"SELECT {cols} FROM (\n"
        f"  SELECT * FROM ({union}) AS u\n"
        f"  QUALIFY row_number() OVER (PARTITION BY account_key ORDER BY last_seen_at DESC NULLS LAST,"
        f" list_max(raw_record_ids) DESC) = 1) AS w\n"
        f"JOIN (SELECT account_key, min(first_seen_at) AS first_seen_at,\n"
        f"        list_sort(list_distinct(flatten(list(raw_record_ids)))) AS raw_record_ids\n"
        f"      FROM ({union}) AS a GROUP BY account_key) AS v ON v.account_key = w.account_key"
    )
