"""One landing hour end to end: list → read → decode → normalize → COPY → merge, in bounded chunks.

This is the whole load without Dagster (the assets in :mod:`observatory_etl.assets` call it). Each file
is read, decoded and normalized into frames (:func:`decode_file`), in key order, by worker processes
(``decode_workers``, for hours large enough to pay for them) or in this process. Frames gather into a
chunk until it holds ``chunk_rows`` rows or ``chunk_bytes`` bytes; the chunk then goes to a loader thread
that stages (COPY) and merges it while the next files decode (at most one chunk in flight). Memory is
bounded by two chunks plus the files in flight, not by the hour. All chunks of an hour merge inside one
transaction: a file that fails to decode rolls the whole hour back.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, NamedTuple

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
    chunk_bytes: int = config.DEFAULT_CHUNK_BYTES,
    decode_workers: int | None = None,
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
        chunk_rows: rows per chunk (spans + events + links + data points + logs, as normalized).
        chunk_bytes: in-memory bytes of a chunk's frames (polars ``estimated_size``); a chunk is merged
            when it reaches either bound, so memory stays flat however large the hour.
        decode_workers: processes decoding files in parallel with the load (default
            :func:`observatory_etl.config.decode_workers`); 0 decodes in this process. Hours under 4 MB
            compressed always decode in this process.
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
        prices = prices or PriceTable.load()
        workers = config.decode_workers() if decode_workers is None else decode_workers
        workers = workers if sum(f.size for f in files) >= _POOL_MIN_BYTES else 0
        with load.PartitionLoad(conn, schema, key) as partition, _ChunkLoader(partition, result, log) as loader, \
                _Decoder(landing_url, prices, workers) as decoder:
            result.load = partition.stats
            ledger_rows: list[dict] = []
            chunk = Chunk()
            for file, decoded in decoder.map(files):
                if isinstance(decoded, landing.LandingError):
                    raise decoded
                for stage in ("read", "decode", "normalize"):
                    result.seconds[stage] += decoded.seconds[stage]
                result.bytes_read += file.size
                result.records[file.signal] += decoded.records
                result.files[file.signal] += 1
                ledger_rows.append(_ledger_row(file, key, decoded.records, run_id))
                chunk.add(decoded.frames)
                if chunk.rows >= chunk_rows or chunk.bytes >= chunk_bytes:
                    loader.submit(chunk)
                    chunk = Chunk()
            if chunk.rows:
                loader.submit(chunk)
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


# Below this many compressed bytes an hour decodes in the calling process: starting worker processes
# (each imports polars) costs more than it saves.
_POOL_MIN_BYTES = 4 * 1024 * 1024


class DecodedFile(NamedTuple):
    """One landing file, decoded and normalized.

    Attributes:
        frames: the file's non-empty frames per final table (see :func:`observatory_etl.normalize.frames`).
        records: records decoded (spans + events + links, data points, log records).
        seconds: wall seconds per stage: ``read`` (fetch + decompress), ``decode``, ``normalize``.
    """

    frames: dict[str, pl.DataFrame]
    records: int
    seconds: dict[str, float]


def decode_file(store, file: landing.LandingFile, prices: PriceTable) -> DecodedFile:
    """Read, decompress, decode and normalize one landing file (prices price its LLM spans).

    Raises:
        landing.LandingError: the file is not valid (compressed) OTLP/JSON or native LLM spans, or is
            OTLP protobuf, which is not supported yet.
        landing.ObjectStoreError: the object cannot be fetched.
    """
    if file.format == "binpb":
        raise landing.LandingError(file.path, "OTLP protobuf (.binpb) files are not supported yet; use the otlp_json marshaler")
    seconds = {}
    started = time.perf_counter()
    data = landing.read_file(store, file)
    seconds["read"] = time.perf_counter() - started
    started = time.perf_counter()
    columns = otlp.Columns(prices)
    try:
        with gc_paused():
            if file.signal == "llm_spans":
                records = native.decode_file(data, columns)
            else:
                records = otlp.decode_file(file.signal, data, columns)
    except otlp.DecodeError as exc:
        raise landing.LandingError(file.path, str(exc)) from None
    del data
    seconds["decode"] = time.perf_counter() - started
    started = time.perf_counter()
    frames = {table: frame for table, frame in normalize.frames(columns).items() if frame.height}
    seconds["normalize"] = time.perf_counter() - started
    return DecodedFile(frames, records, seconds)


class Chunk:
    """Frames of consecutive files, merged as one chunk once ``rows`` or ``bytes`` reach their bound.

    ``add`` takes a :class:`DecodedFile`'s frames; ``rows`` counts their rows and ``bytes`` their in-memory
    size (polars ``estimated_size``); :meth:`frames` gives one frame per table.
    """

    def __init__(self):
        self._frames: dict[str, list[pl.DataFrame]] = {}
        self.rows = 0
        self.bytes = 0

    def add(self, frames: dict[str, pl.DataFrame]) -> None:
        for table, frame in frames.items():
            self._frames.setdefault(table, []).append(frame)
            self.rows += frame.height
            self.bytes += frame.estimated_size()

    def frames(self) -> dict[str, pl.DataFrame]:
        """One frame per table; a key repeated across files keeps its first row, as within a file."""
        return {
            table: parts[0] if len(parts) == 1 else pl.concat(parts).unique(
                subset=list(normalize.KEYS[table]), keep="first", maintain_order=True
            )
            for table, parts in self._frames.items()
        }


# Per worker process: the landing store and price table, set once by _init_worker.
_worker_state: tuple | None = None


def _init_worker(landing_url: str, prices: PriceTable) -> None:
    global _worker_state
    _worker_state = (landing.open_store(landing_url), prices)


def _decode_in_worker(file: landing.LandingFile):
    """A worker's task: :func:`decode_file`, with a LandingError returned (not raised) so that it reaches
    the caller whole."""
    store, prices = _worker_state
    try:
        return decode_file(store, file, prices)
    except landing.LandingError as exc:
        return exc


class _Decoder:
    """Decode an hour's files in key order: in this process (``workers=0``) or in ``workers`` processes.

    :meth:`map` yields ``(file, decode_file result or LandingError)`` in key order; with workers it keeps
    at most ``2 × workers`` files in flight, so memory stays bounded while the processes stay busy.
    Worker processes are spawned (not forked: the caller runs threads) and live for one hour's load.
    """

    def __init__(self, landing_url: str, prices: PriceTable, workers: int):
        self._landing_url = landing_url
        self._prices = prices
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "_Decoder":
        if self._workers:
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self._landing_url, self._prices),
            )
        return self

    def map(self, files: list[landing.LandingFile]):
        if self._pool is None:
            store = landing.open_store(self._landing_url)
            for file in files:
                try:
                    yield file, decode_file(store, file, self._prices)
                except landing.LandingError as exc:
                    yield file, exc
            return
        pending: deque = deque()
        todo = iter(files)
        for file in todo:
            pending.append((file, self._pool.submit(_decode_in_worker, file)))
            if len(pending) >= 2 * self._workers:
                break
        while pending:
            file, future = pending.popleft()
            yield file, future.result()
            following = next(todo, None)
            if following is not None:
                pending.append((following, self._pool.submit(_decode_in_worker, following)))

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


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

    def submit(self, chunk: "Chunk") -> None:
        started = time.perf_counter()
        frames = chunk.frames()
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
