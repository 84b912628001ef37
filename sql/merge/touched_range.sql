-- The start-time range of every span the traces rollup must read ($1, $2 of merge/traces.sql): from the
-- earliest of the staged spans' and the existing traces rows' start, to the latest of the staged spans' start
-- and the rows' end. NULLs when no trace was touched.
SELECT min(least(t.first_start, r.start_time)), max(greatest(t.last_start, r.end_time, r.start_time))
FROM touched_traces t
LEFT JOIN traces r ON r.trace_id = t.trace_id
