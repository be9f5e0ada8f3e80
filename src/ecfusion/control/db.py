"""Control-plane database: one SQLAlchemy metadata, one engine per URL.

Every area keeps its tables in its own module under ``ecfusion.control`` (``checkpoints``,
``runs``, …), each declaring models on ``Base``; ``connect(url)`` creates what is missing.
SQLite is the default (a file in the workspace); PostgreSQL and MariaDB work with the same code.
A database that fails a command (cannot be reached, drops the connection, a SQLite file locked by
another process, read-only, on a disk that refuses it, or damaged) is said as one ecfusion error
by the engine's ``handle_error`` listener, whatever statement of whatever command met it, and
by ``driver_cursor`` for the few bulk statements run on the driver's own cursor. A SQLite file
deleted, moved or replaced while a command has it open is refused at the command's next commit
(``_refuse_a_commit_to_a_file_gone``): SQLite would write on into a file no path leads to.
"""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from ecfusion.config import without_password
from ecfusion.errors import (
    ConfigError,
    ControlPlaneBusy,
    ControlPlaneDamaged,
    ControlPlaneGone,
    ControlPlaneIOError,
    ControlPlaneLost,
    ControlPlaneUnavailable,
    EcfusionError,
    PathError,
)

BUSY_TIMEOUT_S = 30.0
"""How long a statement waits for another process's write lock on a SQLite control plane, unless
its URL sets pysqlite's own ``timeout`` (``sqlite:////srv/ecf/control.db?timeout=5``)."""


class Base(DeclarativeBase):
    pass


def _sqlite_pragmas(busy_s: float) -> Callable[..., None]:
    def on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        # first, so that the pragmas after it wait as long as every statement does (pysqlite's own
        # default is 5 s, and setting WAL on a file another process holds waits for its lock)
        cur.execute(f"PRAGMA busy_timeout={round(busy_s * 1000)}")
        cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cur.execute("PRAGMA synchronous=FULL")  # a committed checkpoint survives power loss / kill -9
        cur.close()

    return on_connect


@lru_cache(maxsize=16)
def connect(url: str) -> Engine:
    """The engine for ``url``, with every registered control-plane table created.

    A URL SQLAlchemy cannot read, a database whose driver is not installed, a server that does
    not answer (now or when a command needs a new connection) and one that drops the connection
    mid-command are each one ecfusion error naming ``[control] url``, never SQLAlchemy's traceback
    (``ecfusion.config`` refuses a malformed URL earlier, when it reads ecfusion.toml); so is a
    SQLite file that is locked, read-only, on a disk that refuses it or damaged, naming the file;
    and a SQLite file deleted, moved or replaced while a command has it open, at its next commit."""
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
    busy_s = BUSY_TIMEOUT_S
    if engine.dialect.name == "sqlite":
        busy_s = float(engine.dialect.create_connect_args(engine.url)[1].get("timeout", BUSY_TIMEOUT_S))
        event.listen(engine, "connect", _sqlite_pragmas(busy_s))
        path = engine.url.database
        if path and path != ":memory:" and not engine.url.query.get("uri"):  # a file, named by its path
            event.listen(engine, "connect", _note_the_file_opened(path))
            event.listen(engine, "commit", _refuse_a_commit_to_a_file_gone(path))
    said = _ecfusion_error(engine.url, url, busy_s)
    _SAID[engine] = said
    event.listen(engine, "handle_error", _said_as_ecfusion_error(said))
    engine.connect().close()  # a server that does not answer: said here, by the listener
    _import_table_modules()
    Base.metadata.create_all(engine)
    return engine


_OPENED = "ecfusion_file_opened"
"""Key of a SQLite connection's pool record info: the (device, inode) of the file it opened."""


def _file_id(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _note_the_file_opened(path: str) -> Callable[..., None]:
    def on_connect(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        # SQLite opened the file a moment ago: its id now is the one of the file it holds open
        with suppress(OSError):  # gone already: nothing to compare with
            record.info[_OPENED] = _file_id(path)

    return on_connect


def _refuse_a_commit_to_a_file_gone(path: str) -> Callable[[Connection], None]:
    """The ``commit`` listener of a SQLite file's engine: a transaction that wrote (pysqlite opens
    one at the first write, so ``in_transaction``) commits only while ``path`` still leads to the
    file its connection opened. Deleted, moved (its workspace folder with it) or replaced by another
    file, SQLite would write on into the file it holds open, which nothing can read any more: the
    command's changes would be lost without a word. One ``stat`` per commit that wrote."""

    def listener(conn: Connection) -> None:
        fairy = conn.connection
        opened = fairy.info.get(_OPENED)
        if opened is None or not getattr(fairy.dbapi_connection, "in_transaction", False):
            return
        try:
            now: tuple[int, int] | None = _file_id(path)
        except (FileNotFoundError, NotADirectoryError):
            now = None
        except OSError:
            return  # cannot tell (a folder no longer searchable): SQLite says what it meets
        if now == opened:
            return
        conn.invalidate()  # never used again: the next connection opens what the path leads to now
        what = (
            "replaced by another file" if now else "deleted or moved (its folder with it, or the file alone)"
        )
        raise ControlPlaneGone(
            f"the control plane's database {path} was {what} while this command ran: this command's "
            "changes to the control plane were not kept",
            hint="SQLite went on writing into the file it had open, which no path leads to any more: run "
            "the command again on the workspace as it is now (put the folder or the file back first if it "
            "was removed by mistake)",
        )

    return listener


_Said = Callable[[BaseException, bool, bool], EcfusionError | None]
"""A driver's error as ecfusion's, given whether a connection was made and whether the driver
said it was lost (None: the error stays the driver's)."""

_SAID: weakref.WeakKeyDictionary[Engine, _Said] = weakref.WeakKeyDictionary()
"""Each engine of ``connect``'s own ``_Said``, for ``driver_cursor``."""

_PARAM_MARK = {"qmark": "?", "format": "%s", "pyformat": "%s"}
"""The DB-API placeholder of each paramstyle the control plane's drivers use (sqlite3, psycopg)."""


def _ecfusion_error(url: URL, text: str, busy_s: float) -> _Said:
    """How a driver's error on the engine of ``url`` (``text`` as the user wrote it) is said: a
    SQLite file's own failure, at connect or mid-command, is ``_sqlite_failure``; a connection that
    cannot be made (at the start of a command, or later while the server restarts) is
    ``_unavailable``; one the server dropped while a command used it (restarted, shut down, its
    session terminated) is ``ControlPlaneLost``. Every other database error is left as raised (a
    bad statement is a bug to see whole)."""

    def said(e: BaseException, connected: bool, disconnected: bool) -> EcfusionError | None:
        failure = _sqlite_failure(url, e, busy_s)
        if failure is not None:
            return failure
        if not connected:
            return _unavailable(url, e)
        if disconnected:
            return ControlPlaneLost(
                f"lost the connection to the control plane {without_password(text)} ([control] url) "
                f"in the middle of the command: {_first_line(e)}",
                hint="its database server restarted or ended this session: run the command again once it "
                "answers; what the command committed is kept",
            )
        return None

    return said


def _said_as_ecfusion_error(said: _Said) -> Callable[[ExceptionContext], None]:
    """The engine's ``handle_error`` listener: every statement SQLAlchemy runs. A failed pre-ping
    stays SQLAlchemy's: the pool replaces that connection by itself."""

    def listener(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return
        failure = said(context.original_exception, context.connection is not None, context.is_disconnect)
        if failure is not None:
            raise failure

    return listener


@contextmanager
def driver_cursor(conn: Connection) -> Iterator[tuple[DBAPICursor, str]]:
    """The DB-API cursor under ``conn`` and its driver's placeholder (``?`` or ``%s``), for bulk
    reads and writes where SQLAlchemy's row objects cost more than the statements (the identity
    map's million rows). The driver's errors met in the block, at execute or at fetch, are said
    as the ``handle_error`` listener says them for every other statement (a connection the server
    dropped invalidated first, as SQLAlchemy does); its commit is the transaction's, checked as
    any other by ``_refuse_a_commit_to_a_file_gone``."""
    dbapi_conn = conn.connection.dbapi_connection
    cursor = dbapi_conn.cursor()  # type: ignore[union-attr]  # a Connection in use holds one
    try:
        yield cursor, _PARAM_MARK[conn.dialect.paramstyle]
    except conn.dialect.loaded_dbapi.Error as e:
        disconnected = conn.dialect.is_disconnect(e, dbapi_conn, cursor)
        if disconnected:
            conn.invalidate(e)  # never reused: the pool opens a new connection for the next command
        said = _SAID.get(conn.engine)
        failure = said(e, True, disconnected) if said is not None else None
        if failure is None:
            raise
        raise failure from e
    finally:
        with suppress(conn.dialect.loaded_dbapi.Error):  # its connection may be gone
            cursor.close()


def _sqlite_failure(url: URL, e: BaseException, busy_s: float) -> EcfusionError | None:
    """SQLite's error ``e`` as ecfusion's, naming the control plane's file, when it is the file's
    or the disk's doing rather than the statement's: locked by another process past the busy
    timeout (``busy_s``), not writable, a disk that refused it, damaged, a file that cannot be opened. None
    for any other error, and for any other database's."""
    # the module's own errors (a closed connection) carry no SQLite code
    code = getattr(e, "sqlite_errorcode", None)
    if not isinstance(e, sqlite3.Error) or not isinstance(code, int) or url.get_backend_name() != "sqlite":
        return None
    path, said = url.database, _first_line(e)
    primary = code & 0xFF  # the extended code's low byte (SQLITE_IOERR_WRITE → SQLITE_IOERR)
    if primary == sqlite3.SQLITE_BUSY:
        # SQLITE_BUSY itself came after the busy timeout; an extended one (a snapshot another
        # process wrote past) came at once
        waited = f" (waited {busy_s:g} s)" if code == sqlite3.SQLITE_BUSY else ""
        return ControlPlaneBusy(
            f"the control plane's database {path} is locked by another process{waited}: {said}",
            hint="another ecfusion command, or a tool that has it open (sqlite3, a database browser), holds "
            "its write lock: wait for that to finish or stop it, then run this command again; what this "
            "command committed is kept",
        )
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM):
        return PathError(
            f"the control plane's database {path} cannot be written: {said}",
            hint="ecfusion must be able to write that file and the folder holding it: make both writable "
            "for this user (lsattr shows an immutable flag, which stops root too), or set [control] url",
        )
    if primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL):
        return ControlPlaneIOError(
            f"the disk refused to read or write the control plane's database {path}: {said}",
            hint="the disk under it is full or failing, or a limit (a quota, ulimit -f) stopped the write: "
            "make room or check the disk, then run the command again; what the command committed is kept",
        )
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return ControlPlaneDamaged(
            f"the control plane's database {path} is damaged: {said}",
            hint="a disk error, or a change made to it outside ecfusion: with no ecfusion command running, "
            "restore it from a backup, or move it aside with its -wal and -shm files (`sqlite3 OLD .recover "
            "| sqlite3 NEW` saves what is still readable); the next command then starts an empty one, "
            "without what only it held: sources added by `ecfusion sources add` (those in ecfusion.toml "
            "stay) and their OAuth tokens, sync checkpoints (the next sync reads each source from its "
            "start; the lake keeps each record once), sync, landing and audit history, and entity "
            "resolution's identity map, review queue and decisions",
        )
    if primary == sqlite3.SQLITE_CANTOPEN:
        return _unavailable(url, e)
    return None


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
