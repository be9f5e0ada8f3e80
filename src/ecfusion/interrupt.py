"""Ctrl-C stops the DuckDB query in progress (README: "Any command can be killed … and re-run").

Python runs its SIGINT handler (the one that raises ``KeyboardInterrupt``) only in the main thread,
between bytecodes or where C code calls ``PyErr_CheckSignals``. DuckDB's Python package calls it
between the tasks it runs on the main thread, but the main thread often waits there while DuckDB's
own threads do the work (``WaitForTask``), and then nothing looks at the signal until the query is
done: seconds in a run, minutes in a rebuild. A Ctrl-C was missed in a quarter to a third of tries.

The C-level part of Python's handler does run at once, in whichever thread the signal lands on,
and writes the signal's number to the wakeup fd (``signal.set_wakeup_fd``). A thread of ours
waits on that fd and calls ``interrupt()`` on each connection opened through ``stoppable``: DuckDB
stops its query within milliseconds and raises its InterruptException, which Python's own
handler, pending since the signal came, overtakes with ``KeyboardInterrupt`` at the first Python
call after (as a Ctrl-C in Python code lands wherever it lands). The CLI says either in one line.

Connections are held weakly: a closed or dropped connection just leaves the set. Spark runs are
untouched: PySpark's own SIGINT handler cancels its jobs, and the same wakeup byte only interrupts
whatever DuckDB connection (the warehouse's) is open beside it.

This module imports neither DuckDB nor anything of ecfusion's: the CLI installs the watcher for
every command, one that never opens a database too, for ~0.1 ms.
"""

from __future__ import annotations

import signal
import socket
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import duckdb

    Connection = TypeVar("Connection", bound=duckdb.DuckDBPyConnection)

_open: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_lock = threading.Lock()  # the watcher walks the set while the main thread adds to it


def stoppable(con: Connection) -> Connection:
    """``con``, which a Ctrl-C now stops in the middle of a query (while ``ctrl_c_stops_queries``
    is in force; otherwise as DuckDB alone does)."""
    with _lock:
        _open.add(con)
    return con


def interrupt_queries() -> None:
    """Stop the query each open ``stoppable`` connection is running; an idle one is not affected
    (DuckDB clears the flag when its next query begins), a closed one is skipped."""
    with _lock:
        connections = list(_open)
    for con in connections:
        with suppress(Exception):  # closed meanwhile: "Connection already closed!"
            con.interrupt()


@contextmanager
def ctrl_c_stops_queries() -> Iterator[None]:
    """Inside the block, a SIGINT interrupts the ``stoppable`` connections' queries at once; Python's
    handling of it is unchanged. Does nothing outside the main thread, where Python allows no wakeup
    fd, nor where one is set already (an asyncio loop's): that one is left as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)  # the signal handler must never block on a full buffer
    previous = signal.set_wakeup_fd(theirs.fileno(), warn_on_full_buffer=False)
    if previous != -1:
        signal.set_wakeup_fd(previous)
        ours.close()
        theirs.close()
        yield
        return
    threading.Thread(target=_watch, args=(ours,), name="ecfusion-ctrl-c", daemon=True).start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(-1)
        theirs.close()  # the watcher reads end-of-file and ends


def _watch(wakeup: socket.socket) -> None:
    with wakeup:
        while received := wakeup.recv(64):  # one byte a signal, its number
            if signal.SIGINT in received:
                interrupt_queries()
