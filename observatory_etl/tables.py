"""The table catalogue: every table the load writes, its frame columns with their polars and SQL types,
its key, whether it is partitioned by event day, the merge order and the asset descriptions.

Everything else derives from here: the decoded column lists (:func:`raw_schema`), the frames
(:mod:`observatory_etl.ingest.frames`), the uuid columns converted for COPY, the merge order and the
Dagster asset specs. ``sql/staging.sql`` and ``sql/schema.sql`` are checked against this module by
``tests/test_tables.py`` (it creates them on a real server and compares ``information_schema``).

Frame (= staging table) types:

===========================  ===============================  ==============================================
type                         polars dtype                     PostgreSQL (staging → final)
===========================  ===============================  ==============================================
``UUID``                     Binary (16 bytes)                uuid
``BIGINT``/``INTEGER``/…     Int64 / Int32 / Int16            bigint / integer / smallint
``TIMESTAMPTZ``              Datetime(us, UTC)                timestamptz (from OTLP ns; 0 → null)
``JSON``                     String holding JSON text         text → jsonb (cast by the merge)
``TEXT_ARRAY`` etc.          List(String) / List(Int64) / …   text[] / bigint[] / double precision[]
===========================  ===============================  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import polars as pl

# An unset OTLP time (0) of a partition column is stored as the epoch (sql/schema.sql).
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ColumnType:
    """A frame column's polars dtype and its staging-table SQL type (as ``information_schema`` names it)."""

    dtype: pl.DataType
    sql: str


UUID = ColumnType(pl.Binary, "uuid")
BIGINT = ColumnType(pl.Int64, "bigint")
INTEGER = ColumnType(pl.Int32, "integer")
SMALLINT = ColumnType(pl.Int16, "smallint")
FLOAT8 = ColumnType(pl.Float64, "double precision")
BOOLEAN = ColumnType(pl.Boolean, "boolean")
TEXT = ColumnType(pl.String, "text")
JSON = ColumnType(pl.String, "text")  # JSON text, cast to jsonb by the merge (ADBC cannot COPY into jsonb)
TIMESTAMPTZ = ColumnType(pl.Datetime("us", "UTC"), "timestamp with time zone")
TEXT_ARRAY = ColumnType(pl.List(pl.String), "text[]")
BIGINT_ARRAY = ColumnType(pl.List(pl.Int64), "bigint[]")
FLOAT8_ARRAY = ColumnType(pl.List(pl.Float64), "double precision[]")


@dataclass(frozen=True)
class Column:
    """One frame column.

    Attributes:
        name: the column's name in the frame, the staging table and the final table.
        type: its :class:`ColumnType`.
        from_ns: for a ``TIMESTAMPTZ`` column, the decoded OTLP column of integer ns it is built from
            (``start_time_unix_nano`` → ``start_time``); None otherwise.
        derived: computed by :func:`observatory_etl.ingest.frames.frame`, not decoded (``duration_ns``).
    """

    name: str
    type: ColumnType
    from_ns: str | None = None
    derived: bool = False


@dataclass(frozen=True)
class Table:
    """One final table.

    Attributes:
        name: the table's name (also the Dagster asset's name).
        description: what one row is (the asset's description).
        key: the columns identifying a record (ON CONFLICT; a chunk keeps the first row per key).
        columns: the frame / staging columns in order; empty for the rollup tables computed in SQL.
        partitioned: partitioned by event day (``sql/partitions.sql``).
    """

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...] = ()
    partitioned: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def schema(self) -> dict[str, pl.DataType]:
        """The frame's polars schema ``{column: dtype}``."""
        return {c.name: c.type.dtype for c in self.columns}


def _columns(*spec: tuple) -> tuple[Column, ...]:
    return tuple(Column(*item) for item in spec)


# The canonical LLM columns of trace_spans (docs/llm-mapping.md); null on spans that are not GenAI spans.
LLM_SPAN_COLUMNS = _columns(
    ("span_type", TEXT), ("operation", TEXT), ("provider", TEXT), ("request_model", TEXT),
    ("response_model", TEXT), ("input_tokens", BIGINT), ("output_tokens", BIGINT), ("total_tokens", BIGINT),
    ("cache_read_input_tokens", BIGINT), ("cache_creation_input_tokens", BIGINT), ("reasoning_tokens", BIGINT),
    ("input_cost_usd", FLOAT8), ("output_cost_usd", FLOAT8), ("total_cost_usd", FLOAT8), ("cost_source", TEXT),
    ("latency_ms", FLOAT8), ("ttft_ms", FLOAT8), ("finish_reasons", TEXT_ARRAY), ("session_id", TEXT),
    ("user_id", TEXT), ("environment", TEXT), ("input", JSON), ("output", JSON),
)
LLM_COLUMNS = tuple(c.name for c in LLM_SPAN_COLUMNS)

TRACE_SPANS = Table(
    "trace_spans",
    "One row per span, keyed by (trace_id, span_id), with canonical LLM columns (docs/llm-mapping.md).",
    key=("trace_id", "span_id"),
    partitioned=True,
    columns=_columns(
        ("trace_id", UUID), ("span_id", BIGINT), ("parent_span_id", BIGINT), ("trace_state", TEXT),
        ("name", TEXT), ("kind", SMALLINT), ("service_name", TEXT), ("scope_name", TEXT), ("scope_version", TEXT),
        ("start_time", TIMESTAMPTZ, "start_time_unix_nano"), ("end_time", TIMESTAMPTZ, "end_time_unix_nano"),
        ("duration_ns", BIGINT, None, True), ("status_code", SMALLINT), ("status_message", TEXT),
        ("attributes", JSON), ("resource_attributes", JSON), ("scope_attributes", JSON),
    ) + LLM_SPAN_COLUMNS,
)
TRACE_EVENTS = Table(
    "trace_events",
    "Span events, keyed by (trace_id, span_id, event_index).",
    key=("trace_id", "span_id", "event_index"),
    partitioned=True,
    columns=_columns(
        ("trace_id", UUID), ("span_id", BIGINT), ("event_index", INTEGER),
        ("time", TIMESTAMPTZ, "time_unix_nano"), ("name", TEXT), ("attributes", JSON),
    ),
)
TRACE_LINKS = Table(
    "trace_links",
    "Span links, keyed by (trace_id, span_id, link_index).",
    key=("trace_id", "span_id", "link_index"),
    columns=_columns(
        ("trace_id", UUID), ("span_id", BIGINT), ("link_index", INTEGER), ("linked_trace_id", UUID),
        ("linked_span_id", BIGINT), ("trace_state", TEXT), ("attributes", JSON),
    ),
)
METRICS = Table(
    "metrics",
    "One row per metric stream identity (resource, scope, name, type, unit).",
    key=("metric_id",),
    columns=_columns(
        ("metric_id", UUID), ("name", TEXT), ("service_name", TEXT), ("type", TEXT), ("unit", TEXT),
        ("description", TEXT), ("scope_name", TEXT), ("scope_version", TEXT), ("scope_attributes", JSON),
        ("resource_attributes", JSON),
    ),
)
METRIC_DATA_POINTS = Table(
    "metric_data_points",
    "Gauge, sum, histogram, exponential histogram and summary data points.",
    key=("point_id",),
    partitioned=True,
    columns=_columns(
        ("point_id", UUID), ("metric_id", UUID), ("metric_name", TEXT),
        ("start_time", TIMESTAMPTZ, "start_time_unix_nano"), ("time", TIMESTAMPTZ, "time_unix_nano"),
        ("value", FLOAT8), ("count", BIGINT), ("sum", FLOAT8), ("min", FLOAT8), ("max", FLOAT8),
        ("bucket_counts", BIGINT_ARRAY), ("explicit_bounds", FLOAT8_ARRAY), ("scale", INTEGER),
        ("zero_count", BIGINT), ("zero_threshold", FLOAT8), ("positive_offset", INTEGER),
        ("positive_bucket_counts", BIGINT_ARRAY), ("negative_offset", INTEGER),
        ("negative_bucket_counts", BIGINT_ARRAY), ("quantiles", JSON), ("exemplars", JSON), ("flags", INTEGER),
        ("aggregation_temporality", SMALLINT), ("is_monotonic", BOOLEAN), ("attributes", JSON),
    ),
)
LOGS = Table(
    "logs",
    "OTLP log records, keyed by a content hash (log_id).",
    key=("log_id",),
    partitioned=True,
    columns=_columns(
        ("log_id", UUID), ("time", TIMESTAMPTZ, "time_unix_nano"),
        ("observed_time", TIMESTAMPTZ, "observed_time_unix_nano"), ("trace_id", UUID), ("span_id", BIGINT),
        ("trace_flags", SMALLINT), ("severity_number", SMALLINT), ("severity_text", TEXT), ("body", JSON),
        ("event_name", TEXT), ("service_name", TEXT), ("scope_name", TEXT), ("scope_version", TEXT),
        ("scope_attributes", JSON), ("attributes", JSON), ("resource_attributes", JSON),
    ),
)
TRACES = Table(
    "traces",
    "One row per trace: service, root span, start, end, duration, span/error/LLM-call counts, tokens, cost, session, user.",
    key=("trace_id",),
)
SESSIONS = Table(
    "sessions",
    "One row per session: user, first and last seen, traces, LLM calls, tokens, cost.",
    key=("session_id",),
)

# The file ledger (sql/schema.sql ingested_files), written at commit from its staging table.
INGESTED_FILES = Table(
    "ingested_files",
    "One row per landing file version loaded: key, size, ETag, signal, hour, records read, merged and rejected, "
    "status (loaded, partial, rejected) and the whole-file error.",
    key=("object_key",),
    columns=_columns(
        ("object_key", TEXT), ("size", BIGINT), ("etag", TEXT), ("last_modified", TIMESTAMPTZ), ("signal", TEXT),
        ("partition_key", TEXT), ("records_read", BIGINT), ("rows_merged", BIGINT), ("rejected", BIGINT),
        ("run_id", TEXT), ("loaded_at", TIMESTAMPTZ), ("status", TEXT), ("error", TEXT),
    ),
)
# Quarantine (sql/schema.sql rejected_records): records that could not be decoded, with where and why.
REJECTED_RECORDS = Table(
    "rejected_records",
    "One row per quarantined record: its file, its path in the file, the reason, its raw JSON.",
    key=("object_key", "record_path"),
    columns=_columns(
        ("object_key", TEXT), ("record_path", TEXT), ("signal", TEXT), ("reason", TEXT), ("record", TEXT),
        ("partition_key", TEXT), ("run_id", TEXT), ("rejected_at", TIMESTAMPTZ),
    ),
)

# Record tables in load order.
RECORD_TABLES: dict[str, Table] = {
    t.name: t for t in (TRACE_SPANS, TRACE_EVENTS, TRACE_LINKS, METRICS, METRIC_DATA_POINTS, LOGS)
}
# Rollups computed in SQL from the record tables at commit, traces before sessions.
ROLLUP_TABLES: dict[str, Table] = {t.name: t for t in (TRACES, SESSIONS)}
# The final tables, one Dagster asset each.
FINAL_TABLES: dict[str, Table] = {**ROLLUP_TABLES, **RECORD_TABLES}

MERGE_ORDER = tuple(RECORD_TABLES)
PARTITIONED_TABLES = tuple(t.name for t in RECORD_TABLES.values() if t.partitioned)
UUID_COLUMNS = frozenset(c.name for t in RECORD_TABLES.values() for c in t.columns if c.type is UUID)


def raw_schema(table: str) -> dict[str, pl.DataType]:
    """The decoded (pre-frame) columns of a record table and their dtypes: timestamps as integer ns under
    their OTLP names (``start_time_unix_nano``: Int64), derived columns left out. This is the column order
    the decoders fill (see :class:`observatory_etl.ingest.columns.Columns`)."""
    return {
        (c.from_ns or c.name): (pl.Int64 if c.from_ns else c.type.dtype)
        for c in RECORD_TABLES[table].columns
        if not c.derived
    }
