-- The newest loaded landing hour's quarantine: records rejected, files rejected, and files read.
SELECT partition_key,
       coalesce(sum(rejected) FILTER (WHERE status <> 'rejected'), 0)::bigint,
       count(*) FILTER (WHERE status = 'rejected')::bigint,
       count(*)::bigint
FROM ingested_files
WHERE partition_key = (SELECT max(partition_key) FROM ingested_files)
GROUP BY partition_key
