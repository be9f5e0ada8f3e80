"""Winners and status history: the one-version shortcut agrees with the exact, windowed path.

The run sends an order down the shortcut when its key's one-number hash is unique among the
versions, and down the exact path otherwise — which a one-version order also takes when its hash
collides with another key's. Both paths must give that order the same winner and history.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from ecfusion.warehouse import merge

PULLED = datetime(2026, 11, 20)
VERSIONS = [
    # order_key, raw_record_id, raw_file, modified_at, status, platform_status, is_new
    # (+ pulled_at, has_lines, has_contact: the same for every version here)
    ("tb:1", "a1", "f1", datetime(2026, 11, 1, 2), "paid", "WAIT_SELLER_SEND_GOODS", True),
    ("tb:2", "b1", None, datetime(2026, 11, 1, 2), "paid", "WAIT_SELLER_SEND_GOODS", False),
    ("tb:2", "b3", "f1", datetime(2026, 11, 3, 2), "completed", "TRADE_FINISHED", True),
    ("tb:2", "b2", "f2", datetime(2026, 11, 2, 2), "shipped", "WAIT_BUYER_CONFIRM_GOODS", True),
    ("tb:3", "c2", "f1", datetime(2026, 11, 5, 2), "paid", "WAIT_SELLER_SEND_GOODS", True),
    ("tb:3", "c1", "f2", datetime(2026, 11, 5, 2), "paid", "WAIT_SELLER_SEND_GOODS", True),  # same time
]


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute(
        "CREATE TABLE ver (order_key VARCHAR, raw_record_id VARCHAR, raw_file VARCHAR, "
        "modified_at TIMESTAMP, status VARCHAR, platform_status VARCHAR, is_new BOOLEAN, pulled_at TIMESTAMP,"
        " has_lines BOOLEAN, has_contact BOOLEAN)"
    )
    c.executemany(
        "INSERT INTO ver VALUES (?, ?, ?, ?, ?, ?, ?, ?, true, true)", [(*v, PULLED) for v in VERSIONS]
    )
    return c


def _decide(con: duckdb.DuckDBPyConnection, forced: set[str]) -> tuple[list[tuple], list[tuple]]:
    """Winners and history as the run computes them, with the keys in ``forced`` sent down the
    exact path as a hash collision would send them."""
    keys = ", ".join(f"'{k}'" for k in sorted(forced)) or "NULL"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE rep AS {merge.repeated_hashes_sql('ver', 'order_key')} "
        f"UNION ALL SELECT hash(order_key) FROM ver WHERE order_key IN ({keys})"
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW sev AS {merge.several_versions_sql('ver', 'rep')}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW one AS {merge.single_versions_sql('ver', 'rep')}")
    winners = con.execute(f"SELECT * FROM ({merge.winners_sql('one', 'sev')}) ORDER BY ALL").fetchall()
    history = con.execute(f"SELECT * FROM ({merge.status_history_sql('one', 'sev')}) ORDER BY ALL").fetchall()
    return winners, history


def test_latest_version_wins_ties_by_id_and_history_keeps_every_transition(
    con: duckdb.DuckDBPyConnection,
) -> None:
    winners, history = _decide(con, set())
    assert [(w[0], w[1], w[3], w[4], w[5], w[6]) for w in winners] == [
        ("tb:1", "a1", True, 1, ["a1"], False),
        ("tb:2", "b3", True, 3, ["b1", "b2", "b3"], True),  # the earlier version was the warehouse's
        ("tb:3", "c2", True, 2, ["c1", "c2"], False),  # same time: the higher raw record id wins
    ]
    assert [(h[0], h[1], h[2], h[3]) for h in history] == [
        ("tb:1", 1, None, "paid"),
        ("tb:2", 1, None, "paid"),
        ("tb:2", 2, "paid", "shipped"),
        ("tb:2", 3, "shipped", "completed"),
        ("tb:3", 1, None, "paid"),  # its second version changed nothing
    ]


def test_a_one_version_order_on_the_exact_path_gets_the_same_winner_and_history(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert _decide(con, {"tb:1"}) == _decide(con, set())
