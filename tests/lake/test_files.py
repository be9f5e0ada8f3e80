"""Landing files as a merchant's data team would: formats, encodings, bad lines, re-runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecfusion.lake import RawLake
from ecfusion.lake.files import ingest_files
from ecfusion.lake.readers import Position, Unreadable, read_csv, read_jsonl

ROWS = [
    {"order_id": "A1", "store": "南京新街口店", "amount": "12.50"},
    {"order_id": "A2", "store": "上海徐家汇店", "amount": "8.00"},
]


def _csv(rows: list[dict[str, str]]) -> str:
    head = ",".join(rows[0])
    return head + "\n" + "".join(",".join(r.values()) + "\n" for r in rows)


def _jsonl(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _xml(rows: list[dict[str, str]]) -> str:
    body = "".join("<sale>" + "".join(f"<{k}>{v}</{k}>" for k, v in r.items()) + "</sale>" for r in rows)
    return f"<export><meta>pos</meta><sales>{body}</sales></export>"


# One row per format × encoding quirk a merchant's export really has.
CASES = [
    ("sales.csv", "utf-8", "", _csv),
    ("sales.csv", "utf-8-sig", "", _csv),  # Excel's "CSV UTF-8" writes a BOM
    ("sales.csv", "gbk", "", _csv),
    ("sales.csv", "gb18030", "", _csv),
    ("sales.csv", "gbk", "gbk", _csv),  # declared
    ("sales.jsonl", "utf-8", "", _jsonl),
    ("sales.jsonl", "gb18030", "", _jsonl),
    ("sales.jsonl", "utf-8-sig", "", _jsonl),
    ("sales.json", "utf-8", "", lambda rows: json.dumps(rows, ensure_ascii=False)),
    ("sales.json", "gbk", "", lambda rows: json.dumps({"data": rows}, ensure_ascii=False)),
    ("sales.xml", "utf-8", "", _xml),
    ("sales.xml", "gbk", "", lambda rows: '<?xml version="1.0" encoding="GBK"?>' + _xml(rows)),
]


@pytest.mark.parametrize(("name", "codec", "declared", "render"), CASES)
def test_every_format_and_encoding_lands_the_same_records(
    lake: RawLake, tmp_path: Path, name: str, codec: str, declared: str, render
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(render(ROWS).encode(codec))
    summary = ingest_files(lake, "pos", [path], entity="sales", encoding=declared or "auto")
    r = summary.total
    assert (r.offered, r.landed, r.quarantined) == (2, 2, 0), r
    payloads = sorted(lake.read_raw("pos", "sales").column("payload").to_pylist())
    assert [json.loads(p).get("store") for p in payloads] == [
        "南京新街口店",
        "上海徐家汇店",
    ]


def test_excel_sheets_land_row_by_row(lake: RawLake, tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "销售"
    ws.append(["order_id", "sold_at", "amount"])
    ws.append(["A1", dt.datetime(2026, 3, 8, 10, 0), 12.5])
    ws.append([None, None, None])
    ws.append(["A2", dt.datetime(2026, 3, 8, 11, 0), 8, "备注: 赠品"])  # a cell right of the header
    path = tmp_path / "sales.xlsx"
    wb.save(path)
    r = ingest_files(lake, "pos", [path], entity="sales").total
    assert (r.offered, r.landed) == (2, 2)
    rows = [json.loads(p) for p in lake.read_raw("pos", "sales").column("payload").to_pylist()]
    assert {"order_id": "A1", "sold_at": "2026-03-08T10:00:00", "amount": 12.5} in rows
    assert {"order_id": "A2", "sold_at": "2026-03-08T11:00:00", "amount": 8, "column_4": "备注: 赠品"} in rows


def test_bad_jsonl_lines_are_quarantined_with_reason_and_line_and_the_rest_lands(
    lake: RawLake, tmp_path: Path
) -> None:
    path = tmp_path / "orders.jsonl"
    lines = [
        '{"tid": 1, "name": "李娜"}'.encode(),
        b'{"tid": 2 "status": "x"}',
        '{"tid": 3, "name": "张敏"}'.encode("gbk"),
        b"",
        b"[1,2]",
        b'{"tid": 4}',
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    r = ingest_files(lake, "taobao", [path], entity="orders").total
    assert (r.offered, r.landed, r.quarantined) == (5, 2, 3)
    assert r.reasons == {"malformed_json": 1, "wrong_encoding": 1, "not_an_object": 1}
    got = {q.location.rsplit(":", 1)[1]: q for q in lake.read_quarantine("taobao", "orders")}
    assert got["2"].reason == "malformed_json: Expecting ',' delimiter at col 11"
    assert got["3"].reason == "wrong_encoding: not valid utf-8 at byte 20"
    assert got["3"].raw_bytes == lines[2]


def test_csv_rows_of_the_wrong_width_are_quarantined(lake: RawLake, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text('id,amount\n1,2.0\n2,3.0,extra\n"3","4,5"\n', encoding="utf-8")
    r = ingest_files(lake, "pos", [path], entity="sales").total
    assert (r.landed, r.quarantined, r.reasons) == (2, 1, {"bad_row": 1})
    [q] = lake.read_quarantine("pos", "sales")
    assert (q.raw_bytes, q.location) == (b"2,3.0,extra", f"{path}:3")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("a.json", b'{"tid": 1', "malformed_json"),
        ("a.xml", b"<orders><order>1</order><order>", "malformed_xml"),
        ("a.xlsx", b"PK not a zip", "unreadable_xlsx"),
        ("a.csv", b"", "empty_file"),
        ("a.xml", b'<!DOCTYPE x [<!ENTITY a "b">]><x><y>&a;</y><y/></x>', "malformed_xml"),
    ],
)
def test_a_file_that_cannot_be_read_is_quarantined_whole(
    lake: RawLake, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    r = ingest_files(lake, "files", [path], entity="things").total
    assert (r.offered, r.quarantined, r.landed) == (1, 1, 0) and set(r.reasons) == {reason}
    assert lake.read_quarantine("files", "things")[0].raw_bytes == content


def test_rerun_skips_landed_files_and_lands_appended_lines(lake: RawLake, tmp_path: Path) -> None:
    path = tmp_path / "events" / "e.jsonl"
    path.parent.mkdir()
    path.write_text(_jsonl(ROWS), encoding="utf-8")
    assert ingest_files(lake, "app", [path.parent]).total.landed == 2
    again = ingest_files(lake, "app", [path.parent])
    assert again.skipped_files == [str(path)] and again.total.offered == 0
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"order_id": "A3"}\n')
    grown = ingest_files(lake, "app", [path.parent]).total
    assert (grown.offered, grown.landed) == (1, 1)
    assert lake.read_raw("app", "events").num_rows == 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b and b"\r" not in b), max_size=12))
def test_jsonl_reader_never_crashes_and_accounts_for_every_non_blank_line(
    tmp_path: Path, lines: list[bytes]
) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"\n".join(lines))
    try:
        items = list(read_jsonl(path, "fuzz", "utf-8", Position()))
    except Exception as e:  # pragma: no cover - the property under test
        pytest.fail(f"reader raised {e!r}")
    non_blank = [ln for ln in lines if ln.strip()]
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        non_blank = [ln for ln in [lines[0][3:], *lines[1:]] if ln.strip()]
    assert len(items) == len(non_blank)
    for it in items:
        assert (it.record is None) == (it.reason is not None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from('ab,"\n\r;\t中x'), max_size=80), st.sampled_from(["utf-8", "gbk"]))
def test_csv_reader_never_crashes_and_every_item_is_a_record_or_a_reason(
    tmp_path: Path, body: str, codec: str
) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(("id,name\n" + body).encode(codec))
    try:
        items = list(read_csv(path, "fuzz", "auto", Position()))
    except Unreadable:
        return
    for it in items:
        assert (it.record is None) == (it.reason is not None)
        if it.record is not None:
            assert set(it.record) == {"id", "name"}


# A platform's API response saved whole, as platforms.md documents each: the records are inside.
RESPONSES = {
    "taobao": {
        "trades_sold_increment_get_response": {
            "total_results": 2,
            "has_next": False,
            "trades": {"trade": [{"tid": 1}, {"tid": 2}]},
        }
    },
    "jd": {
        "jingdong_pop_order_enSearch_responce": {
            "code": "0",
            "searchorderinfo_result": {
                "orderTotal": 2,
                "orderInfoList": [{"orderId": "1"}, {"orderId": "2"}],
                "apiResult": {"success": True},
            },
        }
    },
    "pdd": {
        "order_sn_increment_get_response": {
            "total_count": 2,
            "has_next": False,
            "order_sn_list": [{"order_sn": "1"}, {"order_sn": "2"}],
        }
    },
    "douyin": {
        "code": 10000,
        "msg": "success",
        "sub_code": "",
        "sub_msg": "",
        "log_id": "L1",
        "data": {"page": 0, "size": 2, "total": 2, "shop_order_list": [{"order_id": "1"}, {"order_id": "2"}]},
    },
}


@pytest.mark.parametrize("platform", sorted(RESPONSES))
def test_a_saved_api_response_lands_its_records_not_itself(
    lake: RawLake, tmp_path: Path, platform: str
) -> None:
    """Before: the whole response landed as one record without an order id (quarantined by the run
    as missing_required) — the user had to cut the records out by hand."""
    path = tmp_path / f"{platform}.json"
    path.write_text(json.dumps(RESPONSES[platform]), encoding="utf-8")
    r = ingest_files(lake, platform, [path], entity="orders").total
    assert (r.offered, r.landed, r.quarantined) == (2, 2, 0)
    ids = sorted(
        next(iter(json.loads(p).values()))
        for p in lake.read_raw(platform, "orders").column("payload").to_pylist()
    )
    assert ids in ([1, 2], ["1", "2"])


def test_an_empty_page_lands_nothing_and_an_error_response_is_quarantined_with_its_message(
    lake: RawLake, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(
        json.dumps({"trades_sold_increment_get_response": {"total_results": 0, "has_next": False}})
    )
    r = ingest_files(lake, "taobao", [empty], entity="orders").total
    assert (r.offered, r.landed, r.quarantined) == (0, 0, 0)
    error = tmp_path / "error.json"
    error.write_text(json.dumps({"error_response": {"code": 27, "msg": "Invalid session", "sub_code": "x"}}))
    r = ingest_files(lake, "taobao", [error], entity="orders").total
    assert (r.offered, r.landed, r.quarantined) == (1, 0, 1)
    [held] = lake.read_quarantine("taobao", "orders")
    assert held.reason == "api_error: the platform's error response (27 Invalid session), not records"


def test_jsonl_of_api_response_pages_lands_every_page_s_records_and_resumes_inside_a_page(
    lake: RawLake, tmp_path: Path
) -> None:
    """A crawler that writes each page it pulled as a line: each page's records land, an error page
    is quarantined with its message, and a landing cut between two records of one page reads that
    page again on resume (never past a record not yet landed)."""
    page = RESPONSES["taobao"]
    one = {"trades_sold_increment_get_response": {"total_results": 1, "trades": {"trade": [{"tid": 3}]}}}
    error = {"error_response": {"code": 7, "msg": "App Call Limited"}}
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in (page, one, error, {"tid": 4})) + "\n", encoding="utf-8")
    items = list(read_jsonl(path, "pages.jsonl"))
    assert [i.record for i in items if i.record] == [{"tid": 1}, {"tid": 2}, {"tid": 3}, {"tid": 4}]
    assert [i.reason for i in items if i.reason] == [
        "api_error: the platform's error response (7 App Call Limited), not records"
    ]
    # cut after the page's first record: resuming reads the whole page again, then the rest
    again = list(read_jsonl(path, "pages.jsonl", start=items[0].after))
    assert [i.record for i in again if i.record] == [{"tid": 1}, {"tid": 2}, {"tid": 3}, {"tid": 4}]
    # after its last record: the next page
    assert [i.record for i in read_jsonl(path, "pages.jsonl", start=items[1].after) if i.record][0] == {
        "tid": 3
    }
    r = ingest_files(lake, "taobao", [path], entity="orders").total
    assert (r.offered, r.landed, r.quarantined) == (5, 4, 1)
