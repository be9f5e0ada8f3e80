"""The raw zone as a collector sees it: envelope, idempotency, quarantine, checkpoints, atomic parts."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ecfusion.lake import RawLake
from ecfusion.lake.envelope import RAW_SCHEMA
from ecfusion.lake.partfile import part_files


def _order(i: int, status: str = "WAIT_SELLER_SEND_GOODS") -> dict[str, object]:
    return {
        "tid": 1000 + i,
        "status": status,
        "receiver_mobile": f"1380000{i:04d}",
        "receiver_name": "王伟",
        "payment": "12.50",
    }


def test_records_land_with_envelope_v1_and_tokens_not_plaintext(lake: RawLake) -> None:
    with lake.writer("taobao", "orders", "taobao", shop_id="tmall_flagship") as w:
        for i in range(10):
            w.add(_order(i), record_key=str(1000 + i))
    assert (w.result.offered, w.result.landed) == (10, 10)
    table = lake.read_raw("taobao", "orders")
    assert table.schema.equals(RAW_SCHEMA)
    row = table.to_pylist()[0]
    assert row["raw_record_id"] == row["content_hash"] and len(row["content_hash"]) == 32
    assert row["schema_version"] == 1 and row["shop_id"] == "tmall_flagship"
    assert "13800000000" not in row["payload"] and "王伟" not in row["payload"]
    assert '"tid":1000' in row["payload"]
    part = Path(w.result.files[0])
    assert part.parent.name.startswith("dt=") and part.parent.parent.name == "entity=orders"
    assert pq.ParquetFile(part).metadata.row_group(0).column(0).compression == "ZSTD"


def test_landing_the_same_records_again_is_a_counted_no_op(lake: RawLake) -> None:
    with lake.writer("taobao", "orders", "taobao") as w:
        for i in range(5):
            w.add(_order(i))
        w.add(_order(0))  # repeated within the batch
    assert (w.result.landed, w.result.duplicates) == (5, 1)
    with lake.writer("taobao", "orders", "taobao") as w2:
        for i in range(5):
            w2.add(_order(i))
        w2.add(_order(0, status="TRADE_FINISHED"))  # a new version of an order is a new record
    assert (w2.result.offered, w2.result.landed, w2.result.duplicates) == (6, 1, 5)
    assert lake.read_raw("taobao", "orders").num_rows == 6


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"tid": 1,, "x": 2}', "malformed_json"),
        ("[1, 2]", "not_an_object"),
        (b"\xff\xfe{", "malformed_json"),
    ],
)
def test_text_that_is_not_a_record_is_quarantined_byte_for_byte(
    lake: RawLake, payload: bytes | str, reason: str
) -> None:
    with lake.writer("app", "events", "app") as w:
        w.add(payload)
        w.add({"event_id": "e1"})
    assert w.result.reasons == {reason: 1} and w.result.reconciled
    [item] = lake.read_quarantine("app", "events")
    assert item.raw_bytes == (payload.encode() if isinstance(payload, str) else payload)
    assert item.reason.startswith(reason)


def test_quarantined_bytes_rest_sealed_on_disk(lake: RawLake, tmp_path: Path) -> None:
    with lake.writer("pos", "sales", "pos") as w:
        w.quarantine(b'{"phone": "13912345678"', "malformed_json: eof", "pos.csv:7")
    for part in (tmp_path / "lake").rglob("*.parquet"):
        assert b"13912345678" not in part.read_bytes()
    assert lake.read_quarantine("pos", "sales")[0].location == "pos.csv:7"


def test_checkpoint_saves_state_only_after_records_are_in_visible_parts(lake: RawLake) -> None:
    with lake.writer("jd", "orders", "jd") as w:
        for i in range(30):
            w.add(_order(i))
        assert lake.read_raw("jd", "orders").num_rows == 0 and lake.checkpoints.get("jd", "orders") is None
        w.checkpoint("orders", {"cursor": "2026-01-01 00:00:00"})
        assert lake.read_raw("jd", "orders").num_rows == 30
        assert lake.checkpoints.get("jd", "orders") == {"cursor": "2026-01-01 00:00:00"}
    batch = lake.batches.get(w.batch_id)
    assert batch is not None and batch.status == "succeeded" and batch.landed == 30


def test_parts_roll_at_target_file_rows_and_no_temporaries_remain(tmp_path: Path, lake_factory) -> None:  # type: ignore[no-untyped-def]
    lake = lake_factory(tmp_path, target_file_rows=1_000)
    with lake.writer("app", "events", "app") as w:
        for i in range(3_500):
            w.add({"event_id": i})
    parts = part_files(lake.raw_dir("app", "events"))
    assert len(parts) == 4 and sorted(pq.read_metadata(p).num_rows for p in parts) == [500, 1000, 1000, 1000]
    assert not list(lake.raw_dir("app", "events").rglob("*.tmp"))


def test_a_failed_batch_keeps_what_was_offered_and_is_marked_failed(lake: RawLake) -> None:
    with pytest.raises(RuntimeError), lake.writer("crm", "members", "crm") as w:
        w.add({"member_id": 1})
        raise RuntimeError("source went away")
    assert lake.read_raw("crm", "members").num_rows == 1
    assert lake.batches.get(w.batch_id).status == "failed"  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["", "a/b", "..", ".hidden", "_tmp"])
def test_names_that_cannot_be_lake_folders_are_refused(lake: RawLake, bad: str) -> None:
    from ecfusion.errors import EcfusionError

    with pytest.raises(EcfusionError), lake.writer(bad, "orders", "x"):
        pass


def test_records_a_killed_batch_landed_after_its_checkpoint_are_counted_once(
    tmp_path: Path, lake_factory  # type: ignore[no-untyped-def]
) -> None:
    from ecfusion.lake.raw import RawWriter

    lake = lake_factory(tmp_path, target_file_rows=1_000)
    events = [{"event_id": i} for i in range(3_000)]
    # a batch that checkpoints after 1,200 events, lands two more full parts, and dies (kill -9:
    # no close, no final counts; only its lock goes with the process)
    dead = RawWriter(lake, source="app", entity="events", platform="app", shop_id=None, batch_id="b-dead")
    dead._open()
    for e in events[:1_200]:
        dead.add(e)
    dead.checkpoint("events", {"offset": 1_200})
    for e in events[1_200:2_500]:
        dead.add(e)  # 1,000 of these roll into a committed part; 300 die in memory
    dead._unlock()
    assert lake.read_raw("app", "events").num_rows == 2_200
    # the collector resumes from its checkpoint and offers events 1,200 onwards again
    with lake.writer("app", "events", "app") as w:
        for e in events[1_200:]:
            w.add(e)
    assert lake.read_raw("app", "events").num_rows == 3_000
    killed, resumed = lake.batches.get("b-dead"), lake.batches.get(w.batch_id)
    assert killed is not None and resumed is not None
    counts = [(b.status, b.offered, b.landed, b.duplicates) for b in (killed, resumed)]
    assert counts == [("interrupted", 2_200, 2_200, 0), ("succeeded", 800, 800, 0)]
    # a true duplicate offered later is still a duplicate
    with lake.writer("app", "events", "app") as again:
        again.add(events[1_500])
    assert (again.result.offered, again.result.duplicates) == (1, 1)
