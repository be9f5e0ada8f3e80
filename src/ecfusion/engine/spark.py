"""Spark engine: the same stage SQL on Apache Spark (PySpark; local mode here) — principle 1.

Stage SQL arrives in DuckDB dialect and is transpiled by ``dialect.to_spark``. Row-wise Python
runs through ``mapInArrow`` on Arrow record batches. Results are handed back as Arrow and
written into the DuckDB warehouse snapshot, so readers see one warehouse whichever engine ran.
The session uses UTC and non-ANSI casts (a bad value becomes NULL and is quarantined by the
generated rules, as on DuckDB).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ecfusion.engine.base import BatchFn
from ecfusion.engine.dialect import to_spark
from ecfusion.errors import EngineError
from ecfusion.timings import Timings

# Where the JVM writes its own output when the caller names no file (tests, a bare SparkEngine).
DEFAULT_LOG = Path(tempfile.gettempdir()) / "ecfusion-spark.log"
_jvm_log: Path | None = None  # where this process's JVM writes, once it has started


def local_session(cores: int = 2, *, checkpoint_dir: Path | None = None, log: Path | None = None) -> Any:
    """The process's one local-mode SparkSession, configured for every stage that runs on Spark.

    A JVM takes its settings once, at start, so the standardization engine and Splink (entity
    resolution) share this one builder: UTC session time zone, a heap that fits the test merchant
    and the 1M benchmarks, and Splink's similarity-UDF jar (TOOLCHAIN.md). The JVM's own output
    (Spark's log, Java's warnings) goes to ``log`` (appended; ``DEFAULT_LOG`` if None), not to the
    terminal, where it would break into ecfusion's progress bars and summary.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise EngineError(
            "the Spark engine needs PySpark",
            hint="install the 'spark' extra: uv sync --extra spark (and Java 17)",
        ) from e
    from splink.backends.spark import similarity_jar_location

    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("ecfusion")
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.memory", "4g")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", str(cores))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
    )
    log = log or DEFAULT_LOG
    try:
        with _jvm_output_to(log):
            session = builder.getOrCreate()
    except Exception as e:  # no Java, a JVM that exits at start: PySpark's own error family
        raise EngineError(
            f"Spark could not start: {_reason(e)}",
            hint=f"Spark needs Java 17 (java on PATH, or JAVA_HOME); what the JVM said is in {log}"
            + (f", last: {last}" if (last := _last_lines(log)) else ""),
        ) from e
    if checkpoint_dir is not None:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        session.sparkContext.setCheckpointDir(str(checkpoint_dir))
    return session


@contextmanager
def _jvm_output_to(log: Path) -> Iterator[None]:
    """Standard output and error pointed at ``log`` while the block starts this process's JVM,
    which keeps the descriptors it inherits for its life; this process's own are given back
    after. A JVM that runs already keeps writing where it started."""
    global _jvm_log
    from pyspark import SparkContext

    if SparkContext._gateway is not None:
        yield
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = (os.dup(1), os.dup(2))
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
        _jvm_log = log
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)


def _last_lines(log: Path, n: int = 2) -> str:
    """The last ``n`` non-blank lines of ``log`` joined by " | " (of its last 4 KiB), '' if none."""
    try:
        with log.open("rb") as f:
            f.seek(max(f.seek(0, os.SEEK_END) - 4096, 0))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


class SparkEngine:
    name = "spark"

    def __init__(self, session: Any) -> None:
        self.spark = session
        self._cached: list[Any] = []
        self.timings = Timings()

    @classmethod
    def local(cls, cores: int = 2, *, log: Path | None = None) -> SparkEngine:
        """An engine on the local session (``local_session``; the JVM's output to ``log``)."""
        return cls(local_session(cores, log=log))

    def _sql(self, sql: str, what: str) -> Any:
        spark_sql = to_spark(sql)
        try:
            return self.spark.sql(spark_sql)
        except Exception as e:  # pyspark raises its own AnalysisException family
            raise EngineError(
                f"Spark failed on {what}: {_reason(e)}",
                hint="the transpiled stage is not valid Spark SQL; see engine/dialect.py",
            ) from e

    @staticmethod
    @contextmanager
    def _computing(what: str) -> Iterator[None]:
        """Spark computes a stage only when asked for its rows; a failure then (a raw file it
        cannot read, a task that runs out of memory) arrives from the JVM as a Py4J error with
        the whole Java stack. It becomes an ``EngineError`` with Spark's own one-line reason."""
        try:
            yield
        except EngineError:
            raise
        except Exception as e:
            raise EngineError(
                f"Spark failed computing {what}: {_reason(e)}",
                hint="the reason is Spark's; `ecfusion run` names a raw file it finds damaged and goes "
                f"on without it, so this is another failure (the rest is in {_jvm_log or 'the Spark log'})",
            ) from e

    def register_parquet(self, name: str, paths: Sequence[str]) -> None:
        from pyspark.sql import functions as F

        df = (
            self.spark.read.option("recursiveFileLookup", "true")
            .parquet(*paths)
            .withColumn("raw_file", F.regexp_replace(F.input_file_name(), "^file:(//)?", ""))
        )
        df.createOrReplaceTempView(name)

    def register_arrow(self, name: str, data: pa.Table) -> None:
        ddl = _spark_schema(data.schema)
        if data.num_rows == 0:
            df = self.spark.createDataFrame([], schema=ddl)
        else:
            try:
                df = self.spark.createDataFrame(data)
            except ImportError:  # this PySpark converts Arrow through pandas, which is not installed
                df = self.spark.createDataFrame(data.to_pylist(), schema=ddl)
        df.createOrReplaceTempView(name)

    def view(self, name: str, sql: str) -> None:
        self._sql(sql, name).createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str) -> None:
        # An eager local checkpoint computes the relation once and cuts its plan: later stages
        # see a leaf, not the whole chain of views above it (which Spark would re-analyse and
        # re-optimise at every step, the dominant cost of a many-stage pipeline).
        with self._computing(name), self.timings.timed(name):
            df = self._sql(sql, name).localCheckpoint(eager=True)
        self._cached.append(df)
        df.createOrReplaceTempView(name)

    def table(self, name: str) -> pa.Table:
        with self._computing(name):
            return self.spark.table(name).toArrow()

    def scalar_rows(self, sql: str) -> list[tuple[object, ...]]:
        with self._computing("a summary query"):
            return [tuple(r) for r in self._sql(sql, "a summary query").collect()]

    def map_batches(self, name: str, source: str, fn: BatchFn, schema: pa.Schema) -> None:
        def apply(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for b in batches:
                yield fn(b)

        try:
            df = self.spark.table(source).mapInArrow(apply, _spark_schema(schema))
        except ImportError:
            # PySpark's mapInArrow goes through its pandas UDF machinery; without pandas, run the
            # function on the driver over Arrow batches (the pipeline only maps small, deduplicated
            # relations here, e.g. distinct region triples).
            with self._computing(source):
                data = self.spark.table(source).toArrow()
            out = pa.Table.from_batches([fn(b) for b in data.to_batches()], schema=schema)
            self.register_arrow(name, out)
            return
        df.createOrReplaceTempView(name)

    def write_table(self, source: str, warehouse: duckdb.DuckDBPyConnection, target: str) -> None:
        data = self.table(source)
        warehouse.register("__incoming", data)
        try:
            warehouse.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM __incoming")
        finally:
            warehouse.unregister("__incoming")

    def close(self) -> None:
        for df in self._cached:
            df.unpersist()
        self._cached.clear()


def _reason(e: Exception) -> str:
    """Spark's one-line reason for ``e``: for an error from the JVM, the Java exception's message
    (its Python text begins with the Py4J call that failed and ends with the Java stack)."""
    java = getattr(e, "java_exception", None)
    if java is not None:
        try:
            return str(java.getMessage()).splitlines()[0]
        except Exception:  # the JVM is gone: its own words are out of reach
            pass
    return (str(e).splitlines() or [type(e).__name__])[0]


_DDL_TYPES = {pa.string(): "STRING", pa.int64(): "BIGINT", pa.int32(): "INT", pa.float64(): "DOUBLE",
              pa.bool_(): "BOOLEAN", pa.date32(): "DATE"}


def _spark_schema(schema: pa.Schema) -> str:
    """An Arrow schema as a Spark DDL string (no pandas needed, unlike pyspark's converters)."""
    return ", ".join(f"`{f.name}` {_ddl_type(f.type)}" for f in schema)


def _ddl_type(t: pa.DataType) -> str:
    if t in _DDL_TYPES:
        return _DDL_TYPES[t]
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP_NTZ" if t.tz is None else "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"ARRAY<{_ddl_type(t.value_type)}>"
    raise TypeError(f"no Spark type for Arrow {t}")
