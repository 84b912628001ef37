"""The dialect-independent part of an OTLP trace: :class:`_TraceBuilder` and the LLM call it samples."""

from __future__ import annotations

from collections.abc import Callable

from .catalog import (
    _LLM_ERROR_TABLE,
    _P_LLM_ERROR,
    _TOOL_ERRORS,
    _Model,
    _provided_cost,
    _Resource,
)
from .conversations import _Conversation
from .encoding import (
    _KIND_INTERNAL,
    _SEV_ERROR,
    _SEV_INFO,
    _SEV_WARN,
    NS_PER_MS,
    NS_PER_S,
    _b,
    _i,
    _s,
    _sa,
)
from .rng import _Rng, _Weighted

#: Children of a trace's root span.
_CHILD_COUNT_TABLE = _Weighted((1, 2, 3, 4, 5, 6, 7, 8), (8, 14, 18, 18, 15, 12, 9, 6))
_TEMPERATURES = (0.0, 0.2, 0.3, 0.7, 1.0)


class _Call:
    """The outcome of one LLM call, before a dialect encodes it. Times are relative ns."""

    __slots__ = ("model", "start", "end", "error", "error_at", "temperature", "max_tokens", "input_tokens",
                 "output_tokens", "cache_read", "cache_creation", "reasoning", "finish", "response_id",
                 "answer", "tool_call", "first_chunk", "chunks")

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / NS_PER_S

    def cost(self) -> tuple[float, float, float]:
        """Provided cost in USD (prompt, completion, total), from genai-prices (:meth:`PriceTable.library`)."""
        return _provided_cost(self.model, self.input_tokens, self.output_tokens, self.cache_read)


class _TraceBuilder:
    """Builds one trace with times relative to its root start (ns); :meth:`shift` makes them absolute.

    The shared parts -- ids, spans, logs, sampling an LLM call -- are here; each dialect's subclass
    builds its own span tree in :meth:`build`.
    """

    def __init__(self, rng: _Rng, resource: _Resource, trace_id: str, conversation: _Conversation):
        self.rng = rng
        self.resource = resource
        self.service = resource.service
        self.trace_id = trace_id
        self.session_id = conversation.session_id
        self.user_id = conversation.user_id
        content = self.service.content
        self.question = rng.pick(content.questions).format(n=rng.between(10_000, 100_000))
        self.spans: list[tuple[dict, dict]] = []  # (scope, span) with int times
        self.logs: list[tuple[dict, dict]] = []  # (scope, record) with int times
        self.calls: list[tuple] = []  # measurements for the GenAI client histograms
        self.events = 0

    # ---- ids

    def span_id(self) -> str:
        return f"{self.rng.getrandbits(64) | 1:016x}"

    # ---- spans and logs

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

    def failed_status(self, ok: dict) -> dict:
        """The root's status: an error half the time when a descendant failed, else ``ok``."""
        failed = [span["status"]["message"] for _, span in self.spans if span["status"].get("code") == 2]
        if failed and self.rng.random() < 0.5:
            return {"code": 2, "message": f"agent run failed: {failed[0]}"}
        return ok

    # ---- one LLM call

    def sample_call(self, model: _Model, start: int, tool: str | None, p_stream: float, p_cache: float,
                    p_cache_write: float = 0.0) -> _Call:
        """Draw an LLM call starting at ``start``: an error (3%), or tokens (input including cached,
        output including reasoning), finish reason, answer or tool call, and streaming chunk times."""
        rng = self.rng
        call = _Call()
        call.model = model
        call.start = start
        call.temperature = rng.pick(_TEMPERATURES)
        call.max_tokens = rng.pick((1024, 2048, 4096)) if model.provider == "anthropic" or rng.random() < 0.3 else None
        call.input_tokens = call.output_tokens = call.cache_read = call.cache_creation = call.reasoning = None
        call.finish = call.response_id = call.answer = call.tool_call = call.first_chunk = None
        call.chunks = ()
        if rng.random() < _P_LLM_ERROR:
            error_type, message, (lo, hi), _ = _LLM_ERROR_TABLE.draw(rng)
            call.end = start + int(rng.uniform(lo, hi) * NS_PER_S)
            call.error = (error_type, message)
            call.error_at = call.end - rng.between(50_000, 500_000)
            return call
        call.error = call.error_at = None
        input_tokens = min(120_000, max(8, int(rng.lognormvariate(6.6, 0.9))))
        output_tokens = min(4_000, max(1, int(rng.lognormvariate(4.9, 0.8))))
        per_token = rng.uniform(*model.ns_per_output_token)
        if model.reasoning:  # reasoning tokens are output tokens the caller does not see
            call.reasoning = min(20_000, max(16, int(rng.lognormvariate(6.2, 0.8))))
            output_tokens += call.reasoning
        duration = int(0.25 * NS_PER_S + input_tokens * 40_000 + output_tokens * per_token)
        duration = min((30 if model.reasoning else 8) * NS_PER_S, max(300 * NS_PER_MS, duration))
        if input_tokens >= 1024 and rng.random() < p_cache:  # cache hits in 128-token blocks
            call.cache_read = int(input_tokens * rng.uniform(0.3, 0.95)) // 128 * 128 or None
        if p_cache_write and call.cache_read is None and input_tokens >= 1024 and rng.random() < p_cache_write:
            call.cache_creation = int(input_tokens * rng.uniform(0.5, 0.9))
        call.input_tokens, call.output_tokens = input_tokens, output_tokens
        call.end = start + duration
        stop, tool_call, length = model.finish
        call.finish = tool_call if tool else (length if rng.random() < 0.03 else stop)
        call.response_id = (f"chatcmpl-{rng.getrandbits(116):029x}" if model.provider == "openai"
                            else f"msg_01{rng.getrandbits(88):022x}")
        n = rng.between(10_000, 100_000)
        if tool:
            call.tool_call = (f"call_{rng.getrandbits(96):024x}", tool, f'{{"id": "{n}"}}')
        else:
            call.answer = rng.pick(self.service.content.answers).format(n=n)
        if rng.random() < p_stream:  # streamed: a few chunks, evenly spread after the first token
            lo, hi = (0.4, 0.8) if model.reasoning else (0.1, 0.3)
            first = start + int(duration * rng.uniform(lo, hi))
            n_chunks = rng.between(2, 6)
            step = (call.end - first) // n_chunks
            call.first_chunk = first
            call.chunks = tuple(first + index * step for index in range(n_chunks))
        return call

    def call_logs(self, scope: dict, span_id: str, call: _Call, log_attrs: list, details: bool = False) -> None:
        """The application's log records around an LLM call (1-3, plus a details event when ``details``)."""
        rng = self.rng
        model = call.model
        start, end = call.start, call.end
        self._log(scope, span_id, start + rng.between(200_000, 2_000_000), _SEV_INFO,
                  f"calling model {model.request}", log_attrs)
        if call.error is not None:
            error_type, message = call.error
            if error_type == "RateLimitError" and rng.random() < 0.7:
                self._log(scope, span_id, end - rng.between(100_000, 1_000_000), _SEV_WARN,
                          f"{model.provider} returned {message}; backing off "
                          f"{rng.pick((0.5, 1.0, 2.0))}s before retry", log_attrs)
            self._log(scope, span_id, end - rng.between(10_000, 100_000), _SEV_ERROR,
                      f"{model.provider} chat completion failed: {message}",
                      log_attrs + [_s("error.type", error_type)])
            return
        extra = rng.random()
        if details and extra < 0.35:
            self._log(scope, span_id, end - rng.between(10_000, 200_000), _SEV_INFO,
                      "gen_ai.client.inference.operation.details",
                      log_attrs + [
                          _s("gen_ai.response.model", model.response),
                          _sa("gen_ai.response.finish_reasons", [call.finish]),
                          _i("gen_ai.usage.input_tokens", call.input_tokens),
                          _i("gen_ai.usage.output_tokens", call.output_tokens),
                      ],
                      event_name="gen_ai.client.inference.operation.details")
        if extra > 0.3:
            self._log(scope, span_id, end - rng.between(10_000, 200_000), _SEV_INFO,
                      f"received response from {model.response}: finish_reason={call.finish} "
                      f"input_tokens={call.input_tokens} output_tokens={call.output_tokens}", log_attrs)

    def exception_event(self, call: _Call) -> dict:
        error_type, message = call.error
        return {
            "timeUnixNano": call.error_at,
            "name": "exception",
            "attributes": [_s("exception.type", f"{call.model.provider}.{error_type}"),
                           _s("exception.message", message),
                           _b("exception.escaped", True)],
        }

    # ---- tools

    def tool(self, parent: str, start: int, tool: str, chat: Callable | None) -> int:
        """A tool span (sometimes wrapping a follow-up LLM call made with ``chat``); returns its end."""
        rng = self.rng
        span_id = self.span_id()
        cursor = start + rng.between(1 * NS_PER_MS, 20 * NS_PER_MS)
        if chat is not None and rng.random() < 0.2:
            cursor = chat(span_id, cursor, None)
        end = cursor + rng.between(5 * NS_PER_MS, 480 * NS_PER_MS)
        name, scope, attributes, log_attrs, ok = self.tool_span(tool)
        self._log(scope, span_id, start + rng.between(50_000, 1_000_000), _SEV_INFO, f"executing tool {tool}",
                  log_attrs)
        if rng.random() < 0.02:
            error_type, message = rng.pick(_TOOL_ERRORS)
            attributes.append(_s("error.type", error_type))
            status = {"code": 2, "message": message}
            self._log(scope, span_id, end - rng.between(10_000, 1_000_000), _SEV_ERROR,
                      f"tool {tool} failed: {message}", log_attrs + [_s("error.type", error_type)])
        else:
            status = ok
            if rng.random() < 0.6:
                self._log(scope, span_id, end - rng.between(10_000, 1_000_000), _SEV_INFO,
                          f"tool {tool} completed in {(end - start) // NS_PER_MS} ms", log_attrs)
        self._span(scope, span_id, parent, name, _KIND_INTERNAL, start, end, attributes, status)
        return end

    def tool_span(self, tool: str) -> tuple[str, dict, list, list, dict]:
        """(span name, scope, attributes, log attributes, success status) of a tool span."""
        raise NotImplementedError

    # ---- the trace

    def plan(self) -> list[tuple[str, str | None]]:
        """The root's children: ("chat", tool the call asks for | None), ("tool", name), ("retrieval", None)."""
        rng = self.rng
        service = self.service
        kinds: list[tuple[str, str | None]] = []
        for _ in range(_CHILD_COUNT_TABLE.draw(rng)):
            roll = rng.random()
            if roll < service.p_retrieval:
                kinds.append(("retrieval", None))
            elif roll < service.p_retrieval + service.p_tool:
                kinds.append(("tool", rng.pick(service.tools)))
            else:
                kinds.append(("chat", None))
        for position, (kind, _) in enumerate(kinds[:-1]):
            following = kinds[position + 1]
            if kind == "chat" and following[0] == "tool":
                kinds[position] = ("chat", following[1])
        return kinds

    def children(self, parent: str, cursor: int, chat: Callable, tool: Callable[[str, int, str], int],
                 retrieval: Callable[[str, int], int]) -> int:
        """Build the planned children under ``parent`` one after another from ``cursor``; returns the end."""
        rng = self.rng
        for kind, name in self.plan():
            if kind == "chat":
                cursor = chat(parent, cursor, name)
            elif kind == "tool":
                cursor = tool(parent, cursor, name)
            else:
                cursor = retrieval(parent, cursor)
            cursor += rng.between(200_000, 15 * NS_PER_MS)
        return cursor

    def build(self, links: list | None) -> tuple[str, int]:
        """Build the span tree; returns (root span id, trace duration ns)."""
        raise NotImplementedError

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
