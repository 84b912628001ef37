"""Decode OTLP protobuf (``.binpb``) export requests into the same column lists as the OTLP/JSON decoder.

Source: opentelemetry-proto ``collector/{trace,metrics,logs}/v1/*_service.proto`` (the
``Export{Trace,Metrics,Logs}ServiceRequest`` messages) with ``trace/v1/trace.proto``, ``logs/v1/logs.proto``,
``metrics/v1/metrics.proto`` and ``common/v1/common.proto``, parsed by the official generated classes of the
``opentelemetry-proto`` package (protobuf's upb backend).

File forms (after ``landing.read_file`` has undone gzip or zstd compression of the whole file):

* one serialized ``Export…ServiceRequest``, as the Collector's ``awss3exporter`` writes with the
  ``otlp_proto`` marshaler;
* a length-delimited stream, as the ``fileexporter`` writes with ``format: proto``: each message prefixed
  by its size as a 4-byte big-endian unsigned integer. A frame whose payload starts with the gzip or zstd
  magic bytes is decompressed first (the fileexporter's ``compression: zstd`` compresses each message).

The form is decided from the bytes (:func:`split_messages`): the data is a stream when reading it as
``size, payload, size, payload, …`` from the first byte lands exactly on its end, and one message
otherwise. A serialized request starts with the tag byte ``0x0a`` (field 1, length-delimited), which as a
size's first byte would claim a frame of at least 160 MiB, so the two forms cannot be mistaken for each
other below that size; should a stream's frame still not parse, the whole data is tried as one message
before the file is given up.

Rows, values and keys are those of :mod:`observatory_etl.ingest.otlp_json` for the same request written as
OTLP/JSON (e.g. by protobuf's JSON printer or the Collector's OTLP/JSON marshaler), so a record gets the
same row and the same ``log_id`` / ``metric_id`` / ``point_id`` whichever encoding it came in: trace ids
as 16 bytes, span ids as signed 64-bit integers (the 8 bytes read big-endian), times as integer ns with the
same range check (a ``fixed64`` of 2^63 or more rejects its record), enums as integers, attributes and
bodies as JSON object text with AnyValue mapped as :func:`.otlp_json.values.any_value` maps it (bytes as
standard base64 text, non-finite doubles as ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, nesting up to 64
levels), the canonical LLM columns from :func:`observatory_etl.llm.mapping.llm_columns`. proto3 fields
without presence that hold their default are what JSON leaves out, and decode as the JSON decoder decodes
an absent field: an ``aggregation_temporality`` of 0 (unspecified) is NULL, and so are a summary point's
``sum`` and an exponential histogram point's ``zero_threshold`` of 0.0.

Bad input: a span (with its events and links), log record, data point, metric or resource that cannot be
converted (an id of the wrong length, a missing or all-zero trace or span id, a time or count of 2^63 or
more, flags beyond int32) is rejected into ``Columns.rejects`` at its path (``message 1 / resource 0 /
scope 0 / span 5``) with its reason and the record as OTLP/JSON text (hex ids), and the rest of the file
decodes. A file that does not parse as the signal's request (protobuf ``DecodeError``, a framing that does
not parse, another signal's request, no records at all) raises
:class:`~observatory_etl.ingest.columns.DecodeError`, which ``decode.decode_file`` turns into a rejected
file. protobuf's parser decides two things the JSON decoder decides per record: a ``string`` field that is
not valid UTF-8, and messages nested more than 100 deep (an attribute's AnyValue nested beyond 47 arrays
or kvlists; the JSON decoder rejects the record beyond 64), make the whole message undecodable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from ..llm.mapping import llm_columns
from .columns import RECORD_ERRORS, TABLE_COLUMNS, Columns, DecodeError
from .landing import LandingError, decompress
from .otlp_json.values import INT64_MAX, MAX_ANY_VALUE_DEPTH, record_key

REQUEST_TYPES = {
    "traces": ExportTraceServiceRequest,
    "metrics": ExportMetricsServiceRequest,
    "logs": ExportLogsServiceRequest,
}
_TOP_FIELD = {"traces": "resource_spans", "metrics": "resource_metrics", "logs": "resource_logs"}
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_ZERO_TRACE_ID = bytes(16)
_ZERO_SPAN_ID = bytes(8)
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd (see landing.decompress)
_isfinite, _isnan = math.isfinite, math.isnan
_which = AnyValue.WhichOneof  # unbound: no attribute lookup per value


# ---------------------------------------------------------------------------------------------------
# File forms


def split_messages(data: bytes) -> list[bytes]:
    """Split a file's (decompressed) bytes into serialized messages: a length-delimited stream when its
    4-byte big-endian size prefixes tile ``data`` exactly, else ``data`` as one message.

    Empty data holds no message. A stream's frames are returned without their prefixes, each decompressed
    when it starts with the gzip or zstd magic bytes.

    Raises:
        DecodeError: a frame starts like gzip or zstd but is corrupt.
    """
    if not data:
        return []
    frames = _frames(data)
    if frames is None:
        return [data]
    out = []
    for number, frame in enumerate(frames, start=1):
        if frame[:2] == _COMPRESSED_MAGIC[0] or frame[:4] == _COMPRESSED_MAGIC[1]:
            try:
                frame = decompress(frame, f"message {number}")
            except LandingError as exc:
                raise DecodeError(f"message {number}: {exc.reason}") from None
        out.append(frame)
    return out


def _frames(data: bytes) -> list[bytes] | None:
    """The payloads of ``data`` read as ``(uint32 big-endian size, payload)*``, or None unless the sizes land
    exactly on the end of ``data``."""
    end = len(data)
    offsets = []
    offset = 0
    while offset < end:
        if offset + 4 > end:
            return None
        size = int.from_bytes(data[offset : offset + 4], "big")
        offsets.append((offset + 4, offset + 4 + size))
        offset += 4 + size
    if offset != end:
        return None
    view = memoryview(data)
    return [view[start:stop].tobytes() for start, stop in offsets]


def parse_requests(signal: str, data: bytes) -> list[tuple[str, Any]]:
    """Parse a file's (decompressed) bytes into the export requests of ``signal`` (``traces``, ``metrics`` or
    ``logs``), one or a length-delimited stream (see :func:`split_messages`).

    Returns ``(where, request)`` pairs, ``where`` being ``message 1``, ``message 2``, … (the request classes
    of opentelemetry-proto ``collector/*/v1/*_service.proto``).

    Raises:
        DecodeError: ``signal`` has no OTLP protobuf form, or a message does not parse as the signal's request
            (the message names it, and the signal whose request it is when another one parses).
    """
    request_type = REQUEST_TYPES.get(signal)
    if request_type is None:
        raise DecodeError(f"{signal} files have no OTLP protobuf form (expected one of {', '.join(REQUEST_TYPES)})")
    messages = split_messages(data)
    try:
        return _parse_all(request_type, messages)
    except DecodeError as error:
        if len(messages) > 1:  # a stream that does not parse may still be one message whose size prefix tiled
            try:
                return _parse_all(request_type, [data])
            except DecodeError:
                pass
        other = _other_signal(signal, messages)
        if other:
            raise DecodeError(f"holds {other} ({REQUEST_TYPES[other].__name__}), not {signal}") from None
        raise error from None


def _parse_all(request_type, messages: list[bytes]) -> list[tuple[str, Any]]:
    requests = []
    for number, message in enumerate(messages, start=1):
        request = request_type()
        try:
            request.ParseFromString(message)
        except ProtobufDecodeError as exc:
            form = f"message {number} of {len(messages)} (length-delimited)" if len(messages) > 1 else "message 1"
            raise DecodeError(f"{form}: not a protobuf {request_type.__name__} ({exc})") from None
        requests.append((f"message {number}", request))
    return requests


def _other_signal(signal: str, messages: list[bytes]) -> str | None:
    """The other signal whose request every message parses as and holds records of, if any."""
    for other, request_type in REQUEST_TYPES.items():
        if other == signal or not messages:
            continue
        try:
            requests = _parse_all(request_type, messages)
        except DecodeError:
            continue
        if any(len(getattr(request, _TOP_FIELD[other])) for _, request in requests):
            return other
    return None


def decode(signal: str, data: bytes, columns: Columns) -> int:
    """Decode one file's (decompressed) OTLP protobuf bytes of ``signal`` into ``columns``.

    ``signal`` is ``traces``, ``metrics`` or ``logs``; ``data`` one serialized ``Export…ServiceRequest`` or
    a length-delimited stream of them (see the module docstring). The columns are exactly those the OTLP/JSON
    decoder gives for the same requests (:data:`~observatory_etl.ingest.columns.TABLE_COLUMNS`, times in ns).

    Returns the number of records added (spans + events + links, data points, or log records). A record that
    cannot be converted is rejected into ``columns.rejects`` with its path (``message 1 / resource 0 / scope 0
    / span 5``) and reason; the rest of the file decodes.

    Raises:
        DecodeError: the file as a whole is not OTLP protobuf of ``signal`` (a message does not parse, another
            signal's request, a corrupt compressed frame, or a non-empty file holding no record at all);
            ``columns`` is then left as it was.
    """
    mark, rejected = columns.mark(), len(columns.rejects)
    added = 0
    try:
        requests = parse_requests(signal, data)
        decode_signal = _DECODERS[signal]
        for where, request in requests:
            added += decode_signal(request, columns, where)
        if requests and not added and len(columns.rejects) == rejected:
            name = REQUEST_TYPES[signal].__name__
            raise DecodeError(f"no OTLP records: {len(requests)} {name} holding no {signal} records")
    except DecodeError:
        columns.truncate(mark)  # leave ``columns`` as it was
        del columns.rejects[rejected:]
        raise
    columns.rows += added
    return added


# ---------------------------------------------------------------------------------------------------
# Values (common/v1/common.proto)


def any_value(value, depth: int = 1) -> Any:
    """Map one protobuf ``AnyValue`` to a JSON-compatible Python value, as :func:`.otlp_json.values.any_value`
    maps its OTLP/JSON form: string, bool, int and double as themselves (a non-finite double as ``"NaN"``,
    ``"Infinity"`` or ``"-Infinity"``), bytes as standard base64 text, arrays as lists, kvlists as dicts, an
    unset value as None.

    Raises:
        DecodeError: it nests deeper than :data:`~.otlp_json.values.MAX_ANY_VALUE_DEPTH` levels.
    """
    kind = _which(value, "value")
    if kind is None:
        return None
    if depth > MAX_ANY_VALUE_DEPTH:
        raise DecodeError(f"AnyValue nested deeper than {MAX_ANY_VALUE_DEPTH} levels")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "double_value":
        number = value.double_value
        return number if _isfinite(number) else _NON_FINITE[str(number)]
    if kind == "array_value":
        return [any_value(v, depth + 1) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None  # a kind newer than this decoder


def attributes_dict(key_values) -> dict:
    """Flatten repeated ``KeyValue`` into ``{key: value}`` (the last of duplicate keys wins), values as
    :func:`any_value`."""
    out = {}
    for kv in key_values:
        value = kv.value
        kind = _which(value, "value")
        if kind == "string_value":
            out[kv.key] = value.string_value
        elif kind == "int_value":
            out[kv.key] = value.int_value
        else:
            out[kv.key] = any_value(value)
    return out


def attributes_json(key_values) -> str:
    """:func:`attributes_dict` as compact JSON text (``"{}"`` for none)."""
    if not key_values:
        return "{}"
    return orjson.dumps(attributes_dict(key_values)).decode()


def _id(raw: bytes, size: int, required: bool, field: str) -> bytes | None:
    """``raw`` as an id of ``size`` bytes; empty or all zeros gives None unless required.

    Raises:
        DecodeError: not ``size`` bytes, or empty or all zeros where required.
    """
    if not raw:
        if required:
            raise DecodeError(f"missing {field}")
        return None
    if len(raw) != size:
        raise DecodeError(f"{field} {raw.hex()[:80]!r} is {len(raw)} bytes, not {size}")
    if raw == (_ZERO_TRACE_ID if size == 16 else _ZERO_SPAN_ID):
        if required:
            raise DecodeError(f"{field} is all zeros (invalid)")
        return None
    return raw


def _span_id(raw: bytes, required: bool, field: str) -> int | None:
    raw = _id(raw, 8, required, field)
    return None if raw is None else int.from_bytes(raw, "big", signed=True)


def _fixed64(value: int, field: str) -> int:
    """A ``fixed64``/``uint64`` time (ns since the Unix epoch) or count, as storable (signed 64-bit)."""
    if value > INT64_MAX:
        raise DecodeError(f"{field} {value} is outside the storable range 0 .. 2^63-1")
    return value


def _int32(value: int, field: str) -> int:
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise DecodeError(f"{field} {value} is outside the int32 range")
    return value


def _counts(values, field: str) -> list[int]:
    counts = list(values)
    if counts and max(counts) > INT64_MAX:
        raise DecodeError(f"{field} {max(counts)} is outside the storable range 0 .. 2^63-1")
    return counts


def _opt_float(value: float) -> float | None:
    """NaN is stored as NULL in double precision columns, as :func:`.otlp_json.values.opt_float` stores it."""
    return None if _isnan(value) else value


def _default_none(value: float) -> float | None:
    """A double without presence: its default 0.0 is what JSON leaves out, hence NULL; NaN NULL too."""
    return None if value == 0.0 or _isnan(value) else value


def record_json(message) -> dict:
    """A protobuf record as its OTLP/JSON object (lowerCamelCase names, enums as integers, 64-bit integers as
    strings, trace and span ids as hex): the form a rejected record is quarantined in."""
    return _hex_ids(json_format.MessageToDict(message, use_integers_for_enums=True))


_ID_KEYS = frozenset(("traceId", "spanId", "parentSpanId"))


def _hex_ids(value):
    if type(value) is dict:
        out = {}
        for key, item in value.items():
            if key in _ID_KEYS and type(item) is str:
                try:
                    item = base64.b64decode(item).hex()
                except (binascii.Error, ValueError):
                    pass
            else:
                item = _hex_ids(item)
            out[key] = item
        return out
    if type(value) is list:
        return [_hex_ids(item) for item in value]
    return value


def _resource(resource_entry) -> tuple[str, str | None, dict]:
    """``(attributes JSON text, service.name or None, attributes dict)`` of a Resource{Spans,Metrics,Logs}."""
    attrs = attributes_dict(resource_entry.resource.attributes)
    service = attrs.get("service.name")
    return orjson.dumps(attrs).decode(), service if isinstance(service, str) else None, attrs


def _scopes(scope_entries) -> list:
    """``(scope entry, scope name, scope version, scope attributes JSON text)`` per Scope{Spans,Metrics,Logs}."""
    out = []
    for scope_entry in scope_entries:
        scope = scope_entry.scope
        out.append((scope_entry, scope.name or None, scope.version or None, attributes_json(scope.attributes)))
    return out


# ---------------------------------------------------------------------------------------------------
# Traces (trace/v1/trace.proto)


def _decode_traces(request, columns: Columns, where: str) -> int:
    spans = columns.tables["trace_spans"]
    events = columns.tables["trace_events"]
    links = columns.tables["trace_links"]
    span_lists = [spans[name] for name in TABLE_COLUMNS["trace_spans"]]
    event_lists = [events[name] for name in TABLE_COLUMNS["trace_events"]]
    link_lists = [links[name] for name in TABLE_COLUMNS["trace_links"]]
    prices = columns.prices
    added = 0
    for r, resource_entry in enumerate(request.resource_spans):
        try:
            resource_json, service, resource = _resource(resource_entry)
            scope_entries = _scopes(resource_entry.scope_spans)
        except RECORD_ERRORS as exc:
            columns.reject(f"{where} / resource {r}", exc, record_json(resource_entry))
            continue
        for s, (scope_entry, scope_name, scope_version, scope_json) in enumerate(scope_entries):
            for index, span in enumerate(scope_entry.spans):
                try:
                    span_row, event_rows, link_rows = _span(span, service, scope_name, scope_version, scope_json,
                                                            resource_json, resource, prices)
                except RECORD_ERRORS as exc:
                    columns.reject(f"{where} / resource {r} / scope {s} / span {index}", exc, record_json(span))
                    continue
                for values, value in zip(span_lists, span_row):
                    values.append(value)
                for row in event_rows:
                    for values, value in zip(event_lists, row):
                        values.append(value)
                for row in link_rows:
                    for values, value in zip(link_lists, row):
                        values.append(value)
                added += 1 + len(event_rows) + len(link_rows)
    return added


def _span(span, service, scope_name, scope_version, scope_json, resource_json, resource, prices):
    """One span's row, event rows and link rows, in their tables' column order (as ``otlp_json.traces._span``).

    Raises:
        DecodeError: a field cannot be stored (the message names it).
    """
    trace_id = _id(span.trace_id, 16, True, "traceId")
    span_id = _span_id(span.span_id, True, "spanId")
    start_ns = _fixed64(span.start_time_unix_nano, "startTimeUnixNano")
    end_ns = _fixed64(span.end_time_unix_nano, "endTimeUnixNano")
    attrs = attributes_dict(span.attributes)
    event_rows = []
    span_events = []
    for event_index, event in enumerate(span.events):
        event_time = _fixed64(event.time_unix_nano, f"event {event_index} timeUnixNano")
        event_name = event.name
        event_attrs = attributes_dict(event.attributes)
        event_rows.append((trace_id, span_id, event_index, event_time, event_name,
                           orjson.dumps(event_attrs).decode() if event_attrs else "{}"))
        span_events.append((event_time, event_name, event_attrs))
    link_rows = []
    for link_index, link in enumerate(span.links):
        link_rows.append((
            trace_id, span_id, link_index,
            _id(link.trace_id, 16, False, f"link {link_index} traceId"),
            _span_id(link.span_id, False, f"link {link_index} spanId"),
            link.trace_state or None,
            attributes_json(link.attributes),
        ))
    llm = llm_columns(attrs, resource, span_events, start_ns, end_ns, prices)
    status = span.status
    row = (
        trace_id, span_id, _span_id(span.parent_span_id, False, "parentSpanId"),
        span.trace_state or None, span.name, span.kind,
        service, scope_name, scope_version, start_ns, end_ns,
        status.code, status.message or None,
        orjson.dumps(attrs).decode() if attrs else "{}", resource_json, scope_json, *llm,
    )
    return row, event_rows, link_rows


# ---------------------------------------------------------------------------------------------------
# Logs (logs/v1/logs.proto)


def _decode_logs(request, columns: Columns, where: str) -> int:
    logs = columns.tables["logs"]
    log_lists = [logs[name] for name in TABLE_COLUMNS["logs"]]
    added = 0
    for r, resource_entry in enumerate(request.resource_logs):
        try:
            resource_json, service, _ = _resource(resource_entry)
            scope_entries = _scopes(resource_entry.scope_logs)
        except RECORD_ERRORS as exc:
            columns.reject(f"{where} / resource {r}", exc, record_json(resource_entry))
            continue
        for s, (scope_entry, scope_name, scope_version, scope_json) in enumerate(scope_entries):
            scope_part = f"{scope_name or ''}\x1f{scope_version or ''}\x1f"
            for index, record in enumerate(scope_entry.log_records):
                try:
                    row = _log(record, scope_part, service, scope_name, scope_version, scope_json, resource_json)
                except RECORD_ERRORS as exc:
                    columns.reject(f"{where} / resource {r} / scope {s} / log record {index}", exc, record_json(record))
                    continue
                for values, value in zip(log_lists, row):
                    values.append(value)
                added += 1
    return added


def _log(record, scope_part: str, service, scope_name, scope_version, scope_json, resource_json) -> tuple:
    """One log record's row in the column order of ``logs`` (as ``otlp_json.logs._log``, same ``log_id``).

    Raises:
        DecodeError: a field cannot be stored (the message names it).
    """
    time = _fixed64(record.time_unix_nano, "timeUnixNano")
    observed = _fixed64(record.observed_time_unix_nano, "observedTimeUnixNano")
    trace_id = _id(record.trace_id, 16, False, "traceId")
    span_id = _span_id(record.span_id, False, "spanId")
    flags = record.flags
    severity_number = record.severity_number
    severity_text = record.severity_text or None
    body = orjson.dumps(any_value(record.body)).decode()
    event_name = record.event_name or None
    attrs = attributes_json(record.attributes)
    # The same text otlp_json.logs._log hashes into log_id.
    key = (
        f"{time}\x1f{observed}\x1f{trace_id.hex() if trace_id else ''}\x1f"
        f"{'' if span_id is None else span_id}\x1f{flags}\x1f{severity_number}\x1f{severity_text or ''}\x1f"
        f"{body}\x1f{event_name or ''}\x1f{scope_part}{attrs}\x1f{resource_json}"
    )
    return (
        hashlib.md5(key.encode(), usedforsecurity=False).digest(), time, observed, trace_id, span_id, flags & 0xFF,
        severity_number, severity_text, body, event_name, service, scope_name, scope_version, scope_json, attrs,
        resource_json,
    )


# ---------------------------------------------------------------------------------------------------
# Metrics (metrics/v1/metrics.proto)


def _decode_metrics(request, columns: Columns, where: str) -> int:
    metrics = columns.tables["metrics"]
    metric_lists = [metrics[name] for name in TABLE_COLUMNS["metrics"]]
    points = columns.tables["metric_data_points"]
    point_columns = [(name, points[name]) for name in TABLE_COLUMNS["metric_data_points"]]
    added = 0
    for r, resource_entry in enumerate(request.resource_metrics):
        try:
            resource_json, service, _ = _resource(resource_entry)
            scope_entries = _scopes(resource_entry.scope_metrics)
        except RECORD_ERRORS as exc:
            columns.reject(f"{where} / resource {r}", exc, record_json(resource_entry))
            continue
        for s, (scope_entry, scope_name, scope_version, scope_json) in enumerate(scope_entries):
            for m, metric in enumerate(scope_entry.metrics):
                path = f"{where} / resource {r} / scope {s} / metric {m}"
                name = metric.name
                kind = metric.WhichOneof("data")
                if kind is None:
                    columns.reject(path, DecodeError(
                        f"metric {name!r}: no data (gauge, sum, histogram, exponentialHistogram or summary)"
                    ), record_json(metric))
                    continue
                unit = metric.unit or None
                metric_id = record_key(resource_json, scope_name, scope_version, name, kind, unit)
                data = getattr(metric, kind)
                # proto3 default 0 (unspecified) is what JSON leaves out: NULL, as the JSON decoder gives it
                temporality = (data.aggregation_temporality or None) if kind not in ("gauge", "summary") else None
                monotonic = data.is_monotonic if kind == "sum" else None
                for values, value in zip(metric_lists, (
                    metric_id, name, service, kind, unit, metric.description or None, scope_name,
                    scope_version, scope_json, resource_json,
                )):
                    values.append(value)
                for index, point in enumerate(data.data_points):
                    try:
                        row = _point(kind, point)
                    except RECORD_ERRORS as exc:
                        columns.reject(f"{path} / data point {index}", exc, record_json(point))
                        continue
                    row["point_id"] = record_key(
                        metric_id, row["attributes"], row["start_time_unix_nano"], row["time_unix_nano"]
                    )
                    row["metric_id"] = metric_id
                    row["metric_name"] = name
                    row["aggregation_temporality"] = temporality
                    row["is_monotonic"] = monotonic
                    for column, values in point_columns:
                        values.append(row.get(column))
                    added += 1
    return added


def _exemplars(exemplars) -> str | None:
    if not exemplars:
        return None
    out = []
    for exemplar in exemplars:
        kind = exemplar.WhichOneof("value")
        trace_id = _id(exemplar.trace_id, 16, False, "traceId")
        span_id = exemplar.span_id
        out.append(
            {
                "time_unix_nano": exemplar.time_unix_nano,
                "value": None if kind is None else float(getattr(exemplar, kind)),
                "trace_id": trace_id.hex() if trace_id else None,
                "span_id": span_id.hex() if span_id else None,
                "filtered_attributes": attributes_dict(exemplar.filtered_attributes),
            }
        )
    return orjson.dumps(out).decode()


def _point(kind: str, point) -> dict:
    """One data point's columns (those of its kind) as a dict (as ``otlp_json.metrics._point``).

    Raises:
        DecodeError: a field cannot be stored (the message names it).
    """
    row = {
        "start_time_unix_nano": _fixed64(point.start_time_unix_nano, "startTimeUnixNano"),
        "time_unix_nano": _fixed64(point.time_unix_nano, "timeUnixNano"),
        "attributes": attributes_json(point.attributes),
        "flags": _int32(point.flags, "flags"),
        "exemplars": None if kind == "summary" else _exemplars(point.exemplars),  # summary points have none
    }
    if kind == "gauge" or kind == "sum":
        value_kind = point.WhichOneof("value")
        row["value"] = None if value_kind is None else _opt_float(float(getattr(point, value_kind)))
        return row
    row["count"] = _fixed64(point.count, "count")
    if kind == "summary":
        row["sum"] = _default_none(point.sum)
        row["quantiles"] = orjson.dumps(
            [{"quantile": q.quantile, "value": _opt_float(q.value)} for q in point.quantile_values]
        ).decode()
        return row
    row["sum"] = _opt_float(point.sum) if point.HasField("sum") else None
    row["min"] = _opt_float(point.min) if point.HasField("min") else None
    row["max"] = _opt_float(point.max) if point.HasField("max") else None
    if kind == "histogram":
        row["bucket_counts"] = _counts(point.bucket_counts, "bucketCounts")
        row["explicit_bounds"] = list(point.explicit_bounds)
        return row
    row["scale"] = point.scale
    row["zero_count"] = _fixed64(point.zero_count, "zeroCount")
    row["zero_threshold"] = _default_none(point.zero_threshold)
    for side in ("positive", "negative"):
        buckets = getattr(point, side)
        row[f"{side}_offset"] = buckets.offset
        row[f"{side}_bucket_counts"] = _counts(buckets.bucket_counts, f"{side} bucketCounts")
    return row


_DECODERS = {"traces": _decode_traces, "metrics": _decode_metrics, "logs": _decode_logs}
