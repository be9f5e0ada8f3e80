"""Warehouse snapshots: readers never blocked, always a consistent state (standard 4.3.5, 5.3.1.2).

A run builds the next state into a NEW DuckDB file (a copy of the live one, then changed),
and publishes it by atomically replacing the pointer file ``CURRENT`` (write temp, fsync,
``os.replace``). Readers open whatever ``CURRENT`` names, read-only, and keep their snapshot
for as long as they hold the connection. The previous snapshot is kept for rollback.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ecfusion.config import Workspace
from ecfusion.errors import WorkspaceError

POINTER = "CURRENT"
PREVIOUS = "PREVIOUS"
KEEP = 3  # live + previous + one older, for rollback


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True)
class SnapshotStore:
    """The snapshot files of one warehouse folder."""

    root: Path

    @classmethod
    def of(cls, workspace: Workspace) -> SnapshotStore:
        root = workspace.warehouse_root
        root.mkdir(parents=True, exist_ok=True)
        return cls(root)

    def _read(self, name: str) -> Path | None:
        p = self.root / name
        if not p.exists():
            return None
        target = self.root / p.read_text(encoding="utf-8").strip()
        return target if target.exists() else None

    def current(self) -> Path | None:
        """The live snapshot file, or None before the first run."""
        return self._read(POINTER)

    def previous(self) -> Path | None:
        return self._read(PREVIOUS)

    def begin(self, run_id: str) -> Path:
        """A new snapshot file for ``run_id``: a copy of the live one (or a fresh file)."""
        target = self.root / f"snapshot-{run_id}.duckdb"
        for stale in (target, target.with_name(target.name + ".wal")):
            stale.unlink(missing_ok=True)
        live = self.current()
        if live is not None:
            shutil.copyfile(live, target)
        return target

    def publish(self, snapshot: Path) -> None:
        """Make ``snapshot`` live; the live one becomes PREVIOUS."""
        live = self.current()
        if live is not None and live != snapshot:
            _write_atomic(self.root / PREVIOUS, live.name)
        _write_atomic(self.root / POINTER, snapshot.name)
        self._prune()

    def rollback(self) -> Path:
        """Make the previous snapshot live again."""
        prev, live = self.previous(), self.current()
        if prev is None:
            raise WorkspaceError(
                f"no previous warehouse snapshot in {self.root}",
                hint="rollback needs at least two published runs",
            )
        _write_atomic(self.root / POINTER, prev.name)
        if live is not None:
            _write_atomic(self.root / PREVIOUS, live.name)
        return prev

    def _prune(self) -> None:
        keep = {p for p in (self.current(), self.previous()) if p is not None}
        snaps = sorted(self.root.glob("snapshot-*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in snaps[KEEP:]:
            if old not in keep:
                old.unlink(missing_ok=True)

    def discard(self, snapshot: Path) -> None:
        """Remove an unpublished snapshot (a failed run)."""
        if snapshot != self.current() and snapshot != self.previous():
            snapshot.unlink(missing_ok=True)
            snapshot.with_name(snapshot.name + ".wal").unlink(missing_ok=True)


def connect(workspace: Workspace) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the live warehouse snapshot (what readers and the API use)."""
    live = SnapshotStore.of(workspace).current()
    if live is None:
        raise WorkspaceError(
            f"no warehouse in {workspace.warehouse_root} yet", hint="run `ecfusion run` first"
        )
    return duckdb.connect(str(live), read_only=True)
