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
from ecfusion.warehouse import merge


@dataclass(frozen=True)
class Write:
    """Rows of ``relation`` go into warehouse table ``target``; if ``key`` is given, rows whose key
    is in ``keys`` are deleted first (a merge replaces exactly the keys the run touched)."""

    relation: str
    target: str
    key: str | None = None
    keys: str | None = None


def derive(
    e: Engine, tag: str, orders: str, lines: str, stale: str, *, payment_method: str = "platform_escrow"
) -> list[Write]:
    """Payments, accounts, listings and flags after this run's ``orders`` / ``lines`` (their new
    state) replace the current rows of the order keys in ``stale``. ``payment_method``: how the
    source's orders are paid ('platform_escrow' online, 'in_store' at a till)."""
    e.view(f"{tag}chg_payment", merge.payment_sql(orders, payment_method))
    e.view(f"{tag}all_orders", merge.after_merge_sql("cur_orders", orders, stale, "order_key"))
    e.view(f"{tag}all_lines", merge.after_merge_sql("cur_order_line", lines, stale, "order_key"))
    # Accounts: this run's orders aggregated per buyer, then merged with the current account row
    # (latest contact wins, first sighting and raw ids kept) — never a rescan of old orders.
    e.materialize(f"{tag}cand_accounts", merge.member_account_sql(orders))
    e.materialize(f"{tag}aff_accounts", merge.affected_sql(f"{tag}cand_accounts", "account_key"))
    e.materialize(
        f"{tag}chg_member_account", merge.merged_accounts_sql("cur_member_account", f"{tag}cand_accounts")
    )
    e.materialize(f"{tag}aff_listings", merge.affected_listings_sql("cur_order_line", lines, stale))
    lines_of = (
        f"(SELECT * FROM {tag}all_lines WHERE listing_key IN (SELECT listing_key FROM {tag}aff_listings))"
    )
    e.materialize(f"{tag}chg_listing", merge.listing_sql(lines_of, f"{tag}all_orders"))
    e.materialize(f"{tag}old_flag_keys", merge.old_flag_keys_sql("cur_order_line", stale))
    e.view(f"{tag}chg_quality_flag", merge.quality_flag_sql(lines, orders))
    return [
        Write(f"{tag}chg_payment", "unified.payment", "order_key", stale),
        Write(f"{tag}chg_member_account", "unified.member_account", "account_key", f"{tag}aff_accounts"),
        Write(f"{tag}chg_listing", "unified.listing", "listing_key", f"{tag}aff_listings"),
        Write(f"{tag}chg_quality_flag", "unified.quality_flag", "row_key", f"{tag}old_flag_keys"),
    ]
