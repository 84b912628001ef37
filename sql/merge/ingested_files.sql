-- Record the loaded files. A file already in the ledger with the same size, ETag, last-modified time and
-- outcome keeps its row (the run that first loaded it); a new version of it, or a new outcome of the same
-- version (reprocessed after a decoder upgrade), replaces the row.
INSERT INTO ingested_files (
    object_key, size, etag, last_modified, signal, partition_key, records_read, rows_merged, rejected,
    run_id, loaded_at, status, error
)
SELECT object_key, size, etag, last_modified, signal, partition_key, records_read, rows_merged, rejected,
       run_id, loaded_at, status, error
FROM stage_ingested_files
ON CONFLICT (object_key) DO UPDATE SET
    size = EXCLUDED.size,
    etag = EXCLUDED.etag,
    last_modified = EXCLUDED.last_modified,
    signal = EXCLUDED.signal,
    partition_key = EXCLUDED.partition_key,
    records_read = EXCLUDED.records_read,
    rows_merged = EXCLUDED.rows_merged,
    rejected = EXCLUDED.rejected,
    run_id = EXCLUDED.run_id,
    loaded_at = EXCLUDED.loaded_at,
    status = EXCLUDED.status,
    error = EXCLUDED.error
WHERE (ingested_files.size, ingested_files.etag, ingested_files.last_modified, ingested_files.records_read,
       ingested_files.rejected, ingested_files.status, ingested_files.error)
      IS DISTINCT FROM (EXCLUDED.size, EXCLUDED.etag, EXCLUDED.last_modified, EXCLUDED.records_read,
                        EXCLUDED.rejected, EXCLUDED.status, EXCLUDED.error)
