"""OpenLLMetry / Traceloop (``openllmetry``; rag-api)."""

from __future__ import annotations

from .encoding import (
    _KIND_CLIENT,
    _KIND_INTERNAL,
    _STATUS_UNSET,
    NS_PER_MS,
    _b,
    _d,
    _i,
    _json,
    _s,
)
from .trace import _TraceBuilder

_TRACELOOP_SCOPES = {
    "openai": {"name": "opentelemetry.instrumentation.openai.v1", "version": "0.47.3"},
    "anthropic": {"name": "opentelemetry.instrumentation.anthropic", "version": "0.47.3"},
}
_TRACELOOP_SYSTEMS = {"openai": "openai", "anthropic": "Anthropic"}
_QDRANT_SCOPE = {"name": "opentelemetry.instrumentation.qdrant", "version": "0.47.3"}


class _TraceloopBuilder(_TraceBuilder):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        # Traceloop copies the association properties onto every span of the trace
        self.association = [
            _s("traceloop.association.properties.session_id", self.session_id),
            _s("traceloop.association.properties.user_id", self.user_id),
            _s("traceloop.association.properties.environment", self.service.environment),
        ]

    def chat(self, parent: str, start: int, tool: str | None) -> int:
        rng = self.rng
        model = self.service.chat_table.draw(rng)
        call = self.sample_call(model, start, tool, p_stream=0.3, p_cache=0.25)
        scope = _TRACELOOP_SCOPES[model.provider]
        span_id = self.span_id()
        attributes = [
            _s("llm.request.type", "chat"),
            _s("gen_ai.system", _TRACELOOP_SYSTEMS[model.provider]),
            _s("gen_ai.request.model", model.request),
            _d("gen_ai.request.temperature", call.temperature),
        ]
        if call.max_tokens is not None:
            attributes.append(_i("gen_ai.request.max_tokens", call.max_tokens))
        attributes += [
            _b("llm.is_streaming", call.first_chunk is not None),
            _s("gen_ai.prompt.0.role", "system"),
            _s("gen_ai.prompt.0.content", self.service.content.system),
            _s("gen_ai.prompt.1.role", "user"),
            _s("gen_ai.prompt.1.content", self.question),
        ]
        events: list = []
        if call.error is not None:
            attributes.append(_s("error.type", call.error[0]))
            events.append(self.exception_event(call))
            status = {"code": 2, "message": call.error[1]}
        else:
            attributes += [
                _s("gen_ai.response.model", model.response),
                _s("gen_ai.response.id", call.response_id),
                _i("gen_ai.usage.prompt_tokens", call.input_tokens),
                _i("gen_ai.usage.completion_tokens", call.output_tokens),
                _i("llm.usage.total_tokens", call.input_tokens + call.output_tokens),
            ]
            if call.cache_read is not None:
                attributes.append(_i("gen_ai.usage.cache_read_input_tokens", call.cache_read))
            attributes += [_s("gen_ai.completion.0.role", "assistant"),
                           _s("gen_ai.completion.0.finish_reason", call.finish)]
            if call.tool_call is not None:
                call_id, name, arguments = call.tool_call
                attributes += [_s("gen_ai.completion.0.tool_calls.0.id", call_id),
                               _s("gen_ai.completion.0.tool_calls.0.name", name),
                               _s("gen_ai.completion.0.tool_calls.0.arguments", arguments)]
            else:
                attributes.append(_s("gen_ai.completion.0.content", call.answer))
            events += [{"timeUnixNano": at, "name": "gen_ai.content.completion.chunk"} for at in call.chunks]
            status = _STATUS_UNSET
        attributes += self.association
        log_attrs = [_s("gen_ai.system", _TRACELOOP_SYSTEMS[model.provider]),
                     _s("gen_ai.request.model", model.request), _s("llm.request.type", "chat")]
        self.call_logs(scope, span_id, call, log_attrs)
        self._span(scope, span_id, parent, f"{model.provider}.chat", _KIND_CLIENT, start, call.end, attributes,
                   status, events)
        return call.end

    def _entity(self, kind: str, name: str) -> list:
        return [_s("traceloop.span.kind", kind), _s("traceloop.entity.name", name),
                _s("traceloop.workflow.name", self.workflow)] + self.association

    def tool_span(self, tool: str) -> tuple[str, dict, list, list, dict]:
        attributes = self._entity("tool", tool)
        return f"{tool}.tool", self.service.scope, attributes, [_s("traceloop.entity.name", tool)], _STATUS_UNSET

    def traceloop_tool(self, parent: str, start: int, tool: str) -> int:
        return self.tool(parent, start, tool, self.chat)

    def retrieval(self, parent: str, start: int) -> int:
        """A ``retrieve_context.task`` over ``openai.embeddings`` and ``qdrant.search``; returns its end."""
        rng = self.rng
        model = self.service.embeddings_model
        assert model is not None
        task_id = self.span_id()
        emb_start = start + rng.between(200_000, 3 * NS_PER_MS)
        emb_end = emb_start + rng.between(40 * NS_PER_MS, 350 * NS_PER_MS)
        tokens = rng.between(6, 121)
        self._span(_TRACELOOP_SCOPES["openai"], self.span_id(), task_id, "openai.embeddings", _KIND_CLIENT,
                   emb_start, emb_end, [
                       _s("llm.request.type", "embedding"),
                       _s("gen_ai.system", "openai"),
                       _s("gen_ai.request.model", model.request),
                       _s("gen_ai.response.model", model.response),
                       _s("gen_ai.prompt.0.content", self.question),
                       _i("gen_ai.usage.prompt_tokens", tokens),
                       _i("llm.usage.total_tokens", tokens),
                       *self.association,
                   ], _STATUS_UNSET)
        search_start = emb_end + rng.between(100_000, 2 * NS_PER_MS)
        search_end = search_start + rng.between(3 * NS_PER_MS, 80 * NS_PER_MS)
        self._span(_QDRANT_SCOPE, self.span_id(), task_id, "qdrant.search", _KIND_CLIENT, search_start, search_end, [
            _s("db.system", "qdrant"),
            _s("vector_db.vendor", "Qdrant"),
            _s("qdrant.search.collection_name", "docs_chunks"),
            _i("qdrant.search.top_k", rng.pick((4, 8))),
            *self.association,
        ], _STATUS_UNSET)
        end = search_end + rng.between(200_000, 5 * NS_PER_MS)
        self._span(self.service.scope, task_id, parent, "retrieve_context.task", _KIND_INTERNAL, start, end,
                   self._entity("task", "retrieve_context"), _STATUS_UNSET)
        return end

    def build(self, links: list | None) -> tuple[str, int]:
        """The root ``<agent>.workflow``, sometimes an ``<agent>.agent`` span under it, and the children."""
        rng = self.rng
        self.workflow = rng.pick(self.service.agents)
        root_id = self.span_id()
        cursor = rng.between(1 * NS_PER_MS, 25 * NS_PER_MS)
        agent_id = self.span_id() if rng.random() < 0.5 else None
        agent_start = cursor
        if agent_id is not None:
            cursor += rng.between(100_000, 2 * NS_PER_MS)
        cursor = self.children(agent_id or root_id, cursor, self.chat, self.traceloop_tool, self.retrieval)
        if agent_id is not None:
            cursor += rng.between(100_000, 2 * NS_PER_MS)
            self._span(self.service.scope, agent_id, root_id, f"{self.workflow}.agent", _KIND_INTERNAL, agent_start,
                       cursor, self._entity("agent", self.workflow), _STATUS_UNSET)
        end = cursor + rng.between(1 * NS_PER_MS, 30 * NS_PER_MS)
        status = self.failed_status(_STATUS_UNSET)
        attributes = self._entity("workflow", self.workflow) + [
            _s("traceloop.entity.input", _json({"args": [self.question], "kwargs": {}})),
        ]
        if status is _STATUS_UNSET:
            attributes.append(_s("traceloop.entity.output", _json(rng.pick(self.service.content.answers))))
        self._span(self.service.scope, root_id, None, f"{self.workflow}.workflow", _KIND_INTERNAL, 0, end,
                   attributes, status)
        return root_id, end
