"""Canonical LLM columns from the GenAI attribute dialects of spans, as polars expressions.

The contract — which attribute feeds which column, the precedence between dialects, and the token
convention — is docs/llm-mapping.md. Sources: OpenTelemetry GenAI semantic conventions v1.26 through
v1.37+ (``gen_ai.*``), OpenLLMetry (``traceloop.*``, ``gen_ai.prompt.{i}.*``, ``llm.usage.*``) and
OpenInference (``openinference.span.kind``, ``llm.*``, ``input.value``, ``session.id``).

Two steps:

1. While spans decode, :meth:`LlmSources.add` keeps, for each GenAI span only, the values of the source
   attributes it has (:data:`SOURCE_KEYS`, found in one pass over its attributes, which also notes the
   indexed message keys; one list per attribute of the spans that have it) and the few sources that need
   the span's other parts (the resource's environment, content and first-token events, indexed message
   attributes).
2. When frames are built, :meth:`LlmSources.frame` turns them into typed columns (one per source key) and computes
   the 23 columns with expressions: precedence is ``coalesce`` (or ``when/then`` where a present but invalid
   value must still win) over the source columns in contract order; span types are lookups; costs join a
   price per distinct (provider, model, day) (:func:`observatory_etl.llm.costs.computed_costs`).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

import orjson
import polars as pl

from ..tables import LLM_COLUMNS, LLM_SPAN_COLUMNS
from .costs import COST_COLUMNS, computed_costs
from .prices import PriceTable

try:  # LlmSources.add's pass over a span's attributes and _indexed, compiled (_sources.c, built by setup.py); optional
    from ._sources import collect as _collect
    from ._sources import indexed as _indexed_compiled
except ImportError:  # pragma: no cover - built wherever a C compiler is at hand
    _collect = _indexed_compiled = None

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
# Indexed message families: key prefix → (family, text between the index and the field).
_INDEXED_FAMILIES = {
    "gen_ai.prompt.": ("openllmetry_input", ""), "gen_ai.completion.": ("openllmetry_output", ""),
    "llm.input_messages.": ("openinference_input", "message."),
    "llm.output_messages.": ("openinference_output", "message."),
}
_INDEXED_PREFIXES = tuple(_INDEXED_FAMILIES)
_INDEXED_FAMILY_OF = {tuple(prefix.split(".")[:2]): family for prefix, family in _INDEXED_FAMILIES.items()}
_INDEXED_TRIPLES = tuple((prefix, name, infix) for prefix, (name, infix) in _INDEXED_FAMILIES.items())  # _sources.c

# The span-attribute sources of each column, in precedence order (docs/llm-mapping.md).
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
_COUNT_SOURCES = ("input_tokens", "output_tokens", "total_tokens", "cache_read", "cache_creation", "reasoning")

# How a source attribute's values are typed (see LlmSources._typed):
_TEXT, _COUNT, _NUMBER, _FINISH, _JSON, _VALUE = "text", "count", "number", "finish", "json", "value"
_KINDS: dict[str, str] = {}
for _column, _keys in _SOURCES.items():
    _kind = _COUNT if _column in _COUNT_SOURCES else _NUMBER if _column == "ttft" else _FINISH if _column == "finish" else _TEXT
    _KINDS.update(dict.fromkeys(_keys, _kind))
_KINDS.update({
    "openinference.span.kind": _TEXT, "traceloop.span.kind": _TEXT, "input.mime_type": _TEXT,
    "output.mime_type": _TEXT, "llm.cost.prompt": _NUMBER, "llm.cost.completion": _NUMBER, "llm.cost.total": _NUMBER,
    "gen_ai.input.messages": _JSON, "gen_ai.output.messages": _JSON, "llm.invocation_parameters": _JSON,
    "input.value": _VALUE, "output.value": _VALUE,
})
#: Every span attribute the mapping reads.
SOURCE_KEYS: tuple[str, ...] = tuple(_KINDS)
# Per GenAI span, what the attributes alone do not give (LlmSources._extras).
_EXTRAS = {
    "resource_environment": pl.String, "ttft_event_ns": pl.Int64, "event_input": pl.String,
    "event_output": pl.String, "indexed_input": pl.String, "indexed_output": pl.String,
    "indexed_finish": pl.String,  # JSON text of a list of text
}
_NO_EXTRAS = (None,) * len(_EXTRAS)
# The column of a source attribute no span of the batch has (what _typed gives for no values).
_ABSENT_DTYPES = {_TEXT: pl.String, _JSON: pl.String, _VALUE: pl.String, _FINISH: pl.String, _COUNT: pl.Int64,
                  _NUMBER: pl.Float64}
# GenAI spans whose LLM columns the expressions compute at once: bounds their intermediate columns (the
# messages are copied by some steps) to a few MB.
_BATCH = 8192
LLM_SCHEMA: dict[str, pl.DataType] = {c.name: c.type.dtype for c in LLM_SPAN_COLUMNS}


def is_genai(attributes: dict) -> bool:
    """Whether a span's attributes hold any GenAI dialect key (``gen_ai.``, ``llm.``, ``openinference.``, ``traceloop.``)."""
    for key in attributes:
        if key.startswith(_PREFIXES):
            return True
    return False


def resource_environment(resource: dict) -> str | None:
    """The resource's ``deployment.environment.name``, else ``deployment.environment`` (as text; empty = absent)."""
    return _text(_first(resource, "deployment.environment.name", "deployment.environment"))


class LlmSources:
    """The LLM source values of one chunk's GenAI spans, and their canonical columns (:meth:`frame`).

    ``rows`` are the spans' row numbers in the chunk's ``trace_spans`` columns. Spans of native LLM-span
    files come with their columns already resolved (:meth:`add_resolved`).
    """

    __slots__ = ("rows", "sparse", "extras", "resolved_rows", "resolved")

    def __init__(self) -> None:
        self.rows: list[int] = []
        # per source attribute: the GenAI spans that have it (their positions in ``rows``) and its values there
        self.sparse: dict[str, tuple[list[int], list]] = {key: ([], []) for key in SOURCE_KEYS}
        self.extras: list[tuple] = []  # per GenAI span: values of _EXTRAS
        self.resolved_rows: list[int] = []
        self.resolved: list[tuple] = []  # per native span: its LLM_COLUMNS values

    def __len__(self) -> int:
        return len(self.rows) + len(self.resolved_rows)

    def add(self, row: int, attributes: dict, environment: str | None, events: list[tuple[int, str, dict]]) -> None:
        """Keep the sources of the span at ``row`` when it is a GenAI span (:func:`is_genai`); otherwise nothing.

        Args:
            row: the span's row number in the chunk's ``trace_spans`` columns.
            attributes: the span's attributes as ``{key: value}``.
            environment: :func:`resource_environment` of the span's resource.
            events: the span's events as ``(time ns, name, attributes)``.
        """
        if _collect is not None:  # the same pass, compiled (_sources.c)
            indexed = _collect(attributes, self.sparse, self.rows, row, _PREFIXES, _INDEXED_PREFIXES)
            if indexed is None:
                return
        else:
            for key in attributes:
                if key.startswith(_PREFIXES):
                    break
            else:
                return
            position = len(self.rows)
            self.rows.append(row)
            source = self.sparse.get
            indexed = []
            for key, value in attributes.items():  # one pass: source attributes kept, indexed message keys noted
                kept = source(key)
                if kept is None:
                    if key.startswith(_INDEXED_PREFIXES):  # no source key has these prefixes
                        indexed.append(key)
                elif value is not None:
                    kept[0].append(position)
                    kept[1].append(value)
        if events or indexed:
            self.extras.append(_extras(attributes, indexed, environment, events))
        elif environment is None:
            self.extras.append(_NO_EXTRAS)
        else:
            self.extras.append((environment, *_NO_EXTRAS[1:]))

    def add_resolved(self, row: int, values: tuple) -> None:
        """Keep the span at ``row`` with its LLM columns already known (``values`` in LLM_COLUMNS order)."""
        self.resolved_rows.append(row)
        self.resolved.append(values)

    def truncate(self, rows: int) -> None:
        """Forget the spans at row ``rows`` and after (a file or record that was rejected after all)."""
        for kept, lists in ((self.rows, (self.extras,)), (self.resolved_rows, (self.resolved,))):
            keep = len(kept)
            while keep and kept[keep - 1] >= rows:
                keep -= 1
            del kept[keep:]
            for values in lists:
                del values[keep:]
        keep = len(self.rows)
        for at, values in self.sparse.values():
            cut = bisect_left(at, keep)
            del at[cut:], values[cut:]

    def frame(self, start_ns: pl.Series, end_ns: pl.Series, prices: PriceTable) -> pl.DataFrame:
        """The canonical LLM columns of the kept spans: ``row`` (UInt32, the span's row number) then
        :data:`~observatory_etl.tables.LLM_COLUMNS` with the dtypes of :data:`LLM_SCHEMA` (tokens Int64, costs
        Float64 USD, latency and TTFT Float64 ms, finish_reasons List(String), input/output JSON text).

        ``start_ns``/``end_ns``: the chunk's span start and end times (Int64 ns), indexed by row number.
        ``prices`` price the spans without provided costs (resolved spans too: their cost columns hold the
        provided costs or null). Raises nothing for any attribute values (values of unexpected types become
        null or text, as the contract says)."""
        parts = []
        if self.rows:
            sources = self._sources(start_ns, end_ns)
            expressions = _expressions(set(sources.columns))
            # in slices of _BATCH spans: the expressions' intermediate columns (copies of the messages) stay small
            parts = [sources.slice(at, _BATCH).select("row", "start_ns", *expressions).select("row", "start_ns", *LLM_COLUMNS)
                     for at in range(0, sources.height, _BATCH)]
        if self.resolved_rows:
            rows = pl.Series("row", self.resolved_rows, dtype=pl.UInt32)
            parts.append(pl.DataFrame(
                {"row": rows, "start_ns": start_ns.gather(rows), **dict(zip(LLM_COLUMNS, zip(*self.resolved)))},
                schema={"row": pl.UInt32, "start_ns": pl.Int64, **LLM_SCHEMA}))
        if not parts:
            return pl.DataFrame(schema={"row": pl.UInt32, **LLM_SCHEMA})
        return _with_costs(pl.concat(parts) if len(parts) > 1 else parts[0], prices)

    def _sources(self, start_ns: pl.Series, end_ns: pl.Series) -> pl.DataFrame:
        """One row per GenAI span: ``row``, ``start_ns``, ``end_ns``, a typed column per source attribute (null
        where the span has none, see :func:`_typed`) and the :data:`_EXTRAS`."""
        count = len(self.rows)
        rows = pl.Series("row", self.rows, dtype=pl.UInt32)
        data: dict[str, pl.Series] = {"row": rows, "start_ns": start_ns.gather(rows), "end_ns": end_ns.gather(rows)}
        absent = []
        for key, (at, values) in self.sparse.items():
            if not at:
                absent.append(pl.lit(None, _ABSENT_DTYPES[_KINDS[key]]).alias(key))
                continue
            if len(at) < count:  # the spans without it: None, which every kind types as absent
                dense = [None] * count
                for position, value in zip(at, values):
                    dense[position] = value
                values = dense
            data.update(_typed(key, values))
        for (name, dtype), values in zip(_EXTRAS.items(), zip(*self.extras)):
            data[name] = pl.Series(name, values, dtype=dtype)
        return pl.DataFrame(data).with_columns(
            *absent,
            *(pl.when(pl.col(key) != "").then(pl.col(key)).alias(key)
              for key in SOURCE_KEYS if key in data and data[key].dtype == pl.String and f"{key}?" not in data),
        )


def _with_costs(frame: pl.DataFrame, prices: PriceTable) -> pl.DataFrame:
    """``frame`` (``row``, ``start_ns``, LLM_COLUMNS with provided costs or null) with its costs resolved:
    provided costs win (a missing total is the sum of the parts), else the price table's, and
    ``cost_source`` says which (``provided``, ``computed``, null)."""
    computed = computed_costs(
        frame.select("provider", pl.coalesce("response_model", "request_model").alias("model"), "start_ns",
                     "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"),
        prices,
    ).rename(lambda c: f"computed:{c}")
    given = pl.any_horizontal(pl.col(c).is_not_null() for c in COST_COLUMNS)
    provided_total = pl.coalesce("total_cost_usd", pl.col("input_cost_usd").fill_null(0.0) + pl.col("output_cost_usd").fill_null(0.0))
    return pl.concat([frame, computed], how="horizontal").select(
        "row",
        *(c for c in LLM_COLUMNS if c not in (*COST_COLUMNS, "cost_source")),
        *(pl.when(given).then(pl.col(c)).otherwise(pl.col(f"computed:{c}")).alias(c) for c in COST_COLUMNS[:2]),
        pl.when(given).then(provided_total).otherwise(pl.col("computed:total_cost_usd")).alias("total_cost_usd"),
        pl.when(given).then(pl.lit("provided"))
        .when(pl.col("computed:total_cost_usd").is_not_null()).then(pl.lit("computed")).alias("cost_source"),
    ).select("row", *LLM_COLUMNS)


def _extras(attributes: dict, indexed_keys: list[str], environment: str | None, events) -> tuple:
    """The _EXTRAS values of one span with events or indexed message attributes."""
    ttft_ns = next((t for t, name, _ in events if name in _TTFT_EVENTS and t), None)
    event_input = event_output = None
    for _, name, event_attributes in events:
        if event_input is None and name == "gen_ai.content.prompt" and "gen_ai.prompt" in event_attributes:
            event_input = _json_text(event_attributes["gen_ai.prompt"])
        if event_output is None and name == "gen_ai.content.completion" and "gen_ai.completion" in event_attributes:
            event_output = _json_text(event_attributes["gen_ai.completion"])
    indexed = _indexed(attributes, indexed_keys)
    messages = []
    for families in (("openllmetry_input", "openinference_input"), ("openllmetry_output", "openinference_output")):
        name = next((name for name in families if name in indexed), None)
        messages.append(orjson.dumps(indexed[name]).decode() if name else None)
    completions = indexed.get("openllmetry_output", ())
    finish = [str(c["finish_reason"]) for c in completions if c.get("finish_reason")]
    return (environment, ttft_ns, event_input, event_output, *messages, orjson.dumps(finish).decode() if finish else None)


def _indexed(attributes: dict, keys: list[str]) -> dict[str, list[dict]]:
    """Collect indexed message attributes (``gen_ai.prompt.{i}.rest``, ``llm.input_messages.{i}.message.rest``,
    …) among ``keys`` into one dict per index, in index order, per family (see ``_INDEXED_FAMILIES``)."""
    if _indexed_compiled is not None:  # the same, compiled (_sources.c); None: an index this leaves to Python
        found = _indexed_compiled(attributes, keys, _INDEXED_TRIPLES)
        if found is not None:
            return found
    found: dict[str, dict[int, dict]] = {}
    for key in keys:
        first, second, rest = key.split(".", 2)  # every key has one of the prefixes, so two dots
        name, infix = _INDEXED_FAMILY_OF[first, second]
        index, dot, field = rest.partition(".")
        if dot and index.isdecimal() and field.startswith(infix) and len(field) > len(infix):
            found.setdefault(name, {}).setdefault(int(index), {})[field[len(infix):]] = attributes[key]
    return {name: [rows[i] for i in sorted(rows)] for name, rows in found.items()}


def _typed(key: str, values: list) -> dict[str, pl.Series]:
    """One source attribute's values (those of the GenAI spans that have it) as typed columns:
    ``key`` (its value, null where absent or invalid) and, where a present value can be invalid, ``key?``
    (Boolean: present and non-empty), which then decides precedence instead of ``key`` being non-null.

    Text sources are String (non-text values as their Python ``str``); counts Int64 (from ints, floats and
    numeric strings; out of the bigint range → null); numbers Float64; finish reasons JSON text of a list;
    JSON sources String holding JSON text or text to check; ``*.value`` two columns, ``key`` (text) and
    ``key:json`` (JSON of a non-text value)."""
    kind = _KINDS[key]
    if kind == _TEXT or kind == _JSON or kind == _VALUE:
        try:
            return {key: pl.Series(key, values, dtype=pl.String, strict=True)}  # text values only (the usual)
        except TypeError:
            pass
    if kind == _TEXT or kind == _JSON:
        convert = _text if kind == _TEXT else _json_source
        return {key: pl.Series(key, [None if _empty(v) else convert(v) for v in values], dtype=pl.String)}
    if kind == _VALUE:
        return {key: pl.Series(key, [v if type(v) is str else None for v in values], dtype=pl.String),
                f"{key}:json": pl.Series(f"{key}:json", [None if v is None or type(v) is str else orjson.dumps(v).decode()
                                                        for v in values], dtype=pl.String)}
    types = set(map(type, values))  # counts and numbers: bools must not pass as 1 and 0
    types.discard(type(None))
    if kind == _COUNT and types <= {int}:
        try:
            return {key: pl.Series(key, values, dtype=pl.Int64)}
        except (TypeError, OverflowError, pl.exceptions.PolarsError):
            pass  # beyond the bigint range: each value below
    if kind == _NUMBER and types <= {int, float}:
        return {key: pl.Series(key, values, dtype=pl.Float64)}
    if kind == _FINISH:  # as JSON text (List(String) Series build slowly from Python lists); decoded at the end
        reasons, present = [None] * len(values), [False] * len(values)
        for i, value in enumerate(values):
            if value is not None:
                finish = _finish(value)
                reasons[i], present[i] = None if finish is None else orjson.dumps(finish).decode(), not _empty(value)
        return {key: pl.Series(key, reasons, dtype=pl.String),
                f"{key}?": pl.Series(f"{key}?", present, dtype=pl.Boolean)}
    present = pl.Series(f"{key}?", [not _empty(v) for v in values], dtype=pl.Boolean)
    if kind == _COUNT:
        return {key: pl.Series(key, [_count(v) for v in values], dtype=pl.Int64), present.name: present}
    if kind == _NUMBER:
        return {key: pl.Series(key, [_number(v) for v in values], dtype=pl.Float64), present.name: present}
    return {key: pl.Series(key, [_finish(v) for v in values], dtype=pl.List(pl.String)), present.name: present}


def _present(key: str, columns: set[str]) -> pl.Expr:
    return pl.col(f"{key}?") if f"{key}?" in columns else pl.col(key).is_not_null()


def _first_of(keys: tuple[str, ...], columns: set[str] | None = None) -> pl.Expr:
    """The value of the first present source among ``keys`` (precedence order): a present source wins even
    when its value is invalid (null), as docs/llm-mapping.md's "the first source listed wins"."""
    if columns is None or not any(f"{key}?" in columns for key in keys):
        return pl.coalesce(keys) if len(keys) > 1 else pl.col(keys[0])
    chain = pl.when(_present(keys[0], columns)).then(pl.col(keys[0]))
    for key in keys[1:]:
        chain = chain.when(_present(key, columns)).then(pl.col(key))
    return chain.otherwise(None)


def _json_text_expr(text: pl.Expr) -> pl.Expr:
    """JSON text of a text value: the text itself when it is valid JSON, else the text as a JSON string."""
    valid = text.str.json_path_match("$").is_not_null() | (text.str.strip_chars() == "null")
    return pl.when(valid).then(text).otherwise(_json_string(text))


def _json_string(text: pl.Expr) -> pl.Expr:
    """``text`` encoded as a JSON string literal (``{"v":"…"}`` without its first 5 and last characters)."""
    encoded = pl.struct(text.alias("v")).struct.json_encode()
    return pl.when(text.is_not_null()).then(encoded.str.slice(5, encoded.str.len_bytes() - 6))


def _expressions(columns: set[str]) -> list[pl.Expr]:
    """The expressions of the LLM columns over the source columns of :meth:`LlmSources._sources` (the costs
    as provided; :func:`_with_costs` resolves them)."""
    def first(name: str) -> pl.Expr:
        return _first_of(_SOURCES[name], columns)

    def present(name: str) -> pl.Expr:
        return pl.any_horizontal(_present(key, columns) for key in _SOURCES[name])

    invocation_model = pl.col("llm.invocation_parameters").str.json_path_match("$.model")
    invocation_model = pl.when(invocation_model != "").then(invocation_model)
    input_tokens, output_tokens = first("input_tokens"), first("output_tokens")
    derived_total = (input_tokens.cast(pl.Int128).fill_null(0) + output_tokens.cast(pl.Int128).fill_null(0))
    derived_total = pl.when(
        (input_tokens.is_not_null() | output_tokens.is_not_null()) & derived_total.is_between(-(1 << 63), (1 << 63) - 1)
    ).then(derived_total.cast(pl.Int64))

    def lookup(key: str, table: dict[str, str], case) -> pl.Expr:
        return case(pl.col(key)).replace_strict(table, default=None, return_dtype=pl.String)

    oi_kind = pl.col("openinference.span.kind")
    span_type = (
        pl.when(oi_kind.is_not_null()).then(lookup("openinference.span.kind", _OPENINFERENCE_KINDS,
                                                   lambda c: c.str.to_uppercase()).fill_null("SPAN"))
        .otherwise(pl.coalesce(
            lookup("gen_ai.operation.name", _OPERATIONS, lambda c: c.str.to_lowercase()),
            lookup("llm.request.type", _REQUEST_TYPES, lambda c: c.str.to_lowercase()),
            lookup("traceloop.span.kind", _TRACELOOP_KINDS, lambda c: c.str.to_lowercase()),
            pl.when(present("provider") | present("request_model") | present("response_model")
                    | invocation_model.is_not_null()).then(pl.lit("GENERATION")),
            pl.lit("SPAN"),
        ))
    )
    ttft = first("ttft") * 1000.0
    finish = pl.when(present("finish")).then(first("finish")).otherwise(pl.col("indexed_finish"))
    finish = finish.str.json_decode(pl.List(pl.String))

    def messages(side: str) -> pl.Expr:
        attribute = pl.col(f"gen_ai.{side}.messages")
        plain, mime = pl.col(f"{side}.value"), pl.col(f"{side}.mime_type")
        plain_json = _json_text_expr(plain)
        as_value = pl.when(mime.str.to_lowercase() == "application/json").then(plain_json).otherwise(_json_string(plain))
        if f"{side}.value:json" in columns:
            as_value = pl.coalesce(f"{side}.value:json", as_value)
        return pl.coalesce(_json_text_expr(attribute), f"indexed_{side}", as_value, f"event_{side}")

    return [
        span_type.alias("span_type"),
        first("operation").alias("operation"),
        first("provider").str.to_lowercase().alias("provider"),
        pl.coalesce(first("request_model"), invocation_model, first("model_name")).alias("request_model"),
        first("response_model").alias("response_model"),
        input_tokens.alias("input_tokens"),
        output_tokens.alias("output_tokens"),
        pl.when(first("total_tokens").is_not_null()).then(first("total_tokens")).otherwise(derived_total).alias("total_tokens"),
        first("cache_read").alias("cache_read_input_tokens"),
        first("cache_creation").alias("cache_creation_input_tokens"),
        first("reasoning").alias("reasoning_tokens"),
        pl.when((pl.col("start_ns") != 0) & (pl.col("end_ns") != 0))
        .then((pl.col("end_ns") - pl.col("start_ns")) / 1e6).alias("latency_ms"),
        pl.coalesce(ttft, (pl.col("ttft_event_ns") - pl.col("start_ns")) / 1e6).alias("ttft_ms"),
        finish.alias("finish_reasons"),
        first("session_id").alias("session_id"),
        first("user_id").alias("user_id"),
        pl.coalesce(first("environment"), "resource_environment", first("traceloop_environment")).alias("environment"),
        messages("input").alias("input"),
        messages("output").alias("output"),
        pl.col("llm.cost.prompt").alias("input_cost_usd"),  # provided costs; _with_costs resolves them
        pl.col("llm.cost.completion").alias("output_cost_usd"),
        pl.col("llm.cost.total").alias("total_cost_usd"),
        pl.lit(None, pl.String).alias("cost_source"),
    ]


# ---------------------------------------------------------------------------------------------------
# Scalar helpers: the value conventions of the contract, for values of unexpected types.


def _empty(value: Any) -> bool:
    """A source that is absent, ``""`` or ``[]`` counts as absent (docs/llm-mapping.md)."""
    return value is None or value == "" or value == []


def _first(attributes: dict, *keys: str) -> Any:
    for key in keys:
        value = attributes.get(key)
        if not _empty(value):
            return value
    return None


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
    except (TypeError, ValueError, OverflowError):
        return None


def _finish(value: Any) -> list[str] | None:
    """Finish reasons from an array (its non-null items, non-text ones as JSON) or a single value."""
    if _empty(value):
        return None
    if not isinstance(value, list):
        value = [value]
    return [f if isinstance(f, str) else orjson.dumps(f).decode() for f in value if f is not None] or None


def _json_source(value: Any) -> str:
    """A JSON source's non-text value (an array or kvlist attribute) as JSON text."""
    return orjson.dumps(value).decode()


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
