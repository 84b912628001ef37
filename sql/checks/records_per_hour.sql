-- Records read per landing hour, newest first, for the newest 25 hours that have files.
SELECT partition_key, sum(records_read)::bigint
FROM ingested_files
GROUP BY partition_key
ORDER BY partition_key DESC
LIMIT 25
