"""The normalizers called from DuckDB SQL (set-based stages)."""

from __future__ import annotations

import duckdb

from ecfusion.standardize.normalize.sql_functions import register_duckdb_functions


def test_sql_functions_match_the_library() -> None:
    con = duckdb.connect()
    try:
        names = register_duckdb_functions(con)
        assert "ecf_parse_address" in names
        rows = con.sql(
            "SELECT ecf_parse_address(a).city, ecf_parse_address(a).district,"
            " ecf_parse_address(a).confidence,"
            " ecf_normalize_phone(p), ecf_normalize_name(n), ecf_normalize_email(e)"
            " FROM (VALUES ('山东济南历下区泉城路1号', '+86 138-0013-8000', '張 三', ' A@B.COM '),"
            "              (NULL, NULL, NULL, NULL),"
            "              ('重庆路100号', '010-12345678', '', 'bad')) t(a, p, n, e)"
        ).fetchall()
    finally:
        con.close()
    assert rows[0] == ("济南市", "历下区", 0.9, "13800138000", "张三", "a@b.com")
    assert rows[1] == (None, None, None, None, None, None)
    assert rows[2] == (None, None, 0.0, None, None, None)
