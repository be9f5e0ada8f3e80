"""The identity ledger: identity map, events, review queue and decisions in the control plane (6.1.3).

Reads and writes ``ecfusion.control.resolve`` tables for one entity kind ("member" or "product").
Writes are set-based (only changed rows), so an incremental run touching 1% of accounts writes
about 1% of the map; reads are by key (``identity_rows``, ``identity_members``), so it reads about
1% of it too. A run commits its map, events, review items and the map's state row in one
transaction (``record_run``): killed at any point, it has recorded all of them or none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ecfusion.control.db import driver_cursor, session_factory
from ecfusion.control.resolve import (
    ResolveDecision,
    ResolveEvent,
    ResolveIdentity,
    ResolveReview,
    ResolveState,
)
from ecfusion.errors import InputError
from ecfusion.resolve.graph import Constraints, IdentityEvent

_CHUNK = 5_000
_MAP = ResolveIdentity.__tablename__


@dataclass(frozen=True)
class ReviewItem:
    id: int
    entity: str
    left_key: str
    right_key: str
    score: float
    evidence: dict[str, object]
    status: str


@dataclass(frozen=True)
class MapState:
    """The identity map as its last run left it: that run's id and the records it maps."""

    run_id: str
    records: int


@dataclass(frozen=True)
class RunRecord:
    """What one run changes in the ledger for one entity kind.

    ``previous`` holds the map rows the run read (all of them in a full run, only the rows it may
    change in an incremental one) and ``ids`` the run's ids for at least those keys; rows equal in
    both are not rewritten, and keys in ``previous`` but not in ``ids`` are removed. ``records`` is
    the size of the whole map after the run.
    """

    entity: str
    run_id: str
    ids: Mapping[str, str]
    previous: Mapping[str, str]
    events: Sequence[IdentityEvent]
    review_pairs: Sequence[tuple[str, str, float, str]]
    records: int


class Ledger:
    """The control-plane store of one workspace's resolution state."""

    def __init__(self, url: str) -> None:
        self._sessions: sessionmaker = session_factory(url)
        self.rows_read = 0  # identity-map rows read through this ledger (what a run costs the map)

    # identity map -------------------------------------------------------------------------
    def identity_map(self, entity: str) -> dict[str, str]:
        """record key → cluster id. Read through the driver's cursor: an incremental run loads a
        million rows of it, and row objects cost more than the query (a third of the run at 1M)."""
        with self._sessions() as s, driver_cursor(s.connection()) as (cursor, mark):
            cursor.execute(f"select record_key, cluster_id from {_MAP} where entity = {mark}", [entity])
            rows = dict(cursor.fetchall())
        self.rows_read += len(rows)
        return rows

    def identity_rows(self, entity: str, keys: Iterable[str]) -> dict[str, str]:
        """record key → cluster id for just ``keys`` (absent keys are not in the map).

        What an incremental run reads instead of the whole map: the rows of the accounts its new
        accounts were compared with, looked up by primary key."""
        return self._rows_where(entity, ResolveIdentity.record_key, keys)

    def identity_members(self, entity: str, cluster_ids: Iterable[str]) -> dict[str, str]:
        """record key → cluster id of every record in ``cluster_ids`` (by the cluster_id index)."""
        return self._rows_where(entity, ResolveIdentity.cluster_id, cluster_ids)

    def _rows_where(self, entity: str, column: Any, values: Iterable[str]) -> dict[str, str]:
        """Rows whose ``column`` is in ``values``, through the driver's cursor (a few thousand keys
        per statement; SQLAlchemy's expansion of such IN lists costs more than the query)."""
        wanted = sorted(set(values))
        out: dict[str, str] = {}
        with self._sessions() as s, driver_cursor(s.connection()) as (cursor, mark):
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                marks = ", ".join([mark] * len(chunk))
                if column is ResolveIdentity.record_key:  # the primary key (entity, record_key)
                    sql = f"select record_key, cluster_id from {_MAP} where entity = {mark} "
                    cursor.execute(sql + f"and record_key in ({marks})", [entity, *chunk])
                    out.update((str(k), str(c)) for k, c in cursor.fetchall())
                else:
                    # the entity is checked here, not in SQL: given both, SQLite's planner scans
                    # the primary key's entity prefix (the whole map) instead of the cluster index
                    sql = f"select entity, record_key, cluster_id from {_MAP} where cluster_id "
                    cursor.execute(sql + f"in ({marks})", chunk)
                    out.update((str(k), str(c)) for e, k, c in cursor.fetchall() if e == entity)
        self.rows_read += len(out)
        return out

    def map_state(self, entity: str) -> MapState | None:
        """The run that last committed ``entity``'s identity map, and how many records it holds."""
        with self._sessions() as s:
            row = s.get(ResolveState, entity)
            return MapState(row.run_id, row.records) if row is not None else None

    def record_run(self, run: RunRecord) -> tuple[int, int]:
        """Commit everything one run changed in the ledger in ONE transaction: changed identity
        rows, their events, new review items, items now linked and the map's state row.

        One transaction is what makes kill -9 safe: a run either recorded its map *with* its events
        or nothing, so a re-run neither loses the events nor records them twice. Returns
        (events recorded, review items queued)."""
        with self._sessions.begin() as s:
            changed = _save_map(s, run.entity, run.ids, run.previous, run.run_id)
            n_events = _record_events(s, run.entity, run.run_id, run.events)
            queued = _enqueue(s, run.entity, run.run_id, run.review_pairs)
            _close_linked(s, run.entity, run.ids, changed)
            s.execute(delete(ResolveState).where(ResolveState.entity == run.entity))
            s.execute(
                insert(ResolveState),
                [
                    {
                        "entity": run.entity,
                        "run_id": run.run_id,
                        "records": run.records,
                        "at": datetime.now(UTC),
                    }
                ],
            )
        return n_events, queued

    # events -------------------------------------------------------------------------------
    def events(self, entity: str, cluster_id: str | None = None, limit: int = 100) -> list[dict[str, object]]:
        q = (
            select(ResolveEvent)
            .where(ResolveEvent.entity == entity)
            .order_by(ResolveEvent.id.desc())
            .limit(limit)
        )
        if cluster_id:
            q = q.where(or_(ResolveEvent.cluster_id == cluster_id, ResolveEvent.other_id == cluster_id))
        with self._sessions() as s:
            return [
                {
                    "kind": e.kind,
                    "cluster_id": e.cluster_id,
                    "other_id": e.other_id,
                    "reason": e.reason,
                    "evidence": json.loads(e.evidence),
                    "run_id": e.run_id,
                    "at": e.at,
                }
                for e in s.scalars(q)
            ]

    # review queue -------------------------------------------------------------------------
    def enqueue(self, entity: str, run_id: str, pairs: Iterable[tuple[str, str, float, str]]) -> int:
        """Add uncertain pairs not already queued or decided."""
        with self._sessions.begin() as s:
            return _enqueue(s, entity, run_id, pairs)

    def reviews(
        self, entity: str | None = None, status: str | None = "open", limit: int = 50
    ) -> list[ReviewItem]:
        q = select(ResolveReview).order_by(ResolveReview.score.desc()).limit(limit)
        if entity:
            q = q.where(ResolveReview.entity == entity)
        if status:
            q = q.where(ResolveReview.status == status)
        with self._sessions() as s:
            return [
                ReviewItem(
                    r.id, r.entity, r.left_key, r.right_key, r.score, json.loads(r.evidence or "{}"), r.status
                )
                for r in s.scalars(q)
            ]

    def decide(
        self, entity: str, kind: str, left: str, right: str | None, *, by: str, note: str = ""
    ) -> None:
        """Persist a reviewer decision (confirm / reject a pair, split an account out)."""
        if kind not in ("confirm", "reject", "split"):
            raise InputError(f"unknown review decision {kind!r}", hint="use confirm, reject or split")
        if kind != "split" and (not right or left == right):
            raise InputError(
                f"decision {kind} needs two different record keys, got {left!r} and {right!r}",
                hint="pass ACCOUNT_A ACCOUNT_B",
            )
        if right is not None and right < left:
            left, right = right, left
        now = datetime.now(UTC)
        with self._sessions.begin() as s:
            s.execute(
                insert(ResolveDecision),
                [
                    {
                        "entity": entity,
                        "kind": kind,
                        "left_key": left,
                        "right_key": right,
                        "decided_by": by,
                        "note": note,
                        "at": now,
                    }
                ],
            )
            if right is not None:
                status = "confirmed" if kind == "confirm" else "rejected"
                s.execute(
                    update(ResolveReview)
                    .where(
                        and_(
                            ResolveReview.entity == entity,
                            ResolveReview.left_key == left,
                            ResolveReview.right_key == right,
                        )
                    )
                    .values(status=status, decided_by=by, decided_at=now)
                )
            s.execute(
                insert(ResolveEvent),
                [
                    {
                        "run_id": "review",
                        "entity": entity,
                        "kind": "decision",
                        "cluster_id": left,
                        "other_id": right,
                        "reason": f"reviewer {by}: {kind}",
                        "evidence": json.dumps({"note": note}),
                    }
                ],
            )

    def decision_count(self, entity: str) -> int:
        """How many decisions exist; a change means the next run must re-cluster everything."""
        with self._sessions() as s:
            n = s.scalar(
                select(func.count()).select_from(ResolveDecision).where(ResolveDecision.entity == entity)
            )
            return int(n or 0)

    def decisions(self, entity: str) -> tuple[list[tuple[str, str]], Constraints]:
        """Confirmed pairs (must-link edges) and the constraints from rejects and splits (latest wins)."""
        latest: dict[tuple[str, str | None], str] = {}
        with self._sessions() as s:
            for d in s.scalars(
                select(ResolveDecision).where(ResolveDecision.entity == entity).order_by(ResolveDecision.id)
            ):
                latest[(d.left_key, d.right_key)] = d.kind
        constraints = Constraints()
        confirmed: list[tuple[str, str]] = []
        for (left, right), kind in latest.items():
            if kind == "split":
                constraints.isolated.add(left)
            elif kind == "reject" and right:
                constraints.forbid(left, right)
            elif kind == "confirm" and right:
                confirmed.append((left, right))
        return confirmed, constraints


# set-based writes, each inside the caller's transaction --------------------------------------
def _save_map(
    s: Session, entity: str, ids: Mapping[str, str], previous: Mapping[str, str], run_id: str
) -> list[str]:
    """Write the rows that changed and remove keys no longer present; returns the changed keys."""
    # set operations on the dict views run in C: a full run compares a million entries
    changed = sorted(ids.items() - previous.items())
    # keys removed from the map, and keys whose row is rewritten
    stale = sorted((previous.keys() - ids.keys()) | ({k for k, _ in changed} & previous.keys()))
    for i in range(0, len(stale), _CHUNK):
        s.execute(
            delete(ResolveIdentity).where(
                ResolveIdentity.entity == entity, ResolveIdentity.record_key.in_(stale[i : i + _CHUNK])
            )
        )
    if changed:  # the driver's executemany: a full run writes a million rows
        with driver_cursor(s.connection()) as (cursor, mark):
            values = ", ".join([mark] * 4)
            sql = f"insert into {_MAP} (entity, record_key, cluster_id, run_id) values ({values})"
            for i in range(0, len(changed), 50_000):
                cursor.executemany(sql, [(entity, k, c, run_id) for k, c in changed[i : i + 50_000]])
    return [k for k, _ in changed]


def _record_events(s: Session, entity: str, run_id: str, events: Iterable[IdentityEvent]) -> int:
    rows = []
    for e in events:
        proof = {"records": list(e.record_keys)[:50]}
        rows.append(
            {
                "run_id": run_id,
                "entity": entity,
                "kind": e.kind,
                "cluster_id": e.cluster_id,
                "other_id": e.other_id,
                "reason": e.reason,
                "evidence": json.dumps(proof, ensure_ascii=False, default=str),
            }
        )
    if rows:
        s.execute(insert(ResolveEvent), rows)
    return len(rows)


def _enqueue(s: Session, entity: str, run_id: str, pairs: Iterable[tuple[str, str, float, str]]) -> int:
    """Queue pairs not already queued or decided, looking up only these pairs' rows (by the
    (entity, left_key, right_key) unique index), never the whole queue."""
    fresh: dict[tuple[str, str], tuple[float, str]] = {}
    for a, b, p, ev in pairs:
        fresh.setdefault((a, b), (float(p), ev))
    lefts = sorted({a for a, _ in fresh})
    for i in range(0, len(lefts), _CHUNK):
        known = s.execute(
            select(ResolveReview.left_key, ResolveReview.right_key).where(
                ResolveReview.entity == entity, ResolveReview.left_key.in_(lefts[i : i + _CHUNK])
            )
        )
        for a, b in known:
            fresh.pop((a, b), None)
    rows = [
        {
            "entity": entity,
            "left_key": a,
            "right_key": b,
            "score": p,
            "evidence": ev,
            "status": "open",
            "run_id": run_id,
        }
        for (a, b), (p, ev) in fresh.items()
    ]
    if rows:
        s.execute(insert(ResolveReview), rows)
    return len(rows)


def _close_linked(s: Session, entity: str, ids: Mapping[str, str], changed: Sequence[str]) -> int:
    """Mark open items whose two records now share an identity as linked.

    Only an item with a record whose id ``changed`` can have become linked; with few changes just
    those items are read (by left and by right key), else every open item."""
    cols = (ResolveReview.id, ResolveReview.left_key, ResolveReview.right_key)
    is_open = and_(ResolveReview.entity == entity, ResolveReview.status == "open")
    items: set[tuple[int, str, str]] = set()
    if len(changed) > 10 * _CHUNK:
        items.update((n, a, b) for n, a, b in s.execute(select(*cols).where(is_open)))
    else:
        for i in range(0, len(changed), _CHUNK):
            chunk = changed[i : i + _CHUNK]
            for side in (ResolveReview.left_key, ResolveReview.right_key):
                rows = s.execute(select(*cols).where(is_open, side.in_(chunk)))
                items.update((n, a, b) for n, a, b in rows)
    done = sorted(i for i, a, b in items if a in ids and ids.get(a) == ids.get(b))
    for n in range(0, len(done), _CHUNK):
        chunk_ids = done[n : n + _CHUNK]
        s.execute(update(ResolveReview).where(ResolveReview.id.in_(chunk_ids)).values(status="linked"))
    return len(done)
