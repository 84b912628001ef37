"""OpenTelemetry GenAI semantic conventions, current names (``otel_genai``; support-agent)."""

from __future__ import annotations

import orjson

from .encoding import (
    _KIND_CLIENT,
    _KIND_INTERNAL,
    _STATUS_OK,
    _STATUS_UNSET,
    NS_PER_MS,
    NS_PER_S,
    _d,
    _i,
    _json,
    _s,
    _sa,
)
from .trace import _TraceBuilder


def _parts_message(role: str, text: str) -> dict:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


class _OtelBuilder(_TraceBuilder):
    def chat(self, parent: str, start: int, tool: str | None) -> int:
        rng = self.rng
        model = self.service.chat_table.draw(rng)
        call = self.sample_call(model, start, tool, p_stream=0.25, p_cache=0.3,
                                p_cache_write=0.15 if model.provider == "anthropic" else 0.0)
        span_id = self.span_id()
        attributes = [
            _s("gen_ai.operation.name", "chat"),
            _s("gen_ai.provider.name", model.provider),
            _s("gen_ai.request.model", model.request),
            _d("gen_ai.request.temperature", call.temperature),
        ]
        if call.max_tokens is not None:
            attributes.append(_i("gen_ai.request.max_tokens", call.max_tokens))
        attributes += [
            _s("gen_ai.conversation.id", self.session_id),
            _s("user.id", self.user_id),
            _s("server.address", model.server),
            _i("server.port", 443),
            _s("gen_ai.input.messages", _json([_parts_message("system", self.service.content.system),
                                               _parts_message("user", self.question)])),
        ]
        events: list = []
        if call.error is not None:
            attributes.append(_s("error.type", call.error[0]))
            events.append(self.exception_event(call))
            status = {"code": 2, "message": call.error[1]}
            self.calls.append((self.resource.index, model, "chat", None, None, call.seconds, call.error[0]))
        else:
            if call.tool_call is not None:
                call_id, name, arguments = call.tool_call
                output = {"role": "assistant", "parts": [{"type": "tool_call", "id": call_id, "name": name,
                                                          "arguments": orjson.loads(arguments)}]}
            else:
                output = _parts_message("assistant", call.answer)
            output["finish_reason"] = call.finish
            attributes += [
                _s("gen_ai.response.model", model.response),
                _s("gen_ai.response.id", call.response_id),
                _sa("gen_ai.response.finish_reasons", [call.finish]),
                _i("gen_ai.usage.input_tokens", call.input_tokens),
                _i("gen_ai.usage.output_tokens", call.output_tokens),
            ]
            if call.cache_read is not None:
                attributes.append(_i("gen_ai.usage.cache_read.input_tokens", call.cache_read))
            if call.cache_creation is not None:
                attributes.append(_i("gen_ai.usage.cache_creation.input_tokens", call.cache_creation))
            if call.reasoning is not None:
                attributes.append(_i("gen_ai.usage.reasoning.output_tokens", call.reasoning))
            if call.first_chunk is not None:
                attributes.append(_d("gen_ai.response.time_to_first_chunk", (call.first_chunk - start) / NS_PER_S))
                per_chunk = max(1, call.output_tokens // len(call.chunks))
                events += [{"timeUnixNano": at, "name": "gen_ai.content.completion.chunk",
                            "attributes": [_i("gen_ai.chunk.index", index),
                                           _i("gen_ai.chunk.output_tokens", per_chunk)]}
                           for index, at in enumerate(call.chunks)]
            attributes.append(_s("gen_ai.output.messages", _json([output])))
            status = _STATUS_UNSET
            self.calls.append((self.resource.index, model, "chat", call.input_tokens, call.output_tokens,
                               call.seconds, None))
        log_attrs = [_s("gen_ai.operation.name", "chat"), _s("gen_ai.provider.name", model.provider),
                     _s("gen_ai.request.model", model.request)]
        self.call_logs(model.scope, span_id, call, log_attrs, details=True)
        self._span(model.scope, span_id, parent, f"chat {model.request}", _KIND_CLIENT, start, call.end,
                   attributes, status, events)
        return call.end

    def tool_span(self, tool: str) -> tuple[str, dict, list, list, dict]:
        attributes = [
            _s("gen_ai.operation.name", "execute_tool"),
            _s("gen_ai.tool.name", tool),
            _s("gen_ai.tool.type", "function"),
            _s("gen_ai.tool.call.id", f"call_{self.rng.getrandbits(96):024x}"),
        ]
        log_attrs = [_s("gen_ai.operation.name", "execute_tool"), _s("gen_ai.tool.name", tool)]
        return f"execute_tool {tool}", self.service.scope, attributes, log_attrs, _STATUS_OK

    def otel_tool(self, parent: str, start: int, tool: str) -> int:
        return self.tool(parent, start, tool, self.chat)

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
        """The root ``invoke_agent`` span and its children."""
        rng = self.rng
        agent = rng.pick(self.service.agents)
        root_id = self.span_id()
        cursor = self.children(root_id, rng.between(1 * NS_PER_MS, 25 * NS_PER_MS), self.chat, self.otel_tool,
                               self.retrieval)
        end = cursor + rng.between(1 * NS_PER_MS, 30 * NS_PER_MS)
        status = self.failed_status(_STATUS_UNSET)
        attributes = [
            _s("gen_ai.operation.name", "invoke_agent"),
            _s("gen_ai.agent.name", agent),
            _s("gen_ai.conversation.id", self.session_id),
            _s("user.id", self.user_id),
        ]
        if status is not _STATUS_UNSET:
            attributes.append(_s("error.type", "AgentRunError"))
        self._span(self.service.scope, root_id, None, f"invoke_agent {agent}", _KIND_INTERNAL, 0, end, attributes,
                   status, links=links)
        return root_id, end
