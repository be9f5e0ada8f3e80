"""Deterministic and graph edges between member accounts (6.1.3 "rule matching"; identity graph).

Rules match strong keys on blind indexes, never on plaintext: name + phone, name + ID number,
name + email, the same platform open/union id seen in two shops, the same loyalty card (a CRM
member and the store sales on that card), the same mini-program openid (an app user and the CRM
member bound to it), and a phone the merchant's own systems verified — a CRM/POS card registered
with it, a mini-program user who signed in with it — that is another account's phone. Graph edges
use weaker identifiers — a shared device, a shared receiver phone + address, the visible digits of
a masked phone in the same district, the same full name at the same street address (every number
equal) — and only link accounts whose names do not disagree, because a family shares a tablet and
an address but is not one person. All SQL is DuckDB dialect over the in-memory feature table ``f``
(``features.FEATURE_COLUMNS``); every edge row carries the rule name and its evidence (which key
values agreed, as blind indexes).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

# The same place: same city, and the same district unless one side does not say.
SAME_PLACE = """(l.city = r.city and (l.district = r.district or l.district is null or r.district is null))"""

# The same street address up to typos (解放露 for 解放路): every number equal (street number,
# building, unit, room — neighbours differ only there), the rest nearly equal.
SAME_DETAIL = """(l.address_numbers = r.address_numbers
    and jaro_winkler_similarity(l.address_detail, r.address_detail) >= 0.9)"""

# Sources whose phone the merchant verified itself (SMS code at card registration, WeChat login).
VERIFIED_PHONE = "('crm', 'pos', 'app')"

SURNAMES_AGREE = "(l.surname is null or r.surname is null or l.surname = r.surname)"

NAMES_AGREE = """(
    l.name_simp is null or r.name_simp is null or l.name_pinyin = r.name_pinyin
    or jaro_winkler_similarity(l.name_simp, r.name_simp) >= 0.75)"""


@dataclass(frozen=True)
class EdgeRule:
    name: str
    method: str  # "rule" (strong key) or "graph" (weak identifier, guarded by name agreement)
    join: str
    condition: str
    evidence: str


RULES: tuple[EdgeRule, ...] = (
    EdgeRule(
        "name+phone",
        "rule",
        "l.phone_bidx = r.phone_bidx",
        "l.name_bidx = r.name_bidx",
        "'phone_bidx=' || l.phone_bidx",
    ),
    EdgeRule(
        "name+id_number",
        "rule",
        "l.id_number_bidx = r.id_number_bidx",
        "l.name_bidx = r.name_bidx",
        "'id_number_bidx=' || l.id_number_bidx",
    ),
    EdgeRule(
        "name+email",
        "rule",
        "l.email_bidx = r.email_bidx",
        "l.name_bidx = r.name_bidx",
        "'email_bidx=' || l.email_bidx",
    ),
    EdgeRule(
        "name+address",
        "rule",
        "l.address_bidx = r.address_bidx",
        "l.name_bidx = r.name_bidx",
        "'address_bidx=' || l.address_bidx",
    ),
    EdgeRule(
        "platform_union_id",
        "rule",
        "l.platform = r.platform and l.platform_account_id = r.platform_account_id",
        "true",
        "'platform_account_id=' || l.platform || ':' || l.platform_account_id",
    ),
    EdgeRule(
        # the merchant's own loyalty card: a CRM member and the store sales made on that card
        "loyalty_card",
        "rule",
        "l.card_no = r.card_no",
        "true",
        "'card_no=' || l.card_no",
    ),
    EdgeRule(
        # the brand's mini-program: an app user and the CRM member bound to the same openid
        "wechat_openid",
        "rule",
        "l.wechat_openid = r.wechat_openid",
        "true",
        "'wechat_openid=' || l.wechat_openid",
    ),
    EdgeRule(
        # a phone the merchant's own systems verified by SMS or WeChat's phone-number login: the
        # loyalty card's (CRM, POS) or the mini-program user's (app)
        "verified_phone",
        "rule",
        "l.phone_bidx = r.phone_bidx",
        f"(l.platform in {VERIFIED_PHONE} or r.platform in {VERIFIED_PHONE}) and {NAMES_AGREE}",
        "'phone_bidx=' || l.phone_bidx",
    ),
    EdgeRule(
        # Douyin and masked exports show 138****5678 only: the visible seven digits in the same
        # district link when the names do not disagree (the guard drops digits shared widely).
        "masked_phone+place",
        "graph",
        "l.phone_vis = r.phone_vis and (l.phone_bidx is null or r.phone_bidx is null)",
        f"{SAME_PLACE} and {NAMES_AGREE} and {SURNAMES_AGREE}",
        "'phone_vis=' || l.phone_vis || ' city=' || l.city",
    ),
    EdgeRule(
        # a second phone, a reformatted address: the same full name at the same street address
        "name+address_detail",
        "graph",
        "l.name_simp = r.name_simp and l.city = r.city",
        f"(l.district = r.district or l.district is null or r.district is null) and {SAME_DETAIL}",
        "'name_bidx=' || l.name_bidx || ' city=' || l.city",
    ),
    EdgeRule(
        "receiver_phone+address",
        "graph",
        "l.phone_bidx = r.phone_bidx and l.address_bidx = r.address_bidx",
        NAMES_AGREE,
        "'phone_bidx=' || l.phone_bidx || ' address_bidx=' || l.address_bidx",
    ),
)

DEVICE_SQL = """
with d as (select unique_id, unnest(device_ids) as device from {table} where device_ids is not null)
select distinct least(a.unique_id, b.unique_id) as left_key, greatest(a.unique_id, b.unique_id) as right_key,
       'graph' as method, 'shared_device' as reason, 1.0 as weight, 'device=' || a.device as evidence
from d a join d b on a.device = b.device and a.unique_id < b.unique_id
join {table} l on l.unique_id = a.unique_id join {table} r on r.unique_id = b.unique_id
where ((l.name_simp is not null and r.name_simp is not null and l.name_pinyin = r.name_pinyin)
       or ((l.name_simp is null or r.name_simp is null) and l.phone_vis = r.phone_vis))
  {scope}
"""


def _rule_sql(rule: EdgeRule, table: str, scope: str) -> str:
    return f"""
select l.unique_id as left_key, r.unique_id as right_key, '{rule.method}' as method,
       '{rule.name}' as reason, 1.0 as weight, {rule.evidence} as evidence
from {table} l join {table} r on {rule.join} and l.unique_id < r.unique_id
where {rule.condition} {scope}"""


def edges_sql(table: str = "f", new_table: str | None = None) -> str:
    """All rule and graph edges; with ``new_table`` only pairs touching a new account."""
    scope = ""
    if new_table:
        scope = (
            f"and (l.unique_id in (select unique_id from {new_table}) "
            f"or r.unique_id in (select unique_id from {new_table}))"
        )
    parts = [_rule_sql(rule, table, scope) for rule in RULES]
    parts.append(
        DEVICE_SQL.format(
            table=table,
            scope=scope.replace("l.unique_id", "a.unique_id").replace("r.unique_id", "b.unique_id"),
        )
    )
    return "\nunion all\n".join(f"select * from ({part})" for part in parts)


def rule_edges(con: duckdb.DuckDBPyConnection, table: str = "f", new_table: str | None = None) -> pa.Table:
    """Run every rule on ``con`` and return the edges as Arrow (one row per pair and rule)."""
    return con.sql(edges_sql(table, new_table)).to_arrow_table()
