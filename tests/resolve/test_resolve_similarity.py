"""The member model itself (resolve/similarity.py): what training keeps, and what it may not merge."""

from __future__ import annotations

import json
import random
from typing import Any

import pyarrow as pa
from pypinyin import lazy_pinyin

from ecfusion.resolve import similarity
from ecfusion.resolve.features import FEATURE_COLUMNS

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


def _row(uid: str, name: str, phone: str, address: int) -> dict[str, Any]:
    return {
        "unique_id": uid,
        "platform": uid.split(":")[0],
        "platform_account_id": uid.split(":")[1],
        "name_bidx": f"n-{name}",
        "name_simp": name,
        "name_pinyin": "".join(lazy_pinyin(name)),
        "surname": name[0],
        "phone_bidx": f"p-{phone}",
        "phone_vis": None,  # no masked phone anywhere: EM blocked on visible digits has no pairs
        "city": "郑州市",
        "district": f"区{address % 7}",
        "address_bidx": f"a-{address}",
        "address_detail": f"解放路{address}号",
        "address_numbers": str(address),
    }


def _features(extra: list[dict[str, Any]]) -> pa.Table:
    """Two accounts per person (same name and address; every third person changed phones in
    between, as shoppers do) plus ``extra`` rows."""
    rng = random.Random(5)
    rows = []
    for i in range(300):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if i % 2 else "")
        phone, address = f"139{rng.randrange(10**8):08d}", 1000 + i
        second = f"138{rng.randrange(10**8):08d}" if i % 3 == 0 else phone
        rows += [_row(f"taobao:t{i}", name, phone, address), _row(f"jd:j{i}", name, second, address)]
    columns = {c: [r.get(c) for r in rows + extra] for c in FEATURE_COLUMNS}
    columns["device_ids"] = [None] * len(rows + extra)
    columns["first_seen_at"] = [None] * len(rows + extra)
    fields = [(c, pa.list_(pa.string()) if c == "device_ids" else pa.timestamp("us") if c == "first_seen_at"
              else pa.string()) for c in FEATURE_COLUMNS]
    return pa.table(columns, schema=pa.schema(fields))


Scored = dict[frozenset[str], tuple[float, dict[str, Any]]]


def _scored(extra: list[dict[str, Any]], prior: float = 1e-3) -> tuple[dict[str, Any], Scored]:
    api = similarity.make_db_api("duckdb")
    model = similarity.train(api, similarity.register(api, _features(extra), "member_features"), prior=prior)
    scored = model.predict(0.0)
    columns = ("left_key", "right_key", "match_probability", "evidence")
    pairs = {
        frozenset((a, b)): (p, json.loads(ev))
        for a, b, p, ev in zip(*(scored.column(c).to_pylist() for c in columns), strict=True)
    }
    return model.model_json(), pairs


def test_a_training_step_that_cannot_run_leaves_every_comparison_in_the_model() -> None:
    # EM blocked on the visible digits of masked phones finds no pairs and is skipped; Splink had
    # already taken the phone comparison out of the settings for that step
    model, pairs = _scored([])
    assert [c["output_column_name"] for c in model["comparisons"]] == similarity.COMPARISON_NAMES
    p, evidence = pairs[frozenset(("taobao:t1", "jd:j1"))]
    assert p >= similarity.MATCH_THRESHOLD and evidence["phone"] > 0


def test_homophone_names_at_one_address_with_different_phones_go_to_review_not_merge() -> None:
    household = [
        _row("douyin:d1", "刘伟", "13244112929", 560),  # siblings: one flat, same sound, own phones
        _row("pdd:p1", "刘薇", "13886910669", 560),
        _row("douyin:d2", "赵敏", "13511112222", 561),  # one person, a homophone typo, one phone
        _row("pdd:p2", "赵民", "13511112222", 561),
    ]
    # a prior at which name + address alone outweigh two different phones (a small merchant
    # whose rules found many pairs): without the guard the siblings would merge
    _, pairs = _scored(household, prior=0.01)
    p, evidence = pairs[frozenset(("douyin:d1", "pdd:p1"))]
    assert similarity.REVIEW_THRESHOLD <= p < similarity.MATCH_THRESHOLD
    assert evidence["phone"] < 0 and "guard" in evidence
    p, evidence = pairs[frozenset(("douyin:d2", "pdd:p2"))]
    assert p >= similarity.MATCH_THRESHOLD and "guard" not in evidence
