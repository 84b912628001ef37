"""Decode OTLP/JSON ``resourceSpans`` (opentelemetry-proto ``trace/v1/trace.proto``) into span, event and link
columns, with the canonical LLM columns of each span (:mod:`observatory_etl.llm.mapping`).
"""

from __future__ import annotations

import orjson

from ...llm.mapping import llm_columns
from ...tables import LLM_COLUMNS
from ..columns import Columns, DecodeError
from .values import (
    attributes_dict,
    attributes_json,
    read_resource,
    scopes,
    span_id_int,
    to_int,
    trace_id_bytes,
)


def decode_traces(resource_spans: list, columns: Columns) -> int:
    """Append the spans, events and links of ``resourceSpans`` (trace/v1/trace.proto) to ``columns``, with each
    span's canonical LLM columns; returns records added.

    Raises:
        DecodeError: a span is malformed (the message names it).
    """
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
        resource_json, service, resource = read_resource(resource_entry)
        for scope_entry, scope_name, scope_version, scope_json in scopes(resource_entry, "scopeSpans"):
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
                    start_ns = to_int(span.get("startTimeUnixNano") or 0)
                    end_ns = to_int(span.get("endTimeUnixNano") or 0)
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
                        event_time = to_int(event.get("timeUnixNano") or 0)
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
