-- Spans whose parent is not in their trace, among spans that started in the last 24 hours of loaded data.
-- A parent can still be on its way (another hour's file), so this is a warning, not an error.
WITH recent AS (
    SELECT trace_id, span_id, parent_span_id
    FROM trace_spans
    WHERE start_time >= (SELECT max(start_time) FROM trace_spans) - interval '24 hours'
)
SELECT count(*) FILTER (WHERE r.parent_span_id IS NOT NULL AND p.span_id IS NULL) AS orphans,
       count(*) AS spans
FROM recent r
LEFT JOIN trace_spans p ON p.trace_id = r.trace_id AND p.span_id = r.parent_span_id
