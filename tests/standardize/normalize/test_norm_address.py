"""Address parsing against the division table (seeds/000 5.2 Table 1 L3 c)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecfusion.standardize.normalize import ADDRESS_STRUCT, AddressParser, DivisionTable, parse_address

from .address_cases import CASES


@pytest.fixture(scope="module")
def parser() -> AddressParser:
    return AddressParser()


@pytest.mark.parametrize(
    ("text", "province", "city", "district", "detail"), CASES, ids=[c[0] or "empty" for c in CASES]
)
def test_address_table(parser: AddressParser, text: str, province, city, district, detail) -> None:
    got = parser.parse(text)
    assert (got.province, got.city, got.district, got.detail) == (province, city, district, detail)


def test_table_has_at_least_100_quirks() -> None:
    assert len(CASES) >= 100
    assert len({c[0] for c in CASES}) == len(CASES), "duplicate rows"


@pytest.mark.parametrize(
    ("text", "adcode"),
    [
        ("山东省济南市历下区泉城路", "370102"),
        ("山东省济南市泉城路", "370100"),
        ("山东省", "370000"),
        ("北京市朝阳区", "110105"),
        ("湖北省仙桃市", "429004"),
        ("朝阳区", None),
    ],
)
def test_adcode_is_the_most_specific_division(parser: AddressParser, text: str, adcode: str | None) -> None:
    assert parser.parse(text).adcode == adcode


def test_confidence_orders_clean_over_messy(parser: AddressParser) -> None:
    full = parser.parse("山东省济南市历下区泉城路").confidence
    short = parser.parse("山东济南历下泉城路").confidence
    typo = parser.parse("山东省济男市历下区泉城路").confidence
    no_district = parser.parse("山东省济南市泉城路").confidence
    nothing = parser.parse("泉城路100号").confidence
    assert full == 1.0
    assert 1.0 > short > typo > nothing == 0.0
    assert 1.0 > no_district > 0.0


def test_ambiguous_typo_is_not_guessed(parser: AddressParser) -> None:
    # 济男 is one edit from both 济南 and 济宁, and nothing after it settles the question.
    got = parser.parse("山东省济男市泉城路")
    assert got.province == "山东省" and got.city is None


@pytest.mark.parametrize(
    ("lone", "with_parent"),
    [
        ("杭州文三路", "浙江杭州文三路"),
        ("历下区泉城路", "济南市历下区泉城路"),
        ("城西区5号楼", "西宁市城西区5号楼"),
        ("番禺青年路188号", "广州番禺青年路188号"),
        ("浦东新区世纪大道", "上海浦东新区世纪大道"),
    ],
)
def test_a_lone_name_scores_lower_than_the_same_with_its_parent(
    parser: AddressParser, lone: str, with_parent: str
) -> None:
    # Nothing written above or below it: the name may be a word of something longer.
    alone, confirmed = parser.parse(lone), parser.parse(with_parent)
    assert alone[:3] == confirmed[:3]
    assert alone.confidence < confirmed.confidence


def test_a_lone_short_word_is_clearly_unsure(parser: AddressParser) -> None:
    # 东方 is 海南省东方市, but 东方明珠 is a tower in Shanghai: kept, far below a written city.
    got = parser.parse("东方明珠塔")
    assert got.confidence <= 0.6 < parser.parse("海南省东方市").confidence


def test_a_typo_in_a_short_name_is_forgiven_only_when_it_sounds_the_same(parser: AddressParser) -> None:
    assert parser.parse("浙江省杭州市西糊区").district == "西湖区"  # 糊/湖: hu
    assert parser.parse("广东省深圳市南三区").district == "南山区"  # 三/山: s/sh
    assert parser.parse("北京市房三区").district == "房山区"
    assert parser.parse("北京市南山区").district is None  # 南/房 differ: not 房山区
    assert parser.parse("上海市南汇区").district == "浦东新区"  # a former name, never 徐汇区


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (("陕西省", "西安市", "高新区"), ("陕西省", "西安市", None)),
        (("上海市", "上海市", "南汇区"), ("上海市", "上海市", "浦东新区")),
        (("北京", "北京市", "密云县"), ("北京市", "北京市", "密云区")),
        (("辽宁省", "大连市", "中山"), ("辽宁省", "大连市", "中山区")),
    ],
)
def test_region_standardizer_invents_no_district(
    given: tuple[str, str, str], expected: tuple[str | None, ...]
) -> None:
    # The pipeline's receiver regions go through the same parser (concatenated).
    from ecfusion.standardize.regions import RegionStandardizer

    names = ("province", "city", "district")
    batch = pa.RecordBatch.from_pydict({n: [v] for n, v in zip(names, given, strict=True)})
    row = RegionStandardizer()(batch).to_pylist()[0]
    assert (row["std_province"], row["std_city"], row["std_district"]) == expected


def test_every_former_name_resolves_inside_its_own_city(parser: AddressParser) -> None:
    table = parser.table
    assert table.former_names, "data/former_names.tsv was not loaded"
    for div_id, former in table.former_names.items():
        now = table.by_id[div_id]
        parent = table.by_id[now.parent] if now.parent is not None else now
        for name in former:
            got = parser.parse(parent.name + name)
            assert (got.district if now.level == 3 else got.city) == now.name, (parent.name, name)


def test_a_former_name_row_must_name_a_division() -> None:
    from ecfusion.errors import InputError
    from ecfusion.standardize.normalize.divisions import _parse_former_names, default_division_table

    rows = "adcode\tname\tformer\tyear\tchange\n310115\t徐汇区\t南汇区\t2009\t撤销南汇区\n"
    with pytest.raises(InputError, match="former_names.tsv:2"):
        _parse_former_names(rows, "former_names.tsv", default_division_table().divisions)


def test_parse_batch_matches_parse_and_keeps_nulls(parser: AddressParser) -> None:
    values = [
        "山东省济南市历下区泉城路1号",
        None,
        "上海浦东新区世纪大道1号",
        "山东省济南市历下区泉城路1号",
        "",
    ]
    out = parser.parse_batch(pa.array(values, pa.string()))
    assert out.type == ADDRESS_STRUCT
    assert len(out) == len(values)
    rows = out.to_pylist()
    assert rows[1] is None
    assert rows[0] == rows[3]
    assert rows[0]["district"] == "历下区" and rows[0]["detail"] == "泉城路1号"
    assert rows[2]["province"] == "上海市" and rows[2]["city"] == "上海市"
    assert rows[4]["province"] is None and rows[4]["confidence"] == 0.0


def test_parse_batch_accepts_chunked_and_large_string(parser: AddressParser) -> None:
    chunked = pa.chunked_array([["北京市海淀区"], ["广州天河区"]], pa.large_string())
    rows = parser.parse_batch(chunked).to_pylist()
    assert [r["district"] for r in rows] == ["海淀区", "天河区"]
    assert parser.parse_batch(["北京市海淀区", None]).to_pylist()[1] is None


def test_cache_is_bounded() -> None:
    small = AddressParser(cache_size=10)
    for i in range(50):
        small.parse(f"山东省济南市历下区泉城路{i}号")
    assert len(small._cache) <= 10
    assert small.parse("山东省济南市历下区泉城路1号").district == "历下区"


def test_custom_division_table(tmp_path) -> None:
    path = tmp_path / "div.tsv"
    path.write_text(
        "id\tlevel\tparent\tadcode\tname\taliases\n"
        "0\t1\t\t990000\t测试省\t测试\n1\t2\t0\t990100\t样例市\t样例\n2\t3\t1\t990101\t示范区\t示范\n",
        "utf-8",
    )
    got = AddressParser(DivisionTable.load(path)).parse("测试样例示范区幸福路")
    assert (got.province, got.city, got.district, got.detail, got.adcode) == (
        "测试省",
        "样例市",
        "示范区",
        "幸福路",
        "990101",
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    got = parse_address(text)
    assert isinstance(got.detail, str)
    assert 0.0 <= got.confidence <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_walk_itself_never_raises(text: str) -> None:
    # parse() has a last-resort guard; the walk must not need it.
    from ecfusion.standardize.normalize.address import _normalize

    parser = _shared_parser()
    parser._walk(_normalize(text))


def _shared_parser() -> AddressParser:
    global _PARSER
    if _PARSER is None:
        _PARSER = AddressParser()
    return _PARSER


_PARSER: AddressParser | None = None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="山东省济南市历下区北京朝阳上海浦东新广西壮族自治 ,-/路号１２", max_size=30))
def test_never_raises_on_division_like_text(text: str) -> None:
    from ecfusion.standardize.normalize.address import _normalize

    _shared_parser()._walk(_normalize(text))
    got = parse_address(text)
    if got.district is not None:
        assert got.city is not None and got.province is not None
