-- ON CONFLICT alone skips records already stored: one probe of the key's index per row. A NOT EXISTS
-- before the casts (as for spans) saves little on these small JSON values and cost more than it saved on a
-- first load (docs/tuning.md, "Issue 11, session 4").
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
FROM stage_metric_data_points
ON CONFLICT (point_id, time) DO NOTHING
