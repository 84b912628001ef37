-- ON CONFLICT alone skips records already stored: one probe of the key's index per row. A NOT EXISTS
-- before the casts (as for spans) saves little on these small JSON values and cost more than it saved on a
-- first load (docs/tuning.md, "Issue 11, session 4").
INSERT INTO logs (
    log_id, time, observed_time, trace_id, span_id, trace_flags, severity_number, severity_text, body,
    event_name, service_name, scope_name, scope_version, scope_attributes, attributes, resource_attributes
)
-- time is the partition column: a record without one takes its observed time (OTLP logs data model).
SELECT log_id, coalesce(time, observed_time, 'epoch'), observed_time, trace_id, span_id, trace_flags,
       severity_number, severity_text, body::jsonb, event_name, service_name, scope_name, scope_version, scope_attributes::jsonb,
       attributes::jsonb, resource_attributes::jsonb
FROM stage_logs
ON CONFLICT (log_id, time) DO NOTHING
