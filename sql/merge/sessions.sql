-- Recompute the sessions row of every session a touched trace belongs to, from all of its traces: the sessions
-- the touched traces had before merge/traces.sql and have after it (merge/touched_sessions.sql, run before and
-- after: a trace whose earliest span now has another session_id has left its old session). Unchanged rows are
-- not written; a session left without traces is deleted. Sums as in merge/traces.sql.
INSERT INTO sessions (
    session_id, user_id, first_seen, last_seen, trace_count, llm_call_count, input_tokens, output_tokens,
    total_tokens, total_cost_usd
)
SELECT t.session_id,
       (array_agg(t.user_id ORDER BY t.start_time, t.trace_id) FILTER (WHERE t.user_id IS NOT NULL))[1],
       min(t.start_time),
       max(t.end_time),
       count(*),
       sum(t.llm_call_count),
       bigint_or_null(sum(t.input_tokens)),
       bigint_or_null(sum(t.output_tokens)),
       bigint_or_null(sum(t.total_tokens)),
       double_or_null(sum(t.total_cost_usd::numeric))  -- exact, independent of row order
FROM traces t
WHERE t.session_id IN (SELECT session_id FROM touched_sessions)
GROUP BY t.session_id
ON CONFLICT (session_id) DO UPDATE SET
    user_id = EXCLUDED.user_id,
    first_seen = EXCLUDED.first_seen,
    last_seen = EXCLUDED.last_seen,
    trace_count = EXCLUDED.trace_count,
    llm_call_count = EXCLUDED.llm_call_count,
    input_tokens = EXCLUDED.input_tokens,
    output_tokens = EXCLUDED.output_tokens,
    total_tokens = EXCLUDED.total_tokens,
    total_cost_usd = EXCLUDED.total_cost_usd
WHERE (sessions.user_id, sessions.first_seen, sessions.last_seen, sessions.trace_count, sessions.llm_call_count,
       sessions.input_tokens, sessions.output_tokens, sessions.total_tokens, sessions.total_cost_usd)
      IS DISTINCT FROM
      (EXCLUDED.user_id, EXCLUDED.first_seen, EXCLUDED.last_seen, EXCLUDED.trace_count, EXCLUDED.llm_call_count,
       EXCLUDED.input_tokens, EXCLUDED.output_tokens, EXCLUDED.total_tokens, EXCLUDED.total_cost_usd);

DELETE FROM sessions s
USING touched_sessions o
WHERE s.session_id = o.session_id
  AND NOT EXISTS (SELECT 1 FROM traces t WHERE t.session_id = o.session_id)
