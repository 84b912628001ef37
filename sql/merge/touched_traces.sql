INSERT INTO touched_traces (trace_id)
SELECT DISTINCT trace_id FROM stage_trace_spans
ON CONFLICT (trace_id) DO NOTHING
