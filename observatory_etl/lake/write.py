"""One landing hour into the lake: the warehouse's own decode and normalization, a second sink.

:func:`write_hour` lists the hour (:func:`observatory_etl.ingest.landing.list_hour`) and decodes it into
chunks exactly as the warehouse load does (:meth:`observatory_etl.pipeline.decoder.Decoder.chunks`: the same
frames; quarantined records are in ``DecodedFile.rejects``, never in the frames, so never in the lake; a
chunk's ``frames()`` keeps the first row per key), and the loader thread the load uses
(:class:`observatory_etl.pipeline.chunks.ChunkLoader`) writes each chunk as Parquet data files while the
next files decode. Memory holds two chunks, not the hour.

Per table, the hour is one Iceberg transaction opened before the first file: ``delete(partition_key ==
hour)`` (whole files: every data file belongs to one landing hour) and then one ``append`` per chunk,
committed once after the last file. Readers see the table's previous hour or the new one, never a part:
a failure before the commits (a file that cannot be read, a write error) commits nothing and deletes the
data files it wrote. Keys repeated across chunks keep their first row (an anti-join on the keys already
written this hour), so the lake holds each key once per landing hour, as the warehouse merges it once.

The six tables commit one after another (Iceberg has no multi-table commit): if a commit fails after
others landed, those tables hold the new hour and the rest the previous one, each complete; the rerun
replaces all of them. A commit that loses a race with another writer (``CommitFailedException``) is
retried by pyiceberg itself with backoff (table properties ``commit.retry.*``); if that is exhausted, or
the other writer replaced the same hour (``ValidationException``), the whole hour is written again, up to
``attempts`` times with exponential backoff and jitter.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.expressions import EqualTo
from pyiceberg.table import Table, Transaction

from .. import config
from ..ingest.landing import list_hour, open_store, partition_key
from ..llm.prices import PriceTable
from ..pipeline.chunks import ChunkLoader
from ..pipeline.decoder import Decoder
from .catalog import ensure_tables
from .schema import LAKE_TABLES, PARTITION_KEY, to_arrow

SNAPSHOT_PROPERTY_HOUR = "observatory.partition-key"
SNAPSHOT_PROPERTY_RUN = "observatory.run-id"


class LakeCommitError(Exception):
    """An hour could not be committed after every attempt (the last ``CommitFailedException`` or
    ``ValidationException`` is the cause); the tables not committed hold their previous hour."""


@dataclass
class LakeHourResult:
    """What writing one hour into the lake did.

    Attributes:
        partition_key: the landing hour, ``YYYY-MM-DD-HH:00``.
        files: landing files read; ``files_rejected`` of them could not be decoded at all.
        records_rejected: records quarantined by the decoders (not written).
        rows: rows written per table (each key once per hour; 0 for a table the hour has no rows of).
        data_files: Parquet data files written per table.
        snapshots: the table's current snapshot id after the commit (None if the table is still empty).
        chunks: chunks written.
        attempts: attempts the hour took (1 unless a commit conflict made it write the hour again).
        seconds: seconds per stage: ``list``, ``read``, ``decode``, ``normalize`` (as the warehouse load counts
            them, plus joining each chunk's frames), ``write`` (key anti-join, Arrow conversion, Parquet files,
            on the writer thread, overlapping the decode of the next files), ``commit``.
        wall_seconds: wall-clock seconds of the whole hour (all attempts).
    """

    partition_key: str
    files: int = 0
    files_rejected: int = 0
    records_rejected: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LAKE_TABLES, 0))
    data_files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LAKE_TABLES, 0))
    snapshots: dict[str, int | None] = field(default_factory=dict)
    chunks: int = 0
    attempts: int = 0
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("list", "read", "decode", "normalize", "write", "commit"), 0.0)
    )
    wall_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows written over all tables."""
        return sum(self.rows.values())


def write_hour(
    catalog: Catalog,
    namespace: str,
    hour: datetime,
    *,
    landing_url: str,
    prices: PriceTable | None = None,
    chunk_rows: int = config.DEFAULT_CHUNK_ROWS,
    chunk_bytes: int = config.DEFAULT_CHUNK_BYTES,
    on_bad_input: str | None = None,
    run_id: str | None = None,
    log: Callable[[str], None] = lambda message: None,
    attempts: int = 3,
    backoff_seconds: float = 1.0,
    tables: dict[str, Table] | None = None,
) -> LakeHourResult:
    """Write one landing hour into the lake's tables, replacing what the lake held for that hour.

    Args:
        catalog: the lake's catalog (:func:`observatory_etl.lake.catalog.open_catalog`).
        namespace: the tables' namespace (the warehouse schema name, ``observatory``).
        hour: the landing hour (UTC, on the hour).
        landing_url: the landing zone root (path or ``file://``/``s3://``/``gs://``/``az://`` URL).
        prices: the price table LLM spans are priced with (default ``PriceTable.load()``, as the warehouse).
        chunk_rows, chunk_bytes: a chunk of files is written once it holds this many rows or bytes.
        on_bad_input: ``quarantine`` (default OBSERVATORY_ON_BAD_INPUT) or ``fail``, as the warehouse load.
        run_id: recorded in each snapshot's summary (``observatory.run-id``) beside the hour
            (``observatory.partition-key``).
        log: called with one line per chunk and one for the hour.
        attempts: times the hour is written when its commit conflicts (at least 1).
        backoff_seconds: first wait between attempts; doubled each time, plus up to 10% jitter.
        tables: the tables (default :func:`observatory_etl.lake.catalog.ensure_tables`, which creates or
            evolves them).

    Returns:
        A :class:`LakeHourResult`.

    Raises:
        LandingError: ``on_bad_input="fail"`` and a file or record is not valid; nothing is committed.
        ObjectStoreError: a landing file cannot be fetched (retrying may help); nothing is committed.
        LakeCommitError: every attempt lost its commit to another writer.
        OSError, pyarrow.ArrowException: the lake's storage failed; the hour's uncommitted tables are unchanged.
    """
    wall = time.perf_counter()
    key = partition_key(hour)
    result = LakeHourResult(partition_key=key)
    prices = prices or PriceTable.load()
    on_bad_input = on_bad_input or config.on_bad_input()
    for attempt in range(1, max(attempts, 1) + 1):
        result.attempts = attempt
        live = tables or ensure_tables(catalog, namespace)
        try:
            _write_once(live, key, hour, landing_url, prices, chunk_rows, chunk_bytes, on_bad_input, run_id, log, result)
            break
        except (CommitFailedException, ValidationException) as exc:
            if attempt >= max(attempts, 1):
                raise LakeCommitError(f"{key}: lake commit failed after {attempt} attempts: {exc}") from exc
            wait = backoff_seconds * 2 ** (attempt - 1)
            wait += random.uniform(0, 0.1 * wait)
            log(f"{key}: lake commit conflict ({type(exc).__name__}: {exc}); writing the hour again in {wait:.1f}s")
            time.sleep(wait)
            tables = None  # reload: the other writer's snapshot is the new base
    result.wall_seconds = time.perf_counter() - wall
    log(f"{key}: lake wrote " + ", ".join(f"{t} {n:,}" for t, n in result.rows.items())
        + f" in {result.wall_seconds:.2f}s" + (f" ({result.attempts} attempts)" if result.attempts > 1 else ""))
    return result


def _write_once(tables: dict[str, Table], key: str, hour: datetime, landing_url: str, prices: PriceTable,
                chunk_rows: int, chunk_bytes: int, on_bad_input: str, run_id: str | None,
                log: Callable[[str], None], result: LakeHourResult) -> None:
    """One attempt: open a transaction per table, delete the hour, append every chunk, commit each table."""
    for name in LAKE_TABLES:
        result.rows[name] = 0
        result.data_files[name] = 0
    result.files = result.files_rejected = result.records_rejected = result.chunks = 0
    properties = {SNAPSHOT_PROPERTY_HOUR: key, **({SNAPSHOT_PROPERTY_RUN: run_id} if run_id else {})}
    started = time.perf_counter()
    files = list_hour(open_store(landing_url), hour)
    result.seconds["list"] += time.perf_counter() - started
    transactions = {name: table.transaction() for name, table in tables.items()}
    try:
        for transaction in transactions.values():
            with warnings.catch_warnings():  # "Delete operation did not match any records": a first write
                warnings.simplefilter("ignore", UserWarning)
                transaction.delete(EqualTo(PARTITION_KEY, key), snapshot_properties=properties)
        written = _Written(tables)

        def write(frames: dict[str, pl.DataFrame], chunk_files: tuple[str, ...]) -> None:
            _append(frames, chunk_files, key, transactions, written, properties, result, log)

        def on_file(file, decoded) -> None:
            for stage in ("read", "decode", "normalize"):
                result.seconds[stage] += decoded.seconds.get(stage, 0.0)
            result.files += 1
            result.records_rejected += len(decoded.rejects)
            if decoded.error is not None:
                result.files_rejected += 1
                log(f"{key}: rejected file {file.path}: {decoded.error} (not in the lake)")

        # The warehouse load's own decode (read-ahead, columns gathered across files) and loader thread.
        with ChunkLoader(write, result.seconds) as writer, Decoder(landing_url, prices, 0, on_bad_input) as decoder:
            for chunk in decoder.chunks(files, chunk_rows, chunk_bytes, on_file):
                writer.submit(chunk)
            writer.wait()
            result.seconds["normalize"] += decoder.flush_seconds
    except BaseException:
        for name, transaction in transactions.items():
            _discard(tables[name], transaction)
        raise
    started = time.perf_counter()
    try:
        for name, transaction in list(transactions.items()):
            committed = transaction.commit_transaction()
            snapshot = committed.current_snapshot()
            result.snapshots[name] = snapshot.snapshot_id if snapshot else None
            del transactions[name]  # committed: nothing to discard any more
    except BaseException:
        for name, transaction in transactions.items():
            _discard(tables[name], transaction)
        raise
    finally:
        result.seconds["commit"] += time.perf_counter() - started


class _Written:
    """The keys written so far this hour, per table, to keep the first row of a key repeated across chunks."""

    def __init__(self, tables: dict[str, Table]):
        self.keys: dict[str, pl.DataFrame | None] = dict.fromkeys(tables)
        self.arrow_schemas = {name: table.schema().as_arrow() for name, table in tables.items()}

    def new_rows(self, name: str, frame: pl.DataFrame) -> pl.DataFrame:
        key = list(LAKE_TABLES[name].key)
        seen = self.keys[name]
        if seen is not None:
            frame = frame.join(seen, on=key, how="anti", nulls_equal=True, maintain_order="left")
        keys = frame.select(key)
        self.keys[name] = keys if seen is None else pl.concat([seen, keys])
        return frame


def _append(frames: dict[str, pl.DataFrame], files: tuple[str, ...], key: str, transactions: dict[str, Transaction],
            written: _Written, properties: dict[str, str], result: LakeHourResult, log: Callable[[str], None]) -> None:
    """Append one chunk's frames (first row per key, also across the hour's chunks) to the transactions
    (on the loader thread; its seconds are ``write``)."""
    started = time.perf_counter()
    counts = {}
    for name, frame in frames.items():
        if name not in transactions:
            continue
        frame = written.new_rows(name, frame)
        if not frame.height:
            continue
        transaction = transactions[name]
        transaction.append(to_arrow(name, frame, key, written.arrow_schemas[name]), snapshot_properties=properties)
        result.data_files[name] += _added_data_files(transaction)
        result.rows[name] += frame.height
        counts[name] = frame.height
    result.seconds["write"] += time.perf_counter() - started
    result.chunks += 1
    log(f"{key}: lake chunk {result.chunks} ({len(files)} files) staged "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items()))


def _added_data_files(transaction: Transaction) -> int:
    """Data files the transaction's latest staged snapshot added (its summary's ``added-data-files``)."""
    snapshot = transaction.table_metadata.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return 0
    return int(snapshot.summary.get("added-data-files", 0) or 0)


def _discard(table: Table, transaction: Transaction) -> None:
    """Delete the files an uncommitted transaction wrote: the data files, manifests and manifest lists of
    its staged snapshots (those the table does not have). Failures to delete are ignored (the files are
    unreferenced either way)."""
    committed = {snapshot.snapshot_id for snapshot in table.metadata.snapshots}
    io = table.io
    paths: list[str] = []
    try:
        for snapshot in transaction.table_metadata.snapshots:
            if snapshot.snapshot_id in committed:
                continue
            paths.append(snapshot.manifest_list)
            for manifest in snapshot.manifests(io):
                if manifest.added_snapshot_id != snapshot.snapshot_id:
                    continue
                paths.append(manifest.manifest_path)
                paths.extend(entry.data_file.file_path for entry in manifest.fetch_manifest_entry(io, discard_deleted=True)
                             if entry.snapshot_id == snapshot.snapshot_id)
    except Exception:
        pass
    for path in paths:
        try:
            io.delete(path)
        except Exception:
            pass
