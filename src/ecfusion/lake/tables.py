"""Landing database tables as resumable keyed snapshots (standard 4.3.4: ERP/CRM database collection).

``ingest_table`` reads a table of a SQLite, PostgreSQL or MariaDB database through SQLAlchemy in
key order, one page at a time, landing each page and then checkpointing the last key
(``table:<name>``). Killed mid-way, a re-run continues after that key; a finished snapshot run
again starts a fresh one, in which unchanged rows are duplicates and changed rows land as new
versions. Tables without a usable key are paged by offset (the content hash still prevents
doubles). Row-level change capture is the collection layer's CDC connectors' job, not this one's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, MetaData, Table, create_engine, inspect, select
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from ecfusion.errors import InputError, SourceError
from ecfusion.lake import jsontext
from ecfusion.lake.envelope import json_default
from ecfusion.lake.raw import RawLake, RawWriter
from ecfusion.lake.result import LandingResult

PAGE_ROWS = 5_000


def open_database(url: str) -> Engine:
    try:
        engine = create_engine(url, pool_pre_ping=True)
        _sqlite_file_there(engine)
        with engine.connect():
            pass
    except (SQLAlchemyError, ImportError, ValueError) as e:
        raise SourceError(
            f"cannot connect to database {engine_label(url)}: {_why(e)}",
            hint="check the URL, e.g. sqlite:///crm.sqlite or "
            "postgresql+psycopg://user@host:5432/db or mysql+pymysql://user@host/db",
        ) from e
    return engine


def _sqlite_file_there(engine: Engine) -> None:
    """SQLite opens a file that is not there by creating it empty: a mistyped path landed nothing,
    said its table was missing and left an empty database behind."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        path = Path(database)
        if not database.startswith("file:") and not path.is_file():
            said = "is a folder, not a database file" if path.is_dir() else "does not exist"
            raise InputError(f"database file {database} {said}", hint="check the path in the sqlite:/// URL")


def _why(e: BaseException) -> str:
    """What the driver or SQLAlchemy said, on one line (it was only the exception's class name)."""
    if isinstance(e, ModuleNotFoundError):
        return f"its driver {e.name} is not installed"
    said = str(getattr(e, "orig", None) or e).strip()
    return f"{type(e).__name__}: {said.splitlines()[0]}" if said else type(e).__name__


def engine_label(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


def _reflect(engine: Engine, name: str) -> Table:
    try:
        return Table(name, MetaData(), autoload_with=engine)
    except NoSuchTableError as e:
        there = ", ".join(table_names(engine)) or "(none)"
        raise InputError(
            f"table {name!r} not found in {engine_label(str(engine.url))} (tables: {there})",
            hint="pass one of the tables listed with --table",
        ) from e


def _key_column(table: Table, key: str | None) -> str | None:
    if key is not None:
        if key not in table.c:
            raise InputError(
                f"column {key!r} not in table {table.name!r}", hint=f"columns: {', '.join(table.c.keys())}"
            )
        return key
    pk = list(table.primary_key.columns)
    return pk[0].name if len(pk) == 1 else None


def _json_row(row: Any) -> dict[str, Any]:
    """A database row as JSON-native values (Decimal → str, datetime → ISO text, bytes → hex)."""
    return jsontext.loads(
        jsontext.dumps(dict(row._mapping), default=json_default, option=orjson.OPT_NON_STR_KEYS)
    )


def _pages(engine: Engine, table: Table, key: str | None, state: dict[str, Any]) -> Iterator[list[Any]]:
    last, offset = state.get("last"), int(state.get("offset", 0))
    while True:
        q = select(table)
        if key is not None:
            q = q.order_by(table.c[key])
            if last is not None:
                q = q.where(table.c[key] > last)
        else:
            q = q.order_by(*table.c).offset(offset)
        with engine.connect() as c:
            rows = list(c.execute(q.limit(PAGE_ROWS)))
        if not rows:
            return
        yield rows
        if key is not None:
            last = rows[-1]._mapping[key]
        offset += len(rows)


def land_table(
    writer: RawWriter, engine: Engine, table_name: str, *, key: str | None = None
) -> LandingResult:
    """Land one table through an open writer, checkpointing after every page."""
    table = _reflect(engine, table_name)
    key = _key_column(table, key)
    stream = f"table:{table_name}"
    saved = writer.lake.checkpoints.get(writer.source, stream) or {}
    state = {} if saved.get("done") else saved
    before = (
        writer.result.offered,
        writer.result.landed,
        writer.result.duplicates,
        writer.result.quarantined,
    )
    for rows in _pages(engine, table, key, state):
        for row in rows:
            record = _json_row(row)
            writer.add_parsed(record, None if key is None else str(record[key]))
        state = {
            "key": key,
            "last": _json_row(rows[-1]).get(key) if key else None,
            "offset": int(state.get("offset", 0)) + len(rows),
            "done": False,
        }
        writer.checkpoint(stream, state)
    writer.checkpoint(stream, {**state, "done": True})
    after = writer.result
    return LandingResult(
        after.offered - before[0],
        after.landed - before[1],
        after.duplicates - before[2],
        after.quarantined - before[3],
    )


def ingest_table(
    lake: RawLake,
    source: str,
    url: str,
    table: str,
    *,
    key: str | None = None,
    entity: str | None = None,
    platform: str | None = None,
    shop_id: str | None = None,
) -> LandingResult:
    """Land ``table`` of the database at ``url`` as entity ``entity`` (default: the table's name)."""
    engine = open_database(url)
    try:
        with lake.writer(
            source=source, entity=entity or table, platform=platform or source, shop_id=shop_id
        ) as w:
            land_table(w, engine, table, key=key)
        return w.result
    finally:
        engine.dispose()
