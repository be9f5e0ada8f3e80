"""Reconciliation on the defect-injected simulated merchant (issue 3 "Must show").

Every injected defect in truth/defects.csv (orders, POS sales, app events, …) is accounted for
by kind: landing takes exact duplicates and unparseable bytes; standardization quarantines missing_required,
unknown_status and test_order and flags (keeps) price_out_of_range and mixed_timezone.
No clean record is quarantined.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from rawzone import landed_merchant

from ecfusion import warehouse

QUARANTINED = {"missing_required", "unknown_status", "test_order"}
FLAGGED = {"price_out_of_range", "mixed_timezone"}


@pytest.mark.slow
def test_every_injected_order_defect_is_accounted_for(tmp_path: Path) -> None:
    ws = landed_merchant(tmp_path, persons=400, days=30, seed=11, defects=0.05)
    sources = tmp_path / "sources"
    summary = warehouse.run(ws)
    assert summary.balanced

    with open(sources / "truth" / "defects.csv", encoding="utf-8") as f:
        defects = [(r["entity"], r["kind"]) for r in csv.DictReader(f)]
    truth = Counter(kind for _, kind in defects)
    assert sum(truth[k] for k in QUARANTINED | FLAGGED) > 10, truth
    # rule defects sit in orders and app events here (POS rule defects: tests/warehouse/test_keyed.py)
    assert {e for e, k in defects if k in QUARANTINED | FLAGGED} >= {"orders", "events"}
    for kind in QUARANTINED:
        assert summary.quarantine_by_rule.get(kind, 0) == truth[kind], kind
    for kind in FLAGGED:
        assert summary.flagged_by_rule.get(kind, 0) == truth[kind], kind
    # by entity too: each quarantined record is the defect injected into that entity
    con = warehouse.connect(ws)
    by_entity = Counter(dict(((e, r), n) for e, r, n in con.execute(
        "SELECT entity, rule, count(*) FROM unified.quarantine GROUP BY ALL").fetchall()))
    con.close()
    assert by_entity == Counter((e, k) for e, k in defects if k in QUARANTINED)
    # nothing else was quarantined: no clean record lost
    assert sum(summary.quarantine_by_rule.values()) == sum(truth[k] for k in QUARANTINED)
    assert not summary.pending_reasons
