-- Staging tables: one per final table, created per load transaction on the loader's connection and
-- dropped at commit. Columns, types and order are the catalogue's (observatory_etl/tables.py, checked by
-- tests/test_tables.py) and match the frames of observatory_etl.ingest.frames; JSON arrives as
-- text (ADBC cannot COPY into jsonb) and is cast by the merge.

CREATE TEMP TABLE stage_trace_spans (
    trace_id uuid, span_id bigint, parent_span_id bigint, trace_state text, name text, kind smallint,
    service_name text, scope_name text, scope_version text, start_time timestamptz, end_time timestamptz,
    duration_ns bigint, status_code smallint, status_message text, attributes text,
    resource_attributes text, scope_attributes text, span_type text, operation text, provider text,
    request_model text, response_model text, input_tokens bigint, output_tokens bigint, total_tokens bigint,
    cache_read_input_tokens bigint, cache_creation_input_tokens bigint, reasoning_tokens bigint,
    input_cost_usd double precision, output_cost_usd double precision, total_cost_usd double precision,
    cost_source text, latency_ms double precision, ttft_ms double precision, finish_reasons text[],
    session_id text, user_id text, environment text, input text, output text
) ON COMMIT DROP;

CREATE TEMP TABLE stage_trace_events (
    trace_id uuid, span_id bigint, event_index integer, time timestamptz, name text, attributes text
) ON COMMIT DROP;

CREATE TEMP TABLE stage_trace_links (
    trace_id uuid, span_id bigint, link_index integer, linked_trace_id uuid, linked_span_id bigint,
    trace_state text, attributes text
) ON COMMIT DROP;

CREATE TEMP TABLE stage_metrics (
    metric_id uuid, name text, service_name text, type text, unit text, description text,
    scope_name text, scope_version text, scope_attributes text, resource_attributes text
) ON COMMIT DROP;

CREATE TEMP TABLE stage_metric_data_points (
    point_id uuid, metric_id uuid, metric_name text, start_time timestamptz, time timestamptz,
    value double precision, count bigint, sum double precision, min double precision, max double precision,
    bucket_counts bigint[], explicit_bounds double precision[], scale integer, zero_count bigint,
    zero_threshold double precision, positive_offset integer, positive_bucket_counts bigint[],
    negative_offset integer, negative_bucket_counts bigint[], quantiles text, exemplars text,
    flags integer, aggregation_temporality smallint, is_monotonic boolean, attributes text
) ON COMMIT DROP;

CREATE TEMP TABLE stage_logs (
    log_id uuid, time timestamptz, observed_time timestamptz, trace_id uuid, span_id bigint,
    trace_flags smallint, severity_number smallint, severity_text text, body text, event_name text,
    service_name text, scope_name text, scope_version text, scope_attributes text, attributes text,
    resource_attributes text
) ON COMMIT DROP;

-- The traces of each chunk's spans, one row per trace and chunk, added by the loader (PartitionLoad._touch) and
-- gathered into touched_traces at commit (merge/touched_traces.sql): the first and last start time of its spans,
-- and the partial rollup of them (observatory_etl/warehouse/rollup.py, trace_partials), from which
-- merge/new_traces.sql makes the traces row of a trace whose spans all came in a direct load. The "first" values
-- come with their sort key, (start_time, span_id) of the earliest span, root span (no parent) and span with a
-- session_id / user_id; token sums and the list of LLM costs are over the LLM spans (sums_fit: every token sum is
-- within bigint).
CREATE TEMP TABLE stage_touched_traces (
    trace_id uuid, first_start timestamptz, last_start timestamptz, first_span_id bigint,
    first_service_name text, first_name text, root_start timestamptz, root_span_id bigint,
    root_service_name text, root_name text, end_time timestamptz, span_count integer, error_count integer,
    llm_call_count integer, input_tokens bigint, output_tokens bigint, total_tokens bigint,
    llm_costs double precision[], session_start timestamptz, session_span_id bigint, session_id text,
    user_start timestamptz, user_span_id bigint, user_id text, sums_fit boolean
) ON COMMIT DROP;

-- Every trace_id a load has touched, with the first and last start time of its spans; the traces rollup
-- recomputes exactly these, reading only the days their spans can be in. from_staged: every span of the trace
-- came in this load's direct chunks, so its row is made from the partials (merge/new_traces.sql).
CREATE TEMP TABLE touched_traces (
    trace_id uuid PRIMARY KEY, first_start timestamptz, last_start timestamptz,
    from_staged boolean NOT NULL DEFAULT false
) ON COMMIT DROP;

-- The sessions the touched traces belong to, before and after the traces rollup (merge/touched_sessions.sql).
CREATE TEMP TABLE touched_sessions (session_id text PRIMARY KEY) ON COMMIT DROP;

-- Recomputed LLM costs (the recompute_costs job), applied by costs/update.sql.
CREATE TEMP TABLE stage_costs (
    trace_id uuid, span_id bigint, input_cost_usd double precision, output_cost_usd double precision,
    total_cost_usd double precision, cost_source text
) ON COMMIT DROP;

-- The files of this load, written to the ledger by merge/ingested_files.sql at commit.
CREATE TEMP TABLE stage_ingested_files (
    object_key text, size bigint, etag text, last_modified timestamptz, signal text, partition_key text,
    records_read bigint, rows_merged bigint, rejected bigint, run_id text, loaded_at timestamptz, status text,
    error text
) ON COMMIT DROP;

-- The records of this load's files that could not be decoded, written by merge/rejected_records.sql.
CREATE TEMP TABLE stage_rejected_records (
    object_key text, record_path text, signal text, reason text, record text, partition_key text, run_id text,
    rejected_at timestamptz
) ON COMMIT DROP;
