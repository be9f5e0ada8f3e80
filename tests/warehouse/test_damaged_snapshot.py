"""A damaged live snapshot (a disk error, a truncated copy restored over it, an edit made outside
ecfusion, a file deleted): every command says so in one line with what to do, never a traceback; a
run refuses to build on it and leaves it as it is; and a rollback plus the next run give back
everything from the raw zone. A disk that cannot take the next snapshot: the same one line, the
live snapshot unchanged, nothing lost once there is room (warehouse/snapshot.py ``io_error``,
warehouse/status.py).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from rawzone import RawZone, cli, one_line, rows, taobao_trade

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.errors import WarehouseIOError
from ecfusion.warehouse import snapshot
from ecfusion.warehouse.snapshot import SnapshotStore

BLOCK = 262_144  # DuckDB's block size; the file's blocks start after its 3 header pages of 4 KiB


def truncate(path: Path) -> None:
    """As a copy cut short leaves a file: its first megabyte."""
    os.truncate(path, 1_000_000)


def break_checksums(path: Path) -> None:
    """As a disk error leaves it: every block's checksum overwritten, so any block read fails."""
    with path.open("r+b") as f:
        for offset in range(3 * 4096, path.stat().st_size, BLOCK):
            f.seek(offset)
            f.write(b"\xde\xad\xbe\xef" * 2)


def break_table(path: Path, table: str) -> None:
    """As a disk error leaves it in one table only: the checksum of every block holding ``table``'s
    columns overwritten (blocks no other table shares, so the rest of the file reads as before)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        owners: dict[int, set[str]] = {}
        tables = "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        tables += "WHERE database_name = current_database()"
        blocks = "SELECT DISTINCT block_id FROM pragma_storage_info(?) WHERE persistent AND block_id >= 0"
        for (name,) in con.execute(tables).fetchall():
            for (block,) in con.execute(blocks, [name]).fetchall():
                owners.setdefault(block, set()).add(name)
    finally:
        con.close()
    blocks = [b for b, names in owners.items() if table in names]
    assert blocks and all(owners[b] == {table} for b in blocks), owners
    with path.open("r+b") as f:
        for block in blocks:
            f.seek(3 * 4096 + block * BLOCK)
            f.write(b"\xde\xad\xbe\xef" * 2)


@pytest.fixture
def two_runs(workspace: Workspace, raw: RawZone) -> Workspace:
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    warehouse.run(workspace)
    raw.add("taobao", "orders", [taobao_trade(2, "WAIT_SELLER_SEND_GOODS", "2026-11-01 11:05:00")])
    warehouse.run(workspace)
    return workspace


@pytest.fixture
def live(two_runs: Workspace) -> Path:
    """The live snapshot file after the two runs (run 2's; run 1's is the previous one)."""
    path = SnapshotStore.of(two_runs).current()
    assert path is not None
    return path


def rollback_and_run(ws: Workspace) -> None:
    """The way back: the previous snapshot, then the raw zone; every order is there once."""
    assert cli("warehouse", "rollback", "-w", str(ws.root)).returncode == 0
    again = cli("run", "-w", str(ws.root))
    assert again.returncode == 0, again.stderr
    assert rows(ws, "SELECT platform_order_id FROM unified.orders ORDER BY 1") == [("1",), ("2",), ("3",)]
    assert rows(ws, "SELECT count(*), count(DISTINCT path) FROM meta.processed_file") == [(3, 3)]


def test_a_damaged_live_snapshot_is_named_refused_and_recovered_by_rollback_and_a_run(
    two_runs: Workspace, live: Path, raw: RawZone
) -> None:
    ws, store = two_runs, SnapshotStore.of(two_runs)
    truncate(live)

    shown = cli("warehouse", "status", "-w", str(ws.root))
    # 74 (EX_IOERR) as every command that meets the damage: a monitor tells it from a bad option (2)
    assert shown.returncode == 74 and "Traceback" not in shown.stderr
    said = one_line(shown.stdout)
    assert f"DAMAGED the live warehouse snapshot {live.name} is damaged" in said
    assert "`ecfusion warehouse rollback` makes the previous snapshot live" in said
    as_json = cli("warehouse", "status", "-w", str(ws.root), "--json")
    assert as_json.returncode == 74
    assert "Could not read enough bytes" in json.loads(as_json.stdout)["live_error"]

    # a run refuses to build the next snapshot on it: one line, the live file left as it was
    raw.add("taobao", "orders", [taobao_trade(3, "WAIT_SELLER_SEND_GOODS", "2026-11-01 12:05:00")])
    refused = cli("run", "-w", str(ws.root))
    assert refused.returncode == 74 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"error[ECF112]: the live warehouse snapshot {live.name} is damaged")
    assert len(refused.stderr.strip().splitlines()) == 1 and "ecfusion warehouse rollback" in refused.stderr
    assert store.current() == live and store.drafts() == []

    # the previous snapshot, then the raw zone: every order is back, each raw file read once
    rollback_and_run(ws)
    assert cli("warehouse", "status", "-w", str(ws.root)).returncode == 0


@pytest.mark.parametrize(
    "table",
    [
        # a run over new orders does not read the discount allocations of earlier ones: before, it
        # copied their damaged blocks into its snapshot unread and published it, pruning the undamaged
        # one; two runs later no snapshot could be read, rollback was refused and only the raw zone left
        "unified.discount_allocation",
        # read by a stage: before, error[ECF500] (exit 1) blaming a mapping file for the disk's damage
        "unified.order_line",
    ],
    ids=["unread-by-the-run", "read-by-a-stage"],
)
def test_a_run_reads_the_whole_live_snapshot_before_building_on_it_and_the_undamaged_one_stays(
    two_runs: Workspace, live: Path, raw: RawZone, table: str
) -> None:
    ws, store = two_runs, SnapshotStore.of(two_runs)
    previous = store.previous()
    assert previous is not None
    break_table(live, table)
    # status finds it, where no reader looked (before: all well, exit 0, for the unread table)
    shown = cli("warehouse", "status", "-w", str(ws.root))
    assert shown.returncode == 74 and "Traceback" not in shown.stderr
    assert f"DAMAGED the live warehouse snapshot {live.name} is damaged" in one_line(shown.stdout)
    for tid in (3, 4):  # run after run, each refused: nothing published, nothing pruned
        raw.add("taobao", "orders", [taobao_trade(tid, "WAIT_SELLER_SEND_GOODS", "2026-11-01 12:05:00")])
        refused = cli("run", "-w", str(ws.root))
        assert refused.returncode == 74 and "Traceback" not in refused.stderr
        said = refused.stderr
        assert said.startswith(f"error[ECF112]: the live warehouse snapshot {live.name} is damaged")
        assert "Corrupt database file" in said and len(said.strip().splitlines()) == 1
        assert "nothing was published or deleted" in said
        assert "`ecfusion warehouse rollback` makes the previous snapshot live" in said
        assert (store.current(), store.previous(), store.drafts()) == (live, previous, [])
        assert sorted(store.root.glob("snapshot-*.duckdb")) == sorted([live, previous])
    # the way back it names: the undamaged snapshot, then the raw zone; every order and line is there
    assert cli("warehouse", "rollback", "-w", str(ws.root)).returncode == 0
    again = cli("run", "-w", str(ws.root))
    assert again.returncode == 0, again.stderr
    assert rows(ws, f"SELECT DISTINCT order_key FROM {table} ORDER BY 1") == [
        ("taobao:1",), ("taobao:2",), ("taobao:3",), ("taobao:4",)
    ]
    live_now = store.current()
    assert live_now is not None
    snapshot.check_readable(live_now)


def test_the_block_checksums_vouch_for_an_undamaged_snapshot_without_duckdb_reading_it(
    two_runs: Workspace, live: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before every copy recomputes each block's checksum as DuckDB does (0.2 s for a
    1M-order warehouse) and leaves the whole read by DuckDB (3-4 s) to a file where one does not
    match. Were DuckDB's layout to change, every run would pay the slow read: this says so first."""
    read_whole: list[Path] = []
    monkeypatch.setattr(snapshot, "check_readable", lambda path, **_: read_whole.append(path))
    snapshot.check_blocks(live)
    assert read_whole == []
    break_table(live, "unified.discount_allocation")
    snapshot.check_blocks(live)
    assert read_whole == [live]


def test_a_copy_the_disk_damages_is_not_built_on_and_the_live_snapshot_stays(
    two_runs: Workspace, live: Path, raw: RawZone, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live file checks, but the copy a run builds on comes out damaged (the disk, or another
    program writing the live file while it is copied). Before, the live file was checked and then
    copied: the damage, in a table the run does not read, was published and the undamaged
    snapshot pruned. Now the copy is checked: the run is refused, and the next one goes on."""
    ws, store = two_runs, SnapshotStore.of(two_runs)
    previous = store.previous()
    real_copy = shutil.copyfile

    def no_kernel_copy(*_: object) -> int:
        raise OSError(errno.ENOSYS, "not supported")

    def damaging_copy(src: Path, dst: Path) -> None:
        real_copy(src, dst)
        break_table(Path(dst), "unified.discount_allocation")

    with monkeypatch.context() as m:  # the kernel's copy refused: the byte copy, which damages
        m.setattr(os, "copy_file_range", no_kernel_copy)
        m.setattr(shutil, "copyfile", damaging_copy)
        raw.add("taobao", "orders", [taobao_trade(3, "WAIT_SELLER_SEND_GOODS", "2026-11-01 12:05:00")])
        with pytest.raises(WarehouseIOError) as refused:
            warehouse.run(ws)
    said = str(refused.value)
    assert said.startswith(f"the copy of the live warehouse snapshot {live.name}, written as building-")
    assert "is damaged" in said and "Corrupt database file" in said
    assert "the live snapshot checks and is unchanged, nothing was published: run again" in refused.value.hint
    assert (store.current(), store.previous(), store.drafts()) == (live, previous, [])
    snapshot.check_readable(live)

    again = warehouse.run(ws)  # the disk copies well again
    assert again.snapshot == store.current() and again.snapshot is not None
    snapshot.check_readable(again.snapshot)
    assert rows(ws, "SELECT DISTINCT order_key FROM unified.discount_allocation ORDER BY 1") == [
        ("taobao:1",), ("taobao:2",), ("taobao:3",)
    ]


def test_a_resolution_run_does_not_copy_a_damaged_live_snapshot(two_runs: Workspace, live: Path) -> None:
    """Every writer that copies the live snapshot (``ecfusion er run`` too) reads it whole first."""
    from ecfusion.resolve.store import update

    store = SnapshotStore.of(two_runs)
    previous = store.previous()
    break_table(live, "unified.discount_allocation")
    said = f"the live warehouse snapshot {live.name} is damaged"
    with pytest.raises(WarehouseIOError, match=said), update(two_runs, "er-1"):
        pytest.fail("a draft was made of a damaged live snapshot")
    assert (store.current(), store.previous(), store.drafts()) == (live, previous, [])


def test_a_live_snapshot_deleted_outside_ecfusion_is_not_taken_for_an_empty_warehouse(
    two_runs: Workspace, live: Path, raw: RawZone
) -> None:
    ws, store = two_runs, SnapshotStore.of(two_runs)
    live.unlink()
    shown = cli("warehouse", "status", "-w", str(ws.root))
    said = one_line(shown.stdout)
    assert shown.returncode == 74 and "live cannot be read (below)" in said
    assert f"DAMAGED the live warehouse snapshot {live.name}, named in" in said and "is missing" in said
    # a run would otherwise have started a new warehouse from nothing, quietly
    raw.add("taobao", "orders", [taobao_trade(3, "WAIT_SELLER_SEND_GOODS", "2026-11-01 12:05:00")])
    refused = cli("run", "-w", str(ws.root))
    assert refused.returncode == 74
    assert refused.stderr.startswith("error[ECF112]: the live warehouse snapshot")
    assert "Traceback" not in refused.stderr and list(store.root.glob("snapshot-*")) == [store.previous()]
    rollback_and_run(ws)


@pytest.mark.parametrize(
    ("written", "said"),
    [(b"garbage\x00\xff", "bytes that are no text"), (b"", "nothing"), (b"models\n", "'models'")],
    ids=["not-text", "empty", "a-folder"],
)
def test_a_current_that_names_no_snapshot_is_said_and_rolled_back(
    two_runs: Workspace, raw: RawZone, written: bytes, said: str
) -> None:
    """CURRENT written over (by hand, by a damaged disk): before, status, run and rollback showed
    a UnicodeDecodeError traceback, or took the folder it named for a file that could not be written."""
    ws, store = two_runs, SnapshotStore.of(two_runs)
    (store.root / "models").mkdir(exist_ok=True)
    (store.root / "CURRENT").write_bytes(written)
    why = f"{store.root / 'CURRENT'} names no warehouse snapshot: it holds {said}"
    shown = cli("warehouse", "status", "-w", str(ws.root))
    assert "Traceback" not in shown.stderr and f"DAMAGED {why}" in one_line(shown.stdout)
    raw.add("taobao", "orders", [taobao_trade(3, "WAIT_SELLER_SEND_GOODS", "2026-11-01 12:05:00")])
    refused = cli("run", "-w", str(ws.root))
    assert refused.returncode == 74 and refused.stderr.startswith(f"error[ECF112]: {why} (hint: ")
    rollback_and_run(ws)  # the way back it names


@pytest.mark.parametrize("damage", [truncate, break_checksums], ids=["truncated", "checksums"])
def test_a_rollback_onto_a_damaged_previous_snapshot_is_refused_and_the_live_one_kept(
    two_runs: Workspace, live: Path, damage: Callable[[Path], None]
) -> None:
    ws, store = two_runs, SnapshotStore.of(two_runs)
    previous = store.previous()
    assert previous is not None
    damage(previous)
    refused = cli("warehouse", "rollback", "-w", str(ws.root))
    assert refused.returncode == 74 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"error[ECF112]: the warehouse snapshot {previous.name} is damaged")
    assert len(refused.stderr.strip().splitlines()) == 1 and "nothing was changed" in refused.stderr
    # the live snapshot is still live, still read, and still the one a rollback would leave
    assert (store.current(), store.previous()) == (live, previous)
    assert rows(ws, "SELECT platform_order_id FROM unified.orders ORDER BY 1") == [("1",), ("2",)]
    # the way out the hint gives when nothing can be read: the folder aside, the raw zone again
    store.root.rename(store.root.with_name("warehouse-damaged"))
    assert cli("run", "-w", str(ws.root)).returncode == 0
    assert rows(ws, "SELECT platform_order_id FROM unified.orders ORDER BY 1") == [("1",), ("2",)]


@pytest.mark.parametrize("gone", [False, True], ids=["damaged", "deleted"])
def test_status_says_when_the_previous_snapshot_cannot_be_rolled_back_to(
    two_runs: Workspace, live: Path, raw: RawZone, gone: bool
) -> None:
    """Before, status offered the previous snapshot ("`ecfusion warehouse rollback` brings it back")
    whatever its state, and exited 0; a deleted one was shown as none, and rollback blamed it on
    there having been fewer than two runs."""
    ws, store = two_runs, SnapshotStore.of(two_runs)
    previous = store.previous()
    assert previous is not None
    if gone:
        previous.unlink()
    else:
        break_table(previous, "unified.discount_allocation")
    shown = cli("warehouse", "status", "-w", str(ws.root))
    said = one_line(shown.stdout)
    assert shown.returncode == 74 and "Traceback" not in shown.stderr
    assert f"live {live.name}" in said and "raw waiting 0 files" in said  # the live one is read as ever
    if gone:
        why = f"the previous warehouse snapshot {previous.name}, named in {store.root / 'PREVIOUS'}"
        why += ", is missing"
        assert f"previous none: {why}" in said
    else:
        why = f"the previous warehouse snapshot {previous.name} is damaged"
        assert "(damaged, below: `ecfusion warehouse rollback` refuses it)" in said
        assert f"DAMAGED {why}" in said
    assert json.loads(cli("warehouse", "status", "-w", str(ws.root), "--json").stdout)["previous_error"]
    refused = cli("warehouse", "rollback", "-w", str(ws.root))
    said_then = why if gone else f"the warehouse snapshot {previous.name} is damaged"
    assert refused.returncode == 74 and refused.stderr.startswith(f"error[ECF112]: {said_then}")
    # the next run keeps the live snapshot for rollback in its place
    raw.add("taobao", "orders", [taobao_trade(3, "WAIT_SELLER_SEND_GOODS", "2026-11-01 12:05:00")])
    assert cli("run", "-w", str(ws.root)).returncode == 0
    assert store.previous() == live
    assert cli("warehouse", "status", "-w", str(ws.root)).returncode == 0


def test_a_reader_of_a_snapshot_with_failing_checksums_gets_one_clear_line(
    two_runs: Workspace, live: Path
) -> None:
    break_checksums(live)
    shown = cli("warehouse", "quarantine", "-w", str(two_runs.root))
    assert shown.returncode == 74 and "Traceback" not in shown.stderr
    assert shown.stderr.startswith("error[ECF112]: a warehouse snapshot file is damaged")
    assert "Corrupt database file" in shown.stderr or "not a valid DuckDB database file" in shown.stderr


def test_a_library_reader_gets_the_same_clear_error(two_runs: Workspace, live: Path) -> None:
    with live.open("r+b") as f:
        f.write(b"\0" * 4096)  # its header gone: no longer a DuckDB file at all
    with pytest.raises(WarehouseIOError, match="is damaged") as e:
        warehouse.connect(two_runs)
    assert "not a valid DuckDB database file" in e.value.message and "rollback" in (e.value.hint or "")


def run_with_file_size_limit(ws: Workspace, limit: int) -> subprocess.CompletedProcess[str]:
    """``ecfusion run`` as on a disk that takes no file past ``limit`` bytes (RLIMIT_FSIZE: a write
    past it fails with EFBIG, as one on a full disk fails with ENOSPC)."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the failing write returns an error instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "ecfusion", "run", "-w", str(ws.root)],
        preexec_fn=limited, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize("fails", ["copying the live snapshot", "writing the run's rows"])
def test_a_run_the_disk_cannot_take_says_so_and_loses_nothing(
    two_runs: Workspace, live: Path, raw: RawZone, fails: str
) -> None:
    store, size = SnapshotStore.of(two_runs), live.stat().st_size
    raw.add("taobao", "orders", [
        taobao_trade(i, "WAIT_SELLER_SEND_GOODS", "2026-11-01 12:05:00") for i in range(3, 3003)
    ])
    limit = size // 2 if fails == "copying the live snapshot" else size + 65_536
    refused = run_with_file_size_limit(two_runs, limit)
    assert refused.returncode == 74 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("error[ECF112]: the next warehouse snapshot could not be written")
    assert "File too large" in refused.stderr and "free disk space" in refused.stderr
    # the live snapshot as it was, no draft or WAL left; with room again, nothing is missing
    assert store.current() == live and live.stat().st_size == size
    assert sorted(p.name for p in store.root.glob("building-*")) == []
    assert cli("run", "-w", str(two_runs.root)).returncode == 0
    assert rows(two_runs, "SELECT count(*), count(DISTINCT order_key) FROM unified.orders") == [(3002, 3002)]


def test_only_a_file_that_cannot_be_read_or_written_is_taken_for_the_disk() -> None:
    # any other DuckDB error is a bug in ecfusion's SQL: it is not dressed up as a damaged file
    assert snapshot.io_error(duckdb.BinderException("Referenced column \"x\" not found")) is None
    full = snapshot.io_error(duckdb.IOException('Could not write file "w/building-1.duckdb": No space left'))
    assert full is not None and "free disk space" in (full.hint or "")
