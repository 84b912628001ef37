"""Synthetic LLM telemetry: OTLP/JSON files in the OpenTelemetry Collector landing layout.

:func:`write_landing` fills a landing zone with what an OpenTelemetry Collector (``awss3exporter``,
``otlp_json`` marshaler) would upload for a few instrumented LLM applications, so the ETL can be run,
tested and benchmarked without real traffic. Keys, relative to the landing root::

    year=YYYY/month=MM/day=DD/hour=HH/minute=MM/{traces|metrics|logs}_<8 hex>.json[.gz|.zst]

What one hour contains
    * ``files_per_hour`` upload slots spread over the hour; each slot writes one traces, one logs and
      one metrics file at a minute inside its share of the hour.
    * Traces of three services (``support-agent`` with two instances, ``rag-api``, ``summarizer``),
      following the OpenTelemetry GenAI semantic conventions: a root ``invoke_agent <agent>`` span over
      1-8 children -- ``chat <model>`` LLM client spans, ``execute_tool <tool>`` spans (sometimes with a
      nested ``chat`` span) and ``retrieve documents`` spans (Qdrant search with a nested
      ``embeddings <model>`` span). About 3% of LLM calls fail (``429 Too Many Requests`` etc.), some
      LLM spans carry streaming-chunk span events, ~2% of root spans link to an earlier trace of the
      same conversation, and ~5% of traces are late arrivals that started up to four minutes before
      the hour (all other spans lie inside the hour).
    * 1-3 log records per LLM / tool span, correlated by traceId/spanId (flags 1), some of them
      ``gen_ai.client.inference.operation.details`` events.
    * Per slot and service instance: delta histograms ``gen_ai.client.token.usage`` and
      ``gen_ai.client.operation.duration`` aggregated exactly from that slot's LLM and embeddings
      spans, a cumulative monotonic sum ``app.requests`` and a gauge ``process.cpu.utilization``.

Encoding follows the OTLP "JSON Protobuf Encoding" as the Go collector writes it: lowerCamelCase
names, lowercase hex trace (32) and span (16) ids, enums as integers, 64-bit integers (timestamps in
Unix nanoseconds, ``intValue``, ``count``, ``bucketCounts``, ``asInt``) as JSON strings, zero values
omitted (a root span has no ``parentSpanId``, an unset status is ``{}``, empty ``events``/``links``
are left out). Odd-numbered traces files (counting ``hour * files_per_hour + slot``) are JSON Lines
with several export requests, one per line, as the collector's ``fileexporter`` writes them; every
other file holds exactly one request.

Output is a pure function of the arguments and the hour: each hour draws from its own
``random.Random(f"{seed}:{hour}")``, so re-running -- or generating a sub-range -- reproduces
byte-identical objects under identical keys (gzip is written with ``mtime=0``).
"""

from __future__ import annotations

import gzip
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import accumulate

import obstore
import orjson
import zstandard

from .gc_pause import gc_paused
from .landing import open_store

__all__ = ["SynthStats", "write_landing", "TOKEN_USAGE_BOUNDS", "DURATION_BOUNDS"]

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000

#: Explicit bucket bounds the GenAI semantic conventions advise for ``gen_ai.client.token.usage``.
TOKEN_USAGE_BOUNDS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
#: Explicit bucket bounds (seconds) advised for ``gen_ai.client.operation.duration``.
DURATION_BOUNDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)

_EXTENSIONS = {"gzip": ".json.gz", "zstd": ".json.zst", "none": ".json"}

# OTLP enums.
_KIND_INTERNAL, _KIND_CLIENT = 1, 3
_STATUS_UNSET: dict = {}
_STATUS_OK = {"code": 1}
_SEV_INFO, _SEV_WARN, _SEV_ERROR = (9, "INFO"), (13, "WARN"), (17, "ERROR")
_TEMPORALITY_DELTA, _TEMPORALITY_CUMULATIVE = 1, 2


@dataclass(frozen=True)
class SynthStats:
    """What :func:`write_landing` wrote; every count is exact (it equals what the files contain).

    Attributes:
        hours: hours generated.
        files: objects written (3 per upload slot).
        traces: distinct traces.
        spans: spans.
        span_events: span events (streaming chunks and exceptions).
        logs: log records.
        metric_data_points: histogram, sum and gauge data points.
        bytes_written: bytes stored (after compression).
    """

    hours: int = 0
    files: int = 0
    traces: int = 0
    spans: int = 0
    span_events: int = 0
    logs: int = 0
    metric_data_points: int = 0
    bytes_written: int = 0

    def __add__(self, other: SynthStats) -> SynthStats:
        return SynthStats(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)  # type: ignore[arg-type]
        )


# --------------------------------------------------------------------------------------------------
# OTLP/JSON attribute helpers (64-bit ints as strings, per the JSON Protobuf Encoding)


def _s(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def _i(key: str, value: int) -> dict:
    return {"key": key, "value": {"intValue": str(value)}}


def _d(key: str, value: float) -> dict:
    return {"key": key, "value": {"doubleValue": value}}


def _b(key: str, value: bool) -> dict:
    return {"key": key, "value": {"boolValue": value}}


def _sa(key: str, values: list[str]) -> dict:
    return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in values]}}}


# --------------------------------------------------------------------------------------------------
# Fast deterministic draws (``Random.randrange``/``choices`` dominate the run time otherwise)


class _Rng(random.Random):
    """``random.Random`` with cheaper draws built on ``random()``; seeded from a string it is
    reproducible across processes and platforms (no ``hash()`` involved)."""

    def between(self, lo: int, hi: int) -> int:
        """An int in ``[lo, hi)`` (``lo`` when the range is empty)."""
        return lo + int(self.random() * (hi - lo))

    def pick(self, items: Sequence):
        """A uniformly chosen element of a non-empty sequence."""
        return items[int(self.random() * len(items))]


class _Weighted:
    """A fixed weighted choice: ``draw(rng)`` returns an item with probability proportional to its weight."""

    __slots__ = ("items", "cumulative", "total")

    def __init__(self, items: Sequence, weights: Sequence[float]) -> None:
        self.items = tuple(items)
        self.cumulative = list(accumulate(weights))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random):
        return self.items[bisect_right(self.cumulative, rng.random() * self.total)]


# --------------------------------------------------------------------------------------------------
# The simulated fleet


@dataclass(frozen=True)
class _Model:
    provider: str
    request: str
    response: str
    server: str
    scope: dict
    finish: tuple[str, ...]  # (normal stop, tool call, length)
    ns_per_output_token: tuple[float, float]


@dataclass(frozen=True)
class _Service:
    name: str
    version: str
    environment: str
    instances: tuple[str, ...]
    weight: float
    agents: tuple[str, ...]
    tools: tuple[str, ...]
    chat_models: tuple[tuple[_Model, float], ...]
    embeddings_model: _Model | None
    p_tool: float
    p_retrieval: float
    route: str
    scope: dict
    chat_table: _Weighted = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "chat_table", _Weighted([m for m, _ in self.chat_models],
                                                         [w for _, w in self.chat_models]))


_OPENAI_SCOPE = {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"}
_ANTHROPIC_SCOPE = {"name": "opentelemetry.instrumentation.anthropic", "version": "0.1b0"}

_GPT_4O_MINI = _Model(
    "openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "api.openai.com", _OPENAI_SCOPE,
    ("stop", "tool_calls", "length"), (6e6, 14e6),
)
_GPT_4O = _Model(
    "openai", "gpt-4o", "gpt-4o-2024-08-06", "api.openai.com", _OPENAI_SCOPE,
    ("stop", "tool_calls", "length"), (12e6, 30e6),
)
_GPT_41_MINI = _Model(
    "openai", "gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", "api.openai.com", _OPENAI_SCOPE,
    ("stop", "tool_calls", "length"), (7e6, 16e6),
)
_CLAUDE_HAIKU = _Model(
    "anthropic", "claude-3-5-haiku-latest", "claude-3-5-haiku-20241022", "api.anthropic.com", _ANTHROPIC_SCOPE,
    ("end_turn", "tool_use", "max_tokens"), (8e6, 18e6),
)
_CLAUDE_SONNET = _Model(
    "anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "api.anthropic.com", _ANTHROPIC_SCOPE,
    ("end_turn", "tool_use", "max_tokens"), (14e6, 32e6),
)
_EMBEDDING_3_SMALL = _Model(
    "openai", "text-embedding-3-small", "text-embedding-3-small", "api.openai.com", _OPENAI_SCOPE,
    ("stop", "stop", "stop"), (0.0, 0.0),
)

_SERVICES: tuple[_Service, ...] = (
    _Service(
        name="support-agent", version="1.14.2", environment="prod",
        instances=("support-agent-7f9c4d-2kq8x", "support-agent-7f9c4d-9wz5m"), weight=0.5,
        agents=("support_triage", "refund_assistant"),
        tools=("lookup_order", "search_kb", "create_ticket", "issue_refund", "get_customer"),
        chat_models=((_GPT_4O_MINI, 0.6), (_GPT_4O, 0.2), (_CLAUDE_SONNET, 0.2)),
        embeddings_model=_EMBEDDING_3_SMALL, p_tool=0.4, p_retrieval=0.1,
        route="/v1/support/chat", scope={"name": "support_agent.agents", "version": "1.14.2"},
    ),
    _Service(
        name="rag-api", version="2.3.0", environment="prod",
        instances=("rag-api-5b6d8c-tx4rp",), weight=0.3,
        agents=("docs_qa",), tools=("rerank", "fetch_url"),
        chat_models=((_GPT_4O_MINI, 0.5), (_GPT_41_MINI, 0.5)),
        embeddings_model=_EMBEDDING_3_SMALL, p_tool=0.2, p_retrieval=0.4,
        route="/v1/ask", scope={"name": "rag_api.pipeline", "version": "2.3.0"},
    ),
    _Service(
        name="summarizer", version="0.9.1", environment="staging",
        instances=("summarizer-0",), weight=0.2,
        agents=("thread_summarizer",), tools=("chunk_text", "fetch_thread"),
        chat_models=((_CLAUDE_HAIKU, 0.8), (_GPT_4O_MINI, 0.2)),
        embeddings_model=None, p_tool=0.3, p_retrieval=0.0,
        route="/v1/summarize", scope={"name": "summarizer.app", "version": "0.9.1"},
    ),
)


@dataclass(frozen=True)
class _Resource:
    index: int
    service: _Service
    otlp: dict  # {"attributes": [...]}


def _build_resources() -> tuple[_Resource, ...]:
    out = []
    for service in _SERVICES:
        for instance in service.instances:
            attributes = [
                _s("service.name", service.name),
                _s("service.version", service.version),
                _s("service.instance.id", instance),
                _s("deployment.environment", service.environment),
                _s("telemetry.sdk.name", "opentelemetry"),
                _s("telemetry.sdk.language", "python"),
                _s("telemetry.sdk.version", "1.38.0"),
            ]
            out.append(_Resource(len(out), service, {"attributes": attributes}))
    return tuple(out)


_RESOURCES = _build_resources()
_SERVICE_TABLE = _Weighted(_SERVICES, [s.weight for s in _SERVICES])
_CHILD_COUNT_TABLE = _Weighted((1, 2, 3, 4, 5, 6, 7, 8), (8, 14, 18, 18, 15, 12, 9, 6))

# (error.type, status message, duration range in seconds, relative frequency)
_LLM_ERRORS = (
    ("RateLimitError", "429 Too Many Requests", (0.3, 0.7), 0.6),
    ("InternalServerError", "500 Internal Server Error", (0.8, 3.0), 0.15),
    ("APITimeoutError", "Request timed out.", (7.5, 8.0), 0.15),
    ("APIConnectionError", "Connection error.", (0.3, 1.0), 0.1),
)
_LLM_ERROR_TABLE = _Weighted(_LLM_ERRORS, [e[3] for e in _LLM_ERRORS])
_TOOL_ERRORS = (("TimeoutError", "tool call timed out"), ("HTTPError", "upstream returned 503"))


# --------------------------------------------------------------------------------------------------
# One upload slot under construction


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


class _TraceBuilder:
    """Builds one trace with times relative to its root start (ns); :meth:`shift` makes them absolute."""

    def __init__(self, rng: _Rng, resource: _Resource, trace_id: str, conversation_id: str):
        self.rng = rng
        self.resource = resource
        self.service = resource.service
        self.trace_id = trace_id
        self.conversation_id = conversation_id
        self.spans: list[tuple[dict, dict]] = []  # (scope, span) with int times
        self.logs: list[tuple[dict, dict]] = []  # (scope, record) with int times
        self.calls: list[tuple] = []
        self.events = 0

    # ---- ids

    def span_id(self) -> str:
        return f"{self.rng.getrandbits(64) | 1:016x}"

    # ---- spans

    def _span(self, scope: dict, span_id: str, parent: str | None, name: str, kind: int, start: int, end: int,
              attributes: list, status: dict, events: list | None = None, links: list | None = None) -> dict:
        span = {"traceId": self.trace_id, "spanId": span_id}
        if parent is not None:
            span["parentSpanId"] = parent
        span["name"] = name
        span["kind"] = kind
        span["startTimeUnixNano"] = start
        span["endTimeUnixNano"] = end
        span["attributes"] = attributes
        if events:
            span["events"] = events
            self.events += len(events)
        if links:
            span["links"] = links
        span["status"] = status
        self.spans.append((scope, span))
        return span

    def _log(self, scope: dict, span_id: str, time: int, severity: tuple[int, str], body: str,
             attributes: list, event_name: str | None = None) -> None:
        record = {
            "timeUnixNano": time,
            "observedTimeUnixNano": time + self.rng.between(100_000, 3_000_000),
            "severityNumber": severity[0],
            "severityText": severity[1],
            "body": {"stringValue": body},
            "attributes": attributes,
            "flags": 1,
            "traceId": self.trace_id,
            "spanId": span_id,
        }
        if event_name is not None:
            record["eventName"] = event_name
        self.logs.append((scope, record))

    def chat(self, parent: str, start: int, next_is_tool: bool) -> int:
        """An LLM ``chat`` client span starting at ``start``; returns its end."""
        rng = self.rng
        model = self.service.chat_table.draw(rng)
        span_id = self.span_id()
        attributes = [
            _s("gen_ai.operation.name", "chat"),
            _s("gen_ai.provider.name", model.provider),
            _s("gen_ai.request.model", model.request),
            _d("gen_ai.request.temperature", rng.pick((0.0, 0.2, 0.3, 0.7, 1.0))),
        ]
        if model.provider == "anthropic" or rng.random() < 0.3:
            attributes.append(_i("gen_ai.request.max_tokens", rng.pick((1024, 2048, 4096))))
        attributes.append(_s("gen_ai.conversation.id", self.conversation_id))
        attributes.append(_s("server.address", model.server))
        attributes.append(_i("server.port", 443))
        log_attrs = [_s("gen_ai.operation.name", "chat"), _s("gen_ai.provider.name", model.provider),
                     _s("gen_ai.request.model", model.request)]
        events: list = []
        if rng.random() < 0.03:
            error_type, message, (lo, hi), _ = _LLM_ERROR_TABLE.draw(rng)
            duration = int(rng.uniform(lo, hi) * NS_PER_S)
            end = start + duration
            attributes.append(_s("error.type", error_type))
            events.append({
                "timeUnixNano": end - rng.between(50_000, 500_000),
                "name": "exception",
                "attributes": [_s("exception.type", f"openai.{error_type}" if model.provider == "openai"
                                  else f"anthropic.{error_type}"),
                               _s("exception.message", message),
                               _b("exception.escaped", True)],
            })
            status = {"code": 2, "message": message}
            self.calls.append((self.resource.index, model, "chat", None, None, duration / NS_PER_S, error_type))
            self._log(model.scope, span_id, start + rng.between(200_000, 2_000_000), _SEV_INFO,
                      f"calling model {model.request}", log_attrs)
            if error_type == "RateLimitError" and rng.random() < 0.7:
                self._log(model.scope, span_id, end - rng.between(100_000, 1_000_000), _SEV_WARN,
                          f"{model.provider} returned {message}; backing off "
                          f"{rng.pick((0.5, 1.0, 2.0))}s before retry", log_attrs)
            self._log(model.scope, span_id, end - rng.between(10_000, 100_000), _SEV_ERROR,
                      f"{model.provider} chat completion failed: {message}",
                      log_attrs + [_s("error.type", error_type)])
        else:
            input_tokens = min(120_000, max(8, int(rng.lognormvariate(6.6, 0.9))))
            output_tokens = min(4_000, max(1, int(rng.lognormvariate(4.9, 0.8))))
            per_token = rng.uniform(*model.ns_per_output_token)
            duration = int(0.25 * NS_PER_S + input_tokens * 40_000 + output_tokens * per_token)
            duration = min(8 * NS_PER_S, max(300 * NS_PER_MS, duration))
            end = start + duration
            stop, tool_call, length = model.finish
            finish = tool_call if next_is_tool else (length if rng.random() < 0.03 else stop)
            response_id = (f"chatcmpl-{rng.getrandbits(116):029x}" if model.provider == "openai"
                           else f"msg_01{rng.getrandbits(88):022x}")
            attributes += [
                _s("gen_ai.response.model", model.response),
                _s("gen_ai.response.id", response_id),
                _sa("gen_ai.response.finish_reasons", [finish]),
                _i("gen_ai.usage.input_tokens", input_tokens),
                _i("gen_ai.usage.output_tokens", output_tokens),
            ]
            status = _STATUS_UNSET
            self.calls.append((self.resource.index, model, "chat", input_tokens, output_tokens,
                               duration / NS_PER_S, None))
            if rng.random() < 0.25:  # streamed: a few chunk events, evenly spread after the first token
                chunks = rng.between(2, 6)
                first = start + int(duration * rng.uniform(0.1, 0.3))
                step = (end - first) // chunks
                per_chunk = max(1, output_tokens // chunks)
                for index in range(chunks):
                    events.append({
                        "timeUnixNano": first + index * step,
                        "name": "gen_ai.content.completion.chunk",
                        "attributes": [_i("gen_ai.chunk.index", index), _i("gen_ai.chunk.output_tokens", per_chunk)],
                    })
            self._log(model.scope, span_id, start + rng.between(200_000, 2_000_000), _SEV_INFO,
                      f"calling model {model.request}", log_attrs)
            extra = rng.random()
            if extra < 0.35:
                self._log(model.scope, span_id, end - rng.between(10_000, 200_000), _SEV_INFO,
                          "gen_ai.client.inference.operation.details",
                          log_attrs + [
                              _s("gen_ai.response.model", model.response),
                              _sa("gen_ai.response.finish_reasons", [finish]),
                              _i("gen_ai.usage.input_tokens", input_tokens),
                              _i("gen_ai.usage.output_tokens", output_tokens),
                          ],
                          event_name="gen_ai.client.inference.operation.details")
            if extra > 0.3:
                self._log(model.scope, span_id, end - rng.between(10_000, 200_000), _SEV_INFO,
                          f"received response from {model.response}: finish_reason={finish} "
                          f"input_tokens={input_tokens} output_tokens={output_tokens}", log_attrs)
        self._span(model.scope, span_id, parent, f"chat {model.request}", _KIND_CLIENT, start, end,
                   attributes, status, events)
        return end

    def tool(self, parent: str, start: int) -> int:
        """An ``execute_tool`` span, sometimes wrapping a follow-up ``chat`` span; returns its end."""
        rng = self.rng
        scope = self.service.scope
        tool = rng.pick(self.service.tools)
        span_id = self.span_id()
        cursor = start + rng.between(1 * NS_PER_MS, 20 * NS_PER_MS)
        if rng.random() < 0.2:
            cursor = self.chat(span_id, cursor, next_is_tool=False)
        end = cursor + rng.between(5 * NS_PER_MS, 480 * NS_PER_MS)
        attributes = [
            _s("gen_ai.operation.name", "execute_tool"),
            _s("gen_ai.tool.name", tool),
            _s("gen_ai.tool.type", "function"),
            _s("gen_ai.tool.call.id", f"call_{rng.getrandbits(96):024x}"),
        ]
        log_attrs = [_s("gen_ai.operation.name", "execute_tool"), _s("gen_ai.tool.name", tool)]
        self._log(scope, span_id, start + rng.between(50_000, 1_000_000), _SEV_INFO, f"executing tool {tool}",
                  log_attrs)
        if rng.random() < 0.02:
            error_type, message = rng.pick(_TOOL_ERRORS)
            attributes.append(_s("error.type", error_type))
            status = {"code": 2, "message": message}
            self._log(scope, span_id, end - rng.between(10_000, 1_000_000), _SEV_ERROR,
                      f"tool {tool} failed: {message}", log_attrs + [_s("error.type", error_type)])
        else:
            status = _STATUS_OK
            if rng.random() < 0.6:
                self._log(scope, span_id, end - rng.between(10_000, 1_000_000), _SEV_INFO,
                          f"tool {tool} completed in {(end - start) // NS_PER_MS} ms", log_attrs)
        self._span(scope, span_id, parent, f"execute_tool {tool}", _KIND_INTERNAL, start, end, attributes, status)
        return end

    def retrieval(self, parent: str, start: int) -> int:
        """A ``retrieve documents`` Qdrant search span with a nested ``embeddings`` span; returns its end."""
        rng = self.rng
        model = self.service.embeddings_model
        assert model is not None
        span_id = self.span_id()
        emb_start = start + rng.between(200_000, 3 * NS_PER_MS)
        emb_duration = rng.between(40 * NS_PER_MS, 350 * NS_PER_MS)
        emb_end = emb_start + emb_duration
        tokens = rng.between(6, 121)
        self._span(model.scope, self.span_id(), span_id, f"embeddings {model.request}", _KIND_CLIENT,
                   emb_start, emb_end, [
                       _s("gen_ai.operation.name", "embeddings"),
                       _s("gen_ai.provider.name", model.provider),
                       _s("gen_ai.request.model", model.request),
                       _s("gen_ai.response.model", model.response),
                       _i("gen_ai.embeddings.dimension.count", 1536),
                       _i("gen_ai.usage.input_tokens", tokens),
                       _s("server.address", model.server),
                       _i("server.port", 443),
                   ], _STATUS_UNSET)
        self.calls.append((self.resource.index, model, "embeddings", tokens, None, emb_duration / NS_PER_S, None))
        end = emb_end + rng.between(4 * NS_PER_MS, 90 * NS_PER_MS)
        self._span(self.service.scope, span_id, parent, "retrieve documents", _KIND_CLIENT, start, end, [
            _s("db.system", "qdrant"),
            _s("db.system.name", "qdrant"),
            _s("db.operation.name", "search"),
            _s("db.collection.name", "kb_chunks"),
            _i("db.vector.query.top_k", rng.pick((4, 8, 16))),
            _s("server.address", "qdrant.internal"),
            _i("server.port", 6333),
        ], _STATUS_UNSET)
        return end

    def build(self, links: list | None) -> tuple[str, int]:
        """The root ``invoke_agent`` span and its children; returns (root span id, trace duration ns)."""
        rng = self.rng
        service = self.service
        agent = rng.pick(service.agents)
        root_id = self.span_id()
        n_children = _CHILD_COUNT_TABLE.draw(rng)
        kinds = []
        for _ in range(n_children):
            roll = rng.random()
            if roll < service.p_retrieval:
                kinds.append("retrieval")
            elif roll < service.p_retrieval + service.p_tool:
                kinds.append("tool")
            else:
                kinds.append("chat")
        cursor = rng.between(1 * NS_PER_MS, 25 * NS_PER_MS)
        for position, kind in enumerate(kinds):
            if kind == "chat":
                next_is_tool = position + 1 < len(kinds) and kinds[position + 1] == "tool"
                cursor = self.chat(root_id, cursor, next_is_tool)
            elif kind == "tool":
                cursor = self.tool(root_id, cursor)
            else:
                cursor = self.retrieval(root_id, cursor)
            cursor += rng.between(200_000, 15 * NS_PER_MS)
        end = cursor + rng.between(1 * NS_PER_MS, 30 * NS_PER_MS)
        failed = [span["status"]["message"] for _, span in self.spans if span["status"].get("code") == 2]
        status = {"code": 2, "message": f"agent run failed: {failed[0]}"} if failed and rng.random() < 0.5 \
            else _STATUS_UNSET
        attributes = [
            _s("gen_ai.operation.name", "invoke_agent"),
            _s("gen_ai.agent.name", agent),
            _s("gen_ai.conversation.id", self.conversation_id),
        ]
        if status is not _STATUS_UNSET:
            attributes.append(_s("error.type", "AgentRunError"))
        self._span(service.scope, root_id, None, f"invoke_agent {agent}", _KIND_INTERNAL, 0, end, attributes,
                   status, links=links)
        return root_id, end

    def shift(self, base: int) -> None:
        """Turn relative int times into absolute Unix-nanosecond strings."""
        for _, span in self.spans:
            span["startTimeUnixNano"] = str(base + span["startTimeUnixNano"])
            span["endTimeUnixNano"] = str(base + span["endTimeUnixNano"])
            for event in span.get("events", ()):
                event["timeUnixNano"] = str(base + event["timeUnixNano"])
        for _, record in self.logs:
            record["timeUnixNano"] = str(base + record["timeUnixNano"])
            record["observedTimeUnixNano"] = str(base + record["observedTimeUnixNano"])


# --------------------------------------------------------------------------------------------------
# Assembling export requests


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

    Histograms are delta over [slot start, upload time]; ``app.requests`` is cumulative since midnight
    UTC (a daily restart), modelled as twice the traced requests (50% head sampling) and kept monotonic
    by giving every earlier hour of the day a ``2 * traces_per_hour`` baseline.
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
            usage = token_usage.get(r, {}).get(scope_name, {})
            if usage:
                metrics.append({
                    "name": "gen_ai.client.token.usage",
                    "unit": "{token}",
                    "description": "Number of input and output tokens used.",
                    "histogram": {"dataPoints": [usage[k].point(start, time, TOKEN_USAGE_BOUNDS,
                                                                attrs(k, "gen_ai.token.type"))
                                                 for k in sorted(usage, key=repr)],
                                  "aggregationTemporality": _TEMPORALITY_DELTA},
                })
                points += len(usage)
            duration = durations.get(r, {}).get(scope_name, {})
            if duration:
                metrics.append({
                    "name": "gen_ai.client.operation.duration",
                    "unit": "s",
                    "description": "GenAI operation duration.",
                    "histogram": {"dataPoints": [duration[k].point(start, time, DURATION_BOUNDS,
                                                                   attrs(k, "error.type"))
                                                 for k in sorted(duration, key=repr)],
                                  "aggregationTemporality": _TEMPORALITY_DELTA},
                })
                points += len(duration)
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


# --------------------------------------------------------------------------------------------------
# Public API


def _compressor(compression: str) -> Callable[[bytes], bytes]:
    """The byte-reproducible compression function for ``compression``."""
    if compression == "gzip":
        return lambda data: gzip.compress(data, compresslevel=6, mtime=0)
    if compression == "zstd":  # a compressor per call: ZstdCompressor is not thread-safe
        return lambda data: zstandard.ZstdCompressor(level=3).compress(data)
    return lambda data: data


def _to_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(timezone.utc)


def write_landing(landing_url: str, start: datetime, end: datetime, *, traces_per_hour: int = 200,
                  files_per_hour: int = 4, seed: int = 0, compression: str = "gzip",
                  progress: Callable[[str], None] | None = None) -> SynthStats:
    """Write synthetic OTLP/JSON LLM telemetry for every whole hour in ``[start, end)`` into a landing zone.

    Args:
        landing_url: landing root: a local directory (created if missing) or a URL obstore understands
            (``file://``, ``s3://``, ``gs://``, ``az://``, ``memory://``).
        start: first hour (timezone-aware; converted to UTC and floored to the hour).
        end: exclusive end (timezone-aware); every hour starting before ``end`` is written.
        traces_per_hour: traces per hour (about 6 spans and 7 log records each), split evenly over
            the upload slots.
        files_per_hour: upload slots per hour; each writes one traces, one logs and one metrics file,
            at a minute inside its ``60 / files_per_hour`` minute share of the hour.
        seed: varies the data; the same arguments always produce byte-identical objects and keys.
        compression: ``"gzip"`` (``.json.gz``), ``"zstd"`` (``.json.zst``) or ``"none"`` (``.json``).
        progress: called once per hour written with a one-line summary.

    Writes, per slot, under ``year=YYYY/month=MM/day=DD/hour=HH/minute=MM/``:
        * ``traces_<key>``: one ExportTraceServiceRequest (``resourceSpans`` grouped by service
          instance, then instrumentation scope); odd-numbered traces files are JSON Lines holding
          up to three requests. Timestamps are Unix nanoseconds as strings.
        * ``logs_<key>``: one ExportLogsServiceRequest of span-correlated log records.
        * ``metrics_<key>``: one ExportMetricsServiceRequest: delta histograms
          ``gen_ai.client.token.usage`` (``{token}``) and ``gen_ai.client.operation.duration``
          (seconds) per (operation, provider, request model, response model, token type |
          error.type), a cumulative ``app.requests`` sum (``asInt``) and a
          ``process.cpu.utilization`` gauge (``asDouble``) per service instance.

    Returns:
        SynthStats: exact counts of what was written.

    Raises:
        ValueError: ``end <= start``, a naive datetime, an unknown ``compression``,
            ``traces_per_hour < 0`` or ``files_per_hour < 1``.
    """
    start, end = _to_utc(start, "start"), _to_utc(end, "end")
    if end <= start:
        raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    if compression not in _EXTENSIONS:
        raise ValueError(f"unknown compression {compression!r}; expected one of {', '.join(_EXTENSIONS)}")
    if traces_per_hour < 0:
        raise ValueError(f"traces_per_hour must be >= 0, got {traces_per_hour}")
    if files_per_hour < 1:
        raise ValueError(f"files_per_hour must be >= 1, got {files_per_hour}")

    store = open_store(landing_url)
    compress = _compressor(compression)
    extension = _EXTENSIONS[compression]
    total = SynthStats()
    hour = start.replace(minute=0, second=0, microsecond=0)
    with gc_paused(), ThreadPoolExecutor(max_workers=4, thread_name_prefix="synth-upload") as pool:
        while hour < end:
            stats = _write_hour(store, pool, hour, traces_per_hour, files_per_hour, seed, compress, extension)
            total += stats
            if progress is not None:
                progress(
                    f"{hour:%Y-%m-%dT%H:00Z}  {stats.files} files  {stats.traces:,} traces  {stats.spans:,} spans  "
                    f"{stats.span_events:,} events  {stats.logs:,} logs  {stats.metric_data_points:,} points  "
                    f"{stats.bytes_written / 1e6:,.1f} MB"
                )
            hour += timedelta(hours=1)
    return total


def _write_hour(store, pool: ThreadPoolExecutor, hour: datetime, traces_per_hour: int, files_per_hour: int,
                seed: int, compress: Callable[[bytes], bytes], extension: str) -> SynthStats:
    """Generate one hour and upload it through ``pool`` (compression overlaps generation); returns
    its exact counts once every object of the hour is stored."""
    rng = _Rng(f"{seed}:{hour.isoformat()}")
    key_rng = _Rng(f"{seed}:{hour.isoformat()}:keys")
    hour_ns = int(hour.timestamp()) * NS_PER_S
    hour_end_ns = hour_ns + 3600 * NS_PER_S
    day_start = hour.replace(hour=0)
    day_start_ns = int(day_start.timestamp()) * NS_PER_S
    hour_offset = hour.hour
    prefix = f"year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/"

    late_probability = min(1.0, 0.05 * files_per_hour)  # late arrivals land in the first upload
    recent_roots: list[tuple[str, str, str, int]] = []  # (trace id, root span id, conversation id, resource)
    requests_before = [0] * len(_RESOURCES)
    used_keys: set[str] = set()
    files = traces = spans = events = logs = points = 0
    uploads: list[Future[int]] = []

    for slot_index in range(files_per_hour):
        slot_start = hour_ns + slot_index * 3600 * NS_PER_S // files_per_hour
        slot_end = hour_ns + (slot_index + 1) * 3600 * NS_PER_S // files_per_hour
        upload = slot_start + int((slot_end - slot_start) * rng.uniform(0.6, 0.95))
        minute = (upload - hour_ns) // (60 * NS_PER_S)
        n_traces = traces_per_hour // files_per_hour + (slot_index < traces_per_hour % files_per_hour)

        slot = _Slot()
        for _ in range(n_traces):
            resource = _RESOURCES[_pick_resource(rng)]
            trace_id = f"{rng.getrandbits(128) | 1:032x}"
            links = None
            conversation_id = None
            if recent_roots and rng.random() < 0.02:  # a follow-up turn of an earlier conversation
                prev_trace, prev_root, conversation_id, _ = rng.pick(recent_roots)
                links = [{"traceId": prev_trace, "spanId": prev_root,
                          "attributes": [_s("link.type", "previous_turn")]}]
            if conversation_id is None:
                conversation_id = f"conv_{rng.getrandbits(96):024x}"
            builder = _TraceBuilder(rng, resource, trace_id, conversation_id)
            root_id, duration = builder.build(links)
            if slot_index == 0 and rng.random() < late_probability:
                base = hour_ns - rng.between(5 * NS_PER_S, 240 * NS_PER_S)
            else:
                slack = max(0, upload - slot_start - duration)
                base = slot_start + (rng.between(0, slack) if slack else 0)
                base = max(hour_ns, min(base, hour_end_ns - duration - NS_PER_MS))
            builder.shift(base)
            recent_roots.append((trace_id, root_id, conversation_id, resource.index))
            if len(recent_roots) > 256:
                del recent_roots[: len(recent_roots) - 256]
            slot.traces.append((resource.index, builder.spans))
            slot.logs.extend((resource.index, scope, record) for scope, record in builder.logs)
            slot.calls.extend(builder.calls)
            slot.requests_by_resource[resource.index] += 1
            slot.span_count += len(builder.spans)
            slot.event_count += builder.events

        # traces: JSON Lines (up to 3 requests) for odd-numbered files, else a single request
        if (hour.hour * files_per_hour + slot_index) % 2 == 1 and len(slot.traces) > 1:
            n_lines = min(3, len(slot.traces))
            size = -(-len(slot.traces) // n_lines)
            chunks = [slot.traces[i:i + size] for i in range(0, len(slot.traces), size)]
            traces_data = b"".join(orjson.dumps(_traces_request(chunk)) + b"\n" for chunk in chunks)
        else:
            traces_data = orjson.dumps(_traces_request(slot.traces))
        logs_data = orjson.dumps(_logs_request(slot.logs))
        metrics_request, n_points = _metrics_request(slot, rng, slot_start, upload, day_start_ns, requests_before,
                                                     hour_offset, traces_per_hour)
        metrics_data = orjson.dumps(metrics_request)

        for signal, data in (("traces", traces_data), ("logs", logs_data), ("metrics", metrics_data)):
            path = f"{prefix}minute={minute:02d}/{signal}_{_file_key(key_rng, used_keys)}{extension}"
            uploads.append(pool.submit(_upload, store, path, data, compress))
            files += 1

        traces += len(slot.traces)
        spans += slot.span_count
        events += slot.event_count
        logs += len(slot.logs)
        points += n_points

    written = sum(upload.result() for upload in uploads)  # re-raises the first failed upload
    return SynthStats(hours=1, files=files, traces=traces, spans=spans, span_events=events, logs=logs,
                      metric_data_points=points, bytes_written=written)


def _upload(store, path: str, data: bytes, compress: Callable[[bytes], bytes]) -> int:
    """Compress and store one object (runs in a worker thread: zlib, zstd and obstore release the GIL)."""
    payload = compress(data)
    obstore.put(store, path, payload)
    return len(payload)


_FIRST_RESOURCE = {id(s): next(r.index for r in _RESOURCES if r.service is s) for s in _SERVICES}


def _pick_resource(rng: _Rng) -> int:
    """A service by traffic weight, then one of its instances uniformly; returns the resource index."""
    service = _SERVICE_TABLE.draw(rng)
    return _FIRST_RESOURCE[id(service)] + rng.between(0, len(service.instances))


def _file_key(rng: _Rng, used: set[str]) -> str:
    """A random-looking 8-hex-digit file token, unique within the hour."""
    while True:
        key = f"{rng.getrandbits(32):08x}"
        if key not in used:
            used.add(key)
            return key
