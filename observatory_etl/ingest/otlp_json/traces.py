"""Decode OTLP/JSON ``resourceSpans`` (opentelemetry-proto ``trace/v1/trace.proto``) into span, event and link
columns, with the canonical LLM columns of each span (:mod:`observatory_etl.llm.mapping`).

A span with its events and links is one record: a malformed one is rejected whole (``Columns.reject``)
and the others decode. Links with an all-zero or empty trace or span id are kept with NULL ids (trace
API spec, §Link: such links SHOULD be recorded when their attributes or trace state are non-empty).
"""

from __future__ import annotations

import orjson

from ...llm.mapping import resource_environment
from ..columns import RECORD_ERRORS, Columns, DecodeError, append_rows
from .values import (
    SPAN_KINDS,
    STATUS_CODES,
    attributes_dict,
    attributes_json,
    enum_value,
    read_resource,
    record_list,
    scopes,
    span_id_int,
    text,
    time_ns,
    trace_id_bytes,
)


def decode_traces(resource_spans: list, columns: Columns, where: str) -> int:
    """Append the spans, events and links of ``resourceSpans`` (trace/v1/trace.proto) to ``columns``, with each
    span's canonical LLM columns; returns records added (spans + events + links).

    A malformed resource, scope or span is rejected into ``columns.rejects`` at its path under ``where``
    (``request 1 / resource 0 / scope 0 / span 5``); everything else decodes.
    """
    spans = columns.tables["trace_spans"]
    events = columns.tables["trace_events"]
    links = columns.tables["trace_links"]
    span_lists = [spans[name] for name in spans]  # in DECODED_COLUMNS["trace_spans"] order
    event_lists = [events[name] for name in events]
    link_lists = [links[name] for name in links]
    llm = columns.llm
    added = 0
    for r, resource_entry in enumerate(resource_spans):
        try:
            resource_json, service, resource = read_resource(resource_entry)
            environment = resource_environment(resource)
            scope_entries = list(scopes(resource_entry, "scopeSpans"))
        except RECORD_ERRORS as exc:
            columns.reject(f"{where} / resource {r}", exc, resource_entry)
            continue
        for s, (scope_entry, scope_name, scope_version, scope_json) in enumerate(scope_entries):
            try:
                scope_spans = record_list(scope_entry, "spans", "")
            except DecodeError as exc:
                columns.reject(f"{where} / resource {r} / scope {s}", exc, scope_entry)
                continue
            for index, span in enumerate(scope_spans):
                try:
                    span_row, event_rows, link_rows, attrs, span_events = _span(
                        span, service, scope_name, scope_version, scope_json, resource_json)
                except RECORD_ERRORS as exc:
                    columns.reject(f"{where} / resource {r} / scope {s} / span {index}", exc, span)
                    continue
                llm.add(len(span_lists[0]), attrs, environment, span_events)
                append_rows(span_lists, (span_row,))
                append_rows(event_lists, event_rows)
                append_rows(link_lists, link_rows)
                added += 1 + len(event_rows) + len(link_rows)
    return added


def _span(span: dict, service, scope_name, scope_version, scope_json, resource_json):
    """One span's row, event rows and link rows, in their tables' column order (DECODED_COLUMNS), and its
    attributes and events (``(time ns, name, attributes)``) for its LLM columns.

    Raises:
        DecodeError: a field is malformed (the message names it); other RECORD_ERRORS for wrong JSON types.
    """
    if type(span) is not dict:
        raise DecodeError(f"a span must be an object, got {type(span).__name__}")
    trace_id = trace_id_bytes(span.get("traceId"))
    span_id = span_id_int(span.get("spanId"))
    status = span.get("status") or {}
    start_ns = time_ns(span.get("startTimeUnixNano"), "startTimeUnixNano")
    end_ns = time_ns(span.get("endTimeUnixNano"), "endTimeUnixNano")
    attrs = attributes_dict(span.get("attributes"))
    event_rows = []
    span_events = []
    for event_index, event in enumerate(span.get("events") or ()):
        event_time = time_ns(event.get("timeUnixNano"), f"event {event_index} timeUnixNano")
        event_name = text(event.get("name"), f"event {event_index} name") or ""
        event_attrs = attributes_dict(event.get("attributes"))
        event_rows.append((trace_id, span_id, event_index, event_time, event_name,
                           orjson.dumps(event_attrs).decode() if event_attrs else "{}"))
        span_events.append((event_time, event_name, event_attrs))
    link_rows = []
    for link_index, link in enumerate(span.get("links") or ()):
        link_rows.append((
            trace_id, span_id, link_index,
            trace_id_bytes(link.get("traceId"), required=False, field=f"link {link_index} traceId"),
            span_id_int(link.get("spanId"), required=False, field=f"link {link_index} spanId"),
            text(link.get("traceState"), f"link {link_index} traceState"),
            attributes_json(link.get("attributes")),
        ))
    row = (
        trace_id, span_id, span_id_int(span.get("parentSpanId"), required=False, field="parentSpanId"),
        text(span.get("traceState"), "traceState"), text(span.get("name"), "name") or "",
        enum_value(span.get("kind"), SPAN_KINDS, "kind"),
        service, scope_name, scope_version, start_ns, end_ns,
        enum_value(status.get("code"), STATUS_CODES, "status code"), text(status.get("message"), "status message"),
        orjson.dumps(attrs).decode() if attrs else "{}", resource_json, scope_json,
    )
    return row, event_rows, link_rows, attrs, span_events
