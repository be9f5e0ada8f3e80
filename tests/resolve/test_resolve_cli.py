"""`ecfusion er …` as a user meets it: evaluate, explain, review; bad input is one clear line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecfusion.cli import main
from ecfusion.resolve import Ledger, store

pytestmark = pytest.mark.slow


def test_evaluate_prints_scores_and_false_merges(resolved: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["er", "evaluate", "--truth", str(resolved.truth_dir), "-w", str(resolved.ws.root), "--json"])
        == 0
    )
    scores = json.loads(capsys.readouterr().out)
    assert scores["members"]["pairwise_precision"] >= 0.99
    assert {"pairwise_f1", "bcubed_f1", "worst_false_merges"} <= set(scores["products"])


def test_evaluate_says_when_truth_has_no_names_to_check_same_name_merges(
    resolved: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # the sample merchant's truth has accounts.csv and listings.csv, but no persons.jsonl
    assert main(["er", "evaluate", "--truth", str(resolved.truth_dir), "-w", str(resolved.ws.root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "same-name check skipped: the truth folder has no persons.jsonl" in out


def test_evaluate_lists_missed_pairs_with_their_evidence(resolved: Any) -> None:
    """Each listed missed pair is one true person in two identities, with what agreed between them."""
    from ecfusion.resolve import evaluate

    members = evaluate(resolved.ws, resolved.truth_dir)["members"]
    assert members.pairwise_recall < 1.0 and members.worst_missed_pairs
    with store.connect(resolved.ws, read_only=True) as con:
        ids = dict(con.sql("select account_key, one_id from fused.member").fetchall())
    for m in members.worst_missed_pairs:
        assert resolved.truth.accounts[m["left"]] == resolved.truth.accounts[m["right"]] == m["truth"]
        assert ids[m["left"]] != ids[m["right"]] and m["identities"] >= 2
        assert not set(m["agree"]) & set(m["disagree"])


def test_explain_prints_verdict_and_evidence(resolved: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with store.connect(resolved.ws, read_only=True) as con:
        a, b, reason = con.sql(
            "select left_key, right_key, reason from fused.member_link where method = 'similarity' limit 1"
        ).fetchall()[0]
    assert main(["er", "explain", a, b, "-w", str(resolved.ws.root)]) == 0
    out = capsys.readouterr().out
    assert "same identity" in out and "name=" in out and "weight" in out


def test_explain_unknown_account_is_one_clear_line(resolved: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["er", "explain", "taobao:nobody", "jd:nobody", "-w", str(resolved.ws.root)]) == 2
    err = capsys.readouterr().err
    assert "error[ECF200]" in err and "taobao:nobody" in err and "Traceback" not in err


def test_review_list_and_reject_persist(resolved: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = Ledger(resolved.ws.control_url)
    ledger.enqueue("member", "test", [("crm:zz1", "jd:zz2", 0.8, "{}")])
    assert main(["er", "review", "list", "-w", str(resolved.ws.root), "--limit", "500"]) == 0
    assert "crm:zz1" in capsys.readouterr().out
    assert (
        main(["er", "review", "reject", "jd:zz2", "crm:zz1", "-w", str(resolved.ws.root), "--by", "ana"]) == 0
    )
    item = [r for r in ledger.reviews("member", status=None, limit=10_000) if r.left_key == "crm:zz1"][0]
    assert item.status == "rejected"
    _confirmed, constraints = ledger.decisions("member")
    assert "jd:zz2" in constraints.cannot_link["crm:zz1"]
