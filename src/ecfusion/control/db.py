"""Control-plane database: one SQLAlchemy metadata, one engine per URL.

Every area keeps its tables in its own module under ``ecfusion.control`` (``checkpoints``,
``runs``, …), each declaring models on ``Base``; ``connect(url)`` creates what is missing.
SQLite is the default (a file in the workspace); PostgreSQL and MariaDB work with the same code.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker


class Base(DeclarativeBase):
    pass


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cur.execute("PRAGMA synchronous=FULL")  # a committed checkpoint survives power loss / kill -9
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


@lru_cache(maxsize=16)
def connect(url: str) -> Engine:
    """The engine for ``url``, with every registered control-plane table created."""
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _import_table_modules()
    Base.metadata.create_all(engine)
    return engine


def session_factory(url: str) -> sessionmaker:
    return sessionmaker(connect(url), expire_on_commit=False)


def _import_table_modules() -> None:
    """Import every module that declares tables, so create_all sees them all."""
    import importlib
    import pkgutil

    import ecfusion.control as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name != "db":
            importlib.import_module(f"ecfusion.control.{mod.name}")
