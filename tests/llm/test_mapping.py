"""Canonical LLM columns (docs/llm-mapping.md) from OTLP/JSON spans shaped as real instrumentations emit them.

Every fixture goes through the real decoder (``otlp_json.decode("traces", ...)``) and the canonical columns are
read back from ``columns.tables["trace_spans"]``. Dialects covered:

* OpenTelemetry GenAI semantic conventions, new names (v1.37+), as ``opentelemetry-instrumentation-openai-v2``
  emits them (``gen_ai.provider.name``, ``gen_ai.input.messages`` ...);
* OpenTelemetry GenAI v1.26 (``gen_ai.system``, ``gen_ai.usage.prompt_tokens``, content span events);
* OpenLLMetry / traceloop (``opentelemetry-instrumentation-openai`` 0.3x: ``gen_ai.prompt.{i}.*``,
  ``llm.request.type``, ``traceloop.*``);
* OpenInference (``openinference-instrumentation-openai``: ``openinference.span.kind``, ``llm.*``,
  ``input.value``, ``session.id``).

Computed costs come from a small price table written in ``tmp_path``; every expected cost is worked out by
hand below with the token convention of the contract (input tokens include cached tokens).
"""

from __future__ import annotations

from typing import Any

import orjson
import polars as pl
import pytest

from observatory_etl.ingest import otlp_json
from observatory_etl.ingest.columns import TABLE_COLUMNS, Columns
from observatory_etl.ingest.frames import frames as build_frames
from observatory_etl.llm.prices import PriceTable
from observatory_etl.tables import LLM_COLUMNS
from tests.conftest import assert_llm_columns, llm_expected

# 2026-11-01T00:00:00Z in ns since the epoch (after every effective_date of the test price table).
T0 = 1_793_491_200_000_000_000
MS = 1_000_000
TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"

PRICES_CSV = """\
# version: test-2026-11
# USD per 1M tokens; hand-written for these tests.
provider,model_pattern,input_per_mtok,output_per_mtok,cached_input_per_mtok,cache_write_per_mtok,effective_date
openai,gpt-4o-mini*,0.15,0.60,0.075,,2024-07-18
anthropic,claude-3-5-sonnet*,3.00,15.00,0.30,3.75,2024-06-20
openai,text-embedding-3-small*,0.02,0.02,,,2024-01-25
"""


@pytest.fixture
def prices(tmp_path) -> PriceTable:
    path = tmp_path / "prices.csv"
    path.write_text(PRICES_CSV)
    return PriceTable.load(path)


# ---------------------------------------------------------------------------------------------------
# OTLP/JSON builders


def any_value(value: Any) -> dict:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}  # OTLP/JSON carries 64-bit ints as strings
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": kv(value)}}
    return {"stringValue": value}


def kv(attributes: dict) -> list[dict]:
    return [{"key": key, "value": any_value(value)} for key, value in attributes.items()]


def otlp_span(name: str, attributes: dict, *, span_id: str = SPAN, parent: str | None = None, kind: int = 3,
              start: int = T0, end: int = T0 + 1500 * MS, events=(), status: dict | None = None) -> dict:
    body = {
        "traceId": TRACE, "spanId": span_id, "name": name, "kind": kind,
        "startTimeUnixNano": str(start), "endTimeUnixNano": str(end), "attributes": kv(attributes),
        "status": status or {},
    }
    if parent:
        body["parentSpanId"] = parent
    if events:
        body["events"] = [{"timeUnixNano": str(t), "name": n, "attributes": kv(a)} for t, n, a in events]
    return body


def otlp_request(*spans: dict, resource: dict | None = None, scope: str = "test") -> bytes:
    resource = {"service.name": "support-bot"} if resource is None else resource
    return orjson.dumps({
        "resourceSpans": [{
            "resource": {"attributes": kv(resource)},
            "scopeSpans": [{"scope": {"name": scope, "version": "0.0.1"}, "spans": list(spans)}],
        }]
    })


def decode(data: bytes, prices: PriceTable) -> tuple[Columns, list[dict]]:
    """Decode ``data`` and return its columns and its ``trace_spans`` rows as the frame holds them (the LLM
    columns are computed when frames are built)."""
    columns = Columns(prices=prices)
    otlp_json.decode("traces", data, columns)
    return columns, build_frames(columns)["trace_spans"].to_dicts()


def llm(row: dict) -> dict:
    """The 23 canonical columns of a decoded row, with input/output parsed from their JSON text."""
    out = {name: row[name] for name in LLM_COLUMNS}
    for name in ("input", "output"):
        if out[name] is not None:
            assert isinstance(out[name], str), f"{name} must be JSON text"
            out[name] = orjson.loads(out[name])
    return out


def one(attributes: dict, prices: PriceTable, *, resource: dict | None = None, events=(),
        start: int = T0, end: int = T0 + 1500 * MS) -> dict:
    """Decode one span with ``attributes`` and return its canonical columns."""
    _, rows = decode(otlp_request(otlp_span("s", attributes, events=events, start=start, end=end),
                                  resource=resource), prices)
    assert len(rows) == 1
    return llm(rows[0])



def test_llm_columns_are_the_23_canonical_columns_at_the_end_of_trace_spans():
    assert len(LLM_COLUMNS) == 23 and len(set(LLM_COLUMNS)) == 23
    assert TABLE_COLUMNS["trace_spans"][-23:] == LLM_COLUMNS


# ---------------------------------------------------------------------------------------------------
# 1. OTel GenAI semantic conventions, new names (v1.37+): opentelemetry-instrumentation-openai-v2

V137_INPUT = [
    {"role": "system", "parts": [{"type": "text", "content": "You are a helpful support agent."}]},
    {"role": "user", "parts": [{"type": "text", "content": "Where is my order 1234?"}]},
]
V137_OUTPUT = [
    {"role": "assistant", "parts": [{"type": "text", "content": "Order 1234 shipped yesterday."}],
     "finish_reason": "stop"},
]


def v137_chat_span() -> dict:
    return otlp_span(
        "chat gpt-4o-mini",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.max_tokens": 512,
            "gen_ai.response.id": "chatcmpl-AQ1x5lUyvKq6JZ2h1kq1f0q9lL2aB",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.output_tokens": 300,
            "gen_ai.usage.cache_read.input_tokens": 1000,
            "gen_ai.conversation.id": "conv_5j66UpCpwteGg4YSxUnt7lPY",
            "gen_ai.response.time_to_first_chunk": 0.412,
            "gen_ai.input.messages": orjson.dumps(V137_INPUT).decode(),
            "gen_ai.output.messages": orjson.dumps(V137_OUTPUT).decode(),
            "openai.response.service_tier": "default",
            "server.address": "api.openai.com",
            "server.port": 443,
        },
        kind=3,  # CLIENT
        start=T0 + 5 * MS,
        end=T0 + 5 * MS + 1_234_567_000,
    )


def test_otel_genai_v137_openai_v2_chat_span(prices):
    data = otlp_request(
        v137_chat_span(),
        resource={"service.name": "support-bot", "deployment.environment.name": "production",
                  "telemetry.sdk.language": "python"},
        scope="opentelemetry.instrumentation.openai_v2",
    )
    columns, rows = decode(data, prices)
    (row,) = rows
    assert row["name"] == "chat gpt-4o-mini" and row["kind"] == 3 and row["service_name"] == "support-bot"
    # (1200 − 1000 cached) × 0.15 + 1000 × 0.075 = 30 + 75 = 105 µUSD in; 300 × 0.60 = 180 µUSD out.
    assert_llm_columns(llm(row), llm_expected(
        span_type="GENERATION", operation="chat", provider="openai", request_model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18", input_tokens=1200, output_tokens=300, total_tokens=1500,
        cache_read_input_tokens=1000, input_cost_usd=105e-6, output_cost_usd=180e-6, total_cost_usd=285e-6,
        cost_source="computed", latency_ms=1234.567, ttft_ms=412.0, finish_reasons=["stop"],
        session_id="conv_5j66UpCpwteGg4YSxUnt7lPY", environment="production",
        input=V137_INPUT, output=V137_OUTPUT,
    ))
    assert columns.tables["trace_events"]["name"] == []


# ---------------------------------------------------------------------------------------------------
# 2. OTel GenAI semantic conventions v1.26 (old names, content in span events)

V126_PROMPT = [{"role": "user", "content": "Say this is a test"}]
V126_COMPLETION = [{"role": "assistant", "content": "This is a test."}]


def test_otel_genai_v126_span_with_content_events(prices):
    span = otlp_span(
        "chat gpt-4o-mini",
        {
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.request.max_tokens": 100,
            "gen_ai.request.temperature": 0.0,
            "gen_ai.response.id": "chatcmpl-9J3uIL87gldCFtiIbyaOvTeYBRA3l",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.prompt_tokens": 42,
            "gen_ai.usage.completion_tokens": 7,
        },
        start=T0,
        end=T0 + 850 * MS,
        events=[
            (T0 + 1 * MS, "gen_ai.content.prompt", {"gen_ai.prompt": orjson.dumps(V126_PROMPT).decode()}),
            (T0 + 849 * MS, "gen_ai.content.completion",
             {"gen_ai.completion": orjson.dumps(V126_COMPLETION).decode()}),
        ],
    )
    columns, rows = decode(otlp_request(span, resource={"service.name": "svc", "deployment.environment": "staging"}),
                           prices)
    (row,) = rows
    # 42 × 0.15 = 6.3 µUSD in; 7 × 0.60 = 4.2 µUSD out.
    assert_llm_columns(llm(row), llm_expected(
        span_type="GENERATION", provider="openai", request_model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18", input_tokens=42, output_tokens=7, total_tokens=49,
        input_cost_usd=6.3e-6, output_cost_usd=4.2e-6, total_cost_usd=10.5e-6, cost_source="computed",
        latency_ms=850.0, finish_reasons=["stop"], environment="staging",
        input=V126_PROMPT, output=V126_COMPLETION,
    ))
    events = columns.tables["trace_events"]
    assert events["name"] == ["gen_ai.content.prompt", "gen_ai.content.completion"]
    assert events["event_index"] == [0, 1]
    assert events["time_unix_nano"] == [T0 + 1 * MS, T0 + 849 * MS]
    assert orjson.loads(events["attributes"][0]) == {"gen_ai.prompt": orjson.dumps(V126_PROMPT).decode()}


# ---------------------------------------------------------------------------------------------------
# 3. OpenLLMetry (traceloop) as opentelemetry-instrumentation-openai 0.3x emits it

WORKFLOW_SPAN = "a1b2c3d4e5f60718"


def openllmetry_spans() -> list[dict]:
    association = {
        "traceloop.association.properties.session_id": "session-42",
        "traceloop.association.properties.user_id": "user-7",
    }
    workflow = otlp_span(
        "joke_generator.workflow",
        {
            "traceloop.span.kind": "workflow",
            "traceloop.workflow.name": "joke_generator",
            "traceloop.entity.name": "joke_generator",
            "traceloop.entity.input": '{"args": [], "kwargs": {"topic": "opentelemetry"}}',
            "traceloop.entity.output": '"Why did the span cross the road?"',
            **association,
        },
        span_id=WORKFLOW_SPAN, kind=1, start=T0, end=T0 + 2_000 * MS,
    )
    chat = otlp_span(
        "openai.chat",
        {
            "llm.request.type": "chat",
            "gen_ai.system": "OpenAI",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.request.temperature": 0.7,
            "llm.headers": "None",
            "llm.is_streaming": True,
            "gen_ai.openai.api_base": "https://api.openai.com/v1/",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "You are a funny assistant.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Tell me a joke about opentelemetry",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.completion.0.finish_reason": "stop",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "Why did the span cross the road?",
            "llm.usage.total_tokens": 57,
            "gen_ai.usage.prompt_tokens": 50,
            "gen_ai.usage.completion_tokens": 7,
            "traceloop.workflow.name": "joke_generator",
            "traceloop.association.properties.environment": "dev",
            **association,
        },
        span_id=SPAN, parent=WORKFLOW_SPAN, kind=3, start=T0 + 100 * MS, end=T0 + 1_900 * MS,
        events=[
            (T0 + 420 * MS, "gen_ai.content.completion.chunk", {}),
            (T0 + 460 * MS, "gen_ai.content.completion.chunk", {}),
            (T0 + 500 * MS, "gen_ai.content.completion.chunk", {}),
        ],
    )
    return [workflow, chat]


def test_openllmetry_chat_and_workflow_spans(prices):
    columns, rows = decode(otlp_request(*openllmetry_spans(), resource={"service.name": "joke-service"},
                                        scope="opentelemetry.instrumentation.openai.v1"), prices)
    workflow, chat = rows
    assert_llm_columns(llm(workflow), llm_expected(
        span_type="CHAIN", latency_ms=2000.0, session_id="session-42", user_id="user-7",
    ))
    # 50 × 0.15 = 7.5 µUSD in; 7 × 0.60 = 4.2 µUSD out.
    assert_llm_columns(llm(chat), llm_expected(
        span_type="GENERATION", operation="chat", provider="openai", request_model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18", input_tokens=50, output_tokens=7, total_tokens=57,
        input_cost_usd=7.5e-6, output_cost_usd=4.2e-6, total_cost_usd=11.7e-6, cost_source="computed",
        latency_ms=1800.0, ttft_ms=320.0,  # first chunk at +420 ms, span start at +100 ms
        finish_reasons=["stop"], session_id="session-42", user_id="user-7", environment="dev",
        input=[{"role": "system", "content": "You are a funny assistant."},
               {"role": "user", "content": "Tell me a joke about opentelemetry"}],
        output=[{"role": "assistant", "content": "Why did the span cross the road?", "finish_reason": "stop"}],
    ))
    assert chat["parent_span_id"] == -6795153568590067944  # a1b2c3d4e5f60718 as a signed 64-bit int
    assert columns.tables["trace_events"]["name"] == ["gen_ai.content.completion.chunk"] * 3


@pytest.mark.parametrize("kind, span_type", [("workflow", "CHAIN"), ("task", "CHAIN"), ("agent", "AGENT"),
                                             ("tool", "TOOL")])
def test_traceloop_span_kinds(prices, kind, span_type):
    columns = one({"traceloop.span.kind": kind, "traceloop.entity.name": "step"}, prices)
    assert_llm_columns(columns, llm_expected(span_type=span_type, latency_ms=1500.0))


def test_openllmetry_tool_calls_stay_flat_and_indexes_sort_numerically(prices):
    columns = one({
        "llm.request.type": "chat", "gen_ai.system": "openai",
        "gen_ai.prompt.10.role": "user", "gen_ai.prompt.10.content": "tenth",
        "gen_ai.prompt.2.role": "user", "gen_ai.prompt.2.content": "second",
        "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.finish_reason": "tool_calls",
        "gen_ai.completion.0.tool_calls.0.name": "get_weather",
        "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Paris"}',
    }, prices)
    assert columns["input"] == [{"role": "user", "content": "second"}, {"role": "user", "content": "tenth"}]
    assert columns["output"] == [{"role": "assistant", "finish_reason": "tool_calls",
                                  "tool_calls.0.name": "get_weather",
                                  "tool_calls.0.arguments": '{"city": "Paris"}'}]
    assert columns["finish_reasons"] == ["tool_calls"]


# ---------------------------------------------------------------------------------------------------
# 4. OpenInference as openinference-instrumentation-openai emits it

OI_INPUT_VALUE = {"messages": [{"role": "system", "content": "Be brief."},
                               {"role": "user", "content": "What is OpenInference?"}],
                  "model": "gpt-4o-mini", "temperature": 0.2, "stream": True}
OI_OUTPUT_VALUE = {"id": "chatcmpl-B1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": "A tracing convention."},
                                "finish_reason": "stop"}]}


def openinference_llm_span() -> dict:
    return otlp_span(
        "ChatCompletion",
        {
            "openinference.span.kind": "LLM",
            "llm.system": "openai",
            "llm.provider": "openai",
            "llm.model_name": "gpt-4o-mini-2024-07-18",
            "llm.invocation_parameters": '{"model": "gpt-4o-mini", "temperature": 0.2}',
            "llm.token_count.prompt": 1200,
            "llm.token_count.completion": 350,
            "llm.token_count.total": 1550,
            "llm.token_count.prompt_details.cache_read": 1024,
            "llm.token_count.completion_details.reasoning": 128,
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "Be brief.",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "What is OpenInference?",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "A tracing convention.",
            "input.value": orjson.dumps(OI_INPUT_VALUE).decode(),
            "input.mime_type": "application/json",
            "output.value": orjson.dumps(OI_OUTPUT_VALUE).decode(),
            "output.mime_type": "application/json",
            "session.id": "sess-oi-1",
            "user.id": "user-oi-1",
            "llm.cost.prompt": 0.000103,
            "llm.cost.completion": 0.00021,
            "llm.cost.total": 0.000313,
        },
        kind=1,  # INTERNAL
        start=T0 + 10 * MS,
        end=T0 + 2_010 * MS,
        events=[(T0 + 260 * MS, "First Token Stream Event", {})],
    )


def test_openinference_llm_span_with_provided_cost(prices):
    columns, rows = decode(otlp_request(openinference_llm_span(),
                                        resource={"service.name": "qa", "deployment.environment.name": "prod"},
                                        scope="openinference.instrumentation.openai"), prices)
    (row,) = rows
    assert_llm_columns(llm(row), llm_expected(
        span_type="GENERATION", provider="openai", request_model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18", input_tokens=1200, output_tokens=350, total_tokens=1550,
        cache_read_input_tokens=1024, reasoning_tokens=128,
        input_cost_usd=0.000103, output_cost_usd=0.00021, total_cost_usd=0.000313, cost_source="provided",
        latency_ms=2000.0, ttft_ms=250.0, session_id="sess-oi-1", user_id="user-oi-1", environment="prod",
        input=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is OpenInference?"}],
        output=[{"role": "assistant", "content": "A tracing convention."}],
    ))
    assert columns.tables["trace_events"]["name"] == ["First Token Stream Event"]


def test_openinference_input_and_output_value_by_mime_type(prices):
    columns = one({
        "openinference.span.kind": "LLM", "llm.provider": "openai", "llm.model_name": "gpt-4o-mini",
        "input.value": orjson.dumps(OI_INPUT_VALUE).decode(), "input.mime_type": "application/json",
        "output.value": "A tracing convention.", "output.mime_type": "text/plain",
        "llm.token_count.prompt": 20, "llm.token_count.completion": 10,
    }, prices)
    # 20 × 0.15 = 3 µUSD in; 10 × 0.60 = 6 µUSD out.
    assert_llm_columns(columns, llm_expected(
        span_type="GENERATION", provider="openai", request_model="gpt-4o-mini", response_model="gpt-4o-mini",
        input_tokens=20, output_tokens=10, total_tokens=30, input_cost_usd=3e-6, output_cost_usd=6e-6,
        total_cost_usd=9e-6, cost_source="computed", latency_ms=1500.0,
        input=OI_INPUT_VALUE, output="A tracing convention.",
    ))


def test_openinference_json_text_without_json_mime_type_stays_text(prices):
    text = '{"question": "hi"}'
    columns = one({"openinference.span.kind": "CHAIN", "input.value": text}, prices)
    assert columns["input"] == text


def test_openinference_embedding_span(prices):
    columns = one({
        "openinference.span.kind": "EMBEDDING",
        "llm.provider": "openai",
        "embedding.model_name": "text-embedding-3-small",
        "embedding.embeddings.0.embedding.text": "What is OpenInference?",
        "llm.token_count.prompt": 6,
        "llm.token_count.total": 6,
        "input.value": '{"input": "What is OpenInference?", "model": "text-embedding-3-small"}',
        "input.mime_type": "application/json",
    }, prices)
    # 6 × 0.02 = 0.12 µUSD in, no output tokens.
    assert_llm_columns(columns, llm_expected(
        span_type="EMBEDDING", provider="openai", request_model="text-embedding-3-small",
        response_model="text-embedding-3-small", input_tokens=6, total_tokens=6,
        input_cost_usd=0.12e-6, output_cost_usd=0.0, total_cost_usd=0.12e-6, cost_source="computed",
        latency_ms=1500.0, input={"input": "What is OpenInference?", "model": "text-embedding-3-small"},
    ))


OI_KIND_SPANS = [
    ("RETRIEVER", {"input.value": "refund policy", "input.mime_type": "text/plain",
                   "retrieval.documents.0.document.id": "doc-1",
                   "retrieval.documents.0.document.content": "Refunds within 30 days."},
     "RETRIEVER", "refund policy", None),
    ("TOOL", {"tool.name": "get_weather", "tool.description": "Weather by city",
              "tool.parameters": '{"type": "object"}', "input.value": '{"city": "Paris"}',
              "input.mime_type": "application/json", "output.value": "sunny"},
     "TOOL", {"city": "Paris"}, "sunny"),
    ("AGENT", {"input.value": "plan a trip", "output.value": "done"}, "AGENT", "plan a trip", "done"),
    ("CHAIN", {"output.value": '{"answer": 42}', "output.mime_type": "application/json"},
     "CHAIN", None, {"answer": 42}),
    ("RERANKER", {"reranker.model_name": "cross-encoder/ms-marco-MiniLM-L-6-v2", "reranker.top_k": 3,
                  "reranker.query": "refunds"}, "RERANKER", None, None),
    ("GUARDRAIL", {"output.value": "PASS"}, "GUARDRAIL", None, "PASS"),
    ("EVALUATOR", {"eval.label": "correct"}, "EVALUATOR", None, None),
    ("UNKNOWN", {}, "SPAN", None, None),
    ("chain", {}, "CHAIN", None, None),  # the kind is matched case-insensitively
]


@pytest.mark.parametrize("kind, extra, span_type, input_, output", OI_KIND_SPANS, ids=[k[0] for k in OI_KIND_SPANS])
def test_openinference_span_kinds(prices, kind, extra, span_type, input_, output):
    columns = one({"openinference.span.kind": kind, "session.id": "s-9", **extra}, prices)
    assert_llm_columns(columns, llm_expected(span_type=span_type, latency_ms=1500.0, session_id="s-9",
                                   input=input_, output=output))


# ---------------------------------------------------------------------------------------------------
# 5. Spans that are not GenAI spans


def test_plain_http_span_has_every_canonical_column_null(prices):
    span = otlp_span(
        "GET /api/orders/{id}",
        {"http.request.method": "GET", "url.full": "https://shop.example.com/api/orders/1234",
         "http.response.status_code": 200, "server.address": "shop.example.com", "session.id": "s-1",
         "user.id": "u-1", "input.value": "not an llm span", "deployment.environment.name": "prod"},
        kind=3,
        events=[(T0 + 5 * MS, "First Token Stream Event", {})],
    )
    columns, rows = decode(otlp_request(span, resource={"service.name": "shop",
                                                        "deployment.environment.name": "prod"}), prices)
    (row,) = rows
    assert_llm_columns(llm(row), llm_expected())
    assert orjson.loads(row["attributes"])["http.request.method"] == "GET"


def test_key_prefixes_that_make_a_genai_span(prices):
    assert one({"gen_ai.agent.name": "x"}, prices)["span_type"] == "SPAN"
    assert one({"llm.foo": 1}, prices)["latency_ms"] == 1500.0
    assert one({"traceloop.workflow.name": "wf"}, prices)["span_type"] == "SPAN"
    assert one({"openinference.span.kind": "TOOL"}, prices)["span_type"] == "TOOL"
    # "gen_ai" without the dot, "llmx." and "embedding.model_name" alone are not GenAI keys.
    assert one({"gen_aix": 1, "llmx.model": "m", "embedding.model_name": "e"}, prices) == llm_expected()


# ---------------------------------------------------------------------------------------------------
# 6. Precedence when dialects mix on one span; empty values count as absent

BASE = {"gen_ai.provider.name": "openai"}


@pytest.mark.parametrize("attributes, column, expected", [
    # tokens: OTel new > OTel v1.26 > OpenInference
    ({"gen_ai.usage.input_tokens": 100, "gen_ai.usage.prompt_tokens": 90, "llm.token_count.prompt": 80},
     "input_tokens", 100),
    ({"gen_ai.usage.prompt_tokens": 90, "llm.token_count.prompt": 80}, "input_tokens", 90),
    ({"gen_ai.usage.input_tokens": "", "gen_ai.usage.prompt_tokens": 90}, "input_tokens", 90),
    ({"llm.token_count.prompt": 80}, "input_tokens", 80),
    ({"gen_ai.usage.output_tokens": 10, "gen_ai.usage.completion_tokens": 9, "llm.token_count.completion": 8},
     "output_tokens", 10),
    ({"gen_ai.usage.completion_tokens": 9, "llm.token_count.completion": 8}, "output_tokens", 9),
    ({"llm.token_count.completion": 8}, "output_tokens", 8),
    ({"gen_ai.usage.total_tokens": 7, "llm.usage.total_tokens": 6, "llm.token_count.total": 5,
      "gen_ai.usage.input_tokens": 1, "gen_ai.usage.output_tokens": 1}, "total_tokens", 7),
    ({"llm.usage.total_tokens": 6, "llm.token_count.total": 5, "gen_ai.usage.input_tokens": 1}, "total_tokens", 6),
    ({"llm.token_count.total": 5, "gen_ai.usage.input_tokens": 1}, "total_tokens", 5),
    ({"gen_ai.usage.cache_read.input_tokens": 3, "gen_ai.usage.cache_read_input_tokens": 2,
      "llm.token_count.prompt_details.cache_read": 1}, "cache_read_input_tokens", 3),
    ({"gen_ai.usage.cache_read_input_tokens": 2, "llm.token_count.prompt_details.cache_read": 1},
     "cache_read_input_tokens", 2),
    ({"llm.token_count.prompt_details.cache_read": 1}, "cache_read_input_tokens", 1),
    ({"gen_ai.usage.cache_creation.input_tokens": 3, "gen_ai.usage.cache_creation_input_tokens": 2,
      "llm.token_count.prompt_details.cache_write": 1}, "cache_creation_input_tokens", 3),
    ({"gen_ai.usage.cache_creation_input_tokens": 2, "llm.token_count.prompt_details.cache_write": 1},
     "cache_creation_input_tokens", 2),
    ({"llm.token_count.prompt_details.cache_write": 1}, "cache_creation_input_tokens", 1),
    ({"gen_ai.usage.reasoning.output_tokens": 3, "gen_ai.usage.reasoning_tokens": 2,
      "llm.token_count.completion_details.reasoning": 1}, "reasoning_tokens", 3),
    ({"gen_ai.usage.reasoning_tokens": 2, "llm.token_count.completion_details.reasoning": 1}, "reasoning_tokens", 2),
    ({"llm.token_count.completion_details.reasoning": 1}, "reasoning_tokens", 1),
    # provider (lower-cased)
    ({"gen_ai.provider.name": "azure.ai.openai", "gen_ai.system": "openai", "llm.provider": "azure",
      "llm.system": "openai"}, "provider", "azure.ai.openai"),
    ({"gen_ai.provider.name": "", "gen_ai.system": "Anthropic", "llm.provider": "x"}, "provider", "anthropic"),
    ({"gen_ai.provider.name": None, "llm.provider": "Azure", "llm.system": "openai"}, "provider", "azure"),
    ({"gen_ai.provider.name": None, "llm.provider": "", "llm.system": "OpenAI"}, "provider", "openai"),
    # models
    ({"gen_ai.request.model": "gpt-4o", "llm.invocation_parameters": '{"model": "gpt-4o-mini"}',
      "llm.model_name": "gpt-3.5-turbo", "embedding.model_name": "e"}, "request_model", "gpt-4o"),
    ({"gen_ai.request.model": "", "llm.invocation_parameters": '{"model": "gpt-4o-mini"}',
      "llm.model_name": "gpt-3.5-turbo"}, "request_model", "gpt-4o-mini"),
    ({"llm.invocation_parameters": '{"temperature": 0}', "llm.model_name": "gpt-3.5-turbo",
      "embedding.model_name": "e"}, "request_model", "gpt-3.5-turbo"),
    ({"llm.invocation_parameters": "not json", "embedding.model_name": "e"}, "request_model", "e"),
    ({"gen_ai.response.model": "r", "llm.model_name": "m", "embedding.model_name": "e"}, "response_model", "r"),
    ({"gen_ai.response.model": "", "llm.model_name": "m", "embedding.model_name": "e"}, "response_model", "m"),
    ({"embedding.model_name": "e"}, "response_model", "e"),
    # operation
    ({"gen_ai.operation.name": "embeddings", "llm.request.type": "chat"}, "operation", "embeddings"),
    ({"gen_ai.operation.name": "", "llm.request.type": "completion"}, "operation", "completion"),
    # session / user / environment
    ({"gen_ai.conversation.id": "c", "session.id": "s", "traceloop.association.properties.session_id": "t",
      "traceloop.association.properties.conversation_id": "u"}, "session_id", "c"),
    ({"gen_ai.conversation.id": "", "session.id": "s", "traceloop.association.properties.session_id": "t"},
     "session_id", "s"),
    ({"traceloop.association.properties.session_id": "t",
      "traceloop.association.properties.conversation_id": "u"}, "session_id", "t"),
    ({"traceloop.association.properties.conversation_id": "u"}, "session_id", "u"),
    ({"user.id": "a", "enduser.id": "b", "traceloop.association.properties.user_id": "c"}, "user_id", "a"),
    ({"user.id": "", "enduser.id": "b", "traceloop.association.properties.user_id": "c"}, "user_id", "b"),
    ({"traceloop.association.properties.user_id": "c"}, "user_id", "c"),
    ({"deployment.environment.name": "a", "deployment.environment": "b",
      "traceloop.association.properties.environment": "e"}, "environment", "a"),
    ({"deployment.environment.name": "", "deployment.environment": "b"}, "environment", "b"),
    # finish reasons
    ({"gen_ai.response.finish_reasons": ["length"], "gen_ai.completion.0.finish_reason": "stop"},
     "finish_reasons", ["length"]),
    ({"gen_ai.response.finish_reasons": "stop"}, "finish_reasons", ["stop"]),
    ({"gen_ai.response.finish_reasons": [], "gen_ai.completion.0.finish_reason": "stop"},
     "finish_reasons", ["stop"]),
    ({"gen_ai.completion.1.finish_reason": "length", "gen_ai.completion.0.finish_reason": "stop"},
     "finish_reasons", ["stop", "length"]),
])
def test_precedence(prices, attributes, column, expected):
    attributes = {**BASE, **attributes}
    attributes = {k: v for k, v in attributes.items() if v is not None}
    assert one(attributes, prices)[column] == expected


def test_environment_from_the_span_wins_over_the_resource(prices):
    resource = {"service.name": "s", "deployment.environment.name": "r-new", "deployment.environment": "r-old"}
    assert one({**BASE, "deployment.environment": "span-old"}, prices, resource=resource)["environment"] == "span-old"
    assert one({**BASE, "traceloop.association.properties.environment": "t"}, prices,
               resource=resource)["environment"] == "r-new"
    assert one(BASE, prices, resource={"deployment.environment.name": "", "deployment.environment": "r-old"}
               )["environment"] == "r-old"
    assert one({**BASE, "traceloop.association.properties.environment": "t"}, prices,
               resource={"service.name": "s"})["environment"] == "t"


@pytest.mark.parametrize("attributes, span_type", [
    ({"openinference.span.kind": "TOOL", "gen_ai.operation.name": "chat"}, "TOOL"),
    ({"openinference.span.kind": "", "gen_ai.operation.name": "execute_tool"}, "TOOL"),
    ({"gen_ai.operation.name": "embeddings", "llm.request.type": "chat"}, "EMBEDDING"),
    ({"gen_ai.operation.name": "text_completion"}, "GENERATION"),
    ({"gen_ai.operation.name": "generate_content"}, "GENERATION"),
    ({"gen_ai.operation.name": "invoke_agent"}, "AGENT"),
    ({"gen_ai.operation.name": "create_agent"}, "AGENT"),
    ({"gen_ai.operation.name": "retrieval"}, "RETRIEVER"),
    ({"llm.request.type": "rerank", "traceloop.span.kind": "task"}, "RERANKER"),
    ({"llm.request.type": "embedding"}, "EMBEDDING"),
    ({"llm.request.type": "completion"}, "GENERATION"),
    ({"traceloop.span.kind": "agent", "gen_ai.system": "openai"}, "AGENT"),
    ({"gen_ai.system": "openai"}, "GENERATION"),
    ({"llm.model_name": "gpt-4o"}, "GENERATION"),
    ({"gen_ai.request.model": "gpt-4o"}, "GENERATION"),
    ({"gen_ai.agent.name": "helper"}, "SPAN"),
    ({"gen_ai.system": ""}, "SPAN"),
])
def test_span_type_precedence(prices, attributes, span_type):
    assert one(attributes, prices)["span_type"] == span_type


def test_span_type_generation_when_only_a_response_model_is_present(prices):
    columns = one({"gen_ai.response.model": "gpt-4o-mini-2024-07-18", "gen_ai.usage.input_tokens": 3}, prices)
    assert columns["response_model"] == "gpt-4o-mini-2024-07-18"
    assert columns["span_type"] == "GENERATION"


def test_messages_precedence(prices):
    new = [{"role": "user", "parts": [{"type": "text", "content": "new"}]}]
    openllmetry = {"gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "openllmetry"}
    openinference = {"llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": "oi"}
    value = {"input.value": '{"v": 1}', "input.mime_type": "application/json"}
    event = [(T0 + MS, "gen_ai.content.prompt", {"gen_ai.prompt": '[{"role": "user", "content": "event"}]'})]
    everything = {**BASE, "gen_ai.input.messages": orjson.dumps(new).decode(), **openllmetry, **openinference, **value}
    assert one(everything, prices, events=event)["input"] == new
    assert one({**everything, "gen_ai.input.messages": ""}, prices, events=event)["input"] == [
        {"role": "user", "content": "openllmetry"}]
    assert one({**BASE, **openinference, **value}, prices, events=event)["input"] == [{"role": "user", "content": "oi"}]
    assert one({**BASE, **value}, prices, events=event)["input"] == {"v": 1}
    assert one(BASE, prices, events=event)["input"] == [{"role": "user", "content": "event"}]
    # the output side, likewise
    out_new = [{"role": "assistant", "parts": [{"type": "text", "content": "new"}], "finish_reason": "stop"}]
    out_all = {**BASE, "gen_ai.output.messages": orjson.dumps(out_new).decode(),
               "gen_ai.completion.0.content": "openllmetry", "llm.output_messages.0.message.content": "oi",
               "output.value": "plain"}
    assert one(out_all, prices)["output"] == out_new
    assert one({**out_all, "gen_ai.output.messages": ""}, prices)["output"] == [{"content": "openllmetry"}]
    del out_all["gen_ai.output.messages"], out_all["gen_ai.completion.0.content"]
    assert one(out_all, prices)["output"] == [{"content": "oi"}]
    del out_all["llm.output_messages.0.message.content"]
    assert one(out_all, prices)["output"] == "plain"


def test_structured_messages_attribute_is_kept(prices):
    """gen_ai.input.messages may also arrive as a structured (non-string) AnyValue."""
    messages = [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    assert one({**BASE, "gen_ai.input.messages": messages}, prices)["input"] == messages


def test_empty_finish_reasons_string_counts_as_absent(prices):
    columns = one({**BASE, "gen_ai.response.finish_reasons": "", "gen_ai.completion.0.finish_reason": "stop"}, prices)
    assert columns["finish_reasons"] == ["stop"]


def test_empty_array_input_messages_counts_as_absent(prices):
    columns = one({**BASE, "gen_ai.input.messages": [], "gen_ai.prompt.0.role": "user",
                   "gen_ai.prompt.0.content": "hi"}, prices)
    assert columns["input"] == [{"role": "user", "content": "hi"}]


def test_empty_input_value_counts_as_absent(prices):
    event = [(T0 + MS, "gen_ai.content.prompt", {"gen_ai.prompt": '[{"role": "user", "content": "event"}]'})]
    columns = one({**BASE, "input.value": ""}, prices, events=event)
    assert columns["input"] == [{"role": "user", "content": "event"}]


def test_empty_traceloop_environment_counts_as_absent(prices):
    columns = one({**BASE, "traceloop.association.properties.environment": ""}, prices, resource={})
    assert columns["environment"] is None


# ---------------------------------------------------------------------------------------------------
# 7. Cost


def test_computed_cost_with_cache_reads_and_writes(prices):
    columns = one({
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-3-5-sonnet-20241022", "gen_ai.response.model": "claude-3-5-sonnet-20241022",
        "gen_ai.usage.input_tokens": 5000,  # includes the 3000 cache reads and 1000 cache writes
        "gen_ai.usage.cache_read.input_tokens": 3000,
        "gen_ai.usage.cache_creation.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 400,
        "gen_ai.response.finish_reasons": ["end_turn"],
    }, prices)
    # (5000 − 3000 − 1000) × 3.00 + 3000 × 0.30 + 1000 × 3.75 = 3000 + 900 + 3750 = 7650 µUSD; 400 × 15 = 6000 µUSD
    assert_llm_columns(columns, llm_expected(
        span_type="GENERATION", operation="chat", provider="anthropic", request_model="claude-3-5-sonnet-20241022",
        response_model="claude-3-5-sonnet-20241022", input_tokens=5000, output_tokens=400, total_tokens=5400,
        cache_read_input_tokens=3000, cache_creation_input_tokens=1000, input_cost_usd=7650e-6,
        output_cost_usd=6000e-6, total_cost_usd=13650e-6, cost_source="computed", latency_ms=1500.0,
        finish_reasons=["end_turn"],
    ))


def test_reasoning_tokens_are_priced_once_as_output(prices):
    columns = one({**BASE, "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 100,
                   "gen_ai.usage.output_tokens": 300, "gen_ai.usage.reasoning.output_tokens": 200}, prices)
    assert columns["reasoning_tokens"] == 200 and columns["total_tokens"] == 400
    # 100 × 0.15 = 15 µUSD; 300 × 0.60 = 180 µUSD (reasoning included, not added)
    assert columns["input_cost_usd"] == pytest.approx(15e-6)
    assert columns["output_cost_usd"] == pytest.approx(180e-6)
    assert columns["total_cost_usd"] == pytest.approx(195e-6)
    assert columns["cost_source"] == "computed"


def test_cost_priced_by_response_model_when_request_model_is_unknown(prices):
    columns = one({**BASE, "gen_ai.request.model": "my-deployment-alias",
                   "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                   "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 1000}, prices)
    assert (columns["input_cost_usd"], columns["output_cost_usd"], columns["total_cost_usd"], columns["cost_source"]) \
        == (pytest.approx(150e-6), pytest.approx(600e-6), pytest.approx(750e-6), "computed")


def test_cost_priced_by_request_model_when_no_response_model(prices):
    columns = one({**BASE, "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 2000,
                   "gen_ai.usage.output_tokens": 0}, prices)
    assert columns["total_cost_usd"] == pytest.approx(300e-6)
    assert columns["output_cost_usd"] == 0.0
    assert columns["cost_source"] == "computed"


def test_provided_cost_wins_over_computed(prices):
    columns = one({**BASE, "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000,
                   "gen_ai.usage.output_tokens": 1000, "llm.cost.total": 0.5}, prices)
    assert (columns["input_cost_usd"], columns["output_cost_usd"], columns["total_cost_usd"], columns["cost_source"]) \
        == (None, None, 0.5, "provided")


def test_provided_cost_parts_without_total_sum_to_the_total(prices):
    columns = one({**BASE, "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000,
                   "llm.cost.prompt": 0.25, "llm.cost.completion": 0.5}, prices)
    assert (columns["input_cost_usd"], columns["output_cost_usd"], columns["total_cost_usd"], columns["cost_source"]) \
        == (0.25, 0.5, 0.75, "provided")
    only_prompt = one({**BASE, "llm.cost.prompt": 0.25}, prices)
    assert (only_prompt["input_cost_usd"], only_prompt["output_cost_usd"], only_prompt["total_cost_usd"],
            only_prompt["cost_source"]) == (0.25, None, 0.25, "provided")


def test_provided_cost_without_model_or_tokens(prices):
    columns = one({"openinference.span.kind": "LLM", "llm.cost.total": 0.01}, prices)
    assert columns["total_cost_usd"] == 0.01 and columns["cost_source"] == "provided"


def test_provided_cost_as_a_string_value(prices):
    columns = one({**BASE, "llm.cost.total": "0.125"}, prices)
    assert columns["total_cost_usd"] == 0.125 and columns["cost_source"] == "provided"


def test_unknown_model_is_not_priced(prices):
    columns = one({**BASE, "gen_ai.request.model": "my-finetune-v3", "gen_ai.usage.input_tokens": 1000,
                   "gen_ai.usage.output_tokens": 1000}, prices)
    assert (columns["input_cost_usd"], columns["output_cost_usd"], columns["total_cost_usd"], columns["cost_source"]) \
        == (None, None, None, None)
    assert columns["total_tokens"] == 2000


def test_no_tokens_no_cost(prices):
    columns = one({**BASE, "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                   "gen_ai.response.model": "gpt-4o-mini-2024-07-18"}, prices)
    assert_llm_columns(columns, llm_expected(span_type="GENERATION", operation="chat", provider="openai",
                                   request_model="gpt-4o-mini", response_model="gpt-4o-mini-2024-07-18",
                                   latency_ms=1500.0))


def test_no_model_no_cost(prices):
    columns = one({**BASE, "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 10}, prices)
    assert columns["cost_source"] is None and columns["total_cost_usd"] is None


def test_the_price_table_is_the_one_passed_in(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("# version: other\n"
                    "provider,model_pattern,input_per_mtok,output_per_mtok,cached_input_per_mtok,"
                    "cache_write_per_mtok,effective_date\n"
                    "openai,gpt-4o-mini*,1.00,2.00,,,2024-07-18\n")
    columns = one({**BASE, "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000,
                   "gen_ai.usage.output_tokens": 1000}, PriceTable.load(path))
    assert columns["total_cost_usd"] == pytest.approx(3000e-6)


# ---------------------------------------------------------------------------------------------------
# 8. Derived totals, latency and time to first token


@pytest.mark.parametrize("usage, total", [
    ({"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5}, 15),
    ({"gen_ai.usage.input_tokens": 10}, 10),
    ({"gen_ai.usage.output_tokens": 5}, 5),
    ({"llm.token_count.prompt": 4, "llm.token_count.completion": 0}, 4),
    ({}, None),
])
def test_total_tokens_derived_when_absent(prices, usage, total):
    # cache and reasoning tokens are breakdowns, never added to the total
    columns = one({**BASE, "gen_ai.usage.cache_read.input_tokens": 3, "gen_ai.usage.reasoning.output_tokens": 2,
                   **usage}, prices)
    assert columns["total_tokens"] == total


def test_tokens_arrive_as_ints_from_string_int_values(prices):
    columns = one({**BASE, "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 3}, prices)
    assert type(columns["input_tokens"]) is int and type(columns["total_tokens"]) is int


@pytest.mark.parametrize("duration_ns, latency_ms", [(1, 1e-6), (2_500_000, 2.5), (61_000 * MS, 61_000.0),
                                                     (0, 0.0)])
def test_latency_from_the_span_duration(prices, duration_ns, latency_ms):
    columns = one(BASE, prices, start=T0 + 7, end=T0 + 7 + duration_ns)
    assert columns["latency_ms"] == pytest.approx(latency_ms)


def test_ttft_precedence(prices):
    chunk = [(T0 + 200 * MS, "gen_ai.content.completion.chunk", {}), (T0 + 300 * MS, "First Token Stream Event", {})]
    both = {**BASE, "gen_ai.response.time_to_first_chunk": 0.05, "gen_ai.server.time_to_first_token": 0.07}
    assert one(both, prices, events=chunk)["ttft_ms"] == pytest.approx(50.0)
    del both["gen_ai.response.time_to_first_chunk"]
    assert one(both, prices, events=chunk)["ttft_ms"] == pytest.approx(70.0)
    # events: the first one named First Token Stream Event or gen_ai.content.completion.chunk
    assert one(BASE, prices, events=chunk)["ttft_ms"] == pytest.approx(200.0)
    other = [(T0 + 100 * MS, "gen_ai.content.prompt", {}), (T0 + 200 * MS, "First Token Stream Event", {})]
    assert one(BASE, prices, events=other)["ttft_ms"] == pytest.approx(200.0)
    assert one(BASE, prices, events=[(T0 + MS, "exception", {})])["ttft_ms"] is None
    # an empty attribute counts as absent
    assert one({**BASE, "gen_ai.response.time_to_first_chunk": ""}, prices, events=chunk)["ttft_ms"] == \
        pytest.approx(200.0)


def test_a_mixed_batch_keeps_rows_aligned(prices):
    """Several dialects in one request: every column list stays row-aligned with the spans."""
    spans = [
        {**v137_chat_span(), "spanId": "3333333333333333"},
        *openllmetry_spans(),
        {**openinference_llm_span(), "spanId": "1111111111111111"},
        otlp_span("GET /", {"http.request.method": "GET"}, span_id="2222222222222222"),
    ]
    columns, rows = decode(otlp_request(*spans), prices)
    spans_table = columns.tables["trace_spans"]
    assert {len(v) for v in spans_table.values()} == {5}
    assert [r["span_type"] for r in rows] == ["GENERATION", "CHAIN", "GENERATION", "GENERATION", None]
    assert [r["cost_source"] for r in rows] == ["computed", None, "computed", "provided", None]
    assert [r["provider"] for r in rows] == ["openai", None, "openai", "openai", None]
    assert columns.rows == 5 + 3 + 1  # spans + (3 chunk events + 1 first-token event)

    frame = build_frames(columns)["trace_spans"]
    assert frame.height == 5
    assert frame.schema["finish_reasons"] == pl.List(pl.String)
    assert frame.schema["input_tokens"] == pl.Int64
    assert frame.schema["total_cost_usd"] == pl.Float64
    assert frame["finish_reasons"].to_list() == [["stop"], None, ["stop"], None, None]
    assert frame["total_tokens"].to_list() == [1500, None, 57, 1550, None]
