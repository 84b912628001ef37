-- Replace the quarantined records of every file this load read (staged in stage_ingested_files) with the
-- records it rejected now: a file loaded again (new version or reprocessed) never keeps stale or doubled rows.
DELETE FROM rejected_records r
USING stage_ingested_files f
WHERE r.object_key = f.object_key;

INSERT INTO rejected_records (object_key, record_path, signal, reason, record, partition_key, run_id, rejected_at)
SELECT DISTINCT ON (object_key, record_path)
       object_key, record_path, signal, reason, record, partition_key, run_id, rejected_at
FROM stage_rejected_records
ORDER BY object_key, record_path;
