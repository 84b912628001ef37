"""Tests of observatory_etl.normalize: decoded OTLP columns → polars frames with the final dtypes."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from observatory_etl.ingest import frames as normalize
from observatory_etl.ingest import otlp_json
from observatory_etl.ingest.columns import TABLE_COLUMNS, Columns
from observatory_etl.tables import LLM_COLUMNS

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "otlp"
STAGING_SQL = Path(__file__).resolve().parents[2] / "sql" / "staging.sql"

UTC = timezone.utc
TS = pl.Datetime("us", "UTC")
TRACE_HEX = "5b8efff798038103d269b633813fc60c"

# A span without GenAI attributes has every canonical LLM column null.
NO_LLM = dict.fromkeys(LLM_COLUMNS)

# The exact frame schema of every table, written out by hand (order matters).
EXPECTED_SCHEMAS = {
    "trace_spans": [
        ("trace_id", pl.Binary), ("span_id", pl.Int64), ("parent_span_id", pl.Int64), ("trace_state", pl.String),
        ("name", pl.String), ("kind", pl.Int16), ("service_name", pl.String), ("scope_name", pl.String),
        ("scope_version", pl.String), ("start_time", TS), ("end_time", TS), ("duration_ns", pl.Int64),
        ("status_code", pl.Int16), ("status_message", pl.String), ("attributes", pl.String),
        ("resource_attributes", pl.String), ("scope_attributes", pl.String),
        # canonical LLM columns (docs/llm-mapping.md)
        ("span_type", pl.String), ("operation", pl.String), ("provider", pl.String), ("request_model", pl.String),
        ("response_model", pl.String), ("input_tokens", pl.Int64), ("output_tokens", pl.Int64),
        ("total_tokens", pl.Int64), ("cache_read_input_tokens", pl.Int64), ("cache_creation_input_tokens", pl.Int64),
        ("reasoning_tokens", pl.Int64), ("input_cost_usd", pl.Float64), ("output_cost_usd", pl.Float64),
        ("total_cost_usd", pl.Float64), ("cost_source", pl.String), ("latency_ms", pl.Float64),
        ("ttft_ms", pl.Float64), ("finish_reasons", pl.List(pl.String)), ("session_id", pl.String),
        ("user_id", pl.String), ("environment", pl.String), ("input", pl.String), ("output", pl.String),
    ],
    "trace_events": [
        ("trace_id", pl.Binary), ("span_id", pl.Int64), ("event_index", pl.Int32), ("time", TS), ("name", pl.String),
        ("attributes", pl.String),
    ],
    "trace_links": [
        ("trace_id", pl.Binary), ("span_id", pl.Int64), ("link_index", pl.Int32), ("linked_trace_id", pl.Binary),
        ("linked_span_id", pl.Int64), ("trace_state", pl.String), ("attributes", pl.String),
    ],
    "metrics": [
        ("metric_id", pl.Binary), ("name", pl.String), ("service_name", pl.String), ("type", pl.String),
        ("unit", pl.String), ("description", pl.String), ("scope_name", pl.String), ("scope_version", pl.String),
        ("scope_attributes", pl.String), ("resource_attributes", pl.String),
    ],
    "metric_data_points": [
        ("point_id", pl.Binary), ("metric_id", pl.Binary), ("metric_name", pl.String), ("start_time", TS),
        ("time", TS), ("value", pl.Float64), ("count", pl.Int64), ("sum", pl.Float64), ("min", pl.Float64),
        ("max", pl.Float64), ("bucket_counts", pl.List(pl.Int64)), ("explicit_bounds", pl.List(pl.Float64)),
        ("scale", pl.Int32), ("zero_count", pl.Int64), ("zero_threshold", pl.Float64), ("positive_offset", pl.Int32),
        ("positive_bucket_counts", pl.List(pl.Int64)), ("negative_offset", pl.Int32),
        ("negative_bucket_counts", pl.List(pl.Int64)), ("quantiles", pl.String), ("exemplars", pl.String),
        ("flags", pl.Int32), ("aggregation_temporality", pl.Int16), ("is_monotonic", pl.Boolean),
        ("attributes", pl.String),
    ],
    "logs": [
        ("log_id", pl.Binary), ("time", TS), ("observed_time", TS), ("trace_id", pl.Binary), ("span_id", pl.Int64),
        ("trace_flags", pl.Int16), ("severity_number", pl.Int16), ("severity_text", pl.String), ("body", pl.String),
        ("event_name", pl.String), ("service_name", pl.String), ("scope_name", pl.String),
        ("scope_version", pl.String), ("scope_attributes", pl.String), ("attributes", pl.String),
        ("resource_attributes", pl.String),
    ],
}


# ---------------------------------------------------------------------------------------------------
# Helpers


def kv(key, value):
    return {"key": key, "value": value}


def s(text):
    return {"stringValue": text}


def span(span_id="00000000000000a1", trace_id=TRACE_HEX, **extra):
    doc = {"traceId": trace_id, "spanId": span_id, "name": "op", "kind": 2,
           "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000"}
    doc.update(extra)
    return doc


def traces_request(*spans):
    return {"resourceSpans": [{"resource": {"attributes": [kv("service.name", s("svc"))]},
                               "scopeSpans": [{"scope": {"name": "lib"}, "spans": list(spans)}]}]}


def logs_request(*records):
    return {"resourceLogs": [{"resource": {"attributes": [kv("service.name", s("svc"))]},
                              "scopeLogs": [{"scope": {"name": "lib"}, "logRecords": list(records)}]}]}


def metrics_request(*metrics):
    return {"resourceMetrics": [{"resource": {"attributes": [kv("service.name", s("svc"))]},
                                 "scopeMetrics": [{"scope": {"name": "meter"}, "metrics": list(metrics)}]}]}


def decoded(*pairs) -> Columns:
    """Decode (signal, request) pairs, each as its own file, into one Columns."""
    columns = Columns()
    for signal, request in pairs:
        otlp_json.decode(signal, json.dumps(request).encode(), columns)
    return columns


def fixture_columns() -> Columns:
    columns = Columns()
    for signal, name in (("traces", "trace.json"), ("logs", "logs.json"), ("metrics", "metrics.json")):
        path = FIXTURES / name
        if not path.is_file():
            pytest.skip(f"official OTLP example {path} is absent (expected /work/shared/fixtures/otlp)")
        otlp_json.decode(signal, path.read_bytes(), columns)
    return columns


def a_bit_of_everything() -> Columns:
    return decoded(
        ("traces", traces_request(
            span(parentSpanId="ffffffffffffffff", status={"code": 1},
                 events=[{"timeUnixNano": "1700000000500000000", "name": "e"}],
                 links=[{"traceId": TRACE_HEX, "spanId": "8000000000000000"}]))),
        ("logs", logs_request({"timeUnixNano": "1700000000000000000", "severityNumber": 17, "flags": 1,
                               "traceId": TRACE_HEX, "spanId": "7fffffffffffffff", "body": s("b")})),
        ("metrics", metrics_request(
            {"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": "1", "asInt": 3}]}},
            {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [
                {"timeUnixNano": "1", "count": 2, "bucketCounts": [1, 1], "explicitBounds": [0.5]}]}},
            {"name": "x", "exponentialHistogram": {"dataPoints": [
                {"timeUnixNano": "1", "count": 2, "scale": 1, "positive": {"offset": 1, "bucketCounts": [2]}}]}},
            {"name": "s", "summary": {"dataPoints": [
                {"timeUnixNano": "1", "count": 2, "quantileValues": [{"quantile": 0.5, "value": 1}]}]}},
        )),
    )


# ---------------------------------------------------------------------------------------------------
# Schemas and column order


def test_frames_cover_every_table():
    assert set(normalize.frames(Columns())) == set(EXPECTED_SCHEMAS) == set(TABLE_COLUMNS)


@pytest.mark.parametrize("table", list(EXPECTED_SCHEMAS))
def test_empty_frame_has_exact_schema(table):
    frame = normalize.frames(Columns())[table]
    assert frame.height == 0
    assert list(frame.schema.items()) == EXPECTED_SCHEMAS[table]


def test_filled_frames_have_exact_schema_and_rows():
    frames = normalize.frames(a_bit_of_everything())
    for table, expected in EXPECTED_SCHEMAS.items():
        assert list(frames[table].schema.items()) == expected, table
    assert {t: f.height for t, f in frames.items()} == {
        "trace_spans": 1, "trace_events": 1, "trace_links": 1, "metrics": 4, "metric_data_points": 4, "logs": 1,
    }


@pytest.mark.parametrize("table", list(EXPECTED_SCHEMAS))
def test_column_order_follows_raw_schemas(table):
    """Time columns are renamed in place; duration_ns comes right after end_time (spans only)."""
    renames = {"start_time_unix_nano": "start_time", "end_time_unix_nano": "end_time",
               "time_unix_nano": "time", "observed_time_unix_nano": "observed_time"}
    expected = []
    for column in normalize.RAW_SCHEMAS[table]:
        expected.append(renames.get(column, column))
        if table == "trace_spans" and column == "end_time_unix_nano":
            expected.append("duration_ns")
    assert normalize.frames(Columns())[table].columns == expected
    # the raw schema has the decoder's columns in the decoder's order
    assert list(normalize.RAW_SCHEMAS[table]) == list(TABLE_COLUMNS[table])


def _staging_columns() -> dict[str, list[str]]:
    text = STAGING_SQL.read_text()
    tables = {}
    for name, body in re.findall(r"CREATE TEMP TABLE stage_(\w+)\s*\((.*?)\)\s*ON COMMIT DROP", text, re.S):
        tables[name] = [item.split()[0] for item in body.split(",")]
    return tables


@pytest.mark.parametrize("table", list(EXPECTED_SCHEMAS))
def test_column_order_matches_staging_tables(table):
    if not STAGING_SQL.is_file():
        pytest.skip(f"{STAGING_SQL} is absent")
    assert normalize.frames(Columns())[table].columns == _staging_columns()[table]


# ---------------------------------------------------------------------------------------------------
# Timestamps and durations


def test_nanoseconds_truncate_to_microseconds():
    columns = decoded(("traces", traces_request(
        span(startTimeUnixNano="1544712660000000999", endTimeUnixNano="1544712661000001999",
             events=[{"timeUnixNano": 1544712660123456789, "name": "e"}]),
    )))
    frames = normalize.frames(columns)
    spans = frames["trace_spans"]
    assert spans["start_time"].item() == datetime(2018, 12, 13, 14, 51, 0, 0, tzinfo=UTC)
    assert spans["end_time"].item() == datetime(2018, 12, 13, 14, 51, 1, 1, tzinfo=UTC)
    assert spans["start_time"].dt.epoch("us").item() == 1544712660000000
    assert spans["end_time"].dt.epoch("us").item() == 1544712661000001
    assert spans["duration_ns"].item() == 1000001000
    event_time = frames["trace_events"]["time"].item()
    assert event_time == datetime(2018, 12, 13, 14, 51, 0, 123456, tzinfo=UTC)
    assert event_time.tzinfo is not None and event_time.utcoffset().total_seconds() == 0


def test_duration_is_exact_in_nanoseconds():
    columns = decoded(("traces", traces_request(
        span("0000000000000001", startTimeUnixNano="1700000000000000001", endTimeUnixNano="1700000000000000999"),
        span("0000000000000002", startTimeUnixNano=1700000000000000999, endTimeUnixNano=1700000003000000001),
        span("0000000000000003", startTimeUnixNano="1700000000000000500", endTimeUnixNano="1700000000000000500"),
    )))
    spans = normalize.frames(columns)["trace_spans"]
    assert spans["duration_ns"].to_list() == [998, 2999999002, 0]
    # the sub-microsecond span has equal truncated start and end but a real duration
    assert spans["start_time"][0] == spans["end_time"][0]


def test_zero_timestamps_become_null():
    columns = decoded(
        ("traces", traces_request(span(startTimeUnixNano="0", endTimeUnixNano="1700000000000000000",
                                       events=[{"name": "no time"}]))),
        ("logs", logs_request({"observedTimeUnixNano": "1700000000000000000"}, {"timeUnixNano": "1700000000000001000"})),
        ("metrics", metrics_request({"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": "1700000000000000000", "asInt": 1}]}})),
    )
    frames = normalize.frames(columns)
    spans = frames["trace_spans"]
    assert spans["start_time"].to_list() == [None]
    assert spans["end_time"].to_list() == [datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)]
    assert spans["duration_ns"].to_list() == [1700000000000000000]  # end - start, literally
    assert frames["trace_events"]["time"].to_list() == [None]
    logs = frames["logs"]
    assert logs["time"].to_list() == [None, datetime(2023, 11, 14, 22, 13, 20, 1, tzinfo=UTC)]
    assert logs["observed_time"].to_list() == [datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), None]
    points = frames["metric_data_points"]
    assert points["start_time"].to_list() == [None]
    assert points["time"].to_list() == [datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)]


def test_one_nanosecond_after_epoch_is_not_null():
    columns = decoded(("logs", logs_request({"timeUnixNano": "1", "observedTimeUnixNano": "999"})))
    logs = normalize.frames(columns)["logs"]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert logs["time"].to_list() == [epoch]
    assert logs["observed_time"].to_list() == [epoch]


# ---------------------------------------------------------------------------------------------------
# Values


def test_ids_and_enums_values():
    frames = normalize.frames(a_bit_of_everything())
    spans = frames["trace_spans"].row(0, named=True)
    assert spans["trace_id"] == bytes.fromhex(TRACE_HEX)
    assert spans["span_id"] == 0xA1
    assert spans["parent_span_id"] == -1
    assert (spans["kind"], spans["status_code"]) == (2, 1)
    link = frames["trace_links"].row(0, named=True)
    assert link["linked_span_id"] == -(2**63) and link["linked_trace_id"] == bytes.fromhex(TRACE_HEX)
    log = frames["logs"].row(0, named=True)
    assert log["span_id"] == 2**63 - 1
    assert (log["severity_number"], log["trace_flags"]) == (17, 1)
    assert len(log["log_id"]) == 16
    points = frames["metric_data_points"]
    assert all(len(b) == 16 for b in points["point_id"].to_list() + points["metric_id"].to_list())
    assert points["aggregation_temporality"].to_list() == [None, 2, None, None]


def test_metric_point_values():
    points = normalize.frames(a_bit_of_everything())["metric_data_points"]
    gauge, histogram, exponential, summary = points.iter_rows(named=True)
    assert gauge["value"] == 3.0 and gauge["bucket_counts"] is None and gauge["is_monotonic"] is None
    assert histogram["bucket_counts"] == [1, 1] and histogram["explicit_bounds"] == [0.5] and histogram["count"] == 2
    assert exponential["scale"] == 1 and exponential["positive_offset"] == 1
    assert exponential["positive_bucket_counts"] == [2] and exponential["negative_bucket_counts"] == []
    assert json.loads(summary["quantiles"]) == [{"quantile": 0.5, "value": 1.0}]


def test_json_columns_hold_valid_json():
    frames = normalize.frames(fixture_columns())
    for table, schema in EXPECTED_SCHEMAS.items():
        for column in ("attributes", "resource_attributes", "scope_attributes", "body", "quantiles", "exemplars"):
            if column in dict(schema):
                for text in frames[table][column].to_list():
                    if text is not None:
                        json.loads(text)
    log = frames["logs"].row(0, named=True)
    assert json.loads(log["body"]) == "Example log record"
    assert json.loads(log["attributes"])["map.attribute"] == {"some.map.key": "some value"}


def test_official_examples_frames():
    frames = normalize.frames(fixture_columns())
    span_id = int.from_bytes(bytes.fromhex("EEE19B7EC3C1B174"), "big", signed=True)
    assert frames["trace_spans"].rows(named=True) == [
        {
            "trace_id": bytes.fromhex(TRACE_HEX), "span_id": span_id,
            "parent_span_id": int.from_bytes(bytes.fromhex("EEE19B7EC3C1B173"), "big", signed=True),
            "trace_state": None, "name": "I'm a server span", "kind": 2, "service_name": "my.service",
            "scope_name": "my.library", "scope_version": "1.0.0",
            "start_time": datetime(2018, 12, 13, 14, 51, 0, tzinfo=UTC),
            "end_time": datetime(2018, 12, 13, 14, 51, 1, tzinfo=UTC),
            "duration_ns": 1_000_000_000, "status_code": 0, "status_message": None,
            "attributes": '{"my.span.attr":"some value"}', "resource_attributes": '{"service.name":"my.service"}',
            "scope_attributes": '{"my.scope.attribute":"some scope attribute"}',
            **NO_LLM,
        }
    ]
    log = frames["logs"].row(0, named=True)
    assert log["time"] == log["observed_time"] == datetime(2018, 12, 13, 14, 51, 0, 300000, tzinfo=UTC)
    assert (log["trace_id"], log["span_id"], log["severity_text"]) == (bytes.fromhex(TRACE_HEX), span_id, "Information")
    points = frames["metric_data_points"]
    assert points["metric_name"].to_list() == ["my.counter", "my.gauge", "my.histogram"]
    assert points["value"].to_list() == [5.0, 10.0, None]
    assert points["start_time"].to_list() == [datetime(2018, 12, 13, 14, 51, 0, 300000, tzinfo=UTC), None,
                                              datetime(2018, 12, 13, 14, 51, 0, 300000, tzinfo=UTC)]
    assert points["bucket_counts"].to_list() == [None, None, [1, 1, 1]]
    assert points["explicit_bounds"].to_list() == [None, None, [1.0]]
    assert points["is_monotonic"].to_list() == [True, None, None]
    assert points["aggregation_temporality"].to_list() == [1, None, 1]
    assert frames["metrics"]["type"].to_list() == ["sum", "gauge", "histogram"]


# ---------------------------------------------------------------------------------------------------
# Duplicate keys within a chunk


def test_duplicate_spans_collapse_to_the_first():
    columns = decoded(
        ("traces", traces_request(span("0000000000000001", name="first",
                                       events=[{"name": "e0"}, {"name": "e1"}], links=[{"traceId": TRACE_HEX, "spanId": "0000000000000009"}]),
                                  span("0000000000000002", name="other"))),
        ("traces", traces_request(span("0000000000000001", name="second",
                                       events=[{"name": "x0"}], links=[{"traceId": TRACE_HEX, "spanId": "000000000000000a"}]),
                                  span("0000000000000001", trace_id="0af7651916cd43dd8448eb211c80319c", name="same span id, other trace"))),
    )
    frames = normalize.frames(columns)
    spans = frames["trace_spans"]
    assert spans["name"].to_list() == ["first", "other", "same span id, other trace"]
    assert spans["span_id"].to_list() == [1, 2, 1]
    events = frames["trace_events"]
    assert events["name"].to_list() == ["e0", "e1"]
    assert events["event_index"].to_list() == [0, 1]
    assert frames["trace_links"]["linked_span_id"].to_list() == [9]


def test_duplicate_logs_collapse_and_distinct_logs_stay():
    record = {"timeUnixNano": "1700000000000000000", "body": s("same")}
    columns = decoded(
        ("logs", logs_request(record, {"timeUnixNano": "1700000000000000000", "body": s("different")})),
        ("logs", logs_request(record)),
    )
    assert len(columns.tables["logs"]["log_id"]) == 3
    logs = normalize.frames(columns)["logs"]
    assert logs["body"].to_list() == ['"same"', '"different"']
    assert logs["log_id"].n_unique() == 2


def test_duplicate_metrics_and_points_keep_the_first():
    def request(value, description):
        return metrics_request({"name": "g", "description": description, "gauge": {"dataPoints": [
            {"timeUnixNano": "5", "asDouble": value, "attributes": [kv("a", s("1"))]},
            {"timeUnixNano": "6", "asDouble": value + 100},
        ]}})

    columns = decoded(("metrics", request(1.0, "first")), ("metrics", request(2.0, "second")))
    assert len(columns.tables["metric_data_points"]["point_id"]) == 4
    frames = normalize.frames(columns)
    assert frames["metrics"]["description"].to_list() == ["first"]
    points = frames["metric_data_points"]
    assert points["value"].to_list() == [1.0, 101.0]
    assert points["point_id"].n_unique() == 2


def test_frame_of_a_single_table():
    columns = decoded(("traces", traces_request(span("0000000000000001"), span("0000000000000001", name="dup"))))
    frame = normalize.frame("trace_spans", columns.tables["trace_spans"])
    assert frame.height == 1 and frame["name"].to_list() == ["op"]
    assert list(frame.schema.items()) == EXPECTED_SCHEMAS["trace_spans"]
