"""The merchant's product master (ERP 商品档案) → ``unified.sku`` and, derived from it, ``unified.spu``:
latest record wins per SKU, SPUs follow their SKUs (also when one moves), unknown categories are
quarantined with their reason."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rawzone import RawZone
from rawzone import rows as _rows

from ecfusion import warehouse
from ecfusion.config import Workspace

SPUS = "SELECT spu_id, name, brand, category_id, sku_count, len(raw_record_ids) FROM unified.spu ORDER BY 1"


def sku(
    code: str,
    spu: str,
    *,
    name: str = "玻尿酸补水精华液",
    updated: str = "2026-10-01 09:00:00",
    category: str = "美妆护肤/面部精华",
    price: str = "199.00",
) -> dict[str, Any]:
    """One row of the ERP product master export (CSV columns as text)."""
    return {
        "sku_code": code,
        "spu_code": spu,
        "spu_name": name,
        "brand": "青岚",
        "sku_name": f"青岚{name} 30ml",
        "category": category,
        "barcode": "6901234567892",
        "spec": "30ml",
        "list_price": price,
        "updated_at": updated,
    }


def _land(raw: RawZone, rows: list[dict[str, Any]], dt: str = "2026-11-20") -> None:
    raw.add("erp", "product_master", rows, dt=dt)


def test_skus_and_the_spus_they_make(workspace: Workspace, raw: RawZone) -> None:
    cleanser = sku("QL00003", "QL002", name="洁面乳", category="美妆护肤/洁面")
    _land(raw, [sku("QL00001", "QL001"), sku("QL00002", "QL001"), cleanser])
    s = warehouse.run(workspace)
    assert s.balanced
    got = _rows(workspace, "SELECT sku_code, spu_id, category_id, list_price FROM unified.sku ORDER BY 1")
    assert got == [
        ("QL00001", "QL001", "skincare.serum", Decimal("199.00")),
        ("QL00002", "QL001", "skincare.serum", Decimal("199.00")),
        ("QL00003", "QL002", "skincare.cleanser", Decimal("199.00")),
    ]
    assert _rows(workspace, SPUS) == [
        ("QL001", "玻尿酸补水精华液", "青岚", "skincare.serum", 2, 2),
        ("QL002", "洁面乳", "青岚", "skincare.cleanser", 1, 1),
    ]


def test_the_latest_record_wins_and_spus_follow_a_moved_sku(workspace: Workspace, raw: RawZone) -> None:
    _land(raw, [sku("QL00001", "QL001"), sku("QL00002", "QL001")])
    warehouse.run(workspace)
    # renamed SPU (on one SKU's newer record), and QL00002 moves to a new SPU; an older record
    # arriving late changes nothing
    _land(
        raw,
        [
            sku("QL00001", "QL001", name="玻尿酸精华液", updated="2026-11-01 09:00:00", price="189.00"),
            sku("QL00002", "QL009", name="精华液旅行装", updated="2026-11-01 09:00:00"),
            sku("QL00001", "QL001", name="旧名", updated="2026-09-01 09:00:00"),
        ],
        dt="2026-11-21",
    )
    warehouse.run(workspace)
    assert _rows(workspace, "SELECT sku_code, spu_id, spu_name, list_price FROM unified.sku ORDER BY 1") == [
        ("QL00001", "QL001", "玻尿酸精华液", Decimal("189.00")),
        ("QL00002", "QL009", "精华液旅行装", Decimal("199.00")),
    ]
    spus = [(r[0], r[1], r[4]) for r in _rows(workspace, SPUS)]
    assert spus == [("QL001", "玻尿酸精华液", 1), ("QL009", "精华液旅行装", 1)]
    before = _rows(workspace, SPUS)
    assert warehouse.run(workspace).files_processed == 0 and _rows(workspace, SPUS) == before


def test_a_category_the_tree_does_not_know_is_quarantined(workspace: Workspace, raw: RawZone) -> None:
    _land(raw, [sku("QL00001", "QL001"), sku("QL00007", "QL007", category="家用电器/吹风机")])
    s = warehouse.run(workspace)
    assert s.balanced and s.quarantine_by_rule == {"unknown_status": 1}
    [(reason,)] = _rows(workspace, "SELECT reason FROM unified.quarantine")
    assert "家用电器/吹风机" in reason and "erp.toml" in reason
    assert _rows(workspace, "SELECT spu_id FROM unified.spu") == [("QL001",)]
