"""The identity graph: edges → clusters → stable ids (6.1.3; 4.3.6 b "OneID").

Clustering is connected components built greedily from the strongest edge down (a reviewer's
confirmation, then strong-key rules, then weak graph identifiers, then similarity by descending
probability), refusing any union that would join two accounts known to be different: different ID
numbers, a reviewer's rejection, or an account a reviewer split out. So one wrong edge cannot
chain two people into one identity — over-merging is worse than under-merging.

Ids are deterministic and carried forward: a cluster keeps the id most of its accounts had in the
previous run's identity map; a new cluster's id is a hash of its oldest account's key. Every
change to a previous identity (merge, split, join of new accounts) is returned as an event.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

METHOD_PRIORITY = {"review": 0, "rule": 1, "graph": 2, "similarity": 3}


@dataclass
class Constraints:
    """Pairs that must never share a cluster, and per-account exclusive attributes."""

    cannot_link: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    exclusive: dict[str, str] = field(default_factory=dict)  # account → e.g. its ID number blind index
    isolated: set[str] = field(default_factory=set)

    def forbid(self, a: str, b: str) -> None:
        self.cannot_link[a].add(b)
        self.cannot_link[b].add(a)


class ConstrainedUnionFind:
    """Union–find whose sets remember their exclusive attributes and forbidden partners."""

    def __init__(self, constraints: Constraints) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        self.attrs: dict[str, set[str]] = {}
        self.c = constraints

    def add(self, key: str) -> None:
        if key not in self.parent:
            self.parent[key] = key
            self.members[key] = [key]
            attr = self.c.exclusive.get(key)
            self.attrs[key] = {attr} if attr else set()

    def find(self, key: str) -> str:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def conflict(self, ra: str, rb: str) -> bool:
        if ra in self.c.isolated or rb in self.c.isolated:
            return True
        if self.attrs[ra] and self.attrs[rb] and self.attrs[ra] != self.attrs[rb]:
            return True
        small, big = (ra, rb) if len(self.members[ra]) <= len(self.members[rb]) else (rb, ra)
        for m in self.members[small]:
            for other in self.c.cannot_link.get(m, ()):
                if other in self.parent and self.find(other) == big:
                    return True
        return False

    def union(self, a: str, b: str) -> bool:
        """Join the sets of a and b; False (and nothing changes) when they must stay apart."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.conflict(ra, rb):
            return False
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        self.attrs[ra] |= self.attrs.pop(rb)
        if rb in self.c.isolated:
            self.c.isolated.add(ra)
        return True


def cluster(
    keys: Iterable[str],
    edges: Iterable[tuple[str, str, str, float]],
    constraints: Constraints,
    seed_clusters: Iterable[list[str]] = (),
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Cluster ``keys``; edges are ``(left, right, method, weight)``. Returns key → root, refused edges.

    ``seed_clusters`` (incremental runs) are previous identities re-joined first, as if by one
    strong edge each, so new accounts attach to them without recomputing them.
    """
    uf = ConstrainedUnionFind(constraints)
    for k in keys:
        uf.add(k)
    for group in seed_clusters:
        for other in group[1:]:
            uf.union(group[0], other)
    refused: list[tuple[str, str]] = []
    ordered = sorted(edges, key=lambda e: (METHOD_PRIORITY.get(e[2], 9), -e[3]))
    for left, right, _method, _w in ordered:
        uf.add(left)
        uf.add(right)
        if not uf.union(left, right):
            refused.append((left, right))
    return {k: uf.find(k) for k in uf.parent}, refused


def stable_id(prefix: str, anchor_key: str) -> str:
    """A deterministic id derived from the cluster's oldest record key."""
    return f"{prefix}_{hashlib.blake2b(anchor_key.encode(), digest_size=8).hexdigest()}"


@dataclass(frozen=True)
class IdentityEvent:
    kind: str  # "merge" | "split" | "join"
    cluster_id: str
    other_id: str | None
    record_keys: tuple[str, ...]
    reason: str


def assign_ids(
    roots: Mapping[str, str], previous: Mapping[str, str], age: Mapping[str, object], prefix: str
) -> tuple[dict[str, str], list[IdentityEvent]]:
    """Map each cluster to a stable id, carrying previous ids forward; returns key → id and events."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key, root in roots.items():
        groups[root].append(key)
    claims: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for root, keys in groups.items():
        for prev_id, n in Counter(previous[k] for k in keys if k in previous).items():
            claims[prev_id].append((n, root))
    owned: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for prev_id, c in claims.items():
        n, root = max(c)
        owned[root].append((-n, prev_id))
    result: dict[str, str] = {}
    events: list[IdentityEvent] = []
    taken = set(previous.values())
    for root, keys in groups.items():
        mine = [p for _n, p in sorted(owned.get(root, []))]
        if mine:
            cid = mine[0]
            for absorbed in mine[1:]:
                events.append(
                    IdentityEvent("merge", cid, absorbed, tuple(sorted(keys)), "edge joined two identities")
                )
        else:
            anchor = min(keys, key=lambda k: (str(age.get(k, "")), k))
            cid = stable_id(prefix, anchor)
            n = 1
            while cid in taken:
                cid = stable_id(prefix, f"{anchor}#{n}")
                n += 1
            lost = {previous[k] for k in keys if k in previous}
            for old in sorted(lost):
                events.append(
                    IdentityEvent(
                        "split",
                        cid,
                        old,
                        tuple(sorted(k for k in keys if previous.get(k) == old)),
                        "accounts no longer linked to their identity",
                    )
                )
        taken.add(cid)
        joined = tuple(sorted(k for k in keys if k not in previous))
        if mine and joined:
            events.append(IdentityEvent("join", cid, None, joined, "new accounts joined an identity"))
        for k in keys:
            result[k] = cid
    return result, events
