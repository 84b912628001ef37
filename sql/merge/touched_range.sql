-- The start-time range of every span the traces rollup must read from trace_spans ($1, $2 of merge/traces.sql),
-- over the touched traces not made from the load's partials (not from_staged): from the earliest of the staged
-- spans' and the existing traces rows' start, to the latest of the staged spans' start and the rows' end (NULLs
-- when there is none); then the number of touched traces, and of those not from_staged.
SELECT min(least(t.first_start, r.start_time)) FILTER (WHERE NOT t.from_staged),
       max(greatest(t.last_start, r.end_time, r.start_time)) FILTER (WHERE NOT t.from_staged),
       count(*),
       count(*) FILTER (WHERE NOT t.from_staged)
FROM touched_traces t
LEFT JOIN traces r ON r.trace_id = t.trace_id
