"""PostgreSQL change data capture by logical replication (采集层 5.1.4: CDC, not full scans).

Needs ``wal_level=logical`` and a role with ``REPLICATION`` (or superuser) that owns the tables or
may create a publication for them. A logical replication slot (``pgoutput``) keeps the server's
WAL until we confirm it; changes are read with ``pg_logical_slot_peek_binary_changes`` (psycopg 3
has no streaming-replication protocol) and decoded by ``pgoutput``. The slot is advanced only to
a position whose changes are durable in the raw zone: by ``committed`` right after each landed
batch (``ecfusion cdc run``), or, under the generic sync driver, at the start of the next read
to the saved state. Whole transactions per batch; the state is a commit LSN.
For full ``before`` images on update/delete set ``REPLICA IDENTITY FULL`` on the table; otherwise
``before`` holds the key columns only (PostgreSQL sends no more).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.pq import Format
from psycopg.rows import dict_row
from pydantic import Field, SecretStr

from ecfusion.errors import ConfigError, SourceError
from ecfusion.sources.cdc.envelope import change, record_key
from ecfusion.sources.cdc.pgoutput import Begin, Commit, PgOutputDecoder, RowChange, lsn_int, lsn_text
from ecfusion.sources.cdc.snapshot import SnapshotTable, chunk_query, snapshot_batches
from ecfusion.sources.cdc.tls import connect_hint
from ecfusion.sources.contract import (
    Batch,
    CheckResult,
    ReadStats,
    SourceConfig,
    State,
    StreamInfo,
    register,
)

_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class PostgresCdcConfig(SourceConfig):
    """``[sources.NAME] kind = "postgres_cdc"``: tables of one PostgreSQL database."""

    kind: Literal["postgres_cdc"] = "postgres_cdc"
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: SecretStr | None = None
    database: str
    tables: list[str] = Field(..., min_length=1, description="schema.table (schema defaults to public)")
    slot: str = Field("ecfusion", description="logical replication slot name (unique per reader)")
    publication: str = Field("ecfusion", description="publication; created for `tables` if missing")
    entity: str = "changes"
    snapshot: bool = True
    chunk_size: int = Field(5_000, ge=1)
    max_batch_rows: int = Field(5_000, ge=1)
    poll_seconds: float = Field(0.2, gt=0)
    idle_stop_seconds: float | None = Field(None, gt=0)
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = Field(
        "prefer", description="libpq sslmode; verify-ca/verify-full check the server against sslrootcert"
    )
    sslrootcert: str | None = Field(None, description="PEM file of the CA that signed the server certificate")
    sslcert: str | None = Field(None, description="PEM client certificate (pg_hba `clientcert`/`cert`)")
    sslkey: str | None = Field(None, description="PEM private key of sslcert (mode 0600)")


def _split(table: str) -> tuple[str, str]:
    schema, _, name = table.rpartition(".")
    return schema or "public", name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@register("postgres_cdc", PostgresCdcConfig)
class PostgresCdcConnector:
    """Snapshot, then the replication slot, as change envelopes."""

    def __init__(self, config: PostgresCdcConfig, **_: Any) -> None:
        self.config = config
        self.stats = ReadStats()
        self._stop = threading.Event()
        # False (generic ``sources sync``): stop once caught up. ``run_cdc`` follows the log.
        self.follow = False
        self._tables: list[SnapshotTable] | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._loaders: dict[int, Any] = {}

    # -- connection -------------------------------------------------------------------------------

    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            cfg = self.config
            params: dict[str, Any] = {
                "host": cfg.host,
                "port": cfg.port,
                "user": cfg.user,
                "dbname": cfg.database,
                "sslmode": cfg.sslmode,
                "connect_timeout": 10,
            }
            params.update(
                {
                    k: v
                    for k, v in (
                        ("sslrootcert", cfg.sslrootcert),
                        ("sslcert", cfg.sslcert),
                        ("sslkey", cfg.sslkey),
                    )
                    if v
                }
            )
            if cfg.password is not None:
                params["password"] = cfg.password.get_secret_value()
            try:
                self._conn = psycopg.connect(autocommit=True, row_factory=dict_row, **params)
            except psycopg.OperationalError as e:
                raise SourceError(
                    f"cannot connect to PostgreSQL {cfg.host}:{cfg.port}/{cfg.database} for source "
                    f"{cfg.name}: {str(e).strip()}",
                    hint=connect_hint(
                        str(e), "check host, port, user, password, sslmode", ca_key="sslrootcert"
                    ),
                ) from e
        return self._conn

    def stop(self) -> None:
        self._stop.set()

    def _idle_for(self, since: float) -> bool:
        idle = self.config.idle_stop_seconds
        return idle is not None and time.monotonic() - since >= idle

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _load(self, type_oid: int, raw: bytes) -> Any:
        loader = self._loaders.get(type_oid)
        if loader is None:
            cls = self.conn().adapters.get_loader(type_oid, Format.TEXT)
            loader = cls(type_oid, self.conn()) if cls is not None else None
            self._loaders[type_oid] = loader
        return raw.decode() if loader is None else loader.load(raw)

    # -- contract ---------------------------------------------------------------------------------

    def check(self) -> CheckResult:
        try:
            row = self.conn().execute("SELECT current_setting('wal_level') AS wal_level").fetchone() or {}
        except SourceError as e:
            return CheckResult.failed(e)
        if row.get("wal_level") != "logical":
            return CheckResult.failed(
                SourceError(
                    f"wal_level is {row.get('wal_level')} on {self.config.host}:{self.config.port}",
                    hint="set wal_level = logical in postgresql.conf and restart",
                )
            )
        return CheckResult(True, f"logical replication available on {self.config.host}:{self.config.port}")

    def discover(self) -> list[StreamInfo]:
        return [
            StreamInfo(
                self.config.entity,
                key_field="source.table+key",
                cursor_field="source.pos",
                description="row changes of " + ", ".join(t.qualified for t in self.tables()),
            )
        ]

    def tables(self) -> list[SnapshotTable]:
        if self._tables is None:
            self._tables = [self._table(t) for t in self.config.tables]
        return self._tables

    def _table(self, qualified: str) -> SnapshotTable:
        schema, name = _split(qualified)
        rows = (
            self.conn()
            .execute(
                "SELECT a.attname AS col FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indisprimary AND n.nspname = %s AND c.relname = %s "
                "ORDER BY array_position(i.indkey, a.attnum)",
                (schema, name),
            )
            .fetchall()
        )
        if not rows:
            raise ConfigError(
                f"source {self.config.name}: table {schema}.{name} does not exist or has no primary key",
                hint="CDC snapshots page by primary key: add one, or drop the table from `tables`",
            )
        return SnapshotTable(schema, name, [r["col"] for r in rows])

    # -- reading ----------------------------------------------------------------------------------

    def read(self, stream: str, state: State | None) -> Iterator[Batch]:
        state = dict(state or {})
        if not state:
            state = self._start_state()
            yield Batch(records=[], state=state)
        if state.get("phase") == "snapshot":
            for batch in snapshot_batches(
                self.tables(),
                self._fetch_chunk,
                state,
                chunk_size=self.config.chunk_size,
                db=self.config.database,
                snapshot_ts=state["start"]["ts"],
            ):
                self.stats.pages += 1
                state = batch.state
                yield batch
        else:
            self.committed(Batch(records=[], state=state))  # the saved state is durable by definition
        yield from self._stream(state["pos"])

    def _start_state(self) -> State:
        self._ensure_publication()
        lsn = self._ensure_slot()
        pos = {"lsn": lsn, "pos": lsn, "ts": datetime.now(UTC).isoformat()}
        if self.config.snapshot:
            return {"phase": "snapshot", "start": pos, "tables_done": [], "table": None, "last_key": None}
        return {"phase": "stream", "pos": pos}

    def _ensure_publication(self) -> None:
        cfg = self.config
        exists = (
            self.conn()
            .execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (cfg.publication,))
            .fetchone()
        )
        if exists:
            return
        tables = sql.SQL(", ").join(sql.Identifier(t.schema, t.name) for t in self.tables())
        self.conn().execute(
            sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(sql.Identifier(cfg.publication), tables)
        )

    def _ensure_slot(self) -> str:
        slot = self.config.slot
        row = (
            self.conn()
            .execute(
                "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = %s",
                (slot,),
            )
            .fetchone()
        )
        if row is not None:
            return str(row["lsn"])
        row = (
            self.conn()
            .execute(
                "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,)
            )
            .fetchone()
        )
        return str(row["lsn"]) if row else "0/0"

    def _fetch_chunk(
        self, table: SnapshotTable, last: Sequence[Any] | None, limit: int
    ) -> list[dict[str, Any]]:
        query = chunk_query(table, _quote, after_key=last is not None, placeholder="%s", limit=limit)
        self.stats.requests += 1
        return self.conn().execute(query.encode(), tuple(last) if last is not None else None).fetchall()

    def committed(self, batch: Batch) -> None:
        """Let the server drop WAL up to ``batch``'s commit LSN (call once the batch is durable)."""
        pos = batch.state.get("pos") if batch.state.get("phase") == "stream" else None
        if not pos:
            return
        row = (
            self.conn()
            .execute(
                "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = %s",
                (self.config.slot,),
            )
            .fetchone()
        )
        if row is not None and lsn_int(str(row["lsn"])) < lsn_int(pos["lsn"]):
            self.conn().execute(
                "SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (self.config.slot, pos["lsn"])
            )

    def _stream(self, pos: dict[str, Any]) -> Iterator[Batch]:
        last = lsn_int(pos["lsn"])
        idle_since = time.monotonic()
        while not self._stop.is_set():
            got_any = False
            for batch in self._one_pass(last):
                got_any = True
                last = lsn_int(batch.state["pos"]["lsn"])
                yield batch
            if got_any:
                idle_since = time.monotonic()
            elif not self.follow or self._idle_for(idle_since):
                return
            self._stop.wait(self.config.poll_seconds)

    def _one_pass(self, after_lsn: int) -> Iterator[Batch]:
        """Transactions committed after ``after_lsn`` now in the slot, gathered into batches."""
        cfg = self.config
        rows = (
            self.conn()
            .execute(
                "SELECT data FROM pg_logical_slot_peek_binary_changes(%s, NULL, NULL, 'proto_version', '1', "
                "'publication_names', %s)",
                (cfg.slot, cfg.publication),
            )
            .fetchall()
        )
        self.stats.requests += 1
        decoder = PgOutputDecoder(self._load)
        records: list[dict[str, Any]] = []
        keys: list[str | None] = []
        txn: list[RowChange] = []
        begin: Begin | None = None
        newest: Commit | None = None
        for row in rows:
            msg = decoder.decode(row["data"])
            if isinstance(msg, Begin):
                begin, txn = msg, []
            elif isinstance(msg, RowChange):
                txn.append(msg)
            elif isinstance(msg, Commit) and begin is not None:
                if msg.end_lsn > after_lsn and txn:
                    for i, rc in enumerate(txn):
                        env, key = self._envelope(rc, begin, msg, i)
                        records.append(env)
                        keys.append(key)
                if msg.end_lsn > after_lsn and len(records) >= cfg.max_batch_rows:
                    yield self._batch(records, keys, msg)
                    records, keys = [], []
                newest = msg
                begin, txn = None, []
        if newest is not None and newest.end_lsn > after_lsn:
            yield self._batch(records, keys, newest)

    def _batch(self, records: list[dict[str, Any]], keys: list[str | None], commit: Commit) -> Batch:
        lsn = lsn_text(commit.end_lsn)
        ts = (_PG_EPOCH + timedelta(microseconds=commit.commit_ts_us)).isoformat()
        return Batch(
            records=records, record_keys=keys, state={"phase": "stream", "pos": {"lsn": lsn, "ts": ts}}
        )

    def _envelope(
        self, rc: RowChange, begin: Begin, commit: Commit, index: int
    ) -> tuple[dict[str, Any], str | None]:
        table = f"{rc.relation.schema}.{rc.relation.name}"
        ts = (_PG_EPOCH + timedelta(microseconds=commit.commit_ts_us)).isoformat()
        env = change(
            rc.op,
            db=self.config.database,
            table=table,
            before=rc.before,  # type: ignore[arg-type]
            after=rc.after,
            pos=f"{lsn_text(commit.lsn)}#{index}",
            ts=ts,
            txid=str(begin.xid),
        )
        if rc.unchanged_toast:
            env["unchanged_toast"] = rc.unchanged_toast
        keycols = rc.relation.key_columns or next(
            (
                t.key_columns
                for t in self.tables()
                if (t.schema, t.name) == (rc.relation.schema, rc.relation.name)
            ),
            [],
        )
        return env, record_key(table, keycols, rc.after or rc.before)
