"""Chunks: the frames of consecutive files, consumed together by a loader thread.

A chunk is handed to :class:`ChunkLoader` once it holds ``chunk_rows`` rows or ``chunk_bytes`` bytes
(:meth:`observatory_etl.pipeline.decoder.Decoder.chunks`); the loader consumes it on its own thread — the
warehouse stages (COPY) and merges it, the lake writes it — while the next files decode.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import polars as pl

from ..ingest.frames import concat_frames

# The interpreter's GIL switch interval while a loader thread runs (seconds; Python's default is 0.005).
# The loader makes many short calls that release the GIL (a COPY or a statement each) and must take it
# back from the decoding thread, which holds it for whole intervals: at 5 ms the 9 chunks of the 200k-span
# bench hour spent 6.3-7.0 s in COPY, at 1 ms 3.1-3.2 s, the hour 14.6-16.0 → 12.9-13.0 s, decode unchanged
# (docs/tuning.md, "Issue 11, session 4"). Since a new hour is copied straight into the final tables, the
# loader is the hour's critical path and the decoder waits for it: at 50 µs the hour took 10.8-11.2 s against
# 11.1-12.6 s at 1 ms (three alternating rounds; 0.2 ms in between) (session 7).
SWITCH_INTERVAL = 0.00005


class Chunk:
    """Frames of consecutive files, merged as one chunk once ``rows`` or ``bytes`` reach their bound.

    ``add`` takes a :class:`DecodedFile`'s frames and the file's key; ``rows`` counts their rows and
    ``bytes`` their in-memory size (polars ``estimated_size``); ``files`` lists the keys; :meth:`take`
    gives one frame per table.
    """

    def __init__(self):
        self._frames: dict[str, list[pl.DataFrame]] = {}
        self.rows = 0
        self.bytes = 0
        self.files: list[str] = []

    def add(self, frames: dict[str, pl.DataFrame], path: str | None = None) -> None:
        if path is not None:
            self.files.append(path)
        for table, frame in frames.items():
            self._frames.setdefault(table, []).append(frame)
            self.rows += frame.height
            self.bytes += frame.estimated_size()

    def take(self) -> dict[str, pl.DataFrame]:
        """One frame per table, taken out of the chunk (which then holds none: the caller's frames are the
        only references to that memory); a key repeated across files keeps its first row, as within a file."""
        parts, self._frames = self._frames, {}
        return concat_frames(parts)


class ChunkLoader:
    """Consume chunks on a background thread while the next files decode: the warehouse's stage-and-merge
    (:mod:`observatory_etl.pipeline.hour`) and the lake's Parquet writes (:mod:`observatory_etl.lake.write`).

    :meth:`submit` joins a chunk's frames in the caller's thread (adding the seconds to ``seconds["normalize"]``),
    waits for the previous chunk, then hands ``consume(frames, files)`` to the thread: at most one chunk is in
    flight, so memory holds two chunks at most, and whatever ``consume`` uses (an ADBC connection, Iceberg
    transactions) is used by one thread at a time — the caller's only after :meth:`wait`. Leaving the block
    waits for the last chunk and re-raises its error; on an error in the caller it still waits, so the
    caller can roll back. Inside the block the interpreter's switch interval is :data:`SWITCH_INTERVAL` (the
    previous value is restored on leaving), so the thread gets the GIL back quickly after each database call.
    """

    def __init__(self, consume: Callable[[dict[str, pl.DataFrame], tuple[str, ...]], None], seconds: dict[str, float]):
        self._consume = consume
        self._seconds = seconds
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="observatory-load")
        self._pending: Future | None = None
        self._switch_interval: float | None = None

    def __enter__(self) -> "ChunkLoader":
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        return self

    def submit(self, chunk: "Chunk") -> None:
        started = time.perf_counter()
        frames = chunk.take()
        self._seconds["normalize"] += time.perf_counter() - started
        self.wait()
        self._pending = self._pool.submit(self._consume, frames, tuple(chunk.files))

    def wait(self) -> None:
        """Wait for the chunk in flight (re-raising its error); what it used is then free."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.wait()
            else:
                # The caller failed: let the in-flight chunk finish (its own error is secondary) so the
                # connection or transactions are free for the rollback.
                try:
                    self.wait()
                except Exception:
                    pass
        finally:
            self._pool.shutdown(wait=True)
            if self._switch_interval is not None:
                sys.setswitchinterval(self._switch_interval)
