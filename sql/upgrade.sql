-- Columns added after the first release, for warehouses created before them. Applied after schema.sql;
-- every statement is a no-op on a warehouse that schema.sql just created.
ALTER TABLE trace_spans
    ADD COLUMN IF NOT EXISTS span_type text,
    ADD COLUMN IF NOT EXISTS operation text,
    ADD COLUMN IF NOT EXISTS provider text,
    ADD COLUMN IF NOT EXISTS request_model text,
    ADD COLUMN IF NOT EXISTS response_model text,
    ADD COLUMN IF NOT EXISTS input_tokens bigint,
    ADD COLUMN IF NOT EXISTS output_tokens bigint,
    ADD COLUMN IF NOT EXISTS total_tokens bigint,
    ADD COLUMN IF NOT EXISTS cache_read_input_tokens bigint,
    ADD COLUMN IF NOT EXISTS cache_creation_input_tokens bigint,
    ADD COLUMN IF NOT EXISTS reasoning_tokens bigint,
    ADD COLUMN IF NOT EXISTS input_cost_usd double precision,
    ADD COLUMN IF NOT EXISTS output_cost_usd double precision,
    ADD COLUMN IF NOT EXISTS total_cost_usd double precision,
    ADD COLUMN IF NOT EXISTS cost_source text,
    ADD COLUMN IF NOT EXISTS latency_ms double precision,
    ADD COLUMN IF NOT EXISTS ttft_ms double precision,
    ADD COLUMN IF NOT EXISTS finish_reasons text[],
    ADD COLUMN IF NOT EXISTS session_id text,
    ADD COLUMN IF NOT EXISTS user_id text,
    ADD COLUMN IF NOT EXISTS environment text,
    ADD COLUMN IF NOT EXISTS input jsonb,
    ADD COLUMN IF NOT EXISTS output jsonb;

ALTER TABLE traces
    ADD COLUMN IF NOT EXISTS llm_call_count integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS input_tokens bigint,
    ADD COLUMN IF NOT EXISTS output_tokens bigint,
    ADD COLUMN IF NOT EXISTS total_tokens bigint,
    ADD COLUMN IF NOT EXISTS total_cost_usd double precision,
    ADD COLUMN IF NOT EXISTS session_id text,
    ADD COLUMN IF NOT EXISTS user_id text;

-- Quarantine (rejected_records is created by schema.sql): the ledger's whole-file error, and links whose
-- ids were empty or all zeros are kept with NULL ids.
ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS error text;
ALTER TABLE trace_links ALTER COLUMN linked_trace_id DROP NOT NULL, ALTER COLUMN linked_span_id DROP NOT NULL;

-- Indexes on columns that upgraded warehouses only have after the statements above.
CREATE INDEX IF NOT EXISTS traces_session_id_idx ON traces (session_id) WHERE session_id IS NOT NULL;

-- Rows of tables that predate daily partitioning (renamed <table>_unpartitioned by migrate.sql) move into
-- the partitioned tables: a partition per day they cover, an unset partition time as in the loads.
-- Dependent views are dropped with the old tables; views.sql creates them again.
DO $$
DECLARE
    t text;
    old text;
    key name;
    day date;
    columns text;
    selected text;
BEGIN
    FOREACH t IN ARRAY ARRAY['trace_spans', 'trace_events', 'metric_data_points', 'logs'] LOOP
        old := t || '_unpartitioned';
        CONTINUE WHEN to_regclass(old) IS NULL;
        key := partition_column(t::regclass);
        FOR day IN EXECUTE format('SELECT DISTINCT (%I AT TIME ZONE ''UTC'')::date FROM %I WHERE %I IS NOT NULL',
                                  key, old, key) LOOP
            PERFORM create_day_partitions(t::regclass, day, day);
        END LOOP;
        SELECT string_agg(quote_ident(n.attname), ', ' ORDER BY n.attnum),
               string_agg(CASE WHEN n.attname <> key THEN quote_ident(n.attname)
                               WHEN t = 'logs' THEN 'coalesce(time, observed_time, ''epoch'')'
                               ELSE format('coalesce(%I, ''epoch'')', key) END, ', ' ORDER BY n.attnum)
          INTO columns, selected
          FROM pg_attribute n JOIN pg_attribute o ON o.attname = n.attname
         WHERE n.attrelid = t::regclass AND o.attrelid = old::regclass
           AND n.attnum > 0 AND NOT n.attisdropped AND o.attnum > 0 AND NOT o.attisdropped;
        EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM %I ON CONFLICT DO NOTHING', t, columns, selected, old);
        EXECUTE format('DROP TABLE %I CASCADE', old);
    END LOOP;
END
$$;

-- Partitions created before toast_tuple_target was set (sql/partitions.sql): rows up to 8 kB stay
-- uncompressed from now on (rows already stored keep their form).
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN
        SELECT i.inhrelid::regclass FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent IN ('trace_spans'::regclass, 'trace_events'::regclass, 'metric_data_points'::regclass,
                              'logs'::regclass)
          AND NOT coalesce(c.reloptions @> ARRAY['toast_tuple_target=8160'], false)
    LOOP
        EXECUTE format('ALTER TABLE %s SET (toast_tuple_target = 8160)', part);
    END LOOP;
END
$$;
