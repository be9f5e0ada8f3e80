"""crm/schema.sql loads into PostgreSQL and MariaDB, and the SQLite members fit into it."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.services


def _statements(schema: str) -> list[str]:
    body = "\n".join(line for line in schema.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def _sample(merchant: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with sqlite3.connect(merchant.root / "crm/crm.sqlite") as con:
        levels = con.execute("SELECT * FROM member_levels").fetchall()
        members = con.execute("SELECT * FROM members ORDER BY member_id LIMIT 25").fetchall()
    return levels, members


def test_schema_loads_into_postgresql(merchant: Any) -> None:
    psycopg = pytest.importorskip("psycopg")
    try:
        con = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3)
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL not reachable at 127.0.0.1:5432: {e}")
    schema = f"sim_crm_{uuid.uuid4().hex[:10]}"
    levels, members = _sample(merchant)
    try:
        with con.cursor() as cur:
            cur.execute(f"CREATE SCHEMA {schema}")
            cur.execute(f"SET search_path TO {schema}")
            for stmt in _statements((merchant.root / "crm/schema.sql").read_text(encoding="utf-8")):
                cur.execute(stmt)
            cur.executemany("INSERT INTO member_levels VALUES (%s, %s, %s, %s)", levels)
            cur.executemany("INSERT INTO members VALUES (" + ", ".join(["%s"] * 18) + ")", members)
            cur.execute("SELECT count(*) FROM members")
            assert cur.fetchone()[0] == len(members)
    finally:
        con.rollback()
        with con.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.commit()
        con.close()


def test_schema_loads_into_mariadb(merchant: Any) -> None:
    pymysql = pytest.importorskip("pymysql")
    try:
        con = pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", connect_timeout=3, charset="utf8mb4"
        )
    except pymysql.err.OperationalError as e:
        pytest.fail(f"MariaDB not reachable at 127.0.0.1:3306: {e}")
    db = f"sim_crm_{uuid.uuid4().hex[:10]}"
    levels, members = _sample(merchant)
    try:
        with con.cursor() as cur:
            cur.execute(f"CREATE DATABASE {db} CHARACTER SET utf8mb4")
            cur.execute(f"USE {db}")
            for stmt in _statements((merchant.root / "crm/schema.sql").read_text(encoding="utf-8")):
                cur.execute(stmt)
            cur.executemany("INSERT INTO member_levels VALUES (%s, %s, %s, %s)", levels)
            cur.executemany("INSERT INTO members VALUES (" + ", ".join(["%s"] * 18) + ")", members)
            cur.execute("SELECT count(*) FROM members")
            assert cur.fetchone()[0] == len(members)
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {db}")
        con.close()
