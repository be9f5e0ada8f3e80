"""One warehouse writer at a time, and kill -9 anywhere in a run changes nothing (ARCHITECTURE
principle 2; warehouse/snapshot.py).

The kill test runs the real ``warehouse.run`` in a subprocess on the defect-injected simulated
merchant and SIGKILLs it at every step it reports, inside its write transaction, after the commit,
and between renaming its draft and making it live; first on the first run, then on an incremental
one (order updates, out of order, a copy, an unknown status). After each kill the live snapshot is
the one before; the run that finally completes leaves the warehouse equal, table by table, to a
workspace that was never killed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from rawzone import RawZone, cli, landed_merchant, rows, taobao_trade

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.errors import WarehouseBusy
from ecfusion.warehouse.snapshot import SnapshotStore
from ecfusion.warehouse.status import status as warehouse_status

# Runs warehouse.run on WORKSPACE and SIGKILLs itself at POINT: "step:N" (the Nth progress
# report), "in_transaction" (every unified row written, not committed), "after_commit" (committed,
# not checkpointed) or "renamed" (the draft renamed to its snapshot name, CURRENT not yet switched).
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from ecfusion import warehouse
    from ecfusion.warehouse import pipeline, snapshot

    workspace, point = sys.argv[1], sys.argv[2]

    def die(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    reports = []

    def progress(stage, done, total):
        reports.append(stage)
        if point == f"step:{len(reports)}":
            die()

    if point == "in_transaction":
        pipeline._record_files = die
    elif point == "after_commit":
        pipeline.platform_figures = die
    elif point == "renamed":
        snapshot.SnapshotStore.publish = die
    warehouse.run(workspace, progress=progress)
    """
)

# held by a separate process: the writer lock, until its stdin closes (or it is killed)
HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ecfusion.warehouse.snapshot import SnapshotStore

    with SnapshotStore(Path(sys.argv[1])).writer("held-by-test"):
        print("held", flush=True)
        sys.stdin.read()
    """
)

RUN_DEPENDENT = {"run_id", "processed_at", "finished_at", "recorded_at"}  # the run's id and wall-clock stamps


def _python(code: str, *args: str, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code, *args], text=True, **kw)  # type: ignore[call-overload]


def _kill_run(ws: Workspace, point: str) -> None:
    proc = _python(KILLER, str(ws.root), point, stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, f"{point}: exit {proc.returncode}\n{err}"


def _digest(ws: Workspace) -> dict[str, tuple[int, int]]:
    """Per table of the live snapshot: rows, and an order-free sum of the rows' hashes (a row
    written twice or missing changes both), without run-dependent columns (ids, stamps)."""
    con = warehouse.connect(ws)
    try:
        out = {}
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('unified', 'meta')"
        ).fetchall()
        for schema, table in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                    [schema, table],
                ).fetchall()
                if c not in RUN_DEPENDENT
            ]
            # a quarantined record names its lake file by absolute path: compare it below the workspace
            row = ", ".join(
                f"replace(raw_file, '{ws.root}', '')" if c == "raw_file" else f'"{c}"' for c in cols
            )
            n, h = con.execute(
                f"SELECT count(*), COALESCE(sum(hash(row({row}))::HUGEINT), 0) FROM {schema}.{table}"
            ).fetchone()  # type: ignore[misc]
            out[f"{schema}.{table}"] = (int(n), int(h))
        return out
    finally:
        con.close()


def _live(ws: Workspace) -> str | None:
    pointer = ws.warehouse_root / "CURRENT"
    return pointer.read_text() if pointer.exists() else None


def _increment(ws: Workspace) -> None:
    """Order updates for the second run: versions out of order, an exact copy, an unknown status."""
    raw = RawZone(ws.lake_root)
    trades = [
        taobao_trade(9_000 + i, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00", lines=2) for i in range(300)
    ]
    raw.add("taobao", "orders", trades, dt="2026-11-21")
    raw.add(
        "taobao",
        "orders",
        [taobao_trade(9_000 + i, "TRADE_FINISHED", "2026-11-05 09:00:00", lines=2) for i in range(0, 300, 3)]
        + [
            taobao_trade(9_000 + i, "WAIT_BUYER_CONFIRM_GOODS", "2026-11-02 09:00:00", lines=2)
            for i in range(0, 300, 3)
        ]
        + [trades[1], taobao_trade(9_999, "NOT_A_TAOBAO_STATUS", "2026-11-02 09:00:00")],
        dt="2026-11-22",
    )


@pytest.fixture(scope="module")
def merchant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the simulated merchant landed, never run."""
    ws = landed_merchant(tmp_path_factory.mktemp("merchant"), persons=300, days=20, seed=5, defects=0.05)
    return ws.root


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_minus_9_anywhere_in_a_run_then_rerun_equals_a_run_never_killed(
    merchant: Path, tmp_path: Path
) -> None:
    reference = Workspace.open(shutil.copytree(merchant, tmp_path / "reference"))
    steps: dict[str, list[str]] = {"first run": [], "incremental run": []}
    first = warehouse.run(reference, progress=lambda stage, done, total: steps["first run"].append(stage))
    _increment(reference)
    second = warehouse.run(
        reference, progress=lambda stage, done, total: steps["incremental run"].append(stage)
    )
    assert first.balanced and second.balanced and second.quarantine_by_rule == {"unknown_status": 1}
    expected = _digest(reference)

    ws = Workspace.open(shutil.copytree(merchant, tmp_path / "killed"))
    store = SnapshotStore.of(ws)
    for phase, reported in steps.items():
        live_before = _live(ws)
        digest_before = _digest(ws) if live_before else None
        # every progress report but the last ("publish", made once the snapshot is live)
        points = [f"step:{i}" for i in range(1, len(reported))] + [
            "in_transaction",
            "after_commit",
            "renamed",
        ]
        assert reported[-1] == "publish" and len(points) >= 6
        for point in points:
            _kill_run(ws, point)
            assert _live(ws) == live_before, f"{phase}, killed at {point}: the live snapshot moved"
            if digest_before is not None:
                assert _digest(ws) == digest_before, f"{phase}, killed at {point}: readers see a change"
        done = cli("run", "--workspace", str(ws.root), timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        if phase == "first run":
            _increment(ws)

    assert _digest(ws) == expected
    # what the kills left is gone: no draft, no renamed-but-never-live file, only live + previous
    assert not list(ws.warehouse_root.glob("building-*"))
    assert {p.name for p in ws.warehouse_root.glob("snapshot-*")} == {
        p.name for p in (store.current(), store.previous()) if p is not None
    }


def _hold(ws: Workspace) -> subprocess.Popen[str]:
    holder = _python(HOLDER, str(ws.warehouse_root), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_is_refused_naming_the_first_and_runs_once_it_is_killed(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    warehouse.run(workspace)
    live = _live(workspace)
    raw.add("taobao", "orders", [taobao_trade(2, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    holder = _hold(workspace)
    try:
        with pytest.raises(WarehouseBusy) as refused:
            warehouse.run(workspace)
        assert f"pid {holder.pid}" in refused.value.message and "held-by-test" in refused.value.message
        with pytest.raises(WarehouseBusy):
            SnapshotStore.of(workspace).rollback()
        busy = cli("run", "--workspace", str(workspace.root))
        assert busy.returncode == 75  # EX_TEMPFAIL: a scheduler tries again later
        assert (
            busy.stderr.strip().startswith("error[ECF111]: another writer") and "Traceback" not in busy.stderr
        )
        assert "--wait" in busy.stderr
        assert _live(workspace) == live and not list(workspace.warehouse_root.glob("building-*"))
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # a killed holder leaves no stale lock behind
        holder.wait()
    s = warehouse.run(workspace)
    assert s.balanced and sum(r.unified for r in s.reconciliation) == 1
    assert rows(workspace, "SELECT count(*) FROM unified.orders") == [(2,)]


def test_a_writer_given_wait_queues_behind_the_running_one(workspace: Workspace, raw: RawZone) -> None:
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    holder = _hold(workspace)
    at_release: list[object] = []

    def release_later() -> None:
        time.sleep(1.5)
        # the waiting run has neither started a draft nor published anything yet
        at_release.extend([_live(workspace), list(workspace.warehouse_root.glob("building-*"))])
        assert holder.stdin is not None
        holder.stdin.close()

    t = threading.Thread(target=release_later)
    t.start()
    try:
        s = warehouse.run(workspace, wait=60)
    finally:
        t.join()
        holder.wait()
    assert at_release == [None, []]
    assert s.balanced and s.snapshot == SnapshotStore.of(workspace).current()
    assert rows(workspace, "SELECT count(*) FROM unified.orders") == [(1,)]


def test_status_says_what_is_live_who_writes_and_what_waits_without_touching_the_lock(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    raw.add("taobao", "orders", [taobao_trade(2, "NOT_A_TAOBAO_STATUS", "2026-11-01 10:05:00")])
    before = warehouse_status(workspace)
    assert before.live is None and before.runs == [] and before.files_waiting == {"orders": 2}

    first = warehouse.run(workspace)
    raw.add("taobao", "orders", [taobao_trade(3, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    holder = _hold(workspace)
    try:
        st = warehouse_status(workspace)
        assert st.live is not None and st.live.name == SnapshotStore.of(workspace).current().name  # type: ignore[union-attr]
        assert st.previous is None and st.files_waiting == {"orders": 1}
        assert st.quarantined == {"unknown_status": 1}
        [line] = st.runs
        assert (line.run_id, line.raw_in, line.unified, line.quarantined) == (first.run_id, 2, 1, 1)
        assert st.writer is not None and (st.writer["pid"], st.writer["run_id"]) == (
            holder.pid,
            "held-by-test",
        )
        shown_cli = cli("warehouse", "status", "--json", "-w", str(workspace.root))
        assert shown_cli.returncode == 0, shown_cli.stderr
        shown = json.loads(shown_cli.stdout)
        assert shown["writer"]["pid"] == holder.pid and shown["files_waiting"] == {"orders": 1}
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    # the killed holder's record is still on disk; its process is gone, so nobody is writing
    assert (workspace.warehouse_root / ".writer.json").exists()
    assert warehouse_status(workspace).writer is None


def test_a_writer_record_under_a_reused_pid_is_not_a_writer(workspace: Workspace) -> None:
    store = SnapshotStore.of(workspace)
    record = {"pid": os.getpid(), "host": socket.gethostname(), "run_id": "r", "command": "ecfusion run"}
    for since, at_work in (("2001-01-01T00:00:00+00:00", False), (datetime.now(UTC).isoformat(), True)):
        (workspace.warehouse_root / ".writer.json").write_text(json.dumps(record | {"since": since}))
        # a process alive under that pid, started after the record: the pid was reused
        assert (store.writer_now() is not None) is at_work


def test_a_writer_killed_and_not_yet_reaped_holds_nothing(workspace: Workspace, raw: RawZone) -> None:
    """A scheduler kills a run with SIGKILL and has not waited on it yet: the process lingers as a
    zombie. Before, the next run took it for a writer at work and refused (exit 75), saying its
    lock file "was deleted while it ran"."""
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    holder = _hold(workspace)
    try:
        os.kill(holder.pid, signal.SIGKILL)  # not waited on: a zombie until holder.wait() below
        deadline = time.monotonic() + 10
        while psutil.Process(holder.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the killed holder never became a zombie"
            time.sleep(0.05)
        assert SnapshotStore.of(workspace).writer_now() is None
        s = warehouse.run(workspace)
        assert s.balanced and rows(workspace, "SELECT count(*) FROM unified.orders") == [(1,)]
    finally:
        holder.wait()


def test_deleting_the_lock_file_under_a_running_writer_does_not_let_a_second_one_in(
    workspace: Workspace, raw: RawZone
) -> None:
    """A user who takes ``.writer.lock`` for a stale leftover and deletes it mid-run."""
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    holder = _hold(workspace)
    try:
        (workspace.warehouse_root / ".writer.lock").unlink()
        with pytest.raises(WarehouseBusy) as refused:
            warehouse.run(workspace)
        message = refused.value.message
        assert f"pid {holder.pid}" in message and "was deleted while it ran" in message
        assert _live(workspace) is None
        assert (workspace.warehouse_root / ".writer.json").exists()  # the holder's record is left alone
        # given --wait, it queues behind the holder as with the lock file in place
        at_release: list[object] = []

        def release() -> None:
            at_release.extend([_live(workspace), list(workspace.warehouse_root.glob("building-*"))])
            assert holder.stdin is not None
            holder.stdin.close()

        threading.Timer(1.5, release).start()
        s = warehouse.run(workspace, wait=60)
        assert at_release == [None, []]  # it had not started before the holder let go
        assert s.balanced and _live(workspace) is not None
    finally:
        if holder.poll() is None:
            os.kill(holder.pid, signal.SIGKILL)
        holder.wait()


def test_status_names_the_draft_a_killed_run_left_and_the_next_run_deletes_it(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    _kill_run(workspace, "in_transaction")
    st = warehouse_status(workspace)
    assert st.writer is None and [d.name.startswith("building-") for d in st.drafts] == [True]
    shown = cli("warehouse", "status", "-w", str(workspace.root))
    assert "left by a killed run: the next run deletes it" in shown.stdout
    warehouse.run(workspace)
    assert warehouse_status(workspace).drafts == []


def test_a_negative_wait_is_refused_not_taken_for_forever(workspace: Workspace) -> None:
    out = cli("run", "--wait", "-5", "--workspace", str(workspace.root))
    assert out.returncode == 2 and "--wait" in out.stderr and "Traceback" not in out.stderr
