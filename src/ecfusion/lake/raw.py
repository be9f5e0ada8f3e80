"""The raw zone: immutable, append-only, idempotent landing of records (standard 4.3.5 a, 5.3.1.1).

``RawLake`` is the lake of one workspace; ``RawLake.writer(...)`` opens one landing batch for a
(source, entity). A writer tokenizes personal fields (security package) and writes envelope-v1
Parquet parts (zstd) under ``raw/source=S/entity=E/dt=YYYY-MM-DD/`` atomically. Idempotency: the
content hashes already landed for (source, entity) are loaded once; a record whose hash is known,
or repeated within the batch, is counted as a duplicate and not written. ``checkpoint`` writes
everything pending durably and only then advances the collector's state in the control plane.
One writer per (source, entity) at a time, enforced by a file lock, so two processes cannot both
land the same record.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from ecfusion.control.checkpoints import CheckpointStore
from ecfusion.control.landing import BatchCounts, LandingBatchLog
from ecfusion.errors import EcfusionError, InputError
from ecfusion.lake import jsontext
from ecfusion.lake.envelope import QUARANTINE_SCHEMA, RAW_SCHEMA, SCHEMA_VERSION, canonical_json
from ecfusion.lake.folders import FOLDER_NAME_RULE, is_folder_name
from ecfusion.lake.partfile import PartWriter, part_files, remove_stale_temporaries, write_part
from ecfusion.lake.privacy import (
    SEALING,
    ChunkProtector,
    ParallelProtection,
    PayloadCipher,
    QuarantineSeal,
    protected_json,
)
from ecfusion.lake.result import LandingResult

if TYPE_CHECKING:
    from ecfusion.config import Workspace

_CHUNK_ROWS = 5_000
# A record accepted but not yet written: (content hash, plaintext payload, record key, pulled at).
_Pending = tuple[str, dict[str, Any], str | None, datetime]
_QUARANTINE_FLUSH_ROWS = 10_000
_LOCK_WAIT_SECONDS = 600.0


class LakeBusy(EcfusionError):
    """Another process holds the writer lock of this (source, entity) for too long."""

    code = "ECF210"


_MIN_CPUS_FOR_WORKERS = 4


def _default_workers(cpus: int) -> int:
    return 0 if cpus < _MIN_CPUS_FOR_WORKERS else min(cpus - 1, 4)


def new_batch_id() -> str:
    """Sortable batch id: UTC time to the second plus 48 random bits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(6)


def _partition(value: str, what: str) -> str:
    if not is_folder_name(value):
        raise InputError(f"{what} {value!r} cannot name a lake folder", hint=f"use {FOLDER_NAME_RULE}")
    return value


@dataclass(frozen=True)
class QuarantinedItem:
    """One quarantined input, unsealed: the exact bytes received, why, and where they came from."""

    raw_bytes: bytes
    reason: str
    location: str
    batch_id: str


class RawLake:
    """The raw zone and quarantine of one workspace, with the control plane's checkpoints."""

    def __init__(
        self,
        root: Path | str,
        cipher: PayloadCipher,
        checkpoints: CheckpointStore,
        *,
        target_file_rows: int = 200_000,
        timezone: str = "Asia/Shanghai",
        batches: LandingBatchLog | None = None,
        parallel: ParallelProtection | None = None,
    ) -> None:
        self.root = Path(root)
        self.parallel = parallel
        self.cipher = cipher
        self.checkpoints = checkpoints
        self.batches = batches or LandingBatchLog(checkpoints.engine)
        self.target_file_rows = target_file_rows
        self.tz = ZoneInfo(timezone)
        self.seal = QuarantineSeal(cipher)

    @classmethod
    def open(cls, workspace: Workspace, *, protect_workers: int | None = None) -> RawLake:
        """The lake of ``workspace``, its FieldCipher and its control-plane checkpoints.

        ``protect_workers``: processes that tokenize personal fields in parallel, used only once a
        batch is bigger than one chunk. Default: none below 4 CPUs — on 2 cores, shipping chunks
        to workers and back cost more than it saved (a simulated merchant landed in 156 s wall /
        49 s CPU with 2 workers, 76 s / 50 s without) — else one per CPU but the writer's, at
        most 4."""
        from ecfusion.security.fields import FieldCipher

        cfg = workspace.config
        workers = _default_workers(os.cpu_count() or 1) if protect_workers is None else protect_workers
        parallel = ParallelProtection(workspace.root, workers) if workers > 1 else None
        return cls(
            workspace.lake_root,
            FieldCipher.open(workspace),
            CheckpointStore.open(workspace.control_url),
            target_file_rows=cfg.lake.target_file_rows,
            timezone=cfg.workspace.timezone,
            parallel=parallel,
        )

    def close(self) -> None:
        """Stop the protection workers, if any were started."""
        if self.parallel is not None:
            self.parallel.close()

    def __enter__(self) -> RawLake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- layout ---------------------------------------------------------------------------------
    def raw_dir(self, source: str, entity: str) -> Path:
        return (
            self.root
            / "raw"
            / f"source={_partition(source, 'source')}"
            / f"entity={_partition(entity, 'entity')}"
        )

    def quarantine_dir(self, source: str, entity: str) -> Path:
        return self.root / "quarantine" / f"source={source}" / f"entity={entity}"

    def landing_date(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%d")

    # -- writing --------------------------------------------------------------------------------
    @contextmanager
    def writer(
        self, source: str, entity: str, platform: str, shop_id: str | None = None, batch_id: str | None = None
    ) -> Iterator[RawWriter]:
        """Open a landing batch; on exit everything added is durable and the batch is recorded."""
        w = RawWriter(
            self,
            source=source,
            entity=entity,
            platform=platform,
            shop_id=shop_id,
            batch_id=batch_id or new_batch_id(),
        )
        w._open()
        ok = False
        try:
            yield w
            ok = True
        finally:
            w._close(ok)

    # -- reading --------------------------------------------------------------------------------
    def known_hashes(self, source: str, entity: str) -> set[str]:
        """Every content hash already landed for (source, entity): the idempotency set."""
        hashes: set[str] = set()
        for part in part_files(self.raw_dir(source, entity)):
            col = pq.read_table(part, columns=["content_hash"]).column("content_hash")
            hashes.update(col.to_pylist())
        return hashes

    def _quarantine_ids(self, source: str, entity: str) -> set[str]:
        ids: set[str] = set()
        for part in part_files(self.quarantine_dir(source, entity)):
            ids.update(pq.read_table(part, columns=["quarantine_id"]).column("quarantine_id").to_pylist())
        return ids

    def read_raw(self, source: str, entity: str, columns: list[str] | None = None) -> pa.Table:
        """All landed rows of (source, entity) (small tables and tests; stages use DuckDB on the files)."""
        parts = part_files(self.raw_dir(source, entity))
        if not parts:
            return RAW_SCHEMA.empty_table() if columns is None else RAW_SCHEMA.empty_table().select(columns)
        return pa.concat_tables(
            pq.read_table(p, columns=columns, schema=RAW_SCHEMA if columns is None else None) for p in parts
        )

    def read_quarantine(self, source: str, entity: str) -> list[QuarantinedItem]:
        """Quarantined inputs of (source, entity), unsealed to their exact original bytes."""
        items: list[QuarantinedItem] = []
        for part in part_files(self.quarantine_dir(source, entity)):
            for row in pq.read_table(part).to_pylist():
                raw = self.seal.open(row["raw_bytes"], row["location"])
                items.append(QuarantinedItem(raw, row["reason"], row["location"], row["batch_id"]))
        return items


def _name(path: Path) -> str:
    return path.name


def _content_hashes(part: Path) -> list[str]:
    return [str(h) for h in pq.read_table(part, columns=["content_hash"]).column(0).to_pylist()]


class RawWriter:
    """One landing batch for one (source, entity, shop). Use through ``RawLake.writer``."""

    def __init__(
        self, lake: RawLake, *, source: str, entity: str, platform: str, shop_id: str | None, batch_id: str
    ) -> None:
        self.lake = lake
        self.source, self.entity, self.platform, self.shop_id = source, entity, platform, shop_id
        self.batch_id = batch_id
        self.result = LandingResult()
        self._raw_dir = lake.raw_dir(source, entity)
        self._q_dir = lake.quarantine_dir(source, entity)
        self._prefix = b"\x1f".join(p.encode() for p in (source, entity, shop_id or "")) + b"\x1e"
        self._protector = ChunkProtector(lake.cipher, source=source, platform=platform)
        self._known: set[str] = set()
        # landed by an interrupted batch after its last checkpoint: counted by no batch yet
        self._unaccounted: set[str] = set()
        self._known_quarantine: set[str] = set()
        self._pending: list[_Pending] = []
        self._inflight: deque[tuple[Future[list[str]], list[_Pending]]] = deque()
        self._chunks_encoded = 0
        self._part: PartWriter | None = None
        self._quarantine_rows: list[dict[str, Any]] = []
        self._part_no = 0
        self._lock_fd: int | None = None
        self._default_pulled_at = datetime.now(UTC)

    # -- lifecycle --------------------------------------------------------------------------------
    def _open(self) -> None:
        self._lock()
        remove_stale_temporaries(self._raw_dir)
        self._known = self.lake.known_hashes(self.source, self.entity)
        self._unaccounted = self._landed_after_last_checkpoint()
        self._known_quarantine = self.lake._quarantine_ids(self.source, self.entity)
        self.lake.batches.start(
            self.batch_id,
            source=self.source,
            entity=self.entity,
            platform=self.platform,
            shop_id=self.shop_id,
        )

    def _landed_after_last_checkpoint(self) -> set[str]:
        """Close the batches a kill left ``running``; return the content hashes they landed after
        their last checkpoint.

        A part is committed when it is full, between checkpoints. A kill before the next checkpoint
        leaves its rows in the lake but not in the batch's counts, and the collector's state from
        before them, so they are offered again. The dead batch's counts gain them (its parts hold
        its rows in order, part number then row; its counts cover the first ``landed``), and this
        batch counts their second offer nowhere (``add_parsed``)."""
        out: set[str] = set()
        for batch_id, counted in self.lake.batches.running_batches(self.source, self.entity):
            prefix = f"part-{batch_id}-"
            parts = sorted((p for p in part_files(self._raw_dir) if p.name.startswith(prefix)), key=_name)
            hashes = [h for p in parts for h in _content_hashes(p)]
            out.update(hashes[counted:])
            self.lake.batches.mark_interrupted(batch_id, max(0, len(hashes) - counted), len(parts))
        return out

    def _close(self, ok: bool) -> None:
        try:
            self.flush()
        finally:
            self._abort_part()  # only left open if flushing failed: never rename a part we could not finish
            self.lake.batches.update(self.batch_id, self._counts(), status="succeeded" if ok else "failed")
            self._unlock()

    def _lock(self) -> None:
        self._raw_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._raw_dir / ".writer.lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise LakeBusy(
                        f"lake {self._raw_dir} is being written by another process",
                        hint="wait for the other landing to finish, then run again",
                    ) from None
                time.sleep(0.2)
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _counts(self) -> BatchCounts:
        r = self.result
        return BatchCounts(r.offered, r.landed, r.duplicates, r.quarantined, len(r.files))

    # -- the collector's API ------------------------------------------------------------------------
    def add(
        self,
        payload: dict[str, Any] | str | bytes,
        record_key: str | None = None,
        pulled_at: datetime | None = None,
    ) -> bool:
        """Offer one record; returns True if it will land, False if duplicate or quarantined."""
        if isinstance(payload, (str, bytes)):
            raw = payload.encode() if isinstance(payload, str) else payload
            try:
                payload = jsontext.loads(raw)
            except orjson.JSONDecodeError as e:
                self.result.offered += 1
                self._quarantine(raw, f"malformed_json: {e}", f"{self.batch_id}:{self.result.offered}")
                return False
            if not isinstance(payload, dict):
                self.result.offered += 1
                self._quarantine(
                    raw,
                    "not_an_object: a record must be a JSON object",
                    f"{self.batch_id}:{self.result.offered}",
                )
                return False
        return self.add_parsed(payload, record_key, pulled_at)

    def add_parsed(
        self, payload: dict[str, Any], record_key: str | None = None, pulled_at: datetime | None = None
    ) -> bool:
        """``add`` for a payload already parsed into a dict (the file readers' fast path)."""
        self.result.offered += 1
        digest = self.lake.cipher.content_hash(self._prefix + canonical_json(payload))
        if digest in self._known:
            if digest in self._unaccounted:  # the interrupted batch landed it and counts it
                self._unaccounted.discard(digest)
                self.result.offered -= 1
            else:
                self.result.duplicates += 1
            return False
        self._known.add(digest)
        self.result.landed += 1
        self._pending.append(
            (
                digest,
                payload,
                None if record_key is None else str(record_key),
                pulled_at or self._default_pulled_at,
            )
        )
        if len(self._pending) >= min(_CHUNK_ROWS, self.lake.target_file_rows):
            self._encode_pending()
        return True

    def quarantine(self, raw_bytes: bytes, reason: str, location: str) -> None:
        """Keep input that cannot be accepted, byte for byte (sealed), with the reason and its location."""
        self.result.offered += 1
        self._quarantine(raw_bytes, reason, location)

    def checkpoint(self, stream: str, state: Mapping[str, Any]) -> None:
        """Make everything offered so far durable, THEN save ``state`` for ``stream``."""
        self.flush()
        # State and batch counts in one transaction: a kill can never leave one ahead of the other.
        with Session(self.lake.checkpoints.engine) as s, s.begin():
            self.lake.checkpoints.put(self.source, stream, dict(state), session=s)
            self.lake.batches.update(self.batch_id, self._counts(), session=s)

    def flush(self) -> None:
        """Write every pending record and quarantined input to durable Parquet parts."""
        self._encode_pending(drain=True)
        self._commit_part()
        if self._quarantine_rows:
            self._write_quarantine_part()

    # -- internals ------------------------------------------------------------------------------------
    def _quarantine(self, raw: bytes, reason: str, location: str) -> None:
        qid = self.lake.cipher.content_hash(self._prefix + location.encode() + b"\x1e" + raw)
        self.result.count_quarantine(reason)
        if qid in self._known_quarantine:  # the same bytes from the same place, quarantined by an earlier run
            return
        self._known_quarantine.add(qid)
        self._quarantine_rows.append(
            {
                "quarantine_id": qid,
                "source": self.source,
                "platform": self.platform,
                "shop_id": self.shop_id,
                "entity": self.entity,
                "raw_bytes": self.lake.seal.seal(raw, location),
                "reason": reason,
                "location": location,
                "batch_id": self.batch_id,
                "sealing": SEALING,
            }
        )
        if len(self._quarantine_rows) >= _QUARANTINE_FLUSH_ROWS:
            self._write_quarantine_part()

    def _encode_pending(self, *, drain: bool = False) -> None:
        """Tokenize pending records (in worker processes once the batch is big) into Arrow chunks."""
        if self._pending:
            pending, self._pending = self._pending, []
            payloads, hints = [p[1] for p in pending], [p[2] for p in pending]
            self._chunks_encoded += 1
            parallel = self.lake.parallel
            if parallel is not None and (self._chunks_encoded > 1 or self._inflight):
                fut = parallel.submit(payloads, hints, source=self.source, platform=self.platform)
                self._inflight.append((fut, pending))
            else:
                self._append_chunk(pending, protected_json(self._protector, payloads, hints))
        limit = 0 if drain or self.lake.parallel is None else 2 * self.lake.parallel.workers
        while len(self._inflight) > limit:
            fut, pending = self._inflight.popleft()
            self._append_chunk(pending, fut.result())

    def _append_chunk(self, pending: list[_Pending], payload_json: list[str]) -> None:
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array([p[0] for p in pending], pa.string()),
                pa.array([p[2] for p in pending], pa.string()),
                pa.array([p[3] for p in pending], pa.timestamp("us", tz="UTC")),
                pa.array(payload_json, pa.string()),
            ],
            names=["content_hash", "record_key", "pulled_at", "payload"],
        )
        now = datetime.now(UTC)
        if self._part is None:
            self._part = PartWriter(
                self._raw_dir / f"dt={self.lake.landing_date(now)}" / self._next_part_name(), RAW_SCHEMA
            )
        self._part.write(self._envelope(batch, now))
        if self._part.rows >= self.lake.target_file_rows:
            self._commit_part()

    def _envelope(self, body: pa.RecordBatch, received_at: datetime) -> pa.Table:
        n = body.num_rows

        def const(value: Any, typ: pa.DataType) -> pa.Array:
            return pa.repeat(pa.scalar(value, typ), n)

        return pa.Table.from_arrays(
            [
                body.column("content_hash"),
                const(self.source, pa.string()),
                const(self.platform, pa.string()),
                const(self.shop_id, pa.string()),
                const(self.entity, pa.string()),
                body.column("record_key"),
                const(self.batch_id, pa.string()),
                body.column("pulled_at"),
                const(received_at, pa.timestamp("us", tz="UTC")),
                body.column("content_hash"),
                const(SCHEMA_VERSION, pa.int32()),
                body.column("payload"),
            ],
            schema=RAW_SCHEMA,
        )

    def _commit_part(self) -> None:
        if self._part is not None:
            part, self._part = self._part, None
            self.result.files.append(str(part.commit()))

    def _abort_part(self) -> None:
        if self._part is not None:
            part, self._part = self._part, None
            part.abort()

    def _write_quarantine_part(self) -> None:
        rows, self._quarantine_rows = self._quarantine_rows, []
        now = datetime.now(UTC)
        for r in rows:
            r["received_at"] = now
        table = pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)
        write_part(table, self._q_dir / f"dt={self.lake.landing_date(now)}" / self._next_part_name())

    def _next_part_name(self) -> str:
        self._part_no += 1
        return f"part-{self.batch_id}-{self._part_no:05d}.parquet"
