"""Identifier hygiene: guards against identity-graph collapse (6.1.3; 7.4 "over-merging leaks data").

One test phone typed into a thousand orders, one store tablet used by every walk-in, one
"anonymous" nickname: linked naively, each fuses thousands of shoppers into one identity and
shows each one the others' orders. Before any rule, block or edge uses an identifier:

* **blocked values** — known junk (``00000000``, ``13800138000``-style test numbers,
  ``anonymous``) never link; phones and emails are compared by blind index, so the policy's
  plaintext junk is turned into blind indexes with the workspace key;
* **cardinality limits** — a value seen on more than ``k`` accounts stops linking (a family
  shares an address, a shop does not share a phone with 40 strangers);
* **identifier priority** — encoded in the rule order (``rules.RULES``) and in the graph stage,
  where weak identifiers (device, shared receiver) only link accounts whose names agree.

Unlike Segment Unify / RudderStack Profiles, whose limits silently drop the *newest* link, a
guarded value here is excluded for *every* account and reported (``GuardReport``), so the result
does not depend on arrival order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from ecfusion.interrupt import stoppable
from ecfusion.resolve.pii import FieldReader

DEFAULT_BLOCKED: dict[str, tuple[str, ...]] = {
    "phone": ("13800138000", "13900139000", "13000000000", "18888888888", "12345678901", "00000000000"),
    "email": ("test@test.com", "a@a.com", "null@null.com"),
    "nickname": ("anonymous", "匿名", "匿名用户", "null", "none", "test", "游客", "***"),
    "device": ("00000000", "0", "unknown", "null", "00000000-0000-0000-0000-000000000000"),
    "id_number": ("000000000000000000", "111111111111111111"),
}
DEFAULT_LIMITS: dict[str, int] = {
    "phone": 8,
    "phone_vis": 12,
    "email": 6,
    "id_number": 4,
    "address": 12,
    "device": 6,
    "nickname": 8,
}
_COLUMNS = {
    "phone": "phone_bidx",
    "email": "email_bidx",
    "id_number": "id_number_bidx",
    "address": "address_bidx",
    "nickname": "nickname",
}
_HASHED = {"phone", "email", "id_number"}


@dataclass(frozen=True)
class GuardPolicy:
    blocked: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_BLOCKED))
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))


@dataclass
class IdentifierGuard:
    """Which identifier values may link; ``allow(kind, value)`` returns the value or None."""

    excluded: dict[str, set[str]]
    reasons: dict[str, dict[str, int]]

    def allow(self, kind: str, value: str | None) -> str | None:
        if value is None or value in self.excluded.get(kind, ()):
            return None
        return value

    def report(self) -> dict[str, dict[str, int]]:
        """kind → {"blocked": n values, "over_limit": n values}."""
        return self.reasons


def _masked_visible(masked: str) -> str:
    return masked[:3] + masked[-4:]


def build_guard(
    accounts: pa.Table, reader: FieldReader | None, policy: GuardPolicy | None = None
) -> IdentifierGuard:
    """Compute the excluded values for ``accounts`` (a ``unified.member_account`` Arrow table)."""
    policy = policy or GuardPolicy()
    excluded: dict[str, set[str]] = {}
    reasons: dict[str, dict[str, int]] = {}
    for kind, values in policy.blocked.items():
        if kind in _HASHED:
            hashed = {reader.blind_index(kind, v) for v in values} if reader is not None else set()
            excluded.setdefault(kind, set()).update(hashed)
        else:
            excluded.setdefault(kind, set()).update(values)
        if kind == "phone":
            excluded.setdefault("phone_vis", set()).update(v[:3] + v[-4:] for v in values)
        reasons.setdefault(kind, {})["blocked"] = len(values)
    con = stoppable(duckdb.connect(":memory:"))
    con.register("acc", accounts)
    queries = {kind: f"select {col} as v from acc where {col} is not null" for kind, col in _COLUMNS.items()}
    queries["device"] = "select unnest(device_ids) as v from acc"
    queries["phone_vis"] = (
        "select substr(phone_masked, 1, 3) || substr(phone_masked, -4) as v "
        "from acc where length(phone_masked) = 11"
    )
    for kind, sql in queries.items():
        limit = policy.limits.get(kind)
        if limit is None:
            continue
        rows = con.execute(f"select v from ({sql}) group by v having count(*) > {int(limit)}").fetchall()
        excluded.setdefault(kind, set()).update(r[0] for r in rows)
        reasons.setdefault(kind, {})["over_limit"] = len(rows)
    con.close()
    return IdentifierGuard(excluded, reasons)
