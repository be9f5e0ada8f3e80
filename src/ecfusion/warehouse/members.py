"""``unified.member``: one row per CRM member of the merchant's loyalty programme — its card, the
level its points reach, its points balance from the ledger, registration and last activity
(standard 6.1.2 a 会员与用户: 会员等级; 5.3.1.2; issue 3 Build items 1, 5).

Inputs, all already merged by the same run: the CRM member accounts (``unified.member_account``
rows ``crm:<member_id>``, from ``pipeline._Run.members``), the points ledger
(``unified.points_entry``) and the programme's levels (``unified.member_level``), both from
``warehouse/keyed.py``. Incremental: only the members whose record or ledger entries arrived in
this run are recomputed — every member when the level rules changed — each from its whole ledger
after the merge, so re-running a run changes nothing. A ledger entry of a member the CRM has not
delivered yet waits in ``points_entry``; the member row appears with the member record.

Everything is SQL through the ``Engine`` seam (DuckDB dialect, transpiled for Spark).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecfusion.engine import Engine
from ecfusion.model.tables import MEMBER
from ecfusion.warehouse import merge
from ecfusion.warehouse.from_orders import Write

PLATFORM = "crm"  # the loyalty programme's system: member keys are crm:<member_id> (contracts §4)
# the warehouse tables this step reads as ``cur_<name>`` besides member_account (the pipeline exposes them)
TABLES_READ = ("member", "points_entry", "member_level")
# a negative change whose reason says so is points lost to expiry, any other is points redeemed
EXPIRY = "(COALESCE(reason, '') LIKE '%过期%' OR lower(COALESCE(reason, '')) LIKE '%expir%')"


@dataclass(frozen=True)
class MemberInputs:
    """Which member inputs this run merged; the relations each step left on the engine:
    members → ``stg_members``, ``acc_members``, ``chg_members``, ``aff_members``;
    ledger → ``cand_points_ledger``, ``chg_points_ledger``, ``aff_points_ledger``;
    levels → ``chg_member_levels``, ``aff_member_levels``."""

    members: bool = False
    ledger: bool = False
    levels: bool = False

    @property
    def any(self) -> bool:
        return self.members or self.ledger or self.levels


def _after(ran: bool, cur: str, changed: str, affected: str, key: str) -> str:
    """A table's state after this run's merge (its current state when the step did not run)."""
    return merge.after_merge_sql(cur, changed, affected, key) if ran else f"SELECT * FROM {cur}"


def affected_members_sql(inputs: MemberInputs, accounts: str) -> str:
    """Member keys to recompute: members whose record or ledger entries changed (every member when
    the level rules changed), restricted to members the CRM has delivered (``accounts``)."""
    parts = []
    if inputs.members:
        parts.append("SELECT account_key FROM aff_members")
    if inputs.ledger:
        parts.append(
            "SELECT account_key FROM cur_points_entry WHERE entry_key IN (SELECT entry_key FROM "
            "aff_points_ledger) UNION ALL SELECT account_key FROM cand_points_ledger"
        )
    if inputs.levels:
        parts.append(f"SELECT account_key FROM {accounts} WHERE (SELECT count(*) FROM aff_member_levels) > 0")
    union = " UNION ALL ".join(parts)
    return (
        f"SELECT DISTINCT account_key AS member_key FROM ({union}) AS a "
        f"WHERE account_key IN (SELECT account_key FROM {accounts})"
    )


def points_sql(ledger: str, affected: str) -> str:
    """Per affected member: balance, earned / spent / expired split, entry count, last entry time."""
    expired, spent = f"change_points < 0 AND {EXPIRY}", f"change_points < 0 AND NOT {EXPIRY}"
    return (
        "SELECT account_key AS member_key, sum(change_points) AS points_balance,\n"
        "  sum(CASE WHEN change_points > 0 THEN change_points ELSE 0 END) AS points_earned,\n"
        f"  sum(CASE WHEN {spent} THEN -change_points ELSE 0 END) AS points_spent,\n"
        f"  sum(CASE WHEN {expired} THEN -change_points ELSE 0 END) AS points_expired,\n"
        "  count(*) AS points_entries, max(created_at) AS last_entry_at,\n"
        f"  {merge.ids_union_sql('raw_record_ids')} AS raw_record_ids\n"
        f"FROM {ledger} WHERE account_key IN (SELECT member_key FROM {affected}) GROUP BY account_key"
    )


def latest_cards_sql() -> str:
    """Source of each member's latest CRM record accepted in this run (its card is the account's)."""
    return (
        "SELECT s.account_key, s.source, s.modified_at FROM stg_members AS s\n"
        "JOIN acc_members AS a ON a.raw_record_id = s.raw_record_id AND a.raw_file = s.raw_file\n"
        f"WHERE s.platform = '{PLATFORM}'\n"
        "QUALIFY row_number() OVER (PARTITION BY s.account_key ORDER BY s.modified_at DESC NULLS LAST,"
        " s.raw_record_id DESC) = 1"
    )


def _newer(column: str) -> str:
    """This run's value when its record is not older than the one the member row has, else the
    current value; either falls back to the other when missing."""
    return (
        "CASE WHEN n.account_key IS NOT NULL AND (c.updated_at IS NULL OR n.modified_at >= c.updated_at)"
        f" THEN COALESCE(n.{column}, c.{column}) ELSE COALESCE(c.{column}, n.{column}) END"
    )


def changed_members_sql(accounts: str, points: str, levels: str, cards: str, affected: str) -> str:
    """New ``unified.member`` rows of the affected members; the level is the one with the highest
    ``min_points`` the balance reaches (none when the programme's levels are not loaded)."""
    balance = "COALESCE(p.points_balance, 0)"
    none = "CAST([] AS VARCHAR[])"
    # lineage: the member's CRM records, its ledger entries and the record of the level it reached
    both = f"list_concat(a.raw_record_ids, COALESCE(p.raw_record_ids, {none}))"
    ids = f"list_sort(list_distinct(list_concat({both}, COALESCE(l.raw_record_ids, {none}))))"
    cols = {
        "member_key": "a.account_key",
        "source": _newer("source"),
        "member_id": "a.platform_account_id",
        # the account's: one card in both tables, merged by the account's rule (latest record, ties
        # by raw id), whatever order the records arrive in
        "card_no": "a.card_no",
        "level_code": "l.level_code",
        "level_name": "l.level_name",
        "points_balance": balance,
        "points_earned": "COALESCE(p.points_earned, 0)",
        "points_spent": "COALESCE(p.points_spent, 0)",
        "points_expired": "COALESCE(p.points_expired, 0)",
        "points_entries": "COALESCE(p.points_entries, 0)",
        "phone_bidx": "a.phone_bidx",
        "registered_at": "a.first_seen_at",
        "updated_at": "a.last_seen_at",
        "last_activity_at": "greatest(a.last_seen_at, p.last_entry_at)",
        "raw_record_ids": ids,
    }
    select = ", ".join(f"{cols[c]} AS {c}" for c in MEMBER.column_names)
    return (
        f"SELECT {select}\n"
        f"FROM {accounts} AS a JOIN {affected} AS k ON k.member_key = a.account_key\n"
        f"LEFT JOIN {points} AS p ON p.member_key = a.account_key\n"
        f"LEFT JOIN {cards} AS n ON n.account_key = a.account_key\n"
        "LEFT JOIN cur_member AS c ON c.member_key = a.account_key\n"
        f"LEFT JOIN {levels} AS l ON l.min_points <= {balance}\n"
        "QUALIFY row_number() OVER (PARTITION BY a.account_key ORDER BY l.min_points DESC NULLS LAST,"
        " l.level_code DESC) = 1"
    )


def run_members(engine: Engine, inputs: MemberInputs) -> list[Write]:
    """Register the member stages on ``engine`` after the member, ledger and level merges of this
    run; returns the write that replaces the affected members (none when no input ran)."""
    if not inputs.any:
        return []
    e = engine
    accounts = _after(inputs.members, "cur_member_account", "chg_members", "aff_members", "account_key")
    e.materialize("mbr_accounts", f"SELECT * FROM ({accounts}) AS a WHERE platform = '{PLATFORM}'")
    e.view(
        "mbr_ledger",
        _after(inputs.ledger, "cur_points_entry", "chg_points_ledger", "aff_points_ledger", "entry_key"),
    )
    e.view(
        "mbr_levels",
        _after(inputs.levels, "cur_member_level", "chg_member_levels", "aff_member_levels", "level_code"),
    )
    e.materialize("mbr_aff", affected_members_sql(inputs, "mbr_accounts"))
    e.materialize("mbr_points", points_sql("mbr_ledger", "mbr_aff"))
    if inputs.members:
        e.materialize("mbr_cards", latest_cards_sql())
    else:
        e.view(
            "mbr_cards",
            "SELECT CAST(NULL AS VARCHAR) AS account_key, CAST(NULL AS VARCHAR) AS source, "
            "CAST(NULL AS TIMESTAMP) AS modified_at WHERE 1 = 0",
        )
    e.materialize(
        "chg_member", changed_members_sql("mbr_accounts", "mbr_points", "mbr_levels", "mbr_cards", "mbr_aff")
    )
    return [Write("chg_member", MEMBER.qualified, "member_key", "mbr_aff")]
