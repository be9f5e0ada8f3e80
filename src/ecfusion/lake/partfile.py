"""Atomic, immutable Parquet part files of the lake (standard 5.3.1.1; ARCHITECTURE principle 2).

A part is written under a hidden temporary name in its final folder, fsynced, renamed into
place and the folder fsynced: a reader sees the whole file or nothing, and after ``write_part``
returns the file survives kill -9 and power loss. Readers ignore names starting with "." or "_".
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HIDDEN_PREFIXES = (".", "_")
_STALE_TEMP_SECONDS = 3600


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_part(table: pa.Table, final_path: Path) -> Path:
    """Write ``table`` as zstd Parquet at ``final_path`` atomically and durably."""
    folder = final_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{final_path.name}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        pq.write_table(table, f, compression="zstd", row_group_size=64_000)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final_path)
    _fsync_dir(folder)
    return final_path


def part_files(folder: Path) -> list[Path]:
    """The visible Parquet parts below ``folder`` (recursively), temporaries excluded."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith(HIDDEN_PREFIXES))


def remove_stale_temporaries(folder: Path) -> int:
    """Delete temporaries left by a writer killed more than an hour ago; returns how many."""
    if not folder.is_dir():
        return 0
    cutoff = time.time() - _STALE_TEMP_SECONDS
    removed = 0
    for p in folder.rglob(".*.tmp"):
        try:
            if p.stat().st_mtime < cutoff:
                p.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


class PartWriter:
    """A part being written chunk by chunk (one row group each) under its hidden temporary name.

    Memory stays at one chunk whatever the file size; ``commit`` fsyncs and renames it into
    place, and until then no reader can see it. A writer killed before ``commit`` leaves only a
    temporary, which ``remove_stale_temporaries`` deletes later."""

    def __init__(self, final_path: Path, schema: pa.Schema) -> None:
        self.final_path = final_path
        final_path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = final_path.parent / f".{final_path.name}.{os.getpid()}.tmp"
        self._file = open(self._tmp, "wb")  # noqa: SIM115 - closed by commit/abort
        self._writer = pq.ParquetWriter(self._file, schema, compression="zstd")
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows += table.num_rows

    def commit(self) -> Path:
        self._writer.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._tmp, self.final_path)
        _fsync_dir(self.final_path.parent)
        return self.final_path

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self._file.close()
            self._tmp.unlink(missing_ok=True)
