"""Region completion end to end: real landing (the phone's region derived before encryption) →
``warehouse.run`` → ``unified.orders`` (a missing receiver region completed, flagged by its source),
``unified.member_account`` and, with an IP database configured, ``unified.behaviour_event``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.lake import RawLake


def _trade(tid: int, buyer: str, mobile: str, province: str, city: str) -> dict[str, Any]:
    return {
        "tid": tid, "tid_str": str(tid), "status": "WAIT_SELLER_SEND_GOODS",
        "created": "2026-11-01 10:00:00", "pay_time": "2026-11-01 10:05:00",
        "modified": "2026-11-01 10:05:00",
        "payment": "99.00", "total_fee": "99.00", "buyer_open_uid": buyer, "buyer_nick": "t**y",
        "receiver_name": "李雷", "receiver_mobile": mobile, "receiver_state": province,
        "receiver_city": city, "receiver_district": "", "receiver_address": "文三路1号",
        "orders": {"order": [{"oid": tid * 10, "num_iid": 5, "sku_id": "6", "title": "T恤", "price": "99.00",
                              "num": 1, "total_fee": "99.00", "payment": "99.00"}]},
    }


def test_receiver_region_completed_from_phone_and_flagged(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    with RawLake.open(ws, protect_workers=0) as lake:
        with lake.writer(source="taobao", entity="orders", platform="taobao") as w:
            w.add(_trade(11, "AAA", "13912345678", "", ""), record_key="11")  # no address region
            w.add(_trade(12, "BBB", "13912345678", "浙江省", "杭州市"), record_key="12")  # observed wins
            w.add(_trade(13, "CCC", "139****5678", "", ""), record_key="13")  # masked: nothing to complete
        with lake.writer(source="crm", entity="members", platform="crm") as w:
            w.add({"member_id": "M1", "mobile": "13800138000", "updated_at": "2026-11-01T08:00:00"},
                  record_key="M1")
    summary = warehouse.run(ws)
    assert summary.balanced
    assert summary.notes[0].startswith("IP → region completion: off")
    assert summary.notes[1].startswith("phone prefix → region completion: 1 orders")
    con = warehouse.connect(ws)
    try:
        orders = con.execute(
            "SELECT platform_order_id, receiver_province, receiver_city, receiver_region_source,"
            " receiver_phone_province, receiver_phone_city FROM unified.orders ORDER BY 1").fetchall()
        accounts = dict(con.execute(
            "SELECT account_key, (province, city, phone_province, phone_city) FROM unified.member_account"
        ).fetchall())
    finally:
        con.close()
    assert orders == [
        ("11", "江苏省", "常州市", "phone_prefix", "江苏省", "常州市"),
        ("12", "浙江省", "杭州市", "address", "江苏省", "常州市"),
        ("13", "", "", None, None, None),
    ]
    # An account's province/city stay the OBSERVED address region; the phone's region is separate.
    assert accounts["taobao:AAA"] == (None, None, "江苏省", "常州市")
    assert accounts["taobao:BBB"] == ("浙江省", "杭州市", "江苏省", "常州市")
    assert accounts["taobao:CCC"] == ("", "", None, None)
    assert accounts["crm:M1"] == (None, None, "北京市", "北京市")


def test_ip_regions_join_back_on_the_engine(tmp_path: Path) -> None:
    """The run's distinct IPs are looked up row-wise and joined back; off → NULL columns, no rows lost."""
    import duckdb

    from ecfusion.engine import open_engine
    from ecfusion.standardize.normalize.xdb import write_xdb
    from ecfusion.warehouse.completion import add_ip_regions

    db = write_xdb(tmp_path / "ip.xdb", [("1.0.0.0", "1.0.255.255", "中国|广东省|深圳市|电信")])
    conn = duckdb.connect()
    engine = open_engine("duckdb", conn)
    engine.view("ev", "SELECT * FROM (VALUES ('e1', '1.0.3.4'), ('e2', '1.0.3.4'), ('e3', '9.9.9.9'),"
                      " ('e4', NULL), ('e5', 'not-an-ip')) AS t(event_id, ip)")
    on = add_ip_regions(engine, "ev", db)
    got = conn.execute(f"SELECT event_id, ip_province, ip_city, _ip_bad FROM {on} ORDER BY 1").fetchall()
    assert got == [
        ("e1", "广东省", "深圳市", False), ("e2", "广东省", "深圳市", False), ("e3", None, None, False),
        ("e4", None, None, False), ("e5", None, None, True)]
    engine.view("ev_again", "SELECT * FROM ev")
    off = add_ip_regions(engine, "ev_again", None)  # completion off: no region, the IPs still checked
    assert conn.execute(f"SELECT count(*), count(ip_province), list(event_id) FILTER (WHERE _ip_bad) "
                        f"FROM {off}").fetchone() == (5, 0, ["e5"])
    engine.close()


def test_behaviour_events_get_the_ip_region_when_a_database_is_configured(tmp_path: Path) -> None:
    from ecfusion.standardize.normalize.xdb import write_xdb

    ws = Workspace.init(tmp_path / "ws")
    db = write_xdb(ws.root / "ip.xdb", [("36.96.0.0", "36.96.255.255", "中国|0|北京|北京|联通")])
    config = ws.root / "ecfusion.toml"
    config.write_text(config.read_text().replace('ip_database = ""', 'ip_database = "ip.xdb"'))
    ws = Workspace.open(ws.root)
    with RawLake.open(ws, protect_workers=0) as lake, lake.writer(source="app", entity="events",
                                                                  platform="app") as w:
        for n, ip in enumerate(["36.96.1.2", "36.96.1.2", "8.8.8.8", None]):
            w.add({"event_id": f"E{n}", "event_type": "view", "ts": 1761955200000 + n, "ip": ip,
                   "device_id": "d1", "user_id": "u1"}, record_key=f"E{n}")
    summary = warehouse.run(ws)
    assert summary.balanced and summary.notes[0] == f"IP → region completion: on ({db.name})"
    con = warehouse.connect(ws)
    try:
        rows = con.execute(
            "SELECT event_id, ip_province, ip_city FROM unified.behaviour_event ORDER BY 1").fetchall()
    finally:
        con.close()
    beijing = ("北京市", "北京市")
    assert rows == [("E0", *beijing), ("E1", *beijing), ("E2", None, None), ("E3", None, None)]


def test_an_event_whose_ip_is_no_address_is_kept_and_flagged(tmp_path: Path) -> None:
    """With IP completion off (no database): the IPs are still read as logs write them, and an
    event whose IP is none is kept, flagged bad_ip, counted in the summary and in the quality
    flags a dashboard reads — never a region left empty without a word."""
    ws = Workspace.init(tmp_path / "ws")
    ips = ["36.96.1.2", "036.096.001.002", "1.0.0.1:8080", "２４０e::1", "999.1.1.1", "未知", None]
    with RawLake.open(ws, protect_workers=0) as lake, lake.writer(source="app", entity="events",
                                                                  platform="app") as w:
        for n, ip in enumerate(ips):
            w.add({"event_id": f"E{n}", "event_type": "view", "ts": 1761955200000 + n, "ip": ip,
                   "device_id": "d1", "user_id": "u1"}, record_key=f"E{n}")
    summary = warehouse.run(ws)
    assert summary.balanced and summary.notes[0].startswith("IP → region completion: off")
    assert summary.flagged_by_rule.get("bad_ip") == 2
    con = warehouse.connect(ws)
    try:
        flagged = con.execute(
            "SELECT event_id, ip FROM unified.behaviour_event WHERE contains(quality_flags, 'bad_ip') "
            "ORDER BY 1").fetchall()
        kept = con.execute("SELECT count(*) FROM unified.behaviour_event").fetchone()
        rows = con.execute("SELECT rule, count(*) FROM unified.quality_flag WHERE rule = 'bad_ip' "
                           "GROUP BY rule").fetchall()
    finally:
        con.close()
    assert flagged == [("E4", "999.1.1.1"), ("E5", "未知")]
    assert kept == (len(ips),)
    assert rows == [("bad_ip", 2)]
