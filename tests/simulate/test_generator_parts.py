"""Check digits, money units, masks, spec spellings and the demo-data command."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecfusion.cli import main
from ecfusion.errors import InputError
from ecfusion.simulate import generate
from ecfusion.simulate.calendar import TimeText, allocate, beijing_seconds, daily_counts
from ecfusion.simulate.catalog import build_catalog, spec_text
from ecfusion.simulate.checkdigits import gb11643_check_char, gtin13_check_digit
from ecfusion.simulate.platforms.masking import (
    mask_name,
    mask_phone_middle,
    mask_phone_tail,
    yuan_number,
    yuan_text,
)

_ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_id_check_char_satisfies_gb11643(body: str) -> None:
    check = gb11643_check_char(body)
    value = 10 if check == "X" else int(check)
    assert (sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) + value) % 11 == 1


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_gtin13_check_digit_makes_the_weighted_sum_a_multiple_of_ten(body: str) -> None:
    code = body + gtin13_check_digit(body)
    assert sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(code)) % 10 == 0


@pytest.mark.parametrize("body,check", [("11010519491231002", "X"), ("44052418800101001", "4")])
def test_known_identity_numbers(body: str, check: str) -> None:
    assert gb11643_check_char(body) == check


@pytest.mark.parametrize("body,check", [("690123456789", "2"), ("978030640615", "7")])
def test_known_gtins(body: str, check: str) -> None:
    assert gtin13_check_digit(body) == check


@pytest.mark.parametrize(
    "fen,text,number",
    [
        (0, "0.00", 0.0),
        (5, "0.05", 0.05),
        (20007, "200.07", 200.07),
        (-1990, "-19.90", -19.9),
        (999999999, "9999999.99", 9999999.99),
    ],
)
def test_money_units(fen: int, text: str, number: float) -> None:
    assert yuan_text(fen) == text and yuan_number(fen) == number


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_yuan_text_is_exact(fen: int) -> None:
    sign, a = ("-" if fen < 0 else ""), abs(fen)
    assert yuan_text(fen) == f"{sign}{a // 100}.{a % 100:02d}"


@pytest.mark.parametrize(
    "func,value,masked",
    [
        (mask_name, "王伟", "王*"),
        (mask_name, "欧阳娜娜", "欧***"),
        (mask_phone_middle, "13812345678", "138****5678"),
        (mask_phone_tail, "13876771234", "1387677****"),
    ],
)
def test_masks(func, value: str, masked: str) -> None:  # type: ignore[no-untyped-def]
    assert func(value) == masked


def test_specs_are_spelled_differently_across_platforms() -> None:
    catalog = build_catalog(5)
    big = next(p for p in catalog.products if p.unit == "ml" and p.amount >= 500 and p.pack == 1)
    spellings = {spec_text("taobao", big, random.Random(i)) for i in range(60)}
    assert f"{big.amount}ml" in spellings and f"{big.amount / 1000:g}L" in spellings
    bundle = next(p for p in catalog.products if p.pack == 3)
    assert any("3支装" in spec_text("jd", bundle, random.Random(i)) for i in range(30))


def test_time_text_formats_beijing_wall_clock() -> None:
    from datetime import date

    tt = TimeText()
    bj = beijing_seconds(date(2025, 11, 11)) + 3661
    assert tt(bj) == "2025-11-11 01:01:01"
    assert tt.iso_utc(bj) == "2025-11-10T17:01:01Z"
    assert tt.iso_offset(bj) == "2025-11-11T01:01:01+08:00"


def test_double_eleven_outsells_an_ordinary_day() -> None:
    from datetime import date

    counts = daily_counts(date(2025, 1, 1), 365, 100_000)
    assert counts.sum() == 100_000
    assert (
        counts[date(2025, 11, 11).timetuple().tm_yday - 1]
        > 5 * counts[date(2025, 4, 15).timetuple().tm_yday - 1]
    )


@given(st.integers(min_value=0, max_value=10**7), st.lists(st.floats(0.01, 100), min_size=1, max_size=50))
def test_allocate_is_exact(total: int, weights: list[float]) -> None:
    import numpy as np

    parts = allocate(total, np.array(weights))
    assert parts.sum() == total and (parts >= 0).all()


def test_refuses_a_foreign_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        generate(tmp_path, persons=10, days=2, seed=1)


@pytest.mark.slow  # imports every CLI command module
def test_demo_data_command_writes_a_merchant_and_replaces_it_on_rerun(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "m"
    args = ["demo-data", "--out", str(out), "--persons", "50", "--days", "3", "--seed", "2", "--orders", "40"]
    assert main(args) == 0
    assert main(args + ["--start-date", "2025-06-16", "--defect-rate", "0"]) == 0
    assert (out / "manifest.json").exists()
    assert (out / "truth/defects.csv").read_text().strip() == "source,entity,path,line,record_key,kind"
    assert "青岚" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--start-date", "2025/01/01"], "YYYY-MM-DD"),
        (["--days", "0"], "--days"),
        (["--defect-rate", "2"], "defect rate"),
    ],
)
def test_demo_data_rejects_bad_arguments_with_one_line(
    tmp_path: Path,
    capsys,
    extra: list[str],  # type: ignore[no-untyped-def]
    message: str,
) -> None:
    assert main(["demo-data", "--out", str(tmp_path / "x"), "--persons", "5", *extra]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "province,short",
    [
        ("广东省", "广东"),
        ("北京市", "北京"),
        ("广西壮族自治区", "广西"),
        ("新疆维吾尔自治区", "新疆"),
        ("内蒙古自治区", "内蒙古"),
    ],
)
def test_province_short_forms(province: str, short: str) -> None:
    from ecfusion.simulate.geo import short_province

    assert short_province(province) == short


def test_accounts_show_real_world_variation() -> None:
    from ecfusion.simulate.people import build_population

    pop = build_population(3000, 9)
    accounts = [a for accs in pop.accounts.values() for a in accs]
    persons = {p.person_id: p for p in pop.persons}
    details = [a.detail for a in accounts]
    assert any(any("０" <= ch <= "９" for ch in d) for d in details)  # full-width digits
    assert any(a.district == "" for a in accounts)  # district left out
    assert any(a.province in ("广东", "浙江", "江苏", "四川") for a in accounts)  # abbreviated
    assert any("單元" in d or "號" in d for d in details)  # traditional characters
    old_phone = [a for a in accounts if a.phone != persons[a.person_id].mobiles[0]]
    assert old_phone and all(a.phone in persons[a.person_id].mobiles for a in old_phone)
    shared = {}
    for p in pop.persons:
        for d in p.devices:
            shared.setdefault(d, set()).add(p.person_id)
    assert any(len(ids) > 1 for ids in shared.values())  # a household tablet


@pytest.mark.parametrize("persons,orders", [(1, 5), (2, 0), (3, 7)])
def test_tiny_merchants_still_meet_the_order_count(tmp_path: Path, persons: int, orders: int) -> None:
    m = generate(tmp_path / "m", persons=persons, days=2, seed=persons, orders=orders)
    assert m.orders == orders
    first_versions = {f.path for f in m.files if f.entity == "orders"}
    assert len(first_versions) == 4


def test_people_keep_their_own_mailbox_and_a_family_gives_no_two_the_same_name() -> None:
    from collections import Counter, defaultdict

    from ecfusion.simulate.people import build_population

    persons = build_population(20_000, seed=5).persons
    emails = Counter(p.email for p in persons if p.email)
    assert emails.most_common(1)[0][1] == 1
    names = Counter(p.name for p in persons)
    assert sum(n for n in names.values() if n > 1) > 1000  # common names are still shared widely
    households: dict[str, list[str]] = defaultdict(list)
    for p in persons:
        households[p.household_id].append(p.name)
    assert any(len(h) > 1 for h in households.values())
    assert all(len(set(h)) == len(h) for h in households.values())
