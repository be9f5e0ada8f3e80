"""A user's command-line mistakes, each said in one line ``error[CODE]: what, where (hint: fix)``
with a non-zero exit: never a traceback, a usage block, or a message that says something else."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ecfusion.cli import main
from ecfusion.config import Workspace


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecfusion", *args], capture_output=True, text=True, timeout=120
    )


def one_line(text: str) -> str:
    """The only line of ``text`` that is not blank (fails when there are more)."""
    [line] = [ln for ln in text.splitlines() if ln.strip()]
    return line


def said(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``ecfusion ARGV``'s exit code and the one line it wrote to stderr."""
    code = main(argv)
    return code, one_line(capsys.readouterr().err)


# -- a file given for the workspace folder -------------------------------------------------------


def test_a_file_given_as_the_workspace_is_said_to_be_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-w /etc/passwd`` said the workspace "does not exist": it does, as a file."""
    ws = Workspace.init(tmp_path / "ws")
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0::/root:/bin/bash\n")
    code, line = said(["sources", "list", "-w", str(passwd)], capsys)
    assert code == 2
    assert line.startswith(f"error[ECF110]: workspace {passwd} is a file, not a folder (hint: "), line
    # the workspace's own ecfusion.toml given for it: the folder to pass instead
    config = ws.root / "ecfusion.toml"
    code, line = said(["er", "review", "list", "-w", str(config)], capsys)
    assert code == 2
    assert line == (
        f"error[ECF110]: workspace {config} is a file, not a folder "
        f"(hint: pass the folder holding it: --workspace {ws.root})"
    )


def test_init_on_a_file_says_it_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("x")
    code, line = said(["init", str(tmp_path / "notes.txt")], capsys)
    assert code == 2 and line.startswith(f"error[ECF110]: workspace {tmp_path / 'notes.txt'} is a file"), line


# -- click's usage errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["sources", "list", "--bogus"],
            "error[ECF010]: ecfusion sources list: no such option: --bogus "
            "(hint: see `ecfusion sources list --help`)",
        ),
        (
            ["init"],
            "error[ECF010]: ecfusion init: missing argument 'directory' (hint: see `ecfusion init --help`)",
        ),
        (
            ["sources", "lis"],
            "error[ECF010]: ecfusion sources: no such command 'lis'. Did you mean 'list'? "
            "(hint: see `ecfusion sources --help`)",
        ),
        (
            ["sources", "runs", "--limit", "many"],
            "error[ECF010]: ecfusion sources runs: invalid value for '--limit': Input should be a valid "
            "integer, unable to parse string as an integer (hint: see `ecfusion sources runs --help`)",
        ),
        # an option left without its value fails in the parser, before click has a context
        (
            ["ingest", "files", "shop", "a.csv", "--entity"],
            "error[ECF010]: ecfusion ingest files: option '--entity' requires an argument "
            "(hint: see `ecfusion ingest files --help`)",
        ),
        (
            ["init", "a", "b"],
            "error[ECF010]: ecfusion init: got unexpected extra argument(s) (b) "
            "(hint: see `ecfusion init --help`)",
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_a_usage_error_is_one_line_in_the_project_style(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Click's usage block, its "Try … --help" line and "Error: …" were three lines in another style."""
    code, line = said(argv, capsys)
    assert (code, line) == (2, expected)


def test_a_usage_error_from_the_terminal_is_one_line() -> None:
    proc = run_cli("sources", "list", "--bogus")
    assert proc.returncode == 2
    assert one_line(proc.stderr).startswith("error[ECF010]: "), proc.stderr
    assert "Usage:" not in proc.stderr and "Try '" not in proc.stderr


def test_help_and_no_arguments_still_show_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sources", "--help"]) == 0
    assert " sources [OPTIONS] COMMAND [ARGS]..." in capsys.readouterr().out
    assert main([]) == 2  # as click has it: no command, the help (not an error line)
    shown = capsys.readouterr()
    assert " [OPTIONS] COMMAND [ARGS]..." in shown.out + shown.err and "error[" not in shown.out + shown.err


# -- [control] url ---------------------------------------------------------------------------------


def _control_url(tmp_path: Path, url: str) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    (ws.root / "ecfusion.toml").write_text(f'[control]\nurl = "{url}"\n')
    return ws


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("not a url", "'not a url' is not a SQLAlchemy URL (Could not parse SQLAlchemy URL"),
        (
            "postgresql://ecf:s3cret@db:fivefourthreetwo/x",
            "'postgresql://ecf:***@db:fivefourthreetwo/x' is not a SQLAlchemy URL (invalid literal for int()",
        ),
        ("http://example.com/x", "'http://example.com/x' names no database SQLAlchemy knows"),
    ],
)
def test_a_malformed_control_url_is_refused_with_the_file_and_key(
    tmp_path: Path, url: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each was SQLAlchemy's traceback at the first command that opened the control plane."""
    ws = _control_url(tmp_path, url)
    code, line = said(["sources", "list", "-w", str(ws.root)], capsys)
    assert code == 2
    assert line.startswith(
        f"error[ECF100]: {ws.root / 'ecfusion.toml'}: key 'control.url' is invalid ({why}"
    ), line
    assert "s3cret" not in line


def test_an_unreachable_control_plane_names_its_host_and_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _control_url(tmp_path, "postgresql+psycopg://nobody:s3cret@127.0.0.1:1/ecf")
    code, line = said(["sources", "list", "-w", str(ws.root)], capsys)
    assert code == 69
    assert line.startswith(
        "error[ECF140]: cannot connect to the control plane at 127.0.0.1:1 ([control] url, database ecf): "
    ), line
    assert "Connection refused" in line and "s3cret" not in line


@pytest.mark.services
def test_a_control_plane_that_drops_the_connection_mid_command_says_so_in_one_line(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Connected, then the server went away (restarted, shut down, the session terminated): it was
    SQLAlchemy's traceback, only a failure to connect at all was said. Here the command's own session
    is terminated from a second one just before its first statement, as a restart does to it."""
    from sqlalchemy import create_engine, event, text

    from ecfusion.control.db import connect

    url = pg_url.replace("://postgres@", "://postgres:s3cret@")  # trust auth: the password goes unchecked
    ws = _control_url(tmp_path, url)
    engine = connect(url)  # the command's engine (one per URL), its tables created
    admin = create_engine(pg_url)
    terminated: list[bool] = []

    def terminate(conn: Any, *_: Any) -> None:
        if not terminated:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.connect() as c:  # waits (5 s at most) until that session is gone
                ended = c.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()
            terminated.append(ended)

    event.listen(engine, "before_cursor_execute", terminate)
    try:
        code, line = said(["sources", "list", "-w", str(ws.root)], capsys)
    finally:
        event.remove(engine, "before_cursor_execute", terminate)
        engine.dispose()
        admin.dispose()
    assert terminated == [True]
    assert code == 69
    starred = url.replace("s3cret", "***")
    assert line == (
        f"error[ECF141]: lost the connection to the control plane {starred} ([control] url) in the middle of "
        "the command: terminating connection due to administrator command (hint: its database server "
        "restarted or ended this session: run the command again once it answers; what the command committed "
        "is kept)"
    )


@pytest.mark.skipif(importlib.util.find_spec("MySQLdb") is not None, reason="mysqlclient is installed")
def test_a_control_url_whose_driver_is_missing_names_the_driver(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _control_url(tmp_path, "mysql://ecf@127.0.0.1/ecf")
    code, line = said(["sources", "list", "-w", str(ws.root)], capsys)
    assert code == 2
    assert line.startswith(
        "error[ECF100]: [control] url names a mysql database, whose driver MySQLdb is not installed "
        "(hint: install that driver, or name an installed one in the URL, e.g. mysql+pymysql://"
    ), line


def test_a_control_database_file_that_cannot_be_opened_names_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = Workspace.init(tmp_path / "ws")
    (ws.root / "control.db").mkdir()  # a folder where the SQLite file belongs
    code, line = said(["sources", "list", "-w", str(ws.root)], capsys)
    assert code == 74
    assert line.startswith(
        f"error[ECF130]: the control plane's database {ws.root / 'control.db'} cannot be opened: "
        "unable to open database file"
    ), line


# A SQLite control plane that fails in the middle of a command: each was SQLAlchemy's traceback (the
# statement and its parameters, sealed secrets among them) under a first write that met it.

_ADD_A_SOURCE = ["sources", "add", "tb", "--kind", "taobao", "-s", "app_key=1", "-s", "app_secret=s"]
_ADD_A_SOURCE += ["-s", "base_url=http://127.0.0.1:9"]


def test_a_control_plane_another_process_holds_locked_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process (here a sqlite3 connection in BEGIN EXCLUSIVE, as a sqlite3 shell or a second
    command writing holds it) keeps the write lock past the busy timeout: 30 s unless the URL's own
    ``timeout`` says otherwise, which was overridden (it waited 30 s whatever the URL said)."""
    import sqlite3

    db = tmp_path / "ws" / "control.db"
    ws = _control_url(tmp_path, f"sqlite:///{db}?timeout=0.5")
    assert main(["sources", "list", "-w", str(ws.root)]) == 0  # its tables made, nothing held
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        code, line = said([*_ADD_A_SOURCE, "-w", str(ws.root)], capsys)
    finally:
        holder.close()
    assert code == 75
    assert line == (
        f"error[ECF142]: the control plane's database {db} is locked by another process (waited 0.5 s): "
        "database is locked (hint: another ecfusion command, or a tool that has it open (sqlite3, a database "
        "browser), holds its write lock: wait for that to finish or stop it, then run this command again; "
        "what this command committed is kept)"
    )


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` may not be written while in the block. As root a mode does not stop a write, the
    immutable flag (chattr +i) does (the test is skipped where the file system has none)."""
    import os

    if os.geteuid() == 0:
        flagged = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if flagged.returncode != 0:
            pytest.skip(f"root writes through any mode, and chattr +i failed: {flagged.stderr.strip()}")
    else:
        path.chmod(0o444)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


def test_a_control_plane_file_that_cannot_be_written_names_it_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Made read-only after a command created it: reading still works, the first write failed."""
    ws = Workspace.init(tmp_path / "ws")
    assert run_cli("sources", "list", "-w", str(ws.root)).returncode == 0  # made by another process
    db = ws.root / "control.db"
    with read_only(db):
        code, line = said([*_ADD_A_SOURCE, "-w", str(ws.root)], capsys)
    assert code == 74
    assert line == (
        f"error[ECF130]: the control plane's database {db} cannot be written: attempt to write a readonly "
        "database (hint: ecfusion must be able to write that file and the folder holding it: make both "
        "writable for this user (lsattr shows an immutable flag, which stops root too), or set [control] url)"
    )


def test_a_control_plane_write_the_disk_refuses_names_the_file_in_one_line(tmp_path: Path) -> None:
    """The command may not write past 1 KiB (ulimit -f, as a quota or a full disk stops it): its
    first write to the control plane's WAL fails with SQLite's "disk I/O error". Another process
    reading the control plane (as the API server does) keeps the WAL's index there, so the command
    opens it and fails at its write, not at its start."""
    import resource
    import signal
    import sqlite3

    ws = Workspace.init(tmp_path / "ws")
    assert run_cli("sources", "list", "-w", str(ws.root)).returncode == 0
    db = ws.root / "control.db"

    def at_most_1_kib() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), not the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    reader = sqlite3.connect(db)
    try:
        reader.execute("SELECT count(*) FROM sqlite_master").fetchall()
        done = subprocess.run(
            [sys.executable, "-m", "ecfusion", *_ADD_A_SOURCE, "-w", str(ws.root)],
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=at_most_1_kib,
        )
    finally:
        reader.close()
    assert done.returncode == 74, done.stderr
    assert one_line(done.stderr) == (
        f"error[ECF143]: the disk refused to read or write the control plane's database {db}: disk I/O "
        "error (hint: the disk under it is full or failing, or a limit (a quota, ulimit -f) stopped the "
        "write: make room or check the disk, then run the command again; what the command committed is kept)"
    )


def test_a_bad_statement_on_the_control_plane_stays_sqlalchemy_s_error(tmp_path: Path) -> None:
    """A statement the control plane cannot run is a bug in ecfusion: seen whole, never said as
    the file's fault."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from ecfusion.control.db import connect

    ws = Workspace.init(tmp_path / "ws")
    with connect(ws.control_url).connect() as c, pytest.raises(OperationalError, match="no such table"):
        c.execute(text("SELECT * FROM ecf_no_such_table"))


# -- ecfusion sources ------------------------------------------------------------------------------


def test_a_numeric_app_key_is_kept_as_typed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Taobao's app keys are digits: ``-s app_key=12345678`` was read as a JSON number and refused
    ("key 'app_key' is invalid (Input should be a valid string)"). A number for a number field is
    read by that field's type, and a list stays JSON."""
    from ecfusion.sources.workspace import WorkspaceSources

    ws = Workspace.init(tmp_path / "ws")
    settings = ["app_key=12345678", "app_secret=s", "base_url=http://127.0.0.1:9", "rate_per_app=5"]
    settings += ["decrypt=true", 'streams=["orders"]']
    argv = ["sources", "add", "tb", "--kind", "taobao", "-w", str(ws.root)]
    assert main([*argv, *(a for s in settings for a in ("-s", s))]) == 0, capsys.readouterr().err
    config = WorkspaceSources.open(ws).config("tb")
    assert config.app_key == "12345678"  # type: ignore[attr-defined]
    assert (config.rate_per_app, config.decrypt, config.streams) == (5.0, True, ["orders"])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kind", "settings", "expected"),
    [
        (
            "taobao",
            ["app_key=1", "app_secret=s", "base_url=http://127.0.0.1:9"],
            (
                1,
                "error[ECF310]: source shop1 has no OAuth token "
                "(hint: authorize the shop: `ecfusion sources authorize shop1 --code CODE`)",
            ),
        ),
        (  # a setting of the source that is wrong
            "webhook",
            ["platform=taobao", "app_secret="],
            (
                2,
                "error[ECF100]: webhook shop1 has an empty app_secret "
                "(hint: set app_secret to the app secret of the platform's open console)",
            ),
        ),
        (  # a message that does not name it: named once, in front
            "logs",
            ["path=/nonexistent/shop1.log"],
            (
                74,
                "error[ECF130]: source shop1: log file /nonexistent/shop1.log does not exist "
                "(hint: check `path` in the source's config, or create the file)",
            ),
        ),
    ],
    ids=["taobao", "webhook", "logs"],
)
def test_checking_a_source_that_fails_names_it_once_with_the_connector_s_own_error(
    kind: str,
    settings: list[str],
    expected: tuple[int, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It said "error[ECF000]: source shop1: source shop1 has no OAuth token": the source named
    twice, and every cause under the one code ECF000, exit 1, that a script cannot tell apart."""
    ws = Workspace.init(tmp_path / "ws")
    add = ["sources", "add", "shop1", "--kind", kind, "-w", str(ws.root)]
    assert main([*add, *(a for s in settings for a in ("-s", s))]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert said(["sources", "check", "shop1", "-w", str(ws.root)], capsys) == expected


@pytest.mark.parametrize("argv", [["sources", "sync", "nope"], ["sync", "nope"]], ids=" ".join)
def test_syncing_a_source_that_is_not_there_says_so_once(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was said twice, the first time wrapped under a progress bar that "failed"."""
    ws = Workspace.init(tmp_path / "ws")
    code = main([*argv, "-w", str(ws.root)])
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert one_line(out.err).startswith("error[ECF100]: no source named 'nope' (hint: "), out.err


# -- ecfusion er review ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        # a decision on an entity nothing resolves was recorded, and never applied
        (
            ["er", "review", "confirm", "tb:a", "jd:b", "--entity", "members"],
            "ecfusion er review confirm: invalid value for '--entity' / '-e': 'members' is not one of "
            "member, product",
        ),
        # a status typo listed an empty queue, as if nothing waited
        (
            ["er", "review", "list", "--status", "opne"],
            "ecfusion er review list: invalid value for '--status': 'opne' is not one of open, confirmed, "
            "rejected, linked, all",
        ),
        (
            ["er", "review", "list", "--limit", "-1"],  # SQLite's LIMIT -1: no limit at all
            "ecfusion er review list: invalid value for '--limit': Input should be greater than or "
            "equal to 1",
        ),
    ],
    ids=lambda v: " ".join(v[2:4]) if isinstance(v, list) else "",
)
def test_a_review_option_nothing_matches_is_refused(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ecfusion.resolve import Ledger

    ws = Workspace.init(tmp_path / "ws")
    code = main([*argv, "-w", str(ws.root)])
    shown = capsys.readouterr()
    assert code == 2, f"exit {code}: {shown.out}"
    assert one_line(shown.err).startswith(f"error[ECF010]: {expected} (hint: "), shown.err
    assert Ledger(ws.control_url).decisions("members")[0] == []  # nothing recorded


# -- ecfusion ingest db ----------------------------------------------------------------------------


def test_ingest_db_from_a_sqlite_file_that_is_not_there_says_so_and_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite created the mistyped file empty, and the command said the table was not in it."""
    ws = Workspace.init(tmp_path / "ws")
    missing = tmp_path / "crm.sqlite"
    code, line = said(
        ["ingest", "db", "crm", f"sqlite:///{missing}", "--table", "t", "-w", str(ws.root)], capsys
    )
    assert (code, line) == (
        2,
        f"error[ECF200]: database file {missing} does not exist (hint: check the path in the sqlite:/// URL)",
    )
    assert not missing.exists()


def test_ingest_db_says_why_it_cannot_connect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It said only the exception's class: "cannot connect to database …: OperationalError"."""
    ws = Workspace.init(tmp_path / "ws")
    url = "postgresql+psycopg://crm:s3cret@127.0.0.1:1/crm"
    code, line = said(["ingest", "db", "crm", url, "--table", "t", "-w", str(ws.root)], capsys)
    assert code == 1
    assert line.startswith(
        "error[ECF300]: cannot connect to database postgresql+psycopg://crm:***@127.0.0.1:1/crm: "
        'OperationalError: connection failed: connection to server at "127.0.0.1", port 1 failed: '
        "Connection refused (hint: check the URL"
    ), line


# -- servers: ecfusion mock-platform, ecfusion webhook serve -------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another process (here: this test) listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture(scope="module")
def merchant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ecfusion.mock.fixtures import write_platform_fixture

    return write_platform_fixture(tmp_path_factory.mktemp("merchant"), orders_per_platform=5)


def test_a_mock_on_a_taken_port_says_so_in_one_line(
    merchant: Path, taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was uvicorn's "ERROR: [Errno 98] error while attempting to bind …" and exit 3, after a
    line announcing the mock on that port."""
    code = main(["mock-platform", "jd", "--data", str(merchant), "--port", str(taken_port)])
    shown = capsys.readouterr()
    assert (code, shown.out) == (69, "")
    assert one_line(shown.err) == (
        f"error[ECF150]: cannot listen on 127.0.0.1:{taken_port}: Address already in use "
        "(hint: pick another --port or stop what listens there; or a --host of this machine)"
    )


def test_webhook_serve_on_a_taken_port_says_so_in_one_line(
    tmp_path: Path, taken_port: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace.init(tmp_path / "ws")
    with (ws.root / "ecfusion.toml").open("a") as f:
        f.write('\n[sources.dy_push]\nkind = "webhook"\nplatform = "douyin"\napp_secret_env = "DY_PUSH"\n')
    monkeypatch.setenv("DY_PUSH", "s")
    code = main(["webhook", "serve", "-w", str(ws.root), "--port", str(taken_port)])
    shown = capsys.readouterr()
    assert (code, shown.out) == (69, "")
    assert one_line(shown.err).startswith(f"error[ECF150]: cannot listen on 127.0.0.1:{taken_port}: "), (
        shown.err
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        # a traceback of datetime.fromisoformat's ValueError
        (
            ["mock-platform", "jd", "--clock-start", "yesterday"],
            "ecfusion mock-platform: invalid value for '--clock-start': 'yesterday' is not an ISO time, "
            "e.g. 2026-09-01T08:00:00+08:00",
        ),
        # announced as http://127.0.0.1:99999, then uvicorn's OverflowError traceback
        (
            ["mock-platform", "jd", "--port", "99999"],
            "ecfusion mock-platform: invalid value for '--port': Input should be less than or equal to 65535",
        ),
    ],
    ids=["clock-start", "port"],
)
def test_a_mock_option_it_cannot_use_is_a_usage_error(
    argv: list[str], expected: str, merchant: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*argv, "--data", str(merchant)])
    shown = capsys.readouterr()
    assert (code, shown.out) == (2, "")
    assert one_line(shown.err).startswith(f"error[ECF010]: {expected} (hint: "), shown.err


def test_an_unknown_mock_platform_is_not_announced_first(
    merchant: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "mock amazon on http://127.0.0.1:8000 …; Ctrl-C stops it" came before the error."""
    code = main(["mock-platform", "amazon", "--data", str(merchant)])
    shown = capsys.readouterr()
    assert (code, shown.out) == (2, "")
    assert one_line(shown.err).startswith("error[ECF100]: unknown mock platform 'amazon'")


def test_a_negative_number_of_mock_orders_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "wrote -5 orders per platform"."""
    code = main(["mock-fixture", str(tmp_path / "m"), "--orders", "-5"])
    assert code == 2 and one_line(capsys.readouterr().err).startswith(
        "error[ECF010]: ecfusion mock-fixture: invalid value for '--orders': "
    )


def test_sources_kinds_shows_the_settings_a_bad_one_is_sent_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused setting's hint says "see the taobao connector's settings: `ecfusion sources kinds`",
    which listed only the kinds' names."""
    monkeypatch.setenv("COLUMNS", "1000")
    ws = Workspace.init(tmp_path / "ws")
    code, line = said(["sources", "add", "tb", "--kind", "taobao", "-w", str(ws.root)], capsys)
    assert code == 2 and "key 'base_url' is invalid" in line and "`ecfusion sources kinds`" in line
    assert main(["sources", "kinds"]) == 0
    [taobao] = [row for row in capsys.readouterr().out.splitlines() if " taobao " in row]
    assert "base_url*, app_key*, app_secret*, rate_per_app" in taobao


# -- names that become folders of the raw zone ----------------------------------------------------


def test_a_source_name_that_cannot_be_a_folder_is_refused_when_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sources add a/b`` was saved, and every sync of it then failed: the name is its lake folder."""
    ws = Workspace.init(tmp_path / "ws")
    settings = ["-s", "app_key=k1", "-s", "app_secret=s", "-s", "base_url=http://127.0.0.1:9"]
    argv = ["sources", "add", "a/b", "--kind", "taobao", *settings]
    code, line = said([*argv, "-w", str(ws.root)], capsys)
    assert code == 2
    assert line.startswith(
        "error[ECF100]: ecfusion sources add: source 'a/b' key 'name' is invalid ('a/b' cannot name the "
        "source's lake folder: use letters, digits, '-', '_' or '.'"
    ), line
    assert main(["sources", "list", "-w", str(ws.root)]) == 0
    assert "a/b" not in capsys.readouterr().out  # nothing saved


@pytest.mark.parametrize(
    ("source", "entity", "line"),
    [
        ("", "orders", "error[ECF200]: source '' cannot name a lake folder"),
        ("crm", "bogus entity", "error[ECF200]: entity 'bogus entity' cannot name a lake folder"),
    ],
)
def test_ingest_files_refuses_a_name_that_cannot_be_a_folder(
    source: str, entity: str, line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``ingest files "" f`` said ECF000 with exit 1; ``--entity "bogus entity"`` landed into a folder
    named with a blank."""
    ws = Workspace.init(tmp_path / "ws")
    export = tmp_path / "f.jsonl"
    export.write_text('{"a": 1}\n')
    code, said_line = said(
        ["ingest", "files", source, str(export), "--entity", entity, "-w", str(ws.root)], capsys
    )
    assert code == 2
    assert said_line.startswith(line + " (hint: use letters, digits"), said_line
    assert not list(ws.lake_root.rglob("*.parquet"))  # nothing landed


@pytest.mark.parametrize(
    ("table", "said_of_it"),
    [("", "has no kind (kind = ...)"), ('kind = "amazon"\n', "has an unknown source kind 'amazon'")],
)
def test_a_source_table_without_a_known_kind_is_named(
    table: str, said_of_it: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[sources.shop1]`` with no kind said "unknown source kind ''", naming neither the source nor
    where it is set."""
    ws = Workspace.init(tmp_path / "ws")
    with (ws.root / "ecfusion.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[sources.shop1]\nshop_id = "s1"\n{table}')
    code, line = said(["sources", "list", "-w", str(ws.root)], capsys)
    assert code == 2
    assert line.startswith(
        f"error[ECF100]: ecfusion.toml: [sources.shop1] {said_of_it} (hint: use one of: "
    ), line
