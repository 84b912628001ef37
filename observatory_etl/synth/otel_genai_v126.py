"""OpenTelemetry GenAI semantic conventions v1.26 (``otel_genai_v1.26``; summarizer)."""

from __future__ import annotations

from .encoding import (
    _KIND_CLIENT,
    _KIND_SERVER,
    _STATUS_UNSET,
    NS_PER_MS,
    _d,
    _i,
    _json,
    _s,
    _sa,
)
from .trace import _TraceBuilder

# Instrumentation scopes of the v1.26-era OpenTelemetry instrumentations.
_V126_SCOPES = {
    "openai": {"name": "opentelemetry.instrumentation.openai", "version": "0.46b0"},
    "anthropic": {"name": "opentelemetry.instrumentation.anthropic", "version": "0.46b0"},
}
_V126_SERVER_SCOPE = {"name": "opentelemetry.instrumentation.fastapi", "version": "0.46b0"}


class _V126Builder(_TraceBuilder):
    def chat(self, parent: str, start: int, tool: str | None) -> int:
        rng = self.rng
        model = self.service.chat_table.draw(rng)
        call = self.sample_call(model, start, tool, p_stream=0.0, p_cache=0.0)
        scope = _V126_SCOPES[model.provider]
        span_id = self.span_id()
        attributes = [
            _s("gen_ai.system", model.provider),
            _s("gen_ai.request.model", model.request),
            _d("gen_ai.request.temperature", call.temperature),
        ]
        if call.max_tokens is not None:
            attributes.append(_i("gen_ai.request.max_tokens", call.max_tokens))
        # enduser.id: the application copies it onto its spans (v1.26 has no GenAI user attribute)
        attributes += [_s("server.address", model.server), _i("server.port", 443), _s("enduser.id", self.user_id)]
        events = [{
            "timeUnixNano": start + rng.between(50_000, 1_000_000),
            "name": "gen_ai.content.prompt",
            "attributes": [_s("gen_ai.prompt", _json([{"role": "system", "content": self.service.content.system},
                                                      {"role": "user", "content": self.question}]))],
        }]
        if call.error is not None:
            attributes.append(_s("error.type", call.error[0]))
            events.append(self.exception_event(call))
            status = {"code": 2, "message": call.error[1]}
        else:
            attributes += [
                _s("gen_ai.response.model", model.response),
                _s("gen_ai.response.id", call.response_id),
                _sa("gen_ai.response.finish_reasons", [call.finish]),
                _i("gen_ai.usage.prompt_tokens", call.input_tokens),
                _i("gen_ai.usage.completion_tokens", call.output_tokens),
            ]
            if call.tool_call is not None:
                call_id, name, arguments = call.tool_call
                message = {"role": "assistant", "content": None, "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]}
            else:
                message = {"role": "assistant", "content": call.answer}
            events.append({
                "timeUnixNano": call.end - rng.between(10_000, 200_000),
                "name": "gen_ai.content.completion",
                "attributes": [_s("gen_ai.completion", _json([message]))],
            })
            status = _STATUS_UNSET
        log_attrs = [_s("gen_ai.system", model.provider), _s("gen_ai.request.model", model.request)]
        self.call_logs(scope, span_id, call, log_attrs)
        self._span(scope, span_id, parent, f"chat {model.request}", _KIND_CLIENT, start, call.end, attributes,
                   status, events)
        return call.end

    def tool_span(self, tool: str) -> tuple[str, dict, list, list, dict]:
        # plain application spans without any GenAI attribute
        attributes = [_s("code.function", tool), _s("code.namespace", "summarizer.tools")]
        return tool, self.service.scope, attributes, [_s("code.function", tool)], _STATUS_UNSET

    def plain_tool(self, parent: str, start: int, tool: str) -> int:
        return self.tool(parent, start, tool, None)

    def no_retrieval(self, parent: str, start: int) -> int:
        raise AssertionError("the v1.26 service has no retrieval step (p_retrieval = 0)")

    def build(self, links: list | None) -> tuple[str, int]:
        """The root ``POST <route>`` server span and its children."""
        rng = self.rng
        route = self.service.route
        root_id = self.span_id()
        cursor = self.children(root_id, rng.between(1 * NS_PER_MS, 25 * NS_PER_MS), self.chat, self.plain_tool,
                               self.no_retrieval)
        end = cursor + rng.between(1 * NS_PER_MS, 30 * NS_PER_MS)
        status = self.failed_status(_STATUS_UNSET)
        attributes = [
            _s("http.request.method", "POST"),
            _s("http.route", route),
            _s("url.path", route),
            _s("url.scheme", "https"),
            _i("http.response.status_code", 200 if status is _STATUS_UNSET else 500),
            _s("enduser.id", self.user_id),
        ]
        self._span(_V126_SERVER_SCOPE, root_id, None, f"POST {route}", _KIND_SERVER, 0, end, attributes, status)
        return root_id, end
