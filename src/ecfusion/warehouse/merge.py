"""Incremental merge of staged rows into the unified tables (standard 5.3.1.2; Build item 5).

Each function returns one SELECT (DuckDB dialect, transpiled for Spark). A merge touches only
the keys this run brings (``affected``): it computes their NEW rows from the current rows of
those keys (``cur_<table>``) and this run's accepted rows, as a union-and-pick — the latest
``modified_at`` wins per natural key whatever order versions arrive in; at the same instant the
status further along its lifecycle, then (orders) the later pull, then the raw record id — and
the writer replaces exactly those keys. Re-running changes nothing.

An order's row takes its header from its latest version, its lines from its latest version that
names lines (a version without a line list is a header-only update; one that would open an order
without lines is quarantined) and its receiver from its latest version that shows one
(``unified.order_version`` keeps, per version, its pull time and whether it names lines and shows
the receiver). Every choice is an associative "latest of", so an incremental build equals a
rebuild (docs/mappings.md, "How the versions of one order merge").

Orders, the large entity, decide on narrow rows: ``classified_orders_sql`` gives every staged
record its outcome, ``winners_sql`` picks each touched order's winning version from ids and
timestamps only, and the wide rows (30+ columns) are read once, by a join on the winner's id
(``changed_orders_sql`` / ``changed_lines_sql``). Accounts aggregate this run's orders and merge
with their current row (``merged_accounts_sql``) instead of rescanning every old order.
"""

from __future__ import annotations

from collections.abc import Iterable

from ecfusion.model.tables import MEMBER_ACCOUNT, ORDER_LINE, ORDERS, REFUND, SHIPMENT, Table
from ecfusion.model.vocabulary import ORDER_STATUS_RANK, REFUND_STATUS_RANK
from ecfusion.standardize.sqlgen import NOTE_SEPARATOR, lit


def status_rank_sql(ranks: Iterable[tuple[str, int]], column: str = "status") -> str:
    """The lifecycle rank (``model.vocabulary``) of the status in ``column``; -1 for none."""
    whens = " ".join(f"WHEN {lit(str(s))} THEN {r}" for s, r in ranks)
    return f"CASE {column} {whens} ELSE -1 END"


# Which of two versions of one row is the later: the later modified time; at the same instant the
# status further along its lifecycle (a platform stamps an order created and paid in one second
# with one time); then the later arrival (pulled_at, the raw envelope's); the raw record id last, so
# the pick is the same on every engine and every run. Never the raw id alone: it is a keyed hash,
# so the pick would differ from one workspace to the next.
_ORDER_RANK = status_rank_sql(ORDER_STATUS_RANK.items())
ORDER_VERSION_LATEST = (
    f"modified_at DESC NULLS LAST, {_ORDER_RANK} DESC, pulled_at DESC NULLS LAST, raw_record_id DESC"
)
# the same order, earliest first (a status history reads versions this way)
ORDER_VERSION_EARLIEST = (
    f"modified_at ASC NULLS FIRST, {_ORDER_RANK} ASC, pulled_at ASC NULLS FIRST, raw_record_id ASC"
)
# refunds (rows that keep no arrival): time, then status progress, then raw record id
VERSION_ORDER = (
    f"modified_at DESC NULLS LAST, {status_rank_sql(REFUND_STATUS_RANK.items())} DESC,"
    " version_raw_record_id DESC"
)


def _cols(t: Table, prefix: str = "") -> str:
    return ", ".join(f"{prefix}{c}" for c in t.column_names)


def union_all(selects: list[str]) -> str:
    """The SELECTs ``selects`` as one UNION ALL."""
    return "\nUNION ALL\n".join(selects)


def union_views(views: list[str]) -> str:
    """Every row of the relations ``views`` (same columns, same order)."""
    return union_all([f"SELECT * FROM {v}" for v in views])


def repeated_hashes_sql(relation: str, columns: str) -> str:
    """One-number hashes of ``columns`` that repeat in ``relation``: a superset of the repeated
    values, found without grouping strings. Callers select the rows whose hash is in it and decide
    exactly on those; a collision only sends a few more rows to that exact step."""
    return f"SELECT hash({columns}) AS h FROM {relation} GROUP BY hash({columns}) HAVING count(*) > 1"


def ids_union_sql(lists: str) -> str:
    """Aggregate: the sorted, distinct union of the raw-record-id lists ``lists`` of a group.
    Raw record ids are content hashes (hex, contracts §2), so joining them with ',' and splitting
    again is exact, and it is several times faster than DuckDB's list aggregates."""
    return f"list_sort(list_distinct(string_split(string_agg(array_to_string({lists}, ','), ','), ',')))"


def ids_list_sql(ids: str) -> str:
    """Aggregate: the sorted list of the raw record ids ``ids`` of a group (see ``ids_union_sql``)."""
    return f"list_sort(string_split(string_agg({ids}, ','), ','))"


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
    # exact groups only where the group's hash repeats: grouping 1M+ lines by three strings costs
    # several times more
    same = "raw_record_id, raw_file, line_key"
    dup = (
        f"SELECT raw_record_id, 'duplicate_line_id' AS _rule, 'duplicate_line_id: line ' || line_key || "
        f"' appears ' || CAST(count(*) AS VARCHAR) || ' times in the order' AS _reason FROM {lines} "
        f"WHERE hash({same}) IN ({repeated_hashes_sql(lines, same)}) "
        f"GROUP BY {same} HAVING count(*) > 1"
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


# ---------------------------------------------------------------- orders
#
# Orders are wide (30+ columns) and windows or sorts over wide rows are what costs, so every
# decision is taken on narrow rows (ids, key, modified_at, status) and the wide rows are read
# once, by a join on the winning version's id.


def lineless_versions_sql(headers: list[str]) -> str | None:
    """The order records of the header relations ``headers`` (``sqlgen.orders_header_sql`` of the
    platforms whose orders carry a line list) that name no line: the list is absent or empty."""
    if not headers:
        return None
    return union_all([
        f"SELECT raw_record_id, raw_file FROM {h} WHERE _items IS NULL OR array_length(_items) = 0"
        for h in headers
    ])


def _orphans_sql(orders: str, lineless: str, known: str) -> str:
    """The records of ``lineless`` that would open an order without any line: no version the
    warehouse holds (``known``) and no other record of this run (passing the header rules) names
    the order. A version that names no line is a header-only update of an order that has lines."""
    rec = "s.raw_record_id = l.raw_record_id AND s.raw_file = l.raw_file"
    keys = (
        f"SELECT s.order_key FROM {orders} AS s JOIN {lineless} AS l ON {rec} WHERE s.order_key IS NOT NULL"
    )
    lined = (
        f"SELECT s.order_key FROM {orders} AS s LEFT JOIN {lineless} AS l ON {rec}\n"
        f"    WHERE l.raw_record_id IS NULL AND s._rule IS NULL AND s.order_key IN ({keys})"
    )
    return (
        f"SELECT s.raw_record_id, s.raw_file FROM {orders} AS s JOIN {lineless} AS l ON {rec}\n"
        f"  WHERE s._rule IS NULL AND s.order_key IS NOT NULL\n"
        f"    AND s.order_key NOT IN (SELECT order_key FROM {known} WHERE order_key IN ({keys}))\n"
        f"    AND s.order_key NOT IN ({lined})"
    )


_NO_LINES = lit(
    "missing_required: the order record names no line item (its line list is absent or empty) and the "
    "order has no version that does; a header-only update is accepted once the order's lines are known"
)


def classified_orders_sql(
    orders: str,
    bad: str,
    seen: str,
    *,
    lineless: str | None = None,
    known: str | None = None,
) -> str:
    """Narrow: every staged order record's version columns (its envelope's ``pulled_at`` among them)
    and outcome ('duplicate': seen before or a later copy in this run; 'quarantined': a rule failed;
    else 'unified'), with the rule, reason and mapping of a failed rule. ``lineless``
    (``lineless_versions_sql``): the records that name no line, quarantined (missing_required) when
    they would open an order, the warehouse's versions being ``known``."""
    has_lines = "l.raw_record_id IS NULL" if lineless else "true"
    orphan = "o.raw_record_id IS NOT NULL" if lineless and known else "false"
    rec = "{a}.raw_record_id = s.raw_record_id AND {a}.raw_file = s.raw_file"
    failed = f"CASE WHEN b.raw_record_id IS NOT NULL THEN {{b}} WHEN {orphan} THEN {{o}} END"
    joins = ""
    if lineless:
        joins += f"LEFT JOIN {lineless} AS l ON {rec.format(a='l')}\n"
        if known:
            joins += f"LEFT JOIN ({_orphans_sql(orders, lineless, known)}) AS o ON {rec.format(a='o')}\n"
    return (
        "SELECT s.raw_record_id, s.source, s.platform, s.raw_file, s.order_key, s.modified_at, s.status,\n"
        f"  s.platform_status, s.quality_flags, s.pulled_at, {has_lines} AS has_lines,\n"
        "  s.has_contact,\n"
        "  CASE WHEN d.copy > 1 OR seen.raw_record_id IS NOT NULL THEN 'duplicate'\n"
        f"       WHEN b.raw_record_id IS NOT NULL OR {orphan} THEN 'quarantined' ELSE 'unified' END"
        " AS outcome,\n"
        f"  {failed.format(b='b._rule', o=lit('missing_required'))} AS rule,\n"
        f"  {failed.format(b='b._reason', o=_NO_LINES)} AS reason,\n"
        f"  {failed.format(b='b._mapping', o='s._mapping')} AS mapping\n"
        "FROM (SELECT raw_record_id, source, platform, raw_file, order_key, modified_at, status,\n"
        "        platform_status, quality_flags, pulled_at, _mapping,\n"
        "        receiver_phone_token IS NOT NULL OR receiver_name_token IS NOT NULL AS has_contact\n"
        f"      FROM {orders}) AS s\n"
        f"LEFT JOIN {bad} AS b ON b.raw_record_id = s.raw_record_id\n"
        # copies of one record in this run (rare): rank only those, never sort the whole stage
        "LEFT JOIN (SELECT raw_record_id, raw_file,\n"
        "    row_number() OVER (PARTITION BY raw_record_id ORDER BY raw_file) AS copy\n"
        f"  FROM {orders}\n"
        f"  WHERE hash(raw_record_id) IN ({repeated_hashes_sql(orders, 'raw_record_id')})) AS d\n"
        "  ON d.raw_record_id = s.raw_record_id AND d.raw_file = s.raw_file\n"
        f"LEFT JOIN (SELECT DISTINCT raw_record_id FROM {seen}) AS seen\n"
        "  ON seen.raw_record_id = s.raw_record_id\n"
        f"{joins}"
    ).rstrip("\n")


def outcomes_sql(classified: str) -> str:
    """The outcome columns of a classified stage (what reconciliation and quarantine read)."""
    return (
        f"SELECT raw_record_id, source, platform, raw_file, outcome, rule, reason, mapping FROM {classified}"
    )


def new_versions_sql(classified: str, run_id: str) -> str:
    """This run's accepted order versions (appended to unified.order_version)."""
    return (
        "SELECT order_key, platform, source, modified_at, status, platform_status, quality_flags,"
        f" raw_record_id, '{run_id}' AS run_id, pulled_at, has_lines, has_contact\n"
        f"FROM {classified} WHERE outcome = 'unified'"
    )


def touched_versions_sql(classified: str, cur_versions: str) -> str:
    """Every version of the orders this run touches (narrow: ids, time, status, arrival, whether
    it names lines and shows the receiver): this run's accepted versions (``is_new``, with their
    file) and the warehouse's earlier ones. A version accepted before ecfusion kept ``has_lines`` /
    ``has_contact`` counts as having both: the order's current row holds what it showed."""
    cols = "order_key, raw_record_id, {file}, modified_at, status, platform_status, pulled_at, {flags}"
    kept = "COALESCE(has_lines, true) AS has_lines, COALESCE(has_contact, true) AS has_contact"
    return (
        f"SELECT {cols.format(file='raw_file', flags='has_lines, has_contact')}, true AS is_new\n"
        f"FROM {classified} WHERE outcome = 'unified'\n"
        "UNION ALL\n"
        f"SELECT {cols.format(file='CAST(NULL AS VARCHAR) AS raw_file', flags=kept)}, false AS is_new\n"
        f"FROM {cur_versions}\n"
        f"WHERE order_key IN (SELECT order_key FROM {classified} WHERE outcome = 'unified')"
    )


def several_versions_sql(versions: str, repeated: str) -> str:
    """The versions of the orders whose key hash is in ``repeated``
    (``repeated_hashes_sql(versions, 'order_key')``): every order with several versions, and
    rarely a one-version order whose hash collides, all ranked exactly by ``winners_sql`` and
    ``status_history_sql``."""
    return f"SELECT * FROM {versions} WHERE hash(order_key) IN (SELECT h FROM {repeated})"


def single_versions_sql(versions: str, repeated: str) -> str:
    """The orders whose key hash is unique: certainly one version each, as every order of a first
    load and every new order has. They need no window to pick a winner or order a history."""
    return f"SELECT * FROM {versions} WHERE hash(order_key) NOT IN (SELECT h FROM {repeated})"


def winners_sql(single: str, several: str) -> str:
    """Per order this run touches: the winning version (``ORDER_VERSION_LATEST``: the latest
    ``modified_at``, at the same instant the status further along, then the later arrival, then
    the raw record id — whatever order versions arrive in), whether it is new, whether the order
    existed before, every version id, and the two versions the row takes more from: the latest
    that names lines (``line_*``: its lines are the order's) and the latest that shows the receiver
    (``contact_*``). An order with one version is its own winner, and new (a version the warehouse
    held would be a second); windows over narrow rows rank the others."""
    order = f"PARTITION BY order_key ORDER BY {{}}{ORDER_VERSION_LATEST}"
    ranked = (
        "SELECT order_key, raw_record_id, raw_file, is_new,\n"
        f"    row_number() OVER ({order.format('')}) AS rn,\n"
        f"    row_number() OVER ({order.format('has_lines DESC, ')}) AS ln,\n"
        f"    row_number() OVER ({order.format('has_contact DESC, ')}) AS cn\n"
        f"  FROM {several}"
    )

    def pick(prefix: str, rank: str) -> str:
        return (
            f"max(CASE WHEN {rank} = 1 THEN raw_record_id END) AS {prefix}_id,"
            f" max(CASE WHEN {rank} = 1 THEN raw_file END) AS {prefix}_file,"
            f" bool_or({rank} = 1 AND is_new) AS {prefix}_new"
        )

    own = ", ".join(
        f"raw_record_id AS {p}_id, raw_file AS {p}_file, true AS {p}_new" for p in ("line", "contact")
    )
    return (
        "SELECT order_key, raw_record_id AS win_id, raw_file AS win_file, true AS win_new,\n"
        "  CAST(1 AS BIGINT) AS version_count, [raw_record_id] AS raw_record_ids, false AS existed,\n"
        f"  {own}\n"
        f"FROM {single}\n"
        "UNION ALL\n"
        f"SELECT order_key, {pick('win', 'rn')},\n"
        f"  count(*) AS version_count, {ids_list_sql('raw_record_id')} AS raw_record_ids,"
        " bool_or(NOT is_new) AS existed,\n"
        f"  {pick('line', 'ln')},\n"
        f"  {pick('contact', 'cn')}\n"
        f"FROM ({ranked}) AS r GROUP BY order_key"
    )


def stale_orders_sql(winners: str) -> str:
    """Orders the warehouse held before: the keys whose current rows the write replaces."""
    return f"SELECT order_key FROM {winners} WHERE existed"


def rows_of(rel: str, key: str, affected: str) -> str:
    """``rel`` restricted to the rows whose ``key`` is in relation ``affected`` (a FROM clause body)."""
    return f"{rel} WHERE {key} IN (SELECT {key} FROM {affected})"


def touched_sql(column: str, selects: list[str]) -> str:
    """The distinct non-null values of ``column`` over ``selects`` (each a SELECT of it): the keys a
    merge touches — those its new rows name and those the rows it replaces named."""
    return f"SELECT DISTINCT {column} FROM ({union_all(selects)}) AS a WHERE {column} IS NOT NULL"


def orders_named_sql(
    order_writes: list[tuple[str, str]], writes: list[tuple[str, str]], current: str, key: str
) -> str:
    """Order keys a run's writes name: those keyed by order (``(rows, replaced order keys)``), and
    those of another table whose rows name an order (``(rows, replaced values of key)``), before
    (the replaced rows as ``current`` holds them) and after."""
    selects = []
    for rows, keys in order_writes:
        selects += [f"SELECT order_key FROM {rows}", f"SELECT order_key FROM {keys}"]
    for rows, keys in writes:
        selects += [f"SELECT order_key FROM {rows}", f"SELECT order_key FROM {rows_of(current, key, keys)}"]
    return touched_sql("order_key", selects)


def affected_sql(candidates: str, key: str) -> str:
    return f"SELECT DISTINCT {key} FROM {candidates}"


# Receiver contact an order version may leave blank although an earlier version showed it
# (Pinduoduo clears the decrypted receiver once an order ships; a masked export shows none).
CONTACT = (
    "receiver_name_token", "receiver_phone_token", "receiver_phone_bidx", "receiver_phone_masked",
    "receiver_address_token", "receiver_phone_province", "receiver_phone_city",
)
def _winner_rows(spec: Table, staged: str, cur: str, winners: str, *, line: bool, pick: str = "win",
                 fill: str | None = None) -> str:
    """Rows of ``spec``'s table for each touched order: from the staged rows of the version
    ``pick`` of ``winners_sql`` (the winner; ``line``: the latest that names lines) when that is
    new, else its current rows (with the version list brought up to date). ``fill`` (orders,
    ``contact_fill_sql``): the receiver to use where it is not the winner's."""
    if line:
        own = {"version_raw_record_id": "s.raw_record_id", "raw_record_ids": "[s.raw_record_id]"}
        kept = {}
    else:
        own = {"version_raw_record_id": "s.raw_record_id", "version_count": "w.version_count",
               "raw_record_ids": "w.raw_record_ids"}
        kept = {"version_count": "w.version_count", "raw_record_ids": "w.raw_record_ids"}
        if fill:
            own |= {c: f"CASE WHEN f.order_key IS NOT NULL THEN f.{c} ELSE s.{c} END" for c in CONTACT}
            kept |= {c: f"CASE WHEN f.order_key IS NOT NULL THEN f.{c} ELSE c.{c} END" for c in CONTACT}
    new_cols = ", ".join(f"{own.get(c, 's.' + c)} AS {c}" for c in spec.column_names)
    old_cols = ", ".join(f"{kept.get(c, 'c.' + c)} AS {c}" for c in spec.column_names)
    fill_join = "\nLEFT JOIN {fill} AS f ON f.order_key = {t}.order_key" if fill else ""
    return (
        f"SELECT {new_cols}\nFROM {staged} AS s JOIN {winners} AS w\n"
        f"  ON s.raw_record_id = w.{pick}_id AND s.raw_file = w.{pick}_file AND w.{pick}_new"
        f"{fill_join.format(fill=fill, t='s')}\n"
        "UNION ALL\n"
        f"SELECT {old_cols}\nFROM {cur} AS c JOIN {winners} AS w\n"
        f"  ON c.order_key = w.order_key AND NOT w.{pick}_new{fill_join.format(fill=fill, t='c')}"
    )


def contact_fill_sql(staged: str, cur: str, winners: str) -> str:
    """Per touched order whose receiver is not its winning version's: the receiver of its latest
    version that shows one (``winners_sql``'s ``contact_*``), from this run's staged row when that
    version is new, else from the order's current row — which holds the receiver of the latest
    earlier version that showed one. So a later blank version never erases who the receiver was,
    and an earlier one arriving late never overrides a later one: the row is the same whatever
    order versions arrive in."""
    cols = ", ".join(CONTACT)
    other = "NOT (w.win_new AND w.contact_id = w.win_id AND w.contact_file = w.win_file)"
    return (
        f"SELECT s.order_key, {', '.join('s.' + c for c in CONTACT)}\n"
        f"FROM {staged} AS s JOIN {winners} AS w\n"
        "  ON s.raw_record_id = w.contact_id AND s.raw_file = w.contact_file AND w.contact_new\n"
        f"WHERE {other}\n"
        "UNION ALL\n"
        f"SELECT order_key, {cols} FROM {cur}\n"
        f"WHERE order_key IN (SELECT order_key FROM {winners} WHERE win_new AND NOT contact_new)"
    )


def changed_orders_sql(staged: str, cur: str, winners: str, fill: str | None = None) -> str:
    """New state of every order this run touches: the winning version's row (receiver from
    ``fill`` where it is another version's), all version ids."""
    return _winner_rows(ORDERS, staged, cur, winners, line=False, fill=fill)


def changed_lines_sql(staged_lines: str, cur: str, winners: str) -> str:
    """Lines of each touched order: those of its latest version that names lines. A version's
    lines replace the previous ones; a version that names none (a header-only update: its line
    list is absent or empty) leaves the order the lines it had."""
    return _winner_rows(ORDER_LINE, staged_lines, cur, winners, line=True, pick="line")


def changed_shipments_sql(staged_shipments: str, cur: str, winners: str) -> str:
    """Parcels of each touched order's winning version: a version's parcels replace the previous
    ones (a later version that names no parcel leaves the order with none)."""
    return _winner_rows(SHIPMENT, staged_shipments, cur, winners, line=True)


def shipment_flag_sql(shipments: str) -> str:
    """One ``unified.quality_flag`` row per (shipment, rule) a parcel fails (kept, flagged)."""
    return flag_rows_sql(
        "shipment", "shipment_key", shipments,
        "'carrier ' || COALESCE(carrier, 'null') || ', shipped_at ' || "
        "COALESCE(CAST(shipped_at AS VARCHAR), 'null')",
    )


def old_shipment_flag_keys_sql(cur_shipments: str, affected: str) -> str:
    """Row keys of the flags a shipment merge recomputes: the current parcels of affected orders."""
    return f"SELECT shipment_key AS row_key FROM {rows_of(cur_shipments, 'order_key', affected)}"


def after_merge_sql(cur: str, changed: str, affected: str, key: str) -> str:
    """The whole table after the merge: untouched rows plus the changed ones."""
    return (
        f"SELECT * FROM {cur} WHERE {key} NOT IN (SELECT {key} FROM {affected})\n"
        f"UNION ALL SELECT * FROM {changed}"
    )


def affected_accounts_sql(cur_orders: str, changed_orders: str, affected: str) -> str:
    return touched_sql("account_key", [
        f"SELECT account_key FROM {rows_of(cur_orders, 'order_key', affected)}",
        f"SELECT account_key FROM {changed_orders}",
    ])


def affected_listings_sql(cur_lines: str, changed_lines: str, affected: str) -> str:
    return touched_sql("listing_key", [
        f"SELECT listing_key FROM {rows_of(cur_lines, 'order_key', affected)}",
        f"SELECT listing_key FROM {changed_lines}",
    ])


def old_flag_keys_sql(cur_lines: str, affected: str) -> str:
    """Row keys whose quality flags the merge recomputes: affected orders and their old lines."""
    return (
        f"SELECT line_key AS row_key FROM {rows_of(cur_lines, 'order_key', affected)}\n"
        f"UNION ALL SELECT order_key AS row_key FROM {affected}"
    )


def status_history_sql(single: str, several: str) -> str:
    """Every transition: a version whose (status, platform_status) differs from the one before it,
    versions in ``ORDER_VERSION_EARLIEST`` order — so two versions stamped with the same instant
    read forward (created → paid), never backwards. An order with one version has one entry, its
    first status."""
    order = f"PARTITION BY order_key ORDER BY {ORDER_VERSION_EARLIEST}"
    return (
        f"{first_status_sql(single, 'raw_record_id')}\nUNION ALL\n"
        f"SELECT order_key, row_number() OVER ({order}) AS seq,\n"
        "  prev_status AS from_status, status, platform_status, modified_at AS changed_at, raw_record_id\n"
        "FROM (SELECT *, lag(status) OVER w AS prev_status, lag(platform_status) OVER w AS prev_platform,\n"
        "        row_number() OVER w AS n\n"
        f"      FROM {several} WINDOW w AS ({order})) AS v\n"
        "WHERE n = 1 OR status IS DISTINCT FROM prev_status OR platform_status IS DISTINCT FROM prev_platform"
    )


def first_status_sql(rows: str, raw_id: str = "version_raw_record_id") -> str:
    """The status history of orders that have one state (a one-version order, a store sale): one
    entry, seq 1. ``raw_id``: the column of ``rows`` holding the raw record that shows it."""
    return (
        "SELECT order_key, CAST(1 AS BIGINT) AS seq, CAST(NULL AS VARCHAR) AS from_status, status,"
        " platform_status,\n"
        f"  modified_at AS changed_at, {raw_id} AS raw_record_id FROM {rows}"
    )


def payment_sql(orders: str, method: str = "platform_escrow") -> str:
    """One payment per paid order: an online order is paid into the platform's escrow; a store
    sale at the till (``method`` 'in_store'). An order split into others has none: its parts carry
    the payment."""
    return (
        f"SELECT order_key || ':pay' AS payment_key, order_key, platform, '{method}' AS method,\n"
        "  paid_at, pay_amount AS amount,\n"
        "  CAST(paid_at + INTERVAL 8 HOUR AS DATE) AS business_date, raw_record_ids\n"
        f"FROM {orders} WHERE paid_at IS NOT NULL AND status <> 'split'"
    )


def member_account_sql(orders: str) -> str:
    """One row per buyer account; contact fields from its latest order (latest ``modified_at``,
    ties by order key: one order, picked the same way on every engine). Province and city are the
    latest OBSERVED receiver region (a region completed from the phone is not an address); the
    phone's own region is ``phone_province`` / ``phone_city``."""
    observed = "CASE WHEN o.receiver_region_source = 'phone_prefix' THEN NULL ELSE o.receiver_{c} END"
    contact = {
        "name_token": "o.receiver_name_token",
        "phone_token": "o.receiver_phone_token",
        "phone_bidx": "o.receiver_phone_bidx",
        "phone_masked": "o.receiver_phone_masked",
        "province": observed.format(c="province"),
        "city": observed.format(c="city"),
        "district": "o.receiver_district",
        "address_token": "o.receiver_address_token",
        "phone_province": "o.receiver_phone_province",
        "phone_city": "o.receiver_phone_city",
    }
    fields = ",\n  ".join(f"{src} AS {dst}" for dst, src in contact.items())
    latest = (
        "SELECT account_key, order_key FROM (SELECT account_key, order_key, row_number() OVER (\n"
        "    PARTITION BY account_key ORDER BY modified_at DESC, order_key DESC) AS rn\n"
        f"  FROM {orders} WHERE account_key IS NOT NULL) AS r WHERE rn = 1"
    )
    seen = (
        "SELECT account_key, min(COALESCE(created_at, modified_at)) AS first_seen_at,"
        " max(modified_at) AS last_seen_at,\n"
        f"  {ids_union_sql('raw_record_ids')} AS raw_record_ids\n"
        f"FROM {orders} WHERE account_key IS NOT NULL GROUP BY account_key"
    )
    return (
        "SELECT a.account_key, o.platform, o.shop_id,\n"
        "  substr(a.account_key, length(o.platform) + 2) AS platform_account_id,\n"
        "  o.buyer_nickname AS nickname,\n"
        # a store sale names its card in the account key (pos:<card_no>, pos:phone-… when only a phone)
        "  CASE WHEN o.platform = 'pos' AND NOT starts_with(a.account_key, 'pos:phone-')\n"
        "    THEN substr(a.account_key, 5) END AS card_no, CAST(NULL AS VARCHAR) AS wechat_openid,\n"
        f"  {fields},\n"
        "  CAST(NULL AS VARCHAR) AS id_number_bidx, CAST(NULL AS VARCHAR) AS email_bidx,\n"
        "  CASE WHEN starts_with(o.receiver_address_token, 'ef1:') THEN\n"
        "    NULLIF(split_part(o.receiver_address_token, ':', 4), '') END AS address_bidx,\n"
        "  CAST([] AS VARCHAR[]) AS device_ids, a.first_seen_at, a.last_seen_at, a.raw_record_ids\n"
        f"FROM ({seen}) AS a\n"
        f"JOIN ({latest}) AS l ON l.account_key = a.account_key\n"
        f"JOIN {orders} AS o ON o.order_key = l.order_key"
    )


LISTING_FEED_FIELDS = ("outer_sku_code", "barcode", "title", "spec_text", "price")


def listing_sql(lines: str, orders: str, feed: str | None = "cur_listing_feed", *, full: bool = False) -> str:
    """One row per platform SKU: descriptive fields from the product feed (``feed``, one row per
    listing key) where it has them, else from the latest order line; category only from the feed.
    ``full``: also emit feed keys no line mentions (the post-merge overlay), else only line keys.

    Lineage is the raw records the row's values came from: the latest line's order record and the
    feed's records. Every order that ever named the SKU is data (``unified.order_line.listing_key``),
    not lineage: a best seller would otherwise carry millions of ids, rewritten on every run."""
    # "latest" is one line, the same on both engines: orders modified in the same second are told
    # apart by line key (the greatest (modified_at, line_key) of the listing's lines); every field
    # is then read off that line. last_seen_at is its own max(modified_at), though the struct holds
    # it: read off the struct, the column lineage (data dictionary) would trace it to the line key's
    # paths too
    latest = "max({'modified_at': o.modified_at, 'line_key': l.line_key})"
    from_line = {c: c for c in ("platform", "shop_id", "item_id", "sku_id", "outer_sku_code", "barcode")}
    from_line |= {"title": "title", "spec_text": "spec_text", "price": "unit_price"}
    fields = ", ".join(f"w.{src} AS {dst}" for dst, src in from_line.items())
    seen = (
        f"SELECT a.listing_key, {fields}, a.last_seen_at, [w.version_raw_record_id] AS raw_record_ids\n"
        f"FROM (SELECT l.listing_key, {latest} AS latest, max(o.modified_at) AS last_seen_at\n"
        f"  FROM {lines} AS l JOIN {orders} AS o ON o.order_key = l.order_key\n"
        "  WHERE l.listing_key IS NOT NULL GROUP BY l.listing_key) AS a\n"
        f"JOIN {lines} AS w ON w.line_key = a.latest.line_key"
    )
    if feed is None:
        return (
            "SELECT listing_key, platform, shop_id, item_id, sku_id, outer_sku_code, barcode, title,"
            " spec_text,"
            " price, CAST(NULL AS VARCHAR) AS category_path, CAST(NULL AS VARCHAR) AS category_id,"
            f" last_seen_at, raw_record_ids FROM ({seen}) AS s"
        )
    own = {c: f"COALESCE(f.{c}, s.{c}) AS {c}" for c in ("platform", "shop_id", "item_id", "sku_id",
                                                          *LISTING_FEED_FIELDS)}
    cols = ", ".join(own[c] for c in ("platform", "shop_id", "item_id", "sku_id", *LISTING_FEED_FIELDS))
    ids = (
        "CASE WHEN f.raw_record_ids IS NULL THEN s.raw_record_ids WHEN s.raw_record_ids IS NULL THEN "
        "f.raw_record_ids ELSE list_sort(list_distinct(list_concat(s.raw_record_ids, f.raw_record_ids))) END"
        " AS raw_record_ids"
    )
    return (
        f"SELECT COALESCE(s.listing_key, f.listing_key) AS listing_key, {cols},\n"
        "  f.category_path, f.category_id,\n"
        "  COALESCE(GREATEST(s.last_seen_at, f.modified_at), s.last_seen_at, f.modified_at)"
        " AS last_seen_at,\n"
        f"  {ids}\n"
        f"FROM ({seen}) AS s {'FULL' if full else 'LEFT'} JOIN {feed} AS f ON f.listing_key = s.listing_key"
    )


def flag_rows_sql(table: str, key: str, rows: str, why: str, raw_id: str = "version_raw_record_id") -> str:
    """One ``unified.quality_flag`` row per (row, rule) of the comma list ``quality_flags`` of
    ``rows`` (rows of unified table ``table``, keyed by ``key``): the row was kept and flagged.
    ``why``: SQL of the reason after 'rule: ' (the values the rule looked at)."""
    return (
        f"SELECT {lit(table)} AS table_name, {key} AS row_key, flag AS rule,\n"
        f"  flag || ': ' || {why} AS reason, {raw_id} AS raw_record_id\n"
        f"FROM (SELECT *, unnest(string_split(quality_flags, ',')) AS flag FROM {rows} "
        "WHERE quality_flags IS NOT NULL) AS f"
    )


def _values_said(*columns: str) -> str:
    """SQL: 'a 1, b null' — each column named with its value, 'null' where it has none."""
    return " || ', ' || ".join(f"'{c} ' || COALESCE(CAST({c} AS VARCHAR), 'null')" for c in columns)


def noted_why(generic: str) -> str:
    """SQL of a flag's reason after 'rule: ': the row's own note for the rule (its ``quality_notes``
    line 'rule: …', sqlgen.field_notes), else ``generic`` (the values the rule looked at)."""
    notes = f"string_split(quality_notes, {lit(NOTE_SEPARATOR)})"
    mine = f"list_filter({notes}, lambda n: starts_with(n, flag || ': '))"
    return f"COALESCE(substr({mine}[1], length(flag) + 3), {generic})"


def refund_flag_sql(refunds: str) -> str:
    """One ``unified.quality_flag`` row per (refund, rule) a kept refund was flagged by."""
    return flag_rows_sql("refund", "refund_key", refunds, noted_why(_values_said("amount", "created_at")))


def order_flag_sql(orders: str) -> str:
    """One row per (order, rule) a kept order was flagged by (the refund settlement's too)."""
    return flag_rows_sql("orders", "order_key", orders, noted_why(_values_said("pay_amount", "created_at")))


def quality_flag_sql(lines: str, orders: str) -> str:
    """One row per (row, rule) an outlier or format rule flagged on a kept order or line (L3 b)."""
    return union_all(
        [
            flag_rows_sql("order_line", "line_key", lines, noted_why(_values_said("unit_price", "quantity"))),
            order_flag_sql(orders),
        ]
    )


def candidate_refunds_sql(refunds: str, accepted: str) -> str:
    return _candidates_sql(REFUND, refunds, accepted)


def changed_refunds_sql(cur: str, candidates: str, affected: str) -> str:
    cols = ", ".join("v.raw_record_ids" if c == "raw_record_ids" else f"w.{c}" for c in REFUND.column_names)
    union = (
        f"SELECT {_cols(REFUND)} FROM {rows_of(cur, 'refund_key', affected)} "
        f"UNION ALL SELECT {_cols(REFUND)} FROM {candidates}"
    )
    return (
        f"SELECT {cols} FROM (\n"
        f"  SELECT * FROM ({union}) AS u\n"
        f"  QUALIFY row_number() OVER (PARTITION BY refund_key ORDER BY {VERSION_ORDER}) = 1) AS w\n"
        f"JOIN (SELECT refund_key, {ids_union_sql('raw_record_ids')} AS"
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


def merged_accounts_sql(
    cur: str, accounts: str, replaced: str | None = None, *, from_orders: bool = False
) -> str:
    """New state of the accounts in ``accounts`` (one row per key, e.g. this run's orders
    aggregated per buyer): a key the warehouse has no row for is taken as it is; the others merge
    with their current row as in ``changed_members_sql`` (``from_orders``: see there). ``replaced``:
    rows recomputed whole (e.g. from every order that names the account, after an order stopped
    naming it), taken as they are instead of merging: a merge only ever adds, so it cannot take an
    order's contribution away."""
    if replaced is not None:
        accounts = (
            f"(SELECT * FROM {accounts} WHERE account_key NOT IN (SELECT account_key FROM {replaced}))"
            " AS kept_accounts"
        )
    known = f"(SELECT account_key FROM {cur})"
    return (
        f"SELECT {_cols(MEMBER_ACCOUNT)} FROM {accounts} WHERE account_key NOT IN {known}\n"
        "UNION ALL\n"
        + changed_members_sql(
            cur, f"(SELECT * FROM {accounts} WHERE account_key IN {known}) AS known_accounts", accounts,
            from_orders=from_orders,
        )
        + (f"\nUNION ALL SELECT {_cols(MEMBER_ACCOUNT)} FROM {replaced}" if replaced is not None else "")
    )


def changed_members_sql(cur: str, candidates: str, affected: str, *, from_orders: bool = False) -> str:
    """New state of every affected member account, column by column: the latest record that
    carries a value wins, so a record that does not carry a field (an app-event sighting has no
    phone, a shipped Pinduoduo order no receiver) never erases what an earlier one showed. The
    first sighting, the last sighting, every device and every raw record id are kept. "Latest" is
    ``last_seen_at``, ties broken by the highest raw record id, whatever order records arrive in;
    then the candidate before the current row.

    ``from_orders``: the candidates are this run's orders aggregated per buyer, and at the same last
    time the candidate comes first. That tie is an order's own: a version arriving late (the one that
    showed the receiver) makes the order's row anew, with the same last time as the account's row
    from the order's earlier state, and the new row holds all the old one knew; the current row's
    highest raw id may be another order's. Left to that id, an account kept the masked phone of one
    version beside the phone of another."""
    union = (
        f"SELECT {_cols(MEMBER_ACCOUNT)}, 0 AS _new FROM {rows_of(cur, 'account_key', affected)} "
        f"UNION ALL SELECT {_cols(MEMBER_ACCOUNT)}, 1 AS _new FROM {candidates}"
    )
    highest, new = "list_max(raw_record_ids) DESC", "_new DESC"
    ties = f"{new}, {highest}" if from_orders else f"{highest}, {new}"
    ranked = (
        f"SELECT *, row_number() OVER (PARTITION BY account_key ORDER BY last_seen_at DESC NULLS LAST,"
        f" {ties}) AS _rank FROM ({union}) AS u"
    )
    special = {
        "account_key": "account_key",
        "first_seen_at": "min(first_seen_at)",
        "last_seen_at": "max(last_seen_at)",
        "device_ids": "list_sort(list_distinct(flatten(list(device_ids))))",
        "raw_record_ids": ids_union_sql("raw_record_ids"),
    }
    # the rank only where the value is present: min_by on Spark does not skip a NULL value itself
    cols = ", ".join(
        f"{special.get(c, f'arg_min({c}, CASE WHEN {c} IS NOT NULL THEN _rank END)')} AS {c}"
        for c in MEMBER_ACCOUNT.column_names
    )
    return f"SELECT {cols} FROM ({ranked}) AS r GROUP BY account_key"


# ---------------------------------------------------------------- keyed entities (warehouse/keyed.py)


def keyed_merge_sql(
    table: Table, key: str, version: str | None, cur: str, candidates: str, affected: str
) -> str:
    """New state of every affected key of a keyed table: the row with the latest ``version`` wins
    (ties and version-less entities: the highest raw record id), every raw record id is kept."""
    union = (
        f"SELECT {_cols(table)} FROM {rows_of(cur, key, affected)} "
        f"UNION ALL SELECT {_cols(table)} FROM {candidates}"
    )
    order = f"{version} DESC NULLS LAST, " if version else ""
    cols = ", ".join("v.raw_record_ids" if c == "raw_record_ids" else f"w.{c}" for c in table.column_names)
    return (
        f"SELECT {cols} FROM (\n"
        f"  SELECT * FROM ({union}) AS u\n"
        f"  QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {order}list_max(raw_record_ids) DESC) = 1"
        f") AS w\n"
        f"JOIN (SELECT {key}, {ids_union_sql('raw_record_ids')} AS raw_record_ids\n"
        f"      FROM ({union}) AS a GROUP BY {key}) AS v ON v.{key} = w.{key}"
    )
