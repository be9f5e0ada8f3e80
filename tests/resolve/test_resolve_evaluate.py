"""``ecfusion er evaluate`` counts the merges that matter most: different people who share a name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb

from ecfusion.resolve import evaluate
from ecfusion.resolve.evaluate import _same_name


def test_same_name_people_are_counted_and_none_is_merged_on_the_sample_merchant(
    resolved: Any, tmp_path: Path
) -> None:
    truth = tmp_path / "truth"
    shutil.copytree(resolved.truth_dir, truth)
    names: dict[str, str] = {}
    keys = resolved.accounts.column("account_key").to_pylist()
    for key, token in zip(keys, resolved.accounts.column("name_token").to_pylist(), strict=True):
        if token:
            names.setdefault(resolved.truth.accounts[key], resolved.cipher.decrypt(token))
    (truth / "persons.jsonl").write_text(
        "".join(json.dumps({"person_id": p, "name": n}, ensure_ascii=False) + "\n" for p, n in names.items()),
        encoding="utf-8",
    )
    members = evaluate(resolved.ws, truth)["members"]
    assert members.same_name_people and members.same_name_people > 1
    assert members.same_name_merged_pairs == 0


def test_a_merge_of_two_people_with_one_name_is_counted(tmp_path: Path) -> None:
    persons = tmp_path / "persons.jsonl"
    rows = [("P1", "王伟"), ("P2", "王伟"), ("P3", "王伟"), ("P4", "李娜")]
    lines = [json.dumps({"person_id": p, "name": n}) + "\n" for p, n in rows]
    persons.write_text("".join(lines), encoding="utf-8")
    con = duckdb.connect()
    con.execute("create schema fused")
    con.execute(
        "create table fused.member as select * from (values ('a1', 'o1'), ('a2', 'o1'), ('a2b', 'o1'), "
        "('a3', 'o3'), ('a4', 'o1')) t(account_key, one_id)"
    )
    con.execute(
        "create table member_truth as select * from (values ('a1', 'P1'), ('a2', 'P2'), ('a2b', 'P2'), "
        "('a3', 'P3'), ('a4', 'P4')) t(account_key, person_id)"
    )
    # P1 and P2 (both 王伟) share o1; P3 (王伟) stands alone; P4 is merged too, but has another name
    assert _same_name(con, persons) == (3, 1)
