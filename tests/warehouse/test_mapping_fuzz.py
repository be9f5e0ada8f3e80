"""Every shipped mapping against records a platform could send wrong: one clean record of each
(source, entity) of a simulated merchant, then once per JSON path in it that path removed, once its
value emptied ({}, [] or null), and once replaced by a value of another JSON type (an object for a
scalar, text for an object); and each scalar replaced in turn by odd values (blank, overflow,
full-width digits, impossible dates, very long text, a NUL …).

Whatever a record lacks or holds, a run must not fail, must balance, and must give every record it
quarantines a rule, a reason and the mapping; the clean records are unified. On the orders of the
four platforms, Spark quarantines the same records for the same reasons and unifies the same rows.
(Before: an order line with no id ended the run in a NOT NULL traceback; a line list that was no
list left the order without lines.)"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from rawzone import RawZone, landed_merchant, rows

from ecfusion import warehouse
from ecfusion.config import Workspace

Path_ = tuple[str | int, ...]
MUTATIONS = ("removed", "emptied", "retyped")
Kind = tuple[str, str, str, dict[str, Any]]  # (source, entity, platform, a clean record of it)


def paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every key path of a JSON value, and of the first element of each list (the element itself:
    a line that is a number, say; and each of its key paths)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list) and value:
        yield (*prefix, 0)
        yield from paths(value[0], (*prefix, 0))


def parent_of(record: Any, path: Path_) -> Any:
    """The object or list that holds the value at ``path``."""
    for key in path[:-1]:
        record = record[key]
    return record


def mutated(record: dict[str, Any], path: Path_, how: str) -> dict[str, Any]:
    out = copy.deepcopy(record)
    parent = parent_of(out, path)
    value = parent[path[-1]]
    if how == "removed":
        del parent[path[-1]]
    elif how == "emptied":  # an object without keys, an empty list, null
        parent[path[-1]] = {} if isinstance(value, dict) else [] if isinstance(value, list) else None
    else:  # another JSON type
        parent[path[-1]] = "text" if isinstance(value, dict) else {"x": 1}
    return out


@pytest.fixture(scope="module")
def clean_records(tmp_path_factory: pytest.TempPathFactory) -> list[Kind]:
    """(source, entity, platform, payload): one landed record of each kind a simulated merchant has."""
    ws = landed_merchant(tmp_path_factory.mktemp("merchant"), persons=200, days=30, seed=3, defects=0.0)
    files = [str(p) for p in sorted((ws.lake_root / "raw").rglob("*.parquet"))]
    found = duckdb.sql(
        f"SELECT source, entity, platform, arg_min(payload, raw_record_id) FROM read_parquet({files}, "
        "hive_partitioning = true) GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    return [(s, e, p, json.loads(payload)) for s, e, p, payload in found]


Record = dict[str, Any]


def land(ws: Workspace, records: list[Kind], variants: Callable[[Record], list[Record]]) -> int:
    """Each clean record and its ``variants``, one raw file per (source, entity), each record once
    (as landing writes them: two variants can give one record). Returns the variants landed."""
    raw, landed = RawZone(ws.lake_root), 0
    for source, entity, platform, record in records:
        once = list({RawZone.text(r): r for r in [record, *variants(record)]}.values())
        raw.add(platform, entity, once, source=source)
        landed += len(once) - 1
    return landed


def land_fuzz(ws: Workspace, records: list[Kind]) -> tuple[int, int]:
    """Each clean record and its structural mutations; (clean, mutated)."""
    return len(records), land(ws, records, lambda r: [mutated(r, p, h) for p in paths(r) for h in MUTATIONS])


def test_no_record_a_platform_sends_wrong_fails_a_run_or_goes_unexplained(
    tmp_path: Path, clean_records: list[Kind]
) -> None:
    assert len(clean_records) == 26  # every platform's orders, products, refunds; CRM, ERP, app, ads …
    ws = Workspace.init(tmp_path / "ws")
    clean, mutations = land_fuzz(ws, clean_records)
    assert mutations > 1_500
    s = warehouse.run(ws)
    assert s.unreadable_files == {}
    assert s.balanced and sum(r.raw_in for r in s.reconciliation) == clean + mutations
    unexplained = rows(ws, "SELECT count(*) FROM unified.quarantine WHERE rule IS NULL OR reason IS NULL "
                           "OR mapping IS NULL")
    assert unexplained == [(0,)]
    assert sum(s.quarantine_by_rule.values()) > 0  # the mutations are seen, not all taken as they are
    # the clean records are unified: the quarantined ones are mutations
    clean_ids = {RawZone.record_id(source, entity, record) for source, entity, _, record in clean_records}
    quarantined = {rid for (rid,) in rows(ws, "SELECT raw_record_id FROM unified.quarantine")}
    assert not clean_ids & quarantined


# values a platform or a hand-made export may put where any scalar goes: blank, signs, overflow,
# full-width digits, impossible dates, very long text, a NUL, booleans and large numbers
ODD_VALUES: list[Any] = [
    "", " ", "0", "-1", "99.5", "1e3", "1e309", "９９.００", "NaN", "2026-13-45 25:61:61", "x" * 5_000,
    "\u0000", "１３８００１３８０００", 1e308, -5, 2**70, True,
]
# Spark renders a JSON number that needs an exponent as text its own way (1.0E308, DuckDB 1e+308),
# so the parity check leaves such floats out
ODD_VALUES_BOTH_ENGINES = [v for v in ODD_VALUES if not isinstance(v, float)]


def with_value(record: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    parent_of(out, path)[path[-1]] = value
    return out


def land_odd_values(ws: Workspace, records: list[Kind], values: list[Any]) -> int:
    """Each clean record and, for each of its scalars, the record with that scalar set to each of
    ``values`` (``land``). Returns the records landed, clean ones included."""

    def odd(record: dict[str, Any]) -> list[dict[str, Any]]:
        scalars = [p for p in paths(record) if not isinstance(parent_of(record, p)[p[-1]], dict | list)]
        return [with_value(record, p, v) for p in scalars for v in values]

    return len(records) + land(ws, records, odd)


def test_no_odd_value_in_any_field_fails_a_run_or_goes_unexplained(
    tmp_path: Path, clean_records: list[Kind]
) -> None:
    ws = Workspace.init(tmp_path / "ws")
    landed = land_odd_values(ws, clean_records, ODD_VALUES)
    assert landed > 5_000
    s = warehouse.run(ws)
    assert s.unreadable_files == {} and s.balanced
    assert sum(r.raw_in for r in s.reconciliation) == landed
    assert rows(ws, "SELECT count(*) FROM unified.quarantine WHERE rule IS NULL OR reason IS NULL") == [(0,)]
    assert s.quarantine_by_rule.get("bad_value", 0) > 0  # the odd values are read, not passed through


def test_spark_quarantines_and_unifies_the_same_records_as_duckdb(
    tmp_path: Path, clean_records: list[Kind]
) -> None:
    """One run on each engine: every kind's structural mutations (a list's element retyped among
    them: before, DuckDB and Spark gave such orders different rules, and 5 products and traces
    records different reasons) and the orders' odd values. Both engines quarantine the same records
    for the same reasons, and unify the same orders, lines, parcels, refunds and listings."""
    orders = [r for r in clean_records if r[1] == "orders"]
    assert {r[2] for r in orders} == {"taobao", "jd", "pdd", "douyin"}
    duck = Workspace.init(tmp_path / "duck")
    land_fuzz(duck, clean_records)
    odd = Workspace.init(tmp_path / "odd")  # (in files of their own, beside the structural ones)
    land_odd_values(odd, orders, ODD_VALUES_BOTH_ENGINES)
    for f in (odd.lake_root / "raw").rglob("*.parquet"):
        target = duck.lake_root / f.relative_to(odd.lake_root)
        shutil.copy(f, target.with_name("odd-" + target.name))
    spark = Workspace.init(tmp_path / "spark")
    shutil.copytree(duck.lake_root / "raw", spark.lake_root / "raw")
    a, b = warehouse.run(duck, engine="duckdb"), warehouse.run(spark, engine="spark")
    assert a.balanced and a.reconciliation == b.reconciliation
    quarantined = "SELECT raw_record_id, entity, rule, reason FROM unified.quarantine ORDER BY ALL"
    assert len({e for _, e, _, _ in rows(duck, quarantined)}) > 5  # not the orders alone
    for sql in (
        quarantined,
        "SELECT * FROM unified.orders ORDER BY order_key",
        "SELECT * FROM unified.order_line ORDER BY line_key",
        "SELECT * FROM unified.shipment ORDER BY shipment_key",
        # reasons: a text no code names is the map's default, none given is none, on both
        "SELECT * FROM unified.refund ORDER BY refund_key",
        # a SKU's latest line: versions modified in the same second, told apart the same way
        "SELECT * FROM unified.listing ORDER BY listing_key",
    ):
        assert rows(duck, sql) == rows(spark, sql)
