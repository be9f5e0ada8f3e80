"""``ecfusion warehouse status``: what is live, what a rollback brings back, whether a writer is
at work, what the last runs did, what waits in the raw zone (and which of it a run cannot take)
and in quarantine, which records a mapping changed since standardized (``mapping_drift``) or an
earlier ecfusion keyed otherwise (``model_drift``: the next run is refused until a rebuild), and
the deleted rows and free blocks the live snapshot still stores (``compaction``).

Read-only and lock-free: it opens the live snapshot the way every reader does and never touches
the writer lock, so asking never delays or refuses a run. A live snapshot it cannot read (damaged)
is reported as such (``live_error``), with the files and the writer, never as a crash; so is a
previous one a rollback would refuse (``previous_error``). Both are checked block by block
(``snapshot.check_blocks``: their bytes read once, 0.2 s each for a 1M-order warehouse), so damage
in a table no reader touches is seen before a run refuses to copy it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ecfusion.config import Workspace
from ecfusion.errors import MappingError, WarehouseIOError
from ecfusion.interrupt import stoppable
from ecfusion.lake.result import landing_quarantine
from ecfusion.standardize.mapping import workspace_mappings
from ecfusion.warehouse import compaction
from ecfusion.warehouse.lakefiles import RawFile, discover, platform_counts, unprocessed
from ecfusion.warehouse.mapping_drift import Drift, stale_mappings
from ecfusion.warehouse.model_drift import outdated_error
from ecfusion.warehouse.snapshot import SnapshotStore, check_blocks, io_errors


@dataclass(frozen=True)
class SnapshotFile:
    name: str
    bytes: int
    published_at: datetime  # when it was written last, in UTC

    @classmethod
    def of(cls, path: Path) -> SnapshotFile:
        st = path.stat()
        return cls(path.name, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))


@dataclass(frozen=True)
class RunLine:
    """One run's reconciliation summed over sources and entities (``meta.run_reconciliation``)."""

    run_id: str
    finished_at: datetime | None
    raw_in: int
    unified: int
    quarantined: int
    duplicates: int


@dataclass
class Status:
    live: SnapshotFile | None
    previous: SnapshotFile | None
    rolled_back: bool  # the previous snapshot is the one a rollback left (``--undo`` brings it back)
    writer: dict[str, object] | None  # the writer at work now, as it recorded itself
    # building-*.duckdb: the draft of the writer at work, or with none at work, what a killed one
    # left (the next writer deletes it)
    drafts: list[SnapshotFile] = field(default_factory=list)
    runs: list[RunLine] = field(default_factory=list)  # newest first
    files_waiting: dict[str, int] = field(default_factory=dict)  # raw files no run has read, by entity
    # of those, the files a run cannot take (lake-relative path → why; lakefiles.platform_counts)
    files_unreadable: dict[str, str] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)  # records in quarantine now, by rule
    # inputs quarantined at landing (lake/quarantine: never in the raw zone), by reason
    quarantined_at_landing: dict[str, int] = field(default_factory=dict)
    # rows deleted (replaced by a later version) that the live snapshot still stores, by table
    deleted_rows: dict[str, int] = field(default_factory=dict)
    compacts_next: list[str] = field(default_factory=list)  # tables the next run compacts
    # free blocks inside the live file (a vacuum's; appends reuse them, `warehouse compact` returns them)
    free_bytes: int = 0
    # why the live snapshot cannot be read (damaged): then only the files and the writer are known
    live_error: str | None = None
    # why there is no undamaged previous snapshot for a rollback although a run left one: damaged
    # (its blocks' checksums, as a run checks the live one), or missing
    previous_error: str | None = None
    # records standardized with mappings other than those in effect (``mapping_drift``)
    mappings: Drift = field(default_factory=Drift)
    mapping_error: str | None = None  # why the mappings in effect cannot be loaded (a bad workspace file)
    # what the next run would be refused with: rows an earlier ecfusion keyed otherwise (``model_drift``)
    outdated: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _read_live(
    out: Status, workspace: Workspace, live: Path, files: list[RawFile], last: int
) -> list[RawFile]:
    """Fill what the live snapshot says into ``out``; returns the raw files it has not read."""
    con = stoppable(duckdb.connect(str(live), read_only=True))
    try:
        files = unprocessed(con, files)
        rows = con.execute(
            "SELECT run_id, max(finished_at), sum(raw_in), sum(unified), sum(quarantined), "
            "sum(duplicates) FROM meta.run_reconciliation GROUP BY run_id ORDER BY run_id DESC LIMIT ?",
            [last],
        ).fetchall()
        out.runs = [RunLine(str(r), f, int(a), int(u), int(q), int(d)) for r, f, a, u, q, d in rows]
        out.quarantined = {
            str(rule): int(n)
            for rule, n in con.execute(
                "SELECT rule, count(*) FROM unified.quarantine GROUP BY rule ORDER BY rule"
            ).fetchall()
        }
        tables = compaction.storage(con)
        out.deleted_rows = {t.table: t.dead_rows for t in tables if t.dead_rows}
        out.compacts_next = [t.table for t in tables if t.worth_compacting]
        out.free_bytes = compaction.file_space(con, live, tables).free_bytes
        if (error := outdated_error(con)) is not None:
            out.outdated = error.one_line()
        try:
            out.mappings = stale_mappings(con, workspace_mappings(workspace))
        except MappingError as e:
            out.mapping_error = e.one_line()
    finally:
        con.close()
    return files


def _damage(path: Path, role: str) -> str | None:
    """Why the snapshot ``path`` is damaged, or None: its blocks' checksums (``check_blocks``, 0.2 s
    for a 1M-order warehouse), so that damage in a table no reader touched is seen before a run or a
    rollback refuses the file."""
    try:
        check_blocks(path, role=role)
    except WarehouseIOError as e:
        return e.message
    return None


def status(workspace: Workspace, *, last: int = 5) -> Status:
    store = SnapshotStore.of(workspace)
    missing = store.previous_missing()
    previous = None if missing else store.previous()
    out = Status(
        live=None,
        previous=SnapshotFile.of(previous) if previous else None,
        rolled_back=False if missing else store.rolled_back(),
        writer=store.writer_now(),
        drafts=[SnapshotFile.of(p) for p in store.drafts()],
    )
    if missing is not None:
        out.previous_error = missing.message
    elif previous is not None:
        out.previous_error = _damage(previous, "the previous warehouse snapshot")
    files = discover(workspace.lake_root)
    for group in landing_quarantine(workspace.lake_root):
        held = out.quarantined_at_landing
        held[group.reason] = held.get(group.reason, 0) + group.records
    try:
        live = store.current()  # CURRENT may name a file that is gone
        out.live = SnapshotFile.of(live) if live else None
        if live is not None:
            out.live_error = _damage(live, "the live warehouse snapshot")
            if out.live_error:
                return out
            with io_errors():
                files = _read_live(out, workspace, live, files, last)
    except WarehouseIOError as e:  # the rest (raw waiting, quarantine, …) is not known
        out.live_error = e.message
        return out
    for f in files:
        out.files_waiting[f.entity] = out.files_waiting.get(f.entity, 0) + 1
    # footers and two columns of the waiting files, as a run reads them
    with stoppable(duckdb.connect()) as con:
        _, unreadable = platform_counts(con, files)
    out.files_unreadable = {f.relative: why for f in files if (why := unreadable.get(str(f.path)))}
    return out
