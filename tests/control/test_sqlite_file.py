"""A SQLite control plane whose file is damaged: one line naming the file, never a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.cli.test_user_mistakes import _ADD_A_SOURCE, one_line, run_cli

from ecfusion.config import Workspace

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
