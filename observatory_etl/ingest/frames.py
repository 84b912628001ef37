"""Normalize decoded columns into polars frames shaped like the final tables.

Input: :class:`observatory_etl.ingest.columns.Columns` (plain Python lists per column). Output: one
``polars.DataFrame`` per record table whose columns, order and dtypes are the table's in
:mod:`observatory_etl.tables` and ``sql/staging.sql`` (JSON columns are text there and cast to jsonb by
the merge):

============================  ================================================================
dtype                         columns
============================  ================================================================
Binary (16 bytes → uuid)      trace_id, linked_trace_id, metric_id, point_id, log_id
Int64 (→ bigint)              span_id, parent_span_id, linked_span_id, duration_ns, count, zero_count
Datetime(us, UTC)             start_time, end_time, time, observed_time (from ns; 0 → null)
Int16 (→ smallint)            kind, status_code, severity_number, trace_flags, aggregation_temporality
String holding JSON (→ jsonb) attributes, resource_attributes, scope_attributes, body, quantiles, exemplars,
                              input, output
============================  ================================================================

Timestamps are truncated from OTLP nanoseconds to PostgreSQL's microseconds; ``duration_ns`` keeps the
span's exact nanosecond duration. The ``traces`` rollup is computed in SQL from ``trace_spans``
(``sql/merge/traces.sql``) so that a trace split over chunks or hours is summarized whole.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from ..llm.mapping import LLM_SCHEMA, LlmSources
from ..llm.prices import PriceTable
from ..tables import JSON, RECORD_TABLES, raw_schema
from .columns import Columns

# Decoded (raw) dtypes per table; ns timestamps are Int64 here and become Datetime below.
RAW_SCHEMAS: dict[str, dict[str, pl.DataType]] = {table: raw_schema(table) for table in RECORD_TABLES}
# The unique key of each table's frame (what ON CONFLICT uses in the merge).
KEYS: dict[str, tuple[str, ...]] = {table: t.key for table, t in RECORD_TABLES.items()}
# Decoded ns column -> frame timestamp column, per table.
_TIME_COLUMNS = {
    table: {c.from_ns: c.name for c in t.columns if c.from_ns} for table, t in RECORD_TABLES.items()
}


def _timestamp(ns_column: str, name: str) -> pl.Expr:
    """Integer ns since the epoch → Datetime(us, UTC); 0 (OTLP's "unset") → null."""
    ns = pl.col(ns_column)
    return pl.when(ns != 0).then(ns // 1000).cast(pl.Datetime("us", "UTC")).alias(name)


def frame(table: str, columns: dict[str, list], llm: LlmSources | None = None,
          prices: PriceTable | None = None) -> pl.DataFrame:
    """Build the staging frame of one table from its decoded column lists.

    Returns a frame with the raw columns of ``RAW_SCHEMAS[table]``, each ``*_unix_nano`` column replaced by
    a Datetime(us, UTC) column (``start_time``, ``end_time``, ``time``, ``observed_time``), plus
    ``duration_ns`` (end − start, ns) for ``trace_spans``. Rows repeating the table's key keep the first.
    For ``trace_spans`` the canonical LLM columns come from ``llm`` (priced with ``prices``; null on spans it
    does not hold).
    """
    schema = RAW_SCHEMAS[table]
    raw = pl.DataFrame({name: _series(name, values, schema[name]) for name, values in columns.items()})
    if table == "trace_spans":
        if llm is not None and len(llm):
            start, end = raw["start_time_unix_nano"], raw["end_time_unix_nano"]
            llm_frame = llm.frame(start, end, prices or PriceTable.load())
            raw = raw.with_row_index("row").join(llm_frame, on="row", how="left", maintain_order="left").drop("row")
        else:
            raw = raw.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in LLM_SCHEMA.items())
    times = _TIME_COLUMNS[table]
    exprs = []
    for column in raw.columns:
        if column in times:
            exprs.append(_timestamp(column, times[column]))
        else:
            exprs.append(pl.col(column))
        if table == "trace_spans" and column == "end_time_unix_nano":
            exprs.append((pl.col("end_time_unix_nano") - pl.col("start_time_unix_nano")).alias("duration_ns"))
    return first_per_key(raw.select(exprs), table)


# Arrow types of the inner values of list columns (metric_data_points' bucket counts and bounds).
_ARROW_INNER = {pl.Int64: pa.int64(), pl.Float64: pa.float64(), pl.String: pa.large_string()}


def _series(name: str, values: list, dtype: pl.DataType) -> pl.Series:
    """One decoded column as a Series of ``dtype``. A list column (a Python list of lists or None) goes through
    pyarrow's converter: polars builds a Series per row for nested lists (~35 ms for 10,000 histogram
    points' bucket counts, against 2-15 ms)."""
    if isinstance(dtype, pl.List) and dtype.inner in _ARROW_INNER:
        return pl.Series(name, pa.array(values, type=pa.large_list(_ARROW_INNER[dtype.inner])), dtype=dtype)
    return pl.Series(name, values, dtype=dtype)


def first_per_key(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """``frame`` without the rows that repeat an earlier row's key (``KEYS[table]``); the frame itself, not a
    copy, when no key repeats (the usual case: the check hashes the keys, the copy would move every value)."""
    keys = list(KEYS[table])
    key = pl.struct(keys) if len(keys) > 1 else pl.col(keys[0])
    if not frame.height or not frame.select(key.is_duplicated().any()).item():
        return frame
    return frame.unique(subset=keys, keep="first", maintain_order=True)


def concat_frames(parts: dict[str, list[pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """One frame per table from its parts in order (frames of consecutive files, or of one file built in
    parts); a key repeated across parts keeps its first row (:func:`first_per_key`), as within a part."""
    return {table: frames[0] if len(frames) == 1 else first_per_key(pl.concat(frames), table)
            for table, frames in parts.items()}


def frames(columns: Columns) -> dict[str, pl.DataFrame]:
    """Build every table's staging frame from one chunk of decoded columns (see :func:`frame`)."""
    return {table: frame(table, cols, columns.llm, columns.prices) for table, cols in columns.tables.items()}


# PostgreSQL text and jsonb cannot hold U+0000 (valid in JSON strings, and in protobuf strings): it is
# replaced by U+FFFD, the Unicode replacement character — as a raw character in text columns, as the
# escape \ufffd inside JSON text (orjson writes U+0000 as the escape \u0000).
NUL_REPLACEMENT = "\ufffd"


def replace_nul(tables: dict[str, pl.DataFrame]) -> tuple[dict[str, pl.DataFrame], int]:
    """Replace U+0000 in every string column of ``tables`` (see :data:`NUL_REPLACEMENT`).

    Returns the new frames and how many string values held a U+0000. Call it only for input that may hold
    one (its bytes contain ``\u0000``): it scans every string column.
    """
    replaced = 0
    out = {}
    for name, frame in tables.items():
        json_columns = {c.name for c in RECORD_TABLES[name].columns if c.type is JSON}
        exprs, counts = [], []
        for column, dtype in frame.schema.items():
            if dtype == pl.String:
                needle = "\\u0000" if column in json_columns else "\x00"
                hit = pl.col(column).str.contains(needle, literal=True)
                counts.append(hit.sum().alias(column))
                exprs.append(pl.col(column).str.replace_all(needle, "\\ufffd" if column in json_columns else NUL_REPLACEMENT,
                                                            literal=True))
            elif dtype == pl.List(pl.String):
                hit = pl.col(column).list.eval(pl.element().str.contains("\x00", literal=True)).list.any()
                counts.append(hit.sum().alias(column))
                exprs.append(pl.col(column).list.eval(pl.element().str.replace_all("\x00", NUL_REPLACEMENT, literal=True)))
        if counts and frame.height:
            replaced += int(frame.select(counts).sum_horizontal().item() or 0)
            frame = frame.with_columns(exprs)
        out[name] = frame
    return out, replaced
