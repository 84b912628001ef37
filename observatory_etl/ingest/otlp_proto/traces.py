"""OTLP protobuf spans, events and links (trace/v1/trace.proto) into the same column lists as the JSON decoder."""

from __future__ import annotations

import orjson

from ...llm.mapping import resource_environment
from ..columns import DECODED_COLUMNS, RECORD_ERRORS, Columns, append_rows
from .values import (
    attributes_dict,
    attributes_json,
    fixed64,
    id_bytes,
    read_resource,
    record_json,
    scopes,
    span_id_int,
)

# ---------------------------------------------------------------------------------------------------
# Traces (trace/v1/trace.proto)


def decode_traces(request, columns: Columns, where: str) -> int:
    spans = columns.tables["trace_spans"]
    events = columns.tables["trace_events"]
    links = columns.tables["trace_links"]
    span_lists = [spans[name] for name in DECODED_COLUMNS["trace_spans"]]
    event_lists = [events[name] for name in DECODED_COLUMNS["trace_events"]]
    link_lists = [links[name] for name in DECODED_COLUMNS["trace_links"]]
    llm = columns.llm
    added = 0
    for r, resource_entry in enumerate(request.resource_spans):
        try:
            resource_json, service, resource = read_resource(resource_entry)
            environment = resource_environment(resource)
            scope_entries = scopes(resource_entry.scope_spans)
        except RECORD_ERRORS as exc:
            columns.reject(f"{where} / resource {r}", exc, record_json(resource_entry))
            continue
        for s, (scope_entry, scope_name, scope_version, scope_json) in enumerate(scope_entries):
            for index, span in enumerate(scope_entry.spans):
                try:
                    span_row, event_rows, link_rows, attrs, span_events = _span(
                        span, service, scope_name, scope_version, scope_json, resource_json)
                except RECORD_ERRORS as exc:
                    columns.reject(f"{where} / resource {r} / scope {s} / span {index}", exc, record_json(span))
                    continue
                llm.add(len(span_lists[0]), attrs, environment, span_events)
                append_rows(span_lists, (span_row,))
                append_rows(event_lists, event_rows)
                append_rows(link_lists, link_rows)
                added += 1 + len(event_rows) + len(link_rows)
    return added


def _span(span, service, scope_name, scope_version, scope_json, resource_json):
    """One span's row, event rows and link rows, in their tables' column order (as ``otlp_json.traces._span``).

    Raises:
        DecodeError: a field cannot be stored (the message names it).
    """
    trace_id = id_bytes(span.trace_id, 16, True, "traceId")
    span_id = span_id_int(span.span_id, True, "spanId")
    start_ns = fixed64(span.start_time_unix_nano, "startTimeUnixNano")
    end_ns = fixed64(span.end_time_unix_nano, "endTimeUnixNano")
    attrs = attributes_dict(span.attributes)
    event_rows = []
    span_events = []
    for event_index, event in enumerate(span.events):
        event_time = fixed64(event.time_unix_nano, f"event {event_index} timeUnixNano")
        event_name = event.name
        event_attrs = attributes_dict(event.attributes)
        event_rows.append((trace_id, span_id, event_index, event_time, event_name,
                           orjson.dumps(event_attrs).decode() if event_attrs else "{}"))
        span_events.append((event_time, event_name, event_attrs))
    link_rows = []
    for link_index, link in enumerate(span.links):
        link_rows.append((
            trace_id, span_id, link_index,
            id_bytes(link.trace_id, 16, False, f"link {link_index} traceId"),
            span_id_int(link.span_id, False, f"link {link_index} spanId"),
            link.trace_state or None,
            attributes_json(link.attributes),
        ))
    status = span.status
    row = (
        trace_id, span_id, span_id_int(span.parent_span_id, False, "parentSpanId"),
        span.trace_state or None, span.name, span.kind,
        service, scope_name, scope_version, start_ns, end_ns,
        status.code, status.message or None,
        orjson.dumps(attrs).decode() if attrs else "{}", resource_json, scope_json,
    )
    return row, event_rows, link_rows, attrs, span_events
