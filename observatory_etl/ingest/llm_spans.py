"""Decode native LLM-span files (``llm_spans_<key>.jsonl``) into the same columns as OTLP spans.

One JSON object per line, as ``observatory_etl/ingest/llm_span.schema.json`` defines it (the seed storage
layer's LLM-span format): ids in hex, times as RFC 3339 strings or integer ns, token usage, provided
cost in USD, latency in ms, messages, status, metadata (user, session, environment, service, tags),
custom attributes and events. Each line becomes one ``trace_spans`` row (``scope_name = 'llm_spans'``,
``kind`` 0) with its canonical LLM columns filled directly, and its events become ``trace_events`` rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from .columns import RECORD_ERRORS, Columns, DecodeError
from .otlp_json.values import INT64_MAX, span_id_int, trace_id_bytes

SCOPE_NAME = "llm_spans"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_STATUS = {None: 0, "unset": 0, "ok": 1, "error": 2}
_SPAN_TYPES = {"GENERATION", "EMBEDDING", "AGENT", "TOOL", "RETRIEVER", "RERANKER", "CHAIN", "GUARDRAIL", "EVALUATOR", "SPAN"}


def time_ns(value: Any, field: str) -> int:
    """An RFC 3339 string with an offset (``2026-11-01T00:12:03.123456Z``) or integer ns → ns since the epoch.

    Raises:
        DecodeError: neither form, a string without a UTC offset, or a time outside 1677 .. 2262 (the signed
            64-bit ns the frames hold).
    """
    if type(value) is int and 0 <= value <= INT64_MAX:
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.upper())  # RFC 3339 allows lower-case 't' and 'z'
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            ns = (moment - _EPOCH) // timedelta(microseconds=1) * 1000
            if -INT64_MAX <= ns <= INT64_MAX:
                return ns
    raise DecodeError(f"{field} {value!r:.80} is not an RFC 3339 time with an offset or non-negative integer nanoseconds")


def _object(line: dict, key: str) -> dict:
    value = line.get(key)
    if value is None:
        return {}
    if type(value) is not dict:
        raise DecodeError(f"{key} must be an object, got {type(value).__name__}")
    return value


def _count(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= INT64_MAX:
        raise DecodeError(f"{field} must be a non-negative 64-bit integer, got {value!r:.80}")
    return value


def _number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise DecodeError(f"{field} must be a non-negative number, got {value!r:.80}")
    return float(value)


def _string(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise DecodeError(f"{field} must be a string, got {value!r:.80}")
    return value


def decode(data: bytes, columns: Columns) -> int:
    """Decode one LLM-span JSON Lines file into ``columns``; returns spans + events added.

    Each line is one record: a line that is not JSON, misses a required field or has a field of the wrong
    type is rejected into ``columns.rejects`` (path ``line N``, with its reason and, when it parsed, its
    JSON) and adds nothing; the other lines decode.
    """
    added = 0
    for number, text in enumerate(data.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            columns.reject(f"line {number}", f"not JSON: {exc}")
            continue
        mark = columns.mark()
        try:
            if type(line) is not dict:
                raise DecodeError(f"expected a JSON object, got {type(line).__name__}")
            added += _decode_span(line, columns)
        except RECORD_ERRORS as exc:
            columns.truncate(mark)
            columns.reject(f"line {number}", exc, line)
    columns.rows += added
    return added


def _decode_span(line: dict, columns: Columns) -> int:
    for field in ("trace_id", "span_id", "name", "start_time", "end_time"):
        if line.get(field) is None:
            raise DecodeError(f"missing {field}")
    trace_id = trace_id_bytes(line["trace_id"], field="trace_id")
    span_id = span_id_int(line["span_id"], field="span_id")
    parent = span_id_int(line.get("parent_span_id"), required=False, field="parent_span_id")
    start_ns = time_ns(line["start_time"], "start_time")
    end_ns = time_ns(line["end_time"], "end_time")
    status = line.get("status")
    if status not in _STATUS:
        raise DecodeError(f"status {status!r:.40} is not ok, error or unset")
    span_type = line.get("span_type") or "GENERATION"
    if span_type not in _SPAN_TYPES:
        raise DecodeError(f"span_type {span_type!r:.40} is not one of {sorted(_SPAN_TYPES)}")
    usage, cost, latency, metadata = (_object(line, k) for k in ("usage", "cost", "latency", "metadata"))
    attributes = _object(line, "attributes")
    tags = metadata.get("tags")
    if tags:
        attributes = {**attributes, "tags": tags}
    service = _string(metadata.get("service_name"), "metadata.service_name")

    provider = _string(line.get("provider"), "provider")
    provider = provider.lower() if provider else None
    model = _string(line.get("model"), "model")
    request_model = _string(line.get("request_model"), "request_model") or model
    input_tokens = _count(usage.get("prompt_tokens"), "usage.prompt_tokens")
    output_tokens = _count(usage.get("completion_tokens"), "usage.completion_tokens")
    total_tokens = _count(usage.get("total_tokens"), "usage.total_tokens")
    if total_tokens is None and (input_tokens is not None or output_tokens is not None):
        total_tokens = (input_tokens or 0) + (output_tokens or 0)
        if total_tokens > INT64_MAX:  # each part fits a bigint, their sum does not: leave the total unknown
            total_tokens = None
    cache_read = _count(usage.get("cache_read_tokens"), "usage.cache_read_tokens")
    cache_creation = _count(usage.get("cache_creation_tokens"), "usage.cache_creation_tokens")
    # Provided costs; the chunk's frame prices the spans without any (observatory_etl.llm.mapping._with_costs).
    costs = (_number(cost.get("prompt"), "cost.prompt"), _number(cost.get("completion"), "cost.completion"),
             _number(cost.get("total"), "cost.total"), None)
    latency_ms = _number(latency.get("total_ms"), "latency.total_ms")
    finish = line.get("finish_reasons")
    if finish is not None and (type(finish) is not list or not all(type(f) is str for f in finish)):
        raise DecodeError(f"finish_reasons must be an array of strings, got {finish!r:.80}")
    llm = (
        span_type, None, provider, request_model, model, input_tokens, output_tokens, total_tokens, cache_read,
        cache_creation, _count(usage.get("reasoning_tokens"), "usage.reasoning_tokens"), *costs,
        latency_ms if latency_ms is not None else (end_ns - start_ns) / 1e6,
        _number(latency.get("ttft_ms"), "latency.ttft_ms"),
        finish or None,
        _string(metadata.get("session_id"), "metadata.session_id"), _string(metadata.get("user_id"), "metadata.user_id"),
        _string(metadata.get("environment"), "metadata.environment"),
        None if line.get("input") is None else orjson.dumps(line["input"]).decode(),
        None if line.get("output") is None else orjson.dumps(line["output"]).decode(),
    )
    row = {
        "trace_id": trace_id, "span_id": span_id, "parent_span_id": parent, "trace_state": None,
        "name": str(line["name"]), "kind": 0, "service_name": service, "scope_name": SCOPE_NAME,
        "scope_version": None, "start_time_unix_nano": start_ns, "end_time_unix_nano": end_ns,
        "status_code": _STATUS[status], "status_message": _string(line.get("status_message"), "status_message"),
        "attributes": orjson.dumps(attributes).decode(),
        "resource_attributes": orjson.dumps({"service.name": service} if service else {}).decode(),
        "scope_attributes": "{}",
    }
    spans = columns.tables["trace_spans"]
    columns.llm.add_resolved(len(spans["trace_id"]), llm)
    for name, values in spans.items():
        values.append(row[name])
    events = columns.tables["trace_events"]
    for index, event in enumerate(line.get("events") or ()):
        if type(event) is not dict or not event.get("name"):
            raise DecodeError(f"event {index} must be an object with a name")
        events["trace_id"].append(trace_id)
        events["span_id"].append(span_id)
        events["event_index"].append(index)
        events["time_unix_nano"].append(time_ns(event["time"], f"event {index} time") if event.get("time") is not None else 0)
        events["name"].append(str(event["name"]))
        events["attributes"].append(orjson.dumps(event.get("attributes") or {}).decode())
    return 1 + len(line.get("events") or ())
