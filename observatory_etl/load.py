"""Load frames into PostgreSQL: ADBC ``adbc_ingest`` (COPY) into staging tables, then merge.

All SQL lives in ``sql/``: ``schema.sql`` (final tables, applied idempotently), ``staging.sql``
(temporary tables, one per final table, dropped at commit) and ``merge/<table>.sql`` (one
``INSERT … SELECT … ON CONFLICT`` per table, plus the ``traces`` rollup).

A :class:`PartitionLoad` holds one transaction on one ADBC connection (temporary tables live on that
connection): it takes a transaction-scoped advisory lock for the partition, so two loads of the same
hour never interleave, stages and merges any number of chunks, recomputes the ``traces`` rows of every
trace it touched, and commits — or rolls everything back.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import adbc_driver_postgresql.dbapi as adbc
import polars as pl
import pyarrow as pa

from . import sql

MERGE_ORDER = ("trace_spans", "trace_events", "trace_links", "metrics", "metric_data_points", "logs")
# Tables partitioned by event day (sql/schema.sql, sql/partitions.sql).
PARTITIONED_TABLES = ("trace_spans", "trace_events", "metric_data_points", "logs")
FINAL_TABLES = ("traces", "sessions") + MERGE_ORDER
_UUID_COLUMNS = {"trace_id", "linked_trace_id", "metric_id", "point_id", "log_id"}
_SCHEMA_LOCK = 0x6F62736572766174  # advisory lock key serializing DDL ("observat")
_ROLLUP_LOCK = 0x6F62732D726F6C6C  # advisory lock key serializing rollup-and-commit ("obs-roll")


def connect(url: str) -> adbc.Connection:
    """Open an ADBC PostgreSQL connection (autocommit off) to ``url`` (a libpq URI)."""
    return adbc.connect(url)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (first 8 bytes of its MD5)."""
    return int.from_bytes(hashlib.md5(name.encode(), usedforsecurity=False).digest()[:8], "big", signed=True)


def ledger_files(conn: adbc.Connection, schema: str, partition_key: str) -> dict[str, tuple[int, str | None]]:
    """The ``ingested_files`` rows of one landing hour: ``{object_key: (size, etag)}``."""
    with conn.cursor() as cur:
        cur.execute(f'SET search_path TO "{schema}", public')
        cur.execute(sql.statement("ledger_files"), (partition_key,))
        rows = cur.fetchall()
    conn.commit()
    return {key: (size, etag) for key, size, etag in rows}


_DDL_FILES = ("migrate", "schema", "partitions", "upgrade", "views")


def ddl_version() -> str:
    """The MD5 of the DDL files (``sql/migrate.sql``, ``schema.sql``, ``partitions.sql``, ``upgrade.sql``,
    ``views.sql``): what a warehouse
    records in ``schema_version`` once they are applied."""
    digest = hashlib.md5(usedforsecurity=False)
    for name in _DDL_FILES:
        digest.update("\n".join(sql.statements(name)).encode())
    return digest.hexdigest()


def ensure_schema(conn: adbc.Connection, schema: str) -> None:
    """Create schema ``schema`` and apply the DDL files (see :func:`ddl_version`) in it, then
    commit — unless ``schema_version`` already records this version of them (one cheap SELECT, and no DDL
    locks that would queue a load behind queries on the views).

    Concurrent callers are serialized by an advisory lock, so parallel first runs do not race on DDL.
    ``schema`` must already be a validated identifier (see :func:`observatory_etl.config.validate_schema`).
    """
    version = ddl_version()
    with conn.cursor() as cur:
        cur.execute(f"""SELECT to_regclass('"{schema}".schema_version') IS NOT NULL""")
        if cur.fetchone()[0]:
            cur.execute(f'SELECT version FROM "{schema}".schema_version')
            if cur.fetchall() == [(version,)]:
                conn.commit()
                return
        cur.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        cur.execute(f'SET search_path TO "{schema}", public')
        for name in _DDL_FILES:
            for statement in sql.statements(name):
                cur.execute(statement)
        cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version text NOT NULL)")
        cur.execute("DELETE FROM schema_version")
        cur.execute(f"INSERT INTO schema_version (version) VALUES ('{version}')")
    conn.commit()


def create_partitions(conn: adbc.Connection, schema: str, first_day: date, last_day: date) -> int:
    """Create the daily partitions of :data:`PARTITIONED_TABLES` for the UTC days [first_day, last_day] that
    have none, in a transaction of their own, and commit; returns how many were created.

    Run before a load's transaction (never inside it: attaching a partition waits for loads holding the
    table). Rows of days without a partition go to the table's DEFAULT partition and move into the day's
    partition when it is created (sql/partitions.sql).
    """
    with conn.cursor() as cur:
        cur.execute(f'SET search_path TO "{schema}", public')
        cur.execute(sql.statement("create_partitions"), (first_day, last_day, list(PARTITIONED_TABLES)))
        created = cur.fetchone()[0]
    conn.commit()
    return created


@dataclass
class RetentionResult:
    """What :func:`drop_expired` removed: daily partitions dropped (``table_pYYYYMMDD`` names), and rows of
    ``traces``, ``trace_links`` and ``sessions`` deleted."""

    partitions_dropped: list[str]
    traces_deleted: int
    trace_links_deleted: int
    sessions_deleted: int


def drop_expired(conn: adbc.Connection, schema: str, before: date) -> RetentionResult:
    """Delete telemetry of UTC days before ``before``, in one transaction.

    Drops the daily partitions of :data:`PARTITIONED_TABLES` for those days, deletes their default
    partitions' older rows, the ``traces`` rows (and their ``trace_links``) of traces that ended before
    ``before`` and the ``sessions`` last seen before it. The file ledger is kept, so rerunning an expired
    hour does not load it again. Raises ``adbc_driver_manager.Error`` on a database failure (rolled back).
    """
    cutoff = datetime(before.year, before.month, before.day, tzinfo=timezone.utc)
    try:
        with conn.cursor() as cur:
            cur.execute(f'SET search_path TO "{schema}", public')
            cur.execute(sql.statement("retention/drop_partitions"), (before, list(PARTITIONED_TABLES)))
            dropped = [name for _, name in cur.fetchall()]
            cur.execute(sql.statement("retention/traces"), (cutoff,))
            traces, links = cur.fetchone()
            cur.execute(sql.statement("retention/sessions"), (cutoff,))
            sessions = max(cur.rowcount, 0)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return RetentionResult(dropped, traces, links, sessions)


def to_arrow(frame: pl.DataFrame) -> pa.Table:
    """Convert a frame for ``adbc_ingest``: 16-byte Binary id columns become fixed_size_binary(16) (→ uuid)."""
    table = frame.to_arrow()
    for index, name in enumerate(table.column_names):
        if name in _UUID_COLUMNS:
            table = table.set_column(index, name, table.column(index).cast(pa.binary(16)))
    return table


@dataclass
class LoadStats:
    """What a load did: rows per table and seconds per stage.

    Attributes:
        staged: rows copied into each staging table (after de-duplication within a chunk).
        merged: rows inserted or changed in each final table (0 for every table on a rerun).
        seconds: wall seconds per stage: ``copy`` (adbc_ingest), ``merge`` (ON CONFLICT inserts),
            ``rollup`` (traces), ``commit``.
        chunks: chunks staged and merged.
        ledger_rows: ``ingested_files`` rows written (new files or new versions of files).
    """

    staged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MERGE_ORDER, 0))
    merged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FINAL_TABLES, 0))
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("copy", "merge", "rollup", "commit"), 0.0))
    chunks: int = 0
    ledger_rows: int = 0


class PartitionLoad:
    """One partition's load transaction: ``with PartitionLoad(conn, schema, key) as load: load.chunk(frames)``.

    On entering: sets ``search_path`` to ``schema``, takes ``pg_advisory_xact_lock`` for ``key`` (waiting for
    any other load of the same partition), and creates the staging tables. :meth:`chunk` stages and merges
    one chunk; leaving the block without an exception runs the traces and sessions rollups, writes the
    file ledger (:meth:`record_files`) and commits, with one it rolls
    back, so a failed partition leaves the final tables exactly as they were.
    """

    def __init__(self, conn: adbc.Connection, schema: str, key: str):
        self.conn = conn
        self.schema = schema
        self.key = key
        self.stats = LoadStats()
        self._cur = None

    def __enter__(self) -> "PartitionLoad":
        self._cur = self.conn.cursor()
        self._cur.execute(f'SET search_path TO "{self.schema}", public')
        self._cur.execute(f"SELECT pg_advisory_xact_lock({lock_key('observatory:' + self.schema + ':' + self.key)})")
        for statement in sql.statements("staging"):
            self._cur.execute(statement)
        return self

    def chunk(self, frames: dict[str, pl.DataFrame]) -> None:
        """Stage the non-empty frames (COPY through adbc_ingest) and merge them into the final tables.

        ``frames`` maps final-table names (``trace_spans``, ``trace_events``, ``trace_links``, ``metrics``,
        ``metric_data_points``, ``logs``) to frames shaped as :mod:`observatory_etl.normalize` builds them.
        """
        cur, stats = self._cur, self.stats
        started = time.perf_counter()
        present = [t for t in MERGE_ORDER if t in frames and frames[t].height]
        for table in present:
            stats.staged[table] += cur.adbc_ingest(f"stage_{table}", to_arrow(frames[table]), mode="append", temporary=True)
        stats.seconds["copy"] += time.perf_counter() - started
        started = time.perf_counter()
        if "trace_spans" in present:
            cur.execute(sql.statement("merge/touched_traces"))
        for table in present:
            cur.execute(sql.statement(f"merge/{table}"))
            stats.merged[table] += max(cur.rowcount, 0)
            cur.execute(f"TRUNCATE stage_{table}")
        stats.seconds["merge"] += time.perf_counter() - started
        stats.chunks += 1

    def record_files(self, files: pl.DataFrame) -> None:
        """Stage the ledger rows of this load's files; they are written to ``ingested_files`` at commit.

        ``files`` has the columns of ``ingested_files`` (see sql/schema.sql).
        """
        if files.height:
            self._cur.adbc_ingest("stage_ingested_files", files.to_arrow(), mode="append", temporary=True)

    def update_costs(self, costs: pl.DataFrame) -> int:
        """Stage recomputed costs and write those that changed; their traces are rolled up at commit.

        ``costs`` has columns trace_id (16-byte Binary), span_id (Int64), input_cost_usd, output_cost_usd,
        total_cost_usd (Float64, USD) and cost_source (String). Returns the spans whose cost changed.
        """
        if not costs.height:
            return 0
        self._cur.adbc_ingest("stage_costs", to_arrow(costs), mode="append", temporary=True)
        self._cur.execute(sql.statement("costs/update"))
        changed = max(self._cur.rowcount, 0)
        self._cur.execute(sql.statement("costs/touched_traces"))
        self._cur.execute("TRUNCATE stage_costs")
        return changed

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None:
                self.conn.rollback()
                return
            started = time.perf_counter()
            # Rollups of concurrent loads (two hours holding spans of one trace) are serialized up to
            # commit: the later one then reads the earlier one's committed spans, so no span is left out.
            self._cur.execute(f"SELECT pg_advisory_xact_lock({_ROLLUP_LOCK})")
            for table in ("traces", "sessions"):  # sessions roll up from the traces just recomputed
                self._cur.execute(sql.statement(f"merge/{table}"))
                self.stats.merged[table] += max(self._cur.rowcount, 0)
            self._cur.execute(sql.statement("merge/ingested_files"))
            self.stats.ledger_rows += max(self._cur.rowcount, 0)
            self.stats.seconds["rollup"] += time.perf_counter() - started
            started = time.perf_counter()
            self.conn.commit()
            self.stats.seconds["commit"] += time.perf_counter() - started
        finally:
            self._cur.close()
