"""Decode OTLP/JSON ``resourceLogs`` (opentelemetry-proto ``logs/v1/logs.proto``) into log columns.
"""

from __future__ import annotations

import hashlib

import orjson

from ..columns import TABLE_COLUMNS, Columns, DecodeError
from .values import (
    any_value,
    attributes_json,
    read_resource,
    scopes,
    span_id_int,
    to_int,
    trace_id_bytes,
)


def decode_logs(resource_logs: list, columns: Columns) -> int:
    """Append the log records of ``resourceLogs`` (logs/v1/logs.proto) to ``columns``; returns records added.

    ``log_id`` is the MD5 of the record's identity fields (see :func:`~.values.record_key`).

    Raises:
        DecodeError: a log record is malformed (the message names it).
    """
    logs = columns.tables["logs"]
    (
        l_id, l_time, l_observed, l_trace, l_span, l_flags, l_severity, l_severity_text, l_body, l_event,
        l_service, l_scope, l_scope_version, l_scope_attrs, l_attrs, l_resource,
    ) = (logs[name] for name in TABLE_COLUMNS["logs"])
    md5 = hashlib.md5
    added = 0
    for resource_entry in resource_logs:
        resource_json, service, _ = read_resource(resource_entry)
        for scope_entry, scope_name, scope_version, scope_json in scopes(resource_entry, "scopeLogs"):
            # log_id = record_key(time, observed time, trace id, span id, flags, severity number, severity
            # text, body, event name, scope name, scope version, attributes, resource attributes), inlined.
            scope_part = f"{scope_name or ''}\x1f{scope_version or ''}\x1f"
            for index, record in enumerate(scope_entry.get("logRecords") or ()):
                try:
                    time_ns = to_int(record.get("timeUnixNano") or 0)
                    observed_ns = to_int(record.get("observedTimeUnixNano") or 0)
                    trace_id = trace_id_bytes(record.get("traceId"), required=False)
                    span_id = span_id_int(record.get("spanId"), required=False)
                    flags = to_int(record.get("flags") or 0)
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
