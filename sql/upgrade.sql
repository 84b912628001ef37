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

-- Indexes on columns that upgraded warehouses only have after the statements above.
CREATE INDEX IF NOT EXISTS traces_session_id_idx ON traces (session_id) WHERE session_id IS NOT NULL;
