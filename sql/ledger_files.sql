-- The ledger rows of one landing hour ($1 = partition key): what a rerun compares the listing with.
SELECT object_key, size, etag FROM ingested_files WHERE partition_key = $1
