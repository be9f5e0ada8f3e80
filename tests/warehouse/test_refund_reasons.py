"""Refund reasons are free text: a text no code of the platform's map names is kept as the map's
default ('other'), its text in ``platform_reason``, and the run summary names it with how many
refunds gave it and how to map it. Before: such refunds became 'other' without a word (a wording a
platform started sending could turn a share of the refunds into 'other' unseen), and a refund that
gave no reason at all was 'other' too, as if it had given one."""

from __future__ import annotations

from typing import Any

from rawzone import RawZone, rows

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.standardize.mapping import MAPPINGS_DIR, own_folder


def taobao_refund(n: int, reason: str | None) -> dict[str, Any]:
    r = {"refund_id": f"R{n}", "tid": 1000 + n, "oid": 2000 + n, "status": "SUCCESS", "refund_fee": "9.90",
         "has_good_return": False, "created": "2026-11-03 20:00:00", "modified": "2026-11-04 15:20:00"}
    return r if reason is None else {**r, "reason": reason}


def jd_refund(n: int, reason: str) -> dict[str, Any]:
    return {"serviceId": f"S{n}", "orderId": f"{3000 + n}", "skuId": "100", "serviceStatus": "10005",
            "questionDesc": reason, "refundAmount": "19.90", "applyTime": "2026-11-03 20:00:00"}


def reasons(ws: Workspace) -> dict[str, tuple[str | None, str | None]]:
    got = rows(ws, "SELECT refund_key, reason, platform_reason FROM unified.refund")
    return {k: (r, t) for k, r, t in got}


def reason_notes(summary: warehouse.RunSummary) -> list[str]:
    return [n for n in summary.notes if n.startswith("refund reasons no code")]


def test_a_reason_text_no_code_names_is_kept_as_other_and_named_in_the_summary(
    workspace: Workspace, raw: RawZone
) -> None:
    tone = "商品颜色与图片有色差"  # a wording the shipped Taobao map does not list
    raw.add("taobao", "refunds", [
        taobao_refund(1, "质量问题"), taobao_refund(2, tone), taobao_refund(3, tone),
        taobao_refund(4, "物流太慢了"), taobao_refund(5, None), taobao_refund(6, " "),
    ])
    raw.add("jd", "refunds", [jd_refund(1, "商品与描述不符"), jd_refund(2, "其他问题")])
    first = warehouse.run(workspace)
    assert first.balanced
    assert reasons(workspace) == {
        "taobao:R1": ("quality_issue", "质量问题"),
        "taobao:R2": ("other", tone),
        "taobao:R3": ("other", tone),
        "taobao:R4": ("other", "物流太慢了"),
        "taobao:R5": (None, None),  # no reason given is no reason, not 'other'
        "taobao:R6": (None, " "),
        "jd:S1": ("not_as_described", "商品与描述不符"),
        "jd:S2": ("other", "其他问题"),
    }
    [note] = reason_notes(first)
    assert "4 refunds" in note
    assert "jd.toml v" in note and "maps.refund_reason → 'other': '其他问题' 1" in note
    assert "taobao.toml v" in note and f"'{tone}' 2, '物流太慢了' 1" in note
    assert "[maps.refund_reason.codes]" in note and "ecfusion run --rebuild" in note

    # a run with nothing new says nothing of the refunds it did not read
    raw.add("taobao", "refunds", [taobao_refund(7, "质量问题")])
    assert reason_notes(warehouse.run(workspace)) == []

    # the user maps the wording in a copy of the mapping and rebuilds: the refunds are that reason now
    shipped = (MAPPINGS_DIR / "taobao.toml").read_text(encoding="utf-8")
    codes = "[maps.refund_reason.codes]\n"
    own_folder(workspace).mkdir(exist_ok=True)
    (own_folder(workspace) / "taobao.toml").write_text(
        shipped.replace(codes, f'{codes}"{tone}" = "not_as_described"\n'), encoding="utf-8"
    )
    rebuilt = warehouse.run(workspace, rebuild=True)
    got = reasons(workspace)
    assert got["taobao:R2"] == got["taobao:R3"] == ("not_as_described", tone)
    [note] = reason_notes(rebuilt)
    assert tone not in note and "'物流太慢了' 1" in note and "'其他问题' 1" in note and "2 refunds" in note


def test_the_summary_names_the_most_given_texts_and_counts_the_rest(
    workspace: Workspace, raw: RawZone
) -> None:
    texts = [f"原因{i}" for i in range(8)]
    refunds = [taobao_refund(i * 10 + j, text) for i, text in enumerate(texts) for j in range(8 - i)]
    raw.add("taobao", "refunds", refunds)
    [note] = reason_notes(warehouse.run(workspace))
    assert "'原因0' 8, '原因1' 7, '原因2' 6, '原因3' 5, '原因4' 4 and 3 more texts (6 refunds)" in note
    assert f"{len(refunds):,} refunds" in note


def test_a_number_in_a_reason_text_is_not_printed(workspace: Workspace, raw: RawZone) -> None:
    """JD passes on the buyer's own words: a phone number in them stays out of the summary."""
    texts = ["联系我13800138000，不想要了", "订单号12345678910有误"]
    raw.add("jd", "refunds", [jd_refund(i, text) for i, text in enumerate(texts)])
    [note] = reason_notes(warehouse.run(workspace))
    assert "'联系我***********，不想要了' 1" in note and "'订单号***********有误' 1" in note
    assert "13800138000" not in note and "12345678910" not in note
