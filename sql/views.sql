-- Usage views over the canonical LLM columns (docs/llm-mapping.md). LLM calls are spans of span_type
-- GENERATION or EMBEDDING; a call without its own user or session id takes its trace's (traces rollup).
-- A token sum beyond bigint is null (bigint_or_null, sql/schema.sql), not an error of the query.
-- Views are dropped and created again on every load's DDL step, so a changed column type applies.

-- Per requested model and hour (of the call's start): calls, errors, tokens, cost, latency and time to first token.
DROP VIEW IF EXISTS llm_usage_hourly;
CREATE VIEW llm_usage_hourly AS
SELECT date_trunc('hour', s.start_time)                                AS hour,
       s.provider,
       coalesce(s.request_model, s.response_model)                     AS model,  -- as asked: failed calls have no response model
       count(*)                                                        AS calls,
       count(*) FILTER (WHERE s.status_code = 2)                       AS errors,
       bigint_or_null(sum(s.input_tokens))                             AS input_tokens,
       bigint_or_null(sum(s.output_tokens))                            AS output_tokens,
       bigint_or_null(sum(s.total_tokens))                             AS total_tokens,
       bigint_or_null(sum(s.cache_read_input_tokens))                  AS cache_read_input_tokens,
       bigint_or_null(sum(s.reasoning_tokens))                         AS reasoning_tokens,
       sum(s.total_cost_usd)                                           AS total_cost_usd,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.latency_ms)       AS p50_latency_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY s.latency_ms)      AS p95_latency_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.ttft_ms)          AS p50_ttft_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY s.ttft_ms)         AS p95_ttft_ms
FROM trace_spans s
WHERE s.span_type IN ('GENERATION', 'EMBEDDING')
GROUP BY 1, 2, 3;

-- Per user: calls, errors, traces, sessions, tokens, cost, latency, first and last seen.
DROP VIEW IF EXISTS llm_usage_by_user;
CREATE VIEW llm_usage_by_user AS
SELECT coalesce(s.user_id, t.user_id)                                  AS user_id,
       count(*)                                                        AS calls,
       count(*) FILTER (WHERE s.status_code = 2)                       AS errors,
       count(DISTINCT s.trace_id)                                      AS traces,
       count(DISTINCT coalesce(s.session_id, t.session_id))            AS sessions,
       bigint_or_null(sum(s.input_tokens))                             AS input_tokens,
       bigint_or_null(sum(s.output_tokens))                            AS output_tokens,
       bigint_or_null(sum(s.total_tokens))                             AS total_tokens,
       sum(s.total_cost_usd)                                           AS total_cost_usd,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.latency_ms)       AS p50_latency_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY s.latency_ms)      AS p95_latency_ms,
       min(s.start_time)                                               AS first_seen,
       max(s.end_time)                                                 AS last_seen
FROM trace_spans s
JOIN traces t USING (trace_id)
WHERE s.span_type IN ('GENERATION', 'EMBEDDING') AND coalesce(s.user_id, t.user_id) IS NOT NULL
GROUP BY 1;

-- Per session: its user, calls, errors, traces, tokens, cost, latency, first and last seen.
DROP VIEW IF EXISTS llm_usage_by_session;
CREATE VIEW llm_usage_by_session AS
SELECT coalesce(s.session_id, t.session_id)                            AS session_id,
       (array_agg(coalesce(s.user_id, t.user_id) ORDER BY s.start_time)
            FILTER (WHERE coalesce(s.user_id, t.user_id) IS NOT NULL))[1] AS user_id,
       count(*)                                                        AS calls,
       count(*) FILTER (WHERE s.status_code = 2)                       AS errors,
       count(DISTINCT s.trace_id)                                      AS traces,
       bigint_or_null(sum(s.input_tokens))                             AS input_tokens,
       bigint_or_null(sum(s.output_tokens))                            AS output_tokens,
       bigint_or_null(sum(s.total_tokens))                             AS total_tokens,
       sum(s.total_cost_usd)                                           AS total_cost_usd,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.latency_ms)       AS p50_latency_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY s.latency_ms)      AS p95_latency_ms,
       min(s.start_time)                                               AS first_seen,
       max(s.end_time)                                                 AS last_seen
FROM trace_spans s
JOIN traces t USING (trace_id)
WHERE s.span_type IN ('GENERATION', 'EMBEDDING') AND coalesce(s.session_id, t.session_id) IS NOT NULL
GROUP BY 1;
