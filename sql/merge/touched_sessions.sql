-- The sessions of the touched traces, run before merge/traces.sql recomputes the traces and again after it: a
-- trace takes the session_id of its earliest span that has one, so a load bringing an earlier span can move a
-- trace to another session, and merge/sessions.sql recomputes both. $1: all touched traces (after), or only
-- those not just made from the load's partials (before: a new trace's session is read after).
INSERT INTO touched_sessions (session_id)
SELECT DISTINCT r.session_id
FROM touched_traces t
JOIN traces r ON r.trace_id = t.trace_id
WHERE r.session_id IS NOT NULL AND ($1 OR NOT t.from_staged)
ON CONFLICT (session_id) DO NOTHING
