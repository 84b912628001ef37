"""Synthetic LLM telemetry: OTLP/JSON and native LLM-span files in the OpenTelemetry Collector landing layout.

:func:`write_landing` fills a landing zone with what an OpenTelemetry Collector (``awss3exporter``,
``otlp_json`` marshaler) would upload for a few instrumented LLM applications -- plus the native
LLM-span files of one service that logs without OpenTelemetry -- so the ETL can be run, tested and
benchmarked without real traffic. Keys, relative to the landing root::

    year=YYYY/month=MM/day=DD/hour=HH/minute=MM/{traces|metrics|logs}_<8 hex>.json[.gz|.zst]
    year=YYYY/month=MM/day=DD/hour=HH/minute=MM/llm_spans_<8 hex>.jsonl[.gz|.zst]

The synthetic data exercises every input docs/llm-mapping.md maps to the canonical LLM columns: each
OTLP service speaks one GenAI attribute dialect (:data:`SERVICE_DIALECTS`), and the first four OTLP
traces of every hour go to the four services in turn, so every hour holds every dialect.

``support-agent`` -- OpenTelemetry GenAI semantic conventions, current names (``otel_genai``)
    Root ``invoke_agent <agent>`` over 1-8 children: ``chat <model>`` client spans
    (``gen_ai.provider.name``, ``gen_ai.usage.input_tokens``/``output_tokens``,
    ``gen_ai.usage.cache_read.input_tokens``, ``gen_ai.usage.cache_creation.input_tokens`` (Anthropic),
    ``gen_ai.usage.reasoning.output_tokens`` (o4-mini), ``gen_ai.input.messages`` /
    ``gen_ai.output.messages`` as JSON text of parts-based messages, ``gen_ai.response.finish_reasons``,
    ``gen_ai.conversation.id``, ``user.id``; streamed calls carry ``gen_ai.response.time_to_first_chunk``
    (seconds) and ``gen_ai.content.completion.chunk`` events), ``execute_tool <tool>`` spans (sometimes
    with a nested ``chat``) and ``retrieve documents`` Qdrant spans over an ``embeddings <model>`` span.
    Resource: ``deployment.environment.name``.
``summarizer`` -- OpenTelemetry GenAI semantic conventions v1.26 (``otel_genai_v1.26``)
    Root ``POST /v1/summarize`` server span (``enduser.id``) over ``chat <model>`` spans with
    ``gen_ai.system``, ``gen_ai.usage.prompt_tokens``/``completion_tokens`` and no
    ``gen_ai.operation.name``; messages are ``gen_ai.content.prompt`` (``gen_ai.prompt``) and
    ``gen_ai.content.completion`` (``gen_ai.completion``) span events; plain (non-GenAI) tool spans.
    No session id (v1.26 has none). Resource: ``deployment.environment``.
``rag-api`` -- OpenLLMetry / Traceloop (``openllmetry``)
    Root ``<agent>.workflow`` (``traceloop.span.kind`` workflow), sometimes an ``<agent>.agent`` span,
    ``retrieve_context.task`` tasks over ``openai.embeddings`` (``llm.request.type`` embedding) and
    ``qdrant.search``, ``<tool>.tool`` tools and ``openai.chat`` / ``anthropic.chat`` spans
    (``gen_ai.system`` -- ``Anthropic`` capitalised as OpenLLMetry writes it --, ``llm.request.type`` chat,
    ``gen_ai.usage.prompt_tokens``/``completion_tokens``, ``llm.usage.total_tokens``,
    ``gen_ai.usage.cache_read_input_tokens`` sometimes, ``gen_ai.prompt.{i}.role/content``,
    ``gen_ai.completion.{i}.role/content/finish_reason`` or ``.tool_calls.0.*``; streamed calls have
    ``gen_ai.content.completion.chunk`` events). Every span carries
    ``traceloop.association.properties.session_id``/``user_id``/``environment``; the resource has no
    environment.
``research-assistant`` -- OpenInference / LangChain (``openinference``)
    Root ``AgentExecutor`` (AGENT) over a GUARDRAIL now and then, ``ChatOpenAI`` / ``ChatAnthropic`` LLM
    spans (``llm.system``, ``llm.model_name`` = response model, ``llm.invocation_parameters`` JSON with the
    request model, ``llm.token_count.prompt/completion/total``, ``.prompt_details.cache_read``,
    ``.completion_details.reasoning``, ``llm.input_messages.{i}.message.*``,
    ``llm.output_messages.{i}.message.*``, ``input.value``/``output.value`` JSON; ``llm.cost.prompt/
    completion/total`` on about 40%; a ``First Token Stream Event`` on streamed calls), sometimes inside a
    ``RunnableSequence`` CHAIN, TOOL spans, RETRIEVER ``VectorStoreRetriever`` over an EMBEDDING
    ``OpenAIEmbeddings`` span, and a RERANKER. ``session.id`` and ``user.id`` on every span.

Common to the OTLP services: about 3% of LLM calls fail (status code 2, ``error.type`` or an
``exception`` event), traces belong to conversations (sessions) of 1-5 traces of one user that run
one after another within the hour, some follow-up turns of ``support-agent`` link to the previous turn,
and ~5% of the traces (new conversations in the first upload) are late arrivals that started up to four
minutes before the hour (all other spans lie inside the hour). Token counts follow the convention of
docs/llm-mapping.md: input tokens include cached tokens, output tokens include reasoning tokens.

``batch-summarizer`` -- native LLM-span files (:data:`NATIVE_SERVICE`)
    About 5% of ``traces_per_hour`` (at least one per upload slot when there are enough traces) are
    native traces of 1-3 spans written as ``llm_spans_<key>.jsonl`` lines following
    ``observatory_etl/schemas/llm_span.schema.json``: a single GENERATION, or a CHAIN over a GENERATION
    (and an EMBEDDING). Times are RFC 3339 strings with ``Z`` and microseconds, or integer nanoseconds for
    about 20% of the traces; about half the model spans carry a provided ``cost``; events (``first_token``,
    ``retry``, ``exception``) on some; sessions are batches of 1-5 traces of one user.

Logs and metrics
    * 1-3 log records per LLM / tool span of every OTLP service, correlated by traceId/spanId (flags 1);
      ``support-agent`` also writes ``gen_ai.client.inference.operation.details`` events.
    * Per slot and service instance: delta histograms ``gen_ai.client.token.usage`` and
      ``gen_ai.client.operation.duration`` aggregated exactly from that slot's ``support-agent``
      (``otel_genai``) ``chat`` and ``embeddings`` spans -- the only spans with ``gen_ai.operation.name``
      chat/embeddings; the other dialects and native spans feed no histogram --, and for every instance a
      cumulative monotonic sum ``app.requests`` and a gauge ``process.cpu.utilization``.

Encoding follows the OTLP "JSON Protobuf Encoding" as the Go collector writes it: lowerCamelCase
names, lowercase hex trace (32) and span (16) ids, enums as integers, 64-bit integers (timestamps in
Unix nanoseconds, ``intValue``, ``count``, ``bucketCounts``, ``asInt``) as JSON strings, zero values
omitted (a root span has no ``parentSpanId``, an unset status is ``{}``, empty ``events``/``links``
are left out). Odd-numbered traces files (counting ``hour * files_per_hour + slot``) are JSON Lines
with several export requests, one per line, as the collector's ``fileexporter`` writes them; every
other OTLP file holds exactly one request.

Output is a pure function of the arguments and the hour: each hour draws from its own
``random.Random(f"{seed}:{hour}")`` (and a second stream for the native traces), so re-running -- or
generating a sub-range -- reproduces byte-identical objects under identical keys (gzip is written with
``mtime=0``).
"""

from __future__ import annotations

import gzip
import random
import time as _time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate

import obstore
import orjson
import zstandard

from .gc_pause import gc_paused
from .landing import open_store
from .pricing import PriceTable

__all__ = [
    "SynthStats", "write_landing", "native_trace_count", "TOKEN_USAGE_BOUNDS", "DURATION_BOUNDS", "DIALECTS",
    "SERVICE_DIALECTS", "NATIVE_SERVICE",
]

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
NS_PER_US = 1_000

#: Explicit bucket bounds the GenAI semantic conventions advise for ``gen_ai.client.token.usage``.
TOKEN_USAGE_BOUNDS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
#: Explicit bucket bounds (seconds) advised for ``gen_ai.client.operation.duration``.
DURATION_BOUNDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)

OTEL_GENAI = "otel_genai"
OTEL_GENAI_V126 = "otel_genai_v1.26"
OPENLLMETRY = "openllmetry"
OPENINFERENCE = "openinference"
#: The GenAI attribute dialects of the OTLP services.
DIALECTS = (OTEL_GENAI, OTEL_GENAI_V126, OPENLLMETRY, OPENINFERENCE)
#: The service whose LLM spans land as native ``llm_spans_*.jsonl`` files.
NATIVE_SERVICE = "batch-summarizer"

_EXTENSIONS = {"gzip": ".json.gz", "zstd": ".json.zst", "none": ".json"}
_NATIVE_EXTENSIONS = {"gzip": ".jsonl.gz", "zstd": ".jsonl.zst", "none": ".jsonl"}

# OTLP enums.
_KIND_INTERNAL, _KIND_SERVER, _KIND_CLIENT = 1, 2, 3
_STATUS_UNSET: dict = {}
_STATUS_OK = {"code": 1}
_SEV_INFO, _SEV_WARN, _SEV_ERROR = (9, "INFO"), (13, "WARN"), (17, "ERROR")
_TEMPORALITY_DELTA, _TEMPORALITY_CUMULATIVE = 1, 2


@dataclass(frozen=True)
class SynthStats:
    """What :func:`write_landing` wrote; every count is exact (it equals what the files contain).

    Attributes:
        hours: hours generated.
        files: objects written (3 OTLP files per upload slot, plus one native file per slot that has
            native traces).
        traces: distinct traces, OTLP and native.
        spans: spans, OTLP and native (= ``trace_spans`` rows once loaded).
        span_events: span events, OTLP and native (= ``trace_events`` rows once loaded).
        logs: log records.
        metric_data_points: histogram, sum and gauge data points.
        bytes_written: bytes stored (after compression).
        native_traces: traces of the native ``llm_spans`` files (included in ``traces``).
        native_spans: lines of the native ``llm_spans`` files (included in ``spans``).
    """

    hours: int = 0
    files: int = 0
    traces: int = 0
    spans: int = 0
    span_events: int = 0
    logs: int = 0
    metric_data_points: int = 0
    bytes_written: int = 0
    native_traces: int = 0
    native_spans: int = 0

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


def _json(value) -> str:
    return orjson.dumps(value).decode()


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
    scope: dict  # the OTel GenAI (current names) instrumentation's scope
    finish: tuple[str, ...]  # (normal stop, tool call, length)
    ns_per_output_token: tuple[float, float]
    reasoning: bool = False


@dataclass(frozen=True)
class _Content:
    """Message texts of a service; ``{n}`` is replaced by a random number."""

    system: str
    questions: tuple[str, ...]
    answers: tuple[str, ...]


@dataclass(frozen=True)
class _Service:
    name: str
    version: str
    environment: str
    dialect: str
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
    content: _Content
    chat_table: _Weighted = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "chat_table", _Weighted([m for m, _ in self.chat_models],
                                                         [w for _, w in self.chat_models]))


def _provided_cost(model: _Model, input_tokens: int, output_tokens: int,
                   cache_read: int | None) -> tuple[float, float, float]:
    """The cost an instrumentation provides, in USD (prompt, completion, total): the packaged price table's
    (observatory_etl/data/model_prices.csv) as of its version date, rounded to 1e-10 USD."""
    prices = PriceTable.load()
    cost = prices.cost(
        model.provider, model.response, date.fromisoformat(prices.version),
        input_tokens=input_tokens, output_tokens=output_tokens, cache_read_input_tokens=cache_read,
    )
    prompt, completion = round(cost.input, 10), round(cost.output, 10)
    return prompt, completion, round(prompt + completion, 10)


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
_O4_MINI = _Model(
    "openai", "o4-mini", "o4-mini-2025-04-16", "api.openai.com", _OPENAI_SCOPE,
    ("stop", "tool_calls", "length"), (5e6, 11e6), reasoning=True,
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

_SUPPORT_CONTENT = _Content(
    "You are Acme Outfitters' support assistant. Answer briefly, look orders up with the tools and never "
    "promise refunds above $200.",
    ("Where is my order #{n}? The tracking page hasn't changed in three days.",
     "I'd like to return order #{n}; the boots are a size too small.",
     "Can you change the delivery address for order #{n} to my office?",
     "I was charged twice for order #{n}.",
     "Do you price-match? I saw the same tent $40 cheaper elsewhere.",
     "The zipper on the backpack from order #{n} broke after a week."),
    ("Order #{n} left our warehouse yesterday and should arrive within two business days.",
     "I've started a return for order #{n}; a prepaid label is on its way to your inbox.",
     "Done: order #{n} will now be delivered to the new address.",
     "I can see the duplicate charge on order #{n}; the second one will be refunded within 3-5 days.",
     "We match authorized retailers' prices. Send me the link and I'll check it (case #{n}).",
     "Sorry about that! Warranty ticket #{n} is open and a replacement ships today."),
)
_RAG_CONTENT = _Content(
    "Answer the question using only the documentation excerpts below. Cite the page titles.",
    ("How do I rotate an API key without downtime?",
     "What is the rate limit of the batch endpoint?",
     "How can I export audit logs to S3?",
     "Does the Python SDK retry with exponential backoff?",
     "Which regions support EU data residency?",
     "How do I configure SSO with Okta for workspace {n}?"),
    ("Create a second key, deploy it, then revoke the old one (see 'API keys > Rotation').",
     "The batch endpoint accepts 50 requests per minute per workspace ('Limits').",
     "Enable 'Audit log export' and give the bucket policy from 'Exports > S3' (job {n}).",
     "Yes: the SDK retries 429 and 5xx responses up to 3 times with jittered backoff ('SDK > Retries').",
     "Frankfurt and Dublin host EU-resident workspaces ('Data residency').",
     "Add the SAML app in Okta, then paste its metadata URL under Settings > SSO ('SSO with Okta')."),
)
_SUMMARIZER_CONTENT = _Content(
    "Summarize the support thread in at most five bullet points, then list the open action items.",
    ("Summarize thread #{n}: [customer] The CSV export times out for projects over 10k rows. [agent] Could "
     "you share the job id? [customer] Sure, it is job {n}.",
     "Summarize thread #{n}: [customer] Invoices show the wrong VAT number since the migration. [agent] "
     "Escalated to billing.",
     "Summarize thread #{n}: [customer] Two-factor codes arrive late by SMS. [agent] Suggested the "
     "authenticator app; customer agreed."),
    ("- CSV export times out above 10k rows (job {n})\n- Engineering investigating\nAction: follow up on the fix.",
     "- Wrong VAT number on invoices since the migration\n- Billing owns it\nAction: reissue invoices ({n}).",
     "- SMS 2FA codes delayed\n- Customer moved to the authenticator app\nAction: none."),
)
_RESEARCH_CONTENT = _Content(
    "You are a research assistant. Search and read papers with the tools and cite arXiv ids.",
    ("Find recent work on speculative decoding with small draft models.",
     "Compare retrieval-augmented generation with long-context models on multi-hop QA.",
     "What are the known failure modes of LLM-as-a-judge evaluation?",
     "Summarize the state of the art in KV-cache compression.",
     "Which benchmarks measure tool-use reliability of agents?"),
    ("Three lines of work stand out: draft-model distillation, tree-based verification and self-speculation "
     "(arXiv:2402.{n}).",
     "Long-context models close most of the gap on 2-hop questions but RAG still wins beyond 4 hops "
     "(arXiv:2407.{n}).",
     "Position bias, verbosity bias and self-preference are the best documented (arXiv:2306.{n}).",
     "Quantization and token eviction dominate; eviction loses accuracy on retrieval tasks (arXiv:2405.{n}).",
     "Tau-bench and ToolSandbox are the most cited (arXiv:2406.{n})."),
)
_NATIVE_CONTENT = _Content(
    "Summarize the document for the daily digest in three sentences.",
    ("Document {n}: quarterly revenue grew 12% while support costs fell; churn rose in the SMB segment.",
     "Document {n}: incident report -- the EU cluster lost writes for 14 minutes after a failed failover.",
     "Document {n}: product brief for the new offline mode, including sync conflict rules.",
     "Document {n}: hiring plan for the platform team with budget and timeline."),
    ("Revenue grew 12% and support costs fell. SMB churn rose and needs attention. Report {n}.",
     "The EU cluster lost writes for 14 minutes. A failover bug was fixed. Postmortem {n} is published.",
     "Offline mode syncs on reconnect. Conflicts resolve last-writer-wins per field. Brief {n}.",
     "The platform team grows by four. Budget is approved. Hiring closes in Q3 ({n})."),
)

_SERVICES: tuple[_Service, ...] = (
    _Service(
        name="support-agent", version="1.14.2", environment="prod", dialect=OTEL_GENAI,
        instances=("support-agent-7f9c4d-2kq8x", "support-agent-7f9c4d-9wz5m"), weight=0.35,
        agents=("support_triage", "refund_assistant"),
        tools=("lookup_order", "search_kb", "create_ticket", "issue_refund", "get_customer"),
        chat_models=((_GPT_4O_MINI, 0.5), (_GPT_4O, 0.15), (_CLAUDE_SONNET, 0.2), (_O4_MINI, 0.15)),
        embeddings_model=_EMBEDDING_3_SMALL, p_tool=0.4, p_retrieval=0.1,
        route="/v1/support/chat", scope={"name": "support_agent.agents", "version": "1.14.2"},
        content=_SUPPORT_CONTENT,
    ),
    _Service(
        name="summarizer", version="0.9.1", environment="staging", dialect=OTEL_GENAI_V126,
        instances=("summarizer-0",), weight=0.15,
        agents=("thread_summarizer",), tools=("chunk_text", "fetch_thread"),
        chat_models=((_CLAUDE_HAIKU, 0.8), (_GPT_4O_MINI, 0.2)),
        embeddings_model=None, p_tool=0.3, p_retrieval=0.0,
        route="/v1/summarize", scope={"name": "summarizer.app", "version": "0.9.1"},
        content=_SUMMARIZER_CONTENT,
    ),
    _Service(
        name="rag-api", version="2.3.0", environment="prod", dialect=OPENLLMETRY,
        instances=("rag-api-5b6d8c-tx4rp",), weight=0.25,
        agents=("docs_qa",), tools=("rerank", "fetch_url"),
        chat_models=((_GPT_4O_MINI, 0.45), (_GPT_41_MINI, 0.4), (_CLAUDE_HAIKU, 0.15)),
        embeddings_model=_EMBEDDING_3_SMALL, p_tool=0.2, p_retrieval=0.4,
        route="/v1/ask", scope={"name": "traceloop.tracer", "version": "0.47.3"},
        content=_RAG_CONTENT,
    ),
    _Service(
        name="research-assistant", version="0.4.0", environment="prod", dialect=OPENINFERENCE,
        instances=("research-assistant-6d5f9-h2m7c",), weight=0.25,
        agents=("paper_scout",), tools=("arxiv_search", "fetch_paper", "calculator"),
        chat_models=((_GPT_4O, 0.4), (_O4_MINI, 0.25), (_CLAUDE_SONNET, 0.35)),
        embeddings_model=_EMBEDDING_3_SMALL, p_tool=0.3, p_retrieval=0.3,
        route="/v1/research", scope={"name": "openinference.instrumentation.langchain", "version": "0.1.51"},
        content=_RESEARCH_CONTENT,
    ),
)
#: The GenAI attribute dialect each OTLP service's spans speak.
SERVICE_DIALECTS = {service.name: service.dialect for service in _SERVICES}

# Instrumentation scopes of the non-current dialects.
_V126_SCOPES = {
    "openai": {"name": "opentelemetry.instrumentation.openai", "version": "0.46b0"},
    "anthropic": {"name": "opentelemetry.instrumentation.anthropic", "version": "0.46b0"},
}
_V126_SERVER_SCOPE = {"name": "opentelemetry.instrumentation.fastapi", "version": "0.46b0"}
_TRACELOOP_SCOPES = {
    "openai": {"name": "opentelemetry.instrumentation.openai.v1", "version": "0.47.3"},
    "anthropic": {"name": "opentelemetry.instrumentation.anthropic", "version": "0.47.3"},
}
_TRACELOOP_SYSTEMS = {"openai": "openai", "anthropic": "Anthropic"}
_QDRANT_SCOPE = {"name": "opentelemetry.instrumentation.qdrant", "version": "0.47.3"}
_OI_LLM_NAMES = {"openai": "ChatOpenAI", "anthropic": "ChatAnthropic"}


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
            ]
            # The environment in every place docs/llm-mapping.md reads it from: the current and the
            # older resource attribute, and (rag-api) Traceloop association properties on the spans.
            if service.dialect == OTEL_GENAI:
                attributes.append(_s("deployment.environment.name", service.environment))
            elif service.dialect != OPENLLMETRY:
                attributes.append(_s("deployment.environment", service.environment))
            if service.dialect == OPENINFERENCE:
                attributes.append(_s("openinference.project.name", service.name))
            attributes += [
                _s("telemetry.sdk.name", "opentelemetry"),
                _s("telemetry.sdk.language", "python"),
                _s("telemetry.sdk.version", "1.38.0"),
            ]
            out.append(_Resource(len(out), service, {"attributes": attributes}))
    return tuple(out)


_RESOURCES = _build_resources()
_SERVICE_TABLE = _Weighted(_SERVICES, [s.weight for s in _SERVICES])
_CHILD_COUNT_TABLE = _Weighted((1, 2, 3, 4, 5, 6, 7, 8), (8, 14, 18, 18, 15, 12, 9, 6))
#: Traces per conversation (session).
_TURNS_TABLE = _Weighted((1, 2, 3, 4, 5), (40, 25, 15, 12, 8))
_TEMPERATURES = (0.0, 0.2, 0.3, 0.7, 1.0)
_USERS = 5000  # user ids user-00001 .. user-05000, the same in every hour

# (error.type, status message, duration range in seconds, relative frequency)
_LLM_ERRORS = (
    ("RateLimitError", "429 Too Many Requests", (0.3, 0.7), 0.6),
    ("InternalServerError", "500 Internal Server Error", (0.8, 3.0), 0.15),
    ("APITimeoutError", "Request timed out.", (7.5, 8.0), 0.15),
    ("APIConnectionError", "Connection error.", (0.3, 1.0), 0.1),
)
_LLM_ERROR_TABLE = _Weighted(_LLM_ERRORS, [e[3] for e in _LLM_ERRORS])
_TOOL_ERRORS = (("TimeoutError", "tool call timed out"), ("HTTPError", "upstream returned 503"))
_P_LLM_ERROR = 0.03


# --------------------------------------------------------------------------------------------------
# Conversations (sessions)


class _Conversation:
    """A session: 1-5 traces of one user, one after another within the hour."""

    __slots__ = ("session_id", "user_id", "remaining", "last_trace", "last_root", "last_end")

    def __init__(self, session_id: str | None, user_id: str, turns: int) -> None:
        self.session_id = session_id
        self.user_id = user_id
        self.remaining = turns
        self.last_trace: str | None = None
        self.last_root: str | None = None
        self.last_end = 0


def _uuid(rng: _Rng) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"


def _session_id(rng: _Rng, dialect: str) -> str | None:
    if dialect == OTEL_GENAI:
        return f"conv_{rng.getrandbits(96):024x}"
    if dialect == OPENLLMETRY:
        return _uuid(rng)
    if dialect == OPENINFERENCE:
        return f"sess_{rng.getrandbits(80):020x}"
    return None  # GenAI v1.26 has no conversation id


class _Conversations:
    """Open conversations per service within one hour."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open: dict[str, list[_Conversation]] = {}

    def pick(self, rng: _Rng, service: str, new_session: Callable[[], str | None]) -> tuple[_Conversation, bool]:
        """Continue an open conversation of ``service`` (half the time, when there is one) or start one;
        returns (conversation, is a follow-up)."""
        open_ = self.open.setdefault(service, [])
        if open_ and rng.random() < 0.5:
            return open_[int(rng.random() * len(open_))], True
        conversation = _Conversation(new_session(), f"user-{rng.between(1, _USERS + 1):05d}", _TURNS_TABLE.draw(rng))
        return conversation, False

    def record(self, service: str, conversation: _Conversation, trace_id: str, root_id: str, end: int,
               follow_up: bool) -> None:
        conversation.last_trace, conversation.last_root, conversation.last_end = trace_id, root_id, end
        conversation.remaining -= 1
        open_ = self.open[service]
        if follow_up:
            if conversation.remaining <= 0:
                open_.remove(conversation)
        elif conversation.remaining > 0:
            open_.append(conversation)
            if len(open_) > 64:  # an abandoned conversation: it simply ends early
                del open_[0]


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


class _Call:
    """The outcome of one LLM call, before a dialect encodes it. Times are relative ns."""

    __slots__ = ("model", "start", "end", "error", "error_at", "temperature", "max_tokens", "input_tokens",
                 "output_tokens", "cache_read", "cache_creation", "reasoning", "finish", "response_id",
                 "answer", "tool_call", "first_chunk", "chunks")

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / NS_PER_S

    def cost(self) -> tuple[float, float, float]:
        """Provided cost in USD (prompt, completion, total), from the packaged price table."""
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


# --------------------------------------------------------------------------------------------------
# OpenTelemetry GenAI semantic conventions, current names (support-agent)


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


# --------------------------------------------------------------------------------------------------
# OpenTelemetry GenAI semantic conventions v1.26 (summarizer)


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


# --------------------------------------------------------------------------------------------------
# OpenLLMetry / Traceloop (rag-api)


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


# --------------------------------------------------------------------------------------------------
# OpenInference / LangChain (research-assistant)


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


_BUILDERS: dict[str, type[_TraceBuilder]] = {
    OTEL_GENAI: _OtelBuilder,
    OTEL_GENAI_V126: _V126Builder,
    OPENLLMETRY: _TraceloopBuilder,
    OPENINFERENCE: _OpenInferenceBuilder,
}


# --------------------------------------------------------------------------------------------------
# Native LLM-span lines (batch-summarizer)

_NATIVE_MODELS = _Weighted((_CLAUDE_HAIKU, _GPT_4O_MINI, _GPT_41_MINI), (0.5, 0.3, 0.2))
_NATIVE_TAGS = (("batch", "digest"), ("batch", "digest", "priority"), ("batch", "backfill"))
#: Upper bound of a native trace's duration (a generation is at most 8 s).
_NATIVE_MAX_NS = 10 * NS_PER_S


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


def native_trace_count(traces_per_hour: int, files_per_hour: int) -> int:
    """How many of an hour's ``traces_per_hour`` traces are native: about 5%, but one per upload slot
    when there are at least ten traces per slot (so small hours have a native file in every slot)."""
    if traces_per_hour < 2:
        return 0
    return max((traces_per_hour + 10) // 20, min(files_per_hour, traces_per_hour // 10))


def write_landing(landing_url: str, start: datetime, end: datetime, *, traces_per_hour: int = 200,
                  files_per_hour: int = 4, seed: int = 0, compression: str = "gzip",
                  progress: Callable[[str], None] | None = None) -> SynthStats:
    """Write synthetic LLM telemetry for every whole hour in ``[start, end)`` into a landing zone.

    Args:
        landing_url: landing root: a local directory (created if missing) or a URL obstore understands
            (``file://``, ``s3://``, ``gs://``, ``az://``, ``memory://``).
        start: first hour (timezone-aware; converted to UTC and floored to the hour).
        end: exclusive end (timezone-aware); every hour starting before ``end`` is written.
        traces_per_hour: traces per hour, OTLP and native together (:func:`native_trace_count` of them
            native); an OTLP trace has about 6 spans and 7 log records, a native one 1-3 spans. Split
            evenly over the upload slots.
        files_per_hour: upload slots per hour; each writes one traces, one logs and one metrics file
            (and an ``llm_spans`` file when it has native traces), at a minute inside its
            ``60 / files_per_hour`` minute share of the hour.
        seed: varies the data; the same arguments always produce byte-identical objects and keys.
        compression: ``"gzip"`` (``.json.gz``, ``.jsonl.gz``), ``"zstd"`` (``.json.zst``, ``.jsonl.zst``)
            or ``"none"`` (``.json``, ``.jsonl``).
        progress: called once per hour written with a one-line summary.

    Writes, per slot, under ``year=YYYY/month=MM/day=DD/hour=HH/minute=MM/``:
        * ``traces_<key>``: one ExportTraceServiceRequest (``resourceSpans`` grouped by service
          instance, then instrumentation scope); odd-numbered traces files are JSON Lines holding
          up to three requests. Timestamps are Unix nanoseconds as strings.
        * ``logs_<key>``: one ExportLogsServiceRequest of span-correlated log records.
        * ``metrics_<key>``: one ExportMetricsServiceRequest: delta histograms
          ``gen_ai.client.token.usage`` (``{token}``) and ``gen_ai.client.operation.duration``
          (seconds) of the ``otel_genai`` service's chat and embeddings spans per (operation, provider,
          request model, response model, token type | error.type), a cumulative ``app.requests`` sum
          (``asInt``) and a ``process.cpu.utilization`` gauge (``asDouble``) per service instance.
        * ``llm_spans_<key>.jsonl``: the slot's native traces, one LLM span per line.

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
    extensions = (_EXTENSIONS[compression], _NATIVE_EXTENSIONS[compression])
    total = SynthStats()
    hour = start.replace(minute=0, second=0, microsecond=0)
    with gc_paused(), ThreadPoolExecutor(max_workers=4, thread_name_prefix="synth-upload") as pool:
        while hour < end:
            stats = _write_hour(store, pool, hour, traces_per_hour, files_per_hour, seed, compress, extensions)
            total += stats
            if progress is not None:
                progress(
                    f"{hour:%Y-%m-%dT%H:00Z}  {stats.files} files  {stats.traces:,} traces  {stats.spans:,} spans "
                    f"({stats.native_spans:,} native)  {stats.span_events:,} events  {stats.logs:,} logs  "
                    f"{stats.metric_data_points:,} points  {stats.bytes_written / 1e6:,.1f} MB"
                )
            hour += timedelta(hours=1)
    return total


def _split(total: int, parts: int, index: int) -> int:
    """Part ``index`` of ``total`` split as evenly as possible over ``parts`` (earlier parts larger)."""
    return total // parts + (index < total % parts)


def _write_hour(store, pool: ThreadPoolExecutor, hour: datetime, traces_per_hour: int, files_per_hour: int,
                seed: int, compress: Callable[[bytes], bytes], extensions: tuple[str, str]) -> SynthStats:
    """Generate one hour and upload it through ``pool`` (compression overlaps generation); returns
    its exact counts once every object of the hour is stored."""
    extension, native_extension = extensions
    rng = _Rng(f"{seed}:{hour.isoformat()}")
    native_rng = _Rng(f"{seed}:{hour.isoformat()}:native")
    key_rng = _Rng(f"{seed}:{hour.isoformat()}:keys")
    hour_ns = int(hour.timestamp()) * NS_PER_S
    hour_end_ns = hour_ns + 3600 * NS_PER_S
    day_start = hour.replace(hour=0)
    day_start_ns = int(day_start.timestamp()) * NS_PER_S
    hour_offset = hour.hour
    prefix = f"year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/"

    late_probability = min(1.0, 0.05 * files_per_hour)  # late arrivals land in the first upload
    n_native = native_trace_count(traces_per_hour, files_per_hour)
    conversations = _Conversations()
    native_batches = _Conversations()
    batch_number = [0]

    def new_batch() -> str:
        batch_number[0] += 1
        return f"batch-{hour:%Y%m%d%H}-{batch_number[0]:04d}"

    requests_before = [0] * len(_RESOURCES)
    used_keys: set[str] = set()
    files = traces = spans = events = logs = points = native_traces = native_spans = 0
    otlp_index = 0
    uploads: list[Future[int]] = []

    for slot_index in range(files_per_hour):
        slot_start = hour_ns + slot_index * 3600 * NS_PER_S // files_per_hour
        slot_end = hour_ns + (slot_index + 1) * 3600 * NS_PER_S // files_per_hour
        upload = slot_start + int((slot_end - slot_start) * rng.uniform(0.6, 0.95))
        minute = (upload - hour_ns) // (60 * NS_PER_S)
        n_slot_native = _split(n_native, files_per_hour, slot_index)
        n_otlp = _split(traces_per_hour, files_per_hour, slot_index) - n_slot_native

        slot = _Slot()
        for _ in range(n_otlp):
            if otlp_index < len(_SERVICES):  # every hour starts with one trace of each service (dialect)
                service = _SERVICES[otlp_index]
                resource = _RESOURCES[_FIRST_RESOURCE[id(service)] + rng.between(0, len(service.instances))]
            else:
                resource = _RESOURCES[_pick_resource(rng)]
                service = resource.service
            otlp_index += 1
            trace_id = f"{rng.getrandbits(128) | 1:032x}"
            conversation, follow_up = conversations.pick(rng, service.name,
                                                         lambda: _session_id(rng, service.dialect))
            links = None
            if follow_up and service.dialect == OTEL_GENAI and rng.random() < 0.25:
                links = [{"traceId": conversation.last_trace, "spanId": conversation.last_root,
                          "attributes": [_s("link.type", "previous_turn")]}]
            builder = _BUILDERS[service.dialect](rng, resource, trace_id, conversation)
            root_id, duration = builder.build(links)
            latest = hour_end_ns - duration - NS_PER_MS
            if not follow_up and slot_index == 0 and rng.random() < late_probability:
                base = hour_ns - rng.between(5 * NS_PER_S, 240 * NS_PER_S)
            else:
                slack = max(0, upload - slot_start - duration)
                base = slot_start + (rng.between(0, slack) if slack else 0)
                if follow_up:  # the next turn starts after the previous one ended
                    base = max(base, conversation.last_end + rng.between(2 * NS_PER_S, 45 * NS_PER_S))
                base = max(hour_ns, min(base, latest))
            builder.shift(base)
            conversations.record(service.name, conversation, trace_id, root_id, base + duration, follow_up)
            slot.traces.append((resource.index, builder.spans))
            slot.logs.extend((resource.index, scope, record) for scope, record in builder.logs)
            slot.calls.extend(builder.calls)
            slot.requests_by_resource[resource.index] += 1
            slot.span_count += len(builder.spans)
            slot.event_count += builder.events

        native_lines: list[dict] = []
        for _ in range(n_slot_native):
            batch, follow_up = native_batches.pick(native_rng, NATIVE_SERVICE, new_batch)
            trace = _NativeTrace(native_rng, batch)
            latest = min(upload, hour_end_ns) - _NATIVE_MAX_NS
            begin = slot_start + native_rng.between(0, max(0, latest - slot_start))
            if follow_up:
                begin = max(begin, batch.last_end + native_rng.between(1 * NS_PER_S, 20 * NS_PER_S))
            begin = max(hour_ns, min(begin, hour_end_ns - _NATIVE_MAX_NS)) // NS_PER_US * NS_PER_US
            trace_end = trace.build(begin)
            native_batches.record(NATIVE_SERVICE, batch, trace.trace_id, trace.lines[-1]["span_id"], trace_end,
                                  follow_up)
            native_lines += trace.lines
            events += trace.events
            native_traces += 1

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

        outputs = [("traces", traces_data, extension), ("logs", logs_data, extension),
                   ("metrics", metrics_data, extension)]
        if native_lines:
            outputs.append(("llm_spans", b"".join(orjson.dumps(line) + b"\n" for line in native_lines),
                            native_extension))
        for signal, data, ext in outputs:
            path = f"{prefix}minute={minute:02d}/{signal}_{_file_key(key_rng, used_keys)}{ext}"
            uploads.append(pool.submit(_upload, store, path, data, compress))
            files += 1

        traces += len(slot.traces) + n_slot_native
        spans += slot.span_count + len(native_lines)
        native_spans += len(native_lines)
        events += slot.event_count
        logs += len(slot.logs)
        points += n_points

    written = sum(upload.result() for upload in uploads)  # re-raises the first failed upload
    return SynthStats(hours=1, files=files, traces=traces, spans=spans, span_events=events, logs=logs,
                      metric_data_points=points, bytes_written=written, native_traces=native_traces,
                      native_spans=native_spans)


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
