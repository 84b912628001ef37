"""Decode an hour's files in key order, in this process or in spawned worker processes."""

from __future__ import annotations

import gc
import multiprocessing
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterator

import polars as pl

from ..ingest.columns import Columns
from ..ingest.decode import DecodedFile, build_frames, decode_file, decode_into
from ..ingest.landing import (
    LandingError,
    LandingFile,
    open_store,
    read_concurrency_for,
    read_files,
)
from ..llm.prices import PriceTable
from .chunks import Chunk

# Below this many compressed bytes an hour decodes in the calling process: starting worker processes
# (each imports polars) costs more than it saves.
POOL_MIN_BYTES = 4 * 1024 * 1024


# Rows of a large file decoded alone (SPILL_BYTES) held as Python column lists before they are built into frames:
# lists of Python objects take several times the memory of the frames built from them (measured: a 46k-record
# traces file, 70 MB of lists, 42 MB of frames), so a chunk gathers frames, not lists.
FRAME_ROWS = 16_384
# The same for the rows of smaller files gathered across files (:meth:`Decoder.flush`), built once GATHER_ROWS
# rows or GATHER_BYTES decompressed bytes have gathered: each flush pays a fixed cost of polars calls (the
# frames of six tables, the LLM columns' expressions and costs), so up to twice FRAME_ROWS for small records,
# while the bytes bound keeps the lists of large records as small as before (docs/tuning.md, session 10).
GATHER_ROWS = 32_768
GATHER_BYTES = 12 * 1024 * 1024
# Decompressed bytes from which a file decodes alone, its frames built every FRAME_ROWS rows while it decodes
# (observatory_etl.ingest.columns.Columns.maybe_spill): about 16,000 records of OTLP/JSON spans or logs. Smaller files
# gather into the shared lists.
SPILL_BYTES = 16 * 1024 * 1024


# The first chunks' share of ``chunk_rows`` / ``chunk_bytes``: the loader starts once the first chunk is
# decoded and, since the per-record step is compiled, the decoder keeps ahead of it, so an hour takes the first
# chunk's decode, then the loader's chunks: a small first chunk starts the loader sooner.
FIRST_CHUNKS = (0.25, 0.5)


# Per worker process: the landing store and price table, set once by _init_worker.
_worker_state: tuple | None = None


def _init_worker(landing_url: str, prices: PriceTable, on_bad_input: str) -> None:
    global _worker_state
    _worker_state = (open_store(landing_url), prices, on_bad_input)


def _decode_in_worker(file: LandingFile):
    """A worker's task: :func:`decode_file`, with a LandingError returned (not raised) so that it reaches
    the caller whole."""
    store, prices, on_bad_input = _worker_state
    try:
        return decode_file(store, file, prices, on_bad_input)
    except LandingError as exc:
        return exc


# Compressed bytes the read-ahead may hold at once (decompressed, OTLP/JSON is about 10-15x larger): many
# small objects are fetched 16 at a time, large files one at a time (measured: an hour of 3 MB gzip files
# decoded at the same rate with 1 or 4 reads ahead, at 559 vs 656 MB peak RSS; 4 MB instead of 8 MB, so
# 3 MB files are read one ahead instead of two: load_hour of 297k spans in 40 MB files 441-454 → 439-449 MB).
READ_AHEAD_BYTES = 4 * 1024 * 1024


def _read_ahead(store, files: list[LandingFile]) -> int:
    """Objects to fetch at once: OBSERVATORY_READ_CONCURRENCY, fewer when the hour's files are large."""
    largest = max((f.size for f in files), default=0)
    return max(1, min(read_concurrency_for(store), READ_AHEAD_BYTES // max(largest, 1)))


class Decoder:
    """Decode an hour's files in key order: in this process (``workers=0``) or in ``workers`` processes.

    In this process, files decode into shared column lists whose frames :meth:`flush` builds once
    :data:`GATHER_ROWS` rows or :data:`GATHER_BYTES` bytes have gathered (a file's fixed cost of building polars
    frames — about 5 ms — is paid once per many small files, not once per file; and a chunk holds frames, not the
    several times larger Python lists); the results :meth:`map` yields then have no frames. A file of
    :data:`SPILL_BYTES` or more decodes alone instead and comes with its frames, built every FRAME_ROWS rows while
    it decodes.
    Worker processes return each file's frames, and :meth:`flush` gives nothing.

    :meth:`map` yields ``(file, decode_file result or LandingError)`` in key order (``on_bad_input`` as
    :func:`~observatory_etl.ingest.decode.decode_file` takes it); with workers it keeps
    at most ``2 × workers`` files in flight, so memory stays bounded while the processes stay busy.
    Worker processes are spawned (not forked: the caller runs threads) and live for one hour's load.
    """

    def __init__(self, landing_url: str, prices: PriceTable, workers: int, on_bad_input: str = "quarantine"):
        self._landing_url = landing_url
        self._prices = prices
        self._workers = workers
        self._on_bad_input = on_bad_input
        self._pool: ProcessPoolExecutor | None = None
        # In this process, files decode into one set of column lists; :meth:`flush` builds their frames.
        self._gathered = Columns(prices)
        self._may_hold_nul = False
        self.pending_bytes = 0  # decompressed bytes decoded since the last flush
        self.nul_replaced = 0  # U+0000 values replaced in the frames flush() built
        self.flush_seconds = 0.0  # seconds flush() spent building frames

    def __enter__(self) -> "Decoder":
        # The objects alive now (imported modules: Dagster alone tracks ~230k) are moved out of the cyclic
        # collector's view, after one collection, so that its collections during the decode do not traverse
        # them again and again (the 200k-span bench hour decoded in 8.8 s with them, 7.9 s frozen; Python's
        # gc.freeze). Objects allocated later are collected as usual.
        gc.collect()
        gc.freeze()
        if self._workers:
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self._landing_url, self._prices, self._on_bad_input),
            )
        return self

    def map(self, files: list[LandingFile]):
        if self._pool is None:
            store = open_store(self._landing_url)
            # Objects are fetched and decompressed ahead, OBSERVATORY_READ_CONCURRENCY at a time, in key order;
            # the "read" seconds are the time spent waiting for the next one.
            reads = read_files(store, files, _read_ahead(store, files))
            while True:
                started = time.perf_counter()
                item = next(reads, None)
                waited = time.perf_counter() - started
                if item is None:
                    break
                file, data = item
                try:
                    if isinstance(data, bytes) and len(data) >= SPILL_BYTES:
                        # a large file alone, its frames built every FRAME_ROWS rows as it decodes
                        decoded = decode_file(store, file, self._prices, self._on_bad_input, data, FRAME_ROWS)
                        decoded.seconds["read"] += waited
                        yield file, decoded
                        continue
                    decoded = decode_into(store, file, self._gathered, self._on_bad_input, data)
                except LandingError as exc:
                    yield file, exc
                    continue
                decoded.seconds["read"] += waited
                self._may_hold_nul = self._may_hold_nul or bool(decoded.nul_replaced)
                self.pending_bytes += decoded.bytes_decoded
                yield file, decoded._replace(nul_replaced=0)
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

    @property
    def pending_rows(self) -> int:
        """Records decoded in this process since the last :meth:`flush` (their frames are not built yet)."""
        return self._gathered.rows

    def flush(self) -> dict[str, pl.DataFrame]:
        """The frames of every record decoded in this process since the last flush, built at once (one polars
        frame per table for many small files instead of one per file). Empty with worker processes, whose
        files come with their own frames. The U+0000 values replaced in them add to :attr:`nul_replaced`,
        the seconds to :attr:`flush_seconds`."""
        if not self._gathered.rows:
            return {}
        started = time.perf_counter()
        built, nul_replaced = build_frames(self._gathered, self._may_hold_nul)
        self._gathered, self._may_hold_nul, self.pending_bytes = Columns(self._prices), False, 0
        self.nul_replaced += nul_replaced
        self.flush_seconds += time.perf_counter() - started
        return built

    def chunks(
        self, files: list[LandingFile], chunk_rows: int, chunk_bytes: int,
        on_file: Callable[[LandingFile, DecodedFile], None],
    ) -> Iterator[Chunk]:
        """Decode ``files`` in key order and yield them as chunks of at least ``chunk_rows`` rows or
        ``chunk_bytes`` bytes (the first two a quarter and a half of that, :data:`FIRST_CHUNKS`; the last one
        smaller); ``on_file(file, decoded)`` sees every file's result first (records, rejects, error, seconds).

        Raises:
            LandingError: a file is not valid and bad input fails (``on_bad_input="fail"``), or it is a
                kind no decoder reads.
            ObjectStoreError: an object cannot be fetched.
        """
        chunk = Chunk()
        yielded = 0
        for file, decoded in self.map(files):
            if isinstance(decoded, LandingError):
                raise decoded
            on_file(file, decoded)
            chunk.add(decoded.frames, file.path)
            if self.pending_rows >= GATHER_ROWS or self.pending_bytes >= GATHER_BYTES:  # lists → compact frames
                chunk.add(self.flush())
            share = FIRST_CHUNKS[yielded] if yielded < len(FIRST_CHUNKS) else 1
            if (chunk.rows + self.pending_rows >= chunk_rows * share
                    or chunk.bytes + self.pending_bytes >= chunk_bytes * share):
                chunk.add(self.flush())
                yield chunk
                yielded += 1
                chunk = Chunk()
        chunk.add(self.flush())
        if chunk.rows:
            yield chunk

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
