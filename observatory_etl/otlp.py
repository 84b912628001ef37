"""Decode OTLP/JSON export requests into plain column lists, one list per final-table column.

Source: opentelemetry-proto ``docs/specification.md``, "JSON Protobuf Encoding" (OTLP 1.x), and the
protos ``trace/v1/trace.proto``, ``logs/v1/logs.proto``, ``metrics/v1/metrics.proto``:

* field names are lowerCamelCase; unknown fields are ignored;
* ``traceId`` / ``spanId`` are hex strings, case-insensitive (the official examples use upper case);
* 64-bit integers (``*UnixNano``, ``intValue``, ``count``, ``bucketCounts``, ``asInt``) may be JSON strings
  or numbers; doubles may be numbers or the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
* enums (span kind, status code, severity number, aggregation temporality) are integers;
* ``AnyValue`` is one of stringValue, boolValue, intValue, doubleValue, bytesValue (base64), arrayValue
  ``{values: [AnyValue]}``, kvlistValue ``{values: [KeyValue]}`` — nested to any depth.

Attributes (lists of KeyValue) become one JSON object text ``{"key": value}`` with AnyValues mapped to
JSON: string, bool, int, double as themselves, bytes as their base64 string, arrays as arrays, kvlists
as objects, an empty AnyValue as null. Ids are kept as bytes (trace ids, 16 bytes) and signed 64-bit
integers (span ids, the 8 bytes read big-endian); timestamps stay integer nanoseconds since the Unix
epoch, 0 meaning unset. Records without a natural key get a deterministic 16-byte key: the MD5 of
their identity fields joined by ``\\x1f`` (see :func:`record_key`), the same in every process and
version because it depends only on the input text.

The polars conversion of these columns is in :mod:`observatory_etl.normalize`.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Callable

import orjson

from .genai import LLM_COLUMNS, llm_columns
from .pricing import PriceTable

_TOP_KEY = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}
_SCOPE_KEY = {"traces": "scopeSpans", "metrics": "scopeMetrics", "logs": "scopeLogs"}

# Column names of each decoded table, in final-table order (see sql/schema.sql).
SPAN_COLUMNS = (
    "trace_id", "span_id", "parent_span_id", "trace_state", "name", "kind", "service_name",
    "scope_name", "scope_version", "start_time_unix_nano", "end_time_unix_nano", "status_code",
    "status_message", "attributes", "resource_attributes", "scope_attributes", *LLM_COLUMNS,
)
EVENT_COLUMNS = ("trace_id", "span_id", "event_index", "time_unix_nano", "name", "attributes")
LINK_COLUMNS = (
    "trace_id", "span_id", "link_index", "linked_trace_id", "linked_span_id", "trace_state", "attributes",
)
METRIC_COLUMNS = (
    "metric_id", "name", "service_name", "type", "unit", "description", "scope_name", "scope_version",
    "scope_attributes", "resource_attributes",
)
POINT_COLUMNS = (
    "point_id", "metric_id", "metric_name", "start_time_unix_nano", "time_unix_nano", "value", "count",
    "sum", "min", "max", "bucket_counts", "explicit_bounds", "scale", "zero_count", "zero_threshold",
    "positive_offset", "positive_bucket_counts", "negative_offset", "negative_bucket_counts",
    "quantiles", "exemplars", "flags", "aggregation_temporality", "is_monotonic", "attributes",
)
LOG_COLUMNS = (
    "log_id", "time_unix_nano", "observed_time_unix_nano", "trace_id", "span_id", "trace_flags",
    "severity_number", "severity_text", "body", "event_name", "service_name", "scope_name",
    "scope_version", "scope_attributes", "attributes", "resource_attributes",
)
TABLE_COLUMNS = {
    "trace_spans": SPAN_COLUMNS,
    "trace_events": EVENT_COLUMNS,
    "trace_links": LINK_COLUMNS,
    "metrics": METRIC_COLUMNS,
    "metric_data_points": POINT_COLUMNS,
    "logs": LOG_COLUMNS,
}

_METRIC_TYPES = {
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponentialHistogram": "exponential_histogram",
    "summary": "summary",
}


class DecodeError(ValueError):
    """Input that is not valid OTLP/JSON; the message says where (request, record) and why."""


class Columns:
    """Column lists of the decoded rows, per table: ``columns.tables[table][column] -> list``.

    ``rows`` counts the decoded records (spans + events + links + data points + logs) so callers can
    cut the input into bounded chunks. ``prices`` prices LLM spans that carry no cost (the packaged
    table unless given).
    """

    def __init__(self, prices: PriceTable | None = None) -> None:
        self.tables: dict[str, dict[str, list]] = {
            table: {name: [] for name in names} for table, names in TABLE_COLUMNS.items()
        }
        self.rows = 0
        self.prices = prices or PriceTable.load()

    def __len__(self) -> int:
        return self.rows

    def mark(self) -> dict[str, int]:
        """The current row count of every table, for :meth:`truncate`."""
        return {table: len(cols[TABLE_COLUMNS[table][0]]) for table, cols in self.tables.items()}

    def truncate(self, mark: dict[str, int]) -> None:
        """Drop every row added since ``mark`` (including a half-appended record)."""
        for table, cols in self.tables.items():
            for values in cols.values():
                del values[mark[table] :]


# ---------------------------------------------------------------------------------------------------
# Scalars


def any_value(value: dict | None) -> Any:
    """Map one OTLP ``AnyValue`` object to a JSON-compatible Python value (recursively).

    Raises:
        DecodeError: the value is not an object, or an intValue/doubleValue does not parse.
    """
    if not value:
        return None
    if type(value) is not dict:
        raise DecodeError(f"AnyValue must be an object, got {value!r:.80}")
    for kind, inner in value.items():
        if kind == "stringValue":
            return inner
        if kind == "intValue":
            return _int(inner)
        if kind == "boolValue":
            return bool(inner)
        if kind == "doubleValue":
            return _float(inner)
        if kind == "arrayValue":
            return [any_value(v) for v in (inner or {}).get("values") or ()]
        if kind == "kvlistValue":
            return {kv["key"]: any_value(kv.get("value")) for kv in (inner or {}).get("values") or ()}
        if kind == "bytesValue":
            return inner  # base64 text, as OTLP/JSON carries it
    return None  # an empty AnyValue, or only unknown fields


def attributes_dict(key_values: list | None) -> dict:
    """Flatten a list of OTLP ``KeyValue`` into ``{key: value}`` (the last of duplicate keys wins)."""
    if not key_values:
        return {}
    out = {}
    for kv in key_values:
        value = kv.get("value")
        # Fast path for the common scalar kinds; any_value handles the rest.
        if value and len(value) == 1:
            if "stringValue" in value:
                out[kv["key"]] = value["stringValue"]
                continue
            if "intValue" in value:
                out[kv["key"]] = _int(value["intValue"])
                continue
        out[kv["key"]] = any_value(value)
    return out


def attributes_json(key_values: list | None) -> str:
    """``attributes_dict`` serialized as compact JSON text (``"{}"`` for none)."""
    if not key_values:
        return "{}"
    return orjson.dumps(attributes_dict(key_values)).decode()


def _int(value: Any) -> int:
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DecodeError(f"expected a 64-bit integer (number or string), got {value!r:.80}") from None


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _float(value: Any) -> float:
    if type(value) is float:
        return value
    try:
        return float(value)  # also "NaN", "Infinity", "-Infinity" and integers
    except (TypeError, ValueError):
        raise DecodeError(f"expected a double (number or string), got {value!r:.80}") from None


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    result = _float(value)
    return None if math.isnan(result) else result


def trace_id_bytes(value: Any, *, required: bool = True, field: str = "traceId") -> bytes | None:
    """Parse a hex trace id (any case) into 16 bytes; empty or missing gives None unless required.

    Raises:
        DecodeError: not 32 hex digits, all zeros, or missing where required.
    """
    return _id_bytes(value, 16, required, field)


def span_id_int(value: Any, *, required: bool = True, field: str = "spanId") -> int | None:
    """Parse a hex span id (any case) into a signed 64-bit integer (its 8 bytes read big-endian).

    ``observatory.span_id_hex(bigint)`` and ``observatory.span_id(text)`` convert in SQL.

    Raises:
        DecodeError: not 16 hex digits, all zeros, or missing where required.
    """
    raw = _id_bytes(value, 8, required, field)
    return None if raw is None else int.from_bytes(raw, "big", signed=True)


def _id_bytes(value: Any, size: int, required: bool, field: str) -> bytes | None:
    """``size`` bytes from exactly ``2 * size`` hex digits (any case); empty or all zeros → None if optional."""
    if not value:
        if required:
            raise DecodeError(f"missing {field}")
        return None
    raw = None
    if type(value) is str and len(value) == 2 * size:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            pass
    if raw is None or len(raw) != size:  # fromhex skips whitespace: fewer bytes means it had some
        raise DecodeError(f"{field} {value!r:.80} is not {2 * size} hex digits")
    if raw == bytes(size):
        if required:
            raise DecodeError(f"{field} is all zeros (invalid)")
        return None
    return raw


def record_key(*parts: Any) -> bytes:
    """Deterministic 16-byte key: MD5 of the parts' ``str()`` joined by ``\\x1f`` (bytes as hex).

    Stable across processes, machines and library versions (it hashes only the decoded input text),
    unlike polars' ``hash()``. Used for ``log_id``, ``point_id`` and ``metric_id`` (stored as uuid).
    """
    text = "\x1f".join(p.hex() if type(p) is bytes else ("" if p is None else str(p)) for p in parts)
    return hashlib.md5(text.encode(), usedforsecurity=False).digest()


# ---------------------------------------------------------------------------------------------------
# Requests


def parse_requests(data: bytes) -> list[dict]:
    """Parse a file's bytes into export requests: one JSON document, or JSON Lines (one per line).

    Raises:
        DecodeError: neither form parses; the message gives the line number for JSON Lines.
    """
    if not data.strip():
        return []
    try:
        return [orjson.loads(data)]
    except orjson.JSONDecodeError as whole_error:
        requests = []
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                requests.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                if number == 1:
                    raise DecodeError(f"not JSON: {whole_error}") from None
                raise DecodeError(f"line {number}: not JSON: {exc}") from None
        return requests


def decode_file(signal: str, data: bytes, columns: Columns) -> int:
    """Decode one file's (decompressed) OTLP/JSON bytes of ``signal`` into ``columns``.

    Returns the number of records added (spans + events + links, data points, or log records).
    All or nothing: when it raises, ``columns`` holds exactly what it held before the call.

    Raises:
        DecodeError: malformed JSON or OTLP; the message locates the request and record.
    """
    decode = _DECODERS[signal]
    mark = columns.mark()
    added = 0
    try:
        for number, request in enumerate(parse_requests(data), start=1):
            if type(request) is not dict:
                raise DecodeError(f"request {number}: expected a JSON object, got {type(request).__name__}")
            top = _TOP_KEY[signal]
            if top not in request:
                others = [s for s, key in _TOP_KEY.items() if key in request]
                if others:
                    raise DecodeError(f"request {number}: holds {others[0]} ({_TOP_KEY[others[0]]}), not {signal}")
            try:
                added += decode(request.get(top) or (), columns)
            except DecodeError as exc:
                raise DecodeError(f"request {number}: {exc}") from None
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise DecodeError(f"request {number}: malformed OTLP ({type(exc).__name__}: {exc})") from None
    except DecodeError:
        columns.truncate(mark)  # leave ``columns`` as it was
        raise
    columns.rows += added
    return added


def _resource(resource_entry: dict) -> tuple[str, str | None, dict]:
    attrs = attributes_dict((resource_entry.get("resource") or {}).get("attributes"))
    service = attrs.get("service.name")
    return orjson.dumps(attrs).decode(), service if isinstance(service, str) else None, attrs


def _scopes(resource_entry: dict, key: str):
    for scope_entry in resource_entry.get(key) or ():
        scope = scope_entry.get("scope") or {}
        yield (
            scope_entry,
            scope.get("name") or None,
            scope.get("version") or None,
            attributes_json(scope.get("attributes")),
        )


def _decode_traces(resource_spans: list, columns: Columns) -> int:
    spans = columns.tables["trace_spans"]
    events = columns.tables["trace_events"]
    links = columns.tables["trace_links"]
    s_trace, s_span, s_parent, s_state, s_name, s_kind = (
        spans["trace_id"], spans["span_id"], spans["parent_span_id"], spans["trace_state"],
        spans["name"], spans["kind"],
    )
    s_service, s_scope, s_scope_version = spans["service_name"], spans["scope_name"], spans["scope_version"]
    s_start, s_end, s_code, s_message = (
        spans["start_time_unix_nano"], spans["end_time_unix_nano"], spans["status_code"], spans["status_message"],
    )
    s_attrs, s_resource, s_scope_attrs = spans["attributes"], spans["resource_attributes"], spans["scope_attributes"]
    s_llm = [spans[name] for name in LLM_COLUMNS]
    prices = columns.prices
    added = 0
    for resource_entry in resource_spans:
        resource_json, service, resource = _resource(resource_entry)
        for scope_entry, scope_name, scope_version, scope_json in _scopes(resource_entry, "scopeSpans"):
            for index, span in enumerate(scope_entry.get("spans") or ()):
                try:
                    trace_id = trace_id_bytes(span.get("traceId"))
                    span_id = span_id_int(span.get("spanId"))
                    status = span.get("status") or {}
                    s_trace.append(trace_id)
                    s_span.append(span_id)
                    s_parent.append(span_id_int(span.get("parentSpanId"), required=False, field="parentSpanId"))
                    s_state.append(span.get("traceState") or None)
                    s_name.append(span.get("name") or "")
                    s_kind.append(int(span.get("kind") or 0))
                    s_service.append(service)
                    s_scope.append(scope_name)
                    s_scope_version.append(scope_version)
                    start_ns = _int(span.get("startTimeUnixNano") or 0)
                    end_ns = _int(span.get("endTimeUnixNano") or 0)
                    s_start.append(start_ns)
                    s_end.append(end_ns)
                    s_code.append(int(status.get("code") or 0))
                    s_message.append(status.get("message") or None)
                    attrs = attributes_dict(span.get("attributes"))
                    s_attrs.append(orjson.dumps(attrs).decode() if attrs else "{}")
                    s_resource.append(resource_json)
                    s_scope_attrs.append(scope_json)
                    added += 1
                    span_events = []
                    for event_index, event in enumerate(span.get("events") or ()):
                        event_time = _int(event.get("timeUnixNano") or 0)
                        event_name = event.get("name") or ""
                        event_attrs = attributes_dict(event.get("attributes"))
                        events["trace_id"].append(trace_id)
                        events["span_id"].append(span_id)
                        events["event_index"].append(event_index)
                        events["time_unix_nano"].append(event_time)
                        events["name"].append(event_name)
                        events["attributes"].append(orjson.dumps(event_attrs).decode() if event_attrs else "{}")
                        span_events.append((event_time, event_name, event_attrs))
                        added += 1
                    for values, value in zip(s_llm, llm_columns(attrs, resource, span_events, start_ns, end_ns, prices)):
                        values.append(value)
                    for link_index, link in enumerate(span.get("links") or ()):
                        links["trace_id"].append(trace_id)
                        links["span_id"].append(span_id)
                        links["link_index"].append(link_index)
                        links["linked_trace_id"].append(trace_id_bytes(link.get("traceId"), field="link traceId"))
                        links["linked_span_id"].append(span_id_int(link.get("spanId"), field="link spanId"))
                        links["trace_state"].append(link.get("traceState") or None)
                        links["attributes"].append(attributes_json(link.get("attributes")))
                        added += 1
                except DecodeError as exc:
                    raise DecodeError(f"span {index} ({span.get('spanId')!r}): {exc}") from None
    return added


def _decode_logs(resource_logs: list, columns: Columns) -> int:
    logs = columns.tables["logs"]
    (
        l_id, l_time, l_observed, l_trace, l_span, l_flags, l_severity, l_severity_text, l_body, l_event,
        l_service, l_scope, l_scope_version, l_scope_attrs, l_attrs, l_resource,
    ) = (logs[name] for name in LOG_COLUMNS)
    md5 = hashlib.md5
    added = 0
    for resource_entry in resource_logs:
        resource_json, service, _ = _resource(resource_entry)
        for scope_entry, scope_name, scope_version, scope_json in _scopes(resource_entry, "scopeLogs"):
            # log_id = record_key(time, observed time, trace id, span id, flags, severity number, severity
            # text, body, event name, scope name, scope version, attributes, resource attributes), inlined.
            scope_part = f"{scope_name or ''}\x1f{scope_version or ''}\x1f"
            for index, record in enumerate(scope_entry.get("logRecords") or ()):
                try:
                    time_ns = _int(record.get("timeUnixNano") or 0)
                    observed_ns = _int(record.get("observedTimeUnixNano") or 0)
                    trace_id = trace_id_bytes(record.get("traceId"), required=False)
                    span_id = span_id_int(record.get("spanId"), required=False)
                    flags = _int(record.get("flags") or 0)
                    severity_number = int(record.get("severityNumber") or 0)
                    severity_text = record.get("severityText") or None
                    body = orjson.dumps(any_value(record.get("body"))).decode()
                    event_name = record.get("eventName") or None
                    attrs = attributes_json(record.get("attributes"))
                except DecodeError as exc:
                    raise DecodeError(f"log record {index}: {exc}") from None
                key = (
                    f"{time_ns}\x1f{observed_ns}\x1f{trace_id.hex() if trace_id else ''}\x1f"
                    f"{'' if span_id is None else span_id}\x1f{flags}\x1f{severity_number}\x1f{severity_text or ''}\x1f"
                    f"{body}\x1f{event_name or ''}\x1f{scope_part}{attrs}\x1f{resource_json}"
                )
                l_id.append(md5(key.encode(), usedforsecurity=False).digest())
                l_time.append(time_ns)
                l_observed.append(observed_ns)
                l_trace.append(trace_id)
                l_span.append(span_id)
                l_flags.append(flags & 0xFF)
                l_severity.append(severity_number)
                l_severity_text.append(severity_text)
                l_body.append(body)
                l_event.append(event_name)
                l_service.append(service)
                l_scope.append(scope_name)
                l_scope_version.append(scope_version)
                l_scope_attrs.append(scope_json)
                l_attrs.append(attrs)
                l_resource.append(resource_json)
                added += 1
    return added


def _exemplars(exemplars: list | None) -> str | None:
    if not exemplars:
        return None
    out = []
    for exemplar in exemplars:
        value = exemplar.get("asDouble", exemplar.get("asInt"))
        trace_id = trace_id_bytes(exemplar.get("traceId"), required=False)
        span_id = exemplar.get("spanId")
        out.append(
            {
                "time_unix_nano": _int(exemplar.get("timeUnixNano") or 0),
                "value": None if value is None else _float(value),
                "trace_id": trace_id.hex() if trace_id else None,
                "span_id": span_id.lower() if span_id else None,
                "filtered_attributes": attributes_dict(exemplar.get("filteredAttributes")),
            }
        )
    return orjson.dumps(out).decode()


def _decode_metrics(resource_metrics: list, columns: Columns) -> int:
    metrics = columns.tables["metrics"]
    points = columns.tables["metric_data_points"]
    point_columns = [(name, points[name]) for name in POINT_COLUMNS]
    added = 0
    for resource_entry in resource_metrics:
        resource_json, service, _ = _resource(resource_entry)
        for scope_entry, scope_name, scope_version, scope_json in _scopes(resource_entry, "scopeMetrics"):
            for metric in scope_entry.get("metrics") or ():
                name = metric.get("name") or ""
                kind = next((k for k in _METRIC_TYPES if k in metric), None)
                if kind is None:
                    raise DecodeError(f"metric {name!r}: no data (gauge, sum, histogram, exponentialHistogram or summary)")
                metric_type = _METRIC_TYPES[kind]
                unit = metric.get("unit") or None
                metric_id = record_key(resource_json, scope_name, scope_version, name, metric_type, unit)
                metrics["metric_id"].append(metric_id)
                metrics["name"].append(name)
                metrics["service_name"].append(service)
                metrics["type"].append(metric_type)
                metrics["unit"].append(unit)
                metrics["description"].append(metric.get("description") or None)
                metrics["scope_name"].append(scope_name)
                metrics["scope_version"].append(scope_version)
                metrics["scope_attributes"].append(scope_json)
                metrics["resource_attributes"].append(resource_json)
                data = metric[kind] or {}
                temporality = data.get("aggregationTemporality")
                temporality = int(temporality) if temporality is not None else None
                monotonic = bool(data.get("isMonotonic", False)) if kind == "sum" else None
                for index, point in enumerate(data.get("dataPoints") or ()):
                    try:
                        row = _point(kind, point)
                    except DecodeError as exc:
                        raise DecodeError(f"metric {name!r} data point {index}: {exc}") from None
                    attrs = row["attributes"]
                    row["point_id"] = record_key(
                        metric_id, attrs, row["start_time_unix_nano"], row["time_unix_nano"]
                    )
                    row["metric_id"] = metric_id
                    row["metric_name"] = name
                    row["aggregation_temporality"] = temporality
                    row["is_monotonic"] = monotonic
                    for column, values in point_columns:
                        values.append(row.get(column))
                    added += 1
    return added


def _point(kind: str, point: dict) -> dict:
    row = {
        "start_time_unix_nano": _int(point.get("startTimeUnixNano") or 0),
        "time_unix_nano": _int(point.get("timeUnixNano") or 0),
        "attributes": attributes_json(point.get("attributes")),
        "flags": int(point.get("flags") or 0),
        "exemplars": _exemplars(point.get("exemplars")),
    }
    if kind in ("gauge", "sum"):
        value = point.get("asDouble", point.get("asInt"))
        row["value"] = None if value is None else _opt_float(value)
        return row
    row["count"] = _int(point.get("count") or 0)
    row["sum"] = _opt_float(point.get("sum"))
    if kind == "summary":
        row["quantiles"] = orjson.dumps(
            [
                {"quantile": _float(q.get("quantile") or 0), "value": _opt_float(q.get("value", 0))}
                for q in point.get("quantileValues") or ()
            ]
        ).decode()
        return row
    row["min"] = _opt_float(point.get("min"))
    row["max"] = _opt_float(point.get("max"))
    if kind == "histogram":
        row["bucket_counts"] = [_int(c) for c in point.get("bucketCounts") or ()]
        row["explicit_bounds"] = [_float(b) for b in point.get("explicitBounds") or ()]
        return row
    row["scale"] = int(point.get("scale") or 0)
    row["zero_count"] = _int(point.get("zeroCount") or 0)
    row["zero_threshold"] = _opt_float(point.get("zeroThreshold"))
    for side in ("positive", "negative"):
        buckets = point.get(side) or {}
        row[f"{side}_offset"] = int(buckets.get("offset") or 0)
        row[f"{side}_bucket_counts"] = [_int(c) for c in buckets.get("bucketCounts") or ()]
    return row


_DECODERS: dict[str, Callable[[list, Columns], int]] = {
    "traces": _decode_traces,
    "metrics": _decode_metrics,
    "logs": _decode_logs,
}
