"""The simulated fleet: dialects, models, message texts, services, their resources and the error tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..llm.prices import PriceTable
from .encoding import _s
from .rng import _Rng, _Weighted

OTEL_GENAI = "otel_genai"
OTEL_GENAI_V126 = "otel_genai_v1.26"
OPENLLMETRY = "openllmetry"
OPENINFERENCE = "openinference"
#: The GenAI attribute dialects of the OTLP services.
DIALECTS = (OTEL_GENAI, OTEL_GENAI_V126, OPENLLMETRY, OPENINFERENCE)
#: The service whose LLM spans land as native ``llm_spans_*.jsonl`` files.
NATIVE_SERVICE = "batch-summarizer"


# --------------------------------------------------------------------------------------------------
# Models and services


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


# The day whose prices synthetic provided costs use: fixed (the former packaged price table's date), so that
# synthetic output does not depend on the day it is generated.
_PRICING_DAY = date(2026, 11, 1)


def _provided_cost(model: _Model, input_tokens: int, output_tokens: int,
                   cache_read: int | None) -> tuple[float, float, float]:
    """The cost an instrumentation provides, in USD (prompt, completion, total): genai-prices' price
    (:meth:`PriceTable.library`, without any OBSERVATORY_PRICES_CSV override, so synthetic data does not
    depend on the environment) on _PRICING_DAY, rounded to 1e-10 USD."""
    cost = PriceTable.library().cost(
        model.provider, model.response, _PRICING_DAY,
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


# --------------------------------------------------------------------------------------------------
# Resources (one per service instance)


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
_FIRST_RESOURCE = {id(s): next(r.index for r in _RESOURCES if r.service is s) for s in _SERVICES}


def _pick_resource(rng: _Rng) -> int:
    """A service by traffic weight, then one of its instances uniformly; returns the resource index."""
    service = _SERVICE_TABLE.draw(rng)
    return _FIRST_RESOURCE[id(service)] + rng.between(0, len(service.instances))


# --------------------------------------------------------------------------------------------------
# Failures

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
