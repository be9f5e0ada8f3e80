"""A mapping tried on sample records before it meets real data (issue 3 Build item 2: a mapping
author's loop — write the file, see what it makes of a few records, fix, repeat).

``try_mapping`` lands the sample file in a throwaway workspace (the real landing: file readers,
encryption of personal fields, quarantine of unparseable bytes), runs the real warehouse run with
the shipped library plus the file under trial, and returns what came out: the unified rows of every
table the records reached, the quarantined records with their rule and reason, and the
reconciliation. Nothing of the caller's workspace is read or written.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ecfusion.config import Workspace
from ecfusion.errors import InputError
from ecfusion.interrupt import stoppable
from ecfusion.lake import RawLake, ingest_files
from ecfusion.model.tables import TABLES
from ecfusion.standardize.mapping import ITEM_PREFIX, Mapping, load_mappings
from ecfusion.standardize.sqlgen import lit
from ecfusion.standardize.targets import TARGETS
from ecfusion.warehouse.pipeline import run
from ecfusion.warehouse.snapshot import connect
from ecfusion.warehouse.summary import Reconciliation

# bookkeeping tables a trial does not show: the rows it made are in the others
_NOT_SHOWN = {"unified.quarantine", "unified.category", "unified.carrier", "meta.processed_file",
              "meta.run_reconciliation", "meta.run_mapping"}


@dataclass
class Trial:
    """What a mapping made of a sample: rows per unified table (first ``limit`` of each, as
    column → value dicts), quarantined records, the run's reconciliation and flags."""

    entity: str
    landed: int
    unparseable: dict[str, int]  # reason category → records quarantined at landing (malformed_json …)
    duplicates: int
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    quarantined: list[str] = field(default_factory=list)  # reasons, each starting with its rule
    reconciliation: list[Reconciliation] = field(default_factory=list)
    flagged: dict[str, int] = field(default_factory=dict)
    flagged_lines: dict[str, int] = field(default_factory=dict)  # order lines kept with a flag
    # fields whose every path is in none of the landed records ("orders.buyer_nickname (path buyer_nik)"):
    # a misspelt path reads NULL without an error; a field the sample's records lack reads NULL too
    absent: list[str] = field(default_factory=list)


def raw_entity_of(m: Mapping, entity: str | None) -> str:
    """The raw entity the sample holds: as given, else the mapping's only one."""
    entities = sorted({e for t in m.rules() if (e := TARGETS[t].raw_entity) is not None})
    if entity is not None:
        if entity not in entities:
            raise InputError(
                f"{m.platform}.toml maps no target of raw entity '{entity}'",
                hint=f"use one of: {', '.join(entities)}",
            )
        return entity
    if len(entities) != 1:
        raise InputError(
            f"{m.platform}.toml maps several raw entities: say which the sample holds",
            hint=f"--entity one of: {', '.join(entities)}",
        )
    return entities[0]


def try_mapping(m: Mapping, sample: Path, *, entity: str | None = None, limit: int = 5) -> Trial:
    """Land ``sample`` (any format ``ecfusion ingest files`` reads) as ``m.platform`` records of
    ``entity`` in a throwaway workspace and standardize it with ``m``."""
    entity = raw_entity_of(m, entity)
    if not sample.is_file():
        what = "is a folder" if sample.is_dir() else "does not exist"
        raise InputError(f"sample file {sample} {what}", hint="give a JSON, JSON lines, CSV or XML file")
    with tempfile.TemporaryDirectory(prefix="ecfusion-trial-") as tmp:
        ws = Workspace.init(Path(tmp) / "trial")
        with RawLake.open(ws, protect_workers=0) as lake:
            landing = ingest_files(lake, m.platform, [sample], entity=entity, platform=m.platform)
        total = landing.total
        summary = run(ws, mappings={**load_mappings(), m.platform: m})
        trial = Trial(entity, total.landed, total.reasons, total.duplicates)
        trial.absent = absent_fields(ws, m, entity)
        trial.reconciliation = summary.reconciliation
        trial.flagged = summary.flagged_by_rule
        trial.flagged_lines = summary.flagged_lines_by_rule
        con = connect(ws)
        try:
            for t in TABLES:
                if t.qualified in _NOT_SHOWN:
                    continue
                [(n,)] = con.execute(f"SELECT count(*) FROM {t.qualified}").fetchall()
                if n:
                    cur = con.execute(f"SELECT * FROM {t.qualified} ORDER BY ALL LIMIT {int(limit)}")
                    names = [d[0] for d in cur.description]
                    trial.counts[t.qualified] = int(n)
                    trial.rows[t.qualified] = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            reasons = con.execute("SELECT reason FROM unified.quarantine ORDER BY reason").fetchall()
            trial.quarantined = [str(reason) for (reason,) in reasons]
        finally:
            con.close()
    return trial


def _json_path(keys: str) -> str:
    """``$."a"."b"`` for the dotted ``keys`` (quoted: a key may be Chinese or hold spaces)."""
    return "$." + ".".join(f'"{k}"' for k in keys.split("."))


def _holds_value(path: str, items: str | None) -> str:
    """SQL: the record's ``payload`` holds a value (not JSON null) at ``path``; with ``items``, at
    ``path`` inside some element of the list at ``items``."""
    if items is None:
        return f"COALESCE(json_type(payload, {lit(_json_path(path))}) <> 'NULL', false)"
    found = f"json_extract(payload, {lit(_json_path(items) + '[*].' + _json_path(path)[2:])})"
    return f"COALESCE(len(list_filter({found}, lambda e: e::VARCHAR <> 'null')) > 0, false)"


def _where(path: str, items: str | None, per_item: bool) -> tuple[str, str | None]:
    """(path, list it is read in) of a field's ``path``: in every item of a line or parcel list, in
    the item list of a keyed target for an ``item.`` path, else in the record itself."""
    if per_item:
        return path, items
    if items is not None and path.startswith(ITEM_PREFIX):
        return path.removeprefix(ITEM_PREFIX), items
    return path, None


def absent_fields(ws: Workspace, m: Mapping, entity: str) -> list[str]:
    """Fields of ``m``'s targets of the raw ``entity`` whose every path is in none of the records
    landed in ``ws`` (a JSON ``null`` counts as absent), as "target.field (path …)"."""
    checks: list[tuple[str, str]] = []  # (label, SQL true when the record holds a value there)
    rules = m.rules()
    for target, rule in rules.items():
        # order lines and parcels are nested inside the orders' records (their raw_entity is None)
        inside_orders = TARGETS[target].raw_entity is None and "orders" in rules
        of_entity = TARGETS["orders"].raw_entity if inside_orders else TARGETS[target].raw_entity
        if of_entity != entity:
            continue
        per_item = inside_orders and rule.items is not None  # each path is read in every item
        for name, fr in rule.fields.items():
            held = [_holds_value(*_where(p, rule.items, per_item)) for p in fr.all_paths]
            if held:
                checks.append((f"{target}.{name} (path {', '.join(fr.all_paths)})", " OR ".join(held)))
    files = "[" + ", ".join(lit(str(p)) for p in (ws.lake_root / "raw").rglob("*.parquet")) + "]"
    if not checks or files == "[]":
        return []
    with stoppable(duckdb.connect()) as con:
        counts = con.execute(
            "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for _, c in checks)
            + f" FROM read_parquet({files}) WHERE TRY(json_valid(payload))"
        ).fetchone()
    assert counts is not None
    return [label for (label, _), n in zip(checks, counts, strict=True) if not n]
