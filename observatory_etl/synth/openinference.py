"""OpenInference / LangChain (``openinference``; research-assistant)."""

from __future__ import annotations

from .encoding import _KIND_INTERNAL, _STATUS_OK, NS_PER_MS, _d, _i, _json, _s
from .trace import _TraceBuilder

_OI_LLM_NAMES = {"openai": "ChatOpenAI", "anthropic": "ChatAnthropic"}


class _OpenInferenceBuilder(_TraceBuilder):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.context = [_s("session.id", self.session_id), _s("user.id", self.user_id)]

    def llm(self, parent: str, start: int, tool: str | None) -> int:
        rng = self.rng
        model = self.service.chat_table.draw(rng)
        call = self.sample_call(model, start, tool, p_stream=0.35, p_cache=0.3)
        scope = self.service.scope
        span_id = self.span_id()
        streaming = call.first_chunk is not None
        system = self.service.content.system
        attributes = [
            _s("openinference.span.kind", "LLM"),
            _s("llm.system", model.provider),
            _s("llm.model_name", model.request if call.error else model.response),
            _s("llm.invocation_parameters", _json({"model": model.request, "temperature": call.temperature,
                                                   "stream": streaming})),
            _s("llm.input_messages.0.message.role", "system"),
            _s("llm.input_messages.0.message.content", system),
            _s("llm.input_messages.1.message.role", "user"),
            _s("llm.input_messages.1.message.content", self.question),
            _s("input.value", _json({"messages": [[{"role": "system", "content": system},
                                                   {"role": "user", "content": self.question}]]})),
            _s("input.mime_type", "application/json"),
        ]
        events: list = []
        if call.error is not None:
            events.append(self.exception_event(call))
            status = {"code": 2, "message": call.error[1]}
        else:
            attributes.append(_s("llm.output_messages.0.message.role", "assistant"))
            if call.tool_call is not None:
                call_id, name, arguments = call.tool_call
                attributes += [_s("llm.output_messages.0.message.tool_calls.0.tool_call.id", call_id),
                               _s("llm.output_messages.0.message.tool_calls.0.tool_call.function.name", name),
                               _s("llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
                                  arguments)]
                generation = {"text": "", "tool_calls": [{"name": name, "arguments": arguments}]}
            else:
                attributes.append(_s("llm.output_messages.0.message.content", call.answer))
                generation = {"text": call.answer}
            generation["finish_reason"] = call.finish
            attributes += [
                _s("output.value", _json({"generations": [[generation]]})),
                _s("output.mime_type", "application/json"),
                _i("llm.token_count.prompt", call.input_tokens),
                _i("llm.token_count.completion", call.output_tokens),
                _i("llm.token_count.total", call.input_tokens + call.output_tokens),
            ]
            if call.cache_read is not None:
                attributes.append(_i("llm.token_count.prompt_details.cache_read", call.cache_read))
            if call.reasoning is not None:
                attributes.append(_i("llm.token_count.completion_details.reasoning", call.reasoning))
            if rng.random() < 0.4:  # cost computed by the application (provided cost)
                prompt, completion, total = call.cost()
                attributes += [_d("llm.cost.prompt", prompt), _d("llm.cost.completion", completion),
                               _d("llm.cost.total", total)]
            if streaming:
                events.append({"timeUnixNano": call.first_chunk, "name": "First Token Stream Event"})
            status = _STATUS_OK
        attributes += self.context
        log_attrs = [_s("llm.system", model.provider), _s("llm.model_name", model.request)]
        self.call_logs(scope, span_id, call, log_attrs)
        self._span(scope, span_id, parent, _OI_LLM_NAMES[model.provider], _KIND_INTERNAL, start, call.end,
                   attributes, status, events)
        return call.end

    def chat(self, parent: str, start: int, tool: str | None) -> int:
        """An LLM span, inside a ``RunnableSequence`` CHAIN 30% of the time; returns the outer end."""
        rng = self.rng
        if rng.random() >= 0.3:
            return self.llm(parent, start, tool)
        chain_id = self.span_id()
        end = self.llm(chain_id, start + rng.between(100_000, 2 * NS_PER_MS), tool)
        end += rng.between(100_000, 3 * NS_PER_MS)
        status = {"code": 2, "message": self.spans[-1][1]["status"]["message"]} \
            if self.spans[-1][1]["status"].get("code") == 2 else _STATUS_OK
        self._span(self.service.scope, chain_id, parent, "RunnableSequence", _KIND_INTERNAL, start, end, [
            _s("openinference.span.kind", "CHAIN"),
            _s("input.value", self.question),
            _s("input.mime_type", "text/plain"),
            *self.context,
        ], status)
        return end

    def tool_span(self, tool: str) -> tuple[str, dict, list, list, dict]:
        arguments = _json({"query": self.question})
        attributes = [
            _s("openinference.span.kind", "TOOL"),
            _s("tool.name", tool),
            _s("tool.description", f"{tool.replace('_', ' ')} tool"),
            _s("tool.parameters", '{"type": "object", "properties": {"query": {"type": "string"}}}'),
            _s("input.value", arguments),
            _s("input.mime_type", "application/json"),
            *self.context,
        ]
        return tool, self.service.scope, attributes, [_s("tool.name", tool)], _STATUS_OK

    def oi_tool(self, parent: str, start: int, tool: str) -> int:
        return self.tool(parent, start, tool, self.llm)

    def retrieval(self, parent: str, start: int) -> int:
        """A ``VectorStoreRetriever`` over an ``OpenAIEmbeddings`` span, then (half the time) a reranker."""
        rng = self.rng
        model = self.service.embeddings_model
        assert model is not None
        scope = self.service.scope
        retriever_id = self.span_id()
        emb_start = start + rng.between(200_000, 3 * NS_PER_MS)
        emb_end = emb_start + rng.between(40 * NS_PER_MS, 350 * NS_PER_MS)
        tokens = rng.between(6, 121)
        self._span(scope, self.span_id(), retriever_id, "OpenAIEmbeddings", _KIND_INTERNAL, emb_start, emb_end, [
            _s("openinference.span.kind", "EMBEDDING"),
            _s("embedding.model_name", model.request),
            _s("embedding.embeddings.0.embedding.text", self.question),
            _i("llm.token_count.prompt", tokens),
            _i("llm.token_count.total", tokens),
            *self.context,
        ], _STATUS_OK)
        end = emb_end + rng.between(4 * NS_PER_MS, 90 * NS_PER_MS)
        documents = []
        for index in range(rng.between(2, 5)):
            prefix = f"retrieval.documents.{index}.document."
            documents += [_s(prefix + "id", f"arxiv:{rng.between(2300, 2512)}.{rng.between(10000, 99999)}"),
                          _d(prefix + "score", round(rng.uniform(0.55, 0.95), 4)),
                          _s(prefix + "content", rng.pick(self.service.content.answers).format(n=index))]
        self._span(scope, retriever_id, parent, "VectorStoreRetriever", _KIND_INTERNAL, start, end, [
            _s("openinference.span.kind", "RETRIEVER"),
            _s("input.value", self.question),
            *documents,
            *self.context,
        ], _STATUS_OK)
        if rng.random() < 0.5:
            rerank_start = end + rng.between(200_000, 2 * NS_PER_MS)
            end = rerank_start + rng.between(30 * NS_PER_MS, 250 * NS_PER_MS)
            self._span(scope, self.span_id(), parent, "CohereRerank", _KIND_INTERNAL, rerank_start, end, [
                _s("openinference.span.kind", "RERANKER"),
                _s("reranker.model_name", "rerank-english-v3.0"),
                _i("reranker.top_k", 3),
                _s("reranker.query", self.question),
                *self.context,
            ], _STATUS_OK)
        return end

    def build(self, links: list | None) -> tuple[str, int]:
        """The root ``AgentExecutor`` (AGENT), a GUARDRAIL now and then, and the children."""
        rng = self.rng
        scope = self.service.scope
        root_id = self.span_id()
        cursor = rng.between(1 * NS_PER_MS, 25 * NS_PER_MS)
        if rng.random() < 0.15:
            guard_end = cursor + rng.between(20 * NS_PER_MS, 200 * NS_PER_MS)
            self._span(scope, self.span_id(), root_id, "ContentSafetyGuardrail", _KIND_INTERNAL, cursor, guard_end, [
                _s("openinference.span.kind", "GUARDRAIL"),
                _s("input.value", self.question),
                _s("output.value", '{"flagged": false}'),
                _s("output.mime_type", "application/json"),
                *self.context,
            ], _STATUS_OK)
            cursor = guard_end + rng.between(200_000, 5 * NS_PER_MS)
        cursor = self.children(root_id, cursor, self.chat, self.oi_tool, self.retrieval)
        end = cursor + rng.between(1 * NS_PER_MS, 30 * NS_PER_MS)
        status = self.failed_status(_STATUS_OK)
        attributes = [
            _s("openinference.span.kind", "AGENT"),
            _s("input.value", self.question),
            _s("input.mime_type", "text/plain"),
        ]
        if status is _STATUS_OK:
            attributes += [_s("output.value", rng.pick(self.service.content.answers).format(n=rng.between(1, 999))),
                           _s("output.mime_type", "text/plain")]
        attributes += [_s("metadata", _json({"agent": self.service.agents[0]})), *self.context]
        self._span(scope, root_id, None, "AgentExecutor", _KIND_INTERNAL, 0, end, attributes, status)
        return root_id, end
