-- The traces of the load's spans with the range of their start times (staged per chunk by PartitionLoad,
-- whether the chunk was copied straight into trace_spans or merged), one row per trace; run at commit, before
-- the rollup (costs/touched_traces.sql may have added traces already: their range is widened).
INSERT INTO touched_traces (trace_id, first_start, last_start)
SELECT trace_id, min(first_start), max(last_start) FROM stage_touched_traces GROUP BY trace_id
ON CONFLICT (trace_id) DO UPDATE SET
    first_start = least(touched_traces.first_start, EXCLUDED.first_start),
    last_start = greatest(touched_traces.last_start, EXCLUDED.last_start)
