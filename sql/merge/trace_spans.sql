-- Spans are immutable: the first copy of (trace_id, span_id) wins, a repeat changes nothing.
INSERT INTO trace_spans (
    trace_id, span_id, parent_span_id, trace_state, name, kind, service_name, scope_name, scope_version,
    start_time, end_time, duration_ns, status_code, status_message, attributes, resource_attributes,
    scope_attributes
)
SELECT trace_id, span_id, parent_span_id, trace_state, name, kind, service_name, scope_name, scope_version,
       start_time, end_time, duration_ns, status_code, status_message, attributes::jsonb,
       resource_attributes::jsonb, scope_attributes::jsonb
FROM stage_trace_spans
ON CONFLICT (trace_id, span_id) DO NOTHING
