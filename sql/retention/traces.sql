-- Rollup rows and links of traces that ended before the cutoff $1 (their spans' partitions are gone):
-- how many of each were deleted.
WITH expired AS (
    DELETE FROM traces WHERE end_time < $1 RETURNING trace_id
), links AS (
    DELETE FROM trace_links l USING expired e WHERE l.trace_id = e.trace_id RETURNING 1
)
SELECT (SELECT count(*) FROM expired)::bigint, (SELECT count(*) FROM links)::bigint
