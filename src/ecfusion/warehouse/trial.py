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

from ecfusion.config import Workspace
from ecfusion.errors import InputError
from ecfusion.lake import RawLake, ingest_files
from ecfusion.model.tables import TABLES
from ecfusion.standardize.mapping import Mapping, load_mappings
from ecfusion.standardize.targets import TARGETS
from ecfusion.warehouse.pipeline import run
from ecfusion.warehouse.snapshot import connect
from ecfusion.warehouse.summary import Reconciliation

# bookkeeping tables a trial does not show: the rows it made are in the others
_NOT_SHOWN = {"unified.quarantine", "unified.category", "unified.carrier", "meta.processed_file",
              "meta.run_reconciliation"}


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
        summary = run(ws, mappings={**load_mappings(), m.platform: m})
        total = landing.total
        trial = Trial(entity, total.landed, total.reasons, total.duplicates)
        trial.reconciliation = summary.reconciliation
        trial.flagged = summary.flagged_by_rule
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
