"""A warehouse an earlier ecfusion built, whose keyed rows this one keys otherwise
(``ecfusion.model.revisions``): the run says so and changes nothing, rather than storing the next
version of each row beside the old one; ``ecfusion run --rebuild`` once puts every row under the new
key, and runs go on."""

from __future__ import annotations

from rawzone import RawZone, cli, one_line, rows, taobao_trade

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.resolve import store as fused_store
from ecfusion.simulate.traces import tracking_push
from ecfusion.warehouse.snapshot import SnapshotStore

JOURNEY = [  # (Beijing time, kuaidi100 status, context, area), oldest first
    ("2026-11-02 10:00:00", "揽收", "【杭州市】中通快递 杭州西湖网点 已揽收", "浙江省,杭州市"),
    ("2026-11-02 22:10:00", "在途", "快件已发往 上海转运中心", "浙江省,杭州市"),
    ("2026-11-03 08:30:00", "派件", "【上海市】快件正在派送中", "上海市"),
]
EVENTS = "SELECT event FROM unified.tracking_event ORDER BY event_at"


def push(raw: RawZone, events: list[tuple[str, str, str, str]], dt: str) -> None:
    """A kuaidi100 push of parcel ZT1 landed on ``dt``: its whole history so far."""
    raw.add("kuaidi100", "traces", [tracking_push("ZT1", "zhongtong", events)], source="logistics", dt=dt)


def as_an_earlier_ecfusion_left_it(ws: Workspace) -> None:
    """The live snapshot as the ecfusion before revision 1 left it: no revision in the ledger, and
    tracking events keyed with the carrier in front."""
    with fused_store.update(ws, "earlier") as con:
        con.execute("ALTER TABLE meta.processed_file DROP COLUMN IF EXISTS model_revision")
        con.execute("UPDATE unified.tracking_event SET event_key = carrier_code || ':' || event_key")


def test_a_warehouse_whose_events_an_earlier_ecfusion_keyed_is_rebuilt_not_doubled(
    workspace: Workspace, raw: RawZone
) -> None:
    ws = workspace
    push(raw, JOURNEY[:2], "2026-11-20")
    warehouse.run(ws)
    as_an_earlier_ecfusion_left_it(ws)
    live = SnapshotStore.of(ws).current()
    # the next push repeats the two events and adds a third
    push(raw, JOURNEY, "2026-11-21")
    refused = cli("run", "-w", str(ws.root))
    said = one_line(refused.stderr)
    assert refused.returncode == 2, said
    assert said.startswith("error[ECF113]: this warehouse was built by an earlier ecfusion"), said
    assert "1 raw record of traces standardized before model revision 1" in said
    assert "unified.tracking_event.event_key leaves out the carrier" in said
    assert "hint: run `ecfusion run --rebuild` once" in said
    assert "Traceback" not in refused.stderr
    assert SnapshotStore.of(ws).current() == live  # nothing published
    status = cli("warehouse", "status", "-w", str(ws.root))  # says it before the next run is refused
    assert "model the next run is refused: error[ECF113]: this warehouse was built by an earlier" in one_line(
        status.stdout
    )
    assert rows(ws, EVENTS) == [("collected",), ("in_transit",)]

    rebuilt = cli("run", "--rebuild", "-w", str(ws.root))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rows(ws, EVENTS) == [("collected",), ("in_transit",), ("out_for_delivery",)]  # each once
    # the revision is recorded now: the next push is merged as usual, each event still once
    push(raw, JOURNEY, "2026-11-22")
    nxt = cli("run", "-w", str(ws.root))
    assert nxt.returncode == 0, nxt.stderr
    assert rows(ws, "SELECT count(*) FROM unified.tracking_event") == [(3,)]


def an_earlier_warehouse_of_one_order(ws: Workspace, raw: RawZone, *, padded: bool) -> None:
    """Taobao order 1, paid, in a warehouse as the ecfusion before revision 1 left it (with its id
    stored padded, as that ecfusion kept an id sent so: ``padded``), and its finished version landed."""
    raw.add("taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")])
    warehouse.run(ws)
    with fused_store.update(ws, "earlier") as con:
        con.execute("ALTER TABLE meta.processed_file DROP COLUMN IF EXISTS model_revision")
        if padded:
            con.execute("UPDATE unified.orders SET platform_order_id = ' ' || platform_order_id")
    raw.add("taobao", "orders", [taobao_trade(1, "TRADE_FINISHED", "2026-11-03 10:05:00")], dt="2026-11-21")


def test_an_order_id_an_earlier_ecfusion_kept_padded_stops_the_run(
    workspace: Workspace, raw: RawZone
) -> None:
    """Ids are trimmed now: the padded ' 1' an earlier ecfusion stored would stand beside order 1."""
    ws = workspace
    an_earlier_warehouse_of_one_order(ws, raw, padded=True)
    refused = cli("run", "-w", str(ws.root))
    said = one_line(refused.stderr)
    assert refused.returncode == 2, said
    assert (
        "1 raw record of orders or refunds standardized before model revision 1, since which an id is "
        "trimmed of blanks at its ends" in said
    )
    assert rows(ws, "SELECT status FROM unified.orders") == [("paid",)]


def test_a_warehouse_an_earlier_ecfusion_built_of_what_no_revision_concerns_runs_on(
    workspace: Workspace, raw: RawZone
) -> None:
    ws = workspace
    an_earlier_warehouse_of_one_order(ws, raw, padded=False)
    s = warehouse.run(ws)
    assert s.balanced and s.files_processed == 1
    assert rows(ws, "SELECT status FROM unified.orders") == [("completed",)]
