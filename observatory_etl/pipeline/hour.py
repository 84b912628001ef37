"""One landing hour end to end: list → read → decode → normalize → COPY (→ merge), in bounded chunks.

This is the whole load without Dagster (the assets in :mod:`observatory_etl.defs.assets` call it). Each
file is read, decoded and normalized into frames (:func:`observatory_etl.ingest.decode.decode_file`), in
key order, by worker processes (``decode_workers``, for hours large enough to pay for them, see
:mod:`.decoder`) or in this process. Frames gather into a chunk until it holds ``chunk_rows`` rows or
``chunk_bytes`` bytes; the chunk then goes to a loader thread that loads it while the next files decode (at
most one chunk in flight, see :mod:`.chunks`): copied straight into the final tables for an hour never
loaded before, else staged (COPY) and merged (:mod:`observatory_etl.warehouse.load`). Memory is bounded by
two chunks plus the files in flight, not by the hour. All chunks of an hour load inside one transaction.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from .. import config
from ..ingest.landing import (
    SIGNALS,
    hour_prefix,
    list_hour,
    open_store,
    partition_key,
)
from ..llm.prices import PriceTable, preload_library
from ..warehouse.connection import connect
from ..warehouse.ddl import ensure_schema
from ..warehouse.errors import WarehouseError
from ..warehouse.load import DirectCopyConflict, LoadStats, PartitionLoad
from ..warehouse.partitions import create_partitions
from .chunks import ChunkLoader
from .decoder import POOL_MIN_BYTES, Decoder
from .ledger import (
    ledger_files,
    ledger_frame,
    ledger_row,
    reject_rows,
    rejects_frame,
    unchanged,
)


@dataclass
class PartitionResult:
    """What loading one hour did.

    Attributes:
        partition_key: the Dagster partition key (``YYYY-MM-DD-HH:00``).
        files: files read per signal (``traces``, ``metrics``, ``logs``).
        bytes_read: compressed bytes fetched.
        records: records decoded per signal (spans + events + links, data points, log records).
        load: rows staged, copied straight and merged per table and seconds of the load stages (see ``LoadStats``).
        seconds: wall seconds per stage: ``list``, ``read`` (fetch + decompress), ``decode``,
            ``normalize``; the load stages are in ``load.seconds``.
        wall_seconds: wall-clock seconds of the whole load.
        skipped: every file of the hour was already in the ledger with the same size and ETag, so
            nothing was read or merged.
        records_rejected: records quarantined in ``rejected_records`` (not in ``records``).
        files_rejected: files rejected whole (status ``rejected`` in the ledger, with their error).
        nul_replaced: string values whose U+0000 was replaced by U+FFFD.
    """

    partition_key: str
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIGNALS, 0))
    bytes_read: int = 0
    records: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIGNALS, 0))
    load: LoadStats = field(default_factory=LoadStats)
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("list", "read", "decode", "normalize"), 0.0)
    )
    wall_seconds: float = 0.0
    skipped: bool = False
    records_rejected: int = 0
    files_rejected: int = 0
    nul_replaced: int = 0

    def stage_seconds(self) -> dict[str, float]:
        """Seconds per stage, landing and load stages together, plus ``total`` (wall clock).

        The load stages of one chunk run while the next chunk decodes, so the stages add up to more
        than ``total``.
        """
        return {**self.seconds, **self.load.seconds, "total": self.wall_seconds}


def load_hour(
    hour: datetime,
    *,
    landing_url: str,
    database_url: str,
    schema: str,
    chunk_rows: int = config.DEFAULT_CHUNK_ROWS,
    chunk_bytes: int = config.DEFAULT_CHUNK_BYTES,
    decode_workers: int | None = None,
    prices: PriceTable | None = None,
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
    force: bool = False,
    on_bad_input: str | None = None,
) -> PartitionResult:
    """Load every telemetry file of one landing hour into the final tables; idempotent.

    Args:
        hour: the landing hour (aware UTC datetime on the hour); the files under
            ``year=…/month=…/day=…/hour=HH/`` of ``landing_url`` are loaded.
        landing_url: landing root (path or object-store URL).
        database_url: PostgreSQL libpq URI of the warehouse.
        schema: warehouse schema (validated identifier); created with its tables if missing.
        chunk_rows: rows per chunk (spans + events + links + data points + logs, as normalized).
        chunk_bytes: in-memory bytes of a chunk's frames (polars ``estimated_size``); a chunk is loaded
            when it reaches either bound, so memory stays flat however large the hour.
        decode_workers: processes decoding files in parallel with the load (default
            :func:`observatory_etl.config.decode_workers`); 0 decodes in this process. Hours under 4 MB
            compressed always decode in this process.
        prices: prices LLM spans without a provided cost (default :meth:`PriceTable.load`: genai-prices and the OBSERVATORY_PRICES_CSV override).
        run_id: the Dagster run id recorded in the file ledger.
        log: called with one progress line per chunk.
        force: load the hour even when its files all match the ledger (``observatory-etl reprocess``: after
            a decoder upgrade, hours with rejects are read again; nothing is doubled).
        on_bad_input: ``quarantine`` or ``fail`` (default :func:`observatory_etl.config.on_bad_input`). With
            ``quarantine`` a record that cannot be decoded goes to ``rejected_records`` and a file that
            cannot be decoded is ``rejected`` in the ledger with its error; the hour's good records load.

    An hour whose files all match their ``ingested_files`` rows (same key, size and ETag) is skipped
    (``result.skipped``); otherwise every file is read again and merged (a no-op for rows already loaded),
    and the ledger gains the new files and new versions.

    Raises:
        LandingError: ``on_bad_input="fail"`` and a file or record is not valid (the message names the
            file and the reason), or an OTLP protobuf file; the hour's transaction is rolled back.
        ObjectStoreError: the object store failed to serve a file (retrying may help); rolled back.
        adbc_driver_manager.Error: the database failed; the transaction is rolled back.
    """
    log = log or (lambda message: None)
    wall = time.perf_counter()
    key = partition_key(hour)
    result = PartitionResult(partition_key=key)
    store = open_store(landing_url)

    started = time.perf_counter()
    files = list_hour(store, hour)
    result.seconds["list"] = list_seconds = time.perf_counter() - started
    log(f"{key}: {len(files)} files under {config.redact_url(landing_url).rstrip('/')}/{hour_prefix(hour)}")

    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        ledger = ledger_files(conn, schema, key)
        if not force and unchanged(files, ledger):
            result.skipped = True
            result.wall_seconds = time.perf_counter() - wall
            log(f"{key}: all {len(files)} files unchanged since loaded (ingested_files): skipped")
            return result
        # the price data is imported while the database is set up below, not during the first chunk's decode
        # (and not at all for a skipped hour)
        threading.Thread(target=preload_library, name="observatory-prices", daemon=True).start()
        # Daily partitions for the landing day and its neighbours, before the load's transaction; rows of
        # other days go to the default partitions.
        created = create_partitions(conn, schema, (hour - timedelta(days=1)).date(), (hour + timedelta(days=1)).date())
        if created:
            log(f"{key}: created {created} daily partitions")
        prices = prices or PriceTable.load()
        on_bad_input = on_bad_input or config.on_bad_input()
        workers = config.decode_workers() if decode_workers is None else decode_workers
        workers = workers if sum(f.size for f in files) >= POOL_MIN_BYTES else 0

        def attempt(result: PartitionResult, direct: bool) -> PartitionResult:
            """Decode the files into chunks and load them into ``result`` in one transaction (``direct``: COPY
            straight into the final tables); commits, or rolls back on any exception (DirectCopyConflict too)."""
            with PartitionLoad(conn, schema, key, direct=direct) as partition, \
                    ChunkLoader(_merge_into(partition, log), result.seconds) as loader, \
                    Decoder(landing_url, prices, workers, on_bad_input) as decoder:
                result.load = partition.stats
                # Another run of this hour may have loaded it while this one waited for the hour's lock: read the
                # ledger again under the lock, and skip instead of decoding the whole hour to merge nothing.
                if not force and unchanged(files, ledger_files(conn, schema, key, commit=False)):
                    partition.abandon()
                    result.skipped = True
                    log(f"{key}: loaded by another run while this one waited for the hour's lock: skipped")
                    return result
                ledger_rows: list[dict] = []
                rejected_rows: list[dict] = []

                def on_file(file, decoded) -> None:
                    for stage in ("read", "decode", "normalize"):
                        result.seconds[stage] += decoded.seconds[stage]
                    result.bytes_read += file.size
                    result.records[file.signal] += decoded.records
                    result.files[file.signal] += 1
                    result.records_rejected += len(decoded.rejects)
                    result.nul_replaced += decoded.nul_replaced
                    if decoded.error is not None:
                        result.files_rejected += 1
                        log(f"{key}: rejected file {file.path}: {decoded.error}")
                    elif decoded.rejects:
                        log(f"{key}: {file.path}: {len(decoded.rejects):,} records rejected "
                            f"(first: {decoded.rejects[0].record_path}: {decoded.rejects[0].reason})")
                    ledger_rows.append(ledger_row(file, key, decoded, run_id))
                    rejected_rows.extend(reject_rows(file, key, decoded, run_id))

                for chunk in decoder.chunks(files, chunk_rows, chunk_bytes, on_file):
                    loader.submit(chunk)
                loader.wait()
                result.nul_replaced += decoder.nul_replaced
                result.seconds["normalize"] += decoder.flush_seconds
                partition.record_files(ledger_frame(ledger_rows), rejects_frame(rejected_rows))
            return result

        # An hour none of whose files was loaded before holds new records: its chunks are copied straight into
        # the final tables. A record already stored (delivered twice, or loaded by another hour's run) aborts
        # that: the hour is loaded again, staging and merging, as a reload (a replaced file, reprocess) is.
        try:
            result = attempt(result, direct=not ledger)
        except DirectCopyConflict as exc:
            log(f"{key}: {exc}; loading the hour again, merging")
            result = PartitionResult(partition_key=key)
            result.seconds["list"] = list_seconds
            result = attempt(result, direct=False)
        if result.skipped:
            result.wall_seconds = time.perf_counter() - wall
            return result
    finally:
        conn.close()
    result.wall_seconds = time.perf_counter() - wall
    log(
        f"{key}: merged "
        + ", ".join(f"{table} {rows:,}" for table, rows in result.load.merged.items())
        + f" in {result.wall_seconds:.2f}s"
        + (f"; quarantined {result.records_rejected:,} records and {result.files_rejected:,} files"
           if result.records_rejected or result.files_rejected else "")
    )
    return result


def _merge_into(partition: PartitionLoad, log: Callable[[str], None]):
    """The loader thread's work for the warehouse: load one chunk into ``partition``; a database
    error names the chunk's landing files."""

    def merge(frames: dict, files: tuple[str, ...]) -> None:
        rows = {table: frame.height for table, frame in frames.items() if frame.height}
        try:
            partition.chunk(frames, release=True)  # the frames are freed once copied, before any merge
        except WarehouseError as exc:
            raise exc.with_files(files) from exc.__cause__
        how = "copied straight in" if partition.direct else "merged"
        log(f"{partition.key}: chunk {partition.stats.chunks} {how}: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))

    return merge
