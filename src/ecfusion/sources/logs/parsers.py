"""Line parsers for collected logs (采集层 5.1: log data is one of the collected kinds).

``parse_nginx_combined`` reads nginx's default ``combined`` log format::

    $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
    "$http_referer" "$http_user_agent"

optionally followed by more quoted or bare fields (``$request_time``, ``$upstream_*``), which are
kept as ``extra``. nginx escapes ``"`` and control bytes inside quoted fields as ``\\xHH``; they are
decoded back. Every parser raises ``LineParseError`` with a short reason; the tailer quarantines
the line with that reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import orjson

from ecfusion.lake import jsontext


class LineParseError(ValueError):
    """One log line could not be parsed; ``reason`` is what the quarantine records."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_COMBINED = re.compile(
    r"^(?P<remote_addr>\S+) \S+ (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] "
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<body_bytes_sent>\d+|-)'
    r'(?: "(?P<http_referer>(?:[^"\\]|\\.)*)" "(?P<http_user_agent>(?:[^"\\]|\\.)*)")?'
    r"(?P<extra>(?: .*)?)$"
)
_HEX_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})")


def _unescape(value: str) -> str:
    """Undo nginx's ``\\xHH`` escaping (bytes, then UTF-8 with replacement for broken sequences)."""
    if "\\x" not in value:
        return value
    raw = _HEX_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    return raw.encode("latin-1", errors="replace").decode("utf-8", errors="replace")


def _dash_to_none(value: str | None) -> str | None:
    return None if value in (None, "-") else value


def _split_request(request: str) -> tuple[str | None, str | None, str | None]:
    parts = request.split(" ")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return None, None, None  # e.g. "-" or a garbage probe: keep the raw request only


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
_TIME_LOCAL = re.compile(r"^(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")


@lru_cache(maxsize=4096)
def parse_nginx_time(value: str) -> str:
    """``10/Oct/2026:13:55:36 +0800`` → ISO-8601 UTC (``2026-10-10T05:55:36+00:00``).

    Hand-parsed and cached (many lines share a second): ``strptime`` cost more than the rest of
    the line's parsing together.
    """
    m = _TIME_LOCAL.match(value)
    if m is None or m.group(2) not in _MONTHS:
        raise LineParseError(f"bad_time: {value!r} is not nginx $time_local")
    day, _, year, hh, mm, ss, sign, oh, om = m.groups()
    offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    try:
        local = datetime(
            int(year), _MONTHS[m.group(2)], int(day), int(hh), int(mm), int(ss), tzinfo=timezone(offset)
        )
    except ValueError as e:
        raise LineParseError(f"bad_time: {value!r} is not nginx $time_local") from e
    return local.astimezone(UTC).isoformat()


def parse_nginx_combined(line: str) -> dict[str, Any]:
    """One nginx ``combined`` access-log line → a flat dict of named fields."""
    m = _COMBINED.match(line.rstrip("\r\n"))
    if m is None:
        raise LineParseError("not_nginx_combined: line does not match the combined log format")
    request = _unescape(m["request"])
    method, path, protocol = _split_request(request)
    sent = m["body_bytes_sent"]
    extra = m["extra"].strip()
    return {
        "remote_addr": m["remote_addr"],
        "remote_user": _dash_to_none(m["remote_user"]),
        "time": parse_nginx_time(m["time_local"]),
        "time_local": m["time_local"],
        "request": request,
        "method": method,
        "path": path,
        "protocol": protocol,
        "status": int(m["status"]),
        "body_bytes_sent": 0 if sent == "-" else int(sent),
        "http_referer": _dash_to_none(_unescape(m["http_referer"] or "-")),
        "http_user_agent": _dash_to_none(_unescape(m["http_user_agent"] or "-")),
        "extra": extra or None,
    }


def parse_jsonl_line(line: str) -> dict[str, Any]:
    """One JSON Lines line → its object; anything else (array, scalar, broken JSON) is an error."""
    try:
        value = jsontext.loads(line)
    except orjson.JSONDecodeError as e:
        raise LineParseError(f"malformed_json: {e.args[0] if e.args else e}") from e
    if not isinstance(value, dict):
        raise LineParseError(f"not_an_object: a JSONL log line must be an object, got {type(value).__name__}")
    return value
