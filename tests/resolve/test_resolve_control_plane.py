"""Entity resolution meeting a control plane that fails in the middle of a run: one line naming the
file (or the server), an exit status, never a traceback. The identity map is read and written on
the driver's own cursor (``ecfusion.control.db.driver_cursor``), not through SQLAlchemy's
statements, whose errors the engine's ``handle_error`` listener says; each of these was a
traceback (``sqlite3.OperationalError: database is locked``, ``sqlite3.DatabaseError: database
disk image is malformed``, psycopg's ``OperationalError``), exit 1."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.cli.test_user_mistakes import one_line, read_only, run_cli
from tests.control.test_sqlite_file import _DAMAGED_HINT, _garbage_over_the_page

from ecfusion.config import Workspace
from ecfusion.control.resolve import ResolveIdentity
from ecfusion.errors import EcfusionError
from ecfusion.resolve import Ledger
from ecfusion.resolve.ledger import RunRecord

pytestmark = pytest.mark.slow

_MAP = ResolveIdentity.__tablename__


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small merchant landed, standardized and resolved once, by ``ecfusion demo`` in its own
    process (its control.db's WAL folded in at exit)."""
    root = tmp_path_factory.mktemp("er_control_plane") / "ws"
    done = run_cli("demo", "-w", str(root), "--persons", "10", "--days", "3")
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def ws(demo_ws: Path, tmp_path: Path) -> Path:
    """A copy of the demo workspace a test may break."""
    copy = tmp_path / "ws"
    shutil.copytree(demo_ws, copy)
    return copy


def _er_run(ws: Path) -> subprocess.CompletedProcess[str]:
    """``ecfusion er run --full``: reads the whole identity map, then writes what changed."""
    return run_cli("er", "run", "--full", "-w", str(ws))


def _map_to_write_whole(db: Path) -> None:
    """Empty the identity map (as a control plane moved aside leaves it): the run's first write to
    the control plane is then the map's bulk insert."""
    with sqlite3.connect(db) as c:
        c.execute(f"DELETE FROM {_MAP}")
        c.execute("DELETE FROM resolve_state")
    c.close()


@contextmanager
def _locked_by_another_process(db: Path) -> Iterator[None]:
    """A sqlite3 connection in BEGIN EXCLUSIVE holds the write lock, as a sqlite3 shell or a second
    command writing does."""
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        holder.close()


@pytest.mark.parametrize(
    ("refusing", "code", "line"),
    [
        (
            _locked_by_another_process,
            75,
            "error[ECF142]: the control plane's database {db} is locked by another process (waited 0.5 s): "
            "database is locked (hint: another ecfusion command, or a tool that has it open (sqlite3, a "
            "database browser), holds its write lock: wait for that to finish or stop it, then run this "
            "command again; what this command committed is kept)",
        ),
        (
            read_only,
            74,
            "error[ECF130]: the control plane's database {db} cannot be written: attempt to write a readonly "
            "database (hint: ecfusion must be able to write that file and the folder holding it: make both "
            "writable for this user (lsattr shows an immutable flag, which stops root too), or set [control] "
            "url)",
        ),
    ],
    ids=["locked", "read-only"],
)
def test_a_control_plane_that_refuses_the_identity_map_s_write_is_one_line(
    ws: Path, refusing: Callable[[Path], AbstractContextManager[None]], code: int, line: str
) -> None:
    db = ws / "control.db"
    toml = ws / "ecfusion.toml"  # waits 0.5 s for the lock, not 30
    toml.write_text(toml.read_text().replace('url = ""', f'url = "sqlite:///{db}?timeout=0.5"', 1))
    _map_to_write_whole(db)
    with refusing(db):
        done = _er_run(ws)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert one_line(done.stderr) == line.format(db=db)
    assert _er_run(ws).returncode == 0, "the next run, with nothing in its way, writes the map"


def test_a_damaged_identity_map_is_one_line_naming_the_file(ws: Path) -> None:
    db = ws / "control.db"
    _garbage_over_the_page(db, _MAP)
    done = _er_run(ws)
    assert done.returncode == 74, done.stderr
    assert "Traceback" not in done.stderr
    assert one_line(done.stderr) == (
        f"error[ECF144]: the control plane's database {db} is damaged: database disk image is malformed "
        f"(hint: {_DAMAGED_HINT})"
    )


def _record(ledger: Ledger, run_id: str, ids: dict[str, str]) -> None:
    ledger.record_run(RunRecord("member", run_id, ids, {}, [], [], records=len(ids)))


def test_an_identity_map_written_after_control_db_is_gone_is_refused(tmp_path: Path) -> None:
    """The map's rows go in on the driver's cursor, inside the run's one transaction: its commit is
    checked as any other (a guard: it was already so)."""
    ws = Workspace.init(tmp_path / "ws")
    db = ws.root / "control.db"
    ledger = Ledger(ws.control_url)
    _record(ledger, "r1", {"taobao:a": "one_a"})
    db.unlink()
    with pytest.raises(EcfusionError) as raised:
        _record(ledger, "r2", {"taobao:b": "one_b"})
    assert raised.value.exit_code == 74
    assert raised.value.one_line().startswith(
        f"error[ECF145]: the control plane's database {db} was deleted or moved (its folder with it, or the "
        "file alone) while this command ran: this command's changes to the control plane were not kept"
    )


@pytest.mark.services
def test_a_control_plane_that_drops_the_connection_under_the_identity_map_is_one_line(pg_url: str) -> None:
    """The command's session is terminated from a second one as its connection is taken for the
    map's read (after the pool's pre-ping, as a restart between two statements does)."""
    from sqlalchemy import create_engine, event, text

    from ecfusion.control.db import connect

    url = pg_url.replace("://postgres@", "://postgres:s3cret@")  # trust auth: the password goes unchecked
    ledger = Ledger(url)
    _record(ledger, "r1", {"taobao:a": "one_a"})
    engine, admin = connect(url), create_engine(pg_url)
    terminated: list[bool] = []

    def terminate(dbapi_conn: Any, *_: Any) -> None:
        if not terminated:
            with admin.connect() as c:  # waits (5 s at most) until that session is gone
                ended = text("SELECT pg_terminate_backend(:pid, 5000)")
                terminated.append(c.execute(ended, {"pid": dbapi_conn.info.backend_pid}).scalar())

    event.listen(engine.pool, "checkout", terminate)
    try:
        with pytest.raises(EcfusionError) as raised:
            ledger.identity_map("member")
        assert terminated == [True]
        assert ledger.identity_map("member") == {"taobao:a": "one_a"}, "the dropped connection is not reused"
    finally:
        event.remove(engine.pool, "checkout", terminate)
        engine.dispose()
        admin.dispose()
    assert raised.value.exit_code == 69
    assert raised.value.one_line() == (
        f"error[ECF141]: lost the connection to the control plane {url.replace('s3cret', '***')} ([control] "
        "url) in the middle of the command: terminating connection due to administrator command (hint: its "
        "database server restarted or ended this session: run the command again once it answers; what the "
        "command committed is kept)"
    )
