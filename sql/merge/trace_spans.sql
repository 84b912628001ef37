-- NOT EXISTS skips rows already stored before their JSON is cast (a reload of an hour costs a third of a
-- first load); ON CONFLICT still settles a race with a concurrent load. OFFSET 0 keeps the NOT EXISTS a
-- probe of the key's index per staged row: without it the planner makes it an anti-join that reads and
-- sorts the whole day partition for every chunk, a cost that grows with the day (docs/tuning.md, "Issue 11,
-- session 4").
-- Spans are immutable: the first copy of (trace_id, span_id) wins, a repeat changes nothing. The key
-- holds start_time because the table is partitioned by it (sql/schema.sql); unset (NULL) is the epoch.
INSERT INTO trace_spans (
    trace_id, span_id, parent_span_id, trace_state, name, kind, service_name, scope_name, scope_version,
    start_time, end_time, duration_ns, status_code, status_message, attributes, resource_attributes,
    scope_attributes, span_type, operation, provider, request_model, response_model, input_tokens,
    output_tokens, total_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
    input_cost_usd, output_cost_usd, total_cost_usd, cost_source, latency_ms, ttft_ms, finish_reasons,
    session_id, user_id, environment, input, output
)
SELECT trace_id, span_id, parent_span_id, trace_state, name, kind, service_name, scope_name, scope_version,
       coalesce(start_time, 'epoch'), end_time, duration_ns, status_code, status_message, attributes::jsonb,
       resource_attributes::jsonb, scope_attributes::jsonb, span_type, operation, provider, request_model,
       response_model, input_tokens, output_tokens, total_tokens, cache_read_input_tokens,
       cache_creation_input_tokens, reasoning_tokens, input_cost_usd, output_cost_usd, total_cost_usd,
       cost_source, latency_ms, ttft_ms, finish_reasons, session_id, user_id, environment, input::jsonb,
       output::jsonb
FROM stage_trace_spans s
WHERE NOT EXISTS (
    SELECT 1 FROM trace_spans t
    WHERE t.trace_id = s.trace_id AND t.span_id = s.span_id AND t.start_time = coalesce(s.start_time, 'epoch')
    OFFSET 0  -- see above: an index probe per row, never an anti-join
)
ON CONFLICT (trace_id, span_id, start_time) DO NOTHING
