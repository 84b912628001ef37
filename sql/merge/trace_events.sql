INSERT INTO trace_events (trace_id, span_id, event_index, time, name, attributes)
SELECT trace_id, span_id, event_index, coalesce(time, 'epoch'), name, attributes::jsonb
FROM stage_trace_events s
WHERE NOT EXISTS (
    SELECT 1 FROM trace_events t
    WHERE t.trace_id = s.trace_id AND t.span_id = s.span_id AND t.event_index = s.event_index
      AND t.time = coalesce(s.time, 'epoch')
)
ON CONFLICT (trace_id, span_id, event_index, time) DO NOTHING
