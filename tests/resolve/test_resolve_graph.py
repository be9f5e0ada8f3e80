"""The identity graph: constrained clustering and stable ids with merge/split/join events."""

from __future__ import annotations

from ecfusion.resolve.graph import Constraints, assign_ids, cluster, stable_id


def groups(roots: dict[str, str]) -> set[frozenset[str]]:
    out: dict[str, set[str]] = {}
    for k, r in roots.items():
        out.setdefault(r, set()).add(k)
    return {frozenset(v) for v in out.values()}


def test_one_wrong_edge_cannot_chain_two_people_with_different_id_numbers() -> None:
    c = Constraints(exclusive={"a1": "ID_A", "b1": "ID_B"})
    edges = [("a1", "a2", "rule", 1.0), ("b1", "b2", "rule", 1.0), ("a2", "b2", "similarity", 0.995)]
    roots, refused = cluster(["a1", "a2", "b1", "b2"], edges, c)
    assert groups(roots) == {frozenset({"a1", "a2"}), frozenset({"b1", "b2"})}
    assert refused == [("a2", "b2")]


def test_reviewer_rejection_beats_similarity_but_not_the_other_way() -> None:
    c = Constraints()
    c.forbid("x", "y")
    roots, _ = cluster(["x", "y", "z"], [("x", "z", "similarity", 0.999), ("z", "y", "similarity", 0.999)], c)
    assert roots["x"] != roots["y"]


def test_split_account_stays_alone() -> None:
    c = Constraints(isolated={"b"})
    roots, _ = cluster(["a", "b", "c"], [("a", "b", "rule", 1.0), ("b", "c", "rule", 1.0)], c)
    assert groups(roots) == {frozenset({"a"}), frozenset({"b"}), frozenset({"c"})}


def test_strong_edges_win_over_weak_when_constraints_compete() -> None:
    c = Constraints()
    c.forbid("a", "c")
    # the weak edge a–c would be first in input order; the rule edge b–c must still be kept
    edges = [("a", "b", "similarity", 0.999), ("b", "c", "rule", 1.0)]
    roots, refused = cluster(["a", "b", "c"], edges, c)
    assert roots["b"] == roots["c"] and roots["a"] != roots["b"]
    assert refused == [("a", "b")]


def test_new_cluster_id_is_a_hash_of_the_oldest_account() -> None:
    ids, events = assign_ids({"a": "r", "b": "r"}, {}, {"a": "2025-02-01", "b": "2025-01-01"}, "oid")
    assert ids == {"a": stable_id("oid", "b"), "b": stable_id("oid", "b")}
    assert events == []


def test_ids_carry_forward_and_new_accounts_join() -> None:
    previous = {"a": "oid_1", "b": "oid_1"}
    ids, events = assign_ids({"a": "r", "b": "r", "n": "r"}, previous, {}, "oid")
    assert set(ids.values()) == {"oid_1"}
    assert [(e.kind, e.record_keys) for e in events] == [("join", ("n",))]


def test_merge_keeps_the_bigger_identity_and_records_the_absorbed_one() -> None:
    previous = {"a": "oid_1", "b": "oid_1", "c": "oid_2"}
    ids, events = assign_ids({"a": "r", "b": "r", "c": "r"}, previous, {}, "oid")
    assert set(ids.values()) == {"oid_1"}
    assert [(e.kind, e.cluster_id, e.other_id) for e in events] == [("merge", "oid_1", "oid_2")]


def test_split_keeps_the_id_on_the_majority_and_records_the_split() -> None:
    previous = {"a": "oid_1", "b": "oid_1", "c": "oid_1"}
    ids, events = assign_ids({"a": "r1", "b": "r1", "c": "r2"}, previous, {}, "oid")
    assert ids["a"] == ids["b"] == "oid_1" and ids["c"] != "oid_1"
    assert [(e.kind, e.other_id, e.record_keys) for e in events] == [("split", "oid_1", ("c",))]
