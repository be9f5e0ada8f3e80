"""The identity ledger: identity map, events, review queue and decisions in the control plane (6.1.3).

Reads and writes ``ecfusion.control.resolve`` tables for one entity kind ("member" or "product").
Writes are set-based (only changed rows), so an incremental run touching 1% of accounts writes
about 1% of the map.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import sessionmaker

from ecfusion.control.db import session_factory
from ecfusion.control.resolve import ResolveDecision, ResolveEvent, ResolveIdentity, ResolveReview
from ecfusion.errors import InputError
from ecfusion.resolve.graph import Constraints, IdentityEvent

_CHUNK = 5_000


@dataclass(frozen=True)
class ReviewItem:
    id: int
    entity: str
    left_key: str
    right_key: str
    score: float
    evidence: dict[str, object]
    status: str


class Ledger:
    """The control-plane store of one workspace's resolution state."""

    def __init__(self, url: str) -> None:
        self._sessions: sessionmaker = session_factory(url)

    # identity map -------------------------------------------------------------------------
    def identity_map(self, entity: str) -> dict[str, str]:
        """record key → cluster id. Read through the driver's cursor: an incremental run loads a
        million rows of it, and row objects cost more than the query (a third of the run at 1M)."""
        stmt = select(ResolveIdentity.record_key, ResolveIdentity.cluster_id).where(
            ResolveIdentity.entity == bindparam("entity")
        )
        with self._sessions() as s:
            conn = s.connection()
            compiled = stmt.compile(dialect=conn.dialect)
            params = compiled.construct_params({"entity": entity})
            if compiled.positiontup is not None:  # qmark / format paramstyles
                args: Any = tuple(params[name] for name in compiled.positiontup)
            else:
                args = params
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(str(compiled), args)
                return dict(cursor.fetchall())
            finally:
                cursor.close()

    def save_identity_map(
        self, entity: str, ids: Mapping[str, str], previous: Mapping[str, str], run_id: str
    ) -> int:
        """Write the rows that changed; remove keys no longer present. Returns rows written."""
        # set operations on the dict views run in C: an incremental run compares a million entries
        changed = sorted(ids.items() - previous.items())
        gone = sorted(previous.keys() - ids.keys())
        with self._sessions.begin() as s:
            for i in range(0, len(gone), _CHUNK):
                s.execute(
                    delete(ResolveIdentity).where(
                        ResolveIdentity.entity == entity, ResolveIdentity.record_key.in_(gone[i : i + _CHUNK])
                    )
                )
            existing = sorted({k for k, _ in changed} & previous.keys())
            for i in range(0, len(existing), _CHUNK):
                s.execute(
                    delete(ResolveIdentity).where(
                        ResolveIdentity.entity == entity,
                        ResolveIdentity.record_key.in_(existing[i : i + _CHUNK]),
                    )
                )
            rows = [
                {"entity": entity, "record_key": k, "cluster_id": c, "run_id": run_id} for k, c in changed
            ]
            for i in range(0, len(rows), 50_000):
                s.execute(insert(ResolveIdentity), rows[i : i + 50_000])
        return len(changed)

    # events -------------------------------------------------------------------------------
    def record_events(
        self,
        entity: str,
        run_id: str,
        events: Iterable[IdentityEvent],
        evidence: Mapping[str, list[dict[str, object]]] | None = None,
    ) -> int:
        rows = []
        for e in events:
            proof = {
                "records": list(e.record_keys)[:50],
                "edges": (evidence or {}).get(e.cluster_id, [])[:20],
            }
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
            with self._sessions.begin() as s:
                s.execute(insert(ResolveEvent), rows)
        return len(rows)

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
            known = {
                (r.left_key, r.right_key)
                for r in s.scalars(select(ResolveReview).where(ResolveReview.entity == entity))
            }
            rows = [
                {
                    "entity": entity,
                    "left_key": a,
                    "right_key": b,
                    "score": float(p),
                    "evidence": ev,
                    "status": "open",
                    "run_id": run_id,
                }
                for a, b, p, ev in pairs
                if (a, b) not in known
            ]
            if rows:
                s.execute(insert(ResolveReview), rows)
        return len(rows)

    def close_linked(self, entity: str, ids: Mapping[str, str]) -> int:
        """Mark open items whose two records now share an identity (by other evidence) as linked."""
        with self._sessions.begin() as s:
            open_items = s.execute(
                select(ResolveReview.id, ResolveReview.left_key, ResolveReview.right_key).where(
                    ResolveReview.entity == entity, ResolveReview.status == "open"
                )
            ).all()
            done = [i for i, a, b in open_items if a in ids and ids.get(a) == ids.get(b)]
            for n in range(0, len(done), _CHUNK):
                chunk = done[n : n + _CHUNK]
                s.execute(update(ResolveReview).where(ResolveReview.id.in_(chunk)).values(status="linked"))
        return len(done)

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
            return len(s.scalars(select(ResolveDecision.id).where(ResolveDecision.entity == entity)).all())

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
