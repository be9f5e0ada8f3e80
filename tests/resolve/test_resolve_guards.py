"""Guards against identity-graph collapse: junk values and over-shared identifiers never link people."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from ecfusion.resolve import rules
from ecfusion.resolve.features import member_features
from ecfusion.resolve.graph import Constraints, cluster
from ecfusion.resolve.guards import build_guard
from ecfusion.resolve.sample import MEMBER_SCHEMA, SampleCipher

CIPHER = SampleCipher(9)


def account(
    key: str,
    *,
    name: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    devices: list[str] | None = None,
    nickname: str | None = None,
    platform: str = "taobao",
) -> dict:
    enc, bidx = CIPHER.encrypt, CIPHER.blind_index
    return {
        "account_key": f"{platform}:{key}",
        "platform": platform,
        "shop_id": "s",
        "platform_account_id": key,
        "nickname": nickname,
        "name_token": enc("name", name) if name else None,
        "phone_token": enc("phone", phone) if phone else None,
        "phone_bidx": bidx("phone", phone) if phone else None,
        "phone_masked": f"{phone[:3]}****{phone[-4:]}" if phone else None,
        "id_number_bidx": None,
        "email_bidx": None,
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address_token": enc("address", address) if address else None,
        "address_bidx": bidx("address", address) if address else None,
        "device_ids": devices or [],
        "first_seen_at": datetime(2025, 1, 1, tzinfo=UTC),
        "last_seen_at": None,
        "raw_record_ids": [],
    }


def resolve(rows: list[dict]) -> dict[str, str]:
    accounts = pa.Table.from_pylist(rows, schema=MEMBER_SCHEMA)
    guard = build_guard(accounts, CIPHER)
    feats = member_features(accounts, CIPHER, guard.allow)
    con = duckdb.connect()
    con.register("f", feats)
    edges = rules.rule_edges(con)
    tuples = list(
        zip(
            *(edges.column(c).to_pylist() for c in ("left_key", "right_key", "method", "weight")), strict=True
        )
    )
    roots, _ = cluster(feats.column("unique_id").to_pylist(), tuples, Constraints())
    return roots


def test_a_test_phone_typed_by_many_shoppers_links_nobody() -> None:
    rows = [account(f"u{i}", name="王伟", phone="13800138000", address=f"文一西路{i}号") for i in range(5)]
    roots = resolve(rows)
    assert len(set(roots.values())) == 5


def test_a_store_tablet_used_by_many_members_links_nobody() -> None:
    rows = [
        account(f"c{i}", name="李娜", phone=f"1390000{i:04d}", devices=["store-pad-1"], platform="pos")
        for i in range(10)
    ]
    assert len(set(resolve(rows).values())) == 10


def test_blocked_device_and_anonymous_nickname_do_not_link() -> None:
    rows = [
        account("a", name="张敏", devices=["00000000"], nickname="anonymous"),
        account("b", name="张敏", devices=["00000000"], nickname="anonymous"),
    ]
    assert len(set(resolve(rows).values())) == 2


def test_a_household_sharing_an_address_and_a_tablet_stays_two_people() -> None:
    home = "浙江省杭州市西湖区文一西路100号1栋2单元301室"
    rows = [
        account("husband", name="王强", phone="13911112222", address=home, devices=["ipad-home"]),
        account("wife", name="李丽", phone="13933334444", address=home, devices=["ipad-home"]),
    ]
    roots = resolve(rows)
    assert roots["taobao:husband"] != roots["taobao:wife"]


def test_the_same_person_on_two_platforms_links_by_name_and_phone() -> None:
    rows = [
        account("tb1", name="陈静", phone="13755556666"),
        account("jd1", name="陈静", phone="13755556666", platform="jd"),
    ]
    roots = resolve(rows)
    assert roots["taobao:tb1"] == roots["jd:jd1"]
