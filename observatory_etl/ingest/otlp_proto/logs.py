"""OTLP protobuf log records (logs/v1/logs.proto) into the same column lists as the JSON decoder."""

from __future__ import annotations

import orjson

from ..columns import RECORD_ERRORS, TABLE_COLUMNS, Columns
from ..otlp_json.values import log_id
from .values import (
    any_value,
    attributes_json,
    fixed64,
    id_bytes,
    read_resource,
    record_json,
    scopes,
    span_id_int,
)

# ---------------------------------------------------------------------------------------------------
# Logs (logs/v1/logs.proto)


def decode_logs(request, columns: Columns, where: str) -> int:
    logs = columns.tables["logs"]
    log_lists = [logs[name] for name in TABLE_COLUMNS["logs"]]
    added = 0
    for r, resource_entry in enumerate(request.resource_logs):
        try:
            resource_json, service, _ = read_resource(resource_entry)
            scope_entries = scopes(resource_entry.scope_logs)
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
    time = fixed64(record.time_unix_nano, "timeUnixNano")
    observed = fixed64(record.observed_time_unix_nano, "observedTimeUnixNano")
    trace_id = id_bytes(record.trace_id, 16, False, "traceId")
    span_id = span_id_int(record.span_id, False, "spanId")
    flags = record.flags
    severity_number = record.severity_number
    severity_text = record.severity_text or None
    body = orjson.dumps(any_value(record.body)).decode()
    event_name = record.event_name or None
    attrs = attributes_json(record.attributes)
    return (
        log_id(time, observed, trace_id, span_id, flags, severity_number, severity_text, body, event_name, scope_part,
               attrs, resource_json),
        time, observed, trace_id, span_id, flags & 0xFF,
        severity_number, severity_text, body, event_name, service, scope_name, scope_version, scope_json, attrs,
        resource_json,
    )
