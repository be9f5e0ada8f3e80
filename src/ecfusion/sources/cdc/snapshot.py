"""The resumable initial snapshot (采集层 5.1.4; 断点续传): chunked by primary key.

Before the first chunk the log position is taken (the point streaming continues from), then each
table is read in primary-key order, ``chunk_size`` rows at a time, with keyset pagination
(``WHERE (pk) > (last) ORDER BY pk LIMIT n``). Every chunk is one batch whose state names the
table and the last key read; a crash resumes at the next chunk of the table it was in — never at
the first table (the Debezium failure mode this avoids). Rows changed while the snapshot runs are
also in the log after the start position, so streaming brings them up to date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ecfusion.sources.cdc.envelope import change, json_safe, record_key
from ecfusion.sources.contract import Batch, State

Quote = Callable[[str], str]


@dataclass(frozen=True)
class SnapshotTable:
    schema: str
    name: str
    key_columns: list[str]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def chunk_query(table: SnapshotTable, quote: Quote, *, after_key: bool, placeholder: str, limit: int) -> str:
    keys = ", ".join(quote(c) for c in table.key_columns)
    where = ""
    if after_key:
        marks = ", ".join(placeholder for _ in table.key_columns)
        where = f" WHERE ({keys}) > ({marks})"
    return (
        f"SELECT * FROM {quote(table.schema)}.{quote(table.name)}{where} ORDER BY {keys} LIMIT {int(limit)}"
    )


FetchChunk = Callable[[SnapshotTable, Sequence[Any] | None, int], list[dict[str, Any]]]


def snapshot_batches(
    tables: list[SnapshotTable],
    fetch: FetchChunk,
    state: State,
    *,
    chunk_size: int,
    db: str,
    snapshot_ts: str,
) -> Iterator[Batch]:
    """Chunks of every table from where ``state`` (phase ``snapshot``) stopped; the last says done."""
    done = set(state.get("tables_done", []))
    for table in tables:
        if table.qualified in done:
            continue
        last = state.get("last_key") if state.get("table") == table.qualified else None
        while True:
            rows = fetch(table, last, chunk_size)
            if not rows:
                break
            last = [json_safe(rows[-1][c]) for c in table.key_columns]
            state = {**state, "table": table.qualified, "last_key": last}
            records = [
                change(
                    "r",
                    db=db,
                    table=table.qualified,
                    before=None,
                    after=row,
                    pos=state["start"]["pos"],
                    ts=snapshot_ts,
                    txid=None,
                )
                for row in rows
            ]
            keys = [record_key(table.qualified, table.key_columns, row) for row in rows]
            yield Batch(records=records, state=state, record_keys=keys)
            if len(rows) < chunk_size:
                break
        done.add(table.qualified)
        state = {**state, "tables_done": sorted(done), "table": None, "last_key": None}
        yield Batch(records=[], state=state)
    yield Batch(records=[], state={"phase": "stream", "pos": state["start"]})
