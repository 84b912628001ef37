-- LLM spans whose cost the price table decides ($1 <= start_time < $2): every GenAI span without a
-- provided cost. Read by the recompute_costs job.
SELECT trace_id, span_id, provider, coalesce(response_model, request_model) AS model, start_time,
       input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens
FROM trace_spans
WHERE span_type IS NOT NULL
  AND cost_source IS DISTINCT FROM 'provided'
  AND start_time >= $1 AND start_time < $2
