"""Why two records are (or are not) one identity (6.1.3; 7 transparency of automated decisions).

For two account keys (or two listing keys): their one_id / std_sku_id, and the evidence — the
rule that fired, the match weight of each comparison, or the graph path of edges that joins them
— read from ``fused.member_link`` / ``fused.listing_link``, plus any reviewer decision and open
review item. Works on the stored run; needs no decryption.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass, field

import duckdb

from ecfusion.config import Workspace
from ecfusion.errors import InputError
from ecfusion.resolve import store
from ecfusion.resolve.ledger import Ledger

_KINDS = {
    "member": ("member", "account_key", "one_id", "member_link"),
    "product": ("listing", "listing_key", "std_sku_id", "listing_link"),
}
MAX_PATH = 12
_CONSTRAINTS = {"member": "different ID numbers", "product": "different barcodes or two SKUs of one item"}


@dataclass(frozen=True)
class Link:
    left: str
    right: str
    method: str
    reason: str
    weight: float
    evidence: dict[str, object]


@dataclass
class Explanation:
    entity: str
    left: str
    right: str
    left_id: str
    right_id: str
    path: list[Link] = field(default_factory=list)
    direct: list[Link] = field(default_factory=list)
    review: list[dict[str, object]] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return self.left_id == self.right_id

    def verdict(self) -> str:
        if self.same and self.direct:
            return (
                f"same identity {self.left_id}: linked directly "
                f"({', '.join(link.reason for link in self.direct)})"
            )
        if self.same:
            return f"same identity {self.left_id}: joined through a path of {len(self.path)} links"
        if self.direct:
            return (
                f"different identities ({self.left_id} vs {self.right_id}): an edge exists but a constraint "
                f"kept them apart ({_CONSTRAINTS[self.entity]}, a reviewer's rejection or a split)"
            )
        return (
            f"different identities ({self.left_id} vs {self.right_id}): no rule fired and similarity "
            f"stayed below the match threshold"
        )


def _id_of(con: duckdb.DuckDBPyConnection, table: str, key_col: str, id_col: str, key: str) -> str:
    row = con.execute(f"select {id_col} from fused.{table} where {key_col} = ?", [key]).fetchall()
    if not row:
        raise InputError(
            f"{key!r} is not a resolved record key",
            hint=f"use a {key_col} such as 'taobao:123'; run `ecfusion er run` first",
        )
    return str(row[0][0])


def _links(con: duckdb.DuckDBPyConnection, table: str, where: str, params: list[str]) -> list[Link]:
    rows = con.execute(
        f"select left_key, right_key, method, reason, weight, evidence from fused.{table} where {where}",
        params,
    ).fetchall()
    return [
        Link(a, b, m, r, float(w), json.loads(e or "{}") if (e or "").startswith("{") else {"key": e})
        for a, b, m, r, w, e in rows
    ]


def _path(links: list[Link], start: str, goal: str) -> list[Link]:
    adj: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        adj[link.left].append(link)
        adj[link.right].append(link)
    prev: dict[str, Link | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for link in adj[node]:
            other = link.right if link.left == node else link.left
            if other not in prev:
                prev[other] = link
                queue.append(other)
    if goal not in prev:
        return []
    out: list[Link] = []
    node = goal
    step = prev[node]
    while step is not None:
        out.append(step)
        node = step.right if step.left == node else step.left
        step = prev[node]
    return list(reversed(out))[:MAX_PATH]


def explain(workspace: Workspace, left: str, right: str, *, entity: str = "member") -> Explanation:
    """Are ``left`` and ``right`` the same identity, and why."""
    if entity not in _KINDS:
        raise InputError(f"unknown entity {entity!r}", hint="use 'member' or 'product'")
    table, key_col, id_col, link_table = _KINDS[entity]
    with store.connect(workspace, read_only=True) as con:
        if not store.has_table(con, "fused", table):
            raise InputError(f"fused.{table} does not exist", hint="run `ecfusion er run` first")
        left_id = _id_of(con, table, key_col, id_col, left)
        right_id = _id_of(con, table, key_col, id_col, right)
        ex = Explanation(entity, left, right, left_id, right_id)
        ex.direct = _links(
            con,
            link_table,
            "(left_key = ? and right_key = ?) or (left_key = ? and right_key = ?)",
            [left, right, right, left],
        )
        if ex.same and not ex.direct:
            ex.path = _links(
                con,
                link_table,
                f"left_key in (select {key_col} from fused.{table} where {id_col} = ?)",
                [left_id],
            )
            ex.path = _path(ex.path, left, right)
    lo, hi = sorted((left, right))
    ex.review = [
        {"status": r.status, "score": r.score}
        for r in Ledger(workspace.control_url).reviews(entity, status=None, limit=10_000)
        if (r.left_key, r.right_key) == (lo, hi)
    ]
    return ex
