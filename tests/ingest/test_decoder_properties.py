"""Property-based tests (hypothesis) of the OTLP/JSON decoder and the LLM-span JSON Lines decoder.

The contract: mutated valid requests never raise anything but a rejection with a reason; generated valid
requests decode exactly. Concretely:

* a valid ExportTraceServiceRequest / ExportLogsServiceRequest / ExportMetricsServiceRequest, generated
  together with a model of the rows it must give (random resources and scopes, spans with events and
  links, log records with bodies, gauge / sum / histogram / exponential histogram / summary points,
  AnyValues of every kind nested a few levels, ids in upper, lower or mixed case, 64-bit integers as
  numbers or strings, times in [1, 2^63 - 1], enums as integers or names), decodes with no reject into
  exactly the modelled rows; its proto-field-name (snake_case) form decodes to the same columns; its frames
  build;
* valid spans whose attributes are GenAI keys (docs/llm-mapping.md) holding values of any kind decode with
  no reject and build frames (the canonical LLM columns always fit their types);
* the same requests after random mutations (a field of an object or any value replaced by one of another
  JSON type, a key deleted, a record duplicated, a U+0000 inserted into a string, an AnyValue nested 70
  levels, the bytes truncated; one or more JSON Lines requests, camelCase or proto field names) either
  decode — every record then decoded or rejected at its own path (``request 1 …`` / ``line N …``) with a
  reason, every decoded value fitting its frame column, and the frames build — or raise
  :class:`DecodeError` (the file as a whole is not OTLP/JSON of the signal), leaving the columns as they
  were; nothing else escapes;
* systematically: every field of every kind of object set, one at a time, to each of a set of edge values
  (integers at the Int16/Int32/Int64 edges, numbers and times in strings, every other JSON type) is
  decoded or rejected cleanly;
* LLM-span lines (``observatory_etl/ingest/llm_span.schema.json``): valid lines decode exactly with no
  reject; mutated lines are rejected as ``line N`` while the other lines still decode; nothing raises; the
  frames build; every field set to every edge value likewise.

Expected values come from the generators' models, never from the modules under test. The examples are
derandomized (the same on every run) so that CI is reproducible.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import math
import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from observatory_etl import synth
from observatory_etl.ingest import llm_spans, otlp_json
from observatory_etl.ingest.columns import TABLE_COLUMNS, Columns, DecodeError
from observatory_etl.ingest.frames import RAW_SCHEMAS, frames
from observatory_etl.ingest.otlp_json import typed as otlp_typed
from observatory_etl.ingest.otlp_json.values import camelize
from observatory_etl.tables import LLM_COLUMNS
from tests.conftest import HOUR, decoded_rows

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
SIGNALS = ("traces", "metrics", "logs")
NO_LLM = dict.fromkeys(LLM_COLUMNS)  # a span without GenAI attributes has every canonical LLM column null
GENAI_PREFIXES = ("gen_ai.", "llm.", "openinference.", "traceloop.")

# Where the records of each signal are: top-level key, scope list key, record list key, record noun in paths.
LAYOUT = {
    "traces": ("resourceSpans", "scopeSpans", "spans", "span"),
    "metrics": ("resourceMetrics", "scopeMetrics", "metrics", "metric"),
    "logs": ("resourceLogs", "scopeLogs", "logRecords", "log record"),
}
# The tables each signal fills, and those whose rows ``decode`` counts as records.
TABLES = {
    "traces": ("trace_spans", "trace_events", "trace_links"),
    "metrics": ("metrics", "metric_data_points"),
    "logs": ("logs",),
}
COUNTED = {"traces": TABLES["traces"], "metrics": ("metric_data_points",), "logs": ("logs",)}
JSON_COLUMNS = {"attributes", "resource_attributes", "scope_attributes", "body", "quantiles", "exemplars"}
METRIC_KINDS = {  # data field → metrics.type, in the order the decoder looks for them
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponentialHistogram": "exponential_histogram",
    "summary": "summary",
}
# Enum names as protobuf's JSON printer writes them (opentelemetry-proto trace.proto, logs.proto, metrics.proto).
SPAN_KIND_NAMES = tuple(
    f"SPAN_KIND_{n}" for n in ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
)
STATUS_CODE_NAMES = tuple(f"STATUS_CODE_{n}" for n in ("UNSET", "OK", "ERROR"))
SEVERITY_NAMES = ("SEVERITY_NUMBER_UNSPECIFIED", *(
    f"SEVERITY_NUMBER_{level}{n if n > 1 else ''}"
    for level in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
    for n in range(1, 5)
))
TEMPORALITY_NAMES = tuple(f"AGGREGATION_TEMPORALITY_{n}" for n in ("UNSPECIFIED", "DELTA", "CUMULATIVE"))
assert SEVERITY_NAMES[9] == "SEVERITY_NUMBER_INFO" and SEVERITY_NAMES[24] == "SEVERITY_NUMBER_FATAL4"


def _settings(max_examples: int, shrink: bool = True):
    """Derandomized (the same examples on every run, for CI), no example database, no deadline.

    ``shrink=False`` for the mutation tests: their failing examples are labelled draws (which request, which
    mutation where, by what), readable as they are, and shrinking them takes minutes.
    """
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


@functools.cache
def _prices():
    return Columns().prices  # the packaged price table, loaded once


def new_columns() -> Columns:
    return Columns(prices=_prices())


# ---------------------------------------------------------------------------------------------------
# Helpers: strict comparison, rows, encoding


def same(actual, expected) -> bool:
    """Equal with the same JSON types (True is not 1, 1.0 is not 1), NaN equal to NaN."""
    if type(actual) is not type(expected):
        return False
    if type(actual) is dict:
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in actual)
    if type(actual) in (list, tuple):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected))
    if type(actual) is float and math.isnan(actual):
        return math.isnan(expected)
    return actual == expected


def check_rows(columns: Columns, table: str, expected_rows: list[dict]) -> None:
    """The decoded rows of ``table`` are ``expected_rows`` (only the columns named there; JSON text parsed)."""
    actual = decoded_rows(columns, table)
    assert len(actual) == len(expected_rows), f"{table}: {len(actual)} rows, expected {len(expected_rows)}"
    for index, (got, want) in enumerate(zip(actual, expected_rows)):
        for column, value in want.items():
            decoded = got[column]
            if column in JSON_COLUMNS and decoded is not None:
                assert type(decoded) is str, f"{table} row {index} {column}: JSON text expected, got {decoded!r}"
                decoded = orjson.loads(decoded)
            assert same(decoded, value), f"{table} row {index} {column}: decoded {decoded!r}, expected {value!r}"


def encode(doc, ensure_ascii: bool = True) -> bytes:
    # The standard library writes any integer (orjson stops at 64 bits) and, with ensure_ascii=False, raw UTF-8.
    return json.dumps(doc, ensure_ascii=ensure_ascii).encode()


def snake_case(value):
    """``value`` with every object key in proto field-name form (``resourceSpans`` → ``resource_spans``)."""
    if type(value) is dict:
        return {re.sub(r"([A-Z])", r"_\1", key).lower(): snake_case(v) for key, v in value.items()}
    if type(value) is list:
        return [snake_case(v) for v in value]
    return value


def signed(raw: bytes) -> int:
    return int.from_bytes(raw, "big", signed=True)


def record_count(signal: str, expected: dict[str, list]) -> int:
    return sum(len(expected[table]) for table in COUNTED[signal])


def assert_untouched(columns: Columns) -> None:
    assert columns.rows == 0 and columns.rejects == []
    assert all(not values for cols in columns.tables.values() for values in cols.values())


_INT_BITS = {pl.Int16: 16, pl.Int32: 32, pl.Int64: 64}


def fits(value, dtype) -> bool:
    """Whether polars builds a ``dtype`` column holding ``value`` (strictly, as frames() does)."""
    if value is None:
        return True
    if dtype in _INT_BITS:
        bits = _INT_BITS[dtype]
        return type(value) in (int, bool) and -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
    if dtype == pl.Float64:
        return type(value) in (float, int, bool) and (type(value) is not int or abs(value) < 2**1023)
    if dtype == pl.String:
        return type(value) is str
    if dtype == pl.Binary:
        return type(value) is bytes
    if dtype == pl.Boolean:
        return type(value) is bool
    if isinstance(dtype, pl.List):
        return type(value) is list and all(fits(item, dtype.inner) for item in value)
    raise AssertionError(f"no rule for {dtype}")


def misfit(columns: Columns, mark: dict[str, int] | None = None) -> str | None:
    """The first decoded value (of the rows added since ``mark``) that does not fit its frame column, or None.

    frames() would fail on it; this names the table, column and value."""
    for table, cols in columns.tables.items():
        start = mark[table] if mark else 0
        for column, values in cols.items():
            dtype = RAW_SCHEMAS[table][column]
            for value in values[start:]:
                if not fits(value, dtype):
                    return f"{table}.{column} = {value!r:.80} does not fit {dtype}"
    return None


# ---------------------------------------------------------------------------------------------------
# Strategies: scalars. Each gives (its OTLP/JSON form, the value the decoder must give).

TEXT = st.text(st.characters(codec="utf-8"), max_size=10)  # any Unicode but surrogates, U+0000 included
KEYS = st.one_of(
    st.sampled_from(["k", "http.method", "", "a.b", "service.name"]),
    st.text(st.characters(codec="utf-8"), max_size=6),
)
RESOURCE_KEYS = st.one_of(st.just("service.name"), KEYS)
# Span attribute keys include GenAI ones so that the canonical LLM mapping runs on random values of every kind.
GENAI_KEYS = (  # docs/llm-mapping.md: keys the canonical LLM columns are read from
    "gen_ai.system", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model",
    "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.total_tokens",
    "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.reasoning.output_tokens", "gen_ai.response.finish_reasons", "gen_ai.operation.name",
    "gen_ai.input.messages", "gen_ai.output.messages", "llm.cost.prompt", "llm.cost.total",
    "llm.token_count.prompt", "llm.invocation_parameters", "openinference.span.kind", "session.id", "user.id",
    "input.value", "input.mime_type", "gen_ai.prompt.0.content", "gen_ai.completion.0.finish_reason",
    "gen_ai.response.time_to_first_chunk", "deployment.environment.name",
)
SPAN_KEYS = st.one_of(KEYS, st.sampled_from(GENAI_KEYS))
_CASES = (str.lower, str.upper, str.title)  # title: mixed case, e.g. "5B8Efff798038103D269B..."


@functools.cache
def hex_ids(size: int):
    """(hex text in lower, upper or mixed case, the id's bytes), never all zeros."""
    return st.tuples(st.binary(min_size=size, max_size=size).filter(any), st.sampled_from(_CASES)).map(
        lambda t: (t[1](t[0].hex()), t[0])
    )


@functools.cache
def json_ints(lo: int, hi: int):
    """(the integer as a JSON number or a JSON string, the integer)."""
    return st.tuples(st.integers(lo, hi), st.booleans()).map(lambda t: (str(t[0]) if t[1] else t[0], t[0]))


TIMES = json_ints(1, INT64_MAX)
OPTIONAL_TIMES = st.just((None, 0)) | TIMES  # absent: 0, "unset"
OPTIONAL_TEXT = st.none() | TEXT
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


@functools.cache
def enums(names: tuple[str, ...]):
    """(the enum as an integer or its name, its number)."""
    return st.tuples(st.integers(0, len(names) - 1), st.booleans()).map(lambda t: (names[t[0]] if t[1] else t[0], t[0]))


@functools.cache
def optional_ids(size: int, to_expected):
    """(form or None for "absent", expected): an optional id, empty, all zeros (both NULL) or random hex."""
    return st.one_of(
        st.just((None, None)),
        st.just(("", None)),
        st.just(("0" * (2 * size), None)),
        hex_ids(size).map(lambda p: (p[0], to_expected(p[1]))),
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


_SCALAR_ANY_VALUES = st.one_of(
    TEXT.map(lambda t: ({"stringValue": t}, t)),
    st.booleans().map(lambda b: ({"boolValue": b}, b)),
    json_ints(INT64_MIN, INT64_MAX).map(lambda p: ({"intValue": p[0]}, p[1])),
    FLOATS.map(lambda f: ({"doubleValue": f}, f)),
    st.integers(-(2**53), 2**53).map(lambda i: ({"doubleValue": i}, float(i))),  # a double written as a JSON integer
    st.sampled_from(["NaN", "Infinity", "-Infinity"]).map(lambda t: ({"doubleValue": t}, t)),  # jsonb has no NaN
    st.binary(max_size=8).map(lambda raw: ({"bytesValue": _b64(raw)}, _b64(raw))),
    st.sampled_from([
        ({}, None),  # an empty AnyValue
        ({"arrayValue": {}}, []),
        ({"arrayValue": {"values": []}}, []),
        ({"kvlistValue": {}}, {}),
    ]),
)


def _nest(children):
    arrays = st.lists(children, max_size=3).map(
        lambda items: ({"arrayValue": {"values": [d for d, _ in items]}}, [e for _, e in items])
    )
    kvlists = st.lists(st.tuples(KEYS, children), max_size=3, unique_by=lambda kv: kv[0]).map(
        lambda items: (
            {"kvlistValue": {"values": [{"key": k, "value": d} for k, (d, _) in items]}},
            {k: e for k, (_, e) in items},
        )
    )
    return arrays | kvlists


ANY_VALUES = st.recursive(_SCALAR_ANY_VALUES, _nest, max_leaves=4)


@functools.cache
def attribute_lists(keys=KEYS, max_size: int = 2):
    """(a list of KeyValue, the attributes dict it decodes to); keys unique."""
    return st.lists(st.tuples(keys, ANY_VALUES), max_size=max_size, unique_by=lambda kv: kv[0]).map(
        lambda items: ([{"key": k, "value": d} for k, (d, _) in items], {k: e for k, (_, e) in items})
    )


ATTRIBUTES = attribute_lists()
RESOURCE_ATTRIBUTES = attribute_lists(RESOURCE_KEYS)
SPAN_ATTRIBUTES = attribute_lists(SPAN_KEYS, max_size=3)
TRACE_IDS, SPAN_IDS = hex_ids(16), hex_ids(8)
OPTIONAL_TRACE_IDS, OPTIONAL_SPAN_IDS = optional_ids(16, bytes), optional_ids(8, signed)
SPAN_KINDS, STATUS_CODES, TEMPORALITIES = enums(SPAN_KIND_NAMES), enums(STATUS_CODE_NAMES), enums(TEMPORALITY_NAMES)
INT64S = json_ints(INT64_MIN, INT64_MAX)


def _put_attributes(draw, doc: dict, key: str, attributes_doc: list) -> None:
    """An attributes list is written when non-empty, and an empty one sometimes (both decode to {})."""
    if attributes_doc or draw(st.booleans()):
        doc[key] = attributes_doc


def _put_optional(doc: dict, key: str, value) -> None:
    """A field is written unless None (absent)."""
    if value is not None:
        doc[key] = value


DOUBLES = st.one_of(  # (form, expected) of a double column: NaN is stored as NULL
    FLOATS.map(lambda f: (f, f)),
    st.integers(-(2**53), 2**53).map(lambda i: (i, float(i))),
    st.sampled_from([("NaN", None), ("Infinity", math.inf), ("-Infinity", -math.inf)]),
)
OPTIONAL_DOUBLES = st.just((None, None)) | DOUBLES
QUANTILE_VALUES = st.one_of(FLOATS.map(lambda f: (f, f)), st.just(("NaN", None)))
COUNTS = json_ints(0, INT64_MAX)
OPTIONAL_COUNTS = st.just((None, 0)) | COUNTS
COUNT_LISTS = st.lists(COUNTS, max_size=4)
BOUND_LISTS = st.lists(FLOATS, max_size=3)
OPTIONAL_FLAGS8 = st.just((None, 0)) | json_ints(0, 255)
OPTIONAL_FLAGS32 = st.just((None, 0)) | json_ints(0, 2**32 - 1)
OPTIONAL_SEVERITIES = st.just((None, 0)) | enums(SEVERITY_NAMES)
OPTIONAL_ANY_VALUES = st.just((None, None)) | ANY_VALUES
OPTIONAL_SCALES = st.just((None, 0)) | json_ints(-10, 20)
OPTIONAL_OFFSETS = st.just((None, 0)) | json_ints(INT32_MIN, INT32_MAX)
OPTIONAL_SPAN_HEX = st.none() | hex_ids(8).map(lambda p: p[0])
OPTIONAL_HEX_TRACE_IDS = optional_ids(16, bytes.hex)
NUMBER_FIELDS = st.sampled_from(["asDouble", "asInt", None])
KIND_NAMES = st.sampled_from(list(METRIC_KINDS))


# ---------------------------------------------------------------------------------------------------
# Strategies: records. Each gives (record form, {table: [expected rows]}); ``requests`` adds the resource's
# and scope's columns (service_name, scope_name, scope_version, scope_attributes, resource_attributes) to
# the rows of the record's own table (CONTEXT_TABLE).


@st.composite
def spans(draw):
    trace_hex, trace_id = draw(TRACE_IDS)
    span_hex, span_raw = draw(SPAN_IDS)
    span_id = signed(span_raw)
    start_form, start = draw(TIMES)
    end_form, end = draw(TIMES)
    kind_form, kind = draw(SPAN_KINDS)
    name = draw(TEXT)
    doc = {"traceId": trace_hex, "spanId": span_hex, "name": name, "kind": kind_form,
           "startTimeUnixNano": start_form, "endTimeUnixNano": end_form}
    attributes_doc, attributes = draw(SPAN_ATTRIBUTES)
    _put_attributes(draw, doc, "attributes", attributes_doc)
    parent_form, parent = draw(OPTIONAL_SPAN_IDS)
    _put_optional(doc, "parentSpanId", parent_form)
    trace_state = draw(OPTIONAL_TEXT)
    _put_optional(doc, "traceState", trace_state)
    status_code, status_message = 0, None
    if draw(st.booleans()):
        code_form, status_code = draw(STATUS_CODES)
        status_message = draw(OPTIONAL_TEXT)
        doc["status"] = {"code": code_form}
        _put_optional(doc["status"], "message", status_message)
    if draw(st.booleans()):
        doc["droppedAttributesCount"] = draw(st.integers(0, 5))  # known to OTLP, ignored here
        doc["flags"] = draw(st.integers(0, 2**32 - 1))
    row = {
        "trace_id": trace_id, "span_id": span_id, "parent_span_id": parent, "trace_state": trace_state or None,
        "name": name, "kind": kind, "start_time_unix_nano": start, "end_time_unix_nano": end,
        "status_code": status_code, "status_message": status_message or None, "attributes": attributes,
    }
    if not any(key.startswith(GENAI_PREFIXES) for key in attributes):
        row.update(NO_LLM)
    event_rows = []
    for index in range(draw(st.integers(0, 2))):
        event = {"name": draw(TEXT)}
        time_form, time = draw(OPTIONAL_TIMES)
        _put_optional(event, "timeUnixNano", time_form)
        event_attributes_doc, event_attributes = draw(ATTRIBUTES)
        _put_attributes(draw, event, "attributes", event_attributes_doc)
        doc.setdefault("events", []).append(event)
        event_rows.append({"trace_id": trace_id, "span_id": span_id, "event_index": index, "time_unix_nano": time,
                           "name": event["name"], "attributes": event_attributes})
    link_rows = []
    for index in range(draw(st.integers(0, 2))):
        link = {}
        linked_trace_form, linked_trace = draw(OPTIONAL_TRACE_IDS)
        linked_span_form, linked_span = draw(OPTIONAL_SPAN_IDS)
        _put_optional(link, "traceId", linked_trace_form)
        _put_optional(link, "spanId", linked_span_form)
        link_state = draw(OPTIONAL_TEXT)
        _put_optional(link, "traceState", link_state)
        link_attributes_doc, link_attributes = draw(ATTRIBUTES)
        _put_attributes(draw, link, "attributes", link_attributes_doc)
        doc.setdefault("links", []).append(link)
        link_rows.append({"trace_id": trace_id, "span_id": span_id, "link_index": index,
                          "linked_trace_id": linked_trace, "linked_span_id": linked_span,
                          "trace_state": link_state or None, "attributes": link_attributes})
    return doc, {"trace_spans": [row], "trace_events": event_rows, "trace_links": link_rows}


@st.composite
def log_records(draw):
    doc, row = {}, {}
    for key, column in (("timeUnixNano", "time_unix_nano"), ("observedTimeUnixNano", "observed_time_unix_nano")):
        form, value = draw(OPTIONAL_TIMES)
        _put_optional(doc, key, form)
        row[column] = value
    trace_form, row["trace_id"] = draw(OPTIONAL_TRACE_IDS)
    _put_optional(doc, "traceId", trace_form)
    span_form, row["span_id"] = draw(OPTIONAL_SPAN_IDS)
    _put_optional(doc, "spanId", span_form)
    flags_form, flags = draw(OPTIONAL_FLAGS32)
    _put_optional(doc, "flags", flags_form)
    row["trace_flags"] = flags & 0xFF
    severity_form, row["severity_number"] = draw(OPTIONAL_SEVERITIES)
    _put_optional(doc, "severityNumber", severity_form)
    for key, column in (("severityText", "severity_text"), ("eventName", "event_name")):
        text = draw(OPTIONAL_TEXT)
        _put_optional(doc, key, text)
        row[column] = text or None
    body_form, row["body"] = draw(OPTIONAL_ANY_VALUES)
    _put_optional(doc, "body", body_form)
    attributes_doc, row["attributes"] = draw(ATTRIBUTES)
    _put_attributes(draw, doc, "attributes", attributes_doc)
    return doc, {"logs": [row]}


@st.composite
def exemplar_lists(draw):
    """(exemplars form or None, the exemplars column: JSON of the list, or None)."""
    exemplars, expected = [], []
    for _ in range(draw(st.integers(0, 2))):
        exemplar = {}
        time_form, time = draw(OPTIONAL_COUNTS)
        _put_optional(exemplar, "timeUnixNano", time_form)
        value_form = draw(NUMBER_FIELDS)
        value = None
        if value_form == "asDouble":
            exemplar["asDouble"] = value = draw(FLOATS)
        elif value_form == "asInt":
            exemplar["asInt"], number = draw(INT64S)
            value = float(number)
        trace_form, trace_id = draw(OPTIONAL_HEX_TRACE_IDS)
        _put_optional(exemplar, "traceId", trace_form)
        span_form = draw(OPTIONAL_SPAN_HEX)
        _put_optional(exemplar, "spanId", span_form)
        attributes_doc, attributes = draw(ATTRIBUTES)
        _put_attributes(draw, exemplar, "filteredAttributes", attributes_doc)
        exemplars.append(exemplar)
        expected.append({"time_unix_nano": time, "value": value, "trace_id": trace_id,
                         "span_id": span_form.lower() if span_form else None, "filtered_attributes": attributes})
    return (exemplars or None), (expected or None)


EXEMPLAR_LISTS = exemplar_lists()


@st.composite
def data_points(draw, kind: str):
    """(data point form, expected point columns) of a metric of ``kind``."""
    doc, row = {}, {}
    for key, column in (("startTimeUnixNano", "start_time_unix_nano"), ("timeUnixNano", "time_unix_nano")):
        form, value = draw(OPTIONAL_TIMES)
        _put_optional(doc, key, form)
        row[column] = value
    attributes_doc, row["attributes"] = draw(ATTRIBUTES)
    _put_attributes(draw, doc, "attributes", attributes_doc)
    flags_form, row["flags"] = draw(OPTIONAL_FLAGS8)
    _put_optional(doc, "flags", flags_form)
    exemplars_form, row["exemplars"] = draw(EXEMPLAR_LISTS)
    _put_optional(doc, "exemplars", exemplars_form)
    absent = ("value", "count", "sum", "min", "max", "bucket_counts", "explicit_bounds", "scale", "zero_count",
              "zero_threshold", "positive_offset", "positive_bucket_counts", "negative_offset",
              "negative_bucket_counts", "quantiles")
    row.update(dict.fromkeys(absent))
    if kind in ("gauge", "sum"):
        which = draw(NUMBER_FIELDS)
        if which == "asDouble":
            doc["asDouble"], row["value"] = draw(DOUBLES)
        elif which == "asInt":
            doc["asInt"], number = draw(INT64S)
            row["value"] = float(number)
        return doc, row
    count_form, row["count"] = draw(OPTIONAL_COUNTS)
    _put_optional(doc, "count", count_form)
    sum_form, row["sum"] = draw(OPTIONAL_DOUBLES)
    _put_optional(doc, "sum", sum_form)
    if kind == "summary":
        quantiles, expected = [], []
        for _ in range(draw(st.integers(0, 3))):
            quantile = draw(st.floats(0, 1))
            value_form, value = draw(QUANTILE_VALUES)
            quantiles.append({"quantile": quantile, "value": value_form})
            expected.append({"quantile": quantile, "value": value})
        if quantiles or draw(st.booleans()):
            doc["quantileValues"] = quantiles
        row["quantiles"] = expected
        return doc, row
    for key in ("min", "max"):
        form, row[key] = draw(OPTIONAL_DOUBLES)
        _put_optional(doc, key, form)
    if kind == "histogram":
        counts = draw(COUNT_LISTS)
        bounds = draw(BOUND_LISTS)
        if counts or draw(st.booleans()):
            doc["bucketCounts"] = [form for form, _ in counts]
        if bounds or draw(st.booleans()):
            doc["explicitBounds"] = bounds
        row["bucket_counts"] = [value for _, value in counts]
        row["explicit_bounds"] = bounds
        return doc, row
    scale_form, row["scale"] = draw(OPTIONAL_SCALES)
    _put_optional(doc, "scale", scale_form)
    zero_form, row["zero_count"] = draw(OPTIONAL_COUNTS)
    _put_optional(doc, "zeroCount", zero_form)
    threshold_form, row["zero_threshold"] = draw(OPTIONAL_DOUBLES)
    _put_optional(doc, "zeroThreshold", threshold_form)
    for side in ("positive", "negative"):
        row[f"{side}_offset"], row[f"{side}_bucket_counts"] = 0, []
        if draw(st.booleans()):
            buckets = {}
            offset_form, row[f"{side}_offset"] = draw(OPTIONAL_OFFSETS)
            _put_optional(buckets, "offset", offset_form)
            counts = draw(COUNT_LISTS)
            if counts or draw(st.booleans()):
                buckets["bucketCounts"] = [form for form, _ in counts]
            row[f"{side}_bucket_counts"] = [value for _, value in counts]
            doc[side] = buckets
    return doc, row


@st.composite
def metrics(draw, kind: str | None = None):
    kind = kind or draw(KIND_NAMES)
    name = draw(TEXT)
    doc = {"name": name}
    unit, description = draw(OPTIONAL_TEXT), draw(OPTIONAL_TEXT)
    _put_optional(doc, "unit", unit)
    _put_optional(doc, "description", description)
    data = {}
    temporality, monotonic = None, None
    if kind in ("sum", "histogram", "exponentialHistogram") and draw(st.booleans()):
        data["aggregationTemporality"], temporality = draw(TEMPORALITIES)
    if kind == "sum":
        monotonic = draw(st.booleans())
        if monotonic or draw(st.booleans()):
            data["isMonotonic"] = monotonic
    points = draw(POINT_LISTS[kind])
    if points or draw(st.booleans()):
        data["dataPoints"] = [form for form, _ in points]
    doc[kind] = data
    metric_row = {"name": name, "type": METRIC_KINDS[kind], "unit": unit or None, "description": description or None}
    point_rows = [{**row, "metric_name": name, "aggregation_temporality": temporality, "is_monotonic": monotonic}
                  for _, row in points]
    return doc, {"metrics": [metric_row], "metric_data_points": point_rows}


POINT_LISTS = {kind: st.lists(data_points(kind), max_size=2) for kind in METRIC_KINDS}
RECORD_LISTS = {signal: st.lists(strategy(), max_size=2)
                for signal, strategy in (("traces", spans), ("metrics", metrics), ("logs", log_records))}
CONTEXT_TABLE = {"traces": "trace_spans", "metrics": "metrics", "logs": "logs"}  # the table of the records


@st.composite
def requests(draw, signal: str):
    """(a valid export request of ``signal``, {table: [expected rows]} in decoding order)."""
    top, scope_key, records_key, _ = LAYOUT[signal]
    expected = {table: [] for table in TABLES[signal]}
    resource_entries = []
    for _ in range(draw(st.integers(1, 2))):
        attributes_doc, resource_attributes = draw(RESOURCE_ATTRIBUTES)
        service = resource_attributes.get("service.name")
        entry = {}
        if attributes_doc or draw(st.booleans()):
            entry["resource"] = {"attributes": attributes_doc}
        if draw(st.booleans()):
            entry["schemaUrl"] = "https://opentelemetry.io/schemas/1.26.0"
        scope_entries = []
        for _ in range(draw(st.integers(0, 2))):
            scope_entry, scope = {}, {}
            scope_name, scope_version = draw(OPTIONAL_TEXT), draw(OPTIONAL_TEXT)
            _put_optional(scope, "name", scope_name)
            _put_optional(scope, "version", scope_version)
            scope_attributes_doc, scope_attributes = draw(ATTRIBUTES)
            _put_attributes(draw, scope, "attributes", scope_attributes_doc)
            if scope or draw(st.booleans()):
                scope_entry["scope"] = scope
            context = {
                "service_name": service if type(service) is str else None,
                "scope_name": scope_name or None,
                "scope_version": scope_version or None,
                "scope_attributes": scope_attributes,
                "resource_attributes": resource_attributes,
            }
            records = draw(RECORD_LISTS[signal])
            if records or draw(st.booleans()):
                scope_entry[records_key] = [form for form, _ in records]
            for _, rows in records:
                for table, table_rows_ in rows.items():
                    expected[table].extend({**row, **context} if table == CONTEXT_TABLE[signal] else row
                                           for row in table_rows_)
            scope_entries.append(scope_entry)
        if scope_entries or draw(st.booleans()):
            entry[scope_key] = scope_entries
        resource_entries.append(entry)
    return {top: resource_entries}, expected


REQUESTS = {signal: requests(signal) for signal in SIGNALS}


# ---------------------------------------------------------------------------------------------------
# 1. Generated valid requests decode exactly


def _check_ids(signal: str, columns: Columns) -> None:
    """Keys the decoder derives (MD5 of identity fields): 16 bytes; each point refers to its metric."""
    if signal == "logs":
        assert all(type(key) is bytes and len(key) == 16 for key in columns.tables["logs"]["log_id"])
    if signal == "metrics":
        metric_ids = columns.tables["metrics"]["metric_id"]
        assert all(type(key) is bytes and len(key) == 16 for key in metric_ids)
        points = columns.tables["metric_data_points"]
        assert all(type(key) is bytes and len(key) == 16 for key in points["point_id"])
        assert set(points["metric_id"]) <= set(metric_ids)


@pytest.mark.parametrize("signal", SIGNALS)
@_settings(60)
@given(data=st.data())
def test_generated_valid_requests_decode_exactly(signal, data):
    doc, expected = data.draw(REQUESTS[signal], label="request")
    raw = encode(doc, ensure_ascii=data.draw(st.booleans(), label="ensure_ascii"))
    columns = new_columns()
    records = record_count(signal, expected)
    if records == 0:  # a non-empty file holding no record is not OTLP data: DecodeError, columns untouched
        with pytest.raises(DecodeError, match="no OTLP records"):
            otlp_json.decode(signal, raw, columns)
        assert_untouched(columns)
        return
    added = otlp_json.decode(signal, raw, columns)
    assert columns.rejects == []
    assert added == records == columns.rows
    for table, rows in expected.items():
        check_rows(columns, table, rows)
    _check_ids(signal, columns)


@pytest.mark.parametrize("signal", SIGNALS)
@_settings(40)
@given(data=st.data())
def test_proto_field_names_decode_like_lower_camel_case(signal, data):
    doc, expected = data.draw(REQUESTS[signal], label="request")
    if record_count(signal, expected) == 0:
        for form in (doc, snake_case(doc)):
            with pytest.raises(DecodeError):
                otlp_json.decode(signal, encode(form), new_columns())
        return
    camel, snake = new_columns(), new_columns()
    added = otlp_json.decode(signal, encode(doc), camel)
    assert otlp_json.decode(signal, encode(snake_case(doc)), snake) == added
    assert camel.rejects == snake.rejects == []
    assert same(snake.tables, camel.tables)


@pytest.mark.parametrize("signal", SIGNALS)
@_settings(40)
@given(data=st.data())
def test_generated_valid_requests_build_frames(signal, data):
    doc, expected = data.draw(REQUESTS[signal], label="request")
    if record_count(signal, expected) == 0:
        return
    columns = new_columns()
    otlp_json.decode(signal, encode(doc), columns)
    assert columns.rejects == []
    built = frames(columns)
    for table in TABLES[signal]:  # at most one row per decoded row (repeated keys keep the first)
        assert built[table].height <= len(columns.tables[table][TABLE_COLUMNS[table][0]])
    if signal == "traces":
        spans_frame = built["trace_spans"]
        firsts = {}
        for row in expected["trace_spans"]:
            firsts.setdefault((row["trace_id"], row["span_id"]), row)  # the frame keeps the first row per key
        assert spans_frame.height == len(firsts)
        assert spans_frame["duration_ns"].to_list() == [
            r["end_time_unix_nano"] - r["start_time_unix_nano"] for r in firsts.values()
        ]


# Values that the GenAI mapping reads as numbers or names: int64 edges, doubles beyond int64, numeric strings.
GENAI_VALUES = st.one_of(
    st.sampled_from([INT64_MIN, -1, 0, 1000, 2**62, INT64_MAX]).map(lambda i: {"intValue": str(i)}),
    st.sampled_from([0.5, 1e6, 9.3e18, 1e19, -1e19, 1e300]).map(lambda f: {"doubleValue": f}),
    st.sampled_from(["NaN", "Infinity"]).map(lambda t: {"doubleValue": t}),
    st.sampled_from(["12", "-5", "99999999999999999999", "9223372036854775808", "1e999", "openai", "anthropic",
                     "gpt-4o-mini", "claude-3-5-sonnet-20241022", "chat", "LLM", "application/json", '{"a": 1}',
                     '{"model": "gpt-4o"}']).map(lambda t: {"stringValue": t}),
    ANY_VALUES.map(lambda pair: pair[0]),
)


@st.composite
def genai_spans(draw):
    """A valid span whose attributes are GenAI keys holding values of any kind (see GENAI_VALUES)."""
    attributes = draw(st.lists(st.tuples(st.sampled_from(GENAI_KEYS), GENAI_VALUES), min_size=1, max_size=6,
                               unique_by=lambda kv: kv[0]))
    start = draw(st.integers(1, INT64_MAX))
    return {"traceId": draw(TRACE_IDS)[0], "spanId": draw(SPAN_IDS)[0], "name": "chat",
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(draw(st.integers(start, INT64_MAX))),
            "attributes": [{"key": k, "value": v} for k, v in attributes]}


@_settings(150)
@given(spans_=st.lists(genai_spans(), min_size=1, max_size=3))
def test_valid_spans_with_genai_attributes_of_any_value_decode_and_build_frames(spans_):
    # The canonical LLM columns are derived from attribute values of any kind: a valid span is never rejected
    # for them, and they always fit their columns (tokens: bigint).
    columns = new_columns()
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": spans_}]}]}
    assert otlp_json.decode("traces", encode(doc), columns) == len(spans_)
    assert columns.rejects == []
    problem = misfit(columns)
    assert problem is None, problem
    frames(columns)


# ---------------------------------------------------------------------------------------------------
# 2. Mutated requests: decoded or rejected with a reason, never another exception

# Replacement values: every JSON type, and the edges of the integer columns (2**64 + 5 parses as a double).
EDGE_VALUES = (
    # the edges of Int16, Int32 and Int64 columns (2**64 + 5 parses as a double, 2**64 - 1 as an integer)
    2**64 + 5, 2**64 - 1, 2**63, 2**63 - 1, 2**32, 2**31, 40000, 32768, -32769, -1, -(2**63) - 1, -(2**63), 0,
    # numbers, enum names and times in strings
    "NaN", "Infinity", "-Infinity", "", "x", "-1", "1e3", "1e400", "18446744073709551621", "9223372036854775808",
    "99999", "SPAN_KIND_BOGUS", "SPAN_KIND_CLIENT", "00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "2026-11-01T00:00:00",  # no offset
    # other types
    True, False, 1.5, -2.5, 1e300, -0.0, None, [], [1], [{}], [None], ["x"], {}, {"stringValue": 1}, {"values": 5},
    {"values": [1]}, {"key": 1}, {"key": "k", "value": []}, {"intValue": "x"}, {"arrayValue": 1},
)
RANDOM_VALUES = st.one_of(  # a JSON value of any type
    TEXT,
    st.integers(-(2**70), 2**70),
    FLOATS,
    st.lists(st.integers(-3, 3) | TEXT, max_size=2),
    st.dictionaries(st.sampled_from(["a", "key", "value", "values", "stringValue", "intValue", "name"]),
                    st.none() | st.integers() | TEXT, max_size=2),
)
MUTATIONS = ("field",) * 4 + ("replace", "replace", "delete", "duplicate", "nul", "deep", "truncate")

# The fields of each kind of OTLP/JSON object (opentelemetry-proto), by the name of the field or list holding
# it: "field" mutations set one of them, present or not, on such an object.
_RESOURCE_ENTRY = ("resource", "schemaUrl", "scopeSpans", "scopeMetrics", "scopeLogs")
_SCOPE_ENTRY = ("scope", "schemaUrl", "spans", "metrics", "logRecords")
_METRIC_DATA = ("dataPoints", "aggregationTemporality", "isMonotonic")
OTLP_FIELDS = {
    "": ("resourceSpans", "resourceMetrics", "resourceLogs"),
    "resourceSpans": _RESOURCE_ENTRY, "resourceMetrics": _RESOURCE_ENTRY, "resourceLogs": _RESOURCE_ENTRY,
    "resource": ("attributes", "droppedAttributesCount"),
    "scopeSpans": _SCOPE_ENTRY, "scopeMetrics": _SCOPE_ENTRY, "scopeLogs": _SCOPE_ENTRY,
    "scope": ("name", "version", "attributes"),
    "spans": ("traceId", "spanId", "parentSpanId", "traceState", "name", "kind", "startTimeUnixNano",
              "endTimeUnixNano", "attributes", "events", "links", "status", "flags"),
    "events": ("timeUnixNano", "name", "attributes"),
    "links": ("traceId", "spanId", "traceState", "attributes", "flags"),
    "status": ("code", "message"),
    "logRecords": ("timeUnixNano", "observedTimeUnixNano", "traceId", "spanId", "flags", "severityNumber",
                   "severityText", "body", "attributes", "eventName"),
    "metrics": ("name", "unit", "description", "gauge", "sum", "histogram", "exponentialHistogram", "summary"),
    "gauge": _METRIC_DATA, "sum": _METRIC_DATA, "histogram": _METRIC_DATA, "exponentialHistogram": _METRIC_DATA,
    "summary": _METRIC_DATA,
    "dataPoints": ("startTimeUnixNano", "timeUnixNano", "attributes", "flags", "exemplars", "asDouble", "asInt",
                   "count", "sum", "min", "max", "bucketCounts", "explicitBounds", "scale", "zeroCount",
                   "zeroThreshold", "positive", "negative", "quantileValues"),
    "positive": ("offset", "bucketCounts"), "negative": ("offset", "bucketCounts"),
    "quantileValues": ("quantile", "value"),
    "exemplars": ("timeUnixNano", "asDouble", "asInt", "traceId", "spanId", "filteredAttributes"),
}


def _nodes(doc, path=()):
    """(path, value) of every value in ``doc``, the root first."""
    yield path, doc
    if type(doc) is dict:
        for key, value in doc.items():
            yield from _nodes(value, (*path, key))
    elif type(doc) is list:
        for index, value in enumerate(doc):
            yield from _nodes(value, (*path, index))


def _get(doc, path):
    for step in path:
        doc = doc[step]
    return doc


def _put(doc, path, value):
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def deep_any_value(levels: int) -> dict:
    """An AnyValue ``levels`` levels deep (arrays and kvlists alternating), a string at the bottom."""
    value = {"stringValue": "bottom"}
    for level in range(levels - 1):
        if level % 2:
            value = {"arrayValue": {"values": [value]}}
        else:
            value = {"kvlistValue": {"values": [{"key": "d", "value": value}]}}
    return value


_ANY_VALUE_FIELDS = ("attributes", "filteredAttributes", "body")


def _role(path) -> str:
    """The name of the field or list holding the value at ``path`` ("" for the root)."""
    return next((step for step in reversed(path) if type(step) is str), "")


def mutate(data, rnd, doc, kind: str, fields: dict[str, tuple[str, ...]]):
    """``(doc after one mutation of kind, what was done)``; ``doc`` itself is left as it was.

    Places are chosen uniformly with ``rnd`` (a seeded ``random.Random`` drawn from hypothesis: its own
    choices favour the first element), new values half of the time among :data:`EDGE_VALUES`.

    ``field``: one of ``fields[role]`` of an object, present or not, set to a value of any type; the kind of
    object (``role``) first, so that rare ones (a metric, a status) are chosen as often as the others. Most
    values of a request are inside AnyValues: for the other mutations, half of the time the place is chosen
    among the others only (the request's structure and the records' own fields).
    """
    doc = copy.deepcopy(doc)
    nodes = list(_nodes(doc))

    def new_value():
        return rnd.choice(EDGE_VALUES) if rnd.random() < 0.5 else data.draw(RANDOM_VALUES)

    if kind == "field":
        places = [p for p, node in nodes if type(node) is dict and _role(p) in fields]
        if not places:
            return doc, "field: no object"
        role = rnd.choice(sorted({_role(p) for p in places}))
        path = rnd.choice([p for p in places if _role(p) == role])
        key = rnd.choice(fields[role])
        value = _get(doc, path)[key] = new_value()
        return doc, f"field: {path} [{key!r}] = {value!r}"
    if kind != "deep" and rnd.random() < 0.5:
        nodes = [(p, node) for p, node in nodes if not any(step in _ANY_VALUE_FIELDS for step in p)]
    if kind == "replace":
        path = rnd.choice([p for p, _ in nodes])
        value = new_value()
        return _put(doc, path, value), f"replace: {path} = {value!r}"
    if kind == "delete":
        places = [(p, key) for p, node in nodes if type(node) is dict for key in node]
        if not places:
            return doc, "delete: no key"
        path, key = rnd.choice(places)
        del _get(doc, path)[key]
        return doc, f"delete: {path} [{key!r}]"
    if kind == "duplicate":
        places = [p for p, node in nodes if type(node) is list and node]
        if not places:
            return doc, "duplicate: no list"
        path = rnd.choice(places)
        items = _get(doc, path)
        index = rnd.randrange(len(items))
        items.insert(index + 1, copy.deepcopy(items[index]))
        return doc, f"duplicate: {path} [{index}]"
    if kind == "nul":
        places = [p for p, node in nodes if type(node) is str]
        if not places:
            return doc, "nul: no string"
        path = rnd.choice(places)
        text = _get(doc, path)
        at = rnd.randint(0, len(text))
        return _put(doc, path, text[:at] + "\x00" + text[at:]), f"nul: {path} at {at}"
    if kind == "deep":  # a KeyValue 70 levels deep added to an attributes list, or a log body replaced by one
        places = [p for p, node in nodes if p and p[-1] in _ANY_VALUE_FIELDS]
        if not places:
            return doc, "deep: no AnyValue"
        path = rnd.choice(places)
        target = _get(doc, path)
        if path[-1] == "body" or type(target) is not list:
            return _put(doc, path, deep_any_value(70)), f"deep: {path} = AnyValue 70 levels deep"
        target.append({"key": "deep", "value": deep_any_value(70)})
        return doc, f"deep: {path} + KeyValue 70 levels deep"
    raise AssertionError(kind)


def _parsed(data: bytes) -> tuple[list[tuple[str, object]], list[str]]:
    """The requests in ``data`` as the decoder reads them (one document, else JSON Lines), camelized, and the
    paths of the lines that are not JSON."""
    if not data.strip():
        return [], []
    try:
        return [("request 1", camelize(orjson.loads(data)))], []
    except orjson.JSONDecodeError:
        pass
    found, bad = [], []
    for number, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            try:
                found.append((f"line {number}", camelize(orjson.loads(line))))
            except orjson.JSONDecodeError:
                bad.append(f"line {number}")
    return found, bad


def record_slots(signal: str, where: str, request, rejected: set[str]):
    """The paths the decoder must account for in one request: (container paths — the request, its
    resources and scopes, which may be rejected whole —, record paths, data point paths). Records under a
    rejected container are covered by that reject; the rest must be decoded or rejected one by one."""
    top, scope_key, records_key, noun = LAYOUT[signal]
    containers, records, points = [where], [], []
    resources = request.get(top) if type(request) is dict else None
    if where in rejected or type(resources) is not list:
        return containers, records, points
    for r, entry in enumerate(resources):
        resource_path = f"{where} / resource {r}"
        containers.append(resource_path)
        if resource_path in rejected:
            continue
        # Not rejected: the decoder read it, so it is an object and its scopes are objects.
        for s, scope_entry in enumerate(entry.get(scope_key) or ()):
            scope_path = f"{resource_path} / scope {s}"
            containers.append(scope_path)
            if scope_path in rejected:
                continue
            items = scope_entry.get(records_key) or ()
            for i, record in enumerate(list(items) if isinstance(items, (list, str, dict)) else ()):
                path = f"{scope_path} / {noun} {i}"
                records.append(path)
                if signal == "metrics" and path not in rejected:
                    kind = next(k for k in METRIC_KINDS if k in record)
                    count = len(list((record[kind] or {}).get("dataPoints") or ()))
                    points.extend(f"{path} / data point {j}" for j in range(count))
    return containers, records, points


PATH = re.compile(r"^(request 1|line [1-9]\d*)( / resource \d+( / scope \d+( / (span|log record|metric) \d+"
                  r"( / data point \d+)?)?)?)?$")


def check_decoded(signal: str, data: bytes, columns: Columns, added: int) -> None:
    """After a normal return: consistent columns, rejects with a path and a reason, every record accounted for."""
    for table, cols in columns.tables.items():
        lengths = {len(values) for values in cols.values()}
        assert len(lengths) == 1, f"{table}: columns of different lengths {lengths}"
        if table not in TABLES[signal]:
            assert lengths == {0}, f"{signal} filled {table}"
    table_sizes = {table: len(columns.tables[table][TABLE_COLUMNS[table][0]]) for table in TABLES[signal]}
    assert added == columns.rows == sum(table_sizes[t] for t in COUNTED[signal])
    for reject in columns.rejects:
        assert type(reject.reason) is str and reject.reason.strip(), reject
        assert PATH.match(reject.record_path), reject
        assert reject.record is None or type(reject.record) is str, reject
    paths = Counter(reject.record_path for reject in columns.rejects)
    assert max(paths.values(), default=1) == 1, f"a path rejected twice: {paths}"
    rejected = set(paths)

    requests_, bad_lines = _parsed(data)
    containers, records, points = set(bad_lines), [], []
    for where, request in requests_:
        c, r, p = record_slots(signal, where, request, rejected)
        containers.update(c)
        records += r
        points += p
    unknown = rejected - containers - set(records) - set(points)
    assert not unknown, f"rejects at paths that hold no record: {sorted(unknown)}"
    assert rejected >= set(bad_lines), "a line that is not JSON was not rejected"
    decoded_records = sum(path not in rejected for path in records)
    record_table = {"traces": "trace_spans", "metrics": "metrics", "logs": "logs"}[signal]
    assert table_sizes[record_table] == decoded_records, "a record neither decoded nor rejected"
    if signal == "metrics":
        assert table_sizes["metric_data_points"] == sum(path not in rejected for path in points), (
            "a data point neither decoded nor rejected")


@pytest.mark.parametrize("signal", SIGNALS)
@_settings(150, shrink=False)
@given(data=st.data())
def test_mutated_requests_are_decoded_or_rejected_never_raise(signal, data):
    docs = data.draw(st.lists(REQUESTS[signal].map(lambda pair: pair[0]), min_size=1, max_size=2), label="requests")
    rnd = data.draw(st.randoms(use_true_random=False), label="random")
    kinds = data.draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=4), label="mutations")
    for kind in kinds:
        if kind != "truncate":
            index = rnd.randrange(len(docs))
            docs[index], done = mutate(data, rnd, docs[index], kind, OTLP_FIELDS)
            note(f"request {index}: {done}")
    if rnd.random() < 0.3:
        docs = [snake_case(doc) for doc in docs]
        note("proto field names")
    raw = b"\n".join(encode(doc, ensure_ascii=rnd.random() < 0.5) for doc in docs)  # several requests: JSON Lines
    if "truncate" in kinds:
        raw = raw[: rnd.randint(0, len(raw))]
    note(f"file: {raw[:3000]!r}")
    columns = new_columns()
    try:
        added = otlp_json.decode(signal, raw, columns)
    except DecodeError as exc:  # the file as a whole is not OTLP/JSON of the signal; nothing kept
        note(f"DecodeError: {exc}")
        assert str(exc)
        assert_untouched(columns)
        return
    note(f"rejects: {columns.rejects}")
    check_decoded(signal, raw, columns, added)
    if kinds == ["deep"] and b"bottom" in raw:  # the only mutation: a record nested 70 levels is rejected for it
        assert any("nested deeper than 64" in reject.reason for reject in columns.rejects), columns.rejects
    problem = misfit(columns)
    assert problem is None, problem
    frames(columns)  # decoded columns always build frames (no out-of-range or wrongly typed value)


@pytest.mark.parametrize("signal", SIGNALS)
@_settings(150, shrink=False)
@given(data=st.data())
def test_the_typed_fast_path_decodes_exactly_as_the_general_decoder(signal, data):
    """otlp_json.typed (msgspec Structs) on valid and mutated canonical-form files: the same columns, LLM
    columns, record counts, rejects and errors as the general decoder (``typed=False``)."""
    docs = data.draw(st.lists(REQUESTS[signal].map(lambda pair: pair[0]), min_size=1, max_size=2), label="requests")
    rnd = data.draw(st.randoms(use_true_random=False), label="random")
    kinds = data.draw(st.lists(st.sampled_from(MUTATIONS), max_size=2), label="mutations")
    for kind in kinds:
        if kind != "truncate":
            index = rnd.randrange(len(docs))
            docs[index], done = mutate(data, rnd, docs[index], kind, OTLP_FIELDS)
            note(f"request {index}: {done}")
    raw = b"\n".join(encode(doc, ensure_ascii=rnd.random() < 0.5) for doc in docs)
    note(f"file: {raw[:3000]!r}")
    outcomes = []
    for typed in (True, False):
        columns = new_columns()
        try:
            added = otlp_json.decode(signal, raw, columns, typed=typed)
        except DecodeError as exc:
            outcomes.append(("DecodeError", str(exc)))
            continue
        tables = {table: decoded_rows(columns, table) for table in TABLES[signal]}
        outcomes.append((added, columns.rows, columns.rejects, tables))
    assert same(outcomes[0], outcomes[1])
    if not kinds and signal != "metrics" and type(outcomes[0][0]) is int:  # valid: the fast path took it
        # (not asserted for metrics: the generator also puts exemplars on summary points, which the proto has not)
        assert otlp_typed.decode(signal, raw, new_columns()) == outcomes[0][0]


# ---------------------------------------------------------------------------------------------------
# 2b. Every field of every kind of object set to every edge value, one at a time

SWEEP_VALUES = (
    2**64 + 5, 2**64 - 1, 2**63, 2**63 - 1, 2**31, 40000, -1, -(2**63) - 1, 0,
    "", "x", "NaN", "1e400", "99999999999999999999", "SPAN_KIND_CLIENT", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z", "2026-11-01T00:00:00",
    True, 1.5, 1e300, None, [], [1], ["x"], [{}], {}, {"a": 1},
)


def _complete(doc):
    """``doc`` with one of every kind of optional object where it is missing (a status, an event, a link, an
    exemplar, exponential histogram buckets, a quantile, a data point), all valid and empty."""
    data_dicts = [(p, node) for p, node in _nodes(doc) if type(node) is dict and _role(p) in METRIC_KINDS]
    for _, data in data_dicts:
        if not data.get("dataPoints"):
            data["dataPoints"] = [{}]
    for path, node in list(_nodes(doc)):
        if type(node) is not dict:
            continue
        role = _role(path)
        if role == "spans":
            node.setdefault("status", {})
            for key in ("events", "links"):
                if not node.get(key):
                    node[key] = [{}]
        elif role in ("resourceSpans", "resourceMetrics", "resourceLogs"):
            node.setdefault("resource", {})
        elif role in ("scopeSpans", "scopeMetrics", "scopeLogs"):
            node.setdefault("scope", {})
        elif role == "dataPoints":
            if not node.get("exemplars"):
                node["exemplars"] = [{}]
            if "exponentialHistogram" in path:
                node.setdefault("positive", {})
                node.setdefault("negative", {})
            if "summary" in path and not node.get("quantileValues"):
                node["quantileValues"] = [{}]
    return doc


@st.composite
def sweep_bases(draw, signal: str):
    """A valid request of ``signal``: one resource and scope, a record (a metric of each kind), and one of
    every kind of object in them."""
    top, scope_key, records_key, _ = LAYOUT[signal]
    if signal == "metrics":
        records = [draw(metrics(kind))[0] for kind in METRIC_KINDS]
    else:
        records = [draw(spans() if signal == "traces" else log_records())[0]]
    scope = {"name": draw(TEXT), "version": draw(TEXT), "attributes": draw(ATTRIBUTES)[0]}
    resource = {"attributes": draw(RESOURCE_ATTRIBUTES)[0]}
    return _complete({top: [{"resource": resource, scope_key: [{"scope": scope, records_key: records}]}]})


def _sweep_places(doc, fields):
    """The first object of each kind in ``doc`` (per kind of metric: their data, points, buckets, …)."""
    first = {}
    for path, node in _nodes(doc):
        role = _role(path)
        if type(node) is dict and role in fields:
            metric_kind = next((step for step in path if step in METRIC_KINDS), None)
            first.setdefault((role, metric_kind), path)
    return list(first.values())


def sweep(doc, fields, decode_one) -> list[str]:
    """Set each field of the first object of each kind in ``doc`` to each of SWEEP_VALUES in turn (restoring it
    after) and decode; returns the problems ``decode_one(bytes)`` reports, one line per object field: the
    values that fail and the first one's problem."""
    problems = []
    for path in _sweep_places(doc, fields):
        target = _get(doc, path)
        for key in fields[_role(path)]:
            missing = key not in target
            saved = target.get(key)
            failing = []
            for value in SWEEP_VALUES:
                target[key] = value
                problem = decode_one(encode(doc))
                if problem:
                    failing.append((value, problem))
            if missing:
                del target[key]
            else:
                target[key] = saved
            if failing:
                values = ", ".join(repr(value) for value, _ in failing)
                problems.append(f"{path} [{key!r}] = {values}\n    first: {failing[0][1]:.300}")
    return problems


def _report(problems: list[str]) -> str:
    return f"{len(problems)} fields whose values are neither decoded nor rejected cleanly:\n" + "\n".join(problems)


@pytest.mark.parametrize("signal", SIGNALS)
@_settings(3, shrink=False)
@given(data=st.data())
def test_every_field_set_to_every_edge_value_is_decoded_or_rejected(signal, data):
    doc = data.draw(sweep_bases(signal), label="request")
    columns = new_columns()

    def decode_one(raw: bytes) -> str | None:
        mark, rejected = columns.mark(), len(columns.rejects)
        try:
            otlp_json.decode(signal, raw, columns)
        except DecodeError:
            return None
        except Exception as exc:  # noqa: BLE001 — what the property is about
            columns.truncate(mark)
            del columns.rejects[rejected:]
            return f"raised {type(exc).__name__}: {exc}"
        for reject in columns.rejects[rejected:]:
            if not (type(reject.reason) is str and reject.reason.strip() and PATH.match(reject.record_path)):
                return f"bad reject {reject}"
        problem = misfit(columns, mark)
        if problem:
            columns.truncate(mark)
        return problem

    problems = sweep(doc, OTLP_FIELDS, decode_one)
    assert not problems, _report(problems)
    frames(columns)


# ---------------------------------------------------------------------------------------------------
# 3. LLM-span JSON Lines

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])


def _ns(moment: datetime) -> int:
    elapsed = moment - _EPOCH
    return (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000_000 + elapsed.microseconds * 1_000


@st.composite
def rfc3339_times(draw):
    """(RFC 3339 text with an offset, ``Z`` or ``z`` for UTC, ``T`` or ``t``; its ns since the epoch)."""
    moment = draw(st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=_ZONES))
    text = moment.isoformat()
    if text.endswith("+00:00") and draw(st.booleans()):
        text = text[:-6] + draw(st.sampled_from(["Z", "z"]))
    if draw(st.booleans()):
        text = text.replace("T", "t")
    return text, _ns(moment)


LLM_TIMES = st.one_of(st.integers(0, 2**62).map(lambda n: (n, n)), rfc3339_times())
JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | FLOATS | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)
SPAN_TYPES = ["GENERATION", "EMBEDDING", "AGENT", "TOOL", "RETRIEVER", "RERANKER", "CHAIN", "GUARDRAIL", "EVALUATOR",
              "SPAN"]
TOKENS = st.integers(0, 2**31)
COSTS = st.one_of(st.floats(0, 1e6), st.integers(0, 10**6))
OPTIONAL_SPAN_TYPES = st.none() | st.sampled_from(SPAN_TYPES)
STATUSES = st.sampled_from([None, "ok", "error", "unset"])
PROVIDERS = st.none() | st.sampled_from(["OpenAI", "anthropic", ""]) | TEXT
USAGES = st.dictionaries(st.sampled_from(["prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens",
                                          "cache_creation_tokens", "reasoning_tokens"]), st.none() | TOKENS)
COST_OBJECTS = st.dictionaries(st.sampled_from(["prompt", "completion", "total"]), st.none() | COSTS)
LATENCIES = st.dictionaries(st.sampled_from(["total_ms", "ttft_ms"]), st.none() | COSTS)
METADATA = st.fixed_dictionaries({}, optional={
    "user_id": OPTIONAL_TEXT, "session_id": OPTIONAL_TEXT, "environment": OPTIONAL_TEXT,
    "service_name": OPTIONAL_TEXT, "tags": st.none() | st.lists(TEXT, max_size=2),
})
OPTIONAL_OBJECTS = st.none() | st.dictionaries(TEXT, JSON_DATA, max_size=3)
OPTIONAL_TEXT_LISTS = st.none() | st.lists(TEXT, max_size=2)
OPTIONAL_LLM_TIMES = st.just((None, 0)) | LLM_TIMES
EVENT_NAMES = TEXT.filter(bool)


@st.composite
def llm_lines(draw):
    """(one valid LLM-span line as llm_span.schema.json defines it, its expected span row, its event rows)."""
    trace_hex, trace_id = draw(TRACE_IDS)
    span_hex, span_raw = draw(SPAN_IDS)
    span_id = signed(span_raw)
    start_form, start = draw(LLM_TIMES)
    end_form, end = draw(LLM_TIMES)
    name = draw(TEXT)
    line = {"trace_id": trace_hex, "span_id": span_hex, "name": name, "start_time": start_form, "end_time": end_form}
    parent_form, parent = draw(OPTIONAL_SPAN_IDS)
    _put_optional(line, "parent_span_id", parent_form)
    span_type = draw(OPTIONAL_SPAN_TYPES)
    status = draw(STATUSES)
    status_message = draw(OPTIONAL_TEXT)
    provider, model = draw(PROVIDERS), draw(OPTIONAL_TEXT)
    for key, value in (("span_type", span_type), ("status", status), ("status_message", status_message),
                       ("provider", provider), ("model", model)):
        if value is not None or draw(st.booleans()):
            line[key] = value
    usage, cost, latency, metadata = draw(USAGES), draw(COST_OBJECTS), draw(LATENCIES), draw(METADATA)
    attributes = draw(OPTIONAL_OBJECTS)
    for key, value in (("usage", usage), ("cost", cost), ("latency", latency), ("metadata", metadata),
                       ("attributes", attributes)):
        if value or draw(st.booleans()):
            line[key] = value
    finish = draw(OPTIONAL_TEXT_LISTS)
    _put_optional(line, "finish_reasons", finish)
    for key in ("input", "output"):
        if draw(st.booleans()):
            line[key] = draw(JSON_DATA)
    events, event_rows = [], []
    for index in range(draw(st.integers(0, 2))):
        event = {"name": draw(EVENT_NAMES)}
        time_form, time = draw(OPTIONAL_LLM_TIMES)
        _put_optional(event, "time", time_form)
        event_attributes = draw(OPTIONAL_OBJECTS)
        _put_optional(event, "attributes", event_attributes)
        events.append(event)
        event_rows.append({"trace_id": trace_id, "span_id": span_id, "event_index": index, "time_unix_nano": time,
                           "name": event["name"], "attributes": event_attributes or {}})
    if events or draw(st.booleans()):
        line["events"] = events

    tags = metadata.get("tags")
    service = metadata.get("service_name") or None
    prompt_tokens, completion_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
    total_tokens = usage.get("total_tokens")
    if total_tokens is None and (prompt_tokens is not None or completion_tokens is not None):
        total_tokens = (prompt_tokens or 0) + (completion_tokens or 0)
    row = {
        "trace_id": trace_id, "span_id": span_id, "parent_span_id": parent, "trace_state": None, "name": name,
        "kind": 0, "service_name": service, "scope_name": "llm_spans", "scope_version": None,
        "start_time_unix_nano": start, "end_time_unix_nano": end,
        "status_code": {None: 0, "unset": 0, "ok": 1, "error": 2}[status], "status_message": status_message or None,
        "attributes": {**(attributes or {}), "tags": tags} if tags else (attributes or {}),
        "resource_attributes": {"service.name": service} if service else {}, "scope_attributes": {},
        "span_type": span_type or "GENERATION", "operation": None, "provider": provider.lower() if provider else None,
        "response_model": model or None, "input_tokens": prompt_tokens, "output_tokens": completion_tokens,
        "total_tokens": total_tokens, "cache_read_input_tokens": usage.get("cache_read_tokens"),
        "cache_creation_input_tokens": usage.get("cache_creation_tokens"),
        "reasoning_tokens": usage.get("reasoning_tokens"),
        "latency_ms": float(latency["total_ms"]) if latency.get("total_ms") is not None else (end - start) / 1e6,
        "ttft_ms": None if latency.get("ttft_ms") is None else float(latency["ttft_ms"]),
        "finish_reasons": finish or None,
        "session_id": metadata.get("session_id") or None, "user_id": metadata.get("user_id") or None,
        "environment": metadata.get("environment") or None,
    }
    if any(cost.get(key) is not None for key in ("prompt", "completion", "total")):  # provided costs win
        prompt_cost, completion_cost = (None if cost.get(k) is None else float(cost[k])
                                        for k in ("prompt", "completion"))
        total_cost = (float(cost["total"]) if cost.get("total") is not None
                      else (prompt_cost or 0.0) + (completion_cost or 0.0))
        row.update(input_cost_usd=prompt_cost, output_cost_usd=completion_cost, total_cost_usd=total_cost,
                   cost_source="provided")
    return line, row, event_rows


def jsonl(lines, ensure_ascii: bool = True) -> bytes:
    return b"".join(encode(line, ensure_ascii) + b"\n" for line in lines)


@_settings(100)
@given(lines=st.lists(llm_lines(), min_size=1, max_size=4), ensure_ascii=st.booleans())
def test_valid_llm_span_lines_decode_exactly(lines, ensure_ascii):
    columns = new_columns()
    added = llm_spans.decode(jsonl([line for line, _, _ in lines], ensure_ascii), columns)
    assert columns.rejects == []
    event_rows = [event for _, _, events in lines for event in events]
    assert added == len(lines) + len(event_rows) == columns.rows
    check_rows(columns, "trace_spans", [row for _, row, _ in lines])
    for got, (line, _, _) in zip(decoded_rows(columns, "trace_spans"), lines):
        for key in ("input", "output"):
            expected = line.get(key)
            assert same(None if got[key] is None else orjson.loads(got[key]), expected), (key, got[key], expected)
    check_rows(columns, "trace_events", event_rows)
    frames(columns)


def check_decoded_llm(raw: bytes, columns: Columns, added: int, touched: set[int]) -> None:
    for table, cols in columns.tables.items():
        lengths = {len(values) for values in cols.values()}
        assert len(lengths) == 1, f"{table}: columns of different lengths {lengths}"
    spans_, events = len(columns.tables["trace_spans"]["span_id"]), len(columns.tables["trace_events"]["span_id"])
    assert added == columns.rows == spans_ + events
    assert all(not values for t in ("trace_links", "metrics", "metric_data_points", "logs")
               for values in columns.tables[t].values())
    numbers = [number for number, text in enumerate(raw.splitlines(), start=1) if text.strip()]
    rejected = []
    for reject in columns.rejects:
        assert type(reject.reason) is str and reject.reason.strip(), reject
        match = re.fullmatch(r"line ([1-9]\d*)", reject.record_path)
        assert match, reject
        rejected.append(int(match[1]))
    assert len(set(rejected)) == len(rejected), f"a line rejected twice: {rejected}"
    assert set(rejected) <= set(numbers)
    assert spans_ + len(rejected) == len(numbers), "a line neither decoded nor rejected"
    untouched_rejects = sorted(n for n in rejected if n - 1 not in touched)
    assert not untouched_rejects, f"lines left valid were rejected: {untouched_rejects}"


LLM_MUTATIONS = ("field",) * 4 + ("replace", "replace", "delete", "duplicate", "nul", "duplicate line", "truncate")
LLM_FIELDS = {  # llm_span.schema.json
    "": ("trace_id", "span_id", "parent_span_id", "name", "span_type", "provider", "model", "request_model",
         "start_time", "end_time", "usage", "cost", "latency", "input", "output", "status", "status_message",
         "finish_reasons", "metadata", "attributes", "events"),
    "usage": ("prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_creation_tokens",
              "reasoning_tokens"),
    "cost": ("prompt", "completion", "total"),
    "latency": ("total_ms", "ttft_ms"),
    "metadata": ("user_id", "session_id", "environment", "service_name", "tags"),
    "events": ("name", "time", "attributes"),
}


@_settings(250, shrink=False)
@given(data=st.data())
def test_mutated_llm_span_lines_are_rejected_by_line_never_raise(data):
    lines = data.draw(st.lists(llm_lines().map(lambda t: t[0]), min_size=1, max_size=4), label="lines")
    rnd = data.draw(st.randoms(use_true_random=False), label="random")
    kinds = data.draw(st.lists(st.sampled_from(LLM_MUTATIONS), min_size=1, max_size=4), label="mutations")
    touched = set()
    for kind in kinds:
        if kind == "truncate":
            continue
        index = rnd.randrange(len(lines))
        if kind == "duplicate line":
            lines.append(copy.deepcopy(lines[index]))
            note(f"line {index + 1} repeated as line {len(lines)}")
            if index in touched:
                touched.add(len(lines) - 1)
        else:
            lines[index], done = mutate(data, rnd, lines[index], kind, LLM_FIELDS)
            note(f"line {index + 1}: {done}")
            touched.add(index)
    encoded = [encode(line, ensure_ascii=rnd.random() < 0.5) for line in lines]
    raw = b"".join(line + b"\n" for line in encoded)
    if "truncate" in kinds:
        cut = rnd.randint(0, len(raw))
        raw = raw[:cut]
        start = 0
        for index, line in enumerate(encoded):  # the line cut in the middle is touched
            if start < cut < start + len(line) + 1:
                touched.add(index)
            start += len(line) + 1
    note(f"file: {raw[:2000]!r}")
    columns = new_columns()
    added = llm_spans.decode(raw, columns)  # never raises: each bad line is one reject
    note(f"rejects: {columns.rejects}")
    check_decoded_llm(raw, columns, added, touched)
    problem = misfit(columns)
    assert problem is None, problem
    frames(columns)  # decoded columns always build frames (no out-of-range or wrongly typed value)


@_settings(4, shrink=False)
@given(line=llm_lines())
def test_every_llm_span_field_set_to_every_edge_value_is_decoded_or_rejected(line):
    line = line[0]
    for key in ("usage", "cost", "latency", "metadata"):  # one of every kind of object
        if not isinstance(line.get(key), dict):
            line[key] = {}
    if not line.get("events"):
        line["events"] = [{"name": "e"}]
    columns = new_columns()

    def decode_one(raw: bytes) -> str | None:
        mark, rejected = columns.mark(), len(columns.rejects)
        try:
            llm_spans.decode(raw, columns)
        except Exception as exc:  # noqa: BLE001 — what the property is about
            columns.truncate(mark)
            del columns.rejects[rejected:]
            return f"raised {type(exc).__name__}: {exc}"
        for reject in columns.rejects[rejected:]:
            if not (type(reject.reason) is str and reject.reason.strip() and reject.record_path == "line 1"):
                return f"bad reject {reject}"
        problem = misfit(columns, mark)
        if problem:
            columns.truncate(mark)
        return problem

    problems = sweep(line, LLM_FIELDS, decode_one)
    assert not problems, _report(problems)
    frames(columns)


def test_synthetic_files_take_the_fast_path_with_the_general_decoders_rows(tmp_path):
    """Canonical files as the synthesizer writes them (every signal, GenAI spans of every dialect): the typed
    fast path decodes each one, into exactly the rows (LLM columns included) of the general decoders."""
    synth.write_landing(str(tmp_path), HOUR, HOUR + timedelta(hours=1), traces_per_hour=30, files_per_hour=2,
                        compression="none")
    files = sorted(p for p in tmp_path.rglob("*.json") if not p.name.startswith("llm_spans"))
    assert {p.name.split("_")[0] for p in files} == set(SIGNALS)
    for path in files:
        signal, data = path.name.split("_")[0], path.read_bytes()
        fast, general = new_columns(), new_columns()
        assert otlp_typed.decode(signal, data, fast) == otlp_json.decode(signal, data, general, typed=False) > 0
        for table in TABLES[signal]:
            assert same(decoded_rows(fast, table), decoded_rows(general, table)), (path.name, table)
