"""Region completion inside a warehouse run (standard 5.2 Table 1 L3 c; issue 3 Build item 3).

Two completions reach the unified tables:

* **Phone prefix → region** is derived at landing (the only moment the number is plaintext;
  ``ecfusion.security.derived``) and mapped like any field; ``sqlgen.orders_stage_sql`` fills a
  receiver region an order lacks from it and marks ``receiver_region_source = 'phone_prefix'``.
* **IP → region** runs here, because IPs are not personal fields in ``pii_fields.toml`` and stay
  readable in the lake: ``add_ip_regions`` looks up the run's DISTINCT IPs (row-wise, Arrow
  batches, so Spark runs it with ``mapInArrow``) and joins ``ip_province`` / ``ip_city`` back in
  SQL. Without a configured database the region columns are NULL, and ``completion_notes`` says so;
  the IPs are still read, and an event whose IP is no address is flagged ``bad_ip`` (kept).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ecfusion.config import Workspace
from ecfusion.engine import Engine
from ecfusion.standardize.normalize.completion import (
    IP_REGION_SCHEMA,
    IpRegionStandardizer,
    ip_completion_note,
)


def add_ip_regions(engine: Engine, staged: str, ip_db: Path | None, *, ip_column: str = "ip") -> str:
    """``staged`` plus ``ip_province`` and ``ip_city`` (official division names; NULL when the IP is
    unknown, malformed or completion is off) and ``_ip_bad``: the IP text is no IP address (checked
    with completion off too; its row is kept and flagged ``bad_ip``). Returns the new relation's name."""
    out = f"{staged}_ipregion"
    engine.materialize(f"{staged}_ips", f"SELECT DISTINCT CAST({ip_column} AS VARCHAR) AS ip FROM {staged} "
                                        f"WHERE {ip_column} IS NOT NULL")
    engine.map_batches(f"{staged}_ipmap", f"{staged}_ips", IpRegionStandardizer(ip_db), IP_REGION_SCHEMA)
    engine.view(out, f"SELECT s.*, r.ip_province, r.ip_city, COALESCE(r.ip_bad, false) AS _ip_bad "
                     f"FROM {staged} AS s LEFT JOIN {staged}_ipmap AS r "
                     f"ON r.ip = CAST(s.{ip_column} AS VARCHAR)")
    return out


def completion_notes(ws: Workspace, conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Lines for the run summary: IP completion on/off, and how many current orders carry a
    receiver region completed from the phone rather than observed."""
    completed = conn.execute(
        "SELECT count(*) FROM unified.orders WHERE receiver_region_source = 'phone_prefix'"
    ).fetchone()
    n = int(completed[0]) if completed else 0
    return [
        ip_completion_note(ws),
        f"phone prefix → region completion: {n:,} orders with a receiver region completed from the "
        "phone (receiver_region_source = 'phone_prefix')",
    ]
