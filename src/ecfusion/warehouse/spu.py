"""``unified.spu`` from ``unified.sku`` (standard 6.1.2 b): the merchant's product master sends one
record per SKU with its SPU's fields repeated, so an SPU is the group of its SKUs — its name, brand
and category from the SKU record modified last (ties by SKU code), its raw record ids all of theirs.

A run recomputes every SPU a changed SKU belongs to, before or after the change (a SKU moved to
another SPU changes both), from ``unified.sku`` as the run leaves it; an SPU left without SKUs
loses its row.
"""

from __future__ import annotations

from ecfusion.warehouse.merge import ids_union_sql


def affected_spus_sql(changed_skus: str, replaced_keys: str) -> str:
    """SPU ids of the SKU rows a run writes and of the current rows they replace."""
    return (
        f"SELECT DISTINCT spu_id FROM (SELECT spu_id FROM {changed_skus}\n"
        f"  UNION ALL SELECT spu_id FROM cur_sku\n"
        f"    WHERE sku_code IN (SELECT sku_code FROM {replaced_keys})) AS a\n"
        "WHERE spu_id IS NOT NULL"
    )


def spu_sql(affected: str, skus: str) -> str:
    """The ``unified.spu`` rows of the SPUs in ``affected``, from ``skus`` (the table after the run)."""
    mine = f"SELECT * FROM {skus} WHERE spu_id IN (SELECT spu_id FROM {affected})"
    return (
        "SELECT w.spu_id, w.spu_name AS name, w.brand, w.category_id, g.sku_count, g.raw_record_ids\n"
        f"FROM (SELECT * FROM ({mine}) AS s\n"
        "  QUALIFY row_number() OVER (\n"
        "    PARTITION BY spu_id ORDER BY modified_at DESC NULLS LAST, sku_code DESC) = 1) AS w\n"
        f"JOIN (SELECT spu_id, count(*) AS sku_count, {ids_union_sql('raw_record_ids')} AS raw_record_ids\n"
        f"      FROM ({mine}) AS a GROUP BY spu_id) AS g ON g.spu_id = w.spu_id"
    )
