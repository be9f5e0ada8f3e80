"""What follows from changed orders, whichever source they came from (platform APIs, POS sales):
their payments, the buyers' member accounts, the listings their lines name, and the quality flags
of both.

``derive`` registers the stages on the engine under names prefixed with ``tag`` (so two order
sources can derive in one run) and returns the writes that apply them. ``Write`` is the one
description of a planned write every warehouse step returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecfusion.engine import Engine
from ecfusion.standardize.sqlgen import lit
from ecfusion.warehouse import merge


@dataclass(frozen=True)
class Write:
    """Rows of ``relation`` go into warehouse table ``target``; if ``key`` is given, rows whose key
    is in ``keys`` are deleted first (a merge replaces exactly the keys the run touched), of those
    only the rows ``scope`` (SQL over ``target``'s columns) holds for: in a table that rows of
    several tables go into, keyed by each one's own keys, the rows of the tables the write is for."""

    relation: str
    target: str
    key: str | None = None
    keys: str | None = None
    scope: str | None = None

    def replaces(self, keys: str | None = None) -> str | None:
        """SQL over ``target``'s rows: those the write replaces (deleted before its rows go in), the
        replaced keys read from ``keys`` (default ``self.keys``: an engine's name may differ from the
        warehouse's); None when the write replaces nothing (it only appends)."""
        if self.key is None or self.keys is None:
            return None
        named = f"{self.key} IN (SELECT {self.key} FROM {keys or self.keys})"
        return f"{named} AND ({self.scope})" if self.scope else named


def flag_write(relation: str, keys: str, *tables: str) -> Write:
    """The write of the ``unified.quality_flag`` rows ``relation`` of unified ``tables``, replacing
    the flags of the row keys ``keys`` in those tables alone: a refund and an order may share a key
    (``taobao:1001``), and a refund's flags written again must leave the order's."""
    named = ", ".join(lit(t) for t in tables)
    return Write(relation, "unified.quality_flag", "row_key", keys, scope=f"table_name IN ({named})")


def derive(
    e: Engine, tag: str, orders: str, lines: str, stale: str, *, payment_method: str = "platform_escrow"
) -> list[Write]:
    """Payments, accounts, listings and flags after this run's ``orders`` / ``lines`` (their new
    state) replace the current rows of the order keys in ``stale``. ``payment_method``: how the
    source's orders are paid ('platform_escrow' online, 'in_store' at a till)."""
    e.view(f"{tag}chg_payment", merge.payment_sql(orders, payment_method))
    e.view(f"{tag}all_orders", merge.after_merge_sql("cur_orders", orders, stale, "order_key"))
    e.view(f"{tag}all_lines", merge.after_merge_sql("cur_order_line", lines, stale, "order_key"))
    _accounts(e, tag, orders, stale)
    e.materialize(f"{tag}aff_listings", merge.affected_listings_sql("cur_order_line", lines, stale))
    # Listings: every affected key something still names — an order line, or the product feed (a
    # key whose last line went away stays while the feed has it, as a rebuild keeps it); a key
    # neither names any more is deleted by the write. A feed the run changes is overlaid after.
    of = f"WHERE listing_key IN (SELECT listing_key FROM {tag}aff_listings)"
    lines_of, feed_of = f"(SELECT * FROM {tag}all_lines {of})", f"(SELECT * FROM cur_listing_feed {of})"
    e.materialize(f"{tag}chg_listing", merge.listing_sql(lines_of, f"{tag}all_orders", feed_of, full=True))
    e.materialize(f"{tag}old_flag_keys", merge.old_flag_keys_sql("cur_order_line", stale))
    e.view(f"{tag}chg_quality_flag", merge.quality_flag_sql(lines, orders))
    return [
        Write(f"{tag}chg_payment", "unified.payment", "order_key", stale),
        Write(f"{tag}chg_member_account", "unified.member_account", "account_key", f"{tag}aff_accounts"),
        Write(f"{tag}chg_listing", "unified.listing", "listing_key", f"{tag}aff_listings"),
        flag_write(f"{tag}chg_quality_flag", f"{tag}old_flag_keys", "order_line", "orders"),
    ]


def _accounts(e: Engine, tag: str, orders: str, stale: str) -> None:
    """``<tag>chg_member_account`` and ``<tag>aff_accounts``: this run's orders aggregated per buyer,
    merged with the current account row (latest contact wins, first sighting and raw ids kept) —
    never a rescan of old orders. Only an account an order stopped naming (its key changed, e.g. a
    Pinduoduo phone key that became an open_address_id) is recomputed from the orders that still
    name it, and is gone when none does, as a rebuild would have it; when no key changed (nearly
    every run), the scan that finds those orders has nothing to look for."""
    cand, left, recounted, redone = (
        f"{tag}{n}" for n in ("cand_accounts", "left_accounts", "recounted", "recounted_keys")
    )
    e.materialize(cand, merge.member_account_sql(orders))
    e.materialize(left, left_accounts_sql("cur_orders", orders, stale))
    e.materialize(f"{tag}left_orders", orders_naming_sql("cur_orders", orders, stale, left))
    e.materialize(recounted, merge.member_account_sql(f"{tag}left_orders"))
    e.materialize(redone, recounted_keys_sql("cur_member_account", left, recounted))
    keys = [f"SELECT account_key FROM {r}" for r in (cand, redone)]
    e.materialize(f"{tag}aff_accounts", merge.touched_sql("account_key", keys))
    replaced = f"(SELECT * FROM {merge.rows_of(recounted, 'account_key', redone)}) AS replaced"
    e.materialize(
        f"{tag}chg_member_account",
        merge.merged_accounts_sql("cur_member_account", cand, replaced, from_orders=True),
    )


def left_accounts_sql(cur_orders: str, orders: str, stale: str) -> str:
    """The account each order in ``stale`` named before this run, where its new row (``orders``)
    names another or none, with the raw record ids the order gave it."""
    return (
        "SELECT c.account_key, c.raw_record_ids\n"
        "FROM (SELECT order_key, account_key, raw_record_ids\n"
        f"      FROM {merge.rows_of(cur_orders, 'order_key', stale)}) AS c\n"
        f"LEFT JOIN {orders} AS n ON n.order_key = c.order_key\n"
        "WHERE c.account_key IS NOT NULL AND c.account_key IS DISTINCT FROM n.account_key"
    )


def orders_naming_sql(cur_orders: str, orders: str, stale: str, accounts: str) -> str:
    """Every order that names an account in ``accounts`` once this run's ``orders`` replace the
    current rows of ``stale``. With no account to look for (no order changed its account), the
    semi-join's build side is empty and DuckDB skips the scan of the orders."""
    named = f"account_key IN (SELECT account_key FROM {accounts})"
    return (
        f"SELECT * FROM {cur_orders} WHERE {named} AND order_key NOT IN (SELECT order_key FROM {stale})\n"
        f"UNION ALL SELECT * FROM {orders} WHERE {named}"
    )


def recounted_keys_sql(cur_accounts: str, left: str, recounted: str) -> str:
    """The accounts in ``left`` whose row is replaced by its recount from orders (``recounted``; no
    row there: no order names it any more, the account goes): those whose every raw record id came
    from an order, the ones that left or the ones that stay. An account another source also made
    (a CRM member, an app user) keeps its row, the order that left included: its orders alone
    cannot say what that source showed."""
    ids = "SELECT account_key, unnest(raw_record_ids) AS raw_record_id FROM {}"
    known = merge.union_all([ids.format(left), ids.format(recounted)])
    mine = f"{cur_accounts} WHERE account_key IN (SELECT account_key FROM {left})"
    other = (
        f"SELECT a.account_key FROM ({ids.format(mine)}) AS a\n"
        f"LEFT JOIN (SELECT DISTINCT account_key, raw_record_id FROM ({known}) AS u) AS k\n"
        "  ON k.account_key = a.account_key AND k.raw_record_id = a.raw_record_id\n"
        "WHERE k.raw_record_id IS NULL"
    )
    return (
        f"SELECT DISTINCT account_key FROM {left}\n"
        f"WHERE account_key NOT IN (SELECT account_key FROM ({other}) AS o)"
    )
