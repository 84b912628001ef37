-- Recompute the traces row of every touched trace from all of its spans (whatever hour they came in), but those
-- made from the load's partials (from_staged: merge/new_traces.sql, which computes the same values).
-- Rows whose values are unchanged are not written, so a rerun changes nothing.
-- The spans are read only from the days they can be in: between the earliest of the staged spans' and the
-- existing traces row's start, and the latest of the staged spans' start and the row's end (every span
-- loaded before was rolled up into that row when it committed, and starts by its end_time: a span without an
-- end counts its start). $1 and $2 are that range over all touched traces read here (merge/touched_range.sql):
-- as constants on the partition column they prune trace_spans' day partitions when the statement is planned,
-- so the rollup's cost does not grow with the days retained.
-- Parameters make ADBC run it as a prepared statement, which reports no row count: the statement counts
-- the rows it wrote itself.
WITH merged AS (
INSERT INTO traces (
    trace_id, service_name, root_span_name, start_time, end_time, duration_ns, span_count, error_count,
    llm_call_count, input_tokens, output_tokens, total_tokens, total_cost_usd, session_id, user_id
)
SELECT s.trace_id,
       CASE WHEN bool_or(s.parent_span_id IS NULL)
            THEN (array_agg(s.service_name ORDER BY s.start_time, s.span_id) FILTER (WHERE s.parent_span_id IS NULL))[1]
            ELSE (array_agg(s.service_name ORDER BY s.start_time, s.span_id))[1] END,
       CASE WHEN bool_or(s.parent_span_id IS NULL)
            THEN (array_agg(s.name ORDER BY s.start_time, s.span_id) FILTER (WHERE s.parent_span_id IS NULL))[1]
            ELSE (array_agg(s.name ORDER BY s.start_time, s.span_id))[1] END,
       min(s.start_time),
       max(greatest(s.start_time, s.end_time)),  -- so every span starts by the row's end_time
       (extract(epoch FROM max(greatest(s.start_time, s.end_time)) - min(s.start_time)) * 1000000000)::bigint,
       count(*),
       count(*) FILTER (WHERE s.status_code = 2),
       count(*) FILTER (WHERE s.span_type IN ('GENERATION', 'EMBEDDING')),
       bigint_or_null(sum(s.input_tokens) FILTER (WHERE s.span_type IN ('GENERATION', 'EMBEDDING'))),
       bigint_or_null(sum(s.output_tokens) FILTER (WHERE s.span_type IN ('GENERATION', 'EMBEDDING'))),
       bigint_or_null(sum(s.total_tokens) FILTER (WHERE s.span_type IN ('GENERATION', 'EMBEDDING'))),
       -- summed as numeric: exact and independent of row order, so a rerun computes the same value; a sum beyond
       -- the column's type is null (bigint_or_null, double_or_null: sql/schema.sql)
       double_or_null(sum(s.total_cost_usd::numeric) FILTER (WHERE s.span_type IN ('GENERATION', 'EMBEDDING'))),
       (array_agg(s.session_id ORDER BY s.start_time, s.span_id) FILTER (WHERE s.session_id IS NOT NULL))[1],
       (array_agg(s.user_id ORDER BY s.start_time, s.span_id) FILTER (WHERE s.user_id IS NOT NULL))[1]
FROM touched_traces t
LEFT JOIN traces r ON r.trace_id = t.trace_id
JOIN trace_spans s ON s.trace_id = t.trace_id
    AND s.start_time >= least(t.first_start, r.start_time)
    AND s.start_time <= greatest(t.last_start, r.end_time, r.start_time)
    AND s.start_time BETWEEN $1 AND $2
WHERE NOT t.from_staged
GROUP BY s.trace_id
ON CONFLICT (trace_id) DO UPDATE SET
    service_name = EXCLUDED.service_name,
    root_span_name = EXCLUDED.root_span_name,
    start_time = EXCLUDED.start_time,
    end_time = EXCLUDED.end_time,
    duration_ns = EXCLUDED.duration_ns,
    span_count = EXCLUDED.span_count,
    error_count = EXCLUDED.error_count,
    llm_call_count = EXCLUDED.llm_call_count,
    input_tokens = EXCLUDED.input_tokens,
    output_tokens = EXCLUDED.output_tokens,
    total_tokens = EXCLUDED.total_tokens,
    total_cost_usd = EXCLUDED.total_cost_usd,
    session_id = EXCLUDED.session_id,
    user_id = EXCLUDED.user_id
WHERE (traces.service_name, traces.root_span_name, traces.start_time, traces.end_time, traces.duration_ns,
       traces.span_count, traces.error_count, traces.llm_call_count, traces.input_tokens, traces.output_tokens,
       traces.total_tokens, traces.total_cost_usd, traces.session_id, traces.user_id)
      IS DISTINCT FROM
      (EXCLUDED.service_name, EXCLUDED.root_span_name, EXCLUDED.start_time, EXCLUDED.end_time,
       EXCLUDED.duration_ns, EXCLUDED.span_count, EXCLUDED.error_count, EXCLUDED.llm_call_count,
       EXCLUDED.input_tokens, EXCLUDED.output_tokens, EXCLUDED.total_tokens, EXCLUDED.total_cost_usd,
       EXCLUDED.session_id, EXCLUDED.user_id)
RETURNING 1
)
SELECT count(*) FROM merged
