-- Per signal, over the ledger of the newest loaded hour: records read, merged and rejected.
SELECT signal, sum(records_read)::bigint, sum(rows_merged)::bigint, sum(rejected)::bigint
FROM ingested_files
WHERE partition_key = (SELECT max(partition_key) FROM ingested_files)
GROUP BY signal
ORDER BY signal
