INSERT INTO trace_links (trace_id, span_id, link_index, linked_trace_id, linked_span_id, trace_state, attributes)
SELECT trace_id, span_id, link_index, linked_trace_id, linked_span_id, trace_state, attributes::jsonb
FROM stage_trace_links
ON CONFLICT (trace_id, span_id, link_index) DO NOTHING
