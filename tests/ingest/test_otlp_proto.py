"""Tests of observatory_etl.ingest.otlp_proto: OTLP protobuf (.binpb) → the same column lists as OTLP/JSON.

The protobuf inputs are made here from OTLP/JSON with protobuf's own ``json_format`` (OTLP/JSON differs from
protobuf's canonical JSON only in its ids, hex instead of base64, which :func:`to_proto` converts) and the
request classes of opentelemetry-proto. The expected columns are what the OTLP/JSON decoder gives for the
same JSON, so each test checks that a record decodes the same whichever encoding it came in.
"""

from __future__ import annotations

import base64
import gzip
import shutil
import struct
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
import zstandard
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from observatory_etl import synth
from observatory_etl.ingest import decode as decode_module
from observatory_etl.ingest import landing as landing_module
from observatory_etl.ingest import otlp_json, otlp_proto
from observatory_etl.ingest.columns import Columns, DecodeError
from observatory_etl.llm.prices import PriceTable
from observatory_etl.pipeline import hour as hour_module
from observatory_etl.pipeline.hour import load_hour
from tests.conftest import HOUR, decoded_rows, execute, land, snapshot

REQUESTS = {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest, "logs": ExportLogsServiceRequest}
FIXTURE_FILES = {"traces": "trace.json", "logs": "logs.json", "metrics": "metrics.json"}
ID_KEYS = {"traceId", "spanId", "parentSpanId"}


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.load()


# ---------------------------------------------------------------------------------------------------
# Helpers: OTLP/JSON <-> protobuf with json_format


def _ids(value, convert):
    if type(value) is dict:
        return {k: (convert(v) if k in ID_KEYS and type(v) is str else _ids(v, convert)) for k, v in value.items()}
    if type(value) is list:
        return [_ids(v, convert) for v in value]
    return value


def to_proto(signal: str, request: dict):
    """An OTLP/JSON request (dict) as the opentelemetry-proto request message (hex ids → bytes)."""
    as_proto_json = _ids(request, lambda hex_id: base64.b64encode(bytes.fromhex(hex_id)).decode())
    return json_format.ParseDict(as_proto_json, REQUESTS[signal]())


def to_otlp_json(message) -> bytes:
    """A request message as OTLP/JSON bytes (ids as hex, enums as integers), written by json_format."""
    as_dict = json_format.MessageToDict(message, use_integers_for_enums=True)
    return orjson.dumps(_ids(as_dict, lambda b64: base64.b64decode(b64).hex()))


def delimited(*messages: bytes) -> bytes:
    """The fileexporter's ``format: proto`` stream: each message after its size as a big-endian uint32."""
    return b"".join(struct.pack(">I", len(m)) + m for m in messages)


def json_file_to_binpb(signal: str, data: bytes) -> bytes:
    """One OTLP/JSON landing file (one request, or JSON Lines) as a .binpb file (one message, or a stream)."""
    messages = [to_proto(signal, request).SerializeToString() for _, request in otlp_json.parse_requests(data)]
    return messages[0] if len(messages) == 1 else delimited(*messages)


def decode_json(signal: str, data: bytes, prices) -> Columns:
    columns = Columns(prices)
    otlp_json.decode(signal, data, columns)
    return columns


def decode_proto(signal: str, data: bytes, prices) -> Columns:
    columns = Columns(prices)
    otlp_proto.decode(signal, data, columns)
    return columns


def fixture_request(fixtures_dir: Path, signal: str) -> dict:
    return orjson.loads((fixtures_dir / FIXTURE_FILES[signal]).read_bytes())


def one_span_request(spans: list) -> ExportTraceServiceRequest:
    return to_proto("traces", {
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
            "scopeSpans": [{"scope": {"name": "lib", "version": "1"}, "spans": spans}],
        }]
    })


def span(index: int, **fields) -> dict:
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": f"{index + 1:016x}",
        "name": f"span {index}",
        "kind": 3,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000",
        **fields,
    }


# ---------------------------------------------------------------------------------------------------
# The official examples and synthetic telemetry decode exactly as their OTLP/JSON


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_official_examples_give_the_same_columns_as_their_json(fixtures_dir, prices, signal):
    data = (fixtures_dir / FIXTURE_FILES[signal]).read_bytes()
    expected = decode_json(signal, data, prices)
    message = to_proto(signal, orjson.loads(data))

    got = decode_proto(signal, message.SerializeToString(), prices)

    assert expected.rows > 0 and not expected.rejects
    assert got.tables == expected.tables
    assert got.rows == expected.rows
    assert got.rejects == []


def test_synthetic_telemetry_gives_the_same_columns_including_the_llm_columns(tmp_path, prices):
    synth.write_landing(str(tmp_path), HOUR, HOUR + timedelta(hours=1), traces_per_hour=40, files_per_hour=2,
                        compression="none")
    files = sorted(tmp_path.rglob("*.json"))
    assert {f.name.split("_")[0] for f in files} == {"traces", "logs", "metrics"}
    streams = 0
    for path in files:
        signal = path.name.split("_")[0]
        data = path.read_bytes()
        binpb = json_file_to_binpb(signal, data)
        streams += len(otlp_proto.split_messages(binpb)) > 1
        expected = decode_json(signal, data, prices)
        got = decode_proto(signal, binpb, prices)
        assert got.tables == expected.tables, path.name
        assert got.rows == expected.rows > 0
        assert got.rejects == expected.rejects == []
        if signal == "traces":
            spans = decoded_rows(got, "trace_spans")
            assert spans == decoded_rows(expected, "trace_spans"), path.name
            assert any(s["request_model"] for s in spans) and any(s["total_cost_usd"] for s in spans)
            assert any(s["input_tokens"] for s in spans)
    assert streams  # synth's JSON Lines traces files became length-delimited streams


def test_every_value_kind_decodes_as_its_json(prices):
    """A hand-built request with every AnyValue kind, non-finite doubles, bytes, deep nesting, every metric kind,
    exemplars, optional fields set and unset: the protobuf and the OTLP/JSON json_format writes of it agree."""
    value = {
        "kvlistValue": {"values": [
            {"key": "bytes", "value": {"bytesValue": base64.b64encode(b"\x00\xffbin").decode()}},
            {"key": "nan", "value": {"doubleValue": "NaN"}},
            {"key": "inf", "value": {"doubleValue": "Infinity"}},
            {"key": "-inf", "value": {"doubleValue": "-Infinity"}},
            {"key": "empty", "value": {}},
            {"key": "unset"},
            {"key": "array", "value": {"arrayValue": {"values": [{"intValue": "-9223372036854775808"}, {"boolValue": False},
                                                                   {"arrayValue": {}}]}}},
        ]}
    }
    attrs = [
        {"key": "s", "value": {"stringValue": "ünïcode \u0000 nul"}},
        {"key": "i", "value": {"intValue": "9223372036854775807"}},
        {"key": "d", "value": {"doubleValue": 1.5}},
        {"key": "b", "value": {"boolValue": True}},
        {"key": "deep", "value": value},
        {"key": "s", "value": {"stringValue": "duplicate key: last wins"}},
    ]
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}, *attrs]}
    traces = to_proto("traces", {"resourceSpans": [{"resource": resource, "scopeSpans": [{
        "scope": {"name": "lib", "version": "1", "attributes": attrs},
        "spans": [span(0, parentSpanId="00000000000000ff", traceState="k=v", attributes=attrs,
                       status={"code": 2, "message": "boom"},
                       events=[{"timeUnixNano": "1544712660500000000", "name": "e", "attributes": attrs}, {}],
                       links=[{"traceId": "ab" * 16, "spanId": "cd" * 8, "traceState": "x=y", "attributes": attrs},
                              {"attributes": attrs}]),
                  span(1, kind=0, attributes=[{"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                                              {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "10"}},
                                              {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}])],
    }]}]})
    logs = to_proto("logs", {"resourceLogs": [{"resource": resource, "scopeLogs": [{"scope": {"name": "lib"}, "logRecords": [
        {"timeUnixNano": "1", "observedTimeUnixNano": "2", "severityNumber": 17, "severityText": "ERROR",
         "body": value, "attributes": attrs, "traceId": "ab" * 16, "spanId": "cd" * 8, "flags": 257, "eventName": "ev"},
        {"observedTimeUnixNano": "3"},
        {"body": {"doubleValue": "NaN"}, "traceId": "00" * 16},
    ]}]}]})
    exemplars = [{"timeUnixNano": "5", "asDouble": "NaN", "traceId": "ab" * 16, "spanId": "CD" * 8, "filteredAttributes": attrs},
                 {"asInt": "7"}, {}]
    point = {"attributes": attrs, "startTimeUnixNano": "1", "timeUnixNano": "2", "exemplars": exemplars, "flags": 1}
    summary_point = {k: v for k, v in point.items() if k != "exemplars"}
    metrics = to_proto("metrics", {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"scope": {}, "metrics": [
        {"name": "g", "unit": "1", "gauge": {"dataPoints": [{**point, "asDouble": "Infinity"}, {**point, "asInt": "0"},
                                                             {**point, "asDouble": "NaN"}, point]}},
        {"name": "s", "description": "d", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                                   "dataPoints": [{**point, "asInt": "-3"}]}},
        {"name": "s0", "sum": {"dataPoints": [{**point, "asDouble": 0.0}]}},
        {"name": "h", "histogram": {"aggregationTemporality": 1, "dataPoints": [
            {**point, "count": "3", "sum": 0.0, "min": -1.0, "max": "NaN", "bucketCounts": ["1", "2"], "explicitBounds": [0.5]},
            {**point, "count": "0"},
        ]}},
        {"name": "e", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
            {**point, "count": "4", "sum": 2.5, "scale": -3, "zeroCount": "1", "zeroThreshold": 1e-9,
             "positive": {"offset": -2, "bucketCounts": ["1", "1"]}, "negative": {"offset": 5, "bucketCounts": ["1"]}},
            {**point, "scale": 2},
        ]}},
        {"name": "q", "summary": {"dataPoints": [  # summary points have no exemplars
            {**summary_point, "count": "2", "sum": 3.0, "quantileValues": [{"quantile": 0.5, "value": 1.0}, {"quantile": 1.0}]},
            {**summary_point, "sum": 0.0},
        ]}},
    ]}]}]})
    for signal, message in (("traces", traces), ("logs", logs), ("metrics", metrics)):
        expected = decode_json(signal, to_otlp_json(message), prices)
        got = decode_proto(signal, message.SerializeToString(), prices)
        assert expected.rejects == [] and expected.rows > 0, signal
        assert got.tables == expected.tables, signal
        assert got.rejects == []

    spans = decode_proto("traces", traces.SerializeToString(), prices).tables["trace_spans"]
    attributes = orjson.loads(spans["attributes"][0])
    assert attributes["s"] == "duplicate key: last wins" and next(iter(attributes)) == "s"
    assert attributes["deep"]["bytes"] == base64.b64encode(b"\x00\xffbin").decode()
    assert [attributes["deep"][k] for k in ("nan", "inf", "-inf", "empty", "unset")] == ["NaN", "Infinity", "-Infinity", None, None]
    assert attributes["deep"]["array"] == [-(1 << 63), False, []]
    assert spans["parent_span_id"][0] == 255 and spans["status_message"][0] == "boom"
    rows = decoded_rows(decode_proto("traces", traces.SerializeToString(), prices), "trace_spans")
    assert [r["request_model"] for r in rows] == [None, "gpt-4o"] and [r["input_tokens"] for r in rows] == [None, 10]


# ---------------------------------------------------------------------------------------------------
# File forms: one message, a length-delimited stream, compression


def test_a_length_delimited_stream_of_several_messages_decodes_every_message(fixtures_dir, prices):
    request = fixture_request(fixtures_dir, "logs")
    first = to_proto("logs", request).SerializeToString()
    other = to_proto("logs", {**request, "resourceLogs": [{**request["resourceLogs"][0], "resource": {}}]}).SerializeToString()
    stream = delimited(first, other, first)
    assert otlp_proto.split_messages(stream) == [first, other, first]
    assert otlp_proto.split_messages(first) == [first]

    got = decode_proto("logs", stream, prices)

    single = decode_json("logs", (fixtures_dir / "logs.json").read_bytes(), prices)
    assert got.rows == 3 * single.rows
    assert got.tables["logs"]["log_id"][0] == got.tables["logs"]["log_id"][2] == single.tables["logs"]["log_id"][0]
    assert got.tables["logs"]["resource_attributes"] == ['{"service.name":"my.service"}', "{}", '{"service.name":"my.service"}']
    # the same stream as JSON Lines gives the same columns
    lines = b"\n".join(to_otlp_json(otlp_proto.REQUEST_TYPES["logs"].FromString(m)) for m in (first, other, first))
    assert got.tables == decode_json("logs", lines, prices).tables


def test_empty_messages_in_a_stream_and_an_empty_file(fixtures_dir, prices):
    message = to_proto("traces", fixture_request(fixtures_dir, "traces")).SerializeToString()
    assert decode_proto("traces", delimited(b"", message, b""), prices).rows == 1
    columns = Columns(prices)
    assert otlp_proto.decode("traces", b"", columns) == 0  # an empty file holds nothing, as an empty JSON file
    with pytest.raises(DecodeError, match="no OTLP records"):
        otlp_proto.decode("traces", delimited(b"", b""), columns)
    with pytest.raises(DecodeError, match="no OTLP records"):
        otlp_proto.decode("traces", ExportTraceServiceRequest(resource_spans=[{}]).SerializeToString(), columns)


@pytest.mark.parametrize("compress", [gzip.compress, zstandard.compress], ids=["gzip", "zstd"])
@pytest.mark.parametrize("stream", [False, True], ids=["one message", "stream"])
def test_gzip_and_zstd_binpb_files_decode_through_decode_file(tmp_path, fixtures_dir, prices, compress, stream):
    message = to_proto("traces", fixture_request(fixtures_dir, "traces")).SerializeToString()
    data = delimited(message, one_span_request([span(0)]).SerializeToString()) if stream else message
    suffix = ".gz" if compress is gzip.compress else ".zst"
    land(tmp_path, HOUR, f"traces_0001.binpb{suffix}", compress(data))
    store = landing_module.open_store(str(tmp_path))
    (file,) = landing_module.list_hour(store, HOUR)
    assert (file.signal, file.format) == ("traces", "binpb")

    decoded = decode_module.decode_file(store, file, prices)

    assert decoded.error is None and not decoded.rejects
    assert decoded.frames["trace_spans"].height == (2 if stream else 1)
    assert decoded.records == (2 if stream else 1)


def test_a_stream_of_individually_zstd_compressed_messages_decodes(fixtures_dir, prices):
    """The fileexporter's ``compression: zstd`` compresses each message and frames the compressed bytes."""
    message = to_proto("metrics", fixture_request(fixtures_dir, "metrics")).SerializeToString()
    got = decode_proto("metrics", delimited(zstandard.compress(message), gzip.compress(message)), prices)
    expected = decode_json("metrics", (fixtures_dir / "metrics.json").read_bytes(), prices)
    assert got.rows == 2 * expected.rows
    with pytest.raises(DecodeError, match="message 2: corrupt compressed data"):
        decode_proto("metrics", delimited(zstandard.compress(message), zstandard.compress(message)[:-3]), prices)


# ---------------------------------------------------------------------------------------------------
# Bad input: whole-file errors and rejected records


def test_a_corrupt_message_raises_decode_error_and_leaves_the_columns_as_they_were(fixtures_dir, prices):
    message = to_proto("traces", fixture_request(fixtures_dir, "traces")).SerializeToString()
    columns = decode_proto("traces", message, prices)
    before = {t: {c: list(v) for c, v in cols.items()} for t, cols in columns.tables.items()}

    for corrupt in (message[:-3], b"\xff\xff\xff\xff\xff", b"not protobuf at all", delimited(message, message[:-1] + b"\xff")):
        with pytest.raises(DecodeError, match="not a protobuf ExportTraceServiceRequest"):
            otlp_proto.decode("traces", corrupt, columns)
    with pytest.raises(DecodeError, match="message 2 of 3 \\(length-delimited\\)"):
        otlp_proto.decode("traces", delimited(message, message[:-3], message), columns)

    assert columns.tables == before and columns.rows == 1 and columns.rejects == []


def test_another_signals_request_and_llm_spans_are_whole_file_errors(fixtures_dir, prices):
    logs = to_proto("logs", fixture_request(fixtures_dir, "logs")).SerializeToString()
    with pytest.raises(DecodeError, match=r"holds logs \(ExportLogsServiceRequest\), not traces"):
        decode_proto("traces", logs, prices)
    with pytest.raises(DecodeError, match="llm_spans files have no OTLP protobuf form"):
        decode_proto("llm_spans", logs, prices)


def test_a_corrupt_binpb_file_is_rejected_whole_by_decode_file(tmp_path, fixtures_dir, prices):
    message = to_proto("traces", fixture_request(fixtures_dir, "traces")).SerializeToString()
    land(tmp_path, HOUR, "traces_0001.binpb", message[:-3])
    store = landing_module.open_store(str(tmp_path))
    (file,) = landing_module.list_hour(store, HOUR)

    decoded = decode_module.decode_file(store, file, prices)

    assert decoded.frames == {} and decoded.records == 0
    assert "not a protobuf ExportTraceServiceRequest" in decoded.error
    with pytest.raises(landing_module.LandingError, match="traces_0001.binpb: message 1: not a protobuf"):
        decode_module.decode_file(store, file, prices, on_bad_input="fail")


def test_a_span_with_a_bad_id_is_rejected_with_its_path_and_the_others_decode(prices):
    request = one_span_request([span(0), span(1, spanId="0102"), span(2, parentSpanId="00" * 9), span(3)])
    # the bad span inside a length-delimited stream: its path names the message
    data = delimited(one_span_request([span(9)]).SerializeToString(), request.SerializeToString())

    columns = decode_proto("traces", data, prices)

    assert columns.tables["trace_spans"]["name"] == ["span 9", "span 0", "span 3"]
    assert columns.rows == 3
    assert [(r.record_path, r.reason) for r in columns.rejects] == [
        ("message 2 / resource 0 / scope 0 / span 1", "spanId '0102' is 2 bytes, not 8"),
        ("message 2 / resource 0 / scope 0 / span 2", "parentSpanId '000000000000000000' is 9 bytes, not 8"),
    ]
    record = orjson.loads(columns.rejects[0].record)  # quarantined as OTLP/JSON, ids in hex
    assert record["spanId"] == "0102" and record["traceId"] == "5b8efff798038103d269b633813fc60c"
    assert record["name"] == "span 1" and record["kind"] == 3 and record["startTimeUnixNano"] == "1544712660000000000"


@pytest.mark.parametrize("fields, reason", [
    ({"traceId": ""}, "missing traceId"),
    ({"traceId": "00" * 16}, "traceId is all zeros (invalid)"),
    ({"spanId": "00" * 8}, "spanId is all zeros (invalid)"),
    ({"startTimeUnixNano": str(1 << 63)}, "startTimeUnixNano 9223372036854775808 is outside the storable range 0 .. 2^63-1"),
    ({"events": [{"timeUnixNano": str((1 << 64) - 1)}]}, "event 0 timeUnixNano 18446744073709551615 is outside"),
    ({"links": [{"traceId": "ab" * 3}]}, "link 0 traceId 'ababab' is 3 bytes, not 16"),
])
def test_invalid_span_fields_reject_the_span_as_the_json_decoder_does(prices, fields, reason):
    request = one_span_request([span(0, **fields), span(1)])
    got = decode_proto("traces", request.SerializeToString(), prices)
    expected = decode_json("traces", to_otlp_json(request), prices)
    assert [r.record_path for r in got.rejects] == ["message 1 / resource 0 / scope 0 / span 0"]
    assert got.rejects[0].reason.startswith(reason)
    assert [r.record_path.replace("request", "message") for r in expected.rejects] == [r.record_path for r in got.rejects]
    assert got.tables == expected.tables


def test_bad_log_records_points_and_metrics_are_rejected_with_their_paths(fixtures_dir, prices):
    logs = to_proto("logs", fixture_request(fixtures_dir, "logs"))
    logs.resource_logs[0].scope_logs[0].log_records.add(time_unix_nano=1 << 63)
    logs.resource_logs[0].scope_logs[0].log_records.add(span_id=b"\x01")
    metrics = to_proto("metrics", fixture_request(fixtures_dir, "metrics"))
    scope = metrics.resource_metrics[0].scope_metrics[0]
    scope.metrics.add(name="no data")
    scope.metrics[2].histogram.data_points[0].bucket_counts.append(1 << 63)
    scope.metrics[0].sum.data_points[0].flags = 1 << 31

    got_logs = decode_proto("logs", logs.SerializeToString(), prices)
    got_metrics = decode_proto("metrics", metrics.SerializeToString(), prices)

    assert got_logs.rows == 1
    assert [(r.record_path, r.reason) for r in got_logs.rejects] == [
        ("message 1 / resource 0 / scope 0 / log record 1", "timeUnixNano 9223372036854775808 is outside the storable range 0 .. 2^63-1"),
        ("message 1 / resource 0 / scope 0 / log record 2", "spanId '01' is 1 bytes, not 8"),
    ]
    assert [(r.record_path, r.reason) for r in got_metrics.rejects] == [
        ("message 1 / resource 0 / scope 0 / metric 0 / data point 0", "flags 2147483648 is outside the int32 range"),
        ("message 1 / resource 0 / scope 0 / metric 2 / data point 0", "bucketCounts 9223372036854775808 is outside the storable range 0 .. 2^63-1"),
        ("message 1 / resource 0 / scope 0 / metric 3", "metric 'no data': no data (gauge, sum, histogram, exponentialHistogram or summary)"),
    ]
    assert got_metrics.rows == 1 and got_metrics.tables["metric_data_points"]["metric_name"] == ["my.gauge"]
    assert len(got_metrics.tables["metrics"]["name"]) == 3  # a metric whose points are rejected is kept, as in JSON
    assert orjson.loads(got_metrics.rejects[2].record) == {"name": "no data"}


def nested_request(levels: int) -> ExportTraceServiceRequest:
    """Two spans, the first with an attribute whose AnyValue nests ``levels`` arrays deep (built in place:
    constructing nested messages from nested messages would parse them again)."""
    request = one_span_request([span(0), span(1)])
    value = request.resource_spans[0].scope_spans[0].spans[0].attributes.add(key="deep").value
    for _ in range(levels):
        value = value.array_value.values.add()
    value.string_value = "leaf"
    return request


def test_any_values_nested_as_deep_as_protobuf_parses_decode_as_their_json(prices):
    request = nested_request(47)
    got = decode_proto("traces", request.SerializeToString(), prices)
    assert got.rejects == [] and got.tables == decode_json("traces", to_otlp_json(request), prices).tables
    deep = orjson.loads(got.tables["trace_spans"]["attributes"][0])["deep"]
    for _ in range(47):
        (deep,) = deep
    assert deep == "leaf"


def test_any_values_nested_deeper_than_protobuf_parses_make_the_file_undecodable(prices):
    """upb refuses messages nested more than 100 deep: an attribute's AnyValue 48 arrays deep (the JSON decoder
    rejects only the record past 64 levels)."""
    with pytest.raises(DecodeError, match="message 1: not a protobuf ExportTraceServiceRequest"):
        decode_proto("traces", nested_request(48).SerializeToString(), prices)


# ---------------------------------------------------------------------------------------------------
# End to end: an hour of .binpb files loads the same tables as the same hour as OTLP/JSON


def _binpb_landing(json_root: Path, binpb_root: Path) -> int:
    """Copy a landing zone, turning every OTLP/JSON file into .binpb (alternately .binpb.gz and .binpb.zst) in the
    same folder; returns the files converted."""
    converted = 0
    for path in sorted(json_root.rglob("*")):
        if not path.is_file():
            continue
        target = binpb_root / path.relative_to(json_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        signal = path.name.split("_")[0]
        if signal not in otlp_proto.REQUEST_TYPES:  # llm_spans_*.jsonl: no protobuf form, copied
            shutil.copyfile(path, target)
            continue
        binpb = json_file_to_binpb(signal, landing_module.decompress(path.read_bytes()))
        stem = path.name.split(".json", 1)[0]
        if converted % 2:
            target.with_name(stem + ".binpb.zst").write_bytes(zstandard.compress(binpb))
        else:
            target.with_name(stem + ".binpb.gz").write_bytes(gzip.compress(binpb))
        converted += 1
    return converted


def test_an_hour_of_binpb_files_loads_the_same_tables_as_the_same_hour_as_json(tmp_path, database_url, schema, monkeypatch):
    json_root, binpb_root = tmp_path / "json", tmp_path / "binpb"
    synth.write_landing(str(json_root), HOUR, HOUR + timedelta(hours=1), traces_per_hour=60, files_per_hour=3)
    converted = _binpb_landing(json_root, binpb_root)
    assert converted == 9
    names = sorted(p.name for p in binpb_root.rglob("*.binpb*"))
    assert names and all(".binpb" in n for n in names)

    json_schema = schema + "_json"
    try:
        from_json = load_hour(HOUR, landing_url=str(json_root), database_url=database_url, schema=json_schema)
        from_binpb = load_hour(HOUR, landing_url=str(binpb_root), database_url=database_url, schema=schema)

        assert from_binpb.files == from_json.files
        assert from_binpb.records == from_json.records
        assert from_binpb.records_rejected == from_json.records_rejected == 0
        assert from_binpb.files_rejected == from_json.files_rejected == 0
        expected = snapshot(database_url, json_schema)
        assert all(expected[table] for table in ("trace_spans", "trace_events", "logs", "metric_data_points", "traces"))
        assert snapshot(database_url, schema) == expected

        # decoded by worker processes, every file its own chunk: the same again
        monkeypatch.setattr(hour_module, "POOL_MIN_BYTES", 0)
        workers_schema = schema + "_workers"
        try:
            parallel = load_hour(HOUR, landing_url=str(binpb_root), database_url=database_url, schema=workers_schema,
                                 decode_workers=2, chunk_bytes=1)
            assert parallel.records == from_json.records
            assert snapshot(database_url, workers_schema) == expected
        finally:
            execute(database_url, f'DROP SCHEMA IF EXISTS "{workers_schema}" CASCADE')
    finally:
        execute(database_url, f'DROP SCHEMA IF EXISTS "{json_schema}" CASCADE')


def test_nul_characters_in_binpb_strings_are_replaced_as_in_json(tmp_path, prices):
    request = one_span_request([span(0, name="a\u0000b", attributes=[{"key": "k", "value": {"stringValue": "x\u0000"}}])])
    land(tmp_path, HOUR, "traces_0001.binpb", request.SerializeToString())
    land(tmp_path, HOUR, "traces_0002.json", to_otlp_json(request), minute=1)
    store = landing_module.open_store(str(tmp_path))
    binpb_file, json_file = landing_module.list_hour(store, HOUR)

    got = decode_module.decode_file(store, binpb_file, prices)
    expected = decode_module.decode_file(store, json_file, prices)

    assert got.nul_replaced == expected.nul_replaced == 2
    assert got.frames["trace_spans"].equals(expected.frames["trace_spans"])
    assert "\u0000" not in got.frames["trace_spans"]["name"][0]
