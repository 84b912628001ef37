"""Load frames into PostgreSQL: ADBC ``adbc_ingest`` (COPY) into staging tables, then merge.

All SQL lives in ``sql/``: ``schema.sql`` (final tables, applied idempotently), ``staging.sql``
(temporary tables, one per final table, dropped at commit) and ``merge/<table>.sql`` (one
``INSERT … SELECT … ON CONFLICT`` per table, plus the ``traces`` rollup).

A :class:`PartitionLoad` holds one transaction on one ADBC connection (temporary tables live on that
connection): it takes a transaction-scoped advisory lock for the partition, so two loads of the same
hour never interleave, loads any number of chunks, recomputes the ``traces`` rows of every trace it
touched, and commits — or rolls everything back.

The chunks of an hour never loaded before can instead be copied straight into the final tables
(``PartitionLoad(direct=True)``, :func:`copy_final`; all but ``metrics``, whose definitions every request
repeats): each row is written once instead of twice, without the merge's per-row conflict check. If a row
is already there (``unique_violation``: a record delivered twice, a concurrent load of the same records),
the COPY aborts the transaction — a savepoint cannot be rolled back through ADBC once a statement failed —
so :class:`DirectCopyConflict` is raised and the caller loads the hour again, staging and merging
(``pipeline.hour.load_hour`` does). Either way the final tables end with the same rows (docs/tuning.md,
"Issue 11, session 6").
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import adbc_driver_manager
import adbc_driver_postgresql.dbapi as adbc
import polars as pl
import pyarrow as pa

from ..tables import EPOCH, FINAL_TABLES, JSON, MERGE_ORDER, RECORD_TABLES, UUID_COLUMNS
from . import sql_files
from .connection import lock_key
from .errors import WarehouseError, first_line, sqlstate
from .rollup import trace_partials

_ROLLUP_LOCK = 0x6F62732D726F6C6C  # advisory lock key serializing rollup-and-commit ("obs-roll")
# Arrow record batches handed to adbc_ingest: at most STAGE_BATCH_ROWS rows and about STAGE_BATCH_BYTES bytes.
# The driver encodes a whole record batch into one buffer before it sends it, and the send blocks until the
# server has read all but a socket buffer of it (unix sockets: 208 KiB), so a large batch is encoded while the
# server waits and parsed while the driver waits. A batch that fits in the socket buffer is sent at once and
# parsed while the next one is encoded: the bench's staging of 199,686 spans took 1.37-1.66 s in 128 KiB
# batches against 1.82-2.16 s in 5,000-row batches (~5 MB), with no more client CPU (docs/tuning.md, "Issue 11,
# session 7"). 5,000-row batches had cut the driver's CPU by a quarter against one 24k-row batch (session 4).
STAGE_BATCH_ROWS = 5_000
STAGE_BATCH_BYTES = 128 << 10
# Frames go to the driver in polars' newest Arrow form: strings and binaries as string_view / binary_view arrays
# over polars' own buffers, not copied into large_string (the driver reads both): half the conversion's CPU and
# no copy of a slice's text.
ARROW_LEVEL = pl.CompatLevel.newest()
# Rows per adbc_ingest call: the staging of 68,618 spans took the same 0.6-0.8 s in calls of 10,000 or 25,000
# rows as in one call, without the whole frame's Arrow copy (+13-78 MB RSS) (docs/tuning.md, session 5); the
# bench hour copied straight into the final tables as fast in calls of 5,000 rows as of 10,000 (2,500: 10%
# slower), with 20-30 MB less peak RSS on an hour of 40 MB files (session 6). A reader converting batch by
# batch inside one call was slower (the bench's staging 1.5 -> 1.95 s).
STAGE_CALL_ROWS = 5_000
# A row's key is already in a final table (a COPY straight into it fails).
UNIQUE_VIOLATION = "23505"
# The tables a new hour's chunks COPY straight into: their records occur once. ``metrics`` is left out: every
# metrics request repeats the definitions of its metrics, so each chunk stages and merges them.
DIRECT_TABLES = ("trace_spans", "trace_events", "trace_links", "metric_data_points", "logs")
# The casts the merges make (sql/merge/<table>.sql), made by copy_final for rows copied straight into the final
# tables: an unset time is the epoch (the column is part of the table's key and partitions it), a log
# record without a time takes its observed time.
_UNSET_IS_EPOCH = {"trace_spans": "start_time", "trace_events": "time", "metric_data_points": "time"}
# jsonb's binary COPY form (jsonb_recv, src/backend/utils/adt/jsonb.c): a version byte, 1, then the JSON text,
# which the server parses as it would the text of a ::jsonb cast.
_JSONB_VERSION = "\x01"
# work_mem of the rollups (the default 4MB): the traces rollup sorts the rollup columns of the hour's spans, 31 MB
# for the bench hour's 199,686, which spilled to disk (docs/tuning.md, "Issues 10 and 11, session 8").
ROLLUP_WORK_MEM = "64MB"
# random_page_cost of the rollups (the default 4, for spinning disks): with it the sessions rollup read every
# traces row twice (hash joins over sequential scans) instead of probing the key and the session index: 0.81 s
# per load with 3M traces stored against 0.29 s at 1.1, a cost that grew with the days retained; with few traces
# stored the planner still scans (docs/tuning.md, "Issues 10 and 11, session 8").
ROLLUP_RANDOM_PAGE_COST = 1.1


def to_arrow(frame: pl.DataFrame) -> pa.Table:
    """Convert a frame for ``adbc_ingest``: 16-byte Binary id columns become fixed_size_binary(16) (→ uuid)."""
    table = frame.to_arrow(compat_level=ARROW_LEVEL)
    for index, name in enumerate(table.column_names):
        if name in UUID_COLUMNS:
            table = table.set_column(index, name, table.column(index).cast(pa.binary(16)))
    return table


def stage(cur, table: str, frame: pl.DataFrame) -> int:
    """COPY ``frame`` into the temporary staging table ``stage_<table>`` (sql/staging.sql) on ``cur``'s
    connection, as Arrow record batches of about :data:`STAGE_BATCH_BYTES` (at most :data:`STAGE_BATCH_ROWS`
    rows), one ``adbc_ingest`` call per :data:`STAGE_CALL_ROWS` rows (each slice converted to Arrow just before
    its call and dropped after it, so a chunk's frame is freed as it is copied); returns the rows staged.

    ``cur`` is an ADBC cursor whose connection created the staging tables in its open transaction;
    ``frame`` has the columns of ``stage_<table>`` in order (:mod:`observatory_etl.tables`).

    Raises:
        adbc_driver_manager.Error: the COPY failed (e.g. a value out of range of its column type).
    """
    slices = _slices(frame)
    del frame  # only the slices hold the frame's parts now: each part is freed once copied
    return _ingest(cur, slices, lambda part: part, table_name=f"stage_{table}", temporary=True)


def final_rows(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (a record table's frame, columns of :mod:`observatory_etl.tables`) as its final table's rows:
    the merge's casts applied client-side. JSON text columns become Binary in jsonb's binary COPY form
    (version byte 1, then the text); an unset ``start_time`` / ``time`` becomes the epoch; a log record's
    unset ``time`` takes ``observed_time``. Other columns pass unchanged."""
    exprs = []
    for column in RECORD_TABLES[table].columns:
        expr = pl.col(column.name)
        if column.type is JSON:
            expr = pl.concat_str([pl.lit(_JSONB_VERSION), expr]).cast(pl.Binary)
        elif _UNSET_IS_EPOCH.get(table) == column.name:
            expr = expr.fill_null(EPOCH)
        elif table == "logs" and column.name == "time":
            expr = pl.coalesce(expr, pl.col("observed_time"), pl.lit(EPOCH))
        exprs.append(expr.alias(column.name))
    return frame.select(exprs)


def copy_final(cur, schema: str, table: str, frame: pl.DataFrame) -> int:
    """COPY ``frame`` straight into the final table ``schema.table`` (no staging, no conflict handling), in
    the slices and batches of :func:`stage`, each slice made :func:`final_rows` just before its call; returns
    the rows copied. Only for rows whose keys are not in the table: one that is fails the whole COPY.

    Raises:
        adbc_driver_manager.Error: the COPY failed; SQLSTATE :data:`UNIQUE_VIOLATION` when a row's key is
            already in the table (or in this COPY twice).
    """
    slices = _slices(frame)
    del frame  # only the slices hold the frame's parts now: each part is freed once copied
    return _ingest(cur, slices, lambda part: final_rows(table, part), table_name=table, db_schema_name=schema)


def _slices(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """``frame`` cut into :data:`STAGE_CALL_ROWS`-row slices (views: no copy)."""
    return [frame.slice(offset, STAGE_CALL_ROWS) for offset in range(0, frame.height, STAGE_CALL_ROWS)]


def _ingest(cur, slices: list[pl.DataFrame], rows, **target) -> int:
    """``adbc_ingest`` (mode append) of ``rows(slice)`` for each of ``slices``, in record batches of about
    :data:`STAGE_BATCH_BYTES` (at most :data:`STAGE_BATCH_ROWS` rows), into ``target`` (adbc_ingest's keyword
    arguments). Each slice is dropped once copied: where the caller holds no other reference to the frame, the
    memory of its parts (a chunk's frame is the concatenation of frames of 16,384 rows) is freed as the COPY
    goes."""
    copied = 0
    slices.reverse()
    while slices:
        part = rows(slices.pop())
        # polars' size of the slice (its Arrow views would count the buffers the slice shares with its frame)
        batch_rows = min(STAGE_BATCH_ROWS, max(1, part.height * STAGE_BATCH_BYTES // max(1, part.estimated_size())))
        arrow = to_arrow(part)
        del part
        batches = pa.Table.from_batches(arrow.to_batches(max_chunksize=batch_rows), arrow.schema)
        del arrow
        copied += cur.adbc_ingest(data=batches, mode="append", **target)
    return copied


@dataclass
class LoadStats:
    """What a load did: rows per table and seconds per stage.

    Attributes:
        staged: rows copied into each staging table (after de-duplication within a chunk).
        copied: rows copied straight into each final table (chunks of new records; see the module's text).
        merged: rows inserted or changed in each final table, by a merge or a straight COPY (0 for every
            table on a rerun).
        seconds: wall seconds per stage: ``copy`` (adbc_ingest, into staging or straight into the final
            tables), ``merge`` (ON CONFLICT inserts), ``rollup`` (touched traces, traces, sessions, ledger),
            ``commit``.
        table_seconds: wall seconds of ``copy`` and of ``merge`` per table (``{"copy": {"logs": 0.4, …},
            "merge": {…}}``).
        chunks: chunks loaded.
        direct_chunks: chunks copied straight into the final tables (:data:`DIRECT_TABLES`).
        ledger_rows: ``ingested_files`` rows written (new files or new versions of files).
    """

    staged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MERGE_ORDER, 0))
    copied: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MERGE_ORDER, 0))
    merged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FINAL_TABLES, 0))
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("copy", "merge", "rollup", "commit"), 0.0))
    table_seconds: dict[str, dict[str, float]] = field(
        default_factory=lambda: {stage: dict.fromkeys(MERGE_ORDER, 0.0) for stage in ("copy", "merge")})
    chunks: int = 0
    direct_chunks: int = 0
    ledger_rows: int = 0


class PartitionLoad:
    """One partition's load transaction: ``with PartitionLoad(conn, schema, key) as load: load.chunk(frames)``.

    On entering: sets ``search_path`` to ``schema``, takes ``pg_advisory_xact_lock`` for ``key`` (waiting for
    any other load of the same partition), and creates the staging tables. :meth:`chunk` loads one chunk;
    leaving the block without an exception runs the traces and sessions rollups, writes the file ledger
    (:meth:`record_files`) and commits, with one it rolls back, so a failed partition leaves the final
    tables exactly as they were.

    ``direct``: COPY each chunk straight into the final tables (see the module's text), for records that
    should all be new (an hour never loaded before); the first row already stored raises
    :class:`DirectCopyConflict` and the whole load must start again without ``direct``. The default stages
    and merges every chunk.
    """

    def __init__(self, conn: adbc.Connection, schema: str, key: str, direct: bool = False):
        self.conn = conn
        self.schema = schema
        self.key = key
        self.direct = direct
        self.stats = LoadStats()
        self._cur = None
        self._abandoned = False

    def abandon(self) -> None:
        """Leave the block without writing anything: the transaction is rolled back (nothing was merged yet,
        e.g. another run loaded the hour while this one waited for its lock)."""
        self._abandoned = True

    def __enter__(self) -> "PartitionLoad":
        self._cur = self.conn.cursor()
        self._cur.execute(f'SET search_path TO "{self.schema}", public')
        self._cur.execute(f"SELECT pg_advisory_xact_lock({lock_key('observatory:' + self.schema + ':' + self.key)})")
        for statement in sql_files.statements("staging"):
            self._cur.execute(statement)
        return self

    def chunk(self, frames: dict[str, pl.DataFrame], release: bool = False) -> None:
        """Load the non-empty frames into the final tables: COPY straight into those of
        :data:`DIRECT_TABLES` when :attr:`direct`; COPY the others (all of them without ``direct``) into
        staging and merge.

        ``frames`` maps final-table names (``trace_spans``, ``trace_events``, ``trace_links``, ``metrics``,
        ``metric_data_points``, ``logs``) to frames shaped as :mod:`observatory_etl.ingest.frames` builds
        them (columns: :mod:`observatory_etl.tables`). ``release`` takes each frame out of ``frames`` as its COPY
        starts, so that its memory is freed as it is copied (a chunk's frames: ~60 MB for 76k records).

        Raises:
            WarehouseError: a statement failed; it names the table and stage, and says whether it is
                transient (SQLSTATE classes 08, 40, 53, 57P0x: retry) or not (e.g. 22xxx data errors).
            DirectCopyConflict: (``direct`` only) a row is already stored; the load must start again with
                ``direct=False``.
        """
        cur, stats = self._cur, self.stats
        present = [t for t in MERGE_ORDER if t in frames and frames[t].height]
        if "trace_spans" in present:
            with _stage("copy", "touched_traces"):
                self._touch(frames["trace_spans"])
        if self.direct:
            direct = [t for t in present if t in DIRECT_TABLES]
            self._copy_direct(frames, direct, release)
            present = [t for t in present if t not in direct]  # what is left is staged and merged
        for table in present:
            started = time.perf_counter()
            with _stage("copy", table):
                stats.staged[table] += stage(cur, table, frames.pop(table) if release else frames[table])
            stats.table_seconds["copy"][table] += time.perf_counter() - started
        if release:
            frames.clear()
        for table in present:
            started = time.perf_counter()
            with _stage("merge", table):
                cur.execute(sql_files.statement(f"merge/{table}"))
                stats.merged[table] += max(cur.rowcount, 0)
                cur.execute(f"TRUNCATE stage_{table}")
            stats.table_seconds["merge"][table] += time.perf_counter() - started
        for name in ("copy", "merge"):
            stats.seconds[name] = sum(stats.table_seconds[name].values())
        stats.chunks += 1

    def _copy_direct(self, frames: dict[str, pl.DataFrame], tables: list[str], release: bool) -> None:
        """COPY the frames of ``tables`` straight into their final tables (``release``: each frame leaves
        ``frames`` as its COPY starts, so its memory is free once copied).

        Raises:
            DirectCopyConflict: a row's key is already stored (``unique_violation``); the transaction is
                aborted, and the load must start again with ``direct=False``.
            WarehouseError: any other error of the COPY.
        """
        cur, stats = self._cur, self.stats
        for table in tables:
            started = time.perf_counter()
            try:
                rows = copy_final(cur, self.schema, table, frames.pop(table) if release else frames[table])
            except adbc_driver_manager.Error as exc:
                if sqlstate(exc) == UNIQUE_VIOLATION:
                    raise DirectCopyConflict(table, exc) from exc
                raise WarehouseError(table, "copy", exc) from exc
            finally:
                stats.table_seconds["copy"][table] += time.perf_counter() - started
            stats.copied[table] += rows
            stats.merged[table] += rows
        if tables:
            stats.direct_chunks += 1

    def _touch(self, spans: pl.DataFrame) -> None:
        """Stage the traces of ``spans`` (``stage_touched_traces``): their first and last start time and their
        partial rollup (:func:`~observatory_etl.warehouse.rollup.trace_partials`). The traces rollup recomputes
        exactly these traces at commit, however the spans were loaded; after a direct load, those without a
        ``traces`` row are made from the partials (sql/merge/new_traces.sql). A merge recomputes every touched trace
        from ``trace_spans``, so without ``direct`` only the start times are staged (the partials' other columns
        stay null; computing them cost the bench hour's merge 0.3 s)."""
        if self.direct:
            touched = trace_partials(spans)
        else:  # an unset start is stored as the epoch: the range must reach it
            start = pl.col("start_time").fill_null(EPOCH)
            touched = spans.group_by("trace_id").agg(first_start=start.min(), last_start=start.max())
        self._cur.adbc_ingest("stage_touched_traces", to_arrow(touched), mode="append", temporary=True)

    def record_files(self, files: pl.DataFrame, rejects: pl.DataFrame | None = None) -> None:
        """Stage the ledger rows of this load's files and their rejected records; at commit they are written
        to ``ingested_files`` and ``rejected_records`` (replacing the earlier rejects of those files).

        ``files`` and ``rejects`` have the columns of :data:`observatory_etl.tables.INGESTED_FILES` and
        :data:`observatory_etl.tables.REJECTED_RECORDS`.
        """
        if files.height:
            self._cur.adbc_ingest("stage_ingested_files", files.to_arrow(), mode="append", temporary=True)
        if rejects is not None and rejects.height:
            self._cur.adbc_ingest("stage_rejected_records", rejects.to_arrow(), mode="append", temporary=True)

    def update_costs(self, costs: pl.DataFrame) -> int:
        """Stage recomputed costs and write those that changed; their traces are rolled up at commit.

        ``costs`` has columns trace_id (16-byte Binary), span_id (Int64), input_cost_usd, output_cost_usd,
        total_cost_usd (Float64, USD) and cost_source (String). Returns the spans whose cost changed.
        """
        if not costs.height:
            return 0
        self._cur.adbc_ingest("stage_costs", to_arrow(costs), mode="append", temporary=True)
        self._cur.execute(sql_files.statement("costs/update"))
        changed = max(self._cur.rowcount, 0)
        self._cur.execute(sql_files.statement("costs/touched_traces"))
        self._cur.execute("TRUNCATE stage_costs")
        return changed

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None or self._abandoned:
                self.conn.rollback()
                return
            started = time.perf_counter()
            # Rollups of concurrent loads (two hours holding spans of one trace) are serialized up to
            # commit: the later one then reads the earlier one's committed spans, so no span is left out.
            self._cur.execute(f"SELECT pg_advisory_xact_lock({_ROLLUP_LOCK})")
            self._cur.execute(f"SET LOCAL work_mem = '{ROLLUP_WORK_MEM}'")
            self._cur.execute(f"SET LOCAL random_page_cost = {ROLLUP_RANDOM_PAGE_COST}")
            with _stage("rollup", "traces"):
                self._cur.execute(sql_files.statement("merge/touched_traces"), (self.direct,))
                if self.direct:  # the traces that had no traces row are rolled up from the chunks' partials
                    self._cur.execute(sql_files.statement("merge/new_traces"))
                    self.stats.merged["traces"] += max(self._cur.rowcount, 0)
                    self._cur.execute("ANALYZE touched_traces")  # so that merge/traces.sql plans for the few left
                self._cur.execute(sql_files.statement("merge/touched_range"))
                [(first, last, touched, recomputed)] = self._cur.fetchall()
                if recomputed:  # the sessions of the traces recomputed below, before the rollup (new traces have none)
                    self._cur.execute(sql_files.statement("merge/touched_sessions"), (False,))
            if touched:
                with _stage("rollup", "traces"):
                    self._cur.execute(sql_files.statement("merge/traces"), (first, last))
                    self.stats.merged["traces"] += self._cur.fetchall()[0][0]
                with _stage("rollup", "sessions"):  # from the traces just recomputed
                    self._cur.execute(sql_files.statement("merge/touched_sessions"), (True,))  # ... and after it
                    for statement in sql_files.statements("merge/sessions"):  # recomputed, then left empty: deleted
                        self._cur.execute(statement)
                        self.stats.merged["sessions"] += max(self._cur.rowcount, 0)
            with _stage("merge", "rejected_records"):
                for statement in sql_files.statements("merge/rejected_records"):
                    self._cur.execute(statement)
            with _stage("merge", "ingested_files"):
                self._cur.execute(sql_files.statement("merge/ingested_files"))
                self.stats.ledger_rows += max(self._cur.rowcount, 0)
            self.stats.seconds["rollup"] += time.perf_counter() - started
            started = time.perf_counter()
            with _stage("commit", "the hour"):
                self.conn.commit()
            self.stats.seconds["commit"] += time.perf_counter() - started
        except BaseException:
            try:
                self.conn.rollback()
            except Exception:  # the connection may be gone: the original error is the one to report
                pass
            raise
        finally:
            self._cur.close()


class DirectCopyConflict(Exception):
    """A COPY straight into a final table met a row whose key is already stored (SQLSTATE 23505). The load's
    transaction is aborted (rolled back as the :class:`PartitionLoad` block exits); loading the same records
    again with ``direct=False`` merges them with ``ON CONFLICT DO NOTHING``. ``table`` names the final table."""

    def __init__(self, table: str, error: BaseException):
        self.table = table
        super().__init__(f"COPY straight into {table} met a stored row: {first_line(error)}")


@contextmanager
def _stage(stage: str, table: str) -> Iterator[None]:
    """Turn a database error inside the block into a :class:`WarehouseError` naming ``stage`` and ``table``."""
    try:
        yield
    except adbc_driver_manager.Error as exc:
        raise WarehouseError(table, stage, exc) from exc
