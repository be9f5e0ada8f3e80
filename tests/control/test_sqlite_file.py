"""A SQLite control plane whose file is damaged, or deleted, moved or replaced while a command runs:
one line naming the file, never a traceback and never a write lost without a word."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.cli.test_user_mistakes import _ADD_A_SOURCE, one_line, run_cli

from ecfusion.config import Workspace
from ecfusion.control.checkpoints import CheckpointStore
from ecfusion.errors import EcfusionError

_DAMAGED_HINT = (
    "a disk error, or a change made to it outside ecfusion: with no ecfusion command running, restore it "
    "from a backup, or move it aside with its -wal and -shm files (`sqlite3 OLD .recover | sqlite3 NEW` "
    "saves what is still readable); the next command then starts an empty one, without what only it held: "
    "sources added by `ecfusion sources add` (those in ecfusion.toml stay) and their OAuth tokens, sync "
    "checkpoints (the next sync reads each source from its start; the lake keeps each record once), sync, "
    "landing and audit history, and entity resolution's identity map, review queue and decisions"
)


def _garbage_over_the_page(db: Path, table: str | None) -> None:
    """Overwrite the first page of ``table`` in ``db`` (None: the file's first page, its header and
    its schema's) with bytes that are no page of SQLite's, as a failing disk or a stray write
    leaves them."""
    reader = sqlite3.connect(db)
    page_size = reader.execute("PRAGMA page_size").fetchone()[0]
    [page] = reader.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone() or [1]
    reader.close()
    with db.open("r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(bytes(range(256)) * (page_size // 256))


@pytest.mark.parametrize(
    ("table", "said"),
    [
        # the page of the configured sources: the file opens, `sources list` meets it at its first read
        ("ecf_source", "database disk image is malformed"),
        # the header: the command's start meets it (said as "cannot be opened", a hint about its folder)
        (None, "file is not a database"),
    ],
    ids=["mid-command", "at-start"],
)
def test_a_damaged_control_plane_is_one_line_naming_the_file(
    tmp_path: Path, table: str | None, said: str
) -> None:
    """It was SQLAlchemy's traceback ``sqlite3.DatabaseError: database disk image is malformed``
    with the statement under it, exit 1."""
    ws = Workspace.init(tmp_path / "ws")
    added = run_cli(*_ADD_A_SOURCE, "-w", str(ws.root))  # its own process: the WAL is folded in at exit
    assert added.returncode == 0, added.stderr
    db = ws.root / "control.db"
    _garbage_over_the_page(db, table)
    done = run_cli("sources", "list", "-w", str(ws.root))
    assert done.returncode == 74, done.stderr
    assert "Traceback" not in done.stderr
    assert one_line(done.stderr) == (
        f"error[ECF144]: the control plane's database {db} is damaged: {said} (hint: {_DAMAGED_HINT})"
    )


def _delete(db: Path) -> None:
    db.unlink()


def _remove_the_workspace(db: Path) -> None:
    shutil.rmtree(db.parent)


def _move_the_workspace(db: Path) -> None:
    db.parent.rename(db.parent.with_name("moved"))


def _replace(db: Path) -> None:
    """A backup put in its place (``mv backup.db control.db``): another file at the same path."""
    backup = db.with_name("backup.db")
    live, copy = sqlite3.connect(db), sqlite3.connect(backup)
    live.backup(copy)
    live.close(), copy.close()
    os.replace(backup, db)


@pytest.mark.parametrize(
    ("take_away", "what"),
    [
        (_delete, "deleted or moved (its folder with it, or the file alone)"),
        (_remove_the_workspace, "deleted or moved (its folder with it, or the file alone)"),
        (_move_the_workspace, "deleted or moved (its folder with it, or the file alone)"),
        (_replace, "replaced by another file"),
    ],
    ids=["file deleted", "workspace removed", "workspace moved", "file replaced"],
)
def test_a_write_after_the_control_plane_file_is_gone_is_refused_in_one_line(
    tmp_path: Path, take_away: Callable[[Path], None], what: str
) -> None:
    """SQLite writes on into the file it holds open, which no path leads to any more: the second
    checkpoint was "committed" and lost without a word."""
    ws = Workspace.init(tmp_path / "ws")
    db = ws.root / "control.db"
    checkpoints = CheckpointStore.open(ws.control_url)
    checkpoints.put("shop", "orders", {"cursor": 1})
    take_away(db)
    with pytest.raises(EcfusionError) as raised:
        checkpoints.put("shop", "orders", {"cursor": 2})
    assert raised.value.exit_code == 74
    assert raised.value.one_line() == (
        f"error[ECF145]: the control plane's database {db} was {what} while this command ran: this "
        "command's changes to the control plane were not kept (hint: SQLite went on writing into the file "
        "it had open, which no path leads to any more: run the command again on the workspace as it is now "
        "(put the folder or the file back first if it was removed by mistake))"
    )
    if db.exists():  # put back, or a new file: what a later connection opens is what is there now
        assert CheckpointStore(checkpoints.engine).get("shop", "orders") == {"cursor": 1}


def test_reading_and_writing_a_control_plane_left_in_place_is_not_refused(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    checkpoints = CheckpointStore.open(ws.control_url)
    for cursor in range(3):
        checkpoints.put("shop", "orders", {"cursor": cursor})
        assert checkpoints.get("shop", "orders") == {"cursor": cursor}
