"""docs/examples/taobao-order.md stays true: its raw payloads, run through ``warehouse.run``,
give exactly the unified rows its tables show (issue 3 "Must show": the worked example).

The document shows the last version of the trade and the refund; versions 1 and 2 are that
payload as the document describes them (earlier status and ``modified``, no refund on line 2,
version 1 not yet consigned, its lines in no parcel). Each markdown table under "## Unified"
names its warehouse table in the sentence before it; ``n_raw`` is the number of raw record ids
of the row.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest

from ecfusion import warehouse
from ecfusion.config import Workspace

sys.path.insert(0, str(Path(__file__).parents[1] / "warehouse"))
from rawzone import RawZone  # noqa: E402

DOC = Path(__file__).parents[2] / "docs" / "examples" / "taobao-order.md"
KEYS = {
    "orders": "order_key",
    "order_line": "line_key",
    "shipment": "shipment_key",
    "order_status_history": "seq",
    "refund": "refund_key",
}


def _json_blocks(text: str) -> list[dict]:
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", text, flags=re.S)]


def _tables(text: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(table name, header, rows) for each markdown table after '## Unified' that a `unified.x`
    sentence introduces; cells as text."""
    out = []
    unified = text.split("## Unified", 1)[1]
    for intro, table in re.findall(r"`unified\.(\w+)` —.*?\n\n((?:\|[^\n]*\|\n)+)", unified, flags=re.S):
        lines = [ln.strip().strip("|").split("|") for ln in table.strip().splitlines()]
        header = [c.strip() for c in lines[0]]
        rows = [[c.strip() for c in ln] for ln in lines[2:]]
        out.append((intro, header, rows))
    return out


def _versions(last: dict) -> list[dict]:
    v2 = copy.deepcopy(last)
    v2["modified"] = "2026-11-02 09:30:00"
    line2 = v2["orders"]["order"][1]
    line2["refund_status"] = "NO_REFUND"
    line2.pop("refund_id", None)
    v1 = copy.deepcopy(v2)
    v1.update(status="WAIT_SELLER_SEND_GOODS", modified="2026-11-01 10:05:00")
    v1.pop("consign_time", None)
    for line in v1["orders"]["order"]:  # not shipped yet: no parcel
        for parcel_field in ("invoice_no", "logistics_company", "consign_time"):
            line.pop(parcel_field, None)
    return [v1, v2, last]


def _text(value: object) -> str:
    return "" if value is None else str(value)


@pytest.fixture()
def run_example(tmp_path: Path) -> Workspace:
    trade, refund = _json_blocks(DOC.read_text(encoding="utf-8"))
    ws = Workspace.init(tmp_path / "ws")
    raw = RawZone(ws.lake_root)
    v1, v2, v3 = _versions(trade)
    raw.add("taobao", "orders", [v1, v2])
    warehouse.run(ws)
    raw.add("taobao", "orders", [v3], dt="2026-11-21")
    raw.add("taobao", "refunds", [refund], dt="2026-11-21")
    assert warehouse.run(ws).balanced
    return ws


def test_the_worked_example_shows_what_the_warehouse_holds(run_example: Workspace) -> None:
    tables = _tables(DOC.read_text(encoding="utf-8"))
    assert [t for t, _, _ in tables] == ["orders", "order_line", "shipment", "order_status_history", "refund"]
    con = warehouse.connect(run_example)
    for table, header, rows in tables:
        cols = ", ".join("len(raw_record_ids)" if c == "n_raw" else c for c in header)
        got = con.execute(f"SELECT {cols} FROM unified.{table} ORDER BY {KEYS[table]}").fetchall()
        assert [[_text(v) for v in row] for row in got] == rows, table
