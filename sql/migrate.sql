-- Applied before schema.sql: a warehouse created before the large tables were partitioned by day keeps
-- them as <table>_unpartitioned (primary key and indexes renamed or dropped, so schema.sql can create
-- the partitioned tables under the old names); upgrade.sql then copies their rows over and drops them.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['trace_spans', 'trace_events', 'metric_data_points', 'logs'] LOOP
        CONTINUE WHEN (SELECT relkind FROM pg_class WHERE oid = to_regclass(t)) IS DISTINCT FROM 'r';
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_unpartitioned');
        EXECUTE format('ALTER INDEX IF EXISTS %I RENAME TO %I', t || '_pkey', t || '_unpartitioned_pkey');
        EXECUTE format('DROP INDEX IF EXISTS %I, %I', t || '_start_time_brin', t || '_time_brin');
    END LOOP;
END
$$;
