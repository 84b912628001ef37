-- Landing hours with quarantined input ($1, $2: first and last partition key, inclusive): records and files
-- rejected per hour, oldest first. What `observatory-etl reprocess` reloads.
SELECT partition_key, sum(rejected) FILTER (WHERE status <> 'rejected')::bigint,
       count(*) FILTER (WHERE status = 'rejected')::bigint
FROM ingested_files
WHERE status IN ('partial', 'rejected') AND partition_key BETWEEN $1 AND $2
GROUP BY partition_key
ORDER BY partition_key
