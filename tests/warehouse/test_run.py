"""The warehouse run end to end on a small raw zone: merge, quarantine, reconcile, snapshots."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rawzone import RawZone, cli, damage_payload_page, one_line, taobao_trade, token
from rawzone import rows as _rows

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.engine.duck import DuckDBEngine
from ecfusion.errors import EngineError, OutOfMemory
from ecfusion.standardize import sqlgen
from ecfusion.warehouse.snapshot import SnapshotStore
from ecfusion.warehouse.status import status


def test_unknown_status_is_quarantined_with_reason_and_reconciled(workspace: Workspace, raw: RawZone) -> None:
    raw.add(
        "taobao",
        "orders",
        [
            taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00"),
            taobao_trade(2, "MARTIAN_STATUS", "2026-11-01 10:05:00"),
        ],
    )
    s = warehouse.run(workspace)
    assert s.balanced
    [rec] = s.reconciliation
    assert (rec.raw_in, rec.unified, rec.quarantined, rec.duplicates) == (2, 1, 1, 0)
    [(rule, reason)] = _rows(workspace, "SELECT rule, reason FROM unified.quarantine")
    assert rule == "unknown_status" and "MARTIAN_STATUS" in reason and "taobao.toml" in reason
    assert _rows(workspace, "SELECT order_key FROM unified.orders") == [("taobao:1",)]


def test_out_of_order_versions_latest_modified_wins_and_history_is_complete(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [taobao_trade(7, "TRADE_FINISHED", "2026-11-05 09:00:00", refund="SUCCESS")])
    warehouse.run(workspace)
    raw.add(
        "taobao",
        "orders",
        [
            taobao_trade(7, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00"),
            taobao_trade(7, "WAIT_BUYER_CONFIRM_GOODS", "2026-11-02 10:00:00"),
        ],
    )
    s = warehouse.run(workspace)
    assert s.balanced
    [(status, versions, ids)] = _rows(
        workspace, "SELECT status, version_count, len(raw_record_ids) FROM unified.orders"
    )
    assert (status, versions, ids) == ("completed", 3, 3)
    assert _rows(workspace, "SELECT refund_status FROM unified.order_line") == [("refunded",)]
    history = _rows(
        workspace, "SELECT seq, from_status, status FROM unified.order_status_history ORDER BY seq"
    )
    assert history == [(1, None, "paid"), (2, "paid", "shipped"), (3, "shipped", "completed")]


def test_rerun_changes_nothing_and_duplicates_are_counted(workspace: Workspace, raw: RawZone) -> None:
    trade = taobao_trade(3, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00", lines=2)
    raw.add("taobao", "orders", [trade])
    first = warehouse.run(workspace)
    tables = (
        "SELECT (SELECT count(*) FROM unified.orders), (SELECT count(*) FROM unified.order_line), "
        "(SELECT sum(pay_amount) FROM unified.orders)"
    )
    before = _rows(workspace, tables)
    again = warehouse.run(workspace)
    assert again.files_processed == 0 and again.snapshot == first.snapshot
    raw.add("taobao", "orders", [trade], dt="2026-11-21")  # the same record landed again elsewhere
    third = warehouse.run(workspace)
    assert [(r.raw_in, r.unified, r.duplicates) for r in third.reconciliation] == [(1, 0, 1)]
    assert _rows(workspace, tables) == before


def test_snapshot_switch_keeps_readers_consistent_and_rollback_works(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    warehouse.run(workspace)
    reader = warehouse.connect(workspace)  # a reader holding the first snapshot
    raw.add("taobao", "orders", [taobao_trade(2, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    warehouse.run(workspace)
    assert reader.execute("SELECT count(*) FROM unified.orders").fetchone() == (1,)
    assert _rows(workspace, "SELECT count(*) FROM unified.orders") == [(2,)]
    # a third run publishes: the reader's file is no longer live nor previous and is deleted,
    # yet the reader keeps reading the whole of its snapshot until it disconnects
    raw.add("taobao", "orders", [taobao_trade(3, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    warehouse.run(workspace)
    assert len(list(workspace.warehouse_root.glob("snapshot-*.duckdb"))) == 2
    seen = reader.execute("SELECT count(*), min(platform_order_id) FROM unified.orders").fetchone()
    assert seen == (1, "1")
    assert reader.execute("SELECT count(*) FROM unified.order_line").fetchone() == (1,)
    reader.close()
    warehouse.SnapshotStore.of(workspace).rollback()
    assert _rows(workspace, "SELECT count(*) FROM unified.orders") == [(2,)]


def test_four_platforms_member_account_and_listing(workspace: Workspace, raw: RawZone) -> None:
    from tests_payloads import DOUYIN, JD, PDD

    raw.add("taobao", "orders", [taobao_trade(1, "TRADE_FINISHED", "2026-11-01 10:05:00")])
    raw.add("jd", "orders", [JD])
    raw.add("pdd", "orders", [PDD])
    raw.add("douyin", "orders", [DOUYIN])
    raw.add("crm", "members", [{"member_id": "m1", "updated_at": "2026-11-01T10:00:00"}])
    raw.add("wms", "shipments", [{"sku": "s1"}])  # no mapping yet: pending, not lost
    s = warehouse.run(workspace)
    assert s.balanced and s.files_pending == 1
    assert {p.platform: p.orders for p in s.platforms} == {"douyin": 1, "jd": 1, "pdd": 1, "taobao": 1}
    keys = {r[0] for r in _rows(workspace, "SELECT account_key FROM unified.member_account")}
    assert keys == {"taobao:AAH1", "jd:jd_buyer", "pdd:phone-PHONEBIDX", "douyin:dy1", "crm:m1"}
    listings = _rows(workspace, "SELECT count(*), count(DISTINCT listing_key) FROM unified.listing")
    assert listings == [(5, 5)] or listings[0][0] == listings[0][1]


def test_crm_member_updates_merge_into_one_account(workspace: Workspace, raw: RawZone) -> None:
    first = {"member_id": "M1", "mobile": "ef1:phone:k:old:c", "registered_at": "2026-01-01T08:00:00"}
    raw.add("crm", "members", [{**first, "updated_at": "2026-11-01T08:00:00"}, {"member_id": ""}])
    s1 = warehouse.run(workspace)
    assert s1.balanced and s1.quarantine_by_rule == {"missing_required": 1}
    raw.add("crm", "members", [{**first, "mobile": "ef1:phone:k:new:c", "updated_at": "2026-11-02T08:00:00"}])
    s2 = warehouse.run(workspace)
    assert s2.balanced
    rows = _rows(
        workspace,
        "SELECT account_key, phone_bidx, first_seen_at, len(raw_record_ids) FROM unified.member_account",
    )
    assert rows == [("crm:M1", "new", datetime(2026, 1, 1, 0, 0), 2)]


def test_copies_of_one_record_in_one_run_count_once(workspace: Workspace, raw: RawZone) -> None:
    """The same raw record in two files of one run: one unified order with its own lines, one duplicate."""
    trade = taobao_trade(5, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00", lines=2)
    raw.add("taobao", "orders", [trade])
    raw.add("taobao", "orders", [trade], dt="2026-11-21")
    s = warehouse.run(workspace)
    assert [(r.raw_in, r.unified, r.quarantined, r.duplicates) for r in s.reconciliation] == [(2, 1, 0, 1)]
    assert _rows(
        workspace,
        "SELECT (SELECT count(*) FROM unified.orders), (SELECT count(*) FROM unified.order_line), "
        "(SELECT count(*) FROM unified.order_version), (SELECT count(*) FROM unified.order_status_history)",
    ) == [(1, 2, 1, 1)]


def test_an_order_whose_lines_share_an_id_is_quarantined_and_its_copy_is_not_blamed(
    workspace: Workspace, raw: RawZone
) -> None:
    """Two lines with one line id cannot be told apart: the order is quarantined with the line id and
    the count; the same record landed twice is one quarantined record and one duplicate, not two
    quarantined ones, and a clean order beside it is untouched."""
    bad = taobao_trade(8, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00", lines=2)
    bad["orders"]["order"][1]["oid"] = bad["orders"]["order"][0]["oid"]
    clean = taobao_trade(9, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00", lines=2)
    raw.add("taobao", "orders", [bad, clean])
    raw.add("taobao", "orders", [bad], dt="2026-11-21")
    s = warehouse.run(workspace)
    assert [(r.raw_in, r.unified, r.quarantined, r.duplicates) for r in s.reconciliation] == [(3, 1, 1, 1)]
    [(rule, reason)] = _rows(workspace, "SELECT rule, reason FROM unified.quarantine")
    assert rule == "duplicate_line_id"
    assert reason == "duplicate_line_id: line taobao:8:80 appears 2 times in the order"
    lines = _rows(workspace, "SELECT order_key, count(*) FROM unified.order_line GROUP BY ALL")
    assert lines == [("taobao:9", 2)]


def test_an_order_discount_is_spread_over_lines_that_carry_no_share_of_it(
    workspace: Workspace, raw: RawZone
) -> None:
    """JD gives the seller's discount per order only: it is spread over the lines in proportion to
    their amounts, in whole fen (largest remainder), so the lines add up to the order; Taobao's
    lines carry their own share and keep it; Douyin's show it as origin minus paid amount."""
    from tests_payloads import DOUYIN, JD

    items = [
        {"skuId": "1001", "wareId": "2001", "skuName": "T恤", "jdPrice": "10.00", "itemTotal": "1"},
        {"skuId": "1002", "wareId": "2002", "skuName": "袜子", "jdPrice": "10.00", "itemTotal": "1"},
        {"skuId": "1003", "wareId": "2003", "skuName": "帽子", "jdPrice": "10.00", "itemTotal": "1"},
    ]
    jd = {**JD, "orderTotalPrice": "30.00", "sellerDiscount": "10.00", "orderPayment": "20.00",
          "itemInfoList": items}
    uneven = [  # 5.00 over 10.00, 20.00 and 0.01: 1.666…, 3.332…, 0.001… → 1.67, 3.33, 0.00
        {"skuId": "1", "wareId": "1", "skuName": "a", "jdPrice": "10.00", "itemTotal": "1"},
        {"skuId": "2", "wareId": "2", "skuName": "b", "jdPrice": "20.00", "itemTotal": "1"},
        {"skuId": "3", "wareId": "3", "skuName": "c", "jdPrice": "0.01", "itemTotal": "1"},
    ]
    jd2 = {**JD, "orderId": "300100201", "sellerDiscount": "5.00", "itemInfoList": uneven}
    raw.add("jd", "orders", [jd, jd2])
    raw.add("taobao", "orders", [taobao_trade(4, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00", lines=2)])
    raw.add("douyin", "orders", [DOUYIN])  # a paid amount per line, no discount: the difference
    assert warehouse.run(workspace).balanced
    lines = _rows(
        workspace,
        "SELECT line_key, line_amount, discount_amount, pay_amount FROM unified.order_line ORDER BY 1",
    )
    assert [(k, str(a), str(d), str(p)) for k, a, d, p in lines] == [
        ("douyin:6920000000000000123:6920000000000000124", "123.45", "3.45", "120.00"),
        ("jd:300100200:1001", "10.00", "3.34", "6.66"),  # 10.00 / 3 = 3.333…: the first by line key
        ("jd:300100200:1002", "10.00", "3.33", "6.67"),  # takes the remaining fen
        ("jd:300100200:1003", "10.00", "3.33", "6.67"),
        ("jd:300100201:1", "10.00", "1.67", "8.33"),
        ("jd:300100201:2", "20.00", "3.33", "16.67"),
        ("jd:300100201:3", "0.01", "0.00", "0.01"),
        ("taobao:4:40", "105.04", "5.00", "100.04"),  # the platform's own share
        ("taobao:4:41", "105.04", "5.00", "100.04"),
    ]


def test_orders_whose_region_is_blank_or_missing_are_written_once(
    workspace: Workspace, raw: RawZone
) -> None:
    """A blank receiver province in one order and none in another are two region keys; each order
    matches its own, not both (it was written twice, and its buyer's account with it)."""
    blank = taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
    blank["receiver_state"] = ""
    missing = taobao_trade(2, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
    del missing["receiver_state"]
    raw.add("taobao", "orders", [blank, missing])
    assert warehouse.run(workspace).balanced
    assert _rows(
        workspace,
        "SELECT (SELECT count(*) FROM unified.orders), "
        "(SELECT count(DISTINCT order_key) FROM unified.orders), "
        "(SELECT count(*) FROM unified.member_account), "
        "(SELECT count(DISTINCT account_key) FROM unified.member_account)",
    ) == [(2, 2, 2, 2)]


def test_a_buyer_s_later_order_updates_the_account_and_keeps_its_history(
    workspace: Workspace, raw: RawZone
) -> None:
    """Accounts merge run by run: the latest order's contact wins; first sighting and raw ids stay."""
    first = taobao_trade(7, "TRADE_FINISHED", "2026-11-02 10:00:00")  # buyer AAH0
    raw.add("taobao", "orders", [first])
    warehouse.run(workspace)
    later = taobao_trade(14, "WAIT_SELLER_SEND_GOODS", "2026-11-09 10:00:00")  # the same buyer, a new phone
    later["created"] = "2026-11-09 09:00:00"
    later["receiver_mobile"] = token("phone", "13912345678")
    raw.add("taobao", "orders", [later])
    warehouse.run(workspace)
    [(phone, first_seen, last_seen, n_ids)] = _rows(
        workspace,
        "SELECT phone_token, first_seen_at, last_seen_at, len(raw_record_ids) FROM unified.member_account "
        "WHERE account_key = 'taobao:AAH0'",
    )
    assert phone == token("phone", "13912345678")
    assert (str(first_seen), str(last_seen), n_ids) == ("2026-11-01 02:00:00", "2026-11-09 02:00:00", 2)


def test_a_warehouse_from_an_older_model_gains_the_new_columns(workspace: Workspace, raw: RawZone) -> None:
    """A snapshot written before a column existed keeps working: the next run adds the column."""
    import duckdb

    from ecfusion.warehouse.snapshot import SnapshotStore

    raw.add("taobao", "orders", [taobao_trade(1, "TRADE_FINISHED", "2026-11-01 10:05:00")])
    warehouse.run(workspace)
    live = SnapshotStore.of(workspace).current()
    assert live is not None
    with duckdb.connect(str(live)) as con:  # as an older ecfusion left it
        con.execute("ALTER TABLE unified.member_account DROP COLUMN card_no")
    raw.add("taobao", "orders", [taobao_trade(2, "TRADE_FINISHED", "2026-11-02 10:05:00")])
    assert warehouse.run(workspace).balanced
    assert _rows(workspace, "SELECT count(*), count(card_no) FROM unified.member_account") == [(2, 0)]


@pytest.mark.parametrize("same_run", [True, False])
def test_a_later_version_that_blanks_the_receiver_keeps_the_earlier_contact(
    workspace: Workspace, raw: RawZone, same_run: bool
) -> None:
    """Pinduoduo clears the decrypted receiver once an order ships: the order and its buyer's
    account keep the receiver an earlier version showed, whether it came in this run or before."""
    paid = taobao_trade(7, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
    shipped = taobao_trade(7, "WAIT_BUYER_CONFIRM_GOODS", "2026-11-02 10:00:00")
    for field in ("receiver_name", "receiver_mobile", "receiver_address"):
        shipped[field] = ""
    raw.add("taobao", "orders", [paid])
    if not same_run:
        warehouse.run(workspace)
    raw.add("taobao", "orders", [shipped], dt="2026-11-21")
    assert warehouse.run(workspace).balanced
    contact = "SELECT status, receiver_phone_token, receiver_address_token FROM unified.orders"
    assert _rows(workspace, contact) == [("shipped", paid["receiver_mobile"], paid["receiver_address"])]
    assert _rows(workspace, "SELECT phone_token FROM unified.member_account") == [(paid["receiver_mobile"],)]


def test_douyin_receiver_is_the_decrypted_one_with_region_names(workspace: Workspace, raw: RawZone) -> None:
    """Douyin's post_addr levels are {name, id} objects; the merchant's decrypted receiver
    (post_receiver / post_tel / post_addr.detail) is preferred to the platform's ciphertext handles,
    which give no blind index; without the decrypt the handles are still kept."""
    from tests_payloads import DOUYIN

    addr = {
        "province": {"name": "河南省", "id": "41"},
        "city": {"name": "郑州市", "id": "410100"},
        "town": {"name": "二七区", "id": ""},
        "street": {"name": "", "id": ""},
    }
    handles = {
        "encrypt_post_receiver": token("name", "##handle-name##"),
        "encrypt_post_tel": token("phone", "$$handle-tel$$"),
        "mask_post_tel": "138****0669",
        "post_addr": {**addr, "encrypt_detail": token("address", "#handle-addr#")},
    }
    decrypted = {
        **DOUYIN,
        **handles,
        "post_receiver": token("name", "刘薇"),
        "post_tel": token("phone", "13886910669"),
        "post_addr": {**handles["post_addr"], "detail": token("address", "解放路560号")},
    }
    undecrypted = {**DOUYIN, **handles, "order_id": 6920000000000000999, "doudian_open_id": "dy2"}
    raw.add("douyin", "orders", [decrypted, undecrypted])
    assert warehouse.run(workspace).balanced
    got = _rows(
        workspace,
        "SELECT account_key, province, city, district, name_token, phone_token, address_token "
        "FROM unified.member_account ORDER BY account_key",
    )
    assert got == [
        ("douyin:dy1", "河南省", "郑州市", "二七区", token("name", "刘薇"), token("phone", "13886910669"),
         token("address", "解放路560号")),
        ("douyin:dy2", "河南省", "郑州市", "二七区", handles["encrypt_post_receiver"],
         handles["encrypt_post_tel"], handles["post_addr"]["encrypt_detail"]),
    ]


def _cut_short(path: Path) -> None:
    """As a copy cut short leaves it: no Parquet footer."""
    path.write_bytes(path.read_bytes()[:200])


def _replaced_by_another_tools_parquet(path: Path) -> None:
    """As a file some other tool wrote into the raw zone: Parquet, but not the envelope."""
    duckdb.sql(f"COPY (SELECT 1 AS order_id, 'x' AS platform) TO '{path}' (FORMAT parquet)")


NO_IDS = "1 record without a raw_record_id or platform (every landed record has both)"


def _payload_as_bytes(path: Path) -> None:
    """As another writer may store the payload: the same JSON, as bytes."""
    table = pq.read_table(path)
    i = table.schema.get_field_index("payload")
    as_bytes = pa.array([p.encode() for p in table.column("payload").to_pylist()], pa.binary())
    pq.write_table(table.set_column(i, pa.field("payload", pa.binary()), as_bytes), path)


def _without(column: str) -> Callable[[Path], None]:
    """As a file another writer made in the envelope's shape, its record without ``column``."""

    def rewrite(path: Path) -> None:
        table = pq.read_table(path)
        nullable = table.schema.set(table.schema.get_field_index(column), pa.field(column, pa.string()))
        rows = [{**r, column: None} for r in table.to_pylist()]
        pq.write_table(pa.Table.from_pylist(rows, schema=nullable), path)

    return rewrite


def _a_record_twice(path: Path) -> None:
    """As a file written outside landing may be: one record in it twice."""
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table]), path)


def _landed_by_a_newer_ecfusion(path: Path) -> None:
    """As a collector upgraded before the warehouse writes: the envelope in a later version."""
    table = pq.read_table(path)
    i = table.schema.get_field_index("schema_version")
    later = pa.array([2] * table.num_rows, pa.int32())
    pq.write_table(table.set_column(i, table.schema.field(i), later), path)


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (_cut_short, "Invalid Input Error: No magic bytes found at end of file"),
        (damage_payload_page, "Invalid Input Error: Failed to read file: Snappy decompression failure"),
        (_replaced_by_another_tools_parquet,
         "not a raw-zone file: it lacks the envelope columns raw_record_id, source, payload that every "
         "landed file has"),
        # before: a NOT NULL constraint traceback at the write; "pending: orders of None" for ever
        (_without("raw_record_id"), NO_IDS),
        (_without("platform"), NO_IDS),
        # before: the stage failed, blaming a mapping file, and the run took nothing
        (_payload_as_bytes, "not a raw-zone file: payload is BLOB, where every landed file has text"),
        # before: read as version 1, whatever its fields mean now
        # before: two copies counted as four records, and the order quarantined duplicate_line_id
        # (each line seemed to repeat)
        (_a_record_twice,
         "1 more copy of records it already holds (landing writes each record once: land the source "
         "again instead)"),
        (_landed_by_a_newer_ecfusion,
         "landed in envelope version 2, and this ecfusion reads version 1: upgrade ecfusion where the "
         "warehouse runs to the collectors' version"),
    ],
    ids=["cut_short", "damaged_data_page", "not_the_envelope", "no_record_id", "no_platform", "bytes",
         "a_record_twice", "newer_envelope"],
)
def test_an_unreadable_raw_file_is_named_left_for_later_and_the_rest_is_taken(
    workspace: Workspace, raw: RawZone, damage: Callable[[Path], None], why: str
) -> None:
    first = raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    damaged = raw.add("taobao", "orders", [taobao_trade(2, "WAIT_SELLER_SEND_GOODS", "2026-11-01 11:05:00")])
    whole = damaged.read_bytes()
    damage(damaged)
    shown = cli("run", "-w", str(workspace.root))
    said = one_line(shown.stdout)
    # no traceback, and no error blaming a mapping (what a stage failing on the payloads said)
    assert shown.returncode == 1 and "Traceback" not in shown.stderr and "mapping" not in shown.stderr
    relative = str(damaged.relative_to(workspace.lake_root))
    assert "raw files that cannot be read, left unprocessed: 1" in said
    assert f"{relative}: {why}" in said
    # the other file is taken and reconciled; the damaged one is not recorded as processed
    assert _rows(workspace, "SELECT order_key FROM unified.orders") == [("taobao:1",)]
    assert _rows(workspace, "SELECT path FROM meta.processed_file") == [
        (str(first.relative_to(workspace.lake_root)),)
    ]
    # `warehouse status` says it waits and, without a run, why no run takes it; damage inside a
    # payload page it does not see (that takes reading every value, which a run does when it fails)
    seen = {} if damage is damage_payload_page else {relative: why}
    assert status(workspace).files_unreadable == seen
    asked = cli("warehouse", "status", "-w", str(workspace.root))
    shown_status = one_line(asked.stdout)
    assert asked.returncode == 0 and "raw waiting 1 files" in shown_status
    assert ("of which a run cannot take 1 (" in shown_status) == bool(seen)
    assert (f"{relative}: {why}" in shown_status) == bool(seen)
    # restored from a backup, the next run takes it
    damaged.write_bytes(whole)
    s = warehouse.run(workspace)
    assert s.unreadable_files == {} and s.balanced
    assert _rows(workspace, "SELECT order_key FROM unified.orders ORDER BY 1") == [
        ("taobao:1",), ("taobao:2",)
    ]


def test_a_stage_that_fails_on_readable_raw_still_says_what_failed(
    workspace: Workspace, raw: RawZone, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe for damaged files finds none, so the engine's own error is raised unchanged."""
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    monkeypatch.setattr(sqlgen, "orders_header_sql", lambda m, raw: "SELECT no_such_column FROM " + raw)
    with pytest.raises(EngineError, match="DuckDB failed on hdr_taobao"):
        warehouse.run(workspace)
    assert SnapshotStore.of(workspace).current() is None  # nothing published


def _set_warehouse(workspace: Workspace, **settings: object) -> Workspace:
    """``workspace`` with ``[warehouse]`` keys set in its ecfusion.toml, opened again."""
    config = workspace.root / "ecfusion.toml"
    text = config.read_text()
    for key, value in settings.items():  # each key is in the default file, under [warehouse] only
        text = re.sub(rf"^{key} = .*$", f"{key} = {json.dumps(value)}", text, count=1, flags=re.M)
    config.write_text(text)
    return Workspace.open(workspace.root)


def test_a_run_out_of_memory_names_the_setting_to_raise_and_publishes_nothing(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [taobao_trade(i, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
                                 for i in range(1, 200)])
    _set_warehouse(workspace, memory_limit="1MB", threads=1)
    shown = cli("run", "-w", str(workspace.root))
    assert shown.returncode == 1 and "Traceback" not in shown.stderr
    [line] = shown.stderr.strip().splitlines()  # DuckDB's advice (SET commands) is not for a user here
    assert line.startswith("error[ECF510]: DuckDB ran out of memory in a run: Out of Memory Error")
    assert "raise [warehouse] memory_limit in ecfusion.toml, or lower [warehouse] threads" in line
    assert SnapshotStore.of(workspace).current() is None
    # with DuckDB's default, the same raw is taken whole
    s = warehouse.run(_set_warehouse(workspace, memory_limit="", threads=0))
    assert s.balanced and s.raw_in == 199


def test_a_stage_out_of_memory_names_the_stage_and_the_settings_in_force() -> None:
    con = duckdb.connect(config={"memory_limit": "8MB", "threads": 1})
    engine = DuckDBEngine(con)
    with pytest.raises(OutOfMemory) as e:  # ten million integers in one list: 80 MB at once
        engine.materialize("big_list", "SELECT list(range) AS l FROM range(10000000)")
    assert e.value.message.startswith("DuckDB ran out of memory on big_list: Out of Memory Error")
    assert e.value.message.endswith("(memory_limit 7.6 MiB, threads 1)")
    assert "memory_limit" in (e.value.hint or "") and "mapping" not in (e.value.hint or "")


def test_the_threads_setting_reaches_the_run_connection(workspace: Workspace) -> None:
    store = SnapshotStore.of(_set_warehouse(workspace, threads=1, memory_limit="2GB"))
    with store.draft("settings") as draft, draft.connection() as con:
        got = con.execute("SELECT current_setting('threads'), current_setting('memory_limit')").fetchone()
    assert got == (1, "1.8 GiB")


def test_a_raw_file_gone_before_its_stage_is_a_file_error_not_a_mapping_error(tmp_path: Path) -> None:
    engine = DuckDBEngine(duckdb.connect())
    with pytest.raises(EngineError) as e:  # moved away by hand between discovery and staging
        engine.register_parquet("raw_orders", [str(tmp_path / "gone.parquet")])
    assert e.value.message.startswith("DuckDB could not read or write a file on raw_orders: IO Error")
    assert "raw files are there" in (e.value.hint or "") and "mapping" not in (e.value.hint or "")


def test_a_payload_that_is_not_json_is_quarantined_and_the_run_goes_on(
    workspace: Workspace, raw: RawZone
) -> None:
    """Before: json_transform's error ended the run ("Malformed JSON … check the mapping file")."""
    good = taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
    raw.add("taobao", "orders", [good, '{"tid": 2,', '[{"tid": 3}]', '"tid 4"'])
    raw.add("crm", "members", ["not json"], source="crm")
    s = warehouse.run(workspace)
    assert s.balanced and s.quarantine_by_rule == {"malformed_payload": 4}
    # JSON that is not an object too (before: missing_required, "orders.platform_order_id is missing")
    quarantined = "SELECT entity, rule, reason, count(*) FROM unified.quarantine GROUP BY ALL ORDER BY 1"
    assert _rows(workspace, quarantined) == [
        ("members", "malformed_payload", sqlgen.MALFORMED_REASON, 1),
        ("orders", "malformed_payload", sqlgen.MALFORMED_REASON, 3),
    ]
    assert _rows(workspace, "SELECT order_key FROM unified.orders") == [("taobao:1",)]


def test_a_line_with_no_id_or_a_line_list_that_is_no_list_fails_its_order_with_a_reason(
    workspace: Workspace, raw: RawZone
) -> None:
    """Before: a NOT NULL traceback on order_line.line_key at the write, and the run took nothing.
    A line is told apart by its line id, else its SKU or item id; an object with none fails its
    order like a missing required field. A line list that is not a list of objects (not a list, or
    with an element that is not an object) fails it with bad_value, on both engines: Spark reads
    such a list as NULL, and DuckDB once took its 7 for an object without ids."""
    good = taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")
    paid = "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00"
    not_objects = {**taobao_trade(2, *paid), "orders": {"order": [7]}}
    no_ids = {**taobao_trade(3, *paid), "orders": {"order": [{"title": "衬衫", "num": 1, "price": "10.00"}]}}
    # before: taken as an order without lines, the list's content dropped
    not_a_list = {**taobao_trade(4, *paid), "orders": {"order": {"oid": 5}}}
    raw.add("taobao", "orders", [good, not_objects, no_ids, not_a_list])
    s = warehouse.run(workspace)
    assert s.balanced and s.quarantine_by_rule == {"bad_value": 2, "missing_required": 1}
    reasons = _rows(workspace, "SELECT DISTINCT reason FROM unified.quarantine ORDER BY 1")
    assert reasons == [
        ("bad_value: order_line items (path orders.order) = [7] is not a list of objects",),
        ('bad_value: order_line items (path orders.order) = {"oid":5} is not a list of objects',),
        ("missing_required: order_line.line_id (paths oid_str, oid, sku_id, num_iid) is empty: the item has "
         "no line, SKU or item id",),
    ]
    assert _rows(workspace, "SELECT order_key FROM unified.orders") == [("taobao:1",)]


def test_a_raw_file_without_a_record_is_recorded_as_read_not_left_pending(
    workspace: Workspace, raw: RawZone
) -> None:
    """Before: "pending: … orders of taobao 0" on every run, and `status` said a file waits."""
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    raw.add("taobao", "orders", [])
    s = warehouse.run(workspace)
    assert (s.files_processed, s.files_pending, s.pending_reasons) == (2, 0, {})
    assert "raw files with no record, recorded as read: 1" in s.notes
    assert _rows(workspace, "SELECT count(*), sum(rows) FROM meta.processed_file") == [(2, 1)]
    # alone in a later run, it is recorded all the same (a snapshot is published for it)
    raw.add("jd", "orders", [], dt="2026-11-21")
    again = warehouse.run(workspace)
    assert again.files_processed == 1 and again.raw_in == 0
    assert status(workspace).files_waiting == {}


def test_a_parquet_file_outside_the_raw_layout_is_named_not_silently_ignored(
    workspace: Workspace, raw: RawZone
) -> None:
    placed = raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    stray = placed.parent.parent / "part-copied-by-hand.parquet"  # one folder too high: no dt=
    stray.write_bytes(placed.read_bytes())
    s = warehouse.run(workspace)
    assert s.balanced and s.raw_in == 1
    note = next(n for n in s.notes if n.startswith("Parquet files outside the raw zone's layout"))
    assert f"not read: 1 ({stray.relative_to(workspace.lake_root)})" in note
    assert "raw/source=<source>/entity=<entity>/dt=<YYYY-MM-DD>/" in note
