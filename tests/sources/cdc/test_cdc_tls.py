"""CDC over TLS: dedicated MariaDB and PostgreSQL servers that refuse plaintext, with a test CA.

Each server is started with a certificate made by ``tests.sources.cdc.certs`` and accepts only
TLS connections, so a snapshot plus streamed insert/update/delete reaching the raw zone proves CDC
runs over TLS; a second, unrelated CA must be refused with an error that names the setting to fix.
Client certificates are exercised too (MariaDB ``REQUIRE X509``, PostgreSQL ``cert`` auth).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pymysql
import pytest
from tests.sources.cdc.certs import Pki, make_pki

from ecfusion.errors import SourceError
from ecfusion.lake import RawLake
from ecfusion.sources.cdc import (
    MySqlCdcConfig,
    MySqlCdcConnector,
    PostgresCdcConfig,
    PostgresCdcConnector,
    run_cdc,
)

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def pkis() -> Iterator[tuple[Pki, Pki]]:
    """The servers' PKI and an unrelated one (the wrong CA), readable by the postgres user."""
    folder = Path(tempfile.mkdtemp(prefix="ecf-tls-"))
    folder.chmod(0o755)
    good, wrong = make_pki(folder / "good", client_cn="cdc_mtls"), make_pki(folder / "wrong")
    (folder / "good").chmod(0o755)
    if os.geteuid() == 0:  # PostgreSQL reads its key as the postgres user and wants it 0600
        shutil.chown(good.server_key, "postgres")
    yield good, wrong
    shutil.rmtree(folder, ignore_errors=True)


def _start_or_fail(ctx: Any, what: str) -> Any:
    try:
        return ctx.__enter__()
    except Exception as e:  # a TLS test must not pass by skipping
        pytest.fail(f"cannot start a {what} with TLS: {e}")


@pytest.fixture(scope="module")
def mariadb_tls(pkis: tuple[Pki, Pki]) -> Iterator[int]:
    from tests.sources.cdc.servers import mariadb_with_binlog

    pki = pkis[0]
    ctx = mariadb_with_binlog(
        [
            f"--ssl-ca={pki.ca}",
            f"--ssl-cert={pki.server_cert}",
            f"--ssl-key={pki.server_key}",
            "--require-secure-transport=ON",
        ]
    )
    server = _start_or_fail(ctx, "MariaDB")
    yield server.port
    ctx.__exit__(None, None, None)


@pytest.fixture(scope="module")
def postgres_tls(pkis: tuple[Pki, Pki]) -> Iterator[int]:
    from tests.sources.cdc.servers import postgres_logical

    pki = pkis[0]
    hba = (
        "local all all trust\n"
        "hostssl all cdc_mtls 127.0.0.1/32 cert\n"
        "hostssl all all 127.0.0.1/32 trust\n"
        "hostnossl all all 127.0.0.1/32 reject\n"
    )
    opts = (
        f"-c ssl=on -c ssl_cert_file={pki.server_cert} -c ssl_key_file={pki.server_key} "
        f"-c ssl_ca_file={pki.ca}"
    )
    ctx = postgres_logical(opts, hba)
    server = _start_or_fail(ctx, "PostgreSQL")
    with psycopg.connect(
        f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres sslmode=require", autocommit=True
    ) as c:
        c.execute("CREATE ROLE cdc_mtls LOGIN SUPERUSER")
    yield server.port
    ctx.__exit__(None, None, None)


STATEMENTS = [
    "INSERT INTO members VALUES (10, 'new', 'gold')",
    "UPDATE members SET level = 'gold' WHERE id = 1",
    "DELETE FROM members WHERE id = 2",
]


def _ops(lake: RawLake) -> list[str]:
    table = lake.read_raw("crm_db", "changes", columns=["payload"])
    return sorted(orjson.loads(p)["op"] for p in table.column("payload").to_pylist())


def _snapshot_then_changes(connector: Any, make: Any, execute: Any, lake: RawLake) -> None:
    first = run_cdc(connector, lake)
    execute(STATEMENTS)
    second = run_cdc(make(), lake)
    assert (first.landed, second.landed) == (3, 3)
    assert _ops(lake) == ["c", "d", "r", "r", "r", "u"]


# -- MariaDB --------------------------------------------------------------------------------------


def _mysql_setup(port: int) -> tuple[str, Any]:
    db = "crm_" + uuid.uuid4().hex[:8]
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", ssl_verify_cert=False, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {db}")
        cur.execute(f"CREATE TABLE {db}.members (id INT PRIMARY KEY, name VARCHAR(20), level VARCHAR(10))")
        cur.execute(f"INSERT INTO {db}.members VALUES (1, 'a', 'silver'), (2, 'b', 'silver'), (3, 'c', 'x')")
        cur.execute("CREATE USER IF NOT EXISTS 'cdc_x509'@'%' IDENTIFIED BY 'pw' REQUIRE X509")
        cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'cdc_x509'@'%'")

    def execute(statements: list[str]) -> None:
        with conn.cursor() as cur:
            cur.execute(f"USE {db}")
            for s in statements:
                cur.execute(s)

    return db, execute


def _mysql(port: int, db: str, **kw: Any) -> MySqlCdcConnector:
    cfg = MySqlCdcConfig(
        name="crm_db", port=port, database=db, server_id=6000 + port % 1000, idle_stop_seconds=1.0, **kw
    )
    return MySqlCdcConnector(cfg)


def test_mariadb_cdc_runs_over_verified_tls_with_a_client_certificate(
    mariadb_tls: int, pkis: tuple[Pki, Pki], lake: RawLake
) -> None:
    pki = pkis[0]
    db, execute = _mysql_setup(mariadb_tls)
    tls = {
        "user": "cdc_x509",
        "password": "pw",
        "ssl_mode": "verify_identity",
        "ssl_ca": str(pki.ca),
        "ssl_cert": str(pki.client_cert),
        "ssl_key": str(pki.client_key),
    }
    connector = _mysql(mariadb_tls, db, **tls)
    assert connector.check().ok, connector.check().message
    _snapshot_then_changes(connector, lambda: _mysql(mariadb_tls, db, **tls), execute, lake)


def test_mariadb_refuses_a_wrong_ca_and_plaintext_clearly(
    mariadb_tls: int, pkis: tuple[Pki, Pki], lake: RawLake
) -> None:
    db, _ = _mysql_setup(mariadb_tls)
    wrong = _mysql(mariadb_tls, db, ssl_mode="verify_ca", ssl_ca=str(pkis[1].ca))
    result = wrong.check()
    assert not result.ok and "CERTIFICATE_VERIFY_FAILED" in result.message
    assert "not signed by the CA in `ssl_ca`" in (result.hint or "")
    with pytest.raises(SourceError, match="certificate verify failed"):
        run_cdc(wrong, lake)
    assert lake.checkpoints.get("crm_db", "changes") is None  # nothing recorded for a refused run
    plain = _mysql(mariadb_tls, db, ssl_mode="disabled").check()
    # MariaDB answers plaintext under require_secure_transport with "access denied"; the same
    # password-less root connects over TLS in _mysql_setup.
    assert not plain.ok and "access denied" in plain.message.lower()


# -- PostgreSQL -----------------------------------------------------------------------------------


def _pg_setup(port: int) -> tuple[str, Any]:
    db = "crm_" + uuid.uuid4().hex[:8]
    base = f"host=127.0.0.1 port={port} user=postgres sslmode=require"
    with psycopg.connect(f"{base} dbname=postgres", autocommit=True) as c:
        c.execute(f"CREATE DATABASE {db}")
    conn = psycopg.connect(f"{base} dbname={db}", autocommit=True)
    conn.execute("CREATE TABLE members (id INT PRIMARY KEY, name VARCHAR(20), level VARCHAR(10))")
    conn.execute("ALTER TABLE members REPLICA IDENTITY FULL")
    conn.execute("INSERT INTO members VALUES (1, 'a', 'silver'), (2, 'b', 'silver'), (3, 'c', 'x')")

    def execute(statements: list[str]) -> None:
        for s in statements:
            conn.execute(s.encode())

    return db, execute


def _pg(port: int, db: str, **kw: Any) -> PostgresCdcConnector:
    cfg = PostgresCdcConfig(
        name="crm_db",
        port=port,
        database=db,
        tables=["members"],
        slot="ecf_" + db,
        publication="ecf_" + db,
        idle_stop_seconds=1.0,
        **kw,
    )
    return PostgresCdcConnector(cfg)


def test_postgres_cdc_runs_over_verified_tls_with_a_client_certificate(
    postgres_tls: int, pkis: tuple[Pki, Pki], lake: RawLake
) -> None:
    pki = pkis[0]
    db, execute = _pg_setup(postgres_tls)
    tls = {
        "user": "cdc_mtls",  # pg_hba `cert`: the client certificate's CN is the role, no password
        "sslmode": "verify-full",
        "sslrootcert": str(pki.ca),
        "sslcert": str(pki.client_cert),
        "sslkey": str(pki.client_key),
    }
    connector = _pg(postgres_tls, db, **tls)
    assert connector.check().ok, connector.check().message
    assert connector.conn().info.pgconn.ssl_in_use
    _snapshot_then_changes(connector, lambda: _pg(postgres_tls, db, **tls), execute, lake)
    connector.close()


def test_postgres_refuses_a_wrong_ca_and_plaintext_clearly(postgres_tls: int, pkis: tuple[Pki, Pki]) -> None:
    db, _ = _pg_setup(postgres_tls)
    wrong = _pg(postgres_tls, db, sslmode="verify-ca", sslrootcert=str(pkis[1].ca))
    with pytest.raises(SourceError, match="certificate verify failed") as e:
        wrong.conn()
    assert "not signed by the CA in `sslrootcert`" in (e.value.hint or "")
    with pytest.raises(SourceError, match="no encryption"):
        _pg(postgres_tls, db, sslmode="disable").conn()
