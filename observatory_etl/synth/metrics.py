"""The metrics export request of an upload slot: GenAI client histograms, a request counter, a CPU gauge."""

from __future__ import annotations

from bisect import bisect_left

from .catalog import _RESOURCES
from .encoding import _TEMPORALITY_CUMULATIVE, _TEMPORALITY_DELTA, _s
from .export_requests import _Slot
from .rng import _Rng

#: Explicit bucket bounds the GenAI semantic conventions advise for ``gen_ai.client.token.usage``.
TOKEN_USAGE_BOUNDS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
#: Explicit bucket bounds (seconds) advised for ``gen_ai.client.operation.duration``.
DURATION_BOUNDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)


class _Histogram:
    __slots__ = ("count", "sum", "min", "max", "buckets")

    def __init__(self, n_buckets: int) -> None:
        self.count = 0
        self.sum = 0
        self.min = None
        self.max = None
        self.buckets = [0] * n_buckets

    def add(self, value: float, bounds: tuple) -> None:
        self.count += 1
        self.sum += value
        self.min = value if self.min is None or value < self.min else self.min
        self.max = value if self.max is None or value > self.max else self.max
        self.buckets[bisect_left(bounds, value)] += 1

    def point(self, start: str, time: str, bounds: tuple, attributes: list) -> dict:
        return {
            "startTimeUnixNano": start,
            "timeUnixNano": time,
            "count": str(self.count),
            "sum": self.sum,
            "bucketCounts": [str(c) for c in self.buckets],
            "explicitBounds": bounds,
            "attributes": attributes,
            "min": self.min,
            "max": self.max,
        }


def _metrics_request(slot: _Slot, rng: _Rng, start_ns: int, time_ns: int, day_start_ns: int,
                     requests_before: list[int], hour_offset: int, traces_per_hour: int) -> tuple[dict, int]:
    """The slot's metrics request and its data point count.

    Histograms are delta over [slot start, upload time] and aggregate the slot's ``otel_genai`` chat and
    embeddings spans (``slot.calls``); ``app.requests`` is cumulative since midnight UTC (a daily
    restart), modelled as twice the traced requests (50% head sampling) and kept monotonic by giving
    every earlier hour of the day a ``2 * traces_per_hour`` baseline.
    """
    start, time = str(start_ns), str(time_ns)
    token_usage: dict[int, dict[str, dict[tuple, _Histogram]]] = {}
    durations: dict[int, dict[str, dict[tuple, _Histogram]]] = {}
    scopes: dict[str, dict] = {}
    n_tok, n_dur = len(TOKEN_USAGE_BOUNDS) + 1, len(DURATION_BOUNDS) + 1
    for resource_index, model, operation, input_tokens, output_tokens, seconds, error_type in slot.calls:
        scopes[model.scope["name"]] = model.scope
        base = (operation, model.provider, model.request, None if error_type else model.response)
        by_scope = durations.setdefault(resource_index, {}).setdefault(model.scope["name"], {})
        key = base + (error_type,)
        (by_scope.get(key) or by_scope.setdefault(key, _Histogram(n_dur))).add(seconds, DURATION_BOUNDS)
        by_scope = token_usage.setdefault(resource_index, {}).setdefault(model.scope["name"], {})
        for token_type, tokens in (("input", input_tokens), ("output", output_tokens)):
            if tokens is not None:
                key = base + (token_type,)
                (by_scope.get(key) or by_scope.setdefault(key, _Histogram(n_tok))).add(tokens, TOKEN_USAGE_BOUNDS)

    def attrs(key: tuple, last: str) -> list:
        operation, provider, request, response, extra = key
        out = [_s("gen_ai.operation.name", operation), _s("gen_ai.provider.name", provider),
               _s("gen_ai.request.model", request)]
        if response is not None:
            out.append(_s("gen_ai.response.model", response))
        if extra is not None:
            out.append(_s(last, extra))
        return out

    points = 0
    resource_metrics = []
    for resource in _RESOURCES:
        r = resource.index
        scope_metrics = []
        for scope_name in sorted(set(token_usage.get(r, {})) | set(durations.get(r, {}))):
            metrics = []
            for histograms, name, unit, description, bounds, last in (
                (token_usage, "gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.",
                 TOKEN_USAGE_BOUNDS, "gen_ai.token.type"),
                (durations, "gen_ai.client.operation.duration", "s", "GenAI operation duration.",
                 DURATION_BOUNDS, "error.type"),
            ):
                series = histograms.get(r, {}).get(scope_name, {})
                if series:
                    metrics.append({
                        "name": name,
                        "unit": unit,
                        "description": description,
                        "histogram": {"dataPoints": [series[k].point(start, time, bounds, attrs(k, last))
                                                     for k in sorted(series, key=repr)],
                                      "aggregationTemporality": _TEMPORALITY_DELTA},
                    })
                    points += len(series)
            scope_metrics.append({"scope": scopes[scope_name], "metrics": metrics})
        requests_before[r] += slot.requests_by_resource[r]
        cumulative = 2 * (traces_per_hour * hour_offset + requests_before[r])
        scope_metrics.append({"scope": resource.service.scope, "metrics": [
            {
                "name": "app.requests",
                "unit": "{request}",
                "description": "Agent requests handled since process start.",
                "sum": {"dataPoints": [{"startTimeUnixNano": str(day_start_ns), "timeUnixNano": time,
                                        "asInt": str(cumulative),
                                        "attributes": [_s("http.route", resource.service.route)]}],
                        "aggregationTemporality": _TEMPORALITY_CUMULATIVE, "isMonotonic": True},
            },
            {
                "name": "process.cpu.utilization",
                "unit": "1",
                "description": "CPU utilization of the process since the last measurement.",
                "gauge": {"dataPoints": [{"timeUnixNano": time, "asDouble": round(rng.uniform(0.04, 0.85), 4),
                                          "attributes": [_s("cpu.mode", "user")]}]},
            },
        ]})
        points += 2
        resource_metrics.append({"resource": resource.otlp, "scopeMetrics": scope_metrics})
    return {"resourceMetrics": resource_metrics}, points
