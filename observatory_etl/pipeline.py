"""One landing hour end to end: list → read → decode → normalize → COPY → merge, in bounded chunks.

This is the whole load without Dagster (the assets in :mod:`observatory_etl.assets` call it). Files are
decoded in key order into :class:`~observatory_etl.otlp.Columns`; when a chunk reaches ``chunk_rows``
decoded records it is normalized into frames and handed to a loader thread that stages and merges it
while the next chunk decodes (at most one chunk in flight), so memory is bounded by two chunks (and the
largest single file), not by the hour. All chunks of an hour merge inside one transaction: a file that
fails to decode rolls the whole hour back.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

import polars as pl

from . import config, landing, load, native, normalize, otlp, sql
from .genai import resolve_cost
from .pricing import PriceTable
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
            ``normalize``; the load stages are in ``load.seconds``.
        wall_seconds: wall-clock seconds of the whole load.
        skipped: every file of the hour was already in the ledger with the same size and ETag, so
            nothing was read or merged.
    """

    partition_key: str
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(landing.SIGNALS, 0))
    bytes_read: int = 0
    records: dict[str, int] = field(default_factory=lambda: dict.fromkeys(landing.SIGNALS, 0))
    load: load.LoadStats = field(default_factory=load.LoadStats)
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("list", "read", "decode", "normalize"), 0.0)
    )
    wall_seconds: float = 0.0
    skipped: bool = False

    def stage_seconds(self) -> dict[str, float]:
        """Seconds per stage, landing and load stages together, plus ``total`` (wall clock).

        The load stages of one chunk run while the next chunk decodes, so the stages add up to more
        than ``total``.
        """
        return {**self.seconds, **self.load.seconds, "total": self.wall_seconds}


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
    prices: PriceTable | None = None,
    run_id: str | None = None,
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
        prices: prices LLM spans without a provided cost (default: the packaged price table).
        run_id: the Dagster run id recorded in the file ledger.
        log: called with one progress line per chunk.

    An hour whose files all match their ``ingested_files`` rows (same key, size and ETag) is skipped
    (``result.skipped``); otherwise every file is read again and merged (a no-op for rows already loaded),
    and the ledger gains the new files and new versions.

    Raises:
        landing.LandingError: a file cannot be read or is not valid OTLP/JSON (the message names the
            file and the reason); the hour's transaction is rolled back.
        adbc_driver_manager.Error: the database failed; the transaction is rolled back.
    """
    log = log or (lambda message: None)
    wall = time.perf_counter()
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
        ledger = load.ledger_files(conn, schema, key)
        if all(ledger.get(f.path) == (f.size, f.e_tag) for f in files):
            result.skipped = True
            result.wall_seconds = time.perf_counter() - wall
            log(f"{key}: all {len(files)} files unchanged since loaded (ingested_files): skipped")
            return result
        # Daily partitions for the landing day and its neighbours, before the load's transaction; rows of
        # other days go to the default partitions.
        created = load.create_partitions(conn, schema, (hour - timedelta(days=1)).date(), (hour + timedelta(days=1)).date())
        if created:
            log(f"{key}: created {created} daily partitions")
        with load.PartitionLoad(conn, schema, key) as partition, _ChunkLoader(partition, result, log) as loader:
            result.load = partition.stats
            ledger_rows: list[dict] = []
            prices = prices or PriceTable.load()
            columns = otlp.Columns(prices)
            for file in files:
                if file.format == "binpb":
                    raise landing.LandingError(
                        file.path, "OTLP protobuf (.binpb) files are not supported yet; use the otlp_json marshaler"
                    )
                started = time.perf_counter()
                data = landing.read_file(store, file)
                result.seconds["read"] += time.perf_counter() - started
                result.bytes_read += file.size
                started = time.perf_counter()
                added = _decode(file, data, columns)
                result.seconds["decode"] += time.perf_counter() - started
                result.records[file.signal] += added
                result.files[file.signal] += 1
                ledger_rows.append(_ledger_row(file, key, added, run_id))
                del data
                if len(columns) >= chunk_rows:
                    loader.submit(columns)
                    columns = otlp.Columns(prices)
            if len(columns):
                loader.submit(columns)
            loader.wait()
            partition.record_files(pl.DataFrame(ledger_rows, schema=_LEDGER_SCHEMA))
    finally:
        conn.close()
    result.wall_seconds = time.perf_counter() - wall
    log(
        f"{key}: merged "
        + ", ".join(f"{table} {rows:,}" for table, rows in result.load.merged.items())
        + f" in {result.wall_seconds:.2f}s"
    )
    return result


def _decode(file: landing.LandingFile, data: bytes, columns: otlp.Columns) -> int:
    """Decode one file's bytes into ``columns``; a DecodeError becomes a LandingError naming the file."""
    try:
        with gc_paused():
            if file.signal == "llm_spans":
                return native.decode_file(data, columns)
            return otlp.decode_file(file.signal, data, columns)
    except otlp.DecodeError as exc:
        raise landing.LandingError(file.path, str(exc)) from None


_LEDGER_SCHEMA = {
    "object_key": pl.String, "size": pl.Int64, "etag": pl.String, "last_modified": pl.Datetime("us", "UTC"),
    "signal": pl.String, "partition_key": pl.String, "records_read": pl.Int64, "rows_merged": pl.Int64,
    "rejected": pl.Int64, "run_id": pl.String, "loaded_at": pl.Datetime("us", "UTC"), "status": pl.String,
}


def _ledger_row(file: landing.LandingFile, key: str, records: int, run_id: str | None) -> dict:
    """The ``ingested_files`` row of one decoded file. Every decoded record is merged with ON CONFLICT, so
    all of them are held by the final tables after commit (inserted now or already there): rows_merged =
    records read − rejected, and nothing is rejected until quarantine exists."""
    return {
        "object_key": file.path, "size": file.size, "etag": file.e_tag, "last_modified": file.last_modified,
        "signal": file.signal, "partition_key": key, "records_read": records, "rows_merged": records,
        "rejected": 0, "run_id": run_id, "loaded_at": datetime.now(timezone.utc), "status": "loaded",
    }


class _ChunkLoader:
    """Stage and merge chunks on a background thread while the next chunk decodes.

    At most one chunk is in flight: :meth:`submit` first waits for the previous one, so memory holds two
    chunks at most. The ADBC connection is used by one thread at a time (the loader thread while a chunk
    is in flight, the caller's only after :meth:`close`). Leaving the block waits for the last chunk and
    re-raises its error; on an error in the caller it still waits, so the transaction can be rolled back.
    """

    def __init__(self, partition: load.PartitionLoad, result: PartitionResult, log):
        self._partition = partition
        self._result = result
        self._log = log
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="observatory-load")
        self._pending: Future | None = None

    def __enter__(self) -> "_ChunkLoader":
        return self

    def submit(self, columns: otlp.Columns) -> None:
        started = time.perf_counter()
        frames = normalize.frames(columns)
        self._result.seconds["normalize"] += time.perf_counter() - started
        self.wait()
        self._pending = self._pool.submit(self._load, frames)

    def _load(self, frames: dict) -> None:
        self._partition.chunk(frames)
        self._log(
            f"{self._result.partition_key}: chunk {self._partition.stats.chunks} merged "
            + ", ".join(f"{t} {f.height:,}" for t, f in frames.items() if f.height)
        )

    def wait(self) -> None:
        """Wait for the chunk in flight (re-raising its error); the connection is then free."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.wait()
            else:
                # The caller failed: let the in-flight chunk finish (its own error is secondary) so the
                # connection is free for the rollback.
                try:
                    self.wait()
                except Exception:
                    pass
        finally:
            self._pool.shutdown(wait=True)


@dataclass
class CostResult:
    """What a cost recomputation did: LLM spans priced by the table in the window, and spans changed."""

    spans_considered: int
    spans_changed: int
    price_table_version: str


def recompute_costs(
    start: datetime,
    end: datetime,
    *,
    database_url: str,
    schema: str,
    prices: PriceTable | None = None,
) -> CostResult:
    """Recompute the cost of every LLM span starting in [start, end) that has no provided cost.

    Uses ``prices`` (the packaged price table unless given) exactly as the load does
    (:func:`observatory_etl.genai.resolve_cost`), writes the spans whose cost changed, and rolls up their
    traces and sessions, in one transaction. Running it twice changes nothing the second time.
    """
    prices = prices or PriceTable.load()
    conn = load.connect(database_url)
    try:
        load.ensure_schema(conn, schema)
        with load.PartitionLoad(conn, schema, f"costs:{start.isoformat()}:{end.isoformat()}") as partition:
            with conn.cursor() as cur:
                cur.execute(sql.statement("costs/select"), (start, end))
                spans = pl.from_arrow(cur.fetch_arrow_table())
            columns = {name: [] for name in ("input_cost_usd", "output_cost_usd", "total_cost_usd", "cost_source")}
            for row in spans.iter_rows(named=True):
                start_ns = int(row["start_time"].timestamp() * 1e9) if row["start_time"] else 0
                costs = resolve_cost(
                    None, None, None, prices, row["provider"], row["model"], start_ns, row["input_tokens"],
                    row["output_tokens"], row["cache_read_input_tokens"], row["cache_creation_input_tokens"],
                )
                for values, value in zip(columns.values(), costs):
                    values.append(value)
            frame = pl.DataFrame(
                {
                    "trace_id": spans["trace_id"].cast(pl.Binary) if spans.height else pl.Series([], dtype=pl.Binary),
                    "span_id": spans["span_id"] if spans.height else pl.Series([], dtype=pl.Int64),
                    **columns,
                },
                schema_overrides={"input_cost_usd": pl.Float64, "output_cost_usd": pl.Float64,
                                  "total_cost_usd": pl.Float64, "cost_source": pl.String},
            )
            changed = partition.update_costs(frame)
    finally:
        conn.close()
    return CostResult(spans_considered=spans.height, spans_changed=changed, price_table_version=prices.version)
