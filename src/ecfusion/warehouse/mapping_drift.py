"""Records a mapping change left behind (issue 3 Build item 2: one versioned mapping file per source).

A run standardizes each platform's records with the mapping in effect then, and the merge keeps
what it made: a mapping edited since (a path corrected, a status mapped otherwise, ``fen`` for
``yuan``) changes only the records read after the edit. So every run records, per platform it read,
the mapping it used (``meta.run_mapping``: the label, a digest, and the whole mapping as JSON on
the first row of its digest only: a warehouse of a thousand runs keeps each mapping once), and
``stale_mappings`` compares those with the mappings in effect now. ``ecfusion run`` and
``ecfusion warehouse status`` say, per platform, how many raw records an older mapping
standardized; ``ecfusion run --rebuild`` standardizes the whole raw zone again with the mappings
in effect (``warehouse/rebuild.py``).

Not reported, because no accepted record can differ: codes added to a map whose unknown codes are
quarantined (a record with such a code was quarantined, not accepted, and ``--retry-quarantined``
takes it again: the documented way to teach a map a new status), and the ``version`` and
``reference`` texts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from ecfusion.standardize.mapping import Mapping

REBUILD_HINT = "`ecfusion run --rebuild` standardizes the whole raw zone again with the mappings in effect"


@dataclass(frozen=True)
class StaleMapping:
    """Records of ``platform`` in the warehouse that a mapping other than the one in effect standardized."""

    platform: str
    records: int  # raw records the runs that used those mappings read
    used: tuple[str, ...]  # their labels, e.g. "taobao.toml v1.0.0"
    now: str | None  # the label in effect, None when the platform has no mapping now

    def line(self) -> str:
        used = ", ".join(self.used)
        if self.now is None:
            return (
                f"{self.platform}: {self.records:,} raw records were standardized with {used}; no mapping of "
                f"{self.platform} is in effect now, so later records of it wait as pending"
            )
        same = self.now in self.used  # the same label: the file was edited without a new version
        now = f"{self.now} as it is now" if same else self.now
        return (
            f"{self.platform}: {self.records:,} raw records were standardized with {used}"
            f"{' before it was edited' if same else ''}, not {now}: their unified rows keep what "
            "the older rules made of them"
        )


@dataclass(frozen=True)
class Drift:
    stale: list[StaleMapping] = field(default_factory=list)
    # raw records standardized by runs that recorded no mapping (an ecfusion before meta.run_mapping)
    unrecorded: int = 0

    def notes(self) -> list[str]:
        """One line each, for the run summary and ``warehouse status``."""
        out = [f"mapping changed since: {s.line()}; {REBUILD_HINT}" for s in self.stale]
        if self.unrecorded:
            out.append(
                f"{self.unrecorded:,} raw records were standardized by an earlier ecfusion, which did not "
                f"record the mappings it used: if a mapping or ecfusion changed since, {REBUILD_HINT}"
            )
        return out


def digest(m: Mapping) -> str:
    return hashlib.sha256(m.model_dump_json().encode()).hexdigest()[:16]


def record(
    conn: duckdb.DuckDBPyConnection, run_id: str, mappings: dict[str, Mapping], records: dict[str, int]
) -> None:
    """Insert the mapping of each platform this run read ``records`` of (inside the run's transaction);
    its rules only when no earlier row holds the same digest."""
    now = datetime.now(UTC).replace(tzinfo=None)
    for p, n in sorted(records.items()):
        if p not in mappings:
            continue
        m = mappings[p]
        d = digest(m)
        conn.execute(
            "INSERT INTO meta.run_mapping SELECT ?, ?, ?, ?, "
            "CASE WHEN EXISTS (SELECT 1 FROM meta.run_mapping WHERE digest = ?) THEN NULL ELSE ? END, ?, ?",
            [run_id, p, m.label, d, d, m.model_dump_json(), n, now],
        )


def _has_run_mapping(conn: duckdb.DuckDBPyConnection) -> bool:
    [(n,)] = conn.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'meta' AND table_name = 'run_mapping'"
    ).fetchall()
    return bool(n)


def stale_mappings(conn: duckdb.DuckDBPyConnection, mappings: dict[str, Mapping]) -> Drift:
    """What the warehouse on ``conn`` holds from mappings other than ``mappings`` (those in effect)."""
    if not _has_run_mapping(conn):  # a snapshot an ecfusion before meta.run_mapping wrote
        [(unrecorded,)] = conn.execute("SELECT COALESCE(sum(rows), 0) FROM meta.processed_file").fetchall()
        return Drift(unrecorded=int(unrecorded))
    used = conn.execute(
        "SELECT platform, mapping, digest, any_value(rules) FILTER (WHERE rules IS NOT NULL), sum(records) "
        "FROM meta.run_mapping GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    [(unrecorded,)] = conn.execute(
        "SELECT COALESCE(sum(rows), 0) FROM meta.processed_file "
        "WHERE run_id NOT IN (SELECT run_id FROM meta.run_mapping)"
    ).fetchall()
    digests = {p: digest(m) for p, m in mappings.items()}
    by_platform: dict[str, tuple[int, list[str]]] = {}
    for platform, label, used_digest, rules, n in used:
        now = mappings.get(platform)
        if now is not None and (used_digest == digests[platform] or not may_change_accepted(rules, now)):
            continue
        count, labels = by_platform.get(platform, (0, []))
        by_platform[platform] = (count + int(n), labels if label in labels else [*labels, label])
    stale = [
        StaleMapping(p, n, tuple(labels), mappings[p].label if p in mappings else None)
        for p, (n, labels) in sorted(by_platform.items())
    ]
    return Drift(stale, int(unrecorded))


def may_change_accepted(recorded: str | None, now: Mapping) -> bool:
    """Whether a record the mapping ``recorded`` (JSON text, as a run stored it) accepted could
    unify otherwise under ``now``: any difference but the ``version`` and ``reference`` texts and
    codes added to a map that quarantines unknown codes. The recorded rules are read by today's
    model first, so a setting a newer ecfusion added, at its default, is no difference; rules today's
    model refuses, or rules not kept, are one."""
    if recorded is None:
        return True
    try:
        old = json.loads(Mapping.model_validate_json(recorded).model_dump_json())
    except ValueError:  # pydantic's ValidationError: a setting this ecfusion no longer has or allows
        return True
    new = json.loads(now.model_dump_json())
    for rules in (old, new):
        rules.pop("version", None)
        rules.pop("reference", None)
    for name, new_map in new.get("maps", {}).items():
        old_map = old.get("maps", {}).get(name)
        if old_map is None or new_map["on_unknown"] != "quarantine" or old_map["on_unknown"] != "quarantine":
            continue
        new_map["codes"] = {k: v for k, v in new_map["codes"].items() if k in old_map["codes"]}
    return bool(old != new)
