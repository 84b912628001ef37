"""One landing file from bytes to frames: read, decompress, decode (OTLP/JSON or LLM-span JSON Lines),
price the LLM spans and normalize into one polars frame per record table.

:func:`decode_file` is pure but for reading the object; the pipeline calls it per file, in this process
or in decode worker processes (:mod:`observatory_etl.pipeline.decoder`).
"""

from __future__ import annotations

import time
from typing import NamedTuple

import polars as pl

from ..llm.prices import PriceTable
from . import llm_spans, otlp_json
from .columns import Columns, DecodeError
from .frames import frames
from .gc_pause import gc_paused
from .landing import LandingError, LandingFile, read_file


class DecodedFile(NamedTuple):
    """One landing file, decoded and normalized.

    Attributes:
        frames: the file's non-empty frames per final table (see :func:`observatory_etl.ingest.frames.frames`).
        records: records decoded (spans + events + links, data points, log records).
        seconds: wall seconds per stage: ``read`` (fetch + decompress), ``decode``, ``normalize``.
    """

    frames: dict[str, pl.DataFrame]
    records: int
    seconds: dict[str, float]


def decode_file(store, file: LandingFile, prices: PriceTable) -> DecodedFile:
    """Read, decompress, decode and normalize one landing file (prices price its LLM spans).

    Raises:
        LandingError: the file is not valid (compressed) OTLP/JSON or LLM-span JSON Lines, or is
            OTLP protobuf, which is not supported yet.
        ObjectStoreError: the object cannot be fetched.
    """
    if file.format == "binpb":
        raise LandingError(file.path, "OTLP protobuf (.binpb) files are not supported yet; use the otlp_json marshaler")
    seconds = {}
    started = time.perf_counter()
    data = read_file(store, file)
    seconds["read"] = time.perf_counter() - started
    started = time.perf_counter()
    columns = Columns(prices)
    try:
        with gc_paused():
            if file.signal == "llm_spans":
                records = llm_spans.decode(data, columns)
            else:
                records = otlp_json.decode(file.signal, data, columns)
    except DecodeError as exc:
        raise LandingError(file.path, str(exc)) from None
    del data
    seconds["decode"] = time.perf_counter() - started
    started = time.perf_counter()
    non_empty = {table: frame for table, frame in frames(columns).items() if frame.height}
    seconds["normalize"] = time.perf_counter() - started
    return DecodedFile(non_empty, records, seconds)
