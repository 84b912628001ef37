"""Tests of observatory_etl.otlp: OTLP/JSON → column lists.

Spec: opentelemetry-proto docs/specification.md, "JSON Protobuf Encoding" (hex ids in any case, 64-bit
integers as strings or numbers, enums as integers, AnyValue kinds nested to any depth, unknown fields
ignored). Expected values below are written out by hand, not computed with the module under test.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import re
from pathlib import Path

import orjson
import pytest

from observatory_etl.ingest import otlp_json
from observatory_etl.ingest.columns import Columns, DecodeError
from observatory_etl.ingest.otlp_json import values
from observatory_etl.tables import LLM_COLUMNS
from tests.conftest import decoded_rows

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "otlp"

TRACE_HEX = "5b8efff798038103d269b633813fc60c"
SPAN_HEX = "eee19b7ec3c1b174"
PARENT_HEX = "eee19b7ec3c1b173"
SPAN_INT = -1233533854170369676  # 0xEEE19B7EC3C1B174 - 2**64, by hand
PARENT_INT = -1233533854170369677

RESOURCE_JSON = '{"service.name":"my.service"}'
SCOPE_JSON = '{"my.scope.attribute":"some scope attribute"}'
NO_LLM = dict.fromkeys(LLM_COLUMNS)  # a span without GenAI attributes has every canonical LLM column null


# ---------------------------------------------------------------------------------------------------
# Helpers


def kv(key, value):
    return {"key": key, "value": value}


def s(text):
    return {"stringValue": text}


def encode(doc) -> bytes:
    return json.dumps(doc).encode()


def decode(signal: str, data, columns: Columns | None = None) -> Columns:
    columns = Columns() if columns is None else columns
    if not isinstance(data, bytes):
        data = encode(data)
    otlp_json.decode(signal, data, columns)
    return columns


def rows(columns: Columns, table: str) -> list[dict]:
    return decoded_rows(columns, table)


def md5(*texts: str) -> bytes:
    return hashlib.md5("\x1f".join(texts).encode()).digest()


def traces_doc(spans, *, resource_attrs=None, scope=None) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": resource_attrs if resource_attrs is not None else [kv("service.name", s("svc"))]},
                "scopeSpans": [{"scope": scope if scope is not None else {"name": "lib", "version": "2.0"}, "spans": spans}],
            }
        ]
    }


def a_span(**overrides) -> dict:
    span = {
        "traceId": TRACE_HEX,
        "spanId": SPAN_HEX,
        "name": "op",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "kind": 1,
    }
    span.update(overrides)
    return span


def logs_doc(records, *, resource_attrs=None, scope=None) -> dict:
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": resource_attrs if resource_attrs is not None else [kv("service.name", s("svc"))]},
                "scopeLogs": [{"scope": scope if scope is not None else {"name": "lib", "version": "2.0"}, "logRecords": records}],
            }
        ]
    }


def a_log(**overrides) -> dict:
    record = {
        "timeUnixNano": "1700000000000000001",
        "observedTimeUnixNano": "1700000000000000002",
        "severityNumber": 9,
        "severityText": "INFO",
        "body": s("hello"),
        "attributes": [kv("k", s("v"))],
    }
    record.update(overrides)
    return record


def metrics_doc(metrics, *, resource_attrs=None, scope=None) -> dict:
    return {
        "resourceMetrics": [
            {
                "resource": {"attributes": resource_attrs if resource_attrs is not None else [kv("service.name", s("svc"))]},
                "scopeMetrics": [{"scope": scope if scope is not None else {"name": "lib", "version": "2.0"}, "metrics": metrics}],
            }
        ]
    }


def fixture_bytes(name: str) -> bytes:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"official OTLP example {path} is absent (expected /work/shared/fixtures/otlp)")
    return path.read_bytes()


# ---------------------------------------------------------------------------------------------------
# Ids


def test_trace_id_upper_and_lower_case_give_identical_bytes():
    upper = values.trace_id_bytes(TRACE_HEX.upper())
    lower = values.trace_id_bytes(TRACE_HEX)
    mixed = values.trace_id_bytes("5B8efff798038103D269b633813fc60C")
    assert upper == lower == mixed == bytes.fromhex(TRACE_HEX)
    assert type(upper) is bytes and len(upper) == 16


def test_span_id_upper_and_lower_case_give_identical_ints():
    assert values.span_id_int(SPAN_HEX.upper()) == values.span_id_int(SPAN_HEX) == SPAN_INT
    assert values.span_id_int("EeE19b7Ec3C1b174") == SPAN_INT


def test_upper_and_lower_case_ids_decode_to_identical_span_rows():
    upper = decode("traces", traces_doc([a_span(traceId=TRACE_HEX.upper(), spanId=SPAN_HEX.upper(), parentSpanId=PARENT_HEX.upper())]))
    lower = decode("traces", traces_doc([a_span(parentSpanId=PARENT_HEX)]))
    assert upper.tables == lower.tables
    row = rows(lower, "trace_spans")[0]
    assert row["trace_id"] == bytes.fromhex(TRACE_HEX)
    assert row["span_id"] == SPAN_INT
    assert row["parent_span_id"] == PARENT_INT


@pytest.mark.parametrize(
    ("hex_id", "expected"),
    [
        ("ffffffffffffffff", -1),
        ("FFFFFFFFFFFFFFFF", -1),
        ("8000000000000000", -(2**63)),
        ("7fffffffffffffff", 2**63 - 1),
        ("0000000000000001", 1),
        ("00000000000000ff", 255),
        ("ff00000000000000", -(2**56)),
        ("EEE19B7EC3C1B174", SPAN_INT),
    ],
)
def test_span_id_to_signed_int64(hex_id, expected):
    value = values.span_id_int(hex_id)
    assert value == expected
    assert value == int.from_bytes(bytes.fromhex(hex_id), "big", signed=True)
    # round trip: the signed value's 8 big-endian bytes are the id again
    assert value.to_bytes(8, "big", signed=True).hex() == hex_id.lower()
    assert -(2**63) <= value < 2**63


def test_span_id_random_round_trips():
    rng = random.Random(20240601)
    for _ in range(500):
        raw = rng.getrandbits(64).to_bytes(8, "big")
        if raw == bytes(8):
            continue
        for text in (raw.hex(), raw.hex().upper()):
            value = values.span_id_int(text)
            assert value == int.from_bytes(raw, "big", signed=True)
            assert value.to_bytes(8, "big", signed=True) == raw


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "missing traceId"),
        (None, "missing traceId"),
        ("5b8efff798038103d269b633813fc6", "is not 32 hex digits"),  # 30 digits
        ("5b8efff798038103d269b633813fc60c00", "is not 32 hex digits"),  # 34 digits
        ("5b8efff798038103d269b633813fc60", "is not 32 hex digits"),  # odd length
        ("zz8efff798038103d269b633813fc60c", "is not 32 hex digits"),
        ("W46P95gDgQPSabYzgT/GDA==", "is not 32 hex digits"),  # base64 (proto3 canonical), not OTLP hex
        ("0" * 32, "all zeros"),
        (12345, "is not 32 hex digits"),
    ],
)
def test_invalid_trace_id_raises(value, message):
    with pytest.raises(DecodeError, match=message):
        values.trace_id_bytes(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "missing spanId"),
        (None, "missing spanId"),
        ("eee19b7ec3c1b17", "is not 16 hex digits"),  # 15 digits
        ("eee19b7ec3c1b1740", "is not 16 hex digits"),  # 17 digits
        ("eee19b7ec3c1b1zz", "is not 16 hex digits"),
        ("gggggggggggggggg", "is not 16 hex digits"),
        ("0" * 16, "all zeros"),
        (12345, "is not 16 hex digits"),
    ],
)
def test_invalid_span_id_raises(value, message):
    with pytest.raises(DecodeError, match=message):
        values.span_id_int(value)


def test_invalid_id_message_quotes_the_value():
    with pytest.raises(DecodeError) as info:
        values.span_id_int("eee19b7ec3c1b1zz")
    assert "'eee19b7ec3c1b1zz'" in str(info.value)
    with pytest.raises(DecodeError) as info:
        values.trace_id_bytes("abcd")
    assert "'abcd'" in str(info.value)


def test_optional_ids_empty_or_zero_give_none():
    assert values.trace_id_bytes("", required=False) is None
    assert values.trace_id_bytes(None, required=False) is None
    assert values.trace_id_bytes("0" * 32, required=False) is None
    assert values.span_id_int("", required=False) is None
    assert values.span_id_int(None, required=False) is None
    assert values.span_id_int("0" * 16, required=False) is None


def test_optional_ids_still_reject_malformed_values():
    with pytest.raises(DecodeError, match="is not 32 hex digits"):
        values.trace_id_bytes("abcd", required=False)
    with pytest.raises(DecodeError, match="is not 16 hex digits"):
        values.span_id_int("abcd", required=False)


@pytest.mark.parametrize("value", ["0x00000000000001", "-000000000000001", "+000000000000001", " 00000000000001 ", "0000_0000_0000_1"])
def test_span_id_rejects_non_hex_that_int_accepts(value):
    assert len(value) == 16
    with pytest.raises(DecodeError):
        values.span_id_int(value)


@pytest.mark.parametrize("value", [TRACE_HEX + " ", "5b8efff7 98038103d269b633813fc60c"])
def test_trace_id_rejects_whitespace(value):
    with pytest.raises(DecodeError):
        values.trace_id_bytes(value)


def test_span_missing_trace_id_is_rejected_with_its_path_and_the_rest_decodes():
    good = a_span()
    bad = a_span(spanId="00000000000000aa")
    del bad["traceId"]
    data = encode(traces_doc([good])) + b"\n" + encode(traces_doc([good, bad]))
    columns = decode("traces", data)
    assert len(columns.tables["trace_spans"]["span_id"]) == 2  # the good span of each line
    [reject] = columns.rejects
    assert reject.record_path == "line 2 / resource 0 / scope 0 / span 1"
    assert reject.reason == "missing traceId"
    assert orjson.loads(reject.record) == bad


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("traceId", "abcd", "traceId 'abcd' is not 32 hex digits"),
        ("traceId", "0" * 32, "traceId is all zeros"),
        ("spanId", "", "missing spanId"),
        ("spanId", "0" * 16, "spanId is all zeros"),
        ("spanId", "xyzxyzxyzxyzxyzx", "is not 16 hex digits"),
        ("parentSpanId", "123", "is not 16 hex digits"),
        ("startTimeUnixNano", "soon", "expected a 64-bit integer"),
    ],
)
def test_invalid_span_fields_reject_the_span(field, value, message):
    columns = decode("traces", traces_doc([a_span(spanId="00000000000000aa"), a_span(**{field: value})]))
    assert len(columns.tables["trace_spans"]["span_id"]) == 1
    [reject] = columns.rejects
    assert reject.record_path == "request 1 / resource 0 / scope 0 / span 1"
    assert re.search(message, reject.reason), reject.reason


def test_links_with_empty_or_zero_ids_are_kept_and_malformed_ids_reject_the_span():
    # trace API spec, §Link: links with an empty TraceId or SpanId SHOULD be recorded when they carry
    # attributes or a trace state
    span = a_span(links=[{"traceId": "", "spanId": "00000000000000aa", "attributes": [kv("k", s("v"))]},
                         {"traceId": "0" * 32, "spanId": "0" * 16, "traceState": "a=b"}])
    columns = decode("traces", traces_doc([span]))
    assert not columns.rejects
    links = rows(columns, "trace_links")
    assert [(link["linked_trace_id"], link["linked_span_id"]) for link in links] == [(None, 170), (None, None)]
    assert [link["trace_state"] for link in links] == [None, "a=b"]
    span = a_span(links=[{"traceId": TRACE_HEX, "spanId": "abc"}])
    columns = decode("traces", traces_doc([span]))
    assert columns.tables["trace_links"]["link_index"] == [] and columns.tables["trace_spans"]["span_id"] == []
    [reject] = columns.rejects
    assert "link 0 spanId 'abc' is not 16 hex digits" in reject.reason


def test_optional_ids_in_spans_and_logs():
    columns = decode("traces", traces_doc([a_span(parentSpanId="", traceState=""), a_span(spanId="00000000000000aa")]))
    assert columns.tables["trace_spans"]["parent_span_id"] == [None, None]
    assert columns.tables["trace_spans"]["trace_state"] == [None, None]
    logs = decode(
        "logs",
        logs_doc(
            [
                a_log(traceId="", spanId=""),
                a_log(),
                a_log(traceId="0" * 32, spanId="0" * 16),
                a_log(traceId=TRACE_HEX.upper(), spanId=SPAN_HEX.upper()),
            ]
        ),
    )
    assert logs.tables["logs"]["trace_id"] == [None, None, None, bytes.fromhex(TRACE_HEX)]
    assert logs.tables["logs"]["span_id"] == [None, None, None, SPAN_INT]


def test_invalid_log_trace_id_rejects_the_record():
    columns = decode("logs", logs_doc([a_log(), a_log(traceId="abcd")]))
    assert len(columns.tables["logs"]["log_id"]) == 1
    [reject] = columns.rejects
    assert (reject.record_path, reject.reason) == (
        "request 1 / resource 0 / scope 0 / log record 1", "traceId 'abcd' is not 32 hex digits")


# ---------------------------------------------------------------------------------------------------
# 64-bit integers and doubles


def test_span_times_as_strings_and_numbers_are_equal():
    as_strings = decode("traces", traces_doc([a_span(startTimeUnixNano="1700000000000000123", endTimeUnixNano="1700000000999999999",
                                                     events=[{"timeUnixNano": "1700000000500000001", "name": "e"}])]))
    as_numbers = decode("traces", traces_doc([a_span(startTimeUnixNano=1700000000000000123, endTimeUnixNano=1700000000999999999,
                                                     events=[{"timeUnixNano": 1700000000500000001, "name": "e"}])]))
    assert as_strings.tables == as_numbers.tables
    spans = as_numbers.tables["trace_spans"]
    assert spans["start_time_unix_nano"] == [1700000000000000123]
    assert spans["end_time_unix_nano"] == [1700000000999999999]
    assert as_numbers.tables["trace_events"]["time_unix_nano"] == [1700000000500000001]
    assert all(type(v) is int for v in spans["start_time_unix_nano"] + spans["end_time_unix_nano"])


def test_int_values_as_strings_and_numbers_are_equal_and_exact():
    big = 2**63 - 1
    beyond_double = 9007199254740993  # 2**53 + 1: a float would round it
    as_strings = values.attributes_json([kv("big", {"intValue": str(big)}), kv("b53", {"intValue": str(beyond_double)}),
                                       kv("neg", {"intValue": "-5"}), kv("zero", {"intValue": "0"})])
    as_numbers = values.attributes_json([kv("big", {"intValue": big}), kv("b53", {"intValue": beyond_double}),
                                       kv("neg", {"intValue": -5}), kv("zero", {"intValue": 0})])
    expected = '{"big":9223372036854775807,"b53":9007199254740993,"neg":-5,"zero":0}'
    assert as_strings == as_numbers == expected


def test_log_times_as_strings_and_numbers_are_equal_including_log_id():
    as_strings = decode("logs", logs_doc([a_log(timeUnixNano="1700000000000000001", observedTimeUnixNano="1700000000000000002", flags="1")]))
    as_numbers = decode("logs", logs_doc([a_log(timeUnixNano=1700000000000000001, observedTimeUnixNano=1700000000000000002, flags=1)]))
    assert as_strings.tables == as_numbers.tables
    assert as_numbers.tables["logs"]["time_unix_nano"] == [1700000000000000001]
    assert as_numbers.tables["logs"]["observed_time_unix_nano"] == [1700000000000000002]
    assert as_numbers.tables["logs"]["trace_flags"] == [1]


def _histogram_metric(count, buckets, as_int):
    return [
        {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [
            {"startTimeUnixNano": "1", "timeUnixNano": "2", "count": count, "sum": 6, "bucketCounts": buckets,
             "explicitBounds": [1, 2.5]}]}},
        {"name": "c", "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
            {"timeUnixNano": "3", "asInt": as_int}]}},
        {"name": "e", "exponentialHistogram": {"dataPoints": [
            {"timeUnixNano": "4", "count": count, "zeroCount": as_int, "positive": {"offset": 1, "bucketCounts": buckets}}]}},
    ]


def test_metric_integers_as_strings_and_numbers_are_equal():
    as_strings = decode("metrics", metrics_doc(_histogram_metric("3", ["1", "0", "2"], "7")))
    as_numbers = decode("metrics", metrics_doc(_histogram_metric(3, [1, 0, 2], 7)))
    assert as_strings.tables == as_numbers.tables
    points = rows(as_numbers, "metric_data_points")
    assert points[0]["count"] == 3 and points[0]["bucket_counts"] == [1, 0, 2]
    assert points[1]["value"] == 7.0
    assert points[2]["zero_count"] == 7 and points[2]["positive_bucket_counts"] == [1, 0, 2]


def test_large_bucket_counts_stay_exact():
    big = 2**62 + 1
    columns = decode("metrics", metrics_doc(_histogram_metric(str(big), [str(big), "1"], "1")))
    point = rows(columns, "metric_data_points")[0]
    assert point["count"] == big and point["bucket_counts"] == [big, 1]


def test_doubles_as_nan_and_infinity_strings():
    metrics = [
        {"name": "h", "histogram": {"dataPoints": [
            {"timeUnixNano": "1", "count": "1", "sum": "NaN", "min": "-Infinity", "max": "Infinity",
             "bucketCounts": ["1", "0"], "explicitBounds": ["Infinity"]}]}},
        {"name": "g", "gauge": {"dataPoints": [
            {"timeUnixNano": "1", "asDouble": "Infinity"},
            {"timeUnixNano": "2", "asDouble": "-Infinity"},
            {"timeUnixNano": "3", "asDouble": "NaN"},
            {"timeUnixNano": "4", "asDouble": "2.5"},
        ]}},
    ]
    points = rows(decode("metrics", metrics_doc(metrics)), "metric_data_points")
    histogram = points[0]
    assert histogram["sum"] is None  # NaN is stored as "no value" (values.opt_float)
    assert histogram["min"] == -math.inf and histogram["max"] == math.inf
    assert histogram["explicit_bounds"] == [math.inf]
    assert [p["value"] for p in points[1:]] == [math.inf, -math.inf, None, 2.5]


def test_double_any_values_from_strings():
    # jsonb has no NaN/Infinity: non-finite doubles are kept as the strings OTLP/JSON writes them as
    assert values.any_value({"doubleValue": "Infinity"}) == "Infinity"
    assert values.any_value({"doubleValue": "-Infinity"}) == "-Infinity"
    assert values.any_value({"doubleValue": "NaN"}) == "NaN"
    assert values.any_value({"doubleValue": "1.25"}) == 1.25
    assert values.any_value({"doubleValue": 3}) == 3.0 and type(values.any_value({"doubleValue": 3})) is float
    assert values.attributes_json([kv("nan", {"doubleValue": "NaN"}), kv("inf", {"doubleValue": "Infinity"})]) == '{"nan":"NaN","inf":"Infinity"}'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"intValue": "12.5"}, "expected a 64-bit integer"),
        ({"intValue": "ten"}, "expected a 64-bit integer"),
        ({"intValue": None}, "expected a 64-bit integer"),
        ({"doubleValue": "fast"}, "expected a double"),
        ({"doubleValue": [1]}, "expected a double"),
        ("just a string", "AnyValue must be an object"),
        ([1, 2], "AnyValue must be an object"),
    ],
)
def test_bad_scalars_raise_decode_error(value, message):
    with pytest.raises(DecodeError, match=message):
        values.any_value(value)


def test_bad_attribute_value_rejects_its_record_with_location():
    columns = decode("traces", traces_doc([a_span(attributes=[kv("n", {"intValue": "1.5"})])]))
    [reject] = columns.rejects
    assert reject.record_path == "request 1 / resource 0 / scope 0 / span 0"
    assert "expected a 64-bit integer" in reject.reason
    columns = decode("metrics", metrics_doc([{"name": "g", "gauge": {"dataPoints": [{"asDouble": 1}, {"asDouble": "x"}]}}]))
    assert columns.tables["metric_data_points"]["value"] == [1.0]
    [reject] = columns.rejects
    assert reject.record_path == "request 1 / resource 0 / scope 0 / metric 0 / data point 1"
    assert reject.reason.startswith("expected a double")


# ---------------------------------------------------------------------------------------------------
# AnyValue and attributes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"stringValue": "text"}, "text"),
        ({"stringValue": ""}, ""),
        ({"boolValue": True}, True),
        ({"boolValue": False}, False),
        ({"intValue": "42"}, 42),
        ({"intValue": 42}, 42),
        ({"intValue": "-9223372036854775808"}, -(2**63)),
        ({"doubleValue": 637.704}, 637.704),
        ({"doubleValue": 0}, 0.0),
        ({"bytesValue": "aGVsbG8="}, "aGVsbG8="),  # base64 text kept as is
        ({"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "1"}]}}, ["a", 1]),
        ({"arrayValue": {}}, []),
        ({"arrayValue": {"values": []}}, []),
        ({"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": True}}]}}, {"k": True}),
        ({"kvlistValue": {}}, {}),
        ({"kvlistValue": {"values": [{"key": "missing"}]}}, {"missing": None}),
        ({}, None),
        (None, None),
        ({"futureKind": 1}, None),  # only unknown fields: treated like an empty AnyValue
        ({"futureField": 1, "stringValue": "x"}, "x"),  # unknown fields ignored
    ],
)
def test_any_value_kinds(value, expected):
    result = values.any_value(value)
    assert result == expected
    assert type(result) is type(expected)


def test_nested_any_value_into_exact_attributes_json():
    nested = {
        "arrayValue": {
            "values": [
                {
                    "kvlistValue": {
                        "values": [
                            kv("inner", {"arrayValue": {"values": [
                                {"intValue": "1"},
                                {"stringValue": "x"},
                                {"kvlistValue": {"values": [kv("deep", {"boolValue": True})]}},
                                {"arrayValue": {"values": [{"doubleValue": 0.5}, {}]}},
                            ]}}),
                            kv("empty", {}),
                            kv("bytes", {"bytesValue": "AAEC/w=="}),
                        ]
                    }
                },
                {"bytesValue": "AAEC"},
                {},
            ]
        }
    }
    attributes = [
        kv("s", s("é ünïcode \"quoted\"")),
        kv("b", {"boolValue": False}),
        kv("i", {"intValue": "-7"}),
        kv("d", {"doubleValue": 1.5}),
        kv("nested", nested),
        kv("none", {}),
    ]
    expected = (
        '{"s":"é ünïcode \\"quoted\\"","b":false,"i":-7,"d":1.5,'
        '"nested":[{"inner":[1,"x",{"deep":true},[0.5,null]],"empty":null,"bytes":"AAEC/w=="},"AAEC",null],'
        '"none":null}'
    )
    assert values.attributes_json(attributes) == expected
    assert values.attributes_dict(attributes)["nested"][0]["inner"][2] == {"deep": True}


def test_attributes_json_edge_cases():
    assert values.attributes_json(None) == "{}"
    assert values.attributes_json([]) == "{}"
    # duplicate keys: the last wins, at the first key's position
    assert values.attributes_json([kv("a", s("1")), kv("b", s("2")), kv("a", s("3"))]) == '{"a":"3","b":"2"}'
    # a KeyValue without value is null
    assert values.attributes_json([{"key": "k"}]) == '{"k":null}'
    # order of the input is kept
    assert values.attributes_json([kv("z", s("1")), kv("a", s("2"))]) == '{"z":"1","a":"2"}'


def test_log_body_of_every_kind():
    records = [
        a_log(body=s("text")),
        a_log(body={"kvlistValue": {"values": [kv("msg", s("m")), kv("n", {"intValue": "3"})]}}),
        a_log(body={"arrayValue": {"values": [{"boolValue": True}, {"bytesValue": "AA=="}]}}),
        a_log(body={}),
        {k: v for k, v in a_log().items() if k != "body"},
        a_log(body={"doubleValue": "2.5"}),
    ]
    columns = decode("logs", logs_doc(records))
    assert columns.tables["logs"]["body"] == ['"text"', '{"msg":"m","n":3}', '[true,"AA=="]', "null", "null", "2.5"]


# ---------------------------------------------------------------------------------------------------
# Requests: JSON Lines vs one document


def _three_requests() -> list[dict]:
    return [
        traces_doc([a_span(spanId="00000000000000a1", name="one")], resource_attrs=[kv("service.name", s("a"))]),
        traces_doc([a_span(spanId="00000000000000a2", name="two", events=[{"timeUnixNano": "5", "name": "ev"}]),
                    a_span(spanId="00000000000000a3", name="three")], resource_attrs=[kv("service.name", s("b"))]),
        traces_doc([a_span(traceId="0af7651916cd43dd8448eb211c80319c", spanId="b7ad6b7169203331", name="four",
                           links=[{"traceId": TRACE_HEX, "spanId": SPAN_HEX}])]),
    ]


def test_json_lines_and_single_document_give_the_same_columns():
    requests = _three_requests()
    jsonl = b"\n".join(encode(r) for r in requests) + b"\n"
    jsonl_with_blanks = b"\n\n" + b"\r\n\n".join(encode(r) for r in requests) + b"\n   \n"
    merged = {"resourceSpans": [entry for r in requests for entry in r["resourceSpans"]]}
    pretty = json.dumps(merged, indent=2).encode()
    a = Columns()
    added = otlp_json.decode("traces", jsonl, a)
    b = decode("traces", jsonl_with_blanks)
    c = decode("traces", pretty)
    assert added == 4 + 1 + 1  # spans + events + links
    assert a.rows == b.rows == c.rows == 6
    assert a.tables == b.tables == c.tables
    assert a.tables["trace_spans"]["name"] == ["one", "two", "three", "four"]
    assert a.tables["trace_spans"]["service_name"] == ["a", "b", "b", "svc"]


def test_parse_requests_forms():
    assert otlp_json.parse_requests(b"") == []
    assert otlp_json.parse_requests(b"  \n\n ") == []
    assert otlp_json.parse_requests(b'{"a": 1}') == [("request 1", {"a": 1})]
    assert otlp_json.parse_requests(b'{"a": 1}\n') == [("request 1", {"a": 1})]
    assert otlp_json.parse_requests(b'{"a": 1}\n\n{"b": 2}\r\n{"c": 3}') == [
        ("line 1", {"a": 1}), ("line 3", {"b": 2}), ("line 4", {"c": 3})]
    assert otlp_json.parse_requests(b'{\n  "a": [\n    1\n  ]\n}\n') == [("request 1", {"a": [1]})]


def test_empty_file_decodes_nothing():
    columns = Columns()
    assert otlp_json.decode("logs", b"", columns) == 0
    assert otlp_json.decode("logs", b"\n\n", columns) == 0
    assert len(columns) == 0 and all(not v for cols in columns.tables.values() for v in cols.values())
    # a non-empty file that yields no record and no reject is itself an error, never a silent zero
    with pytest.raises(DecodeError, match=r"no OTLP records: top-level keys \['resourceLogz'\]"):
        otlp_json.decode("logs", b'{"resourceLogz": []}', columns)
    with pytest.raises(DecodeError, match="no OTLP records: top-level keys none"):
        otlp_json.decode("logs", b"{}", columns)


@pytest.mark.parametrize("bad_line", [2, 4, 7])
def test_json_lines_bad_line_is_rejected_by_number_and_the_others_decode(bad_line):
    lines = [encode(traces_doc([a_span(spanId=f"00000000000000{n:02x}")])) for n in range(1, 8)]
    lines[3 - 1] = b""  # a blank line still counts as a line
    lines[bad_line - 1] = b'{"resourceSpans": [ {"oops" }'
    columns = Columns()
    assert otlp_json.decode("traces", b"\n".join(lines), columns) == 5
    [reject] = columns.rejects
    assert reject.record_path == f"line {bad_line}" and reject.reason.startswith("not JSON")
    assert reject.record is None


def test_broken_single_document_raises_decode_error():
    with pytest.raises(DecodeError, match="not JSON"):
        otlp_json.decode("traces", b'{\n  "resourceSpans": [\n', Columns())
    with pytest.raises(DecodeError, match="not JSON"):
        otlp_json.decode("traces", b"\x00\x01binary protobuf", Columns())


@pytest.mark.parametrize(
    ("signal", "doc", "holds"),
    [
        ("traces", {"resourceLogs": []}, "holds logs (resourceLogs), not traces"),
        ("traces", {"resourceMetrics": [{}]}, "holds metrics (resourceMetrics), not traces"),
        ("logs", {"resourceSpans": []}, "holds traces (resourceSpans), not logs"),
        ("metrics", {"resourceLogs": []}, "holds logs (resourceLogs), not metrics"),
    ],
)
def test_wrong_signal_in_file_raises(signal, doc, holds):
    with pytest.raises(DecodeError, match="^request 1: " + re.escape(holds)):
        decode(signal, doc)


def test_wrong_signal_names_the_line_and_leaves_columns_unchanged():
    fixture = logs_doc([a_log()])
    data = encode(traces_doc([a_span()])) + b"\n" + encode(fixture)
    columns = Columns()
    with pytest.raises(DecodeError, match=r"^line 2: holds logs \(resourceLogs\), not traces"):
        decode("traces", data, columns)
    assert columns.tables["trace_spans"]["span_id"] == [] and columns.rejects == []


def test_non_object_request_is_rejected():
    [reject] = decode("traces", b"[1, 2]").rejects
    assert reject == ("request 1", "expected an export request (a JSON object), got list", "[1,2]")
    columns = decode("traces", encode(traces_doc([a_span()])) + b"\n42\n")
    assert len(columns.tables["trace_spans"]["span_id"]) == 1
    assert [(r.record_path, r.reason) for r in columns.rejects] == [("line 2", "expected an export request (a JSON object), got int")]


def test_malformed_structure_rejects_the_record():
    [reject] = decode("traces", {"resourceSpans": [{"scopeSpans": [{"spans": ["not a span"]}]}]}).rejects
    assert reject == ("request 1 / resource 0 / scope 0 / span 0", "a span must be an object, got str", '"not a span"')
    columns = decode("logs", {"resourceLogs": [{"scopeLogs": [{"logRecords": [a_log(attributes=[{"value": s("no key")}]), a_log()]}]}]})
    [reject] = columns.rejects
    assert reject.record_path == "request 1 / resource 0 / scope 0 / log record 0"
    assert reject.reason == "malformed (KeyError: 'key')"
    assert len(columns.tables["logs"]["log_id"]) == 1
    [reject] = decode("logs", {"resourceLogs": [{"resource": {"attributes": "oops"}, "scopeLogs": []}]}).rejects
    assert reject.record_path == "request 1 / resource 0" and reject.reason.startswith("malformed (AttributeError")


def test_unknown_fields_are_ignored():
    plain_traces = traces_doc([a_span(events=[{"timeUnixNano": "5", "name": "e"}], links=[{"traceId": TRACE_HEX, "spanId": PARENT_HEX}],
                                      status={"code": 2, "message": "boom"})])
    noisy_traces = copy.deepcopy(plain_traces)
    noisy_traces["futureTopLevel"] = {"x": 1}
    entry = noisy_traces["resourceSpans"][0]
    entry["schemaUrl"] = "https://opentelemetry.io/schemas/1.21.0"
    entry["resource"]["droppedAttributesCount"] = 3
    entry["resource"]["entityRefs"] = [{"type": "host"}]
    scope_entry = entry["scopeSpans"][0]
    scope_entry["schemaUrl"] = "x"
    scope_entry["scope"]["droppedAttributesCount"] = 1
    span = scope_entry["spans"][0]
    span.update({"flags": 257, "droppedAttributesCount": 2, "droppedEventsCount": 1, "droppedLinksCount": 0, "newField": [1, 2]})
    span["events"][0]["droppedAttributesCount"] = 1
    span["links"][0]["flags"] = 1
    span["status"]["future"] = True
    assert decode("traces", noisy_traces).tables == decode("traces", plain_traces).tables

    plain_logs = logs_doc([a_log()])
    noisy_logs = copy.deepcopy(plain_logs)
    noisy_logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0].update({"droppedAttributesCount": 4, "somethingNew": "x"})
    assert decode("logs", noisy_logs).tables == decode("logs", plain_logs).tables

    plain_metrics = metrics_doc([{"name": "g", "gauge": {"dataPoints": [{"asInt": "1", "timeUnixNano": "2"}]}}])
    noisy_metrics = copy.deepcopy(plain_metrics)
    metric = noisy_metrics["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]
    metric["metadata"] = [kv("m", s("v"))]
    metric["gauge"]["dataPoints"][0]["newField"] = 1
    assert decode("metrics", noisy_metrics).tables == decode("metrics", plain_metrics).tables


# ---------------------------------------------------------------------------------------------------
# Spans, events, links


def test_span_columns_events_and_links():
    span = a_span(
        parentSpanId=PARENT_HEX.upper(),
        traceState="rojo=00f067aa0ba902b7",
        kind=3,
        status={"code": 2, "message": "boom"},
        attributes=[kv("http.method", s("GET")), kv("retries", {"intValue": "2"})],
        events=[
            {"timeUnixNano": "1700000000100000000", "name": "first", "attributes": [kv("n", {"intValue": 1})]},
            {"timeUnixNano": 1700000000200000000, "name": "second"},
            {},
        ],
        links=[
            {"traceId": "0AF7651916CD43DD8448EB211C80319C", "spanId": "B7AD6B7169203331", "traceState": "a=b",
             "attributes": [kv("l", {"boolValue": True})]},
            {"traceId": TRACE_HEX, "spanId": "ffffffffffffffff"},
        ],
    )
    other = a_span(spanId="0000000000000002", name="", kind=0)
    del other["kind"], other["name"]
    columns = Columns()
    added = otlp_json.decode("traces", encode(traces_doc([span, other], scope={"name": "lib", "version": "2.0",
                                                                               "attributes": [kv("sa", s("x"))]})), columns)
    assert added == 2 + 3 + 2 and columns.rows == 7 and len(columns) == 7
    spans = rows(columns, "trace_spans")
    assert spans == [
        {
            "trace_id": bytes.fromhex(TRACE_HEX), "span_id": SPAN_INT, "parent_span_id": PARENT_INT,
            "trace_state": "rojo=00f067aa0ba902b7", "name": "op", "kind": 3, "service_name": "svc",
            "scope_name": "lib", "scope_version": "2.0", "start_time_unix_nano": 1700000000000000000,
            "end_time_unix_nano": 1700000001000000000, "status_code": 2, "status_message": "boom",
            "attributes": '{"http.method":"GET","retries":2}', "resource_attributes": '{"service.name":"svc"}',
            "scope_attributes": '{"sa":"x"}', **NO_LLM,
        },
        {
            "trace_id": bytes.fromhex(TRACE_HEX), "span_id": 2, "parent_span_id": None, "trace_state": None,
            "name": "", "kind": 0, "service_name": "svc", "scope_name": "lib", "scope_version": "2.0",
            "start_time_unix_nano": 1700000000000000000, "end_time_unix_nano": 1700000001000000000,
            "status_code": 0, "status_message": None, "attributes": "{}",
            "resource_attributes": '{"service.name":"svc"}', "scope_attributes": '{"sa":"x"}', **NO_LLM,
        },
    ]
    assert rows(columns, "trace_events") == [
        {"trace_id": bytes.fromhex(TRACE_HEX), "span_id": SPAN_INT, "event_index": 0, "time_unix_nano": 1700000000100000000,
         "name": "first", "attributes": '{"n":1}'},
        {"trace_id": bytes.fromhex(TRACE_HEX), "span_id": SPAN_INT, "event_index": 1, "time_unix_nano": 1700000000200000000,
         "name": "second", "attributes": "{}"},
        {"trace_id": bytes.fromhex(TRACE_HEX), "span_id": SPAN_INT, "event_index": 2, "time_unix_nano": 0,
         "name": "", "attributes": "{}"},
    ]
    assert rows(columns, "trace_links") == [
        {"trace_id": bytes.fromhex(TRACE_HEX), "span_id": SPAN_INT, "link_index": 0,
         "linked_trace_id": bytes.fromhex("0af7651916cd43dd8448eb211c80319c"), "linked_span_id": 0xB7AD6B7169203331 - 2**64,
         "trace_state": "a=b", "attributes": '{"l":true}'},
        {"trace_id": bytes.fromhex(TRACE_HEX), "span_id": SPAN_INT, "link_index": 1,
         "linked_trace_id": bytes.fromhex(TRACE_HEX), "linked_span_id": -1, "trace_state": None, "attributes": "{}"},
    ]


def test_service_name_only_from_string_resource_attribute():
    columns = decode("traces", traces_doc([a_span()], resource_attrs=[kv("service.name", {"intValue": "5"})]))
    assert columns.tables["trace_spans"]["service_name"] == [None]
    assert columns.tables["trace_spans"]["resource_attributes"] == ['{"service.name":5}']
    columns = decode("traces", traces_doc([a_span()], resource_attrs=[], scope={}))
    spans = rows(columns, "trace_spans")[0]
    assert (spans["service_name"], spans["scope_name"], spans["scope_version"]) == (None, None, None)
    assert (spans["resource_attributes"], spans["scope_attributes"]) == ("{}", "{}")


def test_columns_accumulate_over_files():
    columns = Columns()
    assert otlp_json.decode("traces", encode(traces_doc([a_span()])), columns) == 1
    assert otlp_json.decode("logs", encode(logs_doc([a_log(), a_log()])), columns) == 2
    assert otlp_json.decode("traces", encode(traces_doc([a_span(spanId="0000000000000009")])), columns) == 1
    assert len(columns) == 4
    assert columns.tables["trace_spans"]["span_id"] == [SPAN_INT, 9]
    assert len(columns.tables["logs"]["log_id"]) == 2


# ---------------------------------------------------------------------------------------------------
# Metrics


def _points(columns):
    return rows(columns, "metric_data_points")


EMPTY_POINT = {
    "value": None, "count": None, "sum": None, "min": None, "max": None, "bucket_counts": None,
    "explicit_bounds": None, "scale": None, "zero_count": None, "zero_threshold": None, "positive_offset": None,
    "positive_bucket_counts": None, "negative_offset": None, "negative_bucket_counts": None, "quantiles": None,
    "exemplars": None, "flags": 0, "aggregation_temporality": None, "is_monotonic": None, "attributes": "{}",
}


def _strip_ids(point: dict) -> dict:
    return {k: v for k, v in point.items() if k not in ("point_id", "metric_id", "metric_name", "start_time_unix_nano", "time_unix_nano")}


def test_gauge_as_int_and_as_double():
    columns = decode("metrics", metrics_doc([{"name": "temp", "unit": "Cel", "description": "temperature", "gauge": {"dataPoints": [
        {"timeUnixNano": "10", "asInt": "-3", "attributes": [kv("room", s("a"))]},
        {"timeUnixNano": "11", "asDouble": 21.5, "flags": 1},
        {"timeUnixNano": "12", "asDouble": 0},
        {"timeUnixNano": "13"},
    ]}}]))
    (metric,) = rows(columns, "metrics")
    assert metric["type"] == "gauge" and metric["unit"] == "Cel" and metric["description"] == "temperature"
    points = _points(columns)
    assert [p["value"] for p in points] == [-3.0, 21.5, 0.0, None]
    assert all(type(p["value"]) is float for p in points[:3])
    assert _strip_ids(points[0]) == {**EMPTY_POINT, "value": -3.0, "attributes": '{"room":"a"}'}
    assert _strip_ids(points[1]) == {**EMPTY_POINT, "value": 21.5, "flags": 1}
    assert [p["start_time_unix_nano"] for p in points] == [0, 0, 0, 0]
    assert [p["time_unix_nano"] for p in points] == [10, 11, 12, 13]
    assert {p["metric_name"] for p in points} == {"temp"}
    assert {p["metric_id"] for p in points} == {metric["metric_id"]}


@pytest.mark.parametrize(
    ("monotonic", "temporality", "expected_monotonic"),
    [(True, 1, True), (False, 2, False), (None, 2, False), (True, "2", True)],
)
def test_sum_monotonic_and_temporality(monotonic, temporality, expected_monotonic):
    data = {"aggregationTemporality": temporality, "dataPoints": [{"startTimeUnixNano": "5", "timeUnixNano": "6", "asInt": 42}]}
    if monotonic is not None:
        data["isMonotonic"] = monotonic
    columns = decode("metrics", metrics_doc([{"name": "requests", "sum": data}]))
    (point,) = _points(columns)
    assert _strip_ids(point) == {**EMPTY_POINT, "value": 42.0, "aggregation_temporality": int(temporality),
                                 "is_monotonic": expected_monotonic}
    assert rows(columns, "metrics")[0]["type"] == "sum"


def test_histogram_point():
    columns = decode("metrics", metrics_doc([{"name": "latency", "unit": "ms", "histogram": {"aggregationTemporality": 2, "dataPoints": [
        {"startTimeUnixNano": "100", "timeUnixNano": "200", "count": "6", "sum": 12.5, "min": 0.5, "max": "7",
         "bucketCounts": ["1", 2, "3"], "explicitBounds": [1, 5.0], "attributes": [kv("route", s("/a"))]},
        {"timeUnixNano": "201", "count": 0},
    ]}}]))
    points = _points(columns)
    assert _strip_ids(points[0]) == {
        **EMPTY_POINT, "count": 6, "sum": 12.5, "min": 0.5, "max": 7.0, "bucket_counts": [1, 2, 3],
        "explicit_bounds": [1.0, 5.0], "aggregation_temporality": 2, "attributes": '{"route":"/a"}',
    }
    assert all(type(b) is float for b in points[0]["explicit_bounds"])
    # optional sum/min/max absent stay None; empty bucket lists are empty lists
    assert _strip_ids(points[1]) == {**EMPTY_POINT, "count": 0, "bucket_counts": [], "explicit_bounds": [],
                                     "aggregation_temporality": 2}
    assert rows(columns, "metrics")[0]["type"] == "histogram"


def test_exponential_histogram_point():
    columns = decode("metrics", metrics_doc([{"name": "exp", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [
        {"startTimeUnixNano": "1", "timeUnixNano": "2", "count": "10", "sum": 30.0, "scale": -2, "zeroCount": "1",
         "zeroThreshold": 1e-9, "min": 0, "max": 9.5,
         "positive": {"offset": -1, "bucketCounts": ["2", "3", 0]},
         "negative": {"offset": 2, "bucketCounts": [4]}},
        {"timeUnixNano": "3", "count": 1, "scale": 3, "positive": {"bucketCounts": [1]}},
    ]}}]))
    points = _points(columns)
    assert _strip_ids(points[0]) == {
        **EMPTY_POINT, "count": 10, "sum": 30.0, "min": 0.0, "max": 9.5, "scale": -2, "zero_count": 1,
        "zero_threshold": 1e-9, "positive_offset": -1, "positive_bucket_counts": [2, 3, 0], "negative_offset": 2,
        "negative_bucket_counts": [4], "aggregation_temporality": 1,
    }
    assert _strip_ids(points[1]) == {
        **EMPTY_POINT, "count": 1, "scale": 3, "zero_count": 0, "positive_offset": 0, "positive_bucket_counts": [1],
        "negative_offset": 0, "negative_bucket_counts": [], "aggregation_temporality": 1,
    }
    assert rows(columns, "metrics")[0]["type"] == "exponential_histogram"


def test_summary_point_quantiles_json():
    columns = decode("metrics", metrics_doc([{"name": "rpc", "summary": {"dataPoints": [
        {"startTimeUnixNano": "1", "timeUnixNano": "2", "count": "4", "sum": 10,
         "quantileValues": [{"quantile": 0, "value": 1.5}, {"quantile": 0.5, "value": "2"}, {"quantile": 0.99, "value": 9},
                            {"quantile": 1}]},
        {"timeUnixNano": "3", "count": 0},
    ]}}]))
    points = _points(columns)
    assert _strip_ids(points[0]) == {
        **EMPTY_POINT, "count": 4, "sum": 10.0,
        "quantiles": '[{"quantile":0.0,"value":1.5},{"quantile":0.5,"value":2.0},{"quantile":0.99,"value":9.0},'
                     '{"quantile":1.0,"value":0.0}]',
    }
    assert _strip_ids(points[1]) == {**EMPTY_POINT, "count": 0, "quantiles": "[]"}
    assert rows(columns, "metrics")[0]["type"] == "summary"


def test_exemplars_json():
    columns = decode("metrics", metrics_doc([{"name": "h", "histogram": {"dataPoints": [
        {"timeUnixNano": "2", "count": 1, "bucketCounts": [1], "exemplars": [
            {"timeUnixNano": "1700000000000000001", "asDouble": 0.25, "traceId": TRACE_HEX.upper(), "spanId": SPAN_HEX.upper(),
             "filteredAttributes": [kv("user", s("u1")), kv("n", {"intValue": "2"})]},
            {"timeUnixNano": 5, "asInt": "3"},
            {"traceId": "", "spanId": ""},
        ]},
        {"timeUnixNano": "3", "count": 0, "exemplars": []},
    ]}}]))
    points = _points(columns)
    assert points[0]["exemplars"] == (
        '[{"time_unix_nano":1700000000000000001,"value":0.25,"trace_id":"5b8efff798038103d269b633813fc60c",'
        '"span_id":"eee19b7ec3c1b174","filtered_attributes":{"user":"u1","n":2}},'
        '{"time_unix_nano":5,"value":3.0,"trace_id":null,"span_id":null,"filtered_attributes":{}},'
        '{"time_unix_nano":0,"value":null,"trace_id":null,"span_id":null,"filtered_attributes":{}}]'
    )
    assert points[1]["exemplars"] is None


def test_metric_without_data_is_rejected():
    columns = decode("metrics", metrics_doc([{"name": "empty", "unit": "1"}, {"name": "g", "gauge": {"dataPoints": [{"asDouble": 1}]}}]))
    [reject] = columns.rejects
    assert reject.record_path == "request 1 / resource 0 / scope 0 / metric 0"
    assert reject.reason.startswith("metric 'empty': no data")
    assert columns.tables["metrics"]["name"] == ["g"]


def test_metric_rows_and_ids():
    scope = {"name": "meter", "version": "0.1", "attributes": [kv("sa", {"boolValue": True})]}
    columns = decode("metrics", metrics_doc(
        [{"name": "m1", "unit": "By", "description": "d", "sum": {"dataPoints": [
            {"startTimeUnixNano": "1", "timeUnixNano": "2", "asInt": 1, "attributes": [kv("x", s("y"))]}]}},
         {"name": "m2", "gauge": {"dataPoints": []}}],
        resource_attrs=[kv("service.name", s("api")), kv("host", s("h1"))], scope=scope))
    resource_json = '{"service.name":"api","host":"h1"}'
    m1_id = md5(resource_json, "meter", "0.1", "m1", "sum", "By")
    m2_id = md5(resource_json, "meter", "0.1", "m2", "gauge", "")
    assert rows(columns, "metrics") == [
        {"metric_id": m1_id, "name": "m1", "service_name": "api", "type": "sum", "unit": "By", "description": "d",
         "scope_name": "meter", "scope_version": "0.1", "scope_attributes": '{"sa":true}', "resource_attributes": resource_json},
        {"metric_id": m2_id, "name": "m2", "service_name": "api", "type": "gauge", "unit": None, "description": None,
         "scope_name": "meter", "scope_version": "0.1", "scope_attributes": '{"sa":true}', "resource_attributes": resource_json},
    ]
    (point,) = _points(columns)
    assert point["metric_id"] == m1_id and point["metric_name"] == "m1"
    assert point["point_id"] == md5(m1_id.hex(), '{"x":"y"}', "1", "2")
    assert len(point["point_id"]) == 16


def test_point_ids_differ_by_attributes_and_times():
    def point_id(**overrides):
        dp = {"startTimeUnixNano": "1", "timeUnixNano": "2", "asInt": 1, "attributes": [kv("x", s("y"))]}
        dp.update(overrides)
        return _points(decode("metrics", metrics_doc([{"name": "m", "gauge": {"dataPoints": [dp]}}])))[0]["point_id"]

    base = point_id()
    assert point_id() == base
    assert point_id(asInt=2) == base  # the value is not identity: a re-sent point keeps its id
    variants = [point_id(startTimeUnixNano="9"), point_id(timeUnixNano="9"), point_id(attributes=[kv("x", s("z"))]),
                point_id(attributes=[])]
    assert len({base, *variants}) == 5


# ---------------------------------------------------------------------------------------------------
# record_key and log ids


def test_record_key_fixed_digest():
    key = values.record_key("a", 1, None, b"\x01\xff", 2.5)
    by_hand = hashlib.md5("a\x1f1\x1f\x1f01ff\x1f2.5".encode()).digest()
    assert key == by_hand
    assert key.hex() == "8f5f7c307dcd44f05cc95a5f8a9c15b0"
    assert type(key) is bytes and len(key) == 16
    assert values.record_key() == hashlib.md5(b"").digest()


def test_record_key_differs_when_any_part_differs():
    base = ("svc", 1700000000000000001, b"\x00\x01", -5, None, "text")
    keys = {values.record_key(*base)}
    for index, replacement in enumerate(["svc2", 1700000000000000002, b"\x00\x02", 5, "x", "text2"]):
        parts = list(base)
        parts[index] = replacement
        keys.add(values.record_key(*parts))
    keys.add(values.record_key(*base[:-1]))
    keys.add(values.record_key(*base, ""))
    assert len(keys) == 9
    assert values.record_key(*base) == values.record_key(*base)


def test_log_id_stable_across_decodes():
    data = encode(logs_doc([a_log(traceId=TRACE_HEX, spanId=SPAN_HEX), a_log(body=s("other"))]))
    first = decode("logs", data).tables["logs"]["log_id"]
    second = decode("logs", data).tables["logs"]["log_id"]
    assert first == second and len(first) == 2 and first[0] != first[1]
    assert all(type(k) is bytes and len(k) == 16 for k in first)


def test_log_id_formula():
    record = a_log(traceId=TRACE_HEX.upper(), spanId=SPAN_HEX.upper(), flags=257, eventName="evt")
    (log,) = rows(decode("logs", logs_doc([record])), "logs")
    expected = md5("1700000000000000001", "1700000000000000002", TRACE_HEX, str(SPAN_INT), "257", "9", "INFO",
                   '"hello"', "evt", "lib", "2.0", '{"k":"v"}', '{"service.name":"svc"}')
    assert log["log_id"] == expected
    assert log["trace_flags"] == 1  # flags & 0xFF


@pytest.mark.parametrize(
    "change",
    [
        {"timeUnixNano": "1700000000000000009"},
        {"observedTimeUnixNano": "1700000000000000009"},
        {"traceId": TRACE_HEX},
        {"spanId": SPAN_HEX},
        {"flags": 1},
        {"severityNumber": 17},
        {"severityText": "ERROR"},
        {"body": s("bye")},
        {"body": {"intValue": "1"}},
        {"eventName": "e"},
        {"attributes": [kv("k", s("w"))]},
        {"attributes": []},
        {"__resource": [kv("service.name", s("other"))]},
        {"__scope": {"name": "lib2", "version": "2.0"}},
        {"__scope": {"name": "lib", "version": "2.1"}},
    ],
)
def test_log_id_differs_when_any_field_differs(change):
    base = decode("logs", logs_doc([a_log()])).tables["logs"]["log_id"][0]
    change = dict(change)
    resource = change.pop("__resource", None)
    scope = change.pop("__scope", None)
    changed = decode("logs", logs_doc([a_log(**change)], resource_attrs=resource, scope=scope)).tables["logs"]["log_id"][0]
    assert changed != base


def test_log_columns():
    record = a_log(traceId=TRACE_HEX, spanId=SPAN_HEX, flags=1, eventName="session.start",
                   attributes=[kv("a", {"arrayValue": {"values": [s("x")]}})])
    (log,) = rows(decode("logs", logs_doc([record])), "logs")
    assert {k: v for k, v in log.items() if k != "log_id"} == {
        "time_unix_nano": 1700000000000000001, "observed_time_unix_nano": 1700000000000000002,
        "trace_id": bytes.fromhex(TRACE_HEX), "span_id": SPAN_INT, "trace_flags": 1, "severity_number": 9,
        "severity_text": "INFO", "body": '"hello"', "event_name": "session.start", "service_name": "svc",
        "scope_name": "lib", "scope_version": "2.0", "scope_attributes": "{}", "attributes": '{"a":["x"]}',
        "resource_attributes": '{"service.name":"svc"}',
    }
    minimal = {}
    (log,) = rows(decode("logs", logs_doc([minimal])), "logs")
    assert {k: v for k, v in log.items() if k != "log_id"} == {
        "time_unix_nano": 0, "observed_time_unix_nano": 0, "trace_id": None, "span_id": None, "trace_flags": 0,
        "severity_number": 0, "severity_text": None, "body": "null", "event_name": None, "service_name": "svc",
        "scope_name": "lib", "scope_version": "2.0", "scope_attributes": "{}", "attributes": "{}",
        "resource_attributes": '{"service.name":"svc"}',
    }


# ---------------------------------------------------------------------------------------------------
# The official examples (opentelemetry-proto examples/)


def test_official_trace_example():
    columns = Columns()
    assert otlp_json.decode("traces", fixture_bytes("trace.json"), columns) == 1
    assert rows(columns, "trace_spans") == [
        {
            "trace_id": bytes.fromhex("5b8efff798038103d269b633813fc60c"),
            "span_id": SPAN_INT,
            "parent_span_id": PARENT_INT,
            "trace_state": None,
            "name": "I'm a server span",
            "kind": 2,
            "service_name": "my.service",
            "scope_name": "my.library",
            "scope_version": "1.0.0",
            "start_time_unix_nano": 1544712660000000000,
            "end_time_unix_nano": 1544712661000000000,
            "status_code": 0,
            "status_message": None,
            "attributes": '{"my.span.attr":"some value"}',
            "resource_attributes": RESOURCE_JSON,
            "scope_attributes": SCOPE_JSON, **NO_LLM,
        }
    ]
    assert rows(columns, "trace_events") == [] and rows(columns, "trace_links") == []
    assert columns.rows == 1


def test_official_logs_example():
    columns = Columns()
    assert otlp_json.decode("logs", fixture_bytes("logs.json"), columns) == 1
    attributes = (
        '{"string.attribute":"some string","boolean.attribute":true,"int.attribute":10,'
        '"double.attribute":637.704,"array.attribute":["many","values"],'
        '"map.attribute":{"some.map.key":"some value"}}'
    )
    log_id = md5("1544712660300000000", "1544712660300000000", "5b8efff798038103d269b633813fc60c", str(SPAN_INT),
                 "0", "0", "Information", '"Example log record"', "", "my.library", "1.0.0", attributes, RESOURCE_JSON)
    assert rows(columns, "logs") == [
        {
            "log_id": log_id,
            "time_unix_nano": 1544712660300000000,
            "observed_time_unix_nano": 1544712660300000000,
            "trace_id": bytes.fromhex("5b8efff798038103d269b633813fc60c"),
            "span_id": SPAN_INT,
            "trace_flags": 0,
            "severity_number": 0,
            "severity_text": "Information",
            "body": '"Example log record"',
            "event_name": None,
            "service_name": "my.service",
            "scope_name": "my.library",
            "scope_version": "1.0.0",
            "scope_attributes": SCOPE_JSON,
            "attributes": attributes,
            "resource_attributes": RESOURCE_JSON,
        }
    ]
    assert json.loads(attributes) == {
        "string.attribute": "some string", "boolean.attribute": True, "int.attribute": 10,
        "double.attribute": 637.704, "array.attribute": ["many", "values"], "map.attribute": {"some.map.key": "some value"},
    }


def test_official_metrics_example():
    columns = Columns()
    assert otlp_json.decode("metrics", fixture_bytes("metrics.json"), columns) == 3
    ids = {name: md5(RESOURCE_JSON, "my.library", "1.0.0", name, kind, "1")
           for name, kind in (("my.counter", "sum"), ("my.gauge", "gauge"), ("my.histogram", "histogram"))}
    common = {"service_name": "my.service", "unit": "1", "scope_name": "my.library", "scope_version": "1.0.0",
              "scope_attributes": SCOPE_JSON, "resource_attributes": RESOURCE_JSON}
    assert rows(columns, "metrics") == [
        {"metric_id": ids["my.counter"], "name": "my.counter", "type": "sum", "description": "I`m a Counter", **common},
        {"metric_id": ids["my.gauge"], "name": "my.gauge", "type": "gauge", "description": "I`m a Gauge", **common},
        {"metric_id": ids["my.histogram"], "name": "my.histogram", "type": "histogram", "description": "I`m a Histogram", **common},
    ]
    t = 1544712660300000000
    counter, gauge, histogram = _points(columns)
    assert counter == {
        **EMPTY_POINT,
        "point_id": md5(ids["my.counter"].hex(), '{"my.counter.attr":"some value"}', str(t), str(t)),
        "metric_id": ids["my.counter"], "metric_name": "my.counter", "start_time_unix_nano": t, "time_unix_nano": t,
        "value": 5.0, "aggregation_temporality": 1, "is_monotonic": True, "attributes": '{"my.counter.attr":"some value"}',
    }
    assert gauge == {
        **EMPTY_POINT,
        "point_id": md5(ids["my.gauge"].hex(), '{"my.gauge.attr":"some value"}', "0", str(t)),
        "metric_id": ids["my.gauge"], "metric_name": "my.gauge", "start_time_unix_nano": 0, "time_unix_nano": t,
        "value": 10.0, "attributes": '{"my.gauge.attr":"some value"}',
    }
    assert histogram == {
        **EMPTY_POINT,
        "point_id": md5(ids["my.histogram"].hex(), '{"my.histogram.attr":"some value"}', str(t), str(t)),
        "metric_id": ids["my.histogram"], "metric_name": "my.histogram", "start_time_unix_nano": t, "time_unix_nano": t,
        "count": 3, "sum": 3.0, "min": 1.0, "max": 1.0, "bucket_counts": [1, 1, 1], "explicit_bounds": [1.0],
        "aggregation_temporality": 1, "attributes": '{"my.histogram.attr":"some value"}',
    }


def test_official_examples_as_one_json_lines_file_each():
    """The collector's file form: each example compacted to one line, twice, gives each record twice."""
    for signal, name, per_copy in (("traces", "trace.json", 1), ("logs", "logs.json", 1), ("metrics", "metrics.json", 3)):
        compact = orjson.dumps(orjson.loads(fixture_bytes(name)))
        once = decode(signal, compact)
        twice = Columns()
        assert otlp_json.decode(signal, compact + b"\n" + compact + b"\n", twice) == 2 * per_copy
        for table, cols in twice.tables.items():
            for column, column_values in cols.items():
                assert column_values == once.tables[table][column] * 2, (table, column)
