-- Apply recomputed costs; only spans whose cost changes are written.
UPDATE trace_spans s
SET input_cost_usd = c.input_cost_usd,
    output_cost_usd = c.output_cost_usd,
    total_cost_usd = c.total_cost_usd,
    cost_source = c.cost_source
FROM stage_costs c
WHERE s.trace_id = c.trace_id AND s.span_id = c.span_id
  AND (s.input_cost_usd, s.output_cost_usd, s.total_cost_usd, s.cost_source)
      IS DISTINCT FROM (c.input_cost_usd, c.output_cost_usd, c.total_cost_usd, c.cost_source)
