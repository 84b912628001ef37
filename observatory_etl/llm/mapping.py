"""Canonical LLM columns from the GenAI attribute dialects of a span.

The contract — which attribute feeds which column, the precedence between dialects, and the token
convention — is docs/llm-mapping.md. Sources: OpenTelemetry GenAI semantic conventions v1.26 through
v1.37+ (``gen_ai.*``), OpenLLMetry (``traceloop.*``, ``gen_ai.prompt.{i}.*``, ``llm.usage.*``) and
OpenInference (``openinference.span.kind``, ``llm.*``, ``input.value``, ``session.id``).

:func:`llm_columns` is called by the OTLP decoder for every span with the span's attributes as a dict,
so it must stay cheap for spans that are not GenAI spans (:func:`is_genai` is a key-prefix scan).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import orjson

from ..tables import LLM_COLUMNS
from .prices import PriceTable

NOT_LLM = (None,) * len(LLM_COLUMNS)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_NS_PER_DAY = 86_400_000_000_000

_PREFIXES = ("gen_ai.", "llm.", "openinference.", "traceloop.")

_OPENINFERENCE_KINDS = {
    "LLM": "GENERATION", "EMBEDDING": "EMBEDDING", "CHAIN": "CHAIN", "RETRIEVER": "RETRIEVER",
    "RERANKER": "RERANKER", "TOOL": "TOOL", "AGENT": "AGENT", "GUARDRAIL": "GUARDRAIL", "EVALUATOR": "EVALUATOR",
}
_OPERATIONS = {
    "chat": "GENERATION", "text_completion": "GENERATION", "generate_content": "GENERATION",
    "embeddings": "EMBEDDING", "execute_tool": "TOOL", "invoke_agent": "AGENT", "create_agent": "AGENT",
    "retrieval": "RETRIEVER",
}
_REQUEST_TYPES = {"chat": "GENERATION", "completion": "GENERATION", "embedding": "EMBEDDING", "rerank": "RERANKER"}
_TRACELOOP_KINDS = {"workflow": "CHAIN", "task": "CHAIN", "agent": "AGENT", "tool": "TOOL"}
_TTFT_EVENTS = ("First Token Stream Event", "gen_ai.content.completion.chunk")
_INDEXED_PREFIXES = ("gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.", "llm.output_messages.")
_INDEXED = {
    "openllmetry_input": re.compile(r"^gen_ai\.prompt\.(\d+)\.(.+)$"),
    "openllmetry_output": re.compile(r"^gen_ai\.completion\.(\d+)\.(.+)$"),
    "openinference_input": re.compile(r"^llm\.input_messages\.(\d+)\.message\.(.+)$"),
    "openinference_output": re.compile(r"^llm\.output_messages\.(\d+)\.message\.(.+)$"),
}


def is_genai(attributes: dict) -> bool:
    """Whether a span's attributes hold any GenAI dialect key (``gen_ai.``, ``llm.``, ``openinference.``, ``traceloop.``)."""
    for key in attributes:
        if key.startswith(_PREFIXES):
            return True
    return False


def _first(attributes: dict, *keys: str) -> Any:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "" and value != []:
            return value
    return None


# The span-attribute sources of each column, in precedence order (docs/llm-mapping.md). _sources() resolves
# them all in one pass over the keys a span has, instead of one lookup per candidate key.
_SOURCES = {
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "request_model": ("gen_ai.request.model",),
    "model_name": ("llm.model_name", "embedding.model_name"),
    "response_model": ("gen_ai.response.model", "llm.model_name", "embedding.model_name"),
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion"),
    "total_tokens": ("gen_ai.usage.total_tokens", "llm.usage.total_tokens", "llm.token_count.total"),
    "cache_read": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                   "llm.token_count.prompt_details.cache_read"),
    "cache_creation": ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens",
                       "llm.token_count.prompt_details.cache_write"),
    "reasoning": ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
                  "llm.token_count.completion_details.reasoning"),
    "ttft": ("gen_ai.response.time_to_first_chunk", "gen_ai.server.time_to_first_token"),
    "finish": ("gen_ai.response.finish_reasons",),
    "session_id": ("gen_ai.conversation.id", "session.id", "traceloop.association.properties.session_id",
                   "traceloop.association.properties.conversation_id"),
    "user_id": ("user.id", "enduser.id", "traceloop.association.properties.user_id"),
    "environment": ("deployment.environment.name", "deployment.environment"),
    "traceloop_environment": ("traceloop.association.properties.environment",),
    "operation": ("gen_ai.operation.name", "llm.request.type"),
}
_SOURCE_RANKS: dict[str, list[tuple[str, int]]] = {}
for _column, _keys in _SOURCES.items():
    for _rank, _key in enumerate(_keys):
        _SOURCE_RANKS.setdefault(_key, []).append((_column, _rank))


def _sources(attributes: dict) -> dict[str, Any]:
    """``{column: value}`` of every :data:`_SOURCES` column with a present, non-empty source: the value of
    its first source in precedence order (as :func:`_first` over that column's keys would give)."""
    found: dict[str, tuple[int, Any]] = {}
    for key in attributes.keys() & _SOURCE_RANKS.keys():
        value = attributes[key]
        if value is None or value == "" or value == []:
            continue
        for column, rank in _SOURCE_RANKS[key]:
            current = found.get(column)
            if current is None or rank < current[0]:
                found[column] = (rank, value)
    return {column: value for column, (_, value) in found.items()}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _count(value: Any) -> int | None:
    """A token count from an int, a float or a numeric string; None for anything else, and for counts beyond
    the bigint range (a malformed value must not reject the span it is on)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        count = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: float infinity
        return None
    return count if -(1 << 63) <= count < (1 << 63) else None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _json_value(value: Any) -> Any:
    """Parse JSON text (the way messages arrive as string attributes); other values pass through."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _indexed(attributes: dict) -> dict[str, list[dict]]:
    """Collect indexed message attributes (``gen_ai.prompt.{i}.rest``, ``llm.input_messages.{i}.message.rest``,
    …) into one dict per index, in index order, per family (keys of ``_INDEXED``); one pass over the keys."""
    found: dict[str, dict[int, dict]] = {}
    for key, value in attributes.items():
        if not key.startswith(_INDEXED_PREFIXES):
            continue
        for name, pattern in _INDEXED.items():
            match = pattern.match(key)
            if match:
                found.setdefault(name, {}).setdefault(int(match[1]), {})[match[2]] = value
                break
    return {name: [rows[i] for i in sorted(rows)] for name, rows in found.items()}


def _invocation_model(attributes: dict) -> str | None:
    raw = attributes.get("llm.invocation_parameters")
    params = _json_value(raw) if raw is not None else None
    return _text(params.get("model")) if isinstance(params, dict) else None


def span_type(attributes: dict, sources: dict[str, Any] | None = None) -> str:
    """The canonical span type (GENERATION, EMBEDDING, AGENT, TOOL, RETRIEVER, RERANKER, CHAIN, GUARDRAIL,
    EVALUATOR or SPAN) by the precedence of docs/llm-mapping.md (``sources``: ``_sources(attributes)``
    when the caller has it)."""
    kind = attributes.get("openinference.span.kind")
    if kind:
        return _OPENINFERENCE_KINDS.get(str(kind).upper(), "SPAN")
    for key, table in (
        ("gen_ai.operation.name", _OPERATIONS),
        ("llm.request.type", _REQUEST_TYPES),
        ("traceloop.span.kind", _TRACELOOP_KINDS),
    ):
        value = attributes.get(key)
        if value and str(value).lower() in table:
            return table[str(value).lower()]
    if sources is None:
        sources = _sources(attributes)
    if "provider" in sources or "request_model" in sources or "response_model" in sources or (
        _invocation_model(attributes)
    ):
        return "GENERATION"
    return "SPAN"


def llm_columns(
    attributes: dict,
    resource: dict,
    events: list[tuple[int, str, dict]],
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
) -> tuple:
    """The canonical LLM columns of one span, in :data:`LLM_COLUMNS` order (all None if not a GenAI span).

    Args:
        attributes: the span's attributes as ``{key: value}`` (see :func:`observatory_etl.ingest.otlp_json.values.attributes_dict`).
        resource: the resource's attributes (for ``deployment.environment``).
        events: the span's events as ``(time ns, name, attributes)``.
        start_ns, end_ns: span start and end, ns since the epoch.
        prices: the price table for spans that carry no cost.

    Returns a tuple of: span_type, operation, provider (lower case), request_model, response_model,
    input/output/total/cache-read/cache-creation/reasoning tokens (int), input/output/total cost (USD),
    cost_source (``provided`` | ``computed`` | None), latency_ms, ttft_ms (ms), finish_reasons (list of
    str), session_id, user_id, environment, input and output (JSON text).
    """
    if not is_genai(attributes):
        return NOT_LLM
    a = attributes
    found = _sources(a)
    get = found.get
    provider = _text(get("provider"))
    provider = provider.lower() if provider else None
    request_model = _text(get("request_model")) or _invocation_model(a) or _text(get("model_name"))
    response_model = _text(get("response_model"))

    input_tokens = _count(get("input_tokens"))
    output_tokens = _count(get("output_tokens"))
    total_tokens = _count(get("total_tokens"))
    if total_tokens is None and (input_tokens is not None or output_tokens is not None):
        total_tokens = _count((input_tokens or 0) + (output_tokens or 0))  # None if the sum leaves bigint
    cache_read = _count(get("cache_read"))
    cache_creation = _count(get("cache_creation"))
    reasoning = _count(get("reasoning"))

    input_cost = _number(a.get("llm.cost.prompt"))
    output_cost = _number(a.get("llm.cost.completion"))
    total_cost = _number(a.get("llm.cost.total"))
    costs = resolve_cost(
        input_cost, output_cost, total_cost, prices, provider, response_model or request_model, start_ns,
        input_tokens, output_tokens, cache_read, cache_creation,
    )

    ttft_s = _number(get("ttft"))
    ttft_ms = ttft_s * 1000.0 if ttft_s is not None else None
    if ttft_ms is None:
        ttft_ms = next(((t - start_ns) / 1e6 for t, name, _ in events if name in _TTFT_EVENTS and t), None)

    indexed = _indexed(a)
    finish = get("finish")
    if finish is not None and not isinstance(finish, list):
        finish = [finish]  # a single reason (any attribute type: a span with odd values is still a span)
    if not finish:
        completions = indexed.get("openllmetry_output", ())
        finish = [str(c["finish_reason"]) for c in completions if c.get("finish_reason")] or None
    else:
        finish = [f if isinstance(f, str) else orjson.dumps(f).decode() for f in finish if f is not None] or None

    session_id = _text(get("session_id"))
    user_id = _text(get("user_id"))
    environment = _text(
        get("environment")
        or _first(resource, "deployment.environment.name", "deployment.environment")
        or get("traceloop_environment")
    )
    return (
        span_type(a, found),
        _text(get("operation")),
        provider,
        request_model,
        response_model,
        input_tokens,
        output_tokens,
        total_tokens,
        cache_read,
        cache_creation,
        reasoning,
        *costs,
        (end_ns - start_ns) / 1e6 if start_ns and end_ns else None,
        ttft_ms,
        finish,
        session_id,
        user_id,
        environment,
        _messages(a, indexed, events, "input"),
        _messages(a, indexed, events, "output"),
    )


def resolve_cost(
    input_cost: float | None,
    output_cost: float | None,
    total_cost: float | None,
    prices: PriceTable,
    provider: str | None,
    model: str | None,
    start_ns: int,
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read: int | None,
    cache_creation: int | None,
) -> tuple:
    """``(input_cost_usd, output_cost_usd, total_cost_usd, cost_source)``: provided costs win (a missing
    total is the sum of the parts); else the price table's cost at the span's start; else all None."""
    if input_cost is not None or output_cost is not None or total_cost is not None:
        if total_cost is None:
            total_cost = (input_cost or 0.0) + (output_cost or 0.0)
        return input_cost, output_cost, total_cost, "provided"
    if model is None or (input_tokens is None and output_tokens is None):
        return None, None, None, None
    at = date.fromordinal(_EPOCH_ORDINAL + start_ns // _NS_PER_DAY) if start_ns else None  # the UTC day
    cost = prices.cost(
        provider, model, at, input_tokens=input_tokens, output_tokens=output_tokens,
        cache_read_input_tokens=cache_read, cache_creation_input_tokens=cache_creation,
    )
    if cost is None:
        return None, None, None, None
    return cost.input, cost.output, cost.total, "computed"


def _messages(a: dict, indexed: dict[str, list[dict]], events: list[tuple[int, str, dict]], side: str) -> str | None:
    """The input or output messages as JSON text, from the first source present (docs/llm-mapping.md)."""
    if side == "input":
        value = a.get("gen_ai.input.messages")
        families = ("openllmetry_input", "openinference_input")
        plain, mime, event_name, event_key = "input.value", "input.mime_type", "gen_ai.content.prompt", "gen_ai.prompt"
    else:
        value = a.get("gen_ai.output.messages")
        families = ("openllmetry_output", "openinference_output")
        plain, mime, event_name, event_key = "output.value", "output.mime_type", "gen_ai.content.completion", "gen_ai.completion"
    if value is not None and value != "" and value != []:
        return _json_text(value)
    for name in families:
        if name in indexed:
            return orjson.dumps(indexed[name]).decode()
    value = a.get(plain)
    if value is not None and value != "":
        if str(a.get(mime, "")).lower() == "application/json":
            return _json_text(value)
        return orjson.dumps(value).decode()
    for _, name, event_attributes in events:
        if name == event_name and event_key in event_attributes:
            return _json_text(event_attributes[event_key])
    return None


def _json_text(value: Any) -> str:
    """JSON text of a value; a string holding valid JSON is that JSON (kept as written), any other string
    is a JSON string."""
    if isinstance(value, str):
        try:
            orjson.loads(value)
            return value
        except orjson.JSONDecodeError:
            pass
    return orjson.dumps(value).decode()
