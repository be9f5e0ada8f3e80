"""Receiver regions matched to the administrative-division table (standard 5.2 Table 1 L3 c, completion).

Platforms spell regions differently ("北京" / "北京市", a county under a city, a missing city
for a municipality). This row-wise step runs on Arrow record batches of the DISTINCT
(province, city, district) triples of a run — thousands, not millions — and returns the
division table's standard names via the normalizer's ``AddressParser.parse_batch``. The
pipeline joins the result back in SQL, so it works unchanged on DuckDB and on Spark
(``mapInArrow``).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ecfusion.standardize.normalize import AddressParser

REGION_SCHEMA = pa.schema([
    ("province", pa.string()), ("city", pa.string()), ("district", pa.string()),
    ("std_province", pa.string()), ("std_city", pa.string()), ("std_district", pa.string()),
])


class RegionStandardizer:
    """Callable batch → batch; builds its parser lazily so it can be shipped to Spark workers."""

    def __init__(self) -> None:
        self._parser: AddressParser | None = None

    def __getstate__(self) -> dict[str, object]:
        return {"_parser": None}

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self._parser is None:
            self._parser = AddressParser()
        parts = [pc.fill_null(batch.column(name), "") for name in ("province", "city", "district")]
        text = pc.binary_join_element_wise(*parts, "")
        parsed = self._parser.parse_batch(text)
        return pa.RecordBatch.from_arrays(
            [batch.column("province"), batch.column("city"), batch.column("district"),
             parsed.field("province"), parsed.field("city"), parsed.field("district")],
            schema=REGION_SCHEMA,
        )
