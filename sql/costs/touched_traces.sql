-- The traces of the spans whose cost changed; their spans lie within the traces row's start and end.
INSERT INTO touched_traces (trace_id, first_start, last_start)
SELECT DISTINCT c.trace_id, t.start_time, t.end_time
FROM stage_costs c JOIN traces t USING (trace_id)
ON CONFLICT (trace_id) DO NOTHING
