"""Decode OTLP/JSON ``resourceLogs`` (opentelemetry-proto ``logs/v1/logs.proto``) into log columns.

A log record is one record: a malformed one is rejected (``Columns.reject``) and the others decode.
"""

from __future__ import annotations

import orjson

from ..columns import RECORD_ERRORS, TABLE_COLUMNS, Columns, DecodeError
from .values import (
    SEVERITY_NUMBERS,
    any_value,
    attributes_json,
    enum_value,
    log_id,
    read_resource,
    record_list,
    scopes,
    span_id_int,
    text,
    time_ns,
    to_int,
    trace_id_bytes,
)


def decode_logs(resource_logs: list, columns: Columns, where: str) -> int:
    """Append the log records of ``resourceLogs`` (logs/v1/logs.proto) to ``columns``; returns records added.

    ``log_id`` is the MD5 of the record's identity fields (:func:`~.values.log_id`). A malformed
    resource, scope or log record is rejected into ``columns.rejects`` at its path under ``where``
    (``request 1 / resource 0 / scope 0 / log record 3``).
    """
    logs = columns.tables["logs"]
    log_lists = [logs[name] for name in TABLE_COLUMNS["logs"]]
    added = 0
    for r, resource_entry in enumerate(resource_logs):
        try:
            resource_json, service, _ = read_resource(resource_entry)
            scope_entries = list(scopes(resource_entry, "scopeLogs"))
        except RECORD_ERRORS as exc:
            columns.reject(f"{where} / resource {r}", exc, resource_entry)
            continue
        for s, (scope_entry, scope_name, scope_version, scope_json) in enumerate(scope_entries):
            scope_part = f"{scope_name or ''}\x1f{scope_version or ''}\x1f"
            try:
                records = record_list(scope_entry, "logRecords", "")
            except DecodeError as exc:
                columns.reject(f"{where} / resource {r} / scope {s}", exc, scope_entry)
                continue
            for index, record in enumerate(records):
                try:
                    row = _log(record, scope_part, service, scope_name, scope_version, scope_json, resource_json)
                except RECORD_ERRORS as exc:
                    columns.reject(f"{where} / resource {r} / scope {s} / log record {index}", exc, record)
                    continue
                for values, value in zip(log_lists, row):
                    values.append(value)
                added += 1
    return added


def _log(record: dict, scope_part: str, service, scope_name, scope_version, scope_json, resource_json) -> tuple:
    """One log record's row in the column order of ``logs``.

    Raises:
        DecodeError: a field is malformed (the message names it); other RECORD_ERRORS for wrong JSON types.
    """
    if type(record) is not dict:
        raise DecodeError(f"a log record must be an object, got {type(record).__name__}")
    time = time_ns(record.get("timeUnixNano"), "timeUnixNano")
    observed = time_ns(record.get("observedTimeUnixNano"), "observedTimeUnixNano")
    trace_id = trace_id_bytes(record.get("traceId"), required=False)
    span_id = span_id_int(record.get("spanId"), required=False)
    flags = to_int(record.get("flags") or 0)
    severity_number = enum_value(record.get("severityNumber"), SEVERITY_NUMBERS, "severityNumber")
    severity_text = text(record.get("severityText"), "severityText")
    body = orjson.dumps(any_value(record.get("body"))).decode()
    event_name = text(record.get("eventName"), "eventName")
    attrs = attributes_json(record.get("attributes"))
    return (
        log_id(time, observed, trace_id, span_id, flags, severity_number, severity_text, body, event_name, scope_part,
               attrs, resource_json),
        time, observed, trace_id, span_id, flags & 0xFF,
        severity_number, severity_text, body, event_name, service, scope_name, scope_version, scope_json, attrs,
        resource_json,
    )
