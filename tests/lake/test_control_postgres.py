"""Landing with the control plane on PostgreSQL behaves exactly as on the embedded SQLite default."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from ecfusion.lake import RawLake
from ecfusion.lake.files import file_stream, ingest_files


def _land_twice(lake: RawLake, data: Path) -> list[tuple[int, int, int, int, int]]:
    out = []
    for _ in range(2):
        r = ingest_files(lake, "douyin", [data], entity="orders").total
        out.append((r.offered, r.landed, r.duplicates, r.quarantined, len(r.files)))
    return out


@pytest.mark.services
def test_postgres_control_plane_lands_and_resumes_like_sqlite(
    tmp_path: Path, pg_url: str, lake_factory: Callable[..., RawLake]
) -> None:
    data = tmp_path / "orders.jsonl"
    data.write_text(
        "".join(json.dumps({"order_id": str(i), "post_tel": f"1370000{i:04d}"}) + "\n" for i in range(2_500))
        + "{broken\n",
        encoding="utf-8",
    )
    on_pg = lake_factory(tmp_path / "pg", url=pg_url)
    on_sqlite = lake_factory(tmp_path / "sqlite")
    assert on_pg.checkpoints.engine.dialect.name == "postgresql"
    assert (
        _land_twice(on_pg, data) == _land_twice(on_sqlite, data) == [(2_501, 2_500, 0, 1, 3), (0, 0, 0, 0, 0)]
    )
    state = on_pg.checkpoints.get("douyin", file_stream(data, "orders"))
    assert state is not None and state["done"] and state["line"] == 2_501
    on_sqlite_state = on_sqlite.checkpoints.get("douyin", file_stream(data, "orders"))
    assert state == {**on_sqlite_state, "path": state["path"]}
    with on_pg.checkpoints.engine.connect() as c:
        assert (
            c.execute(text("select count(*) from ecf_landing_batch where status='succeeded'")).scalar() == 2
        )
