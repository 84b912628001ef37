"""The ``traces`` rollup of a chunk's spans, computed client-side: one partial row per trace.

A load that copies a new hour straight into the final tables (``PartitionLoad(direct=True)``) stages these
partials per chunk (``stage_touched_traces``, sql/staging.sql). At commit, a touched trace that has no
``traces`` row yet has no span but this load's, so its row is combined from the partials
(``sql/merge/new_traces.sql``) instead of read back from ``trace_spans`` and sorted per span by the server:
the bench hour's rollups took 1.3-1.6 s that way, against 0.55-0.64 s from the partials (docs/tuning.md,
"Issues 10 and 11, session 8"). Every other touched trace is recomputed from all of its spans
(``sql/merge/traces.sql``), as is a trace one of whose partial token sums is beyond bigint (rare: each span's
count fits in bigint, but their sum need not); both statements give a trace the same row
(tests/warehouse/test_rollup.py loads generated spans both ways).

Each partial carries, beside sums and counts, the sort key of each "first" value it holds, so partials of one
trace from several chunks combine exactly: the earliest span by (start_time, span_id), the earliest root span
(no parent), and the earliest spans with a session_id and with a user_id. LLM costs stay a list: the server
sums them as ``numeric`` as the rollup from ``trace_spans`` does (exact, independent of order).
"""

from __future__ import annotations

import polars as pl

from ..tables import EPOCH

# span_type values counted as LLM calls (sql/merge/traces.sql).
LLM_SPAN_TYPES = ("GENERATION", "EMBEDDING")
TOKEN_COLUMNS = ("input_tokens", "output_tokens", "total_tokens")
# stage_touched_traces' columns in order (sql/staging.sql).
PARTIAL_COLUMNS = (
    "trace_id", "first_start", "last_start", "first_span_id", "first_service_name", "first_name",
    "root_start", "root_span_id", "root_service_name", "root_name", "end_time", "span_count", "error_count",
    "llm_call_count", "input_tokens", "output_tokens", "total_tokens", "llm_costs", "session_start",
    "session_span_id", "session_id", "user_start", "user_span_id", "user_id", "sums_fit",
)


def trace_partials(spans: pl.DataFrame) -> pl.DataFrame:
    """The partial ``traces`` rollup of ``spans``, one row per trace_id, columns :data:`PARTIAL_COLUMNS`.

    ``spans``: a ``trace_spans`` frame (:mod:`observatory_etl.tables`; needs trace_id, span_id,
    parent_span_id, name, service_name, start_time, end_time, status_code, span_type, the token columns,
    total_cost_usd, session_id, user_id). An unset start_time counts as the epoch, as it is stored.

    Returns (dtypes): trace_id (Binary, 16 bytes); first_start / last_start (Datetime(us, UTC): min / max
    start); first_span_id, first_service_name, first_name (Int64, String, String: of the earliest span by
    (start_time, span_id)); root_start, root_span_id, root_service_name, root_name (of the earliest span
    without a parent; null when there is none); end_time (Datetime: the latest end, a span without an end or
    ending before its start counting its start); span_count, error_count (status_code 2), llm_call_count
    (span_type GENERATION or EMBEDDING) (Int32); input_tokens, output_tokens, total_tokens (Int64: sums over
    the LLM spans, null when none has a value or when the sum is beyond Int64); llm_costs (List(Float64), USD:
    total_cost_usd of the LLM spans that have one); session_start, session_span_id, session_id and user_start,
    user_span_id, user_id (the earliest span by (start_time, span_id) with a session_id / user_id; null when none
    has one); sums_fit (Boolean: every token sum is within Int64 — a trace with a partial that is not is rolled
    up from trace_spans, exactly, instead: sql/merge/touched_traces.sql).
    """
    ordered = spans.select(
        "trace_id", "span_id", "parent_span_id", "name", "service_name",
        pl.col("start_time").fill_null(EPOCH), "end_time", "status_code", "span_type", *TOKEN_COLUMNS,
        "total_cost_usd", "session_id", "user_id",
    ).sort("start_time", "span_id")  # group_by keeps this order within each group: .first() is the earliest
    llm = pl.col("span_type").is_in(LLM_SPAN_TYPES)
    root = pl.col("parent_span_id").is_null()
    has_session, has_user = pl.col("session_id").is_not_null(), pl.col("user_id").is_not_null()
    return ordered.group_by("trace_id").agg(
        first_start=pl.col("start_time").first(),
        last_start=pl.col("start_time").last(),
        first_span_id=pl.col("span_id").first(),
        first_service_name=pl.col("service_name").first(),
        first_name=pl.col("name").first(),
        root_start=pl.col("start_time").filter(root).first(),
        root_span_id=pl.col("span_id").filter(root).first(),
        root_service_name=pl.col("service_name").filter(root).first(),
        root_name=pl.col("name").filter(root).first(),
        end_time=pl.max_horizontal("start_time", "end_time").max(),  # an unset end counts the start
        span_count=pl.len().cast(pl.Int32),
        error_count=(pl.col("status_code") == 2).sum().cast(pl.Int32),
        llm_call_count=llm.sum().cast(pl.Int32),
        **{column: _sum(pl.col(column).filter(llm)) for column in TOKEN_COLUMNS},
        llm_costs=pl.col("total_cost_usd").filter(llm & pl.col("total_cost_usd").is_not_null()),
        session_start=pl.col("start_time").filter(has_session).first(),
        session_span_id=pl.col("span_id").filter(has_session).first(),
        session_id=pl.col("session_id").filter(has_session).first(),
        user_start=pl.col("start_time").filter(has_user).first(),
        user_span_id=pl.col("span_id").filter(has_user).first(),
        user_id=pl.col("user_id").filter(has_user).first(),
    ).with_columns(
        sums_fit=pl.all_horizontal(_fits(pl.col(column)) for column in TOKEN_COLUMNS),
        **{column: pl.col(column).cast(pl.Int64, strict=False) for column in TOKEN_COLUMNS},
    ).select(PARTIAL_COLUMNS)


def _sum(values: pl.Expr) -> pl.Expr:
    """The sum of ``values`` (Int64) as Int128 (exact), null when none is set (SQL's ``sum``)."""
    return pl.when(values.count() > 0).then(values.cast(pl.Int128).sum())


def _fits(total: pl.Expr) -> pl.Expr:
    """Whether an Int128 sum of :func:`_sum` is null or within Int64's range (bigint)."""
    return total.is_null() | total.is_between(-(1 << 63), (1 << 63) - 1)
