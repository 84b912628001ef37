-- NOT EXISTS skips rows already stored before their JSON is cast (a reload of an hour costs a third of a
-- first load); ON CONFLICT still settles a race with a concurrent load. OFFSET 0 keeps the NOT EXISTS a
-- probe of the key's index per staged row: without it the planner makes it an anti-join that reads and
-- sorts the whole day partition for every chunk, a cost that grows with the day (docs/tuning.md, "Issue 11,
-- session 4").
INSERT INTO logs (
    log_id, time, observed_time, trace_id, span_id, trace_flags, severity_number, severity_text, body,
    event_name, service_name, scope_name, scope_version, scope_attributes, attributes, resource_attributes
)
-- time is the partition column: a record without one takes its observed time (OTLP logs data model).
SELECT log_id, coalesce(time, observed_time, 'epoch'), observed_time, trace_id, span_id, trace_flags,
       severity_number, severity_text, body::jsonb, event_name, service_name, scope_name, scope_version, scope_attributes::jsonb,
       attributes::jsonb, resource_attributes::jsonb
FROM stage_logs s
WHERE NOT EXISTS (
    SELECT 1 FROM logs t WHERE t.log_id = s.log_id AND t.time = coalesce(s.time, s.observed_time, 'epoch')
    OFFSET 0  -- see above: an index probe per row, never an anti-join
)
ON CONFLICT (log_id, time) DO NOTHING
