-- NOT EXISTS skips rows already stored before their JSON is cast (a reload of an hour costs a third of a
-- first load); ON CONFLICT still settles a race with a concurrent load. OFFSET 0 keeps the NOT EXISTS a
-- probe of the key's index per staged row: without it the planner makes it an anti-join that reads and
-- sorts the whole day partition for every chunk, a cost that grows with the day (docs/tuning.md, "Issue 11,
-- session 4").
INSERT INTO trace_events (trace_id, span_id, event_index, time, name, attributes)
SELECT trace_id, span_id, event_index, coalesce(time, 'epoch'), name, attributes::jsonb
FROM stage_trace_events s
WHERE NOT EXISTS (
    SELECT 1 FROM trace_events t
    WHERE t.trace_id = s.trace_id AND t.span_id = s.span_id AND t.event_index = s.event_index
      AND t.time = coalesce(s.time, 'epoch')
    OFFSET 0  -- see above: an index probe per row, never an anti-join
)
ON CONFLICT (trace_id, span_id, event_index, time) DO NOTHING
