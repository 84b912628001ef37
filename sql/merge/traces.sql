-- Recompute the traces row of every touched trace from all of its spans (whatever hour they came in).
-- Rows whose values are unchanged are not written, so a rerun changes nothing.
INSERT INTO traces (
    trace_id, service_name, root_span_name, start_time, end_time, duration_ns, span_count, error_count
)
SELECT s.trace_id,
       (array_agg(s.service_name ORDER BY s.parent_span_id IS NOT NULL, s.start_time, s.span_id))[1],
       (array_agg(s.name ORDER BY s.parent_span_id IS NOT NULL, s.start_time, s.span_id))[1],
       min(s.start_time),
       max(s.end_time),
       (extract(epoch FROM max(s.end_time) - min(s.start_time)) * 1000000000)::bigint,
       count(*),
       count(*) FILTER (WHERE s.status_code = 2)
FROM touched_traces t
JOIN trace_spans s USING (trace_id)
GROUP BY s.trace_id
ON CONFLICT (trace_id) DO UPDATE SET
    service_name = EXCLUDED.service_name,
    root_span_name = EXCLUDED.root_span_name,
    start_time = EXCLUDED.start_time,
    end_time = EXCLUDED.end_time,
    duration_ns = EXCLUDED.duration_ns,
    span_count = EXCLUDED.span_count,
    error_count = EXCLUDED.error_count
WHERE (traces.service_name, traces.root_span_name, traces.start_time, traces.end_time,
       traces.duration_ns, traces.span_count, traces.error_count)
      IS DISTINCT FROM
      (EXCLUDED.service_name, EXCLUDED.root_span_name, EXCLUDED.start_time, EXCLUDED.end_time,
       EXCLUDED.duration_ns, EXCLUDED.span_count, EXCLUDED.error_count)
