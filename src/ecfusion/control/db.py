"""Control-plane database: one SQLAlchemy metadata, one engine per URL.

Every area keeps its tables in its own module under ``ecfusion.control`` (``checkpoints``,
``runs``, …), each declaring models on ``Base``; ``connect(url)`` creates what is missing.
SQLite is the default (a file in the workspace); PostgreSQL and MariaDB work with the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from ecfusion.config import without_password
from ecfusion.errors import ConfigError, ControlPlaneLost, ControlPlaneUnavailable, PathError


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

    A URL SQLAlchemy cannot read, a database whose driver is not installed, a server that does
    not answer (now or when a command needs a new connection) and one that drops the connection
    mid-command are each one ecfusion error naming ``[control] url``, never SQLAlchemy's traceback
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
    event.listen(engine, "handle_error", _said_as_ecfusion_error(engine.url, url))
    engine.connect().close()  # a server that does not answer: said here, by the listener
    _import_table_modules()
    Base.metadata.create_all(engine)
    return engine


def _said_as_ecfusion_error(url: URL, text: str) -> Callable[[ExceptionContext], None]:
    """The ``handle_error`` listener of the engine of ``url`` (``text`` as the user wrote it): a
    connection that cannot be made (at the start of a command, or later while the server restarts)
    is ``_unavailable``; one the server dropped while a command used it (restarted, shut down, its
    session terminated) is ``ControlPlaneLost``. Every other database error stays SQLAlchemy's, and
    so does a failed pre-ping: the pool replaces that connection by itself."""

    def listener(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return
        if context.connection is None:  # no connection was made
            raise _unavailable(url, context.original_exception)
        if context.is_disconnect:
            raise ControlPlaneLost(
                f"lost the connection to the control plane {without_password(text)} ([control] url) "
                f"in the middle of the command: {_first_line(context.original_exception)}",
                hint="its database server restarted or ended this session: run the command again once it "
                "answers; what the command committed is kept",
            )

    return listener


def _first_line(e: BaseException) -> str:
    """What the driver said, on one line (its first)."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0] if lines else type(e).__name__


def _unavailable(url: URL, e: BaseException) -> ControlPlaneUnavailable | PathError:
    """The control plane cannot be opened: its SQLite file (a path, the workspace's by default) or
    its server (host and port, said as the driver put it; the password never)."""
    said = _first_line(e)
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
