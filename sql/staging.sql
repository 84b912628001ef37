-- Staging tables: one per final table, created per load transaction on the loader's connection and
-- dropped at commit. Columns and order match the frames of observatory_etl.normalize; JSON arrives as
-- text (ADBC cannot COPY into jsonb) and is cast by the merge.

CREATE TEMP TABLE stage_trace_spans (
    trace_id uuid, span_id bigint, parent_span_id bigint, trace_state text, name text, kind smallint,
    service_name text, scope_name text, scope_version text, start_time timestamptz, end_time timestamptz,
    duration_ns bigint, status_code smallint, status_message text, attributes text,
    resource_attributes text, scope_attributes text
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

-- Every trace_id a load has staged; the traces rollup recomputes exactly these.
CREATE TEMP TABLE touched_traces (trace_id uuid PRIMARY KEY) ON COMMIT DROP;
