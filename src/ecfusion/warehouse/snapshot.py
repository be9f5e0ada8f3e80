"""Warehouse snapshots: readers never blocked, always a consistent state (standard 4.3.5, 5.3.1.2).

A writer (``warehouse.run``, a resolution run, a rollback, a compaction) takes the warehouse's
writer lock, builds the next state into a draft file (``building-<run>.duckdb``, a copy of the live
one, then changed; a compaction rewrites it compactly instead), renames it
``snapshot-<run>.duckdb`` and publishes it by atomically replacing the pointer file ``CURRENT``
(write temp, fsync, ``os.replace``). Readers open whatever ``CURRENT`` names, read-only, and keep
their snapshot for as long as they hold the connection; they never take the lock. The previous
snapshot is kept for rollback. A writer copies the live file only once every block of it checks
(``check_blocks``): a damaged block copied into the next snapshot unread would be published, and
the undamaged previous snapshot pruned.

One writer at a time: two writers copying the same live snapshot would each publish a state
without the other's work, and the later would silently undo the earlier. The lock is an OS file
lock (``filelock``), so a writer killed with ``kill -9`` releases it; the next writer deletes
the draft it left. A second writer fails at once with ``WarehouseBusy`` naming the holder, or
waits ``wait`` seconds for it.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import psutil
from filelock import FileLock, Timeout

from ecfusion.config import Workspace
from ecfusion.errors import WarehouseBusy, WarehouseIOError, WorkspaceError
from ecfusion.interrupt import stoppable
from ecfusion.timings import Timings
from ecfusion.warehouse import compaction

POINTER = "CURRENT"
PREVIOUS = "PREVIOUS"
# the snapshot a rollback made non-live (PREVIOUS names it then): a second rollback would bring it
# back, not go further back, so it is refused; ``rollback(undo=True)`` is the way back to it
ROLLED_BACK = "ROLLED_BACK"
SNAPSHOT_NAME = re.compile(r"snapshot-[A-Za-z0-9_.-]+\.duckdb")  # what the pointer files name
LOCK = ".writer.lock"
HOLDER = ".writer.json"  # who holds the lock: pid, host, run, since, command
_RECORD_FIELDS = {"pid", "host", "run_id", "since", "command"}


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _unlink_with_wal(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


# what DuckDB says of a file it cannot read (truncated, overwritten, failing checksums, a bad sector)
# or write
_DAMAGED = [
    "Could not read enough bytes", "not a valid DuckDB database file", "Corrupt database file",
    "Input/output error",
]
_NOT_WRITTEN = ("No space left on device", "Could not write")


def io_error(error: duckdb.Error) -> WarehouseIOError | None:
    """The clear error for a DuckDB error that says a warehouse file is damaged or cannot be
    written (None for any other: a bug, not the file). A damaged live snapshot is what rollback
    is for: the previous one, then the raw zone, give back everything after it."""
    said = str(error)
    if any(s in said for s in _DAMAGED):
        return WarehouseIOError(
            f"a warehouse snapshot file is damaged (a disk error, or changed outside ecfusion): {said}",
            hint="`ecfusion warehouse status` shows which file is live; `ecfusion warehouse rollback` makes "
            "the previous snapshot live, and the next `ecfusion run` (and `ecfusion er run`) take again "
            "from the raw zone what came after it",
        )
    if any(s in said for s in _NOT_WRITTEN):
        return _not_written(said)
    return None


@contextmanager
def io_errors() -> Iterator[None]:
    """Inside the block, a DuckDB error that ``io_error`` recognises is raised as its
    ``WarehouseIOError``; any other goes on as it is (a bug, not the file)."""
    try:
        yield
    except duckdb.Error as e:
        clear = io_error(e)
        if clear is None:
            raise
        raise clear from e


# what to do about a snapshot ``check_readable`` found damaged, by what was about to happen with it
_REBUILD_FROM_RAW = (
    "if no snapshot of the warehouse folder can be read, move the folder aside: the next `ecfusion run` "
    "(and `ecfusion er run`) build the warehouse again from the raw zone"
)
ROLLBACK_ONTO_DAMAGED = f"nothing was changed; {_REBUILD_FROM_RAW}"
COPY_OF_DAMAGED = (
    "nothing was published or deleted, the snapshots kept for rollback are as they were: "
    "`ecfusion warehouse rollback` makes the previous snapshot live, and the next `ecfusion run` (and "
    f"`ecfusion er run`) take again from the raw zone what came after it; {_REBUILD_FROM_RAW}"
)


def check_readable(
    path: Path,
    *,
    role: str = "the warehouse snapshot",
    hint: str = ROLLBACK_ONTO_DAMAGED,
    settings: dict[str, str | int] | None = None,
) -> None:
    """Read every column of every row of every table of the snapshot ``path`` (DuckDB checks each
    block's checksum as it loads it); raises ``WarehouseIOError`` naming the file (``role``: what it
    is) with ``hint`` when any part cannot be read. Costs one read and decoding of the file (a
    1M-order warehouse of 465 MB: 3-4 s on 2 cores): for a snapshot about to be made live again, or
    for one whose block checksums do not all match (``check_blocks``). The hash of each column makes
    DuckDB load each of its blocks (``count(col)`` would not: it is answered from its statistics)."""
    try:
        con = stoppable(duckdb.connect(str(path), read_only=True, config=dict(settings or {})))
        try:
            tables = con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
            for schema, table in tables:
                con.execute(f'SELECT bit_xor(hash(COLUMNS(*))) FROM "{schema}"."{table}"').fetchall()
        finally:
            con.close()
    except duckdb.Error as e:
        if io_error(e) is None:
            raise
        raise WarehouseIOError(
            f"{role} {path.name} is damaged (a disk error, or changed outside ecfusion): "
            f"{str(e).splitlines()[0]}",
            hint=hint,
        ) from e


# DuckDB's file layout (duckdb 2.0): three header pages of 4 KiB, then blocks of 256 KiB (its default
# block size, which ecfusion keeps); each page and block starts with the checksum of the rest of it
_HEADER_PAGE, _HEADER_PAGES, _BLOCK = 4096, 3, 262_144
_MIX = np.uint64(0xBF58476D1CE4E5B9)  # duckdb/src/common/checksum.cpp


def _pages_match(data: bytes, size: int) -> bool:
    """Whether each ``size``-byte page of ``data`` starts with the checksum DuckDB computes of the rest
    when it loads it: 5381 xor every following 8-byte word times ``_MIX``."""
    if not data or len(data) % size:
        return False
    words = np.frombuffer(data, dtype="<u8").reshape(-1, size // 8)
    folded = np.bitwise_xor.reduce(words[:, 1:] * _MIX, axis=1) ^ np.uint64(5381)
    return bool((folded == words[:, 0]).all())


def _checksums_match(path: Path) -> bool:
    """Whether every header page and block of the DuckDB file ``path`` holds its checksum, computed
    here as DuckDB does, 8 MB at a time (a 1M-order warehouse of 465 MB: 0.2 s, against 3-4 s for
    DuckDB to read every column of it). False also for what this cannot vouch for: a file cut short
    or not laid out so (a free block never written, another DuckDB's format), or that the disk
    cannot read (DuckDB's read then says so)."""
    try:
        with open(path, "rb") as f:
            if not _pages_match(f.read(_HEADER_PAGES * _HEADER_PAGE), _HEADER_PAGE):
                return False
            while chunk := f.read(32 * _BLOCK):
                if not _pages_match(chunk, _BLOCK):
                    return False
    except OSError:
        return False
    return True


def check_blocks(
    path: Path,
    *,
    role: str = "the warehouse snapshot",
    hint: str = ROLLBACK_ONTO_DAMAGED,
    settings: dict[str, str | int] | None = None,
) -> None:
    """``check_readable`` at the cost of reading the file's bytes once: every block's checksum is
    verified (``_checksums_match``), and only when one does not match does DuckDB read the file
    whole, to say what is damaged in its own words, or to find the block unused (a free one).
    On every copy of the live snapshot (``SnapshotStore.draft``): a copy carries every block, read or
    not by the writer, so a block damaged in a table it does not touch would pass silently into the
    next snapshot, and publishing that would prune the last undamaged one."""
    if not _checksums_match(path):
        check_readable(path, role=role, hint=hint, settings=settings)


def clone_file(live: Path, draft: Path) -> None:
    """``draft``: a copy of ``live``, made by the kernel (``copy_file_range``). On a file system that
    shares blocks (XFS, Btrfs) the copy is a reflink: it takes no time and no space until the run
    changes a block, so a run on a large warehouse does not pay to copy it and the snapshot kept for
    rollback costs only what changed. Elsewhere (ext4) the kernel copies the bytes. Where the call is
    not supported (another OS, some network file systems) it is a plain byte copy."""
    if not hasattr(os, "copy_file_range"):
        shutil.copyfile(live, draft)
        return
    with open(live, "rb") as src, open(draft, "wb") as dst:
        left = os.fstat(src.fileno()).st_size
        try:
            while left > 0:
                done = os.copy_file_range(src.fileno(), dst.fileno(), left)
                if done == 0:  # how some file systems (FUSE ones) say they cannot
                    break
                left -= done
        except OSError as e:
            if e.errno not in _NO_KERNEL_COPY:
                raise
    if left > 0:  # the kernel could not copy (all or part): copy the bytes, from the start
        shutil.copyfile(live, draft)


# copy_file_range cannot copy these files (not an error of the disk): across file systems on older
# kernels, a file system without it, a sandbox that forbids the call
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EPERM, errno.ETXTBSY}


def _not_written(said: str) -> WarehouseIOError:
    return WarehouseIOError(
        f"the next warehouse snapshot could not be written: {said}",
        hint="free disk space where the warehouse folder is (a run or a compaction needs about the live "
        "snapshot's size again) and run again; the live snapshot is unchanged",
    )


def describe_writer(record: dict[str, object]) -> str:
    """One line for a writer's record (``.writer.json``)."""
    r = record
    return f"pid {r['pid']} on {r['host']}, run {r['run_id']}, since {r['since']} ({r['command']})"


@dataclass
class Draft:
    """The next snapshot while a writer builds it: ``path`` is the file to connect to. Only
    ``publish`` makes it live; leaving ``SnapshotStore.draft`` without it deletes the file."""

    store: SnapshotStore
    run_id: str
    path: Path
    published: Path | None = field(default=None, init=False)
    # the tables worth compacting when ``connection`` opened: its checkpoints compact them
    compacting: list[compaction.TableStorage] = field(default_factory=list, init=False)
    # seconds of its own steps: made from the live snapshot, checkpointed (``RunSummary.timings``)
    timings: Timings = field(default_factory=Timings, init=False)

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the draft, checkpointed when the block succeeds (a published file
        holds everything, with no WAL beside it) and closed either way, before ``publish``. Its
        checkpoints compact the tables they write only when some table is worth it
        (``compaction.configure``; ``compacting`` names them)."""
        con = stoppable(duckdb.connect(str(self.path), config=dict(self.store.settings)))
        try:
            self.compacting = compaction.configure(con)
            yield con
            with self.timings.timed("checkpoint"):
                con.execute("CHECKPOINT")
        finally:
            con.close()

    def publish(self) -> Path:
        """Rename the draft to its snapshot name and make it live (the live one becomes PREVIOUS).
        The caller has left ``connection``."""
        final = self.store.root / f"snapshot-{self.run_id}.duckdb"
        os.replace(self.path, final)
        _fsync_dir(self.store.root)
        try:
            self.store.publish(final)
        except BaseException:
            if self.store.current() != final:  # never made live: nothing may keep it
                _unlink_with_wal(final)
            raise
        self.published = final
        return final


@dataclass(frozen=True)
class Compaction:
    """What ``SnapshotStore.compact`` did: the live file before and the published rewrite after
    (both None when there was nothing to reclaim)."""

    before: compaction.FileSpace
    after: compaction.FileSpace | None
    snapshot: Path | None
    seconds: float


@dataclass(frozen=True)
class SnapshotStore:
    """The snapshot files of one warehouse folder."""

    root: Path
    # DuckDB settings of a writer's draft connection ([warehouse] memory_limit, threads)
    settings: dict[str, str | int] = field(default_factory=dict)

    @classmethod
    def of(cls, workspace: Workspace) -> SnapshotStore:
        root = workspace.warehouse_root
        root.mkdir(parents=True, exist_ok=True)
        return cls(root, workspace.config.warehouse.duckdb_settings())

    def _named(self, name: str) -> Path | None:
        """The snapshot file the pointer file ``name`` names (it may be missing), or None.
        ``WarehouseIOError`` when the pointer holds no snapshot's name (written over by hand or by a
        damaged disk): a folder, the empty text or bytes that are no text are not a warehouse."""
        p = self.root / name
        if not p.exists():
            return None
        try:
            named = p.read_bytes().decode("utf-8").strip()
        except UnicodeDecodeError:
            named = None
        if named is None or not SNAPSHOT_NAME.fullmatch(named):
            shown = "bytes that are no text" if named is None else repr(named[:60]) if named else "nothing"
            ways = "`ecfusion warehouse rollback` makes the previous snapshot live; or write into it the name"
            ways += f" of a snapshot file in {self.root} (snapshot-….duckdb)"
            raise WarehouseIOError(f"{p} names no warehouse snapshot: it holds {shown}", hint=ways)
        return self.root / named

    def current(self) -> Path | None:
        """The live snapshot file, or None before the first run. ``WarehouseIOError`` when
        ``CURRENT`` names a file that is gone (deleted outside ecfusion): a run must not take that
        for an empty warehouse and quietly rebuild everything."""
        live = self._named(POINTER)
        if live is not None and not live.exists():
            raise WarehouseIOError(
                f"the live warehouse snapshot {live.name}, named in {self.root / POINTER}, is missing",
                hint="`ecfusion warehouse rollback` makes the previous snapshot live, and the next "
                "`ecfusion run` (and `ecfusion er run`) take again from the raw zone what came after it; "
                f"or delete {self.root / POINTER} to rebuild the whole warehouse from the raw zone",
            )
        return live

    def previous(self) -> Path | None:
        prev = self._named(PREVIOUS)
        return prev if prev is not None and prev.exists() else None

    def previous_missing(self) -> WarehouseIOError | None:
        """Why there is no previous snapshot to roll back to although a run left one: the file
        ``PREVIOUS`` names is gone (deleted outside ecfusion), or ``PREVIOUS`` names none."""
        try:
            prev = self._named(PREVIOUS)
        except WarehouseIOError as e:
            return e
        if prev is None or prev.exists():
            return None
        return WarehouseIOError(
            f"the previous warehouse snapshot {prev.name}, named in {self.root / PREVIOUS}, is missing "
            "(deleted outside ecfusion)",
            hint="there is no snapshot to roll back to until the next run publishes one; the live one is "
            "unchanged",
        )

    def rolled_back(self) -> bool:
        """Whether the previous snapshot is the one a rollback took the warehouse back from."""
        prev = self.previous()
        return prev is not None and prev == self._named(ROLLED_BACK)

    @contextmanager
    def writer(self, run_id: str, *, wait: float = 0.0) -> Iterator[None]:
        """Hold the warehouse's writer lock for the block; waits up to ``wait`` seconds for a
        running writer, then raises ``WarehouseBusy`` naming it."""
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            # fallback_to_soft=False: a marker-file lock would outlive a killed writer, refusing all later
            left = max(deadline - time.monotonic(), 0.0)
            lock = FileLock(self.root / LOCK, timeout=left, fallback_to_soft=False)
            try:
                lock.acquire()
            except Timeout:
                raise self._busy("") from None
            # The lock file deleted by hand under a running writer ("to unstick it") lets a second one
            # lock a new file: the record of a writer still alive on this machine holds it off too.
            other = self.writer_now()
            if other is None or other["host"] != socket.gethostname() or other["pid"] == os.getpid():
                break
            lock.release()
            if time.monotonic() >= deadline:
                raise self._busy(f" (its lock file {LOCK} was deleted while it ran)")
            time.sleep(0.2)
        try:
            _write_atomic(
                self.root / HOLDER,
                json.dumps({
                    "pid": os.getpid(), "host": socket.gethostname(), "run_id": run_id,
                    "since": datetime.now(UTC).isoformat(timespec="seconds"), "command": " ".join(sys.argv),
                }),
            )
            yield
        finally:
            (self.root / HOLDER).unlink(missing_ok=True)
            lock.release()

    def _busy(self, why: str) -> WarehouseBusy:
        return WarehouseBusy(
            f"another writer is building the next warehouse snapshot in {self.root}: {self.holder()}{why}",
            hint="let it finish and run again, or pass --wait SECONDS to queue behind it",
        )

    def _record(self) -> dict[str, object] | None:
        """The writer's record (``.writer.json``) as its holder wrote it, or None if there is none
        or it cannot be read (a writer between taking the lock and writing it)."""
        try:
            h = json.loads((self.root / HOLDER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return h if isinstance(h, dict) and h.keys() >= _RECORD_FIELDS else None

    def holder(self) -> str:
        """Who holds the writer lock, as the holder wrote it (best effort: for messages)."""
        h = self._record()
        return describe_writer(h) if h else "a process that has not said who it is yet"

    def writer_now(self) -> dict[str, object] | None:
        """The writer at work now, as it recorded itself, or None. Read without touching the lock
        (trying it could refuse a writer starting that instant): a record a killed writer left
        is told apart by its process being gone (or a zombie), or being a newer process under a
        reused pid."""
        h = self._record()
        if h is None:
            return None
        try:
            pid, since = int(str(h["pid"])), datetime.fromisoformat(str(h["since"]))
        except ValueError:
            return None
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        if h["host"] != socket.gethostname():
            return h  # another machine's writer (a shared folder): its record is all we know
        try:
            process = psutil.Process(pid)
            # killed and not yet reaped by its parent (a scheduler that has not waited on it): a
            # zombie holds no lock and does no work
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            started = datetime.fromtimestamp(process.create_time(), UTC)
        except psutil.Error:
            return None
        return h if started <= since + timedelta(seconds=2) else None

    def drafts(self) -> list[Path]:
        """Draft files on disk: the writer's at work, or those killed writers left."""
        return sorted(self.root.glob("building-*.duckdb"))

    @contextmanager
    def draft(
        self, run_id: str, *, wait: float = 0.0, build: Callable[[Path, Path], object] = clone_file
    ) -> Iterator[Draft]:
        """Under the writer lock: a draft of the next snapshot, made from the live one by
        ``build(live, draft)`` (a copy, ``clone_file``; ``compact`` rewrites), or a fresh file. Drafts that
        killed writers left are deleted first. A copy is used only once its every block checks
        (``_check_copy``; a rewrite reads the live file whole itself): ``WarehouseIOError`` when it, or
        the live file, is damaged.
        On leaving the block the draft is deleted unless it was published; the lock is released
        either way."""
        with self.writer(run_id, wait=wait):
            for stale in self.root.glob("building-*"):  # a killed writer's draft and its WAL
                stale.unlink(missing_ok=True)
            d = Draft(self, run_id, self.root / f"building-{run_id}.duckdb")
            live = self.current()
            try:
                if live is not None:  # inside: a build that fails (a full disk) leaves no draft either
                    try:
                        with d.timings.timed("draft from the live snapshot"):
                            build(live, d.path)
                    except OSError as e:  # the copy's (the rewrite's are DuckDB's: io_error)
                        raise _not_written(str(e)) from e
                    if build is clone_file:  # a rewrite reads every block itself
                        with d.timings.timed("verify the copy of the live snapshot"):
                            self._check_copy(live, d.path)
                yield d
            finally:
                if d.published is None:
                    _unlink_with_wal(d.path)

    def _check_copy(self, live: Path, copy: Path) -> None:
        """Every block of ``copy``, just copied from ``live``, checks (``check_blocks``); else
        ``WarehouseIOError`` naming which is damaged: the live file (checked again to tell), or the
        copy alone (the disk, or the live file changed by another program while it was copied).
        The copy is what a run builds on and publishes, so it is the copy that is checked: damage
        that reached the live file after a check of it, before the copy, is caught too."""
        if _checksums_match(copy):
            return
        check_blocks(live, role="the live warehouse snapshot", hint=COPY_OF_DAMAGED, settings=self.settings)
        check_blocks(
            copy,
            role=f"the copy of the live warehouse snapshot {live.name}, written as",
            hint="the live snapshot checks and is unchanged, nothing was published: run again; if the copy "
            "comes out damaged again, check the disk of the warehouse folder",
            settings=self.settings,
        )

    def publish(self, snapshot: Path) -> None:
        """Make ``snapshot`` live; the live one becomes PREVIOUS (``Draft.publish`` calls this
        under the writer lock)."""
        live = self.current()
        if live is not None and live != snapshot:
            _write_atomic(self.root / PREVIOUS, live.name)
        _write_atomic(self.root / POINTER, snapshot.name)
        (self.root / ROLLED_BACK).unlink(missing_ok=True)  # the rolled-back-from snapshot is pruned now
        self._prune()

    def rollback(self, *, wait: float = 0.0, undo: bool = False) -> Path:
        """Make the previous snapshot live again (under the writer lock: never under a running writer),
        once every block of it has been read back (``check_readable``). One step only: the store keeps
        one snapshot before the live one, so after a rollback that is the snapshot rolled back from, and
        a second rollback is refused rather than bringing it back; ``undo`` brings it back."""
        with self.writer("rollback", wait=wait):
            prev = self.previous()
            try:  # a live file that is gone is rolled back too, and so is a CURRENT that names none
                live = self._named(POINTER)
            except WarehouseIOError:
                live = None
            if undo != self.rolled_back():
                raise self._no_rollback(undo, live, prev)
            if prev is None:
                raise self.previous_missing() or WorkspaceError(
                    f"no previous warehouse snapshot in {self.root}",
                    hint="rollback needs at least two published runs",
                )
            check_readable(prev)  # never make a damaged file live: the live one stays as it is
            _write_atomic(self.root / POINTER, prev.name)
            if live is not None:
                _write_atomic(self.root / PREVIOUS, live.name)
            if undo:
                (self.root / ROLLED_BACK).unlink(missing_ok=True)
            elif live is not None:
                _write_atomic(self.root / ROLLED_BACK, live.name)
            return prev

    def _no_rollback(self, undo: bool, live: Path | None, prev: Path | None) -> WorkspaceError:
        if undo:
            return WorkspaceError(
                "no rollback to undo: the live snapshot was published by a run, not made live by a rollback",
                hint="`ecfusion warehouse rollback` (without --undo) makes the previous snapshot live",
            )
        now, left = live.name if live else "the live one", prev.name if prev else "the previous one"
        return WorkspaceError(
            f"the warehouse was rolled back already: the live snapshot {now} is the one before {left}, "
            "which the rollback left; ecfusion keeps one snapshot besides the live one, so there is none "
            "older to go back to",
            hint="`ecfusion warehouse rollback --undo` makes the snapshot the rollback left live again",
        )

    def compact(self, *, wait: float = 0.0) -> Compaction:
        """Publish the live snapshot rewritten compactly (``compaction.rewrite``: no tombstone, no
        free block) as the next snapshot, under the writer lock (``wait``: seconds to wait for
        another writer). Nothing is written when the live file has neither. Like any writer it
        never changes the live file: a failure or kill -9 leaves it live, and once the rewrite is
        published it is the previous snapshot, for rollback."""
        started = time.perf_counter()
        live = self.current()
        if live is None:
            raise WorkspaceError(f"no warehouse in {self.root} yet", hint="run `ecfusion run` first")
        before = compaction.space_of(live)
        if not before.reclaimable:
            return Compaction(before, None, None, time.perf_counter() - started)
        run_id = f"compact-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        with self.draft(run_id, wait=wait, build=compaction.rewrite) as d:
            source = self.current()  # the live one when the lock was taken: a run may have published
            if source is not None and source != live:
                before = compaction.space_of(source)
            published = d.publish()
        return Compaction(before, compaction.space_of(published), published, time.perf_counter() - started)

    def _prune(self) -> None:
        """Delete every snapshot but the live and the previous one: a killed publish's renamed
        but never live file, and those rollback can no longer reach. A reader still holding one
        keeps reading it (the file stays open until it disconnects)."""
        keep = {p for p in (self.current(), self.previous()) if p is not None}
        for old in self.root.glob("snapshot-*.duckdb"):
            if old not in keep:
                _unlink_with_wal(old)


def connect(workspace: Workspace) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the live warehouse snapshot (what readers and the API use);
    ``WarehouseIOError`` when the file is missing or not a DuckDB database any more (``io_error``:
    damage found later, by a query, comes as DuckDB's own error)."""
    live = SnapshotStore.of(workspace).current()
    if live is None:
        raise WorkspaceError(
            f"no warehouse in {workspace.warehouse_root} yet", hint="run `ecfusion run` first"
        )
    with io_errors():
        return stoppable(duckdb.connect(str(live), read_only=True))
