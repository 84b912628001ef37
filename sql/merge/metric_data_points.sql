-- NOT EXISTS skips rows already stored before their JSON is cast (a reload of an hour costs a third of a
-- first load); ON CONFLICT still settles a race with a concurrent load. OFFSET 0 keeps the NOT EXISTS a
-- probe of the key's index per staged row: without it the planner makes it an anti-join that reads and
-- sorts the whole day partition for every chunk, a cost that grows with the day (docs/tuning.md, "Issue 11,
-- session 4").
INSERT INTO metric_data_points (
    point_id, metric_id, metric_name, start_time, time, value, count, sum, min, max, bucket_counts,
    explicit_bounds, scale, zero_count, zero_threshold, positive_offset, positive_bucket_counts,
    negative_offset, negative_bucket_counts, quantiles, exemplars, flags, aggregation_temporality,
    is_monotonic, attributes
)
SELECT point_id, metric_id, metric_name, start_time, coalesce(time, 'epoch'), value, count, sum, min, max, bucket_counts,
       explicit_bounds, scale, zero_count, zero_threshold, positive_offset, positive_bucket_counts,
       negative_offset, negative_bucket_counts, quantiles::jsonb, exemplars::jsonb, flags,
       aggregation_temporality, is_monotonic, attributes::jsonb
FROM stage_metric_data_points s
WHERE NOT EXISTS (
    SELECT 1 FROM metric_data_points t WHERE t.point_id = s.point_id AND t.time = coalesce(s.time, 'epoch')
    OFFSET 0  -- see above: an index probe per row, never an anti-join
)
ON CONFLICT (point_id, time) DO NOTHING
