"""Decode an hour's files in key order, in this process or in spawned worker processes."""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor

from ..ingest.decode import decode_file
from ..ingest.landing import LandingError, LandingFile, open_store
from ..llm.prices import PriceTable

# Below this many compressed bytes an hour decodes in the calling process: starting worker processes
# (each imports polars) costs more than it saves.
POOL_MIN_BYTES = 4 * 1024 * 1024


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


class Decoder:
    """Decode an hour's files in key order: in this process (``workers=0``) or in ``workers`` processes.

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

    def __enter__(self) -> "Decoder":
        if self._workers:
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self._landing_url, self._prices, self._on_bad_input),
            )
        return self

    def map(self, files: list[LandingFile]):
        if self._pool is None:
            store = open_store(self._landing_url)
            for file in files:
                try:
                    yield file, decode_file(store, file, self._prices, self._on_bad_input)
                except LandingError as exc:
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
