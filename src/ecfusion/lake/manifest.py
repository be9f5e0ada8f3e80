"""Landing a simulated merchant's folder by its manifest (contracts §1; standard 4.3.4, 4.3.5 a).

``ingest_manifest`` walks ``DIR/manifest.json["files"]``: JSONL, JSON and CSV files go through the
file readers (encoding as the manifest declares it), SQLite databases are landed table by table
as keyed snapshots (entity = the table's name). Files of one (source, entity, platform, shop)
share one landing batch. Everything is resumable: run it again after a kill and it lands the
rest. Quarantine locations are paths relative to the folder, as the generator's truth records them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from ecfusion.errors import InputError
from ecfusion.lake.files import ProgressCallback, land_file
from ecfusion.lake.raw import RawLake
from ecfusion.lake.result import LandingSummary
from ecfusion.lake.tables import land_table, open_database, table_names

MANIFEST = "manifest.json"
_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "gbk": "gbk",
    "gb2312": "gbk",
    "gb18030": "gb18030",
}


class ManifestFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    path: str
    source: str
    platform: str
    entity: str
    format: str
    encoding: str | None = None
    shop_id: str | None = None
    records: int | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    files: list[ManifestFile]


@dataclass(frozen=True)
class _Group:
    source: str
    entity: str
    platform: str
    shop_id: str | None


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        return Manifest.model_validate(orjson.loads(path.read_bytes()))
    except FileNotFoundError as e:
        raise InputError(f"{path} not found", hint="point at a folder written by `ecfusion demo-data`") from e
    except orjson.JSONDecodeError as e:
        raise InputError(
            f"{path} is not valid JSON ({e})", hint="regenerate it with `ecfusion demo-data`"
        ) from e
    except ValidationError as e:
        first = e.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"{path}: key '{key}' is invalid ({first['msg']})",
            hint="each files[] entry needs path, source, platform, entity, format",
        ) from e


def _encoding(entry: ManifestFile) -> str:
    return _ENCODINGS.get((entry.encoding or "auto").lower(), "auto")


def ingest_manifest(
    lake: RawLake,
    folder: Path | str,
    *,
    progress: ProgressCallback | None = None,
    on_group: Callable[[str, str], None] | None = None,
) -> LandingSummary:
    """Land every file the manifest of ``folder`` lists; returns counts per (source, entity)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    groups: dict[_Group, list[ManifestFile]] = {}
    databases: list[ManifestFile] = []
    for entry in manifest.files:
        if entry.format == "sqlite":
            databases.append(entry)
        else:
            groups.setdefault(_Group(entry.source, entry.entity, entry.platform, entry.shop_id), []).append(
                entry
            )
    summary = LandingSummary()
    for group, entries in groups.items():
        if on_group is not None:
            on_group(group.source, group.entity)
        with lake.writer(group.source, group.entity, group.platform, group.shop_id) as w:
            for entry in entries:
                got = land_file(
                    w,
                    folder / entry.path,
                    fmt=entry.format,
                    encoding=_encoding(entry),
                    label=entry.path,
                    progress=progress,
                )
                if got is None:
                    summary.skipped_files.append(entry.path)
        summary.add(group.source, group.entity, w.result)
    for entry in databases:
        _land_database(lake, folder, entry, summary, on_group)
    return summary


def _land_database(
    lake: RawLake,
    folder: Path,
    entry: ManifestFile,
    summary: LandingSummary,
    on_group: Callable[[str, str], None] | None,
) -> None:
    engine = open_database(f"sqlite:///{folder / entry.path}")
    try:
        for table in table_names(engine):
            if on_group is not None:
                on_group(entry.source, table)
            with lake.writer(entry.source, table, entry.platform, entry.shop_id) as w:
                land_table(w, engine, table)
            summary.add(entry.source, table, w.result)
    finally:
        engine.dispose()
