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
    ``observatory_etl/ingest/llm_span.schema.json``: a single GENERATION, or a CHAIN over a GENERATION
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

Modules, each importing only from the ones listed before it:

``encoding``
    Time units, OTLP enums and the OTLP/JSON attribute helpers.
``rng``
    :class:`_Rng` and :class:`_Weighted`, the fast deterministic draws.
``catalog``
    The simulated fleet: dialect names, models, message texts, services and their resources, error tables.
``conversations``
    Conversations (sessions) of one user within the hour.
``trace``
    :class:`_TraceBuilder`, the dialect-independent part of an OTLP trace, and the LLM call it samples.
``otel_genai``, ``otel_genai_v126``, ``openllmetry``, ``openinference``
    One trace builder per GenAI attribute dialect.
``llm_spans``
    The native LLM-span traces of :data:`NATIVE_SERVICE`.
``export_requests``, ``metrics``
    One upload slot's traces, logs and metrics export requests.
``landing``
    :func:`write_landing`: hours, upload slots, file keys, compression and upload.
"""

from __future__ import annotations

from .catalog import (
    DIALECTS,
    NATIVE_SERVICE,
    OPENINFERENCE,
    OPENLLMETRY,
    OTEL_GENAI,
    OTEL_GENAI_V126,
    SERVICE_DIALECTS,
)
from .landing import SynthStats, write_landing
from .llm_spans import native_trace_count
from .metrics import DURATION_BOUNDS, TOKEN_USAGE_BOUNDS

__all__ = [
    "SynthStats", "write_landing", "native_trace_count", "TOKEN_USAGE_BOUNDS", "DURATION_BOUNDS", "DIALECTS",
    "SERVICE_DIALECTS", "NATIVE_SERVICE", "OTEL_GENAI", "OTEL_GENAI_V126", "OPENLLMETRY", "OPENINFERENCE",
]
