"""The fast path of the OTLP/JSON decoder: the canonical form of traces, logs and metrics through typed
msgspec Structs (:mod:`.structs`).

The canonical form is what the Collector's exporters write (lowerCamelCase field names, opentelemetry-proto
``docs/specification.md`` "JSON Protobuf Encoding"). msgspec parses it straight into Structs holding only
the form's fields — no parse tree of dicts for a whole file, and JSON types checked in C — and the rows are
then built exactly as the general decoder (:mod:`.traces`, :mod:`.logs`, :mod:`.metrics`) builds them, with
the same value functions (:mod:`.values`).

Each span, log record, and number or histogram data point is first offered to the compiled per-record step
(:mod:`._records`, built from ``_records.c`` when the package is installed with a C compiler at hand): it
reads the common case straight into the same Python values and returns None for anything else, which is
then read here as below (the Structs and the value functions). Without the extension every record is read
here.

Anything else falls back to the general decoder for the whole file: :func:`decode` returns None when a file
does not parse into these Structs (proto field names or any field the form does not declare, a null where a
value belongs, a value of another JSON type, another signal, no records) or when one of its records is
malformed (the general decoder then rejects exactly that record with its path and reason). So the fast path
never decides what is rejected; it only makes valid files cheap. tests/ingest/test_decoder_properties.py
compares the two on generated valid and mutated files.
"""

from __future__ import annotations

import math
import re

import msgspec
import orjson
from msgspec import UNSET

from ...llm.mapping import resource_environment
from ..columns import RECORD_ERRORS, Columns, DecodeError, append_rows
from .structs import (
    AnyValue,
    Exemplar,
    HistogramDataPoint,
    KeyValue,
    LogRecord,
    LogsRequest,
    MetricsRequest,
    NumberDataPoint,
    Resource,
    ResourceLogs,
    ResourceMetrics,
    ResourceSpans,
    Scope,
    Span,
    TracesRequest,
)
from .values import (
    _NON_FINITE,
    AGGREGATION_TEMPORALITIES,
    INT64_MAX,
    INT64_MIN,
    MAX_ANY_VALUE_DEPTH,
    SEVERITY_NUMBERS,
    SPAN_KINDS,
    STATUS_CODES,
    enum_value,
    fixed64,
    int32,
    int64,
    log_id,
    opt_float,
    point_id,
    record_key,
    span_id_int,
    time_ns,
    to_float,
    to_int,
    trace_id_bytes,
)

try:  # the compiled per-record step (_records.c); optional
    from . import _records
except ImportError:  # pragma: no cover - built by setup.py wherever a C compiler is at hand
    _records = None


class _Fallback(Exception):
    """This file is not for the fast path: the general decoder decodes it."""


def decode(signal: str, data: bytes, columns: Columns) -> int | None:
    """Decode one file's canonical OTLP/JSON ``traces``, ``logs`` or ``metrics`` into ``columns``; returns records added, or
    None (``columns`` left as it was) when the general decoder must decode the file (see the module doc).

    Accepts one JSON document or JSON Lines. Raises nothing for any input."""
    build = _SIGNALS.get(signal)
    if build is None:
        return None
    decoder, top, decode_signal = build
    mark = columns.mark()
    try:
        added = 0
        for request in _requests(decoder, data):
            resources = getattr(request, top)
            if resources is UNSET:
                raise _Fallback  # a request without this signal's list: maybe another signal's (the general decoder says)
            added += decode_signal(resources, columns)
        if not added:
            raise _Fallback  # empty requests, another signal, or no records: the general decoder says which
    except (msgspec.DecodeError, _Fallback, *RECORD_ERRORS):
        columns.truncate(mark)
        return None
    columns.rows += added
    return added


def _requests(decoder: msgspec.json.Decoder, data: bytes):
    """The file's requests: one JSON document, or JSON Lines decoded one line at a time (only one line's
    Structs are alive at once, and lines are views of ``data``, not copies).

    Raises:
        msgspec.DecodeError: a line, or the file, is not a request of this form.
    """
    view = memoryview(data)
    end = data.find(b"\n")
    if end < 0 or _CONTENT.search(data, end) is None:
        yield decoder.decode(data)  # one line
        return
    try:
        first = decoder.decode(view[:end])
    except msgspec.DecodeError:
        yield decoder.decode(data)  # one document over several lines (or not this form at all)
        return
    yield first
    start = end + 1
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        if _CONTENT.search(data, start, end) is not None:  # blank lines are skipped
            yield decoder.decode(view[start:end])
        start = end + 1


_CONTENT = re.compile(rb"\S")
_ZERO16, _ZERO8 = bytes(16), bytes(8)


def _decode_traces(resource_spans: list[ResourceSpans], columns: Columns) -> int:
    """:func:`.traces.decode_traces` over Structs (row for row the same columns); raises on a malformed record."""
    tables = columns.tables
    span_lists = list(tables["trace_spans"].values())
    event_lists = list(tables["trace_events"].values())
    link_lists = list(tables["trace_links"].values())
    first_span_list = span_lists[0]
    decode_span = _SPAN.decode
    fast_span = _records.span if _records is not None else None
    llm_add = columns.llm.add
    dumps = orjson.dumps
    fromhex, from_bytes = bytes.fromhex, int.from_bytes
    added = 0
    # rows are gathered as tuples and moved into the column lists every _ROWS spans (append_rows)
    span_rows: list[tuple] = []
    event_rows: list[tuple] = []
    link_rows: list[tuple] = []
    for resource_entry in resource_spans:
        resource_json, service, resource = _resource(resource_entry.resource)
        environment = resource_environment(resource)
        for scope_entry in resource_entry.scopeSpans:
            scope_name, scope_version, scope_json = _scope(scope_entry.scope)
            for encoded in scope_entry.spans:
                parsed = fast_span(encoded) if fast_span is not None else None
                if parsed is not None:  # the common span, read by _records.c
                    (trace_id, span_id, parent_id, trace_state, name, kind, start_ns, end_ns, status_code,
                     status_message, attrs, span_events) = parsed
                    for event_index, (event_time, event_name, event_attrs) in enumerate(span_events):
                        event_rows.append((trace_id, span_id, event_index, event_time, event_name,
                                           dumps(event_attrs).decode() if event_attrs else "{}"))
                    links = 0
                else:
                    span = decode_span(encoded)
                    # ids and times inline for the usual values; anything else through the value functions,
                    # which give the same value or raise the reason (the file then goes to the general decoder)
                    hex_id = span.traceId
                    trace_id = fromhex(hex_id) if len(hex_id) == 32 else None
                    if trace_id is None or len(trace_id) != 16 or trace_id == _ZERO16:
                        trace_id = trace_id_bytes(hex_id)
                    hex_id = span.spanId
                    raw = fromhex(hex_id) if len(hex_id) == 16 else None
                    if raw is None or len(raw) != 8 or raw == _ZERO8:
                        span_id = span_id_int(hex_id)
                    else:
                        span_id = from_bytes(raw, "big", signed=True)
                    start_ns = int(span.startTimeUnixNano)
                    if not 0 <= start_ns <= INT64_MAX:
                        start_ns = time_ns(span.startTimeUnixNano, "startTimeUnixNano")
                    end_ns = int(span.endTimeUnixNano)
                    if not 0 <= end_ns <= INT64_MAX:
                        end_ns = time_ns(span.endTimeUnixNano, "endTimeUnixNano")
                    attrs = _attributes(span.attributes)
                    span_events = []
                    for event_index, event in enumerate(span.events):
                        event_time = time_ns(event.timeUnixNano, f"event {event_index} timeUnixNano")
                        event_attrs = _attributes(event.attributes)
                        event_rows.append((trace_id, span_id, event_index, event_time, event.name,
                                           dumps(event_attrs).decode() if event_attrs else "{}"))
                        span_events.append((event_time, event.name, event_attrs))
                    for link_index, link in enumerate(span.links):
                        link_attrs = _attributes(link.attributes)
                        link_rows.append((
                            trace_id, span_id, link_index,
                            trace_id_bytes(link.traceId, required=False, field=f"link {link_index} traceId"),
                            span_id_int(link.spanId, required=False, field=f"link {link_index} spanId"),
                            link.traceState or None, dumps(link_attrs).decode() if link_attrs else "{}",
                        ))
                    hex_id = span.parentSpanId
                    raw = fromhex(hex_id) if len(hex_id) == 16 else None
                    if raw is None or len(raw) != 8 or raw == _ZERO8:
                        parent_id = span_id_int(hex_id, required=False, field="parentSpanId")
                    else:
                        parent_id = from_bytes(raw, "big", signed=True)
                    kind = span.kind
                    if type(kind) is not int or not 0 <= kind < 32768:
                        kind = enum_value(kind, SPAN_KINDS, "kind")
                    status = span.status
                    if status is None:
                        status_code = status_message = None
                    else:
                        status_code, status_message = status.code, status.message or None
                        if type(status_code) is not int or not 0 <= status_code < 32768:
                            status_code = enum_value(status_code, STATUS_CODES, "status code")
                    trace_state, name, status_code, links = span.traceState or None, span.name, status_code or 0, len(span.links)
                llm_add(len(first_span_list) + len(span_rows), attrs, environment, span_events)
                span_rows.append((
                    trace_id, span_id, parent_id, trace_state, name, kind, service, scope_name, scope_version,
                    start_ns, end_ns, status_code, status_message, dumps(attrs).decode() if attrs else "{}",
                    resource_json, scope_json,
                ))
                added += 1 + len(span_events) + links
                if len(span_rows) == _ROWS:
                    _move(((span_lists, span_rows), (event_lists, event_rows), (link_lists, link_rows)))
                    columns.maybe_spill()
    _move(((span_lists, span_rows), (event_lists, event_rows), (link_lists, link_rows)))
    return added


def _decode_logs(resource_logs: list[ResourceLogs], columns: Columns) -> int:
    """:func:`.logs.decode_logs` over Structs (row for row the same columns); raises on a malformed record."""
    log_lists = list(columns.tables["logs"].values())
    dumps = orjson.dumps
    decode_record = _LOG_RECORD.decode
    fast_record = _records.log_record if _records is not None else None
    fromhex, from_bytes = bytes.fromhex, int.from_bytes
    added = 0
    log_rows: list[tuple] = []
    for resource_entry in resource_logs:
        resource_json, service, _ = _resource(resource_entry.resource)
        for scope_entry in resource_entry.scopeLogs:
            scope_name, scope_version, scope_json = _scope(scope_entry.scope)
            scope_part = f"{scope_name or ''}\x1f{scope_version or ''}\x1f"
            for encoded in scope_entry.logRecords:
                parsed = fast_record(encoded) if fast_record is not None else None
                if parsed is not None:  # the common log record, read by _records.c
                    (time, observed, trace_id, span_id, flags, severity_number, severity_text, body, event_name,
                     attrs) = parsed
                    body = dumps(body).decode()
                    attrs = dumps(attrs).decode() if attrs else "{}"
                else:
                    record = decode_record(encoded)
                    # times and ids inline for the usual values, as in _decode_traces (ids are optional here)
                    time = int(record.timeUnixNano)
                    if not 0 <= time <= INT64_MAX:
                        time = time_ns(record.timeUnixNano, "timeUnixNano")
                    observed = int(record.observedTimeUnixNano)
                    if not 0 <= observed <= INT64_MAX:
                        observed = time_ns(record.observedTimeUnixNano, "observedTimeUnixNano")
                    hex_id = record.traceId
                    trace_id = fromhex(hex_id) if len(hex_id) == 32 else None
                    if trace_id is None or len(trace_id) != 16 or trace_id == _ZERO16:
                        trace_id = trace_id_bytes(hex_id, required=False)
                    hex_id = record.spanId
                    raw = fromhex(hex_id) if len(hex_id) == 16 else None
                    if raw is None or len(raw) != 8 or raw == _ZERO8:
                        span_id = span_id_int(hex_id, required=False)
                    else:
                        span_id = from_bytes(raw, "big", signed=True)
                    flags = to_int(record.flags or 0)
                    severity_number = enum_value(record.severityNumber, SEVERITY_NUMBERS, "severityNumber")
                    severity_text = record.severityText or None
                    body = dumps(_value(record.body)).decode()
                    event_name = record.eventName or None
                    attrs = _attributes(record.attributes)
                    attrs = dumps(attrs).decode() if attrs else "{}"
                log_rows.append((
                    log_id(time, observed, trace_id, span_id, flags, severity_number, severity_text, body, event_name,
                           scope_part, attrs, resource_json),
                    time, observed, trace_id, span_id, flags & 0xFF,
                    severity_number, severity_text, body, event_name, service, scope_name, scope_version, scope_json,
                    attrs, resource_json,
                ))
                added += 1
                if len(log_rows) == _ROWS:
                    _move(((log_lists, log_rows),))
                    columns.maybe_spill()
    _move(((log_lists, log_rows),))
    return added


# Rows gathered as tuples before they are moved into the column lists (bounds that list).
_ROWS = 4096


def _move(tables) -> None:
    """Move every gathered row of each ``(column lists, rows)`` into its column lists (:func:`append_rows`) and
    empty the rows."""
    for lists, rows in tables:
        append_rows(lists, rows)
        rows.clear()


def _decode_metrics(resource_metrics: list[ResourceMetrics], columns: Columns) -> int:
    """:func:`.metrics.decode_metrics` over Structs (row for row the same columns); raises on a malformed
    metric or data point."""
    metric_lists = list(columns.tables["metrics"].values())
    point_lists = list(columns.tables["metric_data_points"].values())
    metric_rows: list[tuple] = []
    point_rows: list[tuple] = []
    metric_ids = columns.metric_ids
    dumps = orjson.dumps
    # per data field: (the point's columns in Python, how a Raw point is parsed, the compiled step or None)
    points = {kind: (point, parse, getattr(_records, fast, None) if fast and _records is not None else None)
              for kind, (point, parse, fast) in _POINTS.items()}
    added = 0
    for resource_entry in resource_metrics:
        resource_json, service, _ = _resource(resource_entry.resource)
        for scope_entry in resource_entry.scopeMetrics:
            scope_name, scope_version, scope_json = _scope(scope_entry.scope)
            for metric in scope_entry.metrics:
                for kind in _METRIC_TYPES:  # the first data field present, in the general decoder's order
                    data = getattr(metric, kind)
                    if data is not UNSET:
                        break
                else:
                    raise _Fallback  # a metric without data: the general decoder rejects it
                metric_type, name, unit = _METRIC_TYPES[kind], metric.name, metric.unit or None
                identity = (resource_json, scope_name, scope_version, name, metric_type, unit)
                metric_id = metric_ids.get(identity)
                if metric_id is None:  # every request repeats its metrics: each identity is hashed once per decode
                    metric_id = metric_ids[identity] = record_key(*identity)
                temporality = getattr(data, "aggregationTemporality", UNSET)
                temporality = (None if temporality is UNSET
                               else enum_value(temporality, AGGREGATION_TEMPORALITIES, "aggregationTemporality"))
                monotonic = data.isMonotonic if kind == "sum" else None
                metric_rows.append((metric_id, name, service, metric_type, unit, metric.description or None, scope_name,
                                    scope_version, scope_json, resource_json))
                point, parse, fast_point = points[kind]
                for data_point in data.dataPoints:
                    parsed = None
                    if parse is not None:  # a Raw point: read by _records.c when it is the common case
                        if fast_point is not None:
                            parsed = fast_point(data_point)
                        if parsed is None:
                            data_point = parse(data_point)
                    if parsed is not None:
                        start, time, attrs, values = parsed
                        attrs = dumps(attrs).decode() if attrs else "{}"
                    else:
                        start, time = data_point.startTimeUnixNano, data_point.timeUnixNano
                        start = start if type(start) is int and 0 <= start <= INT64_MAX else time_ns(start, "startTimeUnixNano")
                        time = time if type(time) is int and 0 <= time <= INT64_MAX else time_ns(time, "timeUnixNano")
                        attrs = dumps(_attributes(data_point.attributes)).decode() if data_point.attributes else "{}"
                        values = point(data_point)
                    point_rows.append((
                        point_id(metric_id, attrs, start, time), metric_id, name, start, time,
                        *values, temporality, monotonic, attrs,
                    ))
                    added += 1
                if len(point_rows) >= _ROWS:
                    _move(((metric_lists, metric_rows), (point_lists, point_rows)))
    _move(((metric_lists, metric_rows), (point_lists, point_rows)))
    return added


_METRIC_TYPES = {
    "gauge": "gauge", "sum": "sum", "histogram": "histogram", "exponentialHistogram": "exponential_histogram",
    "summary": "summary",
}


def _set(value):
    """A double member that may be absent (UNSET) as :func:`.values.opt_float` reads it: None when absent or NaN."""
    return None if value is UNSET else opt_float(value)


def _number_point(point) -> tuple:
    value = point.asDouble if point.asDouble is not UNSET else point.asInt
    return (_set(value), None, None, None, None, None, None, None, None, None, None, None, None, None, None,
            _exemplars(point.exemplars), int32(point.flags, "flags"))


def _histogram_point(point) -> tuple:
    return (None, fixed64(point.count, "count"), _set(point.sum), _set(point.min), _set(point.max),
            _counts(point.bucketCounts, "bucketCounts"), _doubles(point.explicitBounds),
            None, None, None, None, None, None, None, None, _exemplars(point.exemplars), int32(point.flags, "flags"))


def _exponential_point(point) -> tuple:
    sides = []
    for side in ("positive", "negative"):
        buckets = getattr(point, side)
        sides += ((0, []) if buckets is None else
                  (int32(buckets.offset, f"{side} offset"), _counts(buckets.bucketCounts, f"{side} bucketCounts")))
    return (None, fixed64(point.count, "count"), _set(point.sum), _set(point.min), _set(point.max), None, None,
            int32(point.scale, "scale"), fixed64(point.zeroCount, "zeroCount"), _set(point.zeroThreshold), *sides,
            None, _exemplars(point.exemplars), int32(point.flags, "flags"))


def _summary_point(point) -> tuple:
    quantiles = orjson.dumps(
        [{"quantile": to_float(q.quantile or 0), "value": opt_float(q.value)} for q in point.quantileValues]
    ).decode()
    return (None, fixed64(point.count, "count"), _set(point.sum), None, None, None, None, None, None, None, None,
            None, None, None, quantiles, None, int32(point.flags, "flags"))


def _counts(values: list, field: str) -> list[int]:
    """``[fixed64(v, field) for v in values]``, converted at once where every value is a storable integer."""
    try:
        counts = list(map(int, values))
        if not counts or (min(counts) >= 0 and max(counts) <= INT64_MAX):
            return counts
    except (TypeError, ValueError):
        pass
    return [fixed64(value, field) for value in values]


def _doubles(values: list) -> list[float]:
    """``[to_float(v) for v in values]``, converted at once where every value converts."""
    try:
        return list(map(float, values))
    except (TypeError, ValueError):
        return [to_float(value) for value in values]


# Per data field: a data point's columns between ``time`` and ``aggregation_temporality`` (value, count, sum,
# min, max, bucket_counts, explicit_bounds, scale, zero_count, zero_threshold, positive_offset,
# positive_bucket_counts, negative_offset, negative_bucket_counts, quantiles, exemplars, flags), as
# :func:`.metrics._point` reads them.
# With each: how a point of a Raw list is parsed (msgspec; None: the list holds Structs already) and the compiled
# step's name that reads its common case into (start, time, attributes, those columns) (_records.c).
_NUMBER_POINT = msgspec.json.Decoder(NumberDataPoint).decode
_HISTOGRAM_POINT = msgspec.json.Decoder(HistogramDataPoint).decode
_POINTS = {
    "gauge": (_number_point, _NUMBER_POINT, "number_point"),
    "sum": (_number_point, _NUMBER_POINT, "number_point"),
    "histogram": (_histogram_point, _HISTOGRAM_POINT, "histogram_point"),
    "exponentialHistogram": (_exponential_point, None, None),
    "summary": (_summary_point, None, None),
}


def _exemplars(exemplars: list[Exemplar]) -> str | None:
    """As :func:`.metrics._exemplars`: the exemplars as JSON text, None without any."""
    if not exemplars:
        return None
    out = []
    for exemplar in exemplars:
        value = exemplar.asDouble if exemplar.asDouble is not UNSET else exemplar.asInt
        trace_id = trace_id_bytes(exemplar.traceId, required=False)
        out.append({
            "time_unix_nano": to_int(exemplar.timeUnixNano or 0),
            "value": None if value is UNSET else to_float(value),
            "trace_id": trace_id.hex() if trace_id else None,
            "span_id": exemplar.spanId.lower() if exemplar.spanId else None,
            "filtered_attributes": _attributes(exemplar.filteredAttributes),
        })
    return orjson.dumps(out).decode()


# Spans and log records are parsed one at a time (see structs.ScopeSpans).
_SPAN, _LOG_RECORD = msgspec.json.Decoder(Span), msgspec.json.Decoder(LogRecord)
_SIGNALS = {
    "traces": (msgspec.json.Decoder(TracesRequest), "resourceSpans", _decode_traces),
    "logs": (msgspec.json.Decoder(LogsRequest), "resourceLogs", _decode_logs),
    "metrics": (msgspec.json.Decoder(MetricsRequest), "resourceMetrics", _decode_metrics),
}


def _resource(resource: Resource | None) -> tuple[str, str | None, dict]:
    """As :func:`.values.read_resource`: ``(attributes JSON text, service.name or None, attributes)``."""
    attrs = _attributes(resource.attributes) if resource is not None else {}
    service = attrs.get("service.name")
    return orjson.dumps(attrs).decode(), service if isinstance(service, str) else None, attrs


def _scope(scope: Scope | None) -> tuple[str | None, str | None, str]:
    """As :func:`.values.scopes`: ``(name or None, version or None, attributes JSON text)``."""
    if scope is None:
        return None, None, "{}"
    attrs = _attributes(scope.attributes)
    return scope.name or None, scope.version or None, orjson.dumps(attrs).decode() if attrs else "{}"


def _attributes(key_values: list[KeyValue]) -> dict:
    """As :func:`.values.attributes_dict`: ``{key: value}``, the last of duplicate keys winning."""
    out = {}
    for kv in key_values:
        value = kv.value
        if value is not None:  # strings and integers inline (most values), the rest through _value
            string = value.stringValue
            if string is not UNSET:
                out[kv.key] = string
                continue
            number = value.intValue
            if number is not UNSET:
                number = int(number)  # as values.int64 (a bad one raises: the general decoder says why)
                if not INT64_MIN <= number <= INT64_MAX:
                    number = int64(number)
                out[kv.key] = number
                continue
        out[kv.key] = _value(value)
    return out


def _value(value: AnyValue | None, depth: int = 1):
    """As :func:`.values.any_value` (same JSON values, same depth limit)."""
    if value is None:
        return None
    if depth > MAX_ANY_VALUE_DEPTH:
        raise DecodeError(f"AnyValue nested deeper than {MAX_ANY_VALUE_DEPTH} levels")
    if value.stringValue is not UNSET:
        return value.stringValue
    if value.intValue is not UNSET:
        return int64(value.intValue)
    if value.boolValue is not UNSET:
        return value.boolValue
    if value.doubleValue is not UNSET:
        number = to_float(value.doubleValue)
        return number if math.isfinite(number) else _NON_FINITE[str(number)]
    if value.arrayValue is not UNSET:
        return [_value(v, depth + 1) for v in value.arrayValue.values]
    if value.kvlistValue is not UNSET:
        return {kv.key: _value(kv.value, depth + 1) for kv in value.kvlistValue.values}
    if value.bytesValue is not UNSET:
        return value.bytesValue
    return None
