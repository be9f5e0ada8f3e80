"""The normalizers as DuckDB scalar functions, vectorised over Arrow.

Serves T/JNBDA 0003-2025 5.2 Table 1 L2-L3 inside set-based stages (ARCHITECTURE principle 1):
a standardization stage written in SQL can call ``ecf_parse_address(receiver_address)`` and
``ecf_normalize_phone(mobile)`` without leaving DuckDB; each call receives a whole Arrow
vector, so an address is parsed once per distinct value per vector.

    con = duckdb.connect()
    register_duckdb_functions(con)
    con.sql("SELECT ecf_parse_address(addr).city, ecf_normalize_phone(tel) FROM t")
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa
from duckdb.func import FunctionNullHandling, PythonUDFType

from ecfusion.standardize.normalize.address import AddressParser
from ecfusion.standardize.normalize.personal import normalize_email, normalize_name
from ecfusion.standardize.normalize.phone import normalize_phone

_ADDRESS_FIELDS = ("province", "city", "district", "detail", "adcode")
ADDRESS_SQL_TYPE = "STRUCT(" + ", ".join(f"{f} VARCHAR" for f in _ADDRESS_FIELDS) + ", confidence DOUBLE)"


def _vectorised(fn: Callable[[str | None], str | None]) -> Callable[[pa.Array], pa.Array]:
    def apply(values: pa.Array) -> pa.Array:
        return pa.array([fn(v) for v in values.to_pylist()], pa.string())

    return apply


def register_duckdb_functions(
    con: duckdb.DuckDBPyConnection, parser: AddressParser | None = None
) -> list[str]:
    """Register ``ecf_parse_address``, ``ecf_normalize_phone``, ``ecf_normalize_name`` and
    ``ecf_normalize_email`` on a connection; returns the names registered. NULL in → NULL out."""
    address_parser = parser or AddressParser()
    functions: list[tuple[str, Callable[[pa.Array], pa.Array], str]] = [
        ("ecf_parse_address", address_parser.parse_batch, ADDRESS_SQL_TYPE),
        ("ecf_normalize_phone", _vectorised(normalize_phone), "VARCHAR"),
        ("ecf_normalize_name", _vectorised(normalize_name), "VARCHAR"),
        ("ecf_normalize_email", _vectorised(normalize_email), "VARCHAR"),
    ]
    for name, fn, return_type in functions:
        con.create_function(
            name,
            fn,
            [duckdb.sqltype("VARCHAR")],
            duckdb.sqltype(return_type),
            type=PythonUDFType.ARROW,
            null_handling=FunctionNullHandling.SPECIAL,
        )
    return [name for name, _fn, _type in functions]
