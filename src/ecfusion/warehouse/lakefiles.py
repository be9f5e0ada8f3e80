"""Which raw-zone files a run still has to standardize (Build item 5, "incremental").

The ledger is ``meta.processed_file`` inside the warehouse snapshot itself, so it can never
claim more than the snapshot holds: a run that dies before publishing leaves no trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

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


def discover(lake_root: Path) -> list[RawFile]:
    """Every raw Parquet file under ``LAKE/raw/source=S/entity=E/dt=D/``, in path order."""
    raw = lake_root / "raw"
    out = []
    for p in sorted(raw.glob("source=*/entity=*/dt=*/*.parquet")):
        source = _partition(p.parts[-4], "source")
        entity = _partition(p.parts[-3], "entity")
        if source and entity:
            out.append(RawFile(p, str(p.relative_to(lake_root)), source, entity))
    return out


def misplaced(lake_root: Path, found: list[RawFile]) -> list[str]:
    """Parquet files under ``LAKE/raw/`` outside its layout, which ``discover`` (its ``found``)
    never sees, relative to the lake root: a file copied in by hand one folder too high, say."""
    placed = {f.path for f in found}
    every = (lake_root / "raw").rglob("*.parquet")
    return sorted(str(p.relative_to(lake_root)) for p in every if p not in placed)


def unprocessed(conn: duckdb.DuckDBPyConnection, files: list[RawFile]) -> list[RawFile]:
    done = {r[0] for r in conn.execute("SELECT path FROM meta.processed_file").fetchall()}
    return [f for f in files if f.relative not in done]


# (a file's source and entity come from its folder names: DuckDB reads them as hive partitions)
_IDENTIFIED = "raw_record_id IS NOT NULL AND platform IS NOT NULL"


def _counts(conn: duckdb.DuckDBPyConnection, files: list[RawFile]) -> dict[str, dict[str, int]]:
    """Records per platform in each file (by absolute path). A file with records that lack their
    raw record id or platform maps to ``{_UNIDENTIFIED: n}`` alone: it is not taken."""
    paths = "[" + ", ".join(lit(str(f.path)) for f in files) + "]"
    rows = conn.execute(
        f"SELECT filename, platform, count(*) FILTER (WHERE {_IDENTIFIED}), "
        f"count(*) FILTER (WHERE NOT ({_IDENTIFIED})) "
        f"FROM read_parquet({paths}, filename = true) GROUP BY ALL"
    ).fetchall()
    out: dict[str, dict[str, int]] = {str(f.path): {} for f in files}
    unidentified: dict[str, int] = {}
    for filename, platform, n, missing in rows:
        if n:
            out[str(filename)][str(platform)] = int(n)
        if missing:
            unidentified[str(filename)] = unidentified.get(str(filename), 0) + int(missing)
    for path, n in unidentified.items():
        out[path] = {_UNIDENTIFIED: n}
    return out


_UNIDENTIFIED = ""  # the key of a file's count of records without their ids (no platform is "")


def _taken(counts: dict[str, dict[str, int]]) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """``counts`` without the files that have records without their ids, and those files' reason."""
    why = {
        path: f"{c[_UNIDENTIFIED]:,} record{'' if c[_UNIDENTIFIED] == 1 else 's'} without a raw_record_id "
        "or platform (every landed record has both)"
        for path, c in counts.items()
        if _UNIDENTIFIED in c
    }
    return {path: c for path, c in counts.items() if path not in why}, why


# the envelope columns standardization reads, all text (lake/envelope.py RAW_SCHEMA has them all)
ENVELOPE_READ = ("raw_record_id", "source", "platform", "payload")


def _not_envelope(conn: duckdb.DuckDBPyConnection, files: list[RawFile]) -> dict[str, str]:
    """The files (absolute path → why) that lack a column of ``ENVELOPE_READ`` or hold one as
    other than text: Parquet files some other tool wrote into the raw zone. Their footers alone
    are read."""
    paths = "[" + ", ".join(lit(str(f.path)) for f in files) + "]"
    have: dict[str, dict[str, str]] = {str(f.path): {} for f in files}
    rows = conn.execute(f"SELECT file_name, name, duckdb_type FROM parquet_schema({paths})").fetchall()
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
    return out


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
        ours = [f for f in files if str(f.path) not in foreign]
        counts, unidentified = _taken(_counts(conn, ours) if ours else {})
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
    counts, unidentified = _taken(_counts(conn, readable) if readable else {})
    return counts, unreadable | unidentified


def damaged(files: list[RawFile]) -> dict[str, str]:
    """The files among ``files`` that cannot be read whole (absolute path → DuckDB's reason):
    damage inside a data page (a block gone bad on disk) that ``platform_counts``, which reads
    one column, does not reach. Every value of each file is read once, on a connection of its
    own (the caller's may be in a failed transaction): for the path where a run has failed."""
    out: dict[str, str] = {}
    with duckdb.connect() as conn:
        for f in files:
            try:  # hashing the whole row makes DuckDB decode every column of every page
                conn.execute(f"SELECT bit_xor(hash(t)) FROM read_parquet({lit(str(f.path))}) AS t").fetchall()
            except duckdb.Error as e:
                out[str(f.path)] = _reason(e, f)
    return out
