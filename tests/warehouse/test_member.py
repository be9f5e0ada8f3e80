"""``unified.member``: a CRM member's card, level and points from the ledger, recomputed incrementally
(warehouse/members.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from rawzone import RawZone, token
from rawzone import rows as _rows

from ecfusion import warehouse
from ecfusion.config import Workspace

LEVELS = [
    {"level": "L1", "level_name": "青卡会员", "min_points": 0, "discount_pct": 100},
    {"level": "L2", "level_name": "银卡会员", "min_points": 500, "discount_pct": 95},
]
COLUMNS = (
    "member_key, card_no, level_code, level_name, points_balance, points_earned, points_spent, "
    "points_expired, points_entries, registered_at, updated_at, last_activity_at"
)


def member(member_id: str, card: str, updated: str, **extra: Any) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "card_no": card,
        "name": token("name", member_id),
        "mobile": token("phone", f"1380013{member_id[-4:]}"),
        "level": "L1",
        "points": 0,
        "register_channel": "门店",
        "registered_at": "2025-03-01T09:00:00",
        "updated_at": updated,
        **extra,
    }


def entry(entry_id: int, member_id: str, change: int, reason: str, at: str) -> dict[str, Any]:
    return {
        "entry_id": entry_id,
        "member_id": member_id,
        "change_points": change,
        "reason": reason,
        "created_at": at,
    }


def _members(ws: Workspace) -> list[tuple[object, ...]]:
    return _rows(ws, f"SELECT {COLUMNS} FROM unified.member ORDER BY member_key")


def test_member_has_card_level_and_ledger_balance_split(workspace: Workspace, raw: RawZone) -> None:
    raw.add("crm", "member_levels", LEVELS)
    raw.add("crm", "members", [member("M0001", "886000000001", "2026-11-01T10:00:00")])
    raw.add(
        "crm",
        "points_ledger",
        [
            entry(1, "M0001", 700, "消费积分", "2026-11-02T10:00:00"),
            entry(2, "M0001", -100, "积分兑换", "2026-11-03T10:00:00"),
            entry(3, "M0001", -50, "积分过期", "2026-11-04T10:00:00"),
        ],
    )
    s = warehouse.run(workspace)
    assert s.balanced
    # 700 − 100 − 50 = 550 reaches L2 (500); Beijing times stored in UTC
    assert _members(workspace) == [
        (
            "crm:M0001",
            "886000000001",
            "L2",
            "银卡会员",
            550,
            700,
            100,
            50,
            3,
            datetime(2025, 3, 1, 1, 0),
            datetime(2026, 11, 1, 2, 0),
            datetime(2026, 11, 4, 2, 0),
        )
    ]
    # lineage: the member record, its three ledger entries and the record of the level it reached
    [(ids, expected)] = _rows(
        workspace,
        "SELECT (SELECT raw_record_ids FROM unified.member), list_sort("
        "(SELECT list(raw_record_ids[1]) FROM unified.member_account WHERE account_key = 'crm:M0001')"
        " || (SELECT list(raw_record_ids[1]) FROM unified.points_entry)"
        " || (SELECT list(raw_record_ids[1]) FROM unified.member_level WHERE level_code = 'L2'))",
    )
    assert ids == expected and len(ids) == 5  # type: ignore[arg-type]


def test_only_changed_members_are_recomputed_and_reruns_change_nothing(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("crm", "member_levels", LEVELS)
    raw.add(
        "crm",
        "members",
        [
            member("M0001", "886000000001", "2026-11-01T10:00:00"),
            member("M0002", "886000000002", "2026-11-01T10:00:00"),
        ],
    )
    raw.add("crm", "points_ledger", [entry(1, "M0001", 300, "消费积分", "2026-11-02T10:00:00")])
    warehouse.run(workspace)
    before = _members(workspace)
    assert [(r[0], r[2], r[4]) for r in before] == [("crm:M0001", "L1", 300), ("crm:M0002", "L1", 0)]

    raw.add("crm", "points_ledger", [entry(2, "M0001", 250, "消费积分", "2026-11-05T10:00:00")])
    warehouse.run(workspace)
    after = _members(workspace)
    assert after[1] == before[1]  # M0002 had no new input
    assert after[0][2:5] == ("L2", "银卡会员", 550)
    assert after[0][-1] == datetime(2026, 11, 5, 2, 0)

    # the same entry again (a re-delivered file) and a run with nothing new change nothing
    raw.add(
        "crm", "points_ledger", [entry(2, "M0001", 250, "消费积分", "2026-11-05T10:00:00")], dt="2026-11-21"
    )
    s = warehouse.run(workspace)
    assert [r.duplicates for r in s.reconciliation] == [1]
    warehouse.run(workspace)
    assert _members(workspace) == after


def test_ledger_before_member_record_and_level_rule_change(workspace: Workspace, raw: RawZone) -> None:
    raw.add("crm", "points_ledger", [entry(1, "M0003", 900, "消费积分", "2026-11-02T10:00:00")])
    warehouse.run(workspace)
    assert _members(workspace) == []  # no member record yet: the entry waits in points_entry
    assert _rows(workspace, "SELECT count(*) FROM unified.points_entry") == [(1,)]

    raw.add("crm", "members", [member("M0003", "886000000003", "2026-11-01T10:00:00")])
    warehouse.run(workspace)
    [row] = _members(workspace)
    assert row[:5] == ("crm:M0003", "886000000003", None, None, 900)  # no level rules loaded yet

    raw.add("crm", "member_levels", LEVELS)
    warehouse.run(workspace)
    assert _members(workspace)[0][2:5] == ("L2", "银卡会员", 900)
    raw.add(
        "crm", "member_levels", [{**LEVELS[1], "level": "L3", "level_name": "金卡会员", "min_points": 800}]
    )
    warehouse.run(workspace)
    assert _members(workspace)[0][2:5] == ("L3", "金卡会员", 900)


def test_an_older_member_record_arriving_late_does_not_replace_the_card(
    workspace: Workspace, raw: RawZone
) -> None:
    raw.add("crm", "members", [member("M0004", "886000000099", "2026-11-03T10:00:00")])
    warehouse.run(workspace)
    raw.add("crm", "members", [member("M0004", "886000000004", "2026-11-01T10:00:00"), {"member_id": ""}])
    s = warehouse.run(workspace)
    assert s.balanced and s.quarantine_by_rule == {"missing_required": 1}
    [row] = _members(workspace)
    assert (row[0], row[1], row[10]) == ("crm:M0004", "886000000099", datetime(2026, 11, 3, 2, 0))
    assert _rows(workspace, "SELECT len(raw_record_ids) FROM unified.member") == [(2,)]


def test_two_records_of_one_instant_give_one_card_in_both_tables_whatever_their_order(tmp_path: Path) -> None:
    """The CRM sends a member twice with the same updated_at, the card re-issued. Before, the
    member's card was the later run's (C1 when C1b had landed first) while its account's was the
    higher raw id's: two cards for one member, and another card after a rebuild."""
    at = "2026-11-01T10:00:00"
    first, second = member("M0005", "C1", at), member("M0005", "C1b", at)
    cards = "SELECT (SELECT card_no FROM unified.member), (SELECT card_no FROM unified.member_account)"
    seen: set[object] = set()
    for name, runs in (("a", [[first], [second]]), ("b", [[second], [first]]), ("one", [[first, second]])):
        ws = Workspace.init(tmp_path / name)
        raw = RawZone(ws.lake_root)
        for day, records in enumerate(runs):
            raw.add("crm", "members", records, source="crm", dt=f"2026-11-2{day}")
            assert warehouse.run(ws).balanced
        [(member_card, account_card)] = _rows(ws, cards)
        assert member_card == account_card, name
        seen.add(member_card)
    assert len(seen) == 1
