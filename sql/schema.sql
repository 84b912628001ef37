-- Final tables of observatory-etl. Applied idempotently at the start of every load, inside the
-- schema given by OBSERVATORY_SCHEMA (the loader sets search_path; the schema itself is created by it).
--
-- Id types are chosen for merge speed: trace ids are uuid (their 16 bytes; `'5b8efff7…'::uuid` accepts
-- the 32-digit hex of OTLP directly, any case), span ids are bigint (their 8 bytes read big-endian as a
-- signed integer; span_id('eee19b7ec3c1b174') and span_id_hex(span_id) convert). Records without a
-- natural key (log records, data points, metrics) have a uuid key: the MD5 of their identity fields.
-- Timestamps are timestamptz (microseconds, UTC); exact span durations are kept in duration_ns.
--
-- The large tables (trace_spans, trace_events, metric_data_points, logs) are partitioned by event day
-- (UTC): daily partitions <table>_pYYYYMMDD are created ahead of each load by create_day_partitions()
-- (sql/partitions.sql), rows of other days land in <table>_default, and the retention job drops whole
-- days. A partitioned table's primary key must hold its partition column, so those keys end with the
-- event time; the time is part of the record and never changes, so the key is as unique as before.
-- Partition columns are NOT NULL: an unset OTLP time (0) is stored as the epoch, and a log record without
-- a time takes its observed time (OTLP logs data model: "use ObservedTimestamp if Timestamp is missing").

CREATE OR REPLACE FUNCTION span_id(hex text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ('x' || lpad(hex, 16, '0'))::bit(64)::bigint;

CREATE OR REPLACE FUNCTION span_id_hex(id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lpad(to_hex(id), 16, '0');

CREATE OR REPLACE FUNCTION trace_id_hex(id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace(id::text, '-', '');

-- The traces and sessions rollups sum as numeric and store a sum through these: a sum beyond its column's type
-- is null, as a span's token count beyond bigint is (docs/llm-mapping.md), instead of failing the hour's rollup
-- (SQLSTATE 22003). Token counts each fit in bigint, their sum need not; a cost sum beyond double precision's
-- largest finite value likewise (NaN and the infinities pass as they are). Not STRICT, so that the planner
-- inlines them (null gives null all the same).
CREATE OR REPLACE FUNCTION bigint_or_null(value numeric) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN value BETWEEN -9223372036854775808 AND 9223372036854775807 THEN value::bigint END;

CREATE OR REPLACE FUNCTION double_or_null(value numeric) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN value IN ('NaN', 'Infinity', '-Infinity') OR abs(value) <= 1.7976931348623157e308
                THEN value::double precision END;

-- One row per trace, recomputed from trace_spans for every trace a load touches.
CREATE TABLE IF NOT EXISTS traces (
    trace_id        uuid PRIMARY KEY,
    service_name    text,                 -- service of the root span (else of the earliest span)
    root_span_name  text,                 -- name of the span without parent (else of the earliest span)
    start_time      timestamptz,          -- earliest span start
    end_time        timestamptz,          -- latest span end (a span without an end, or ending before it starts, counts its start)
    duration_ns     bigint,               -- end_time - start_time, in ns (µs resolution)
    span_count      integer NOT NULL,
    error_count     integer NOT NULL,     -- spans with status_code = 2 (ERROR)
    llm_call_count  integer NOT NULL,     -- spans of span_type GENERATION or EMBEDDING
    input_tokens    bigint,               -- sums over the trace's LLM spans (null beyond bigint: bigint_or_null)
    output_tokens   bigint,
    total_tokens    bigint,
    total_cost_usd  double precision,
    session_id      text,                 -- of the earliest span that has one
    user_id         text
);

-- One row per session, recomputed from traces for every session a load touches.
CREATE TABLE IF NOT EXISTS sessions (
    session_id      text PRIMARY KEY,
    user_id         text,                 -- of the earliest trace that has one
    first_seen      timestamptz,
    last_seen       timestamptz,
    trace_count     integer NOT NULL,
    llm_call_count  integer NOT NULL,
    input_tokens    bigint,
    output_tokens   bigint,
    total_tokens    bigint,
    total_cost_usd  double precision
);

CREATE TABLE IF NOT EXISTS trace_spans (
    trace_id            uuid NOT NULL,
    span_id             bigint NOT NULL,
    parent_span_id      bigint,           -- NULL for a root span
    trace_state         text,
    name                text NOT NULL,
    kind                smallint NOT NULL, -- SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer
    service_name        text,              -- resource attribute service.name
    scope_name          text,
    scope_version       text,
    start_time          timestamptz NOT NULL, -- partition column (epoch when unset)
    end_time            timestamptz,
    duration_ns         bigint NOT NULL,   -- endTimeUnixNano - startTimeUnixNano
    status_code         smallint NOT NULL, -- Status.code: 0 unset, 1 ok, 2 error
    status_message      text,
    attributes          jsonb NOT NULL,
    resource_attributes jsonb NOT NULL,
    scope_attributes    jsonb NOT NULL,
    -- Canonical LLM columns, NULL on spans that are not GenAI spans (docs/llm-mapping.md).
    span_type                   text,   -- GENERATION | EMBEDDING | AGENT | TOOL | RETRIEVER | RERANKER | CHAIN | GUARDRAIL | EVALUATOR | SPAN
    operation                   text,   -- gen_ai.operation.name (chat, embeddings, execute_tool, …)
    provider                    text,
    request_model               text,
    response_model              text,
    input_tokens                bigint, -- includes cached input tokens
    output_tokens               bigint, -- includes reasoning tokens
    total_tokens                bigint,
    cache_read_input_tokens     bigint,
    cache_creation_input_tokens bigint,
    reasoning_tokens            bigint,
    input_cost_usd              double precision,
    output_cost_usd             double precision,
    total_cost_usd              double precision,
    cost_source                 text,   -- provided | computed
    latency_ms                  double precision,
    ttft_ms                     double precision, -- time to first token
    finish_reasons              text[],
    session_id                  text,
    user_id                     text,
    environment                 text,
    input                       jsonb,  -- prompt messages
    output                      jsonb,  -- completion messages
    PRIMARY KEY (trace_id, span_id, start_time)
) PARTITION BY RANGE (start_time);
CREATE TABLE IF NOT EXISTS trace_spans_default PARTITION OF trace_spans DEFAULT WITH (toast_tuple_target = 8160);
-- Hour-range queries inside a day partition (BRIN: tiny, cheap to maintain on time-ordered inserts).
CREATE INDEX IF NOT EXISTS trace_spans_start_time_brin ON trace_spans USING brin (start_time);

CREATE TABLE IF NOT EXISTS trace_events (
    trace_id    uuid NOT NULL,
    span_id     bigint NOT NULL,
    event_index integer NOT NULL,         -- position of the event in its span
    time        timestamptz NOT NULL,     -- partition column (epoch when unset)
    name        text NOT NULL,
    attributes  jsonb NOT NULL,
    PRIMARY KEY (trace_id, span_id, event_index, time)
) PARTITION BY RANGE (time);
CREATE TABLE IF NOT EXISTS trace_events_default PARTITION OF trace_events DEFAULT WITH (toast_tuple_target = 8160);

CREATE TABLE IF NOT EXISTS trace_links (
    trace_id        uuid NOT NULL,
    span_id         bigint NOT NULL,
    link_index      integer NOT NULL,     -- position of the link in its span
    linked_trace_id uuid,                 -- NULL: the link's trace id was empty or all zeros (kept, spec §Link)
    linked_span_id  bigint,
    trace_state     text,
    attributes      jsonb NOT NULL,
    PRIMARY KEY (trace_id, span_id, link_index)
);

-- One row per metric stream identity: resource, scope, name, type and unit.
CREATE TABLE IF NOT EXISTS metrics (
    metric_id           uuid PRIMARY KEY, -- md5(resource attributes, scope name, scope version, name, type, unit)
    name                text NOT NULL,
    service_name        text,
    type                text NOT NULL,    -- gauge | sum | histogram | exponential_histogram | summary
    unit                text,
    description         text,
    scope_name          text,
    scope_version       text,
    scope_attributes    jsonb NOT NULL,
    resource_attributes jsonb NOT NULL
);

CREATE TABLE IF NOT EXISTS metric_data_points (
    point_id                uuid NOT NULL,    -- md5(metric_id, attributes, start time ns, time ns)
    metric_id               uuid NOT NULL,
    metric_name             text NOT NULL,
    start_time              timestamptz,
    time                    timestamptz NOT NULL, -- partition column (epoch when unset)
    value                   double precision, -- gauge and sum: asDouble or asInt
    count                   bigint,           -- histogram, exponential histogram, summary
    sum                     double precision,
    min                     double precision,
    max                     double precision,
    bucket_counts           bigint[],         -- histogram
    explicit_bounds         double precision[],
    scale                   integer,          -- exponential histogram
    zero_count              bigint,
    zero_threshold          double precision,
    positive_offset         integer,
    positive_bucket_counts  bigint[],
    negative_offset         integer,
    negative_bucket_counts  bigint[],
    quantiles               jsonb,            -- summary: [{"quantile": q, "value": v}]
    exemplars               jsonb,            -- [{"time_unix_nano", "value", "trace_id", "span_id", "filtered_attributes"}]
    flags                   integer NOT NULL,
    aggregation_temporality smallint,         -- 1 delta, 2 cumulative (sum, histograms)
    is_monotonic            boolean,          -- sum only
    attributes              jsonb NOT NULL,
    PRIMARY KEY (point_id, time)
) PARTITION BY RANGE (time);
CREATE TABLE IF NOT EXISTS metric_data_points_default PARTITION OF metric_data_points DEFAULT WITH (toast_tuple_target = 8160);
CREATE INDEX IF NOT EXISTS metric_data_points_time_brin ON metric_data_points USING brin (time);

CREATE TABLE IF NOT EXISTS logs (
    log_id              uuid NOT NULL,    -- md5 of every field of the record and its resource and scope
    time                timestamptz NOT NULL, -- partition column: the record's time, else its observed time
    observed_time       timestamptz,
    trace_id            uuid,
    span_id             bigint,
    trace_flags         smallint NOT NULL,
    severity_number     smallint NOT NULL, -- 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL
    severity_text       text,
    body                jsonb,
    event_name          text,
    service_name        text,
    scope_name          text,
    scope_version       text,
    scope_attributes    jsonb NOT NULL,
    attributes          jsonb NOT NULL,
    resource_attributes jsonb NOT NULL,
    PRIMARY KEY (log_id, time)
) PARTITION BY RANGE (time);
CREATE TABLE IF NOT EXISTS logs_default PARTITION OF logs DEFAULT WITH (toast_tuple_target = 8160);
CREATE INDEX IF NOT EXISTS logs_time_brin ON logs USING brin (time);

-- The file ledger: one row per landing object loaded, written in the same transaction as its rows.
-- It is the truth about what has been loaded: a rerun of an hour whose files all match their ledger
-- rows (same size and ETag) is skipped.
CREATE TABLE IF NOT EXISTS ingested_files (
    object_key      text PRIMARY KEY,     -- relative to the landing root
    size            bigint NOT NULL,      -- bytes as stored
    etag            text,
    last_modified   timestamptz,
    signal          text NOT NULL,        -- traces | metrics | logs | llm_spans
    partition_key   text NOT NULL,        -- the landing hour, YYYY-MM-DD-HH:00
    records_read    bigint NOT NULL,      -- records read: decoded (spans + events + links, points, log records) + rejected
    rows_merged     bigint NOT NULL,      -- records now held by the final tables (inserted or already there)
    rejected        bigint NOT NULL,      -- records not loaded, each quarantined in rejected_records
    run_id          text,                 -- the Dagster run that loaded this version of the file
    loaded_at       timestamptz NOT NULL,
    status          text NOT NULL,        -- loaded | partial (some records rejected) | rejected (the whole file)
    error           text                  -- why the whole file was rejected (status rejected)
);
CREATE INDEX IF NOT EXISTS ingested_files_partition_key_idx ON ingested_files (partition_key);

-- Quarantine: records a load could not decode, one row per record, with where it is in its file and why.
-- A file's rows are replaced whenever that file is loaded again (a new version, or `observatory-etl
-- reprocess`), in the load's transaction, so nothing is doubled.
CREATE TABLE IF NOT EXISTS rejected_records (
    object_key      text NOT NULL,        -- the landing file, relative to the landing root
    record_path     text NOT NULL,        -- e.g. request 1 / resource 0 / scope 0 / span 5, or line 7
    signal          text NOT NULL,
    reason          text NOT NULL,
    record          text,                 -- the record's raw JSON when it parsed, else NULL
    partition_key   text NOT NULL,
    run_id          text,
    rejected_at     timestamptz NOT NULL,
    PRIMARY KEY (object_key, record_path)
);
CREATE INDEX IF NOT EXISTS rejected_records_partition_key_idx ON rejected_records (partition_key);
