"""The brand's CRM: members, member levels and points, in SQLite with a portable DDL.

Serves issue 2 (Build §3) for 采集层 database sources (T/JNBDA 0003-2025 clause 4.3.4): writes
``crm/crm.sqlite`` and ``crm/schema.sql``. The DDL sticks to types and syntax that SQLite,
PostgreSQL and MariaDB all accept (VARCHAR, INTEGER, BIGINT, DATE, TIMESTAMP; no AUTOINCREMENT,
no backticks, no dialect functions) so collectors can be tested against each server.
Members carry personal data in plaintext, as a CRM database does; the lake encrypts at landing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ecfusion.simulate.calendar import TimeText, beijing_seconds
from ecfusion.simulate.defects import FileStat
from ecfusion.simulate.world import TaskResult, World

SCHEMA_SQL = """\
-- CRM members of the simulated brand. Portable DDL: loads into SQLite, PostgreSQL and MariaDB.
CREATE TABLE member_levels (
    level VARCHAR(16) NOT NULL PRIMARY KEY,
    level_name VARCHAR(32) NOT NULL,
    min_points INTEGER NOT NULL,
    discount_pct INTEGER NOT NULL
);

CREATE TABLE members (
    member_id VARCHAR(16) NOT NULL PRIMARY KEY,
    card_no VARCHAR(20) NOT NULL UNIQUE,
    name VARCHAR(64) NOT NULL,
    mobile VARCHAR(20),
    id_card_no VARCHAR(18),
    gender VARCHAR(1),
    birthday DATE,
    email VARCHAR(128),
    province VARCHAR(32),
    city VARCHAR(32),
    district VARCHAR(32),
    address VARCHAR(255),
    level VARCHAR(16) NOT NULL REFERENCES member_levels (level),
    points INTEGER NOT NULL,
    register_channel VARCHAR(32) NOT NULL,
    registered_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    wechat_openid VARCHAR(32)
);

CREATE TABLE points_ledger (
    entry_id BIGINT NOT NULL PRIMARY KEY,
    member_id VARCHAR(16) NOT NULL REFERENCES members (member_id),
    change_points INTEGER NOT NULL,
    reason VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX idx_members_mobile ON members (mobile);
CREATE INDEX idx_points_member ON points_ledger (member_id);
"""

LEVELS = (
    ("L1", "青卡会员", 0, 100),
    ("L2", "银卡会员", 2000, 95),
    ("L3", "金卡会员", 8000, 90),
    ("L4", "黑卡会员", 20000, 85),
)
CHANNELS = ("门店", "微信小程序", "天猫会员通", "京东会员", "抖音会员", "线下活动")


def run_crm(world: World) -> TaskResult:
    result = TaskResult("crm")
    folder = world.out / "crm"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schema.sql").write_text(SCHEMA_SQL, encoding="utf-8")
    db = folder / "crm.sqlite"
    db.unlink(missing_ok=True)
    members, ledger = _rows(world)
    _write_sqlite(db, members, ledger)
    result.files = [
        FileStat("crm/crm.sqlite", "crm", "crm", "members", "sqlite", "utf-8", len(members)),
    ]
    return result


def _write_sqlite(db: Path, members: list[tuple[object, ...]], ledger: list[tuple[object, ...]]) -> None:
    con = sqlite3.connect(db)
    try:
        con.executescript(SCHEMA_SQL)
        con.executemany("INSERT INTO member_levels VALUES (?, ?, ?, ?)", LEVELS)
        con.executemany(
            "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", members
        )
        con.executemany("INSERT INTO points_ledger VALUES (?, ?, ?, ?, ?)", ledger)
        con.commit()
    finally:
        con.close()


def _rows(world: World) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    r, _ = world.rngs("crm")
    tt = TimeText()
    persons = {p.person_id: p for p in world.population.persons}
    start_bj = beijing_seconds(world.start)
    members: list[tuple[object, ...]] = []
    ledger: list[tuple[object, ...]] = []
    for acc in world.population.accounts["crm"]:
        p = persons[acc.person_id]
        registered = start_bj - int(r.random() * 3 * 365 * 86400)
        updated = start_bj + int(r.random() * world.days * 86400)
        points = int(r.paretovariate(1.3) * 800)
        level = next(lv[0] for lv in reversed(LEVELS) if points >= lv[2])
        members.append(
            (
                acc.account_id,
                acc.extra,
                acc.name,
                acc.phone,
                p.id_card_no if r.random() < 0.6 else None,
                p.gender,
                p.birthday.isoformat() if r.random() < 0.8 else None,
                p.email or None,
                acc.province,
                acc.city,
                acc.district or None,
                acc.detail,
                level,
                points,
                CHANNELS[int(r.random() * len(CHANNELS))],
                tt(registered),
                tt(max(updated, registered)),
                # a member who uses the brand's mini-program is bound to its WeChat openid (会员通)
                app.extra if (app := p.accounts.get("app")) else None,
            )
        )
        for _ in range(1 + int(r.random() * 3)):
            ledger.append(
                (
                    len(ledger) + 1,
                    acc.account_id,
                    int(r.random() * 500) + 10,
                    "消费积分",
                    tt(registered + int(r.random() * 86400 * 30)),
                )
            )
    return members, ledger
