-- ON CONFLICT alone skips records already stored: one probe of the key's index per row. A NOT EXISTS
-- before the casts (as for spans) saves little on these small JSON values and cost more than it saved on a
-- first load (docs/tuning.md, "Issue 11, session 4").
INSERT INTO trace_events (trace_id, span_id, event_index, time, name, attributes)
SELECT trace_id, span_id, event_index, coalesce(time, 'epoch'), name, attributes::jsonb
FROM stage_trace_events
ON CONFLICT (trace_id, span_id, event_index, time) DO NOTHING
