"""The load methods the benchmark compares, one function each; every one returns a :class:`Result`.

The span methods (ceiling, INSERT, ADBC) load the same ``trace_spans`` rows into one UNLOGGED table without
indexes, ``"<schema>".copy_target``, whose columns are those of ``stage_trace_spans`` in
``sql/staging.sql`` (created ``LIKE`` that temporary table, so the column list is not retyped here). The
table is truncated before each method; each timing covers the load and its commit, not the conversion
of the rows beforehand, and the rows reported are counted in the table afterwards.

Connections: ``pg`` is a psycopg2 connection, ``adbc_conn`` an ADBC one (both autocommit off).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import polars as pl
import psycopg2
import psycopg2.extras
import pyarrow as pa
from psycopg2.extensions import parse_dsn

from observatory_etl.pipeline.hour import PartitionResult, load_hour
from observatory_etl.tables import RECORD_TABLES
from observatory_etl.warehouse import sql_files
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.ddl import ensure_schema
from observatory_etl.warehouse.load import (
    STAGE_BATCH_BYTES,
    STAGE_CALL_ROWS,
    LoadStats,
    PartitionLoad,
    stage,
)
from observatory_etl.warehouse.partitions import create_partitions

Log = Callable[[str], None]

TARGET = "copy_target"  # the UNLOGGED, index-free table the span methods load
SCRATCH = "copy_scratch"  # holds the span rows the ceiling exports to a server-side file
BATCHES = (100, 1_000, 5_000, 10_000)  # rows per statement / per COPY for the batched methods
PIPELINE_BATCH = 50_000  # rows per stage() call in the pipeline (its chunk size)

CEILING = "COPY FROM server file (FORMAT binary), the ceiling"
STREAMED = "COPY FROM STDIN of the same binary file (psycopg2 copy_expert): the ceiling + the client transfer"
ROW_BY_ROW = "INSERT row by row (psycopg2 execute, 1 commit)"
ADBC_TEMP = (f"ADBC COPY into TEMP staging, chunks of {PIPELINE_BATCH:,} rows, {STAGE_CALL_ROWS:,} rows/call in "
             f"record batches of {STAGE_BATCH_BYTES >> 10:,} KiB (the pipeline's own staging)")
DLT = "dlt postgres merge, every table (pipeline.run whole)"
PIPELINE = "observatory pipeline: load_hour, landing → final tables"
LOAD_ALONE = ("observatory load of the decoded frames, as a new hour: PartitionLoad (COPY straight into the final "
              "tables, rollups, commit), no decode")
LOAD_ALONE_MERGE = ("observatory load of the decoded frames, staging + merge (a reload's path): PartitionLoad(direct=False) "
                    "(COPY into staging, ON CONFLICT merge, rollups, commit), no decode")


def multi_row_label(batch: int) -> str:
    """The method name of multi-row INSERT with ``batch`` rows per statement."""
    return f"multi-row INSERT, {batch:,} rows/statement (execute_values)"


def adbc_label(batch: int) -> str:
    """The method name of ADBC COPY with ``batch`` rows per ``adbc_ingest`` call."""
    return f"ADBC COPY, {batch:,} rows/call (adbc_ingest)"


@dataclass
class Result:
    """One measured method.

    Attributes:
        method: what was measured (one of this module's labels).
        rows: rows loaded (counted in the target afterwards; records decoded for the pipeline); 0 if n/a.
        seconds: wall seconds of the load and its commit; None when the method could not run (n/a).
        note: anything a reader must know (rows capped, a fallback, why n/a); empty if nothing.
    """

    method: str
    rows: int
    seconds: float | None
    note: str = ""

    @property
    def rows_per_second(self) -> float | None:
        """Rows per second, None when not measured."""
        if self.seconds is None or self.seconds <= 0:
            return None
        return self.rows / self.seconds

    def line(self) -> str:
        """A one-line summary for progress output."""
        if self.seconds is None:
            return f"{self.method}: n/a ({self.note})"
        return f"{self.method}: {self.rows:,} rows in {self.seconds:.2f} s = {self.rows_per_second:,.0f} rows/s"


# --------------------------------------------------------------------------------------------------
# Tables and row conversions


def _stage_spans_statement() -> str:
    """The ``CREATE TEMP TABLE stage_trace_spans …`` statement of sql/staging.sql."""
    return next(s for s in sql_files.statements("staging") if "TABLE stage_trace_spans " in s)


def create_tables(pg, schema: str) -> None:
    """Create schema ``schema`` with the UNLOGGED tables ``copy_target`` and ``copy_scratch`` (LIKE
    ``stage_trace_spans``: same columns and types, no indexes, no constraints)."""
    with pg.cursor() as cur:
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        cur.execute(_stage_spans_statement())
        for table in (TARGET, SCRATCH):
            cur.execute(f'CREATE UNLOGGED TABLE "{schema}".{table} (LIKE stage_trace_spans)')
    pg.commit()  # drops the temporary stage table (ON COMMIT DROP)


def drop_schemas(pg, schemas: list[str]) -> None:
    """Drop every schema of ``schemas`` (CASCADE) that exists."""
    with pg.cursor() as cur:
        for schema in schemas:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    pg.commit()


def _hex_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """16-byte Binary id columns as 32-character hex strings (PostgreSQL's uuid input accepts them)."""
    return frame.with_columns(pl.col(pl.Binary).bin.encode("hex"))


def _json_list(name: str) -> pl.Expr:
    """List column ``name`` as JSON array text (``["stop"]``); null stays null.

    Vectorized through a one-field struct: ``{"name":[…]}`` with the wrapper cut off.
    """
    column = pl.col(name)
    wrapped = pl.struct(column).struct.json_encode()
    array = wrapped.str.strip_prefix(f'{{"{name}":').str.strip_suffix("}")
    return pl.when(column.is_null()).then(None).otherwise(array).alias(name)


def psycopg2_rows(frame: pl.DataFrame) -> list[tuple]:
    """The rows of ``frame`` as tuples psycopg2 adapts: ids as hex strings (→ uuid), lists as Python lists
    (→ arrays), timestamps as aware datetimes (→ timestamptz)."""
    return _hex_ids(frame).rows()


def dlt_table(frame: pl.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table dlt's csv loader takes: 16-byte ids → 32-character hex strings (dlt has
    no uuid type), list columns → JSON array text (its csv writer rejects nested columns)."""
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    return _hex_ids(frame).with_columns(_json_list(name) for name in lists).to_arrow()


def dlt_credentials(database_url: str) -> dict:
    """dlt PostgresCredentials fields for a libpq URI, unix-socket URIs included.

    dlt requires ``host`` and renders it into the URL's netloc, so a socket directory (``?host=/path``)
    is percent-encoded there (libpq decodes ``%2Fpath`` as a socket directory); a missing password
    becomes "" (dlt requires the field; libpq then uses its usual sources). Other parameters go to
    ``query``.
    """
    params = parse_dsn(database_url)
    user = params.pop("user", None) or os.environ.get("PGUSER") or os.environ.get("USER")
    return {
        "database": params.pop("dbname", None) or user,
        "username": user,
        "password": params.pop("password", ""),
        "host": quote(params.pop("host", "localhost"), safe=""),
        "port": int(params.pop("port", 5432)),
        "query": params or None,
    }


# --------------------------------------------------------------------------------------------------
# Methods


def _count(conn, schema: str, table: str = TARGET) -> int:
    with conn.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{schema}".{table}')
        rows = cur.fetchone()[0]
    conn.commit()
    return rows


def _timed_load(conn, schema: str, label: str, load: Callable[[], None], log: Log, note: str = "") -> Result:
    """Truncate the target, time ``load()`` plus the commit on ``conn``, count the rows loaded."""
    with conn.cursor() as cur:
        cur.execute(f'TRUNCATE "{schema}".{TARGET}')
    conn.commit()
    log(f"{label}: starting")
    started = time.perf_counter()
    load()
    conn.commit()
    seconds = time.perf_counter() - started
    return Result(label, _count(conn, schema), seconds, note)


def ceiling(pg, adbc_conn, schema: str, spans: pa.Table, log: Log) -> list[Result]:
    """Server-side ``COPY copy_target FROM '/tmp/…' (FORMAT binary)``: the fastest way rows get in; then,
    when this process can read that file (same machine), ``COPY copy_target FROM STDIN (FORMAT binary)``
    fed with the file's bytes by psycopg2's ``copy_expert``: the same server work plus the transfer from a
    client, without any encoding on the client. Returns ``[ceiling]`` or ``[ceiling, streamed]``.

    The binary file is produced by the server from the same rows (``adbc_ingest`` into ``copy_scratch``,
    then ``COPY (SELECT …) TO`` the file) and removed afterwards. Server-side files need superuser (or
    pg_write_server_files and pg_read_server_files); without them the result is n/a.
    """
    path = f"/tmp/observatory-bench-{os.getpid()}.copy"
    with adbc_conn.cursor() as cur:
        cur.adbc_ingest(SCRATCH, spans, mode="append", db_schema_name=schema)
    adbc_conn.commit()
    try:
        with pg.cursor() as cur:
            cur.execute(f'COPY (SELECT * FROM "{schema}".{SCRATCH}) TO %s (FORMAT binary)', (path,))
            cur.execute(f'TRUNCATE "{schema}".{SCRATCH}')  # the file holds the rows now
        pg.commit()

        def load() -> None:
            with pg.cursor() as cur:
                cur.execute(f'COPY "{schema}".{TARGET} FROM %s (FORMAT binary)', (path,))

        def streamed() -> None:
            with pg.cursor() as cur, open(path, "rb") as data:
                cur.copy_expert(f'COPY "{schema}".{TARGET} FROM STDIN (FORMAT binary)', data, size=1 << 20)

        results = [_timed_load(pg, schema, CEILING, load, log)]
        if os.path.exists(path):
            results.append(_timed_load(pg, schema, STREAMED, streamed, log))
        return results
    except (psycopg2.errors.InsufficientPrivilege, psycopg2.OperationalError) as exc:
        pg.rollback()
        reason = str(exc).strip().splitlines()[0]
        log(f"{CEILING}: n/a: server-side COPY to/from a file is not permitted here ({reason}); "
            "it needs superuser or pg_write_server_files + pg_read_server_files")
        return [Result(CEILING, 0, None, f"n/a: not permitted ({reason})")]
    finally:
        _remove_server_file(pg, path, log)


def _remove_server_file(pg, path: str, log: Log) -> None:
    """Remove the exported file: here if the server shares this file system, else say where it stays."""
    if os.path.exists(path):
        os.remove(path)
        return
    pg.rollback()  # in case the COPY failed mid-transaction; everything measured is committed
    with pg.cursor() as cur:
        cur.execute("SELECT inet_server_addr() IS NOT NULL")  # NULL over a unix socket: same machine
        remote = cur.fetchone()[0]
    pg.commit()
    if remote:
        log(f"note: {path} may remain on the database server's file system; remove it there")


def insert_row_by_row(pg, schema: str, columns: list[str], rows: list[tuple], log: Log, note: str = "") -> Result:
    """One ``INSERT … VALUES (…)`` per row through psycopg2's ``cursor.execute``, one commit at the end."""
    statement = f'INSERT INTO "{schema}".{TARGET} ({_names(columns)}) VALUES ({", ".join(["%s"] * len(columns))})'

    def load() -> None:
        with pg.cursor() as cur:
            for row in rows:
                cur.execute(statement, row)

    return _timed_load(pg, schema, ROW_BY_ROW, load, log, note)


def insert_batches(pg, schema: str, columns: list[str], rows: list[tuple], batch: int, log: Log,
                   note: str = "") -> Result:
    """Multi-row ``INSERT … VALUES (…), (…)`` of ``batch`` rows each (``psycopg2.extras.execute_values``
    with ``page_size=batch``), one commit at the end."""
    statement = f'INSERT INTO "{schema}".{TARGET} ({_names(columns)}) VALUES %s'

    def load() -> None:
        with pg.cursor() as cur:
            psycopg2.extras.execute_values(cur, statement, rows, page_size=batch)

    return _timed_load(pg, schema, multi_row_label(batch), load, log, note)


def _names(columns: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def adbc_batches(adbc_conn, schema: str, spans: pa.Table, batch: int, log: Log) -> Result:
    """ADBC COPY: one ``adbc_ingest(…, mode="append")`` call (one COPY) per ``batch`` rows, one commit."""

    def load() -> None:
        with adbc_conn.cursor() as cur:
            for offset in range(0, spans.num_rows, batch):
                cur.adbc_ingest(TARGET, spans.slice(offset, batch), mode="append", db_schema_name=schema)

    return _timed_load(adbc_conn, schema, adbc_label(batch), load, log)


def adbc_temp(adbc_conn, spans: pl.DataFrame, log: Log) -> Result:
    """The pipeline's staging, alone on the machine: create ``stage_trace_spans`` (TEMP, ON COMMIT DROP, as
    :class:`observatory_etl.warehouse.load.PartitionLoad` does) and stage 50,000-row slices of ``spans``
    into it with the pipeline's own :func:`observatory_etl.warehouse.load.stage` (Arrow conversion
    included), each followed by the ``TRUNCATE`` that follows a chunk's merge in the pipeline (so the
    temporary table never outgrows a chunk, as there).

    Rows are those ``adbc_ingest`` reports (the table is gone after the commit).
    """
    log(f"{ADBC_TEMP}: starting")
    started = time.perf_counter()
    rows = 0
    with adbc_conn.cursor() as cur:
        cur.execute(_stage_spans_statement())
        for offset in range(0, spans.height, PIPELINE_BATCH):
            rows += stage(cur, "trace_spans", spans.slice(offset, PIPELINE_BATCH))
            cur.execute("TRUNCATE stage_trace_spans")
    adbc_conn.commit()
    return Result(ADBC_TEMP, rows, time.perf_counter() - started)


def dlt_merge(pg, database_url: str, frames: dict[str, pl.DataFrame], dataset: str, workdir: Path,
              log: Log) -> Result:
    """dlt's PostgreSQL destination: every frame as a resource with ``write_disposition="merge"`` on the
    final table's key, one ``pipeline.run()`` timed whole (extract, normalize, load, merge).

    Loads dataset ``dataset`` (dlt also creates ``<dataset>_staging`` for the merge), with
    ``loader_file_format="csv"`` (COPY; dlt's fastest for postgres), falling back to ``insert_values`` if
    csv fails. Rows are counted in the dataset's tables afterwards. n/a when dlt is not installed.
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # no anonymous usage pings from a benchmark
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")  # not one schema-hint warning per table
    try:
        import dlt
    except ImportError:
        log("dlt not installed (pip install -e '.[bench]')")
        return Result(DLT, 0, None, "n/a: dlt not installed (pip install -e '.[bench]')")
    tables = {name: dlt_table(frame) for name, frame in frames.items() if frame.height}
    destination = dlt.destinations.postgres(credentials=dlt_credentials(database_url))

    def run(file_format: str) -> float:
        pipe = dlt.pipeline(pipeline_name=f"{dataset}_{file_format}", destination=destination,
                            dataset_name=dataset, pipelines_dir=str(workdir))
        resources = [
            dlt.resource(table, name=name, write_disposition="merge", primary_key=list(RECORD_TABLES[name].key))
            for name, table in tables.items()
        ]
        log(f"{DLT}: starting (dlt {dlt.__version__}, loader_file_format={file_format})")
        started = time.perf_counter()
        pipe.run(resources, loader_file_format=file_format)
        return time.perf_counter() - started

    try:
        seconds, note = run("csv"), "loader_file_format=csv"
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0]
        log(f"{DLT}: csv failed ({reason}); falling back to insert_values")
        drop_schemas(pg, dlt_schemas(dataset))
        seconds, note = run("insert_values"), f"loader_file_format=insert_values (csv failed: {reason})"
    rows = sum(_count(pg, dataset, name) for name in tables)
    return Result(DLT, rows, seconds, f"dlt {dlt.__version__}, {note}")


def dlt_schemas(dataset: str) -> list[str]:
    """The schemas dlt creates for ``dataset``: the dataset and its merge staging dataset."""
    return [dataset, f"{dataset}_staging"]


def whole_pipeline(hour: datetime, landing_url: str, database_url: str, schema: str, log: Log,
                   label: str = PIPELINE) -> tuple[Result, PartitionResult]:
    """:func:`observatory_etl.pipeline.hour.load_hour` of ``hour`` into ``schema``; rows = records decoded
    (spans + events + links + data points + log records), seconds = its wall clock."""
    log(f"{label}: starting")
    result = load_hour(
        hour, landing_url=landing_url, database_url=database_url, schema=schema, log=lambda line: log(f"    {line}")
    )
    note = "skipped: every file already in the ledger" if result.skipped else ""
    return Result(label, sum(result.records.values()), result.wall_seconds, note), result


def load_alone(hour: datetime, database_url: str, schema: str, frames: dict[str, pl.DataFrame], log: Log,
               chunk_rows: int = PIPELINE_BATCH, direct: bool = True) -> tuple[Result, LoadStats]:
    """The pipeline's load without its decode: the decoded ``frames`` loaded by
    :class:`observatory_etl.warehouse.load.PartitionLoad` into a fresh ``schema`` (created, with the day
    partitions of ``hour`` and its neighbours, before the clock starts), in chunks of about ``chunk_rows``
    records as the pipeline cuts them, then the rollups and the commit: what dlt does with the same frames.
    ``direct``: COPY straight into the final tables, as the pipeline loads a new hour (:data:`LOAD_ALONE`);
    else COPY into staging and merge, as it reloads one (:data:`LOAD_ALONE_MERGE`).

    Rows are the records loaded (every record table); the second value is the load's own figures
    (seconds of copy and merge per table).
    """
    label = LOAD_ALONE if direct else LOAD_ALONE_MERGE
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        create_partitions(conn, schema, (hour - timedelta(days=1)).date(), (hour + timedelta(days=1)).date())
        records = sum(frame.height for frame in frames.values())
        chunks = max(1, -(-records // chunk_rows))
        log(f"{label}: starting ({chunks} chunks)")
        started = time.perf_counter()
        with PartitionLoad(conn, schema, f"bench:{schema}", direct=direct) as partition:
            for index in range(chunks):
                partition.chunk({table: _part(frame, index, chunks) for table, frame in frames.items()})
        seconds = time.perf_counter() - started
    finally:
        conn.close()
    stats = partition.stats
    return Result(label, sum(stats.staged.values()) + sum(stats.copied.values()), seconds), stats


def _part(frame: pl.DataFrame, index: int, parts: int) -> pl.DataFrame:
    """The ``index``-th of ``parts`` nearly equal slices of ``frame`` (the same share of every table)."""
    size = -(-frame.height // parts)
    return frame.slice(index * size, size)
