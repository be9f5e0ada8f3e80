"""Control-plane database: one SQLAlchemy metadata, one engine per URL.

Every area keeps its tables in its own module under ``ecfusion.control`` (``checkpoints``,
``runs``, …), each declaring models on ``Base``; ``connect(url)`` creates what is missing.
SQLite is the default (a file in the workspace); PostgreSQL and MariaDB work with the same code.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from ecfusion.errors import ConfigError, ControlPlaneUnavailable, PathError


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
    """The engine for ``url``, with every registered control-plane table created.

    A URL SQLAlchemy cannot read, a database whose driver is not installed and a server that does
    not answer are each one ecfusion error naming ``[control] url``, never SQLAlchemy's traceback
    (``ecfusion.config`` refuses a malformed URL earlier, when it reads ecfusion.toml)."""
    try:
        engine = create_engine(url, future=True, pool_pre_ping=True)
    except (ArgumentError, ValueError) as e:  # NoSuchModuleError (an unknown database) is an ArgumentError
        raise ConfigError(
            f"[control] url is not a URL SQLAlchemy can use ({e})",
            hint="write it as dialect+driver://user@host:port/database, "
            "e.g. postgresql+psycopg://ecfusion@127.0.0.1:5432/ecfusion",
        ) from e
    except ImportError as e:  # the dialect's DBAPI driver, imported by create_engine
        raise ConfigError(
            f"[control] url names a {url.partition(':')[0]} database, whose driver {e.name or e} is not "
            "installed",
            hint="install that driver, or name an installed one in the URL, e.g. mysql+pymysql:// or "
            "postgresql+psycopg://",
        ) from e
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        engine.connect().close()
    except DBAPIError as e:
        raise _unavailable(engine.url, e) from e
    _import_table_modules()
    Base.metadata.create_all(engine)
    return engine


def _unavailable(url: URL, e: DBAPIError) -> ControlPlaneUnavailable | PathError:
    """The control plane cannot be opened: its SQLite file (a path, the workspace's by default) or
    its server (host and port, said as the driver put it; the password never)."""
    said = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
    if url.get_backend_name() == "sqlite":
        return PathError(
            f"the control plane's database {url.database} cannot be opened: {said}",
            hint="check that its folder is there and this user may write to it, or set [control] url",
        )
    port = url.port or getattr(url.get_dialect(), "default_port", None)
    where = f"{url.host or 'localhost'}" + (f":{port}" if port else "")
    return ControlPlaneUnavailable(
        f"cannot connect to the control plane at {where} ([control] url, database "
        f"{url.database or '(none)'}): {said}",
        hint="start that database server, or correct [control] url in ecfusion.toml; empty is a SQLite "
        "file in the workspace",
    )


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
