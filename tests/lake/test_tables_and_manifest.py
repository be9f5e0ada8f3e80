"""Landing database tables (keyed, resumable snapshots) and a simulated merchant's manifest folder."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ecfusion.errors import InputError
from ecfusion.lake import RawLake, ingest_manifest, ingest_table
from ecfusion.lake import tables as lake_tables


def _crm(path: Path, members: int) -> Path:
    con = sqlite3.connect(path)
    con.execute(
        "create table members (member_id integer primary key, name text, mobile text, "
        "points numeric, joined_at timestamp)"
    )
    con.execute("create table member_levels (level text primary key, min_points integer)")
    con.executemany(
        "insert into members values (?,?,?,?,?)",
        [(i, "李娜", f"1350000{i:04d}", 10.5 * i, "2025-01-01 08:00:00") for i in range(1, members + 1)],
    )
    con.executemany("insert into member_levels values (?,?)", [("silver", 0), ("gold", 1000)])
    con.commit()
    con.close()
    return path


def test_a_table_lands_in_key_order_and_a_rerun_is_all_duplicates(
    lake: RawLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lake_tables, "PAGE_ROWS", 40)
    url = f"sqlite:///{_crm(tmp_path / 'crm.sqlite', 100)}"
    first = ingest_table(lake, "crm", url, "members")
    assert (first.offered, first.landed) == (100, 100)
    assert lake.checkpoints.get("crm", "table:members") == {
        "key": "member_id",
        "last": 100,
        "offset": 100,
        "done": True,
    }
    again = ingest_table(lake, "crm", url, "members")
    assert (again.offered, again.duplicates) == (100, 100)
    keys = lake.read_raw("crm", "members").column("record_key").to_pylist()
    assert sorted(keys, key=int) == [str(i) for i in range(1, 101)]


def test_an_interrupted_snapshot_resumes_after_the_last_landed_key(
    lake: RawLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lake_tables, "PAGE_ROWS", 30)
    url = f"sqlite:///{_crm(tmp_path / 'crm.sqlite', 100)}"
    lake.checkpoints.put(
        "crm", "table:members", {"key": "member_id", "last": 60, "offset": 60, "done": False}
    )
    resumed = ingest_table(lake, "crm", url, "members")
    assert resumed.offered == 40 and lake.read_raw("crm", "members").num_rows == 40


def test_a_missing_table_names_the_tables_that_exist(lake: RawLake, tmp_path: Path) -> None:
    url = f"sqlite:///{_crm(tmp_path / 'crm.sqlite', 1)}"
    with pytest.raises(InputError, match="member_levels, members"):
        ingest_table(lake, "crm", url, "member")


@pytest.mark.services
def test_a_mariadb_table_lands_like_a_sqlite_one(lake: RawLake) -> None:
    name = f"ecf_members_{uuid.uuid4().hex[:10]}"
    url = "mysql+pymysql://root@127.0.0.1:3306/test"
    try:
        engine = create_engine(url)
        with engine.begin() as c:
            c.execute(
                text(
                    f"create table {name} (member_id int primary key, mobile varchar(20), "
                    "balance decimal(10,2))"
                )
            )
            c.execute(text(f"insert into {name} values (1, '13500000001', 3.50), (2, '13500000002', 0.00)"))
    except Exception as e:  # pragma: no cover - no server
        pytest.fail(f"MariaDB not reachable at 127.0.0.1:3306: {e}")
    try:
        r = ingest_table(lake, "crm", url, name, entity="members")
        assert (r.offered, r.landed) == (2, 2)
        payloads = [json.loads(p) for p in lake.read_raw("crm", "members").column("payload").to_pylist()]
        assert {p["balance"] for p in payloads} == {"3.50", "0.00"}
    finally:
        with engine.begin() as c:
            c.execute(text(f"drop table {name}"))
        engine.dispose()


def _merchant(folder: Path) -> None:
    (folder / "platforms/taobao/orders").mkdir(parents=True)
    (folder / "pos/sales").mkdir(parents=True)
    (folder / "crm").mkdir()
    (folder / "marketing").mkdir()
    (folder / "platforms/taobao/orders/part-00001.jsonl").write_text(
        '{"tid": 1, "receiver_name": "张敏"}\n{"tid": 2,\n{"tid": 1, "receiver_name": "张敏"}\n',
        encoding="utf-8",
    )
    (folder / "pos/sales/pos_20260101.csv").write_bytes("单号,门店,金额\nP1,南京店,12.00\n".encode("gbk"))
    (folder / "marketing/campaigns.json").write_text(
        json.dumps([{"campaign_id": "C1", "name": "双11"}]), encoding="utf-8"
    )
    _crm(folder / "crm/crm.sqlite", 3)
    files = [
        {
            "path": "platforms/taobao/orders/part-00001.jsonl",
            "source": "taobao",
            "platform": "taobao",
            "entity": "orders",
            "format": "jsonl",
            "encoding": "utf-8",
            "records": 3,
        },
        {
            "path": "pos/sales/pos_20260101.csv",
            "source": "pos",
            "platform": "pos",
            "entity": "sales",
            "format": "csv",
            "encoding": "gbk",
            "records": 1,
        },
        {
            "path": "marketing/campaigns.json",
            "source": "marketing",
            "platform": "marketing",
            "entity": "campaigns",
            "format": "json",
            "encoding": "utf-8",
            "records": 1,
        },
        {
            "path": "crm/crm.sqlite",
            "source": "crm",
            "platform": "crm",
            "entity": "members",
            "format": "sqlite",
            "encoding": "utf-8",
            "records": 3,
        },
    ]
    (folder / "manifest.json").write_text(json.dumps({"seed": 1, "files": files}), encoding="utf-8")


def test_a_manifest_folder_lands_every_source_and_reconciles(lake: RawLake, tmp_path: Path) -> None:
    folder = tmp_path / "merchant"
    _merchant(folder)
    summary = ingest_manifest(lake, folder)
    got = {k: (r.offered, r.landed, r.duplicates, r.quarantined) for k, r in summary.results.items()}
    assert got == {
        ("taobao", "orders"): (3, 1, 1, 1),
        ("pos", "sales"): (1, 1, 0, 0),
        ("marketing", "campaigns"): (1, 1, 0, 0),
        ("crm", "members"): (3, 3, 0, 0),
        ("crm", "member_levels"): (2, 2, 0, 0),
    }
    assert summary.total.reconciled
    [q] = lake.read_quarantine("taobao", "orders")
    assert q.location == "platforms/taobao/orders/part-00001.jsonl:2" and q.raw_bytes == b'{"tid": 2,'
    pos = json.loads(lake.read_raw("pos", "sales").column("payload")[0].as_py())
    assert pos == {"单号": "P1", "门店": "南京店", "金额": "12.00"}
    rerun = ingest_manifest(lake, folder)
    assert len(rerun.skipped_files) == 3 and rerun.total.landed == 0


def test_a_folder_without_manifest_is_a_clear_error(lake: RawLake, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="manifest.json not found"):
        ingest_manifest(lake, tmp_path)
