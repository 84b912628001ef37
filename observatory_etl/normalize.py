"""Normalize decoded OTLP columns into polars frames shaped like the final tables.

Input: :class:`observatory_etl.otlp.Columns` (plain Python lists per column). Output: one
``polars.DataFrame`` per table whose columns, order and dtypes match the staging tables in
``sql/staging.sql`` (JSON columns are text there and cast to jsonb by the merge):

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

from .otlp import Columns

_JSON = pl.String
_TIME_COLUMNS = {
    "start_time_unix_nano": "start_time",
    "end_time_unix_nano": "end_time",
    "time_unix_nano": "time",
    "observed_time_unix_nano": "observed_time",
}

# Decoded (raw) dtypes per table; ns timestamps are Int64 here and become Datetime below.
RAW_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "trace_spans": {
        "trace_id": pl.Binary, "span_id": pl.Int64, "parent_span_id": pl.Int64, "trace_state": pl.String,
        "name": pl.String, "kind": pl.Int16, "service_name": pl.String, "scope_name": pl.String,
        "scope_version": pl.String, "start_time_unix_nano": pl.Int64, "end_time_unix_nano": pl.Int64,
        "status_code": pl.Int16, "status_message": pl.String, "attributes": _JSON,
        "resource_attributes": _JSON, "scope_attributes": _JSON,
        # Canonical LLM columns (docs/llm-mapping.md); null on spans that are not GenAI spans.
        "span_type": pl.String, "operation": pl.String, "provider": pl.String, "request_model": pl.String,
        "response_model": pl.String, "input_tokens": pl.Int64, "output_tokens": pl.Int64,
        "total_tokens": pl.Int64, "cache_read_input_tokens": pl.Int64, "cache_creation_input_tokens": pl.Int64,
        "reasoning_tokens": pl.Int64, "input_cost_usd": pl.Float64, "output_cost_usd": pl.Float64,
        "total_cost_usd": pl.Float64, "cost_source": pl.String, "latency_ms": pl.Float64, "ttft_ms": pl.Float64,
        "finish_reasons": pl.List(pl.String), "session_id": pl.String, "user_id": pl.String,
        "environment": pl.String, "input": _JSON, "output": _JSON,
    },
    "trace_events": {
        "trace_id": pl.Binary, "span_id": pl.Int64, "event_index": pl.Int32, "time_unix_nano": pl.Int64,
        "name": pl.String, "attributes": _JSON,
    },
    "trace_links": {
        "trace_id": pl.Binary, "span_id": pl.Int64, "link_index": pl.Int32, "linked_trace_id": pl.Binary,
        "linked_span_id": pl.Int64, "trace_state": pl.String, "attributes": _JSON,
    },
    "metrics": {
        "metric_id": pl.Binary, "name": pl.String, "service_name": pl.String, "type": pl.String,
        "unit": pl.String, "description": pl.String, "scope_name": pl.String, "scope_version": pl.String,
        "scope_attributes": _JSON, "resource_attributes": _JSON,
    },
    "metric_data_points": {
        "point_id": pl.Binary, "metric_id": pl.Binary, "metric_name": pl.String,
        "start_time_unix_nano": pl.Int64, "time_unix_nano": pl.Int64, "value": pl.Float64,
        "count": pl.Int64, "sum": pl.Float64, "min": pl.Float64, "max": pl.Float64,
        "bucket_counts": pl.List(pl.Int64), "explicit_bounds": pl.List(pl.Float64), "scale": pl.Int32,
        "zero_count": pl.Int64, "zero_threshold": pl.Float64, "positive_offset": pl.Int32,
        "positive_bucket_counts": pl.List(pl.Int64), "negative_offset": pl.Int32,
        "negative_bucket_counts": pl.List(pl.Int64), "quantiles": _JSON, "exemplars": _JSON,
        "flags": pl.Int32, "aggregation_temporality": pl.Int16, "is_monotonic": pl.Boolean,
        "attributes": _JSON,
    },
    "logs": {
        "log_id": pl.Binary, "time_unix_nano": pl.Int64, "observed_time_unix_nano": pl.Int64,
        "trace_id": pl.Binary, "span_id": pl.Int64, "trace_flags": pl.Int16, "severity_number": pl.Int16,
        "severity_text": pl.String, "body": _JSON, "event_name": pl.String, "service_name": pl.String,
        "scope_name": pl.String, "scope_version": pl.String, "scope_attributes": _JSON,
        "attributes": _JSON, "resource_attributes": _JSON,
    },
}

# The unique key of each table's frame (what ON CONFLICT uses in the merge).
KEYS: dict[str, tuple[str, ...]] = {
    "trace_spans": ("trace_id", "span_id"),
    "trace_events": ("trace_id", "span_id", "event_index"),
    "trace_links": ("trace_id", "span_id", "link_index"),
    "metrics": ("metric_id",),
    "metric_data_points": ("point_id",),
    "logs": ("log_id",),
}


def _timestamp(ns_column: str, name: str) -> pl.Expr:
    """Integer ns since the epoch → Datetime(us, UTC); 0 (OTLP's "unset") → null."""
    ns = pl.col(ns_column)
    return pl.when(ns != 0).then(ns // 1000).cast(pl.Datetime("us", "UTC")).alias(name)


def frame(table: str, columns: dict[str, list]) -> pl.DataFrame:
    """Build the staging frame of one table from its decoded column lists.

    Returns a frame with the raw columns of ``RAW_SCHEMAS[table]``, each ``*_unix_nano`` column replaced by
    a Datetime(us, UTC) column (``start_time``, ``end_time``, ``time``, ``observed_time``), plus
    ``duration_ns`` (end − start, ns) for ``trace_spans``. Rows repeating the table's key keep the first.
    """
    raw = pl.DataFrame(columns, schema=RAW_SCHEMAS[table])
    exprs = []
    for column in raw.columns:
        if column in _TIME_COLUMNS:
            exprs.append(_timestamp(column, _TIME_COLUMNS[column]))
        else:
            exprs.append(pl.col(column))
        if table == "trace_spans" and column == "end_time_unix_nano":
            exprs.append((pl.col("end_time_unix_nano") - pl.col("start_time_unix_nano")).alias("duration_ns"))
    return raw.select(exprs).unique(subset=list(KEYS[table]), keep="first", maintain_order=True)


def frames(columns: Columns) -> dict[str, pl.DataFrame]:
    """Build every table's staging frame from one chunk of decoded columns (see :func:`frame`)."""
    return {table: frame(table, cols) for table, cols in columns.tables.items()}
