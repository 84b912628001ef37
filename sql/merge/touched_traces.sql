-- The traces of this chunk's spans, with the range of their start times (widened over the chunks of a load).
INSERT INTO touched_traces (trace_id, first_start, last_start)
SELECT trace_id, min(start_time), max(start_time) FROM stage_trace_spans GROUP BY trace_id
ON CONFLICT (trace_id) DO UPDATE SET
    first_start = least(touched_traces.first_start, EXCLUDED.first_start),
    last_start = greatest(touched_traces.last_start, EXCLUDED.last_start)
