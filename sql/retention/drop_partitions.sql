-- Drop the daily partitions of the tables in $2 for days before $1 (and the default partitions' older
-- rows); one row per partition dropped.
SELECT t AS table_name, drop_day_partitions(t::regclass, $1::date) AS partition_name
FROM unnest($2::text[]) AS t
