-- Daily partitions for the days [$1, $2] of every table in $3 (run before a load, in its own short
-- transaction); returns how many were created.
SELECT coalesce(sum(create_day_partitions(t::regclass, $1::date, $2::date)), 0)::integer
FROM unnest($3::text[]) AS t
