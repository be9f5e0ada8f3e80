"""Which raw-zone files a run still has to standardize (Build item 5, "incremental").

The ledger is ``meta.processed_file`` inside the warehouse snapshot itself, so it can never
claim more than the snapshot holds: a run that dies before publishing leaves no trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ecfusion.interrupt import stoppable
from ecfusion.lake.envelope import SCHEMA_VERSION
from ecfusion.standardize.sqlgen import lit


@dataclass(frozen=True)
class RawFile:
    path: Path  # absolute
    relative: str  # relative to the lake root, as recorded in the ledger
    source: str
    entity: str


def _partition(part: str, key: str) -> str | None:
    prefix = key + "="
    return part[len(prefix) :] if part.startswith(prefix) else None


def scan(lake_root: Path) -> tuple[list[RawFile], list[str]]:
    """One walk of ``LAKE/raw/``: the raw files in its layout (``source=S/entity=E/dt=D/*.parquet``),
    in path order, and the Parquet files outside it, relative to the lake root (a file copied in by
    hand one folder too high, say): those are named, never taken."""
    raw = lake_root / "raw"
    placed, stray = [], []
    for p in sorted(raw.rglob("*.parquet")):
        parts = p.relative_to(raw).parts
        layout = len(parts) == 4 and parts[2].startswith("dt=")
        source = _partition(parts[0], "source") if layout else None
        entity = _partition(parts[1], "entity") if layout else None
        if source and entity:
            placed.append(RawFile(p, str(p.relative_to(lake_root)), source, entity))
        else:
            stray.append(str(p.relative_to(lake_root)))
    return placed, stray


def discover(lake_root: Path) -> list[RawFile]:
    """Every raw Parquet file in the raw zone's layout (``scan``), in path order."""
    return scan(lake_root)[0]


def unprocessed(conn: duckdb.DuckDBPyConnection, files: list[RawFile]) -> list[RawFile]:
    done = {r[0] for r in conn.execute("SELECT path FROM meta.processed_file").fetchall()}
    return [f for f in files if f.relative not in done]


def _file_list(files: list[RawFile]) -> str:
    """The files as a DuckDB list literal, for ``read_parquet`` and ``parquet_schema``."""
    return "[" + ", ".join(lit(str(f.path)) for f in files) + "]"


# (a file's source and entity come from its folder names: DuckDB reads them as hive partitions)
_IDENTIFIED = "raw_record_id IS NOT NULL AND platform IS NOT NULL"


def _counts(
    conn: duckdb.DuckDBPyConnection, files: list[RawFile]
) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """Records per platform in each file (by absolute path); and, left out of those counts, the
    files with records that lack their raw record id or platform, or that hold one record twice
    (absolute path → why). Landing writes each record once, and a run tells a staged record by
    its id and file: two copies in one file would be taken twice."""
    if not files:
        return {}, {}
    rows = conn.execute(
        f"SELECT filename, platform, count(*) FILTER (WHERE {_IDENTIFIED}), "
        f"count(*) FILTER (WHERE NOT ({_IDENTIFIED})), "
        f"count(DISTINCT raw_record_id) FILTER (WHERE {_IDENTIFIED}) "
        f"FROM read_parquet({_file_list(files)}, filename = true) GROUP BY ALL"
    ).fetchall()
    out: dict[str, dict[str, int]] = {str(f.path): {} for f in files}
    lacking: dict[str, int] = {}
    repeated: dict[str, int] = {}
    for filename, platform, n, without_ids, distinct in rows:
        if n:
            out[str(filename)][str(platform)] = int(n)
        if without_ids:
            lacking[str(filename)] = lacking.get(str(filename), 0) + int(without_ids)
        if n > distinct:
            repeated[str(filename)] = repeated.get(str(filename), 0) + int(n - distinct)
    why = {
        path: f"{n:,} record{'' if n == 1 else 's'} without a raw_record_id or platform (every landed "
        "record has both)"
        for path, n in lacking.items()
    }
    why |= {
        path: f"{n:,} more cop{'y' if n == 1 else 'ies'} of records it already holds (landing writes each "
        "record once: land the source again instead)"
        for path, n in repeated.items()
        if path not in why
    }
    return {path: c for path, c in out.items() if path not in why}, why


# the envelope columns standardization reads, all text (lake/envelope.py RAW_SCHEMA has them all)
ENVELOPE_READ = ("raw_record_id", "source", "platform", "payload")


def _not_envelope(conn: duckdb.DuckDBPyConnection, files: list[RawFile]) -> dict[str, str]:
    """The files (absolute path → why) a run cannot read as landed envelopes, told by their footers
    alone: those that lack a column of ``ENVELOPE_READ`` or hold one as other than text (Parquet
    files some other tool wrote into the raw zone), and those of a newer envelope version."""
    have: dict[str, dict[str, str]] = {str(f.path): {} for f in files}
    rows = conn.execute(
        f"SELECT file_name, name, duckdb_type FROM parquet_schema({_file_list(files)})"
    ).fetchall()
    for filename, name, duckdb_type in rows:
        have[str(filename)][str(name)] = str(duckdb_type)
    out = {}
    for path, types in have.items():
        missing = [c for c in ENVELOPE_READ if c not in types]
        not_text = [f"{c} is {types[c]}" for c in ENVELOPE_READ if c in types and types[c] != "VARCHAR"]
        if missing:
            columns = "column" + ("s" if len(missing) > 1 else "")
            out[path] = (
                f"not a raw-zone file: it lacks the envelope {columns} {', '.join(missing)} that every "
                "landed file has"
            )
        elif not_text:
            out[path] = f"not a raw-zone file: {', '.join(not_text)}, where every landed file has text"
    return out | _newer_envelopes(conn, [f for f in files if str(f.path) not in out])


def _newer_envelopes(conn: duckdb.DuckDBPyConnection, files: list[RawFile]) -> dict[str, str]:
    """The files (absolute path → why) landed by a newer ecfusion, in an envelope version this one
    does not know (a collector upgraded before the warehouse): read as version 1, their fields
    could mean other things. Told by the footers' statistics of ``schema_version``."""
    if not files:
        return {}
    rows = conn.execute(
        "SELECT file_name, max(TRY_CAST(stats_max AS INTEGER)) FROM "
        f"parquet_metadata({_file_list(files)}) WHERE path_in_schema = 'schema_version' GROUP BY ALL"
    ).fetchall()
    return {
        str(path): f"landed in envelope version {v}, and this ecfusion reads version {SCHEMA_VERSION}: "
        "upgrade ecfusion where the warehouse runs to the collectors' version"
        for path, v in rows
        if v is not None and v > SCHEMA_VERSION
    }


def _reason(e: duckdb.Error, f: RawFile) -> str:
    """DuckDB's first line on ``f``, without the file's absolute path (the caller names it)."""
    return str(e).splitlines()[0].replace(f' "{f.path}"', "").replace(f" '{f.path}'", "")


def platform_counts(
    conn: duckdb.DuckDBPyConnection, files: list[RawFile]
) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """Rows per platform in each file (by absolute path): one cheap pass over the footers and the
    id columns; and the files left out (absolute path → why): a Parquet file without the
    envelope's columns (another tool's) or with records that lack their ids, and those the pass
    cannot read (a copy cut short, a file damaged on disk: DuckDB's reason), probed one by one only
    when the pass over all of them fails."""
    if not files:
        return {}, {}
    try:
        foreign = _not_envelope(conn, files)
        counts, unidentified = _counts(conn, [f for f in files if str(f.path) not in foreign])
        return counts, foreign | unidentified
    except duckdb.Error:
        pass
    readable, unreadable = [], {}
    for f in files:
        try:
            foreign = _not_envelope(conn, [f])
            if not foreign:
                _counts(conn, [f])
        except duckdb.Error as e:
            unreadable[str(f.path)] = _reason(e, f)
            continue
        if foreign:
            unreadable |= foreign
        else:
            readable.append(f)
    counts, unidentified = _counts(conn, readable)
    return counts, unreadable | unidentified


def damaged(files: list[RawFile]) -> dict[str, str]:
    """The files among ``files`` that cannot be read whole (absolute path → DuckDB's reason):
    damage inside a data page (a block gone bad on disk) that ``platform_counts``, which reads
    two columns, does not reach. Every value of each file is read once, on a connection of its
    own (the caller's may be in a failed transaction): for the path where a run has failed."""
    out: dict[str, str] = {}
    with stoppable(duckdb.connect()) as conn:
        for f in files:
            try:  # hashing the whole row makes DuckDB decode every column of every page
                conn.execute(f"SELECT bit_xor(hash(t)) FROM read_parquet({lit(str(f.path))}) AS t").fetchall()
            except duckdb.Error as e:
                out[str(f.path)] = _reason(e, f)
    return out
