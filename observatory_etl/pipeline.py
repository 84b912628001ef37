"""One landing hour end to end: list → read → decode → normalize → COPY → merge, in bounded chunks.

This is the whole load without Dagster (the assets in :mod:`observatory_etl.assets` call it). Files are
decoded in key order into :class:`~observatory_etl.otlp.Columns`; when a chunk reaches ``chunk_rows``
decoded records it is normalized into frames, staged and merged, and the columns are freed, so memory
is bounded by the chunk size (and the largest single file), not by the hour. All chunks of an hour
merge inside one transaction: a file that fails to decode rolls the whole hour back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from . import config, landing, load, normalize, otlp
from .gc_pause import gc_paused


@dataclass
class PartitionResult:
    """What loading one hour did.

    Attributes:
        partition_key: the Dagster partition key (``YYYY-MM-DD-HH:00``).
        files: files read per signal (``traces``, ``metrics``, ``logs``).
        bytes_read: compressed bytes fetched.
        records: records decoded per signal (spans + events + links, data points, log records).
        load: rows staged and merged per table and seconds of the load stages (see ``LoadStats``).
        seconds: wall seconds per stage: ``list``, ``read`` (fetch + decompress), ``decode``,
            ``normalize``, then the load stages ``copy``, ``merge``, ``rollup``, ``commit``, and ``total``.
    """

    partition_key: str
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(landing.SIGNALS, 0))
    bytes_read: int = 0
    records: dict[str, int] = field(default_factory=lambda: dict.fromkeys(landing.SIGNALS, 0))
    load: load.LoadStats = field(default_factory=load.LoadStats)
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("list", "read", "decode", "normalize"), 0.0)
    )

    def stage_seconds(self) -> dict[str, float]:
        """Seconds per stage, landing and load stages together, plus ``total``."""
        stages = {**self.seconds, **self.load.seconds}
        stages["total"] = sum(stages.values())
        return stages


def partition_key(hour: datetime) -> str:
    """The Dagster hourly partition key of ``hour``: ``YYYY-MM-DD-HH:00``."""
    return hour.strftime("%Y-%m-%d-%H:00")


def load_hour(
    hour: datetime,
    *,
    landing_url: str,
    database_url: str,
    schema: str,
    chunk_rows: int = config.DEFAULT_CHUNK_ROWS,
    log: Callable[[str], None] | None = None,
) -> PartitionResult:
    """Load every telemetry file of one landing hour into the final tables; idempotent.

    Args:
        hour: the landing hour (aware UTC datetime on the hour); the files under
            ``year=…/month=…/day=…/hour=HH/`` of ``landing_url`` are loaded.
        landing_url: landing root (path or object-store URL).
        database_url: PostgreSQL libpq URI of the warehouse.
        schema: warehouse schema (validated identifier); created with its tables if missing.
        chunk_rows: decoded records per chunk (spans + events + links + data points + logs).
        log: called with one progress line per chunk.

    Raises:
        landing.LandingError: a file cannot be read or is not valid OTLP/JSON (the message names the
            file and the reason); the hour's transaction is rolled back.
        adbc_driver_manager.Error: the database failed; the transaction is rolled back.
    """
    log = log or (lambda message: None)
    key = partition_key(hour)
    result = PartitionResult(partition_key=key)
    store = landing.open_store(landing_url)

    started = time.perf_counter()
    files = landing.list_hour(store, hour)
    result.seconds["list"] = time.perf_counter() - started
    log(f"{key}: {len(files)} files under {landing_url.rstrip('/')}/{landing.hour_prefix(hour)}")

    conn = load.connect(database_url)
    try:
        load.ensure_schema(conn, schema)
        with load.PartitionLoad(conn, schema, key) as partition:
            result.load = partition.stats
            columns = otlp.Columns()
            for file in files:
                if file.format != "json":
                    raise landing.LandingError(file.path, "OTLP protobuf (.binpb) files are not supported yet; configure the exporter with marshaler otlp_json")
                started = time.perf_counter()
                data = landing.read_file(store, file)
                result.seconds["read"] += time.perf_counter() - started
                result.bytes_read += file.size
                started = time.perf_counter()
                try:
                    with gc_paused():
                        result.records[file.signal] += otlp.decode_file(file.signal, data, columns)
                except otlp.DecodeError as exc:
                    raise landing.LandingError(file.path, str(exc)) from None
                result.seconds["decode"] += time.perf_counter() - started
                result.files[file.signal] += 1
                del data
                if len(columns) >= chunk_rows:
                    _flush(columns, partition, result, log)
                    columns = otlp.Columns()
            if len(columns):
                _flush(columns, partition, result, log)
    finally:
        conn.close()
    log(
        f"{key}: merged "
        + ", ".join(f"{table} {rows:,}" for table, rows in result.load.merged.items())
        + f" in {result.stage_seconds()['total']:.2f}s"
    )
    return result


def _flush(columns: otlp.Columns, partition: load.PartitionLoad, result: PartitionResult, log) -> None:
    started = time.perf_counter()
    frames = normalize.frames(columns)
    result.seconds["normalize"] += time.perf_counter() - started
    partition.chunk(frames)
    log(
        f"{result.partition_key}: chunk {partition.stats.chunks} staged "
        + ", ".join(f"{t} {f.height:,}" for t, f in frames.items() if f.height)
    )
