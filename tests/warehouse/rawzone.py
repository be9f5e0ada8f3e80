"""Test helpers: a tiny raw zone writer (envelope-v1 Parquet files exactly as contracts §2 lays them out),
the live warehouse's rows, and the ``ecfusion`` command as a user runs it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from ecfusion.config import Workspace

TS = pa.timestamp("us", tz="UTC")
RAW_SCHEMA = pa.schema(
    [
        ("raw_record_id", pa.string()),
        ("source", pa.string()),
        ("platform", pa.string()),
        ("shop_id", pa.string()),
        ("entity", pa.string()),
        ("record_key", pa.string()),
        ("batch_id", pa.string()),
        ("pulled_at", TS),
        ("received_at", TS),
        ("content_hash", pa.string()),
        ("schema_version", pa.int32()),
        ("payload", pa.string()),
    ]
)


def token(kind: str, value: str) -> str:
    """A fake ef1 token whose blind index depends on the value only."""
    bidx = hashlib.sha256(value.encode()).hexdigest()[:24]
    return f"ef1:{kind}:subj{bidx[:20]}:{bidx}:CIPHERTEXT"


class RawZone:
    def __init__(self, lake_root: Path) -> None:
        self.root = lake_root
        self.n = 0

    @staticmethod
    def text(payload: dict[str, Any] | str) -> str:
        """The payload as ``add`` stores it: a str as it is, a dict as sorted JSON."""
        if isinstance(payload, str):
            return payload
        return json.dumps(payload, ensure_ascii=False, sort_keys=True)

    @staticmethod
    def record_id(source: str, entity: str, payload: dict[str, Any] | str) -> str:
        """The raw record id (= content hash) ``add`` gives ``payload``."""
        return RawZone._id_of_text(source, entity, RawZone.text(payload))

    @staticmethod
    def _id_of_text(source: str, entity: str, text: str) -> str:
        return hashlib.blake2b(f"{source}|{entity}|{text}".encode(), digest_size=16).hexdigest()

    def add(
        self,
        platform: str,
        entity: str,
        payloads: list[dict[str, Any] | str],
        *,
        source: str | None = None,
        dt: str = "2026-11-20",
        pulled_at: datetime | None = None,
    ) -> Path:
        source = source or platform
        self.n += 1
        folder = self.root / "raw" / f"source={source}" / f"entity={entity}" / f"dt={dt}"
        folder.mkdir(parents=True, exist_ok=True)
        now = pulled_at or datetime(2026, 11, 20, tzinfo=UTC)
        rows = []
        for p in payloads:  # a str is the payload's text as it is (e.g. not JSON at all)
            text = self.text(p)
            h = self._id_of_text(source, entity, text)
            rows.append(
                {
                    "raw_record_id": h,
                    "source": source,
                    "platform": platform,
                    "shop_id": f"{platform}_shop",
                    "entity": entity,
                    "record_key": None,
                    "batch_id": f"b{self.n}",
                    "pulled_at": now,
                    "received_at": now,
                    "content_hash": h,
                    "schema_version": 1,
                    "payload": text,
                }
            )
        path = folder / f"part-b{self.n:04d}-0.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=RAW_SCHEMA), path)
        return path


def taobao_trade(
    tid: int,
    status: str,
    modified: str,
    *,
    lines: int = 1,
    refund: str = "NO_REFUND",
    payment: str = "200.07",
    waybills: list[str] | None = None,
) -> dict[str, Any]:
    """A Taobao trade; ``waybills``: the parcel (Order.invoice_no) of each line, shipped by ZTO on
    2026-11-02 10:00 Beijing time ("" = that line not shipped)."""
    trade = {
        "tid": tid,
        "tid_str": str(tid),
        "status": status,
        "created": "2026-11-01 10:00:00",
        "pay_time": "2026-11-01 10:05:00",
        "modified": modified,
        "payment": payment,
        "total_fee": "210.07",
        "discount_fee": "10.00",
        "post_fee": "0.00",
        "buyer_open_uid": f"AAH{tid % 7}",
        "buyer_nick": "t**y",
        "receiver_name": token("name", "李雷"),
        "receiver_mobile": token("phone", "13800138000"),
        "receiver_state": "浙江省",
        "receiver_city": "杭州市",
        "receiver_district": "西湖区",
        "receiver_address": token("address", "文三路1号"),
        "orders": {
            "order": [
                {
                    "oid": tid * 10 + i,
                    "num_iid": 555 + i,
                    "sku_id": str(777 + i),
                    "outer_sku_id": f"SKU-{i}",
                    "title": f"衬衫 {i}",
                    "sku_properties_name": "颜色:夜宴黑;尺码:175",
                    "num": 1,
                    "price": "105.04",
                    "total_fee": "100.04",  # after the line's discount_fee, as Taobao sends it
                    "payment": "100.04",
                    "discount_fee": "5.00",
                    "refund_status": refund,
                }
                for i in range(lines)
            ]
        },
    }
    for line, waybill in zip(trade["orders"]["order"], waybills or [], strict=False):  # type: ignore[index]
        if waybill:
            line |= {
                "invoice_no": waybill, "logistics_company": "中通快递", "consign_time": "2026-11-02 10:00:00"
            }
    if any(waybills or []):
        trade["consign_time"] = "2026-11-02 10:00:00"
    return trade


def taobao_refund(
    refund_id: str,
    tid: int,
    fee: str,
    *,
    oid: int | None = None,
    status: str = "SUCCESS",
    modified: str = "2026-11-04 15:20:00",
) -> dict[str, Any]:
    """A Taobao refund of order ``tid`` (its line ``oid``, else ``tid * 10``, ``taobao_trade``'s
    first line), ``fee`` yuan as text."""
    return {
        "refund_id": refund_id,
        "tid": tid,
        "oid": tid * 10 if oid is None else oid,
        "status": status,
        "refund_fee": fee,
        "has_good_return": False,
        "created": "2026-11-03 20:00:00",
        "modified": modified,
    }


def jsonl(records: list[dict[str, Any]]) -> str:
    """``records`` as a JSON-lines file's text (UTF-8 Chinese kept as it is), as an export writes it."""
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records)


def rows(ws: Any, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the workspace's live warehouse snapshot."""
    from ecfusion import warehouse

    con = warehouse.connect(ws)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def landed_merchant(root: Path, *, persons: int, days: int, seed: int, defects: float) -> Workspace:
    """A workspace (``root``/ws) with a simulated merchant landed in its raw zone, not yet run; the
    merchant's sources and their truth/ are in ``root``/sources. ``defects``: the share of records
    given an injected defect (0: none)."""
    from ecfusion.config import Workspace
    from ecfusion.lake import RawLake
    from ecfusion.lake.manifest import ingest_manifest
    from ecfusion.simulate.defects import DefectRates
    from ecfusion.simulate.generate import generate

    generate(root / "sources", persons=persons, days=days, seed=seed, defects=DefectRates.scaled_to(defects))
    ws = Workspace.init(root / "ws")
    ingest_manifest(RawLake.open(ws), root / "sources")
    return ws


Landing = tuple[str, str, list[dict[str, Any]]]  # (platform, entity, payloads): one landing


def incremental_and_rebuild(
    tmp_path: Path, batches: list[list[Landing]], engine: str = "duckdb"
) -> tuple[Any, Any]:
    """Two workspaces over the same raw zone: one run per batch on ``engine``, and one run over them
    all (on DuckDB). Each run must balance."""
    from ecfusion import warehouse
    from ecfusion.config import Workspace

    inc, reb = Workspace.init(tmp_path / "incremental"), Workspace.init(tmp_path / "rebuild")
    inc_raw, reb_raw = RawZone(inc.lake_root), RawZone(reb.lake_root)
    for day, batch in enumerate(batches):
        for platform, entity, payloads in batch:
            for raw in (inc_raw, reb_raw):
                raw.add(platform, entity, list(payloads), dt=f"2026-11-{20 + day}")
        assert warehouse.run(inc, engine=engine).balanced
    assert warehouse.run(reb).balanced
    return inc, reb


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The ``ecfusion`` command as a user runs it (a wide terminal, so table cells stay whole)."""
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "ecfusion", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def one_line(output: str) -> str:
    """A command's output as one line: Rich wraps a long line at the terminal's width."""
    return " ".join(output.split())


def damage_payload_page(path: Path) -> None:
    """Flip 16 bytes inside the compressed dictionary page of the ``payload`` column, as a block
    gone bad on disk would: the footer and every other column still read, so only the stage that
    decodes the payloads fails."""
    group = pq.ParquetFile(path).metadata.row_group(0)
    payload = next(
        group.column(i) for i in range(group.num_columns) if group.column(i).path_in_schema == "payload"
    )
    data = bytearray(path.read_bytes())
    start = (payload.dictionary_page_offset or payload.data_page_offset) + 60  # past the page header
    data[start : start + 16] = bytes(b ^ 0xFF for b in data[start : start + 16])
    path.write_bytes(bytes(data))
