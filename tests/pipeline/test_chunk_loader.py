"""ChunkLoader: chunks consumed in order on one thread, errors re-raised, and the interpreter's switch interval
lowered only while it runs (so the loader thread gets the GIL back quickly after each database call)."""

from __future__ import annotations

import sys
import threading

import polars as pl
import pytest

from observatory_etl.pipeline.chunks import SWITCH_INTERVAL, Chunk, ChunkLoader


def chunk(rows: int, name: str) -> Chunk:
    c = Chunk()
    c.add({"logs": pl.DataFrame({"x": list(range(rows))})}, name)
    return c


def test_chunks_are_consumed_in_order_on_one_thread_with_the_switch_interval_lowered():
    before = sys.getswitchinterval()
    seen = []

    def consume(frames, files):
        seen.append((files, frames["logs"].height, threading.current_thread().name, sys.getswitchinterval()))

    seconds = {"normalize": 0.0}
    with ChunkLoader(consume, seconds) as loader:
        loader.submit(chunk(3, "a"))
        loader.submit(chunk(5, "b"))
    assert [(files, rows) for files, rows, _, _ in seen] == [(("a",), 3), (("b",), 5)]
    assert {name for _, _, name, _ in seen} != {threading.current_thread().name}
    # (the interpreter keeps the interval in whole microseconds)
    assert [interval for _, _, _, interval in seen] == pytest.approx([min(before, SWITCH_INTERVAL)] * 2, abs=1e-6)
    assert sys.getswitchinterval() == before


def test_an_error_in_the_consumer_is_raised_and_the_switch_interval_restored():
    before = sys.getswitchinterval()

    def consume(frames, files):
        raise ValueError("the database said no")

    with pytest.raises(ValueError, match="said no"):
        with ChunkLoader(consume, {"normalize": 0.0}) as loader:
            loader.submit(chunk(1, "a"))
    assert sys.getswitchinterval() == before
