"""Dedicated MariaDB (binlog ROW) and PostgreSQL (wal_level=logical) servers in a temp folder.

The shared servers on this machine run without a binlog and with ``wal_level=replica``, so the
CDC tests start their own on free ports, once per session, and remove them afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pymysql


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    port: int
    folder: Path


def _wait(ready: object, what: str, proc: subprocess.Popen[bytes] | None = None, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            ready()  # type: ignore[operator]
            return
        except Exception:
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


@contextmanager
def mariadb_with_binlog(extra_args: Sequence[str] = ()) -> Iterator[Server]:
    if shutil.which("mariadbd") is None and not Path("/usr/sbin/mariadbd").exists():
        raise RuntimeError("mariadbd not installed")
    folder = Path(tempfile.mkdtemp(prefix="ecf-mariadb-"))
    port = free_port()
    data = folder / "data"
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
    )
    mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [
            mariadbd,
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={folder / 'mysqld.sock'}",
            f"--log-bin={data / 'binlog'}",
            "--binlog-format=ROW",
            "--binlog-row-metadata=FULL",
            "--server-id=1",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M",
            f"--pid-file={folder / 'mysqld.pid'}",
            *extra_args,
        ],
        stdout=log,
        stderr=log,
    )
    try:
        _wait(lambda: pymysql.connect(host="127.0.0.1", port=port, user="root").close(), "mariadbd", proc)
        yield Server(port, folder)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def postgres_logical(extra_opts: str = "", hba: str | None = None) -> Iterator[Server]:
    """``extra_opts`` are more ``-c name=value`` server settings; ``hba`` replaces pg_hba.conf."""
    if shutil.which("initdb") is None:
        raise RuntimeError("initdb not installed")
    folder = Path(tempfile.mkdtemp(prefix="ecf-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = free_port()
    data = folder / "data"
    subprocess.run(
        _as_postgres(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    if hba is not None:
        (data / "pg_hba.conf").write_text(hba)
    opts = (
        f"-c wal_level=logical -c port={port} -c listen_addresses=127.0.0.1 "
        f"-c unix_socket_directories={folder} "
        "-c max_replication_slots=8 -c max_wal_senders=8 -c fsync=off -c shared_buffers=16MB "
        + extra_opts
    )
    subprocess.run(
        _as_postgres(
            ["pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-w", "-o", opts, "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        _wait(
            lambda: psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres").close(),
            "postgres",
        )
        yield Server(port, folder)
    finally:
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)
