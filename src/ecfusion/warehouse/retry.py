"""Quarantined records shown, and taken again once their rule is fixed (issue 3 Build items 2, 4).

A record fails a rule — a status code the platform's map does not list, a time in a format the
mapping does not read — and waits in ``unified.quarantine`` with the reason. Once the mapping is
fixed (a workspace copy with the code added, docs/mappings.md), ``run(ws, retry=Retry(...))``
releases the matching quarantine rows and the ledger entries (``meta.processed_file``) of the raw
files that hold them, inside the run's new snapshot, so that run reads those files again:

* a released record is standardized anew: unified now, or quarantined again with today's reason;
* the files' other records were seen before (unified, or quarantined for a rule not retried) and
  count as duplicates — nothing is written twice, and the run's reconciliation still balances.

The raw zone is never touched; a run that fails leaves the live snapshot as it was.
``quarantine_groups`` shows what waits, by rule, platform and mapping, with a reason for example.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Retry:
    """Which quarantined records a run takes again; None matches any."""

    rule: str | None = None
    platform: str | None = None
    entity: str | None = None

    def where(self, alias: str = "q") -> tuple[str, list[str]]:
        conds, params = ["TRUE"], []
        for column in ("rule", "platform", "entity"):
            value = getattr(self, column)
            if value is not None:
                conds.append(f"{alias}.{column} = ?")
                params.append(value)
        return " AND ".join(conds), params


    def describe(self) -> str:
        """The filter as a user gave it, e.g. "rule 'unknown_status', platform 'jd'"."""
        said = [f"{c} {v!r}" for c in ("rule", "platform", "entity") if (v := getattr(self, c)) is not None]
        return ", ".join(said) or "any record"


@dataclass(frozen=True)
class Released:
    records: int
    files: int


def waiting(conn: duckdb.DuckDBPyConnection) -> str:
    """What waits in quarantine, by rule and platform ("unknown_status 6 (taobao 4, jd 2); …"), so a
    rule or platform misspelt in a filter can be given right."""
    rows = conn.execute(
        "SELECT rule, sum(n), string_agg(platform || ' ' || n, ', ' ORDER BY n DESC, platform) FROM "
        "(SELECT rule, platform, count(*) AS n FROM unified.quarantine GROUP BY ALL) AS g "
        "GROUP BY rule ORDER BY 2 DESC, 1"
    ).fetchall()
    return "; ".join(f"{rule} {n:,} ({where})" for rule, n, where in rows) or "nothing, it is empty"


def nothing_released(conn: duckdb.DuckDBPyConnection, retry: Retry) -> str:
    """The run's note when ``retry`` matched no quarantined record (a rule or platform misspelt, or
    already taken again): what does wait there."""
    return (
        f"--retry-quarantined took nothing: no quarantined record matches {retry.describe()}; "
        f"in quarantine: {waiting(conn)}"
    )


def release(conn: duckdb.DuckDBPyConnection, retry: Retry) -> Released:
    """Forget the matching quarantine rows and the ledger entries of the files that hold them."""
    where, params = retry.where()
    [(records, files)] = conn.execute(
        f"SELECT count(*), count(DISTINCT raw_file) FROM unified.quarantine AS q WHERE {where}", params
    ).fetchall()
    # the ledger names a file relative to the lake; a quarantine row by the path the run read
    conn.execute(
        "DELETE FROM meta.processed_file AS f WHERE EXISTS (SELECT 1 FROM unified.quarantine AS q "
        f"WHERE {where} AND (q.raw_file = f.path OR ends_with(q.raw_file, '/' || f.path)))",
        params,
    )
    conn.execute(f"DELETE FROM unified.quarantine AS q WHERE {where}", params)
    return Released(int(records), int(files))


@dataclass(frozen=True)
class QuarantineGroup:
    """Quarantined records of one rule, platform, entity and mapping: how many, how many different
    reasons (one per unknown code, per empty field …) and the first few of them."""

    rule: str
    platform: str
    entity: str
    mapping: str
    records: int
    reasons: int
    examples: list[str]


def quarantine_groups(conn: duckdb.DuckDBPyConnection, which: Retry | None = None) -> list[QuarantineGroup]:
    """What waits in ``unified.quarantine`` (``ecfusion warehouse quarantine``), largest group first:
    what to fix before ``run(ws, retry=…)`` takes the records again."""
    where, params = (which or Retry()).where()
    rows = conn.execute(
        "SELECT rule, platform, entity, COALESCE(mapping, ''), count(*), count(DISTINCT reason), "
        f"list(DISTINCT reason ORDER BY reason)[1:{EXAMPLES}] "
        f"FROM unified.quarantine AS q WHERE {where} GROUP BY ALL ORDER BY 5 DESC, 1, 2, 3",
        params,
    ).fetchall()
    return [
        QuarantineGroup(str(r), str(p), str(e), str(m), int(n), int(k), [str(x) for x in xs])
        for r, p, e, m, n, k, xs in rows
    ]


EXAMPLES = 3  # reasons shown per group
