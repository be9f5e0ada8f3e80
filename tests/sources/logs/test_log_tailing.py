"""Tailing logs into the raw zone: offsets as checkpoints, rotation, quarantine, no loss, no doubles."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from ecfusion.lake import RawLake
from ecfusion.sources.contract import connector_kind
from ecfusion.sources.logs import LogConnector, LogSourceConfig
from ecfusion.sources.sync import sync

LINE = '10.0.0.{n} - - [22/Nov/2026:10:15:02 +0800] "GET /item/{n} HTTP/1.1" 200 {n} "-" "ua"\n'


def _config(path: Path, **kw: object) -> LogSourceConfig:
    return LogSourceConfig(name="web_access", path=path, format="nginx", entity="access_log", **kw)


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def _rows(lake: RawLake) -> list[dict[str, object]]:
    table = lake.read_raw("web_access", "access_log", columns=["payload"])
    return [orjson.loads(p) for p in table.column("payload").to_pylist()]


def _paths(lake: RawLake) -> list[str]:
    return sorted(r["path"] for r in _rows(lake))  # type: ignore[misc]


def _sync(lake: RawLake, cfg: LogSourceConfig):  # type: ignore[no-untyped-def]
    report = sync(LogConnector(cfg), lake, stop_on_error=True)
    return report.streams[0]


def test_kind_is_registered_for_config_tables() -> None:
    assert connector_kind("logs").config_model is LogSourceConfig


def test_lines_land_once_and_the_offset_is_the_checkpoint(lake: RawLake, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    _append(log, "".join(LINE.format(n=n) for n in range(3)))
    first = _sync(lake, _config(log))
    assert (first.landed, first.quarantined) == (3, 0)
    state = lake.checkpoints.get("web_access", "access_log")
    assert state == {"inode": os.stat(log).st_ino, "offset": log.stat().st_size, "generation": 0}
    _append(log, LINE.format(n=3))
    second = _sync(lake, _config(log))
    assert second.landed == 1
    assert _paths(lake) == ["/item/0", "/item/1", "/item/2", "/item/3"]


def test_a_half_written_line_waits_for_its_newline(lake: RawLake, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    full = LINE.format(n=1)
    _append(log, full[:20])
    assert _sync(lake, _config(log)).landed == 0
    _append(log, full[20:])
    assert _sync(lake, _config(log)).landed == 1
    assert _paths(lake) == ["/item/1"]


def test_identical_lines_are_two_records_but_rereading_doubles_nothing(lake: RawLake, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    _append(log, LINE.format(n=7) * 2)
    assert _sync(lake, _config(log)).landed == 2
    # a crash after landing and before the checkpoint: the next run re-reads from an older state
    lake.checkpoints.delete("web_access", "access_log")
    again = _sync(lake, _config(log))
    assert (again.landed, again.duplicates) == (0, 2)
    assert len(_rows(lake)) == 2


def test_unparseable_lines_are_quarantined_with_reason_and_location(lake: RawLake, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    _append(log, LINE.format(n=1) + "garbage line\n" + b"\xff\xfe bad\n".decode("latin-1"))
    with open(log, "ab") as f:
        f.write(b"\xff\xfe not utf8\n")
    report = _sync(lake, _config(log))
    assert report.landed == 1
    assert report.quarantined == 3
    items = lake.read_quarantine("web_access", "access_log")
    assert {i.reason.split(":")[0] for i in items} == {"not_nginx_combined", "not_utf8"}
    assert any(i.raw_bytes == b"garbage line" for i in items)
    assert all(i.location.startswith(str(log) + ":") for i in items)


def test_rename_and_create_rotation_drains_the_old_file_first(lake: RawLake, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    _append(log, LINE.format(n=1))
    _sync(lake, _config(log))
    _append(log, LINE.format(n=2))  # written after the last poll, before rotation
    os.rename(log, tmp_path / "access.log.1")
    _append(log, LINE.format(n=3))
    report = _sync(lake, _config(log))
    assert report.landed == 2
    assert _paths(lake) == ["/item/1", "/item/2", "/item/3"]
    state = lake.checkpoints.get("web_access", "access_log")
    assert state is not None and state["inode"] == os.stat(log).st_ino and state["generation"] == 1


def test_copytruncate_restarts_at_zero_and_keeps_new_lines_distinct(lake: RawLake, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    _append(log, LINE.format(n=1) + LINE.format(n=2))
    _sync(lake, _config(log))
    (tmp_path / "access.log.1").write_bytes(log.read_bytes())
    with open(log, "r+b") as f:
        f.truncate(0)
    _append(log, LINE.format(n=1))  # same text as the first line ever, same offset 0: still a new request
    connector = LogConnector(_config(log))
    report = sync(connector, lake, stop_on_error=True).streams[0]
    assert report.landed == 1
    assert _paths(lake) == ["/item/1", "/item/1", "/item/2"]
    assert any("copytruncate" in w for w in connector.warnings)


def test_jsonl_with_content_identity_collapses_exact_duplicates(lake: RawLake, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    _append(log, '{"event":"view","sku":"A"}\n{"event":"view","sku":"A"}\n{"event":"buy","sku":"A"}\n')
    cfg = LogSourceConfig(
        name="web_access", path=log, format="jsonl", entity="access_log", identity="content"
    )
    report = _sync(lake, cfg)
    assert (report.landed, report.duplicates) == (2, 1)


def test_check_names_a_missing_file(tmp_path: Path) -> None:
    result = LogConnector(_config(tmp_path / "nope.log")).check()
    assert not result.ok and "nope.log" in result.message and result.hint


def test_follow_keeps_landing_until_stopped(lake: RawLake, tmp_path: Path) -> None:
    import threading
    import time

    from ecfusion.sources.logs.tail import follow

    log = tmp_path / "access.log"
    log.write_text("")
    stop = threading.Event()
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(follow(LogConnector(_config(log)), lake, stop).landed)
    )
    worker.start()
    try:
        for n in range(3):
            _append(log, LINE.format(n=n))
        deadline = time.monotonic() + 30
        while (
            lake.checkpoints.get("web_access", "access_log") is None
            or lake.checkpoints.get("web_access", "access_log")["offset"] < log.stat().st_size
        ):  # type: ignore[index]
            assert time.monotonic() < deadline, "lines never landed"
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert result == [3] and _paths(lake) == ["/item/0", "/item/1", "/item/2"]
