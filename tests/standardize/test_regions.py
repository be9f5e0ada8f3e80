"""Receiver regions are matched to the division table's standard names (Table 1 L3 c)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ecfusion.standardize.regions import RegionStandardizer

CASES = [
    (("北京", "北京市", "朝阳区"), ("北京市", "北京市", "朝阳区")),  # JD writes the municipality short
    (("广东", "深圳", "南山区"), ("广东省", "深圳市", "南山区")),
    (("浙江省", "杭州市", "西湖区"), ("浙江省", "杭州市", "西湖区")),
    ((None, None, None), (None, None, None)),
]


@pytest.mark.parametrize(("given", "expected"), CASES)
def test_region_names_are_standardized(
    given: tuple[str | None, ...], expected: tuple[str | None, ...]
) -> None:
    batch = pa.RecordBatch.from_pydict(
        {"province": [given[0]], "city": [given[1]], "district": [given[2]]},
        schema=pa.schema([("province", pa.string()), ("city", pa.string()), ("district", pa.string())]),
    )
    row = RegionStandardizer()(batch).to_pylist()[0]
    assert (row["std_province"], row["std_city"], row["std_district"]) == expected
