"""Every defect listed in truth/defects.csv is really at that file and line, and is of its kind."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest

from ecfusion.simulate import DEFECT_KINDS, DefectRates
from ecfusion.simulate.platforms import SHAPES

STATUS_FIELD = {"taobao": "status", "jd": "orderState", "pdd": "order_status", "douyin": "order_status"}
MONEY_FIELD = {"taobao": "payment", "jd": "orderPayment", "pdd": "pay_amount", "douyin": "pay_amount"}


def _is_defect_of_kind(kind: str, raw: bytes, previous: bytes | None, source: str, path: str) -> bool:
    if kind == "exact_duplicate":
        return raw == previous
    if path.endswith(".csv"):
        return _csv_defect(kind, raw)
    if kind == "malformed_json":
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            return True
        return False
    if kind == "wrong_encoding":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raw.decode("gbk")  # it is GBK, not garbage
            return True
        return False
    rec = orjson.loads(raw)
    if source == "app":
        return kind == "mixed_timezone" and isinstance(rec["ts"], str) and "T" in rec["ts"]
    shape: Any = SHAPES[source]
    if kind == "missing_required":
        return shape.order_key(rec) == ""
    if kind == "price_out_of_range":
        value = float(rec[MONEY_FIELD[source]])
        return value < 0 or value > 1_000_000
    if kind == "mixed_timezone":
        text = raw.decode("utf-8")
        return "T" in text and ('Z"' in text or '+08:00"' in text)
    if kind == "test_order":
        return "测试" in raw.decode("utf-8") or "test_buyer" in raw.decode("utf-8")
    if kind == "unknown_status":
        return rec[STATUS_FIELD[source]] not in shape.order_statuses
    return False


def _csv_defect(kind: str, raw: bytes) -> bool:
    if kind == "wrong_encoding":
        text = raw.decode("utf-8")
        return not text.isascii() and text != raw.decode("gbk", errors="replace")
    cells = raw.decode("gbk").split(",")
    if kind == "price_out_of_range":
        return float(cells[10]) < 0
    if kind == "missing_required":
        return cells[2] == ""
    if kind == "test_order":
        return "测试" in cells[8]
    return False


def test_every_recorded_defect_is_present(merchant: Any) -> None:
    defects = merchant.defects()
    assert defects
    by_path: dict[str, dict[int, dict[str, str]]] = {}
    for d in defects:
        by_path.setdefault(d["path"], {})[int(d["line"])] = d
    for path, wanted in by_path.items():
        previous: bytes | None = None
        for n, raw in merchant.lines(path):
            raw = raw.rstrip(b"\r")
            if n in wanted:
                d = wanted[n]
                assert _is_defect_of_kind(d["kind"], raw, previous, d["source"], path), (path, n, d["kind"])
            previous = raw


def test_every_defect_kind_is_injected(merchant: Any) -> None:
    kinds = Counter(d["kind"] for d in merchant.defects())
    assert set(kinds) == set(DEFECT_KINDS)


def test_defect_share_follows_the_configured_rate(merchant: Any) -> None:
    records = sum(f.records for f in merchant.manifest.files if f.entity == "orders")
    order_defects = sum(1 for d in merchant.defects() if d["entity"] == "orders")
    assert 0.5 * merchant.rates.total < order_defects / records < 1.5 * merchant.rates.total


def test_unknown_statuses_appear_only_as_recorded_defects(merchant: Any) -> None:
    recorded = merchant.defect_lines()
    for f in merchant.manifest.files:
        if f.entity != "orders":
            continue
        shape: Any = SHAPES[f.platform]
        for n, raw in merchant.lines(f.path):
            if (f.path, n) in recorded:
                continue
            assert orjson.loads(raw)[STATUS_FIELD[f.platform]] in shape.order_statuses, (f.path, n)


@pytest.mark.parametrize("total", [0.0, 0.0075, 0.02, 0.3])
def test_defect_rates_scale_to_the_requested_total(total: float) -> None:
    assert DefectRates.scaled_to(total).total == pytest.approx(total)


def test_default_defect_rate_is_below_one_percent() -> None:
    assert 0.005 <= DefectRates().total <= 0.01
