"""One upload slot's content and its OTLP traces and logs export requests."""

from __future__ import annotations

from .catalog import _RESOURCES


class _Slot:
    """Spans, logs and LLM-call measurements of one upload slot (one traces/logs/metrics file triple)."""

    __slots__ = ("traces", "logs", "calls", "requests_by_resource", "span_count", "event_count")

    def __init__(self) -> None:
        self.traces: list[tuple[int, list[tuple[dict, dict]]]] = []  # (resource index, [(scope, span)])
        self.logs: list[tuple[int, dict, dict]] = []  # (resource index, scope, record)
        # (resource index, model, operation, input tokens|None, output tokens|None, seconds, error.type|None)
        self.calls: list[tuple] = []
        self.requests_by_resource = [0] * len(_RESOURCES)
        self.span_count = 0
        self.event_count = 0


def _group(items: list[tuple[int, dict, dict]]) -> list[tuple[int, list[tuple[dict, list[dict]]]]]:
    """Group (resource index, scope, item) by resource (fleet order) then scope (by name)."""
    by_resource: dict[int, dict[str, tuple[dict, list[dict]]]] = {}
    for resource_index, scope, item in items:
        scopes = by_resource.setdefault(resource_index, {})
        entry = scopes.get(scope["name"])
        if entry is None:
            entry = scopes[scope["name"]] = (scope, [])
        entry[1].append(item)
    return [(r, [by_resource[r][name] for name in sorted(by_resource[r])]) for r in sorted(by_resource)]


def _traces_request(traces: list[tuple[int, list[tuple[dict, dict]]]]) -> dict:
    items = [(r, scope, span) for r, spans in traces for scope, span in spans]
    return {"resourceSpans": [
        {"resource": _RESOURCES[r].otlp,
         "scopeSpans": [{"scope": scope, "spans": spans} for scope, spans in scopes]}
        for r, scopes in _group(items)
    ]}


def _logs_request(logs: list[tuple[int, dict, dict]]) -> dict:
    return {"resourceLogs": [
        {"resource": _RESOURCES[r].otlp,
         "scopeLogs": [{"scope": scope, "logRecords": records} for scope, records in scopes]}
        for r, scopes in _group(logs)
    ]}
