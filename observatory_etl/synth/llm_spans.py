"""Native LLM-span lines (``llm_spans_*.jsonl``) of the :data:`NATIVE_SERVICE` (batch-summarizer)."""

from __future__ import annotations

import time as _time

from .catalog import (
    _CLAUDE_HAIKU,
    _EMBEDDING_3_SMALL,
    _GPT_4O_MINI,
    _GPT_41_MINI,
    _LLM_ERROR_TABLE,
    _NATIVE_CONTENT,
    _P_LLM_ERROR,
    NATIVE_SERVICE,
    _provided_cost,
)
from .conversations import _Conversation
from .encoding import NS_PER_MS, NS_PER_S, NS_PER_US
from .rng import _Rng, _Weighted

_NATIVE_MODELS = _Weighted((_CLAUDE_HAIKU, _GPT_4O_MINI, _GPT_41_MINI), (0.5, 0.3, 0.2))
_NATIVE_TAGS = (("batch", "digest"), ("batch", "digest", "priority"), ("batch", "backfill"))
#: Upper bound of a native trace's duration (a generation is at most 8 s).
_NATIVE_MAX_NS = 10 * NS_PER_S


def native_trace_count(traces_per_hour: int, files_per_hour: int) -> int:
    """How many of an hour's ``traces_per_hour`` traces are native: about 5%, but one per upload slot
    when there are at least ten traces per slot (so small hours have a native file in every slot)."""
    if traces_per_hour < 2:
        return 0
    return max((traces_per_hour + 10) // 20, min(files_per_hour, traces_per_hour // 10))


def _rfc3339(ns: int) -> str:
    """``2026-11-01T00:12:03.123456Z`` (microseconds; ``ns`` is a whole number of microseconds)."""
    seconds, rest = divmod(ns, NS_PER_S)
    return f"{_time.strftime('%Y-%m-%dT%H:%M:%S', _time.gmtime(seconds))}.{rest // NS_PER_US:06d}Z"


def _us(rng: _Rng, lo_ns: int, hi_ns: int) -> int:
    """A duration in ``[lo, hi)`` ns, rounded down to whole microseconds."""
    return rng.between(lo_ns, hi_ns) // NS_PER_US * NS_PER_US


class _NativeTrace:
    """One native trace of 1-3 ``llm_spans`` lines; times absolute ns in whole microseconds."""

    def __init__(self, rng: _Rng, conversation: _Conversation) -> None:
        self.rng = rng
        self.trace_id = f"{rng.getrandbits(128) | 1:032x}"
        self.lines: list[dict] = []
        self.events = 0
        self.time = _rfc3339 if rng.random() >= 0.2 else int  # ~20% of the traces use integer ns
        document = rng.between(100_000, 1_000_000)
        self.document = rng.pick(_NATIVE_CONTENT.questions).format(n=document)
        self.metadata = {"user_id": conversation.user_id, "session_id": conversation.session_id,
                         "environment": "prod", "service_name": NATIVE_SERVICE,
                         "tags": list(rng.pick(_NATIVE_TAGS))}
        self.custom = {"batch.id": conversation.session_id, "document.id": f"doc-{document}",
                       "pipeline.version": "3.2.0"}

    def span_id(self) -> str:
        return f"{self.rng.getrandbits(64) | 1:016x}"

    def _line(self, span_id: str, parent: str | None, name: str, span_type: str, start: int, end: int,
              **fields) -> dict:
        line = {"trace_id": self.trace_id, "span_id": span_id, "parent_span_id": parent, "name": name,
                "span_type": span_type, **fields.pop("model", {}),
                "start_time": self.time(start), "end_time": self.time(end)}
        line.update(fields)
        line["metadata"] = self.metadata
        line["attributes"] = self.custom
        events = fields.get("events")
        if events:
            self.events += len(events)
        self.lines.append(line)
        return line

    def generation(self, parent: str | None, start: int) -> int:
        rng = self.rng
        model = _NATIVE_MODELS.draw(rng)
        span_id = self.span_id()
        fields: dict = {"model": {"provider": model.provider, "model": model.response, "request_model": model.request}}
        prompt = [{"role": "system", "content": _NATIVE_CONTENT.system}, {"role": "user", "content": self.document}]
        if rng.random() < _P_LLM_ERROR:
            error_type, message, (lo, hi), _ = _LLM_ERROR_TABLE.draw(rng)
            end = start + int(rng.uniform(lo, hi) * NS_PER_S) // NS_PER_US * NS_PER_US
            at = end - _us(rng, 50_000, 500_000)
            self._line(span_id, parent, "generate_summary", "GENERATION", start, end, **fields,
                       usage=None, latency={"total_ms": (end - start) / NS_PER_MS, "ttft_ms": None},
                       input=prompt, output=None, status="error", status_message=message,
                       events=[{"name": "exception", "time": self.time(at),
                                "attributes": {"exception.type": error_type, "exception.message": message}}])
            return end
        prompt_tokens = min(60_000, max(64, int(rng.lognormvariate(7.2, 0.6))))
        completion_tokens = min(1_000, max(8, int(rng.lognormvariate(4.8, 0.5))))
        cache_read = prompt_tokens // 2 // 128 * 128 if prompt_tokens >= 1024 and rng.random() < 0.25 else 0
        per_token = rng.uniform(*model.ns_per_output_token)
        duration = int(0.25 * NS_PER_S + prompt_tokens * 40_000 + completion_tokens * per_token)
        duration = min(8 * NS_PER_S, max(300 * NS_PER_MS, duration)) // NS_PER_US * NS_PER_US
        end = start + duration
        streaming = rng.random() < 0.4
        ttft = int(duration * rng.uniform(0.1, 0.3)) // NS_PER_US * NS_PER_US if streaming else None
        answer = rng.pick(_NATIVE_CONTENT.answers).format(n=rng.between(1000, 10000))
        fields["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                           "total_tokens": prompt_tokens + completion_tokens, "cache_read_tokens": cache_read}
        if rng.random() < 0.5:  # provided cost on about half
            prompt_cost, completion_cost, total_cost = _provided_cost(model, prompt_tokens, completion_tokens, cache_read)
            fields["cost"] = {"prompt": prompt_cost, "completion": completion_cost, "total": total_cost}
        fields["latency"] = {"total_ms": duration / NS_PER_MS, "ttft_ms": ttft / NS_PER_MS if streaming else None}
        fields["input"] = prompt
        # the output as a messages array, or (30%) as plain text
        fields["output"] = [{"role": "assistant", "content": answer}] if rng.random() >= 0.3 else answer
        fields["status"] = "ok"
        fields["finish_reasons"] = [model.finish[0]]
        events = []
        if rng.random() < 0.1:
            events.append({"name": "retry", "time": self.time(start + _us(rng, 1 * NS_PER_MS, 200 * NS_PER_MS)),
                           "attributes": {"attempt": 1, "reason": "429 Too Many Requests"}})
        if streaming:
            events.append({"name": "first_token", "time": self.time(start + ttft), "attributes": None})
        if events:
            fields["events"] = events
        self._line(span_id, parent, "generate_summary", "GENERATION", start, end, **fields)
        return end

    def embedding(self, parent: str, start: int) -> int:
        rng = self.rng
        model = _EMBEDDING_3_SMALL
        end = start + _us(rng, 40 * NS_PER_MS, 350 * NS_PER_MS)
        tokens = rng.between(200, 2000)
        fields: dict = {"model": {"provider": model.provider, "model": model.response, "request_model": None},
                        "usage": {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens,
                                  "cache_read_tokens": 0}}
        if rng.random() < 0.5:
            prompt_cost, completion_cost, total_cost = _provided_cost(model, tokens, 0, 0)
            fields["cost"] = {"prompt": prompt_cost, "completion": completion_cost, "total": total_cost}
        self._line(self.span_id(), parent, "embed_chunks", "EMBEDDING", start, end, **fields,
                   latency={"total_ms": (end - start) / NS_PER_MS, "ttft_ms": None},
                   input=self.document, status="ok")
        return end

    def build(self, start: int) -> int:
        """A GENERATION (half), or a CHAIN over a GENERATION and, a third of the time, an EMBEDDING
        before it; returns the end."""
        rng = self.rng
        if rng.random() < 0.5:
            return self.generation(None, start)
        root_id = self.span_id()
        cursor = start + _us(rng, 200_000, 5 * NS_PER_MS)
        if rng.random() < 1 / 3:
            cursor = self.embedding(root_id, cursor) + _us(rng, 100_000, 3 * NS_PER_MS)
        cursor = self.generation(root_id, cursor)
        end = cursor + _us(rng, 200_000, 10 * NS_PER_MS)
        failed = self.lines[-1]["status"] == "error"
        self._line(root_id, None, "summarize_document", "CHAIN", start, end,
                   latency={"total_ms": (end - start) / NS_PER_MS, "ttft_ms": None},
                   input={"document": self.document}, output=None if failed else self.lines[-1]["output"],
                   status="error" if failed else "ok",
                   **({"status_message": self.lines[-1]["status_message"]} if failed else {}))
        return end
