"""nginx combined and JSONL line parsing: real-world quirks, one row each; never crashes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.sources.logs import LineParseError, parse_jsonl_line, parse_nginx_combined

NGINX_ROWS = [
    # (line, expected subset)
    (
        '203.0.113.9 - - [22/Nov/2026:10:15:02 +0800] "GET /item/123?spm=a1 HTTP/1.1" 200 5123 '
        '"https://shop.example.cn/" "Mozilla/5.0 (iPhone)"',
        {
            "remote_addr": "203.0.113.9",
            "remote_user": None,
            "method": "GET",
            "path": "/item/123?spm=a1",
            "protocol": "HTTP/1.1",
            "status": 200,
            "body_bytes_sent": 5123,
            "time": "2026-11-22T02:15:02+00:00",
            "http_referer": "https://shop.example.cn/",
            "http_user_agent": "Mozilla/5.0 (iPhone)",
        },
    ),
    (
        '10.0.0.1 - alice [01/Jan/2026:00:00:00 +0000] "POST /api/cart HTTP/2.0" 201 0 "-" "-"',
        {
            "remote_user": "alice",
            "method": "POST",
            "status": 201,
            "http_referer": None,
            "http_user_agent": None,
        },
    ),
    (
        '10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "-" 400 0 "-" "-"',
        {"request": "-", "method": None, "path": None, "status": 400},
    ),
    (
        '10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /a HTTP/1.1" 304 - "-" "curl/8"',
        {"body_bytes_sent": 0, "status": 304},
    ),
    (
        '10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /\\x22q\\x22 HTTP/1.1" 200 1 "-" "ua \\x22x\\x22"',
        {"path": '/"q"', "http_user_agent": 'ua "x"'},
    ),
    (
        '10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /%E6%89%8B%E6%9C%BA HTTP/1.1" 200 9 "-" "ua" '
        '0.012 "up"',
        {"path": "/%E6%89%8B%E6%9C%BA", "extra": '0.012 "up"'},
    ),
    (
        '2001:db8::1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 9',  # common format, no referer/UA
        {"remote_addr": "2001:db8::1", "http_referer": None},
    ),
    (
        '10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /\\xE6\\x89\\x8B HTTP/1.1" 200 1 "-" "-"',
        {"path": "/手"},
    ),
]


@pytest.mark.parametrize(("line", "expected"), NGINX_ROWS)
def test_nginx_combined_fields(line: str, expected: dict[str, object]) -> None:
    got = parse_nginx_combined(line)
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "not_nginx_combined"),
        ("hello world", "not_nginx_combined"),
        ('10.0.0.1 - - [99/Foo/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', "bad_time"),
        ('10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" abc 1 "-" "-"', "not_nginx_combined"),
    ],
)
def test_nginx_bad_lines_have_reasons(line: str, reason: str) -> None:
    with pytest.raises(LineParseError) as e:
        parse_nginx_combined(line)
    assert e.value.reason.startswith(reason)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"a": 1', "malformed_json"),
        ("[1, 2]", "not_an_object"),
        ("42", "not_an_object"),
        ("", "malformed_json"),
    ],
)
def test_jsonl_bad_lines_have_reasons(line: str, reason: str) -> None:
    with pytest.raises(LineParseError) as e:
        parse_jsonl_line(line)
    assert e.value.reason.startswith(reason)


def test_jsonl_keeps_big_ids_exact() -> None:
    assert parse_jsonl_line('{"order_id": 6919283746512345678}')["order_id"] == 6919283746512345678


@given(st.text(max_size=300))
def test_parsers_never_crash_on_any_text(text: str) -> None:
    for parse in (parse_nginx_combined, parse_jsonl_line):
        try:
            assert isinstance(parse(text), dict)
        except LineParseError as e:
            assert e.reason
