INSERT INTO touched_traces (trace_id)
SELECT DISTINCT trace_id FROM stage_costs
ON CONFLICT (trace_id) DO NOTHING
