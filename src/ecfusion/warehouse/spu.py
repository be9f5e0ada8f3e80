"""``unified.spu`` from ``unified.sku`` (standard 6.1.2 b): the merchant's product master sends one
record per SKU with its SPU's fields repeated, so an SPU is the group of its SKUs — its name, brand
and category from the SKU record modified last (ties by SKU code), its raw record ids all of theirs.

A run recomputes every SPU a changed SKU belongs to, before or after the change (a SKU moved to
another SPU changes both), from ``unified.sku`` as the run leaves it; an SPU left without SKUs
loses its row.
"""

from __future__ import annotations

from ecfusion.warehouse.merge import ids_union_sql, rows_of, touched_sql


def affected_spus_sql(sku_writes: list[tuple[str, str]]) -> str:
    """SPU ids of the SKU rows a run writes and of the current rows they replace: per write,
    ``(relation, replaced sku codes)``."""
    selects = []
    for rows, keys in sku_writes:
        replaced = rows_of("cur_sku", "sku_code", keys)
        selects += [f"SELECT spu_id FROM {rows}", f"SELECT spu_id FROM {replaced}"]
    return touched_sql("spu_id", selects)


def spu_sql(affected: str, skus: str) -> str:
    """The ``unified.spu`` rows of the SPUs in ``affected``, from ``skus`` (the table after the run)."""
    mine = f"SELECT * FROM {rows_of(skus, 'spu_id', affected)}"
    return (
        "SELECT w.spu_id, w.spu_name AS name, w.brand, w.category_id, g.sku_count, g.raw_record_ids\n"
        f"FROM (SELECT * FROM ({mine}) AS s\n"
        "  QUALIFY row_number() OVER (\n"
        "    PARTITION BY spu_id ORDER BY modified_at DESC NULLS LAST, sku_code DESC) = 1) AS w\n"
        f"JOIN (SELECT spu_id, count(*) AS sku_count, {ids_union_sql('raw_record_ids')} AS raw_record_ids\n"
        f"      FROM ({mine}) AS a GROUP BY spu_id) AS g ON g.spu_id = w.spu_id"
    )
