-- Daily partitions of the large tables (trace_spans, trace_events, metric_data_points, logs), by event
-- day in UTC. Each table has a DEFAULT partition (<table>_default) for rows of days without their own
-- partition, so a load never fails on an unexpected timestamp.
--
-- Every partition (daily and default) has toast_tuple_target = 8160: rows up to 8 kB are stored as they
-- are instead of being compressed with pglz from 2 kB on. The load is CPU-bound and pglz was a fifth of
-- the trace_spans merge (docs/tuning.md, "Issue 11, session 4"); the cost is about 6% more storage.

-- The partition column of a table partitioned by range (start_time or time).
CREATE OR REPLACE FUNCTION partition_column(parent regclass) RETURNS name
    LANGUAGE sql STABLE STRICT
    RETURN (SELECT a.attname FROM pg_partitioned_table p
            JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
            WHERE p.partrelid = parent);

-- Create the daily partitions <table>_pYYYYMMDD of parent for every day in [first_day, last_day] that has
-- none yet; returns how many were created. Rows of such a day already held by the DEFAULT partition are
-- moved into the new partition. Cheap when the partitions exist (a catalog lookup per day, no lock on
-- the parent).
CREATE OR REPLACE FUNCTION create_day_partitions(parent regclass, first_day date, last_day date)
    RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    schema_name text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.oid = parent);
    table_name text := (SELECT relname FROM pg_class WHERE oid = parent);
    key name := partition_column(parent);
    default_partition regclass := to_regclass(format('%I.%I', schema_name, table_name || '_default'));
    day date;
    lower_bound timestamptz;
    upper_bound timestamptz;
    partition text;
    created integer := 0;
BEGIN
    FOR day IN SELECT generate_series(first_day, last_day, interval '1 day')::date LOOP
        partition := table_name || '_p' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(format('%I.%I', schema_name, partition)) IS NOT NULL;
        lower_bound := day::timestamp AT TIME ZONE 'UTC';
        upper_bound := (day + 1)::timestamp AT TIME ZONE 'UTC';
        -- Built beside the parent and attached: rows of the day that went to the default partition move in
        -- first, because attaching checks that the default partition holds none of the new range.
        EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
                       'WITH (toast_tuple_target = 8160)', schema_name, partition, parent);
        IF default_partition IS NOT NULL THEN
            EXECUTE format('WITH moved AS (DELETE FROM %s WHERE %I >= $1 AND %I < $2 RETURNING *) '
                           'INSERT INTO %I.%I SELECT * FROM moved',
                           default_partition, key, key, schema_name, partition)
                USING lower_bound, upper_bound;
        END IF;
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                       parent, schema_name, partition, lower_bound, upper_bound);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

-- Drop the daily partitions of parent for days before before_day and delete the default partition's rows
-- older than it; returns the names of the partitions dropped.
CREATE OR REPLACE FUNCTION drop_day_partitions(parent regclass, before_day date)
    RETURNS SETOF text
    LANGUAGE plpgsql AS $$
DECLARE
    schema_name text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.oid = parent);
    table_name text := (SELECT relname FROM pg_class WHERE oid = parent);
    partition text;
BEGIN
    FOR partition IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent AND c.relname ~ ('^' || table_name || '_p[0-9]{8}$')
          AND to_date(right(c.relname, 8), 'YYYYMMDD') < before_day
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I.%I', schema_name, partition);
        RETURN NEXT partition;
    END LOOP;
    EXECUTE format('DELETE FROM %I.%I WHERE %I < $1', schema_name, table_name || '_default',
                   partition_column(parent))
        USING before_day::timestamp AT TIME ZONE 'UTC';
END
$$;
