-- The traces row of every touched trace whose spans all came in this load (from_staged, set by
-- merge/touched_traces.sql after a direct load), made from the partials of the load's chunks
-- (stage_touched_traces, computed client-side by observatory_etl/warehouse/rollup.py) with the values
-- merge/traces.sql would compute from its spans, instead of reading the spans back from trace_spans
-- (docs/tuning.md, "Issues 10 and 11, session 8"). No such trace has a row: a plain INSERT.
-- The "first" values are the partials' firsts with the smallest sort key: the root span's service and name
-- when the trace has a root span, else the earliest span's; costs are summed as numeric, and the sums stored, as
-- in merge/traces.sql.
-- Most traces have one partial (all their spans came in one chunk): their row is that partial's values, as the
-- aggregation of one partial gives them, without the GROUP BY that sorts each trace's partials for its "first"
-- values (in the bench hour every trace has one partial, and the aggregation took 0.29-0.46 s of this
-- statement's 0.43-0.57 s; docs/tuning.md, session 11). A trace with several partials is aggregated.
WITH several AS (
    SELECT trace_id FROM stage_touched_traces GROUP BY trace_id HAVING count(*) > 1
)
INSERT INTO traces (
    trace_id, service_name, root_span_name, start_time, end_time, duration_ns, span_count, error_count,
    llm_call_count, input_tokens, output_tokens, total_tokens, total_cost_usd, session_id, user_id
)
SELECT p.trace_id,
       CASE WHEN p.root_start IS NOT NULL THEN p.root_service_name ELSE p.first_service_name END,
       CASE WHEN p.root_start IS NOT NULL THEN p.root_name ELSE p.first_name END,
       p.first_start,
       p.end_time,
       (extract(epoch FROM p.end_time - p.first_start) * 1000000000)::bigint,
       p.span_count,
       p.error_count,
       p.llm_call_count,
       p.input_tokens,  -- a partial with sums_fit false is not from_staged: its sums fit their columns
       p.output_tokens,
       p.total_tokens,
       double_or_null((SELECT sum(c::numeric) FROM unnest(p.llm_costs) AS c)),
       p.session_id,
       p.user_id
FROM stage_touched_traces p
JOIN touched_traces t ON t.trace_id = p.trace_id AND t.from_staged
WHERE NOT EXISTS (SELECT FROM several s WHERE s.trace_id = p.trace_id)
UNION ALL
SELECT p.trace_id,
       CASE WHEN bool_or(p.root_start IS NOT NULL)
            THEN (array_agg(p.root_service_name ORDER BY p.root_start, p.root_span_id) FILTER (WHERE p.root_start IS NOT NULL))[1]
            ELSE (array_agg(p.first_service_name ORDER BY p.first_start, p.first_span_id))[1] END,
       CASE WHEN bool_or(p.root_start IS NOT NULL)
            THEN (array_agg(p.root_name ORDER BY p.root_start, p.root_span_id) FILTER (WHERE p.root_start IS NOT NULL))[1]
            ELSE (array_agg(p.first_name ORDER BY p.first_start, p.first_span_id))[1] END,
       min(p.first_start),
       max(p.end_time),  -- the partials' end_time counts the start of a span without an end, as traces.sql does
       (extract(epoch FROM max(p.end_time) - min(p.first_start)) * 1000000000)::bigint,
       sum(p.span_count),
       sum(p.error_count),
       sum(p.llm_call_count),
       bigint_or_null(sum(p.input_tokens)),
       bigint_or_null(sum(p.output_tokens)),
       bigint_or_null(sum(p.total_tokens)),
       double_or_null(sum((SELECT sum(c::numeric) FROM unnest(p.llm_costs) AS c))),
       (array_agg(p.session_id ORDER BY p.session_start, p.session_span_id) FILTER (WHERE p.session_id IS NOT NULL))[1],
       (array_agg(p.user_id ORDER BY p.user_start, p.user_span_id) FILTER (WHERE p.user_id IS NOT NULL))[1]
FROM stage_touched_traces p
JOIN touched_traces t ON t.trace_id = p.trace_id AND t.from_staged
WHERE EXISTS (SELECT FROM several s WHERE s.trace_id = p.trace_id)
GROUP BY p.trace_id
