# ruff: noqa: E501  (SQL payload templates read best unbroken)
"""Benchmark: raw zone → unified orders + order_line on DuckDB (issue 3 "Must show").

Generates N orders across the four platforms as envelope-v1 raw Parquet (outside the timing; the JD
and Douyin orders are shipped and name their parcel),
then times ``warehouse.run`` and the floor (DuckDB reading the same raw once: the bytes; the bytes with one JSON
parse per payload; and the payloads parsed into the paths the mappings read). Each is measured ``--repeat`` times
(a run over a fresh copy of the same raw zone each time) and the median reported, every run's time beside it:
this VM's timings drift by 10% from one minute to the next. Beside them, not a target: DuckDB
writing the run's unified output once (``floor_write``). Writes benchmarks/results/standardize.json with each figure
beside its target and the ratio.

Then the next day, incrementally: on each run's warehouse, raw with ``--increment`` new orders and as
many later versions of existing orders (status moved on, ``modified`` a day later), split over the four
platforms. Its time is compared with the same raw taken into an empty warehouse: the ratio is what the
million orders already there cost an incremental run (the live snapshot's copy, the lookups of seen
records and current rows, the deletes and appends into large tables).

Usage: python benchmarks/bench_standardize.py [--orders 1000000] [--increment 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

from ecfusion import warehouse  # noqa: E402
from ecfusion.config import Workspace  # noqa: E402
from ecfusion.standardize import sqlgen
from ecfusion.standardize.mapping import load_mappings
from ecfusion.timings import slowest

PAYLOAD_SQL = {
    "taobao": """json_object('tid', 4000000000000 + i, 'tid_str', (4000000000000 + i)::VARCHAR,
        'status', 'WAIT_SELLER_SEND_GOODS', 'created', '2026-11-01 10:00:00', 'pay_time', '2026-11-01 10:01:00',
        'modified', '2026-11-01 10:01:00', 'payment', '200.07', 'total_fee', '210.07', 'discount_fee', '10.00',
        'post_fee', '0.00', 'buyer_open_uid', 'AAH' || (i % 50000), 'receiver_mobile', 'ef1:phone:s:B' || (i % 50000) || ':c',
        'receiver_state', '浙江省', 'receiver_city', '杭州市', 'receiver_district', '西湖区',
        'orders', json_object('order', json_array(
           json_object('oid', i * 10, 'num_iid', 500 + i % 300, 'sku_id', (700 + i % 900)::VARCHAR, 'title', '衬衫',
                       'num', 1, 'price', '105.00', 'total_fee', '105.00', 'payment', '100.04', 'refund_status', 'NO_REFUND'),
           json_object('oid', i * 10 + 1, 'num_iid', 501, 'sku_id', '701', 'title', '袜子', 'num', 2,
                       'price', '52.50', 'total_fee', '105.00', 'payment', '100.03', 'refund_status', 'NO_REFUND'))))""",
    "jd": """json_object('orderId', (300000000 + i)::VARCHAR, 'orderState', 'WAIT_GOODS_RECEIVE_CONFIRM',
        'waybill', 'JDV' || (100000000 + i), 'logisticsId', '2087',
        'orderStartTime', '2026-11-01 10:00:00', 'paymentConfirmTime', '0001-01-01 00:00:00', 'modified', '2026-11-01 10:00:00',
        'orderPayment', '99.90', 'orderTotalPrice', '109.90', 'pin', 'jd' || (i % 50000),
        'consigneeInfo', json_object('province', '北京', 'city', '北京市', 'county', '朝阳区'),
        'itemInfoList', json_array(json_object('skuId', (1000 + i % 500)::VARCHAR, 'wareId', '2001', 'skuName', 'T恤',
                                               'jdPrice', '54.95', 'itemTotal', '2')))""",
    "pdd": """json_object('order_sn', '261101-' || i, 'order_status', 1, 'refund_status', 1,
        'created_time', '2026-11-01 12:00:00', 'updated_at', '2026-11-01 12:00:00', 'pay_amount', 19.9, 'goods_amount', 29.9,
        'receiver_phone', 'ef1:phone:s:P' || (i % 50000) || ':c',
        'item_list', json_array(json_object('goods_id', 88, 'sku_id', 99 + i % 50, 'goods_count', 1, 'goods_price', 29.9, 'goods_name', '袜子')))""",
    "douyin": """json_object('order_id', (6920000000000000000 + i)::VARCHAR::JSON, 'order_status', 3, 'main_status', 3,
        'create_time', 1761955200 + i, 'update_time', 1761958800 + i, 'pay_time', 1761955300, 'order_amount', 12345,
        'pay_amount', 12000, 'post_amount', 0, 'doudian_open_id', 'dy' || (i % 50000),
        'sku_order_list', json_array(json_object('sku_order_id', (6930000000000000000 + i)::VARCHAR::JSON, 'product_id', 3,
           'sku_id', 4 + i % 70, 'item_num', 3, 'origin_amount', 12345, 'pay_amount', 12000,
           'spec', json_array(json_object('name', '颜色', 'value', '黑')), 'after_sale_info', json_object('refund_status', 0))),
        'ship_time', 1761958000 + i, 'logistics_info', json_array(json_object('tracking_no', 'ZT' || (700000000 + i),
           'company', 'zhongtong', 'company_name', '中通快递', 'ship_time', 1761958000 + i)))""",
}


def envelope_rows(platform: str, payload: str, start: int, stop: int, *, tag: str = "", day: str = "2026-11-20") -> str:
    """Envelope-v1 rows of ``platform`` for ``i`` in [start, stop): ``payload`` an SQL expression of ``i``;
    the raw record id (= content hash) is md5 of tag, platform and ``i``."""
    return f"""SELECT md5('{tag}{platform}' || i) AS raw_record_id, '{platform}' AS source,
        '{platform}' AS platform, '{platform}_shop' AS shop_id, 'orders' AS entity, NULL::VARCHAR AS record_key,
        'bench-{day}' AS batch_id, TIMESTAMPTZ '{day} 00:00:00+00' AS pulled_at,
        TIMESTAMPTZ '{day} 00:00:00+00' AS received_at, md5('{tag}{platform}' || i) AS content_hash,
        1::INTEGER AS schema_version, ({payload})::VARCHAR AS payload FROM range({start}, {stop}) t(i)"""


def write_raw(lake: Path, orders: int) -> list[str]:
    con = duckdb.connect()
    per = orders // len(PAYLOAD_SQL)
    files = []
    for platform, payload in PAYLOAD_SQL.items():
        folder = lake / "raw" / f"source={platform}" / "entity=orders" / "dt=2026-11-20"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "part-bench-0.parquet"
        con.execute(f"COPY ({envelope_rows(platform, payload, 0, per)}) TO '{path}' (FORMAT parquet)")
        files.append(str(path))
    return files


def floor(files: list[str], parse: bool) -> float:
    con = duckdb.connect()
    expr = "sum(json_array_length(payload, '$'))" if parse else "sum(length(payload))"
    listed = ", ".join(f"'{f}'" for f in files)
    t = time.perf_counter()
    con.execute(
        f"SELECT count(*), {expr}, count(DISTINCT raw_record_id) FROM read_parquet([{listed}])"
    ).fetchall()
    return time.perf_counter() - t


def floor_transform(files: list[str]) -> float:
    """Reading the raw once as standardization must: every payload parsed into the struct of the
    paths its platform's mapping reads (``json_transform``), nothing else."""
    con = duckdb.connect()
    listed = ", ".join(f"'{f}'" for f in files)
    parts = []
    for platform, m in load_mappings().items():
        if platform in PAYLOAD_SQL and m.orders is not None:
            structure = sqlgen.parse_structure(
                m.orders, m.order_line, tuple(t.path for t in m.test_markers), shipment=m.shipment
            )
            parts.append(
                f"SELECT count(json_transform(payload, {sqlgen.lit(structure)})) AS n "
                f"FROM read_parquet([{listed}]) WHERE platform = '{platform}'"
            )
    t = time.perf_counter()
    con.execute(f"SELECT sum(n) FROM ({' UNION ALL '.join(parts)})").fetchall()
    return time.perf_counter() - t


def floor_write(snapshot: Path, scratch: Path) -> float:
    """Writing the run's output once: the unified tables the run filled, copied into memory first,
    then written into a fresh DuckDB file, each table declared as the run's (its columns' storage
    too: ``model.spec.column_sql``), and checkpointed. No pipeline can publish the same rows in
    less; it bounds from below what the read floors leave out."""
    target = scratch / "write-floor.duckdb"
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"ATTACH '{snapshot}' AS run (READ_ONLY)")
    tables = con.execute(
        "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = 'run' AND schema_name = 'unified' "
        "AND estimated_size > 0"
    ).fetchall()
    for t, _ in tables:
        con.execute(f"CREATE TEMP TABLE mem_{t} AS SELECT * FROM run.unified.{t}")
    con.execute("DETACH run")
    con.execute("CREATE SCHEMA unified")
    for _, ddl in tables:  # as the run declared it: CREATE TABLE unified.<t>(… USING COMPRESSION …)
        con.execute(ddl)
    t0 = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    for t, _ in tables:
        con.execute(f"INSERT INTO unified.{t} SELECT * FROM mem_{t}")
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


# A later version of an order: its status moved on, modified a day later (merged into the payload).
LATER = {
    "taobao": "json_object('status', 'WAIT_BUYER_CONFIRM_GOODS', 'modified', '2026-11-02 10:01:00')",
    "jd": "json_object('orderState', 'FINISHED_L', 'modified', '2026-11-02 10:00:00')",
    "pdd": "json_object('order_status', 2, 'updated_at', '2026-11-02 12:00:00')",
    "douyin": "json_object('order_status', 5, 'main_status', 5, 'update_time', 1761958800 + i + 86400)",
}


def write_increment(lake: Path, orders: int, new: int, day: int = 1) -> int:
    """Day ``day``'s raw file per platform (day 0 is ``write_raw``'s): ``new`` orders never seen
    (split over the platforms), and as many later versions of orders of day 0, other orders each day.
    Returns the raw records written."""
    con = duckdb.connect()
    per, first = new // len(PAYLOAD_SQL), orders // len(PAYLOAD_SQL)
    dt = f"2026-11-{20 + day}"
    for platform, payload in PAYLOAD_SQL.items():
        folder = lake / "raw" / f"source={platform}" / "entity=orders" / f"dt={dt}"
        folder.mkdir(parents=True, exist_ok=True)
        start = (day - 1) * per
        fresh = envelope_rows(platform, payload, first + start, first + start + per, tag=f"new{day}", day=dt)
        later = f"json_merge_patch({payload}, {LATER[platform]})"
        updates = envelope_rows(platform, later, start, start + per, tag=f"later{day}", day=dt)
        path = folder / f"part-bench-{day}.parquet"
        con.execute(f"COPY ({fresh} UNION ALL {updates}) TO '{path}' (FORMAT parquet)")
    return 2 * per * len(PAYLOAD_SQL)


def timed_increment(warehouse_ws: Path, scratch: Path, orders: int, new: int) -> tuple[float, float, int]:
    """Seconds of the incremental run on a copy of ``warehouse_ws`` (a full run's workspace), and of
    the same raw taken into an empty warehouse (where the later versions are first versions); and
    the raw records the increment holds."""
    times = []
    for base in (warehouse_ws, None):
        ws_root = scratch / ("ws-incr" if base else "ws-incr-alone")
        shutil.rmtree(ws_root, ignore_errors=True)
        if base:
            shutil.copytree(base, ws_root)
            ws = Workspace.open(ws_root)
        else:
            ws = Workspace.init(ws_root)
        records = write_increment(ws.lake_root, orders, new)
        t = time.perf_counter()
        summary = warehouse.run(ws)
        times.append(time.perf_counter() - t)
        assert summary.balanced
        shutil.rmtree(ws_root)
    return times[0], times[1], records


def incremental_figures(runs: list[tuple[float, float, int]]) -> dict[str, object]:
    on_warehouse, alone = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    records = runs[0][2]
    return {
        "raw_records": records,
        "of_which_later_versions": records // 2,
        "seconds": round(on_warehouse, 2),
        "seconds_each_run": [round(r[0], 2) for r in runs],
        "records_per_s": round(records / on_warehouse),
        "same_raw_into_empty_warehouse_s": round(alone, 2),
        "ratio_to_empty_warehouse": round(on_warehouse / alone, 2),
    }


def slowest_steps(runs: list[dict[str, float]], shown: int = 15) -> dict[str, float]:
    """The ``shown`` slowest steps by their median seconds over ``runs`` (a step a run lacks: 0),
    and the rest added up."""
    names = {n for r in runs for n in r}
    top, others, rest = slowest({n: statistics.median(r.get(n, 0.0) for r in runs) for n in names}, shown)
    return {**{n: round(sec, 2) for n, sec in top}, f"{others} other steps": round(rest, 2)}


def timed_run(template: Path, scratch: Path) -> tuple[float, warehouse.RunSummary, Path]:
    """One ``warehouse.run`` over a fresh copy of the template workspace (its raw zone unprocessed)."""
    ws_root = scratch / "ws"
    shutil.rmtree(ws_root, ignore_errors=True)
    shutil.copytree(template, ws_root)
    ws = Workspace.open(ws_root)
    t = time.perf_counter()
    summary = warehouse.run(ws)
    return time.perf_counter() - t, summary, ws_root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--increment", type=int, default=100_000, help="new orders of the next day (and as many updates)")
    ap.add_argument("--repeat", type=int, default=3, help="runs (and floors) measured; the median is reported")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "standardize.json")
    args = ap.parse_args()
    if args.increment > args.orders:  # the next day updates as many of the first day's orders
        ap.error(f"--increment ({args.increment:,}) exceeds --orders ({args.orders:,})")
    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        template = Workspace.init(Path(tmp) / "template")
        files = write_raw(template.lake_root, args.orders)
        floors_read = [floor(files, False) for _ in range(args.repeat)]
        floors_parse = [floor(files, True) for _ in range(args.repeat)]
        floors_mapped = [floor_transform(files) for _ in range(args.repeat)]
        times, writes, incremental, steps = [], [], [], []
        for _ in range(args.repeat):
            seconds, summary, ws_root = timed_run(template.root, Path(tmp))
            times.append(seconds)
            steps.append(summary.timings)
            assert summary.snapshot is not None
            writes.append(floor_write(summary.snapshot, Path(tmp)))
            incremental.append(timed_increment(ws_root, Path(tmp), args.orders, args.increment))
        # counts and the balance check from the last run (every run does the same work)
        con = warehouse.connect(Workspace.open(ws_root))
        n_orders, n_lines, n_shipments = con.execute(
            "SELECT (SELECT count(*) FROM unified.orders), (SELECT count(*) FROM unified.order_line), "
            "(SELECT count(*) FROM unified.shipment)"
        ).fetchone()
        con.close()
    import resource

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    seconds, floor_read = statistics.median(times), statistics.median(floors_read)
    floor_parse, floor_mapped = statistics.median(floors_parse), statistics.median(floors_mapped)
    floor_written = statistics.median(writes)
    rate = n_orders / seconds
    result = {
        "orders": n_orders,
        "order_lines": n_lines,
        "shipments": n_shipments,
        "balanced": summary.balanced,
        "runs": args.repeat,
        "seconds": round(seconds, 2),
        "seconds_each_run": [round(t, 2) for t in times],
        "orders_per_s": {"value": round(rate), "target": 100_000, "ratio": round(rate / 100_000, 2)},
        "floor_read_s": round(floor_read, 2),
        "floor_read_parse_s": round(floor_parse, 2),
        "ratio_to_floor_read": {"value": round(seconds / floor_read, 2), "target_max": 3.0},
        "ratio_to_floor_read_parse": {"value": round(seconds / floor_parse, 2), "target_max": 3.0},
        "floor_read_mapped_paths_s": round(floor_mapped, 2),
        "ratio_to_floor_read_mapped_paths": {"value": round(seconds / floor_mapped, 2), "target_max": 3.0},
        # Not the floor, beside it: what reading the raw (mapped paths) and writing the
        # output once cost together. The pipeline's remaining time is parsing, merging and lineage.
        "floor_write_output_s": round(floor_written, 2),
        "floor_read_mapped_plus_write_s": round(floor_mapped + floor_written, 2),
        "ratio_to_floor_read_mapped_plus_write": round(seconds / (floor_mapped + floor_written), 2),
        # where the run's time goes (``RunSummary.timings``, what `ecfusion run --timings` prints):
        # each step's median over the runs, the slowest first
        "slowest_steps_s": slowest_steps(steps),
        "incremental": incremental_figures(incremental),
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        # the process's peak over all runs: each run's own peak is not lower than the largest
        "peak_rss_gb": {"value": round(peak_gb, 2), "target_max": 4.0},
        "cores": psutil.cpu_count(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
