"""Table-driven tests of the CRM member mapping: one raw CRM row → one ``unified.member_account`` row."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
import pytest

from ecfusion.model.tables import MEMBER_ACCOUNT
from ecfusion.standardize import sqlgen
from ecfusion.standardize.mapping import load_mappings

CRM = load_mappings()["crm"]
PHONE = "ef1:phone:k1:pbidx01:ct"
NAME = "ef1:name:k1:nbidx01:ct"
ID_CARD = "ef1:id_number:k1:ibidx01:ct"
EMAIL = "ef1:email:k1::ct"  # empty blind index: none
ADDRESS = "ef1:address:k1:abidx01:ct"

MEMBER = {
    "member_id": "M000000001",
    "card_no": "886000007919",
    "name": NAME,
    "mobile": PHONE,
    "id_card_no": ID_CARD,
    "gender": "M",
    "birthday": "1969-10-07",
    "email": EMAIL,
    "province": "浙江省",
    "city": "杭州市",
    "district": "临平区",
    "address": ADDRESS,
    "level": "L1",
    "points": 889,
    "register_channel": "门店",
    "registered_at": "2024-12-06T17:06:16",
    "updated_at": "2025-01-31T05:11:21",
}


def _stage(patch: dict[str, Any]) -> dict[str, Any]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE raw AS SELECT 'r1' AS raw_record_id, 'crm' AS source, 'crm' AS platform, "
        "CAST(NULL AS VARCHAR) AS shop_id, 'f.parquet' AS raw_file, ? AS payload",
        [json.dumps({**MEMBER, **patch}, ensure_ascii=False)],
    )
    return con.sql(sqlgen.member_stage_sql(CRM, "raw")).to_arrow_table().to_pylist()[0]


CASES = [
    ({}, "account_key", "crm:M000000001"),
    ({}, "platform", "crm"),
    ({}, "platform_account_id", "M000000001"),
    ({}, "phone_token", PHONE),
    ({}, "phone_bidx", "pbidx01"),
    ({}, "name_token", NAME),
    ({}, "id_number_bidx", "ibidx01"),
    ({}, "email_bidx", None),
    ({}, "address_token", ADDRESS),
    ({}, "address_bidx", "abidx01"),
    ({}, "province", "浙江省"),
    ({}, "district", "临平区"),
    ({}, "first_seen_at", datetime(2024, 12, 6, 9, 6, 16)),  # Beijing time → UTC
    ({}, "last_seen_at", datetime(2025, 1, 30, 21, 11, 21)),
    ({}, "raw_record_ids", ["r1"]),
    ({"mobile": ""}, "phone_bidx", None),
    ({"updated_at": ""}, "last_seen_at", datetime(2024, 12, 6, 9, 6, 16)),
]


@pytest.mark.parametrize(("patch", "field", "expected"), CASES)
def test_crm_member_field(patch: dict[str, Any], field: str, expected: Any) -> None:
    row = _stage(patch)
    assert row[field] == expected
    assert row["_rule"] is None


def test_staged_member_has_every_member_account_column() -> None:
    assert set(MEMBER_ACCOUNT.column_names) <= set(_stage({}))


@pytest.mark.parametrize(
    ("patch", "rule"),
    [({"member_id": ""}, "missing_required"), ({"updated_at": "yesterday"}, "bad_value")],
)
def test_bad_member_row_gets_a_rule(patch: dict[str, Any], rule: str) -> None:
    assert _stage(patch)["_rule"] == rule
