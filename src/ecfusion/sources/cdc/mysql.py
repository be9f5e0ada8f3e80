"""MariaDB/MySQL change data capture from the row-based binlog (采集层 5.1.4: CDC, not full scans).

Needs ``binlog_format=ROW`` (and, for column names without a catalogue lookup,
``binlog_row_metadata=FULL``) and a user with ``REPLICATION SLAVE, REPLICATION CLIENT, SELECT``.
The state is ``{"phase": "snapshot"|"stream", ...}``; in the stream phase ``pos`` is
``{"file", "offset", "pos"}`` of the last committed transaction landed. Row events are gathered
until the transaction's XID (commit) event, so a batch always holds whole transactions and its
state is a commit boundary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import pymysql
import pymysql.cursors
from pydantic import Field, SecretStr, model_validator
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import GtidEvent, MariadbGtidEvent, XidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from ecfusion.errors import ConfigError, SourceError
from ecfusion.sources.cdc.envelope import Op, change, record_key
from ecfusion.sources.cdc.snapshot import SnapshotTable, chunk_query, snapshot_batches
from ecfusion.sources.cdc.tls import client_tls_context, connect_hint
from ecfusion.sources.contract import (
    Batch,
    CheckResult,
    ReadStats,
    SourceConfig,
    State,
    StreamInfo,
    register,
)

MySqlSslMode = Literal["disabled", "preferred", "required", "verify_ca", "verify_identity"]


class MySqlCdcConfig(SourceConfig):
    """``[sources.NAME] kind = "mysql_cdc"``: one database of a MariaDB/MySQL server."""

    kind: Literal["mysql_cdc"] = "mysql_cdc"
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: SecretStr | None = None
    database: str
    tables: list[str] = Field(default_factory=list, description="tables to capture; empty = all base tables")
    server_id: int = Field(5401, description="replica id this reader registers with; unique per server")
    entity: str = "changes"
    snapshot: bool = True
    chunk_size: int = Field(5_000, ge=1)
    max_batch_rows: int = Field(5_000, ge=1, description="whole transactions are gathered up to about this")
    poll_seconds: float = Field(0.2, gt=0)
    idle_stop_seconds: float | None = Field(None, gt=0)
    ssl_mode: MySqlSslMode | None = Field(
        None,
        description="disabled | preferred | required | verify_ca | verify_identity (MySQL's --ssl-mode); "
        "default: verify_ca with ssl_ca, required with only ssl_cert, else preferred",
    )
    ssl_ca: str | None = Field(None, description="PEM file of the CA that signed the server certificate")
    ssl_cert: str | None = Field(None, description="PEM client certificate (servers that require X509)")
    ssl_key: str | None = Field(None, description="PEM private key of ssl_cert")

    @model_validator(mode="before")
    @classmethod
    def _legacy_verify_identity(cls, data: Any) -> Any:
        """``ssl_verify_identity = true`` (earlier versions) means ``ssl_mode = "verify_identity"``."""
        if isinstance(data, dict) and "ssl_verify_identity" in data:
            data = dict(data)
            if data.pop("ssl_verify_identity") and not data.get("ssl_mode"):
                data["ssl_mode"] = "verify_identity"
        return data

    @property
    def effective_ssl_mode(self) -> MySqlSslMode:
        if self.ssl_mode:
            return self.ssl_mode
        return "verify_ca" if self.ssl_ca else "required" if self.ssl_cert else "preferred"


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@register("mysql_cdc", MySqlCdcConfig)
class MySqlCdcConnector:
    """Snapshot, then the binlog, as change envelopes (``read`` yields whole transactions)."""

    def __init__(self, config: MySqlCdcConfig, **_: Any) -> None:
        self.config = config
        self.stats = ReadStats()
        self._stop = threading.Event()
        # False (generic ``sources sync``): stop once caught up. ``run_cdc`` follows the log.
        self.follow = False
        self._tables: list[SnapshotTable] | None = None

    # -- connections ------------------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        cfg = self.config
        out: dict[str, Any] = {
            "host": cfg.host,
            "port": cfg.port,
            "user": cfg.user,
            "password": cfg.password.get_secret_value() if cfg.password else "",
        }
        mode = cfg.effective_ssl_mode
        if mode == "disabled":
            out["ssl_disabled"] = True
        elif mode != "preferred":  # preferred: PyMySQL tries TLS without verifying, else plaintext
            out["ssl"] = client_tls_context(
                ca_file=cfg.ssl_ca,
                verify=mode in ("verify_ca", "verify_identity"),
                check_hostname=mode == "verify_identity",
                cert_file=cfg.ssl_cert,
                key_file=cfg.ssl_key,
            )
        return out

    def _connect(self) -> pymysql.connections.Connection:
        s = self._settings()
        try:
            return pymysql.connect(
                **s,
                database=self.config.database,
                charset="utf8mb4",
                cursorclass=pymysql.cursors.DictCursor,
                autocommit=True,
            )
        except pymysql.err.OperationalError as e:
            reason = str(e.args[-1] if e.args else e)
            raise SourceError(
                f"cannot connect to MySQL/MariaDB {s['host']}:{s['port']} for source "
                f"{self.config.name}: {reason}",
                hint=connect_hint(reason, "check host, port, user, password and ssl_mode", ca_key="ssl_ca"),
            ) from e

    def stop(self) -> None:
        self._stop.set()

    def _idle_for(self, since: float) -> bool:
        idle = self.config.idle_stop_seconds
        return idle is not None and time.monotonic() - since >= idle

    def close(self) -> None:
        return None

    # -- contract ---------------------------------------------------------------------------------

    def check(self) -> CheckResult:
        try:
            with self._connect() as conn, conn.cursor() as cur:
                cur.execute("SELECT @@log_bin AS log_bin, @@binlog_format AS fmt")
                row = cur.fetchone() or {}
        except SourceError as e:
            return CheckResult.failed(e)
        if str(row.get("log_bin")) not in ("1", "ON"):
            return CheckResult.failed(
                SourceError(
                    f"binary log is off on {self.config.host}:{self.config.port}",
                    hint="start the server with --log-bin --binlog-format=ROW",
                )
            )
        if row.get("fmt") != "ROW":
            return CheckResult.failed(
                SourceError(
                    f"binlog_format is {row.get('fmt')}, CDC needs ROW",
                    hint="SET GLOBAL binlog_format = 'ROW' (and in the server config)",
                )
            )
        return CheckResult(
            True, f"binlog ROW on {self.config.host}:{self.config.port}/{self.config.database}"
        )

    def discover(self) -> list[StreamInfo]:
        names = ", ".join(t.name for t in self.tables())
        return [
            StreamInfo(
                self.config.entity,
                key_field="source.table+key",
                cursor_field="source.pos",
                description=f"row changes of {self.config.database}: {names}",
            )
        ]

    def tables(self) -> list[SnapshotTable]:
        if self._tables is None:
            self._tables = self._load_tables()
        return self._tables

    def _load_tables(self) -> list[SnapshotTable]:
        cfg = self.config
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                "WHERE TABLE_SCHEMA=%s AND CONSTRAINT_NAME='PRIMARY' ORDER BY TABLE_NAME, ORDINAL_POSITION",
                (cfg.database,),
            )
            keys: dict[str, list[str]] = {}
            for row in cur.fetchall():
                keys.setdefault(row["TABLE_NAME"], []).append(row["COLUMN_NAME"])
        wanted = cfg.tables or sorted(keys)
        missing = [t for t in wanted if t not in keys]
        if missing:
            raise ConfigError(
                f"source {cfg.name}: tables {missing} do not exist in {cfg.database} or have no primary key",
                hint="CDC snapshots page by primary key: add one, or drop the table",
            )
        return [SnapshotTable(cfg.database, t, keys[t]) for t in wanted]

    def read(self, stream: str, state: State | None) -> Iterator[Batch]:
        state = dict(state or {})
        if not state:
            state = self._start_state()
            yield Batch(records=[], state=state)
        if state.get("phase") == "snapshot":
            snap_ts = state["start"].get("ts")
            for batch in snapshot_batches(
                self.tables(),
                self._fetch_chunk,
                state,
                chunk_size=self.config.chunk_size,
                db=self.config.database,
                snapshot_ts=snap_ts,
            ):
                self.stats.pages += 1
                state = batch.state
                yield batch
        yield from self._stream(state["pos"])

    def _start_state(self) -> State:
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            row = cur.fetchone()
        if not row:
            raise SourceError(
                f"binary log is off on {self.config.host}:{self.config.port}",
                hint="start the server with --log-bin --binlog-format=ROW",
            )
        pos = {"file": row["File"], "offset": int(row["Position"]), "ts": datetime.now(UTC).isoformat()}
        if self.config.snapshot:
            return {
                "phase": "snapshot",
                "start": {**pos, "pos": f"{pos['file']}:{pos['offset']}"},
                "tables_done": [],
                "table": None,
                "last_key": None,
            }
        return {"phase": "stream", "pos": pos}

    def _fetch_chunk(
        self, table: SnapshotTable, last: Sequence[Any] | None, limit: int
    ) -> list[dict[str, Any]]:
        sql = chunk_query(table, _quote, after_key=last is not None, placeholder="%s", limit=limit)
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(sql, tuple(last) if last is not None else None)
            self.stats.requests += 1
            return list(cur.fetchall())

    # -- binlog -----------------------------------------------------------------------------------

    def _reader(self, pos: dict[str, Any]) -> BinLogStreamReader:
        cfg = self.config
        return BinLogStreamReader(
            connection_settings=self._settings(),
            server_id=cfg.server_id,
            resume_stream=True,
            log_file=pos["file"],
            log_pos=int(pos["offset"]),
            blocking=False,
            only_events=[
                WriteRowsEvent,
                UpdateRowsEvent,
                DeleteRowsEvent,
                XidEvent,
                GtidEvent,
                MariadbGtidEvent,
            ],
            only_schemas=[cfg.database],
            only_tables=[t.name for t in self.tables()] or None,
            enable_logging=False,  # file+offset resume (is_mariadb would switch to GTID auto-positioning)
        )

    def _stream(self, pos: dict[str, Any]) -> Iterator[Batch]:
        keys = {t.name: t.key_columns for t in self.tables()}
        idle_since = time.monotonic()
        while not self._stop.is_set():
            got_any = False
            for batch in self._one_pass(pos, keys):
                got_any = got_any or bool(batch.records)
                pos = batch.state["pos"]
                yield batch
            if got_any:
                idle_since = time.monotonic()
            elif not self.follow or self._idle_for(idle_since):
                return
            self._stop.wait(self.config.poll_seconds)

    def _one_pass(self, pos: dict[str, Any], keys: dict[str, list[str]]) -> Iterator[Batch]:
        """Read the binlog from ``pos`` to its current end; yield whole transactions in batches."""
        start, reader = pos, self._reader(pos)
        records: list[dict[str, Any]] = []
        rkeys: list[str | None] = []
        txn: list[tuple[dict[str, Any], str | None]] = []
        gtid: str | None = None
        try:
            for event in reader:
                if isinstance(event, (GtidEvent, MariadbGtidEvent)):
                    gtid = str(event.gtid)
                elif isinstance(event, XidEvent):
                    commit = {
                        "file": reader.log_file,
                        "offset": int(reader.log_pos),
                        "ts": datetime.fromtimestamp(event.timestamp, UTC).isoformat(),
                    }
                    for rec, key in txn:
                        rec["source"]["txid"] = gtid or str(event.xid)
                        records.append(rec)
                        rkeys.append(key)
                    txn, gtid = [], None
                    if len(records) >= self.config.max_batch_rows:
                        yield Batch(
                            records=records, record_keys=rkeys, state={"phase": "stream", "pos": commit}
                        )
                        records, rkeys = [], []
                    pos = commit
                else:
                    txn.extend(self._envelopes(event, reader, keys))
        finally:
            reader.close()
        self.stats.requests += 1
        if records or pos != start:
            yield Batch(records=records, record_keys=rkeys, state={"phase": "stream", "pos": pos})

    def _envelopes(
        self, event: Any, reader: BinLogStreamReader, keys: dict[str, list[str]]
    ) -> list[tuple[dict[str, Any], str | None]]:
        at = f"{reader.log_file}:{event.packet.log_pos}"
        ts = datetime.fromtimestamp(event.timestamp, UTC).isoformat()
        table, kc = f"{event.schema}.{event.table}", keys.get(event.table, [])
        out = []
        for i, row in enumerate(event.rows):
            op: Op
            if isinstance(event, WriteRowsEvent):
                op, before, after = "c", None, row["values"]
            elif isinstance(event, UpdateRowsEvent):
                op, before, after = "u", row["before_values"], row["after_values"]
            else:
                op, before, after = "d", row["values"], None
            env = change(
                op,
                db=event.schema,
                table=table,
                before=before,
                after=after,
                pos=f"{at}#{i}",
                ts=ts,
                txid=None,
            )
            out.append((env, record_key(table, kc, after or before)))
        return out
