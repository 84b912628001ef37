INSERT INTO trace_events (trace_id, span_id, event_index, time, name, attributes)
SELECT trace_id, span_id, event_index, coalesce(time, 'epoch'), name, attributes::jsonb
FROM stage_trace_events
ON CONFLICT (trace_id, span_id, event_index, time) DO NOTHING
