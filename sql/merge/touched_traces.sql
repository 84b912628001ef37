-- The traces of the load's spans with the range of their start times (staged per chunk by PartitionLoad, whether
-- the chunk was copied straight into trace_spans or merged), one row per trace; run at commit, before the rollup
-- (costs/touched_traces.sql may have added traces already: their range is widened). $1: every chunk of the load
-- was copied straight into the final tables (PartitionLoad(direct=True)); a trace without a traces row then has
-- no span but the load's, because every load that committed spans rolled their traces up and rollups are
-- serialized up to commit (the lock of PartitionLoad.__exit__): from_staged, its traces row is made from the
-- chunks' partials (merge/new_traces.sql) instead of from trace_spans (merge/traces.sql) — unless a partial's
-- token sum was beyond bigint (not sums_fit): merge/traces.sql then sums its spans exactly.
INSERT INTO touched_traces (trace_id, first_start, last_start, from_staged)
SELECT s.trace_id, min(s.first_start), max(s.last_start),
       $1 AND bool_and(s.sums_fit) AND NOT EXISTS (SELECT 1 FROM traces r WHERE r.trace_id = s.trace_id)
FROM stage_touched_traces s
GROUP BY s.trace_id
ON CONFLICT (trace_id) DO UPDATE SET
    first_start = least(touched_traces.first_start, EXCLUDED.first_start),
    last_start = greatest(touched_traces.last_start, EXCLUDED.last_start)
