"""Tests of the synthetic landing generator: write small hours to disk, read them back, check them."""

from __future__ import annotations

import gzip
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
import zstandard

from observatory_etl.ingest import llm_spans, otlp_json
from observatory_etl.ingest.columns import Columns
from observatory_etl.synth import (
    DIALECTS,
    DURATION_BOUNDS,
    NATIVE_SERVICE,
    SERVICE_DIALECTS,
    TOKEN_USAGE_BOUNDS,
    SynthStats,
    native_trace_count,
    write_landing,
)
from tests.conftest import decoded_rows

START = datetime(2026, 11, 1, 3, tzinfo=timezone.utc)
END = START + timedelta(hours=2)
TRACES_PER_HOUR = 60
FILES_PER_HOUR = 4
NS = 1_000_000_000
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "observatory_etl" / "ingest" / "llm_span.schema.json"

KEY = re.compile(
    r"^year=(?P<year>\d{4})/month=(?P<month>\d{2})/day=(?P<day>\d{2})/hour=(?P<hour>\d{2})/minute=(?P<minute>\d{2})/"
    r"(?P<signal>traces|metrics|logs|llm_spans)_(?P<key>[0-9a-f]{8})\.(?P<format>json|jsonl)(?P<ext>\.gz|\.zst)?$"
)
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
RFC3339_US = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
INT64_FIELDS = {"startTimeUnixNano", "endTimeUnixNano", "timeUnixNano", "observedTimeUnixNano", "intValue", "count",
                "asInt"}
OTEL, V126, OPENLLMETRY, OPENINFERENCE = DIALECTS
DIALECT_SERVICES = {dialect: service for service, dialect in SERVICE_DIALECTS.items()}


# --------------------------------------------------------------------------------------------------
# helpers


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root``, keyed by its path relative to ``root`` (with ``/``)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def decompress(raw: bytes) -> bytes:
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        return zstandard.ZstdDecompressor().decompress(raw)
    return raw


def decode(raw: bytes) -> list[dict]:
    """The export requests (or native lines) of one file: decompress by magic bytes, then JSON or JSON Lines."""
    return [orjson.loads(line) for line in decompress(raw).splitlines() if line.strip()]


def signal_of(key: str) -> str:
    match = KEY.match(key)
    assert match, key
    return match["signal"]


def attrs(items: list[dict]) -> dict:
    """OTLP attribute list -> {key: python value} (intValue strings become ints)."""
    out = {}
    for item in items or ():
        (kind, value), = item["value"].items()
        if kind == "intValue":
            value = int(value)
        elif kind == "arrayValue":
            value = [next(iter(v.values())) for v in value["values"]]
        out[item["key"]] = value
    return out


def spans_of(requests: list[dict]) -> list[tuple[dict, dict, dict]]:
    """(resource attributes, scope, span) of every span in the requests."""
    return [(attrs(rs["resource"]["attributes"]), ss["scope"], span)
            for request in requests for rs in request["resourceSpans"]
            for ss in rs["scopeSpans"] for span in ss["spans"]]


def logs_of(requests: list[dict]) -> list[tuple[dict, dict]]:
    """(resource attributes, record) of every log record in the requests."""
    return [(attrs(rl["resource"]["attributes"]), record) for request in requests for rl in request["resourceLogs"]
            for sl in rl["scopeLogs"] for record in sl["logRecords"]]


def metrics_of(requests: list[dict]) -> list[tuple[dict, dict]]:
    """(resource attributes, metric) of every metric in the requests."""
    return [(attrs(rm["resource"]["attributes"]), metric)
            for request in requests for rm in request["resourceMetrics"]
            for sm in rm["scopeMetrics"] for metric in sm["metrics"]]


def points_of(metric: dict) -> list[dict]:
    for kind in ("histogram", "sum", "gauge"):
        if kind in metric:
            return metric[kind]["dataPoints"]
    raise AssertionError(f"unexpected metric type: {sorted(metric)}")


def by_slot(files: dict[str, bytes]) -> dict[str, dict[str, list[dict]]]:
    """{minute directory: {signal: requests or native lines}} -- one upload slot per minute directory."""
    slots: dict[str, dict[str, list[dict]]] = defaultdict(dict)
    for key, raw in files.items():
        directory = key.rsplit("/", 1)[0]
        signal = signal_of(key)
        assert signal not in slots[directory], f"two {signal} files in {directory}"
        slots[directory][signal] = decode(raw)
    return slots


def walk(node, path=""):
    """Yield (key path, key, value) for every dict entry of a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)


def all_spans(slots) -> list[tuple[dict, dict, dict]]:
    return [item for slot in slots.values() for item in spans_of(slot["traces"])]


def all_native(slots) -> list[dict]:
    return [line for slot in slots.values() for line in slot.get("llm_spans", [])]


def dialect_of(resource: dict) -> str:
    return SERVICE_DIALECTS[resource["service.name"]]


def is_llm(resource: dict, span: dict) -> bool:
    """Whether a span is an LLM (chat) call, in its service's dialect."""
    dialect, name = dialect_of(resource), span["name"]
    if dialect in (OTEL, V126):
        return name.startswith("chat ")
    if dialect == OPENLLMETRY:
        return name in ("openai.chat", "anthropic.chat")
    return attrs(span["attributes"]).get("openinference.span.kind") == "LLM"


def is_tool(resource: dict, span: dict) -> bool:
    dialect, name = dialect_of(resource), span["name"]
    if dialect == OTEL:
        return name.startswith("execute_tool ")
    if dialect == V126:
        return name in ("chunk_text", "fetch_thread")
    if dialect == OPENLLMETRY:
        return name.endswith(".tool")
    return attrs(span["attributes"]).get("openinference.span.kind") == "TOOL"


def failed(span: dict) -> bool:
    return span["status"].get("code") == 2


def hour_of(directory: str) -> str:
    return re.search(r"hour=(\d{2})", directory)[1]


# --------------------------------------------------------------------------------------------------
# A minimal JSON Schema (draft 2020-12 subset) validator for the native LLM-span schema: $ref, oneOf,
# enum, type, required, properties, items, pattern, minimum and format date-time (RFC 3339).

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_errors(instance, schema: dict, root: dict, path: str = "$") -> list[str]:
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return schema_errors(instance, node, root, path)
    errors = []
    if "oneOf" in schema:
        matching = sum(not schema_errors(instance, option, root, path) for option in schema["oneOf"])
        if matching != 1:
            errors.append(f"{path}: {instance!r:.60} matches {matching} of oneOf")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{path}: {instance!r:.60} not in {schema['enum']}")
    if "type" in schema:
        types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not any(_TYPES[t](instance) for t in types):
            return errors + [f"{path}: {instance!r:.60} is not {types}"]
    if isinstance(instance, str):
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            errors.append(f"{path}: {instance!r} does not match {schema['pattern']}")
        if schema.get("format") == "date-time":
            try:
                moment = datetime.fromisoformat(instance)
                assert moment.tzinfo is not None and "T" in instance
            except (ValueError, AssertionError):
                errors.append(f"{path}: {instance!r} is not an RFC 3339 date-time")
    if _TYPES["number"](instance) and "minimum" in schema and instance < schema["minimum"]:
        errors.append(f"{path}: {instance} < {schema['minimum']}")
    if isinstance(instance, dict):
        errors += [f"{path}: missing {name}" for name in schema.get("required", ()) if name not in instance]
        for name, sub in schema.get("properties", {}).items():
            if name in instance:
                errors += schema_errors(instance[name], sub, root, f"{path}.{name}")
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            errors += schema_errors(item, schema["items"], root, f"{path}[{index}]")
    return errors


@pytest.fixture(scope="module")
def llm_span_schema() -> dict:
    return orjson.loads(SCHEMA_PATH.read_bytes())


def test_schema_validator_catches_bad_lines(llm_span_schema):
    """The little validator itself: a good line passes, each kind of bad line fails."""
    good = {"trace_id": "a" * 32, "span_id": "b" * 16, "parent_span_id": None, "name": "x",
            "start_time": "2026-11-01T00:12:03.123456Z", "end_time": 1_793_491_923_123_456_000,
            "usage": {"prompt_tokens": 3}, "status": "ok", "events": [{"name": "e", "time": 5}]}
    assert schema_errors(good, llm_span_schema, llm_span_schema) == []
    assert schema_errors({k: v for k, v in good.items() if k != "trace_id"}, llm_span_schema, llm_span_schema)
    for bad in ({"trace_id": "xyz"}, {"start_time": "2026-11-01 00:12:03"}, {"usage": {"prompt_tokens": -1}},
                {"status": "fine"}, {"events": [{"time": 5}]}, {"span_type": "LLM"}, {"parent_span_id": "short"},
                {"end_time": -1}, {"cost": {"total": "1.0"}}):
        assert schema_errors({**good, **bad}, llm_span_schema, llm_span_schema), bad


# --------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("landing")
    messages: list[str] = []
    stats = write_landing(str(root), START, END, traces_per_hour=TRACES_PER_HOUR, files_per_hour=FILES_PER_HOUR,
                          seed=7, progress=messages.append)
    return root, stats, messages, read_tree(root)


@pytest.fixture(scope="module")
def slots(landing):
    return by_slot(landing[3])


@pytest.fixture(scope="module")
def scale(tmp_path_factory):
    """A bigger hour, where the rare features all show up: (stats, slots)."""
    root = tmp_path_factory.mktemp("scale")
    stats = write_landing(str(root), START, START + timedelta(hours=1), traces_per_hour=3000, files_per_hour=2,
                          seed=1, compression="none")
    return stats, by_slot(read_tree(root))


# --------------------------------------------------------------------------------------------------
# layout and counts


def test_key_layout(landing):
    _, _, _, files = landing
    slots = defaultdict(list)
    for key in files:
        match = KEY.match(key)
        assert match, key
        assert match["ext"] == ".gz"
        assert match["format"] == ("jsonl" if match["signal"] == "llm_spans" else "json"), key
        hour = datetime(int(match["year"]), int(match["month"]), int(match["day"]), int(match["hour"]),
                        tzinfo=timezone.utc)
        # which upload slot's share of the hour (15 minutes each) the file's minute falls in
        slots[(hour, match["signal"])].append(int(match["minute"]) * FILES_PER_HOUR // 60)
    assert slots.keys() == {(START + timedelta(hours=h), s) for h in range(2)
                            for s in ("traces", "logs", "metrics", "llm_spans")}
    for found in slots.values():  # one file of each signal per slot, spread over the hour
        assert sorted(found) == list(range(FILES_PER_HOUR))
    assert len({KEY.match(k)["key"] for k in files}) == len(files)  # tokens unique


def test_native_trace_count():
    assert native_trace_count(200, 4) == 10  # 5%
    assert native_trace_count(16_000, 12) == 800
    assert native_trace_count(60, 4) == 4  # one per slot rather than 3
    assert native_trace_count(30, 4) == 3
    assert native_trace_count(4, 1) == 0 and native_trace_count(1, 1) == 0 and native_trace_count(0, 4) == 0


def test_stats_equal_file_contents(landing, slots):
    _, stats, messages, files = landing
    spans = [span for _, _, span in all_spans(slots)]
    lines = all_native(slots)
    points = [p for slot in slots.values() for _, m in metrics_of(slot["metrics"]) for p in points_of(m)]
    otlp_traces = {s["traceId"] for s in spans}
    native_traces = {line["trace_id"] for line in lines}
    assert otlp_traces.isdisjoint(native_traces)
    assert stats == SynthStats(
        hours=2,
        files=len(files),
        traces=len(otlp_traces | native_traces),
        spans=len(spans) + len(lines),
        span_events=sum(len(s.get("events", [])) for s in spans) + sum(len(line.get("events") or []) for line in lines),
        logs=sum(len(logs_of(slot["logs"])) for slot in slots.values()),
        metric_data_points=len(points),
        bytes_written=sum(len(raw) for raw in files.values()),
        native_traces=len(native_traces),
        native_spans=len(lines),
    )
    assert stats.traces == 2 * TRACES_PER_HOUR
    assert stats.native_traces == 2 * native_trace_count(TRACES_PER_HOUR, FILES_PER_HOUR)
    assert stats.spans > 3 * stats.traces and stats.logs > stats.traces and stats.span_events > 0
    assert len(messages) == 2
    assert messages[0].startswith("2026-11-01T03:00Z") and messages[1].startswith("2026-11-01T04:00Z")
    assert f"{TRACES_PER_HOUR} traces" in messages[0] and "native" in messages[0]


def test_deterministic(landing, tmp_path):
    _, stats, _, files = landing
    again = write_landing(str(tmp_path / "again"), START, END, traces_per_hour=TRACES_PER_HOUR,
                          files_per_hour=FILES_PER_HOUR, seed=7)
    assert again == stats
    assert read_tree(tmp_path / "again") == files  # same keys, byte-identical contents
    assert all(raw[4:8] == b"\0\0\0\0" for raw in files.values())  # gzip mtime 0: no clock in the bytes

    # an hour depends only on (arguments, hour): generating a sub-range reproduces it
    write_landing(str(tmp_path / "second"), START + timedelta(hours=1, minutes=30), END,
                  traces_per_hour=TRACES_PER_HOUR, files_per_hour=FILES_PER_HOUR, seed=7)
    second_hour = {k: v for k, v in files.items() if "/hour=04/" in k}
    assert read_tree(tmp_path / "second") == second_hour

    write_landing(str(tmp_path / "other"), START, END, traces_per_hour=TRACES_PER_HOUR,
                  files_per_hour=FILES_PER_HOUR, seed=8)
    assert set(read_tree(tmp_path / "other")).isdisjoint(files)


def test_both_traces_file_forms(landing):
    _, _, _, files = landing
    lines = [len(decode(raw)) for key, raw in files.items() if signal_of(key) == "traces"]
    assert 1 in lines and any(n > 1 for n in lines), lines
    for key, raw in files.items():
        if signal_of(key) in ("logs", "metrics"):
            assert len(decode(raw)) == 1, key


# --------------------------------------------------------------------------------------------------
# traces


ROOT_NAMES = {
    OTEL: lambda name: name.startswith("invoke_agent "),
    V126: lambda name: name == "POST /v1/summarize",
    OPENLLMETRY: lambda name: name == "docs_qa.workflow",
    OPENINFERENCE: lambda name: name == "AgentExecutor",
}


def test_span_trees(slots):
    by_trace: dict[str, list[dict]] = defaultdict(list)
    trace_slot: dict[str, str] = {}
    trace_dialect: dict[str, str] = {}
    for directory, slot in slots.items():
        for resource, scope, span in spans_of(slot["traces"]):
            assert {"service.name", "service.version", "service.instance.id", "telemetry.sdk.name",
                    "telemetry.sdk.language"} <= resource.keys()
            dialect = dialect_of(resource)
            # the environment where docs/llm-mapping.md looks for it, per service
            if dialect == OTEL:
                assert resource["deployment.environment.name"] == "prod"
            elif dialect == OPENLLMETRY:
                assert "deployment.environment" not in resource
                assert attrs(span["attributes"])["traceloop.association.properties.environment"] == "prod"
            else:
                assert resource["deployment.environment"] in ("prod", "staging")
            assert scope["name"] and scope["version"]
            by_trace[span["traceId"]].append(span)
            assert trace_slot.setdefault(span["traceId"], directory) == directory, "a trace split over files"
            assert trace_dialect.setdefault(span["traceId"], dialect) == dialect, "a trace over two services"
    late = 0
    for trace_id, spans in by_trace.items():
        assert HEX32.match(trace_id)
        ids = {s["spanId"]: s for s in spans}
        assert len(ids) == len(spans), "duplicate span id"
        roots = [s for s in spans if "parentSpanId" not in s]
        assert len(roots) == 1 and ROOT_NAMES[trace_dialect[trace_id]](roots[0]["name"]), roots
        for span in spans:
            assert HEX16.match(span["spanId"])
            assert span["kind"] in (1, 2, 3)
            start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
            assert start < end
            if "parentSpanId" in span:
                parent = ids[span["parentSpanId"]]  # KeyError = dangling parent
                assert int(parent["startTimeUnixNano"]) <= start and end <= int(parent["endTimeUnixNano"])
            assert span["status"].get("code", 0) in (0, 1, 2)
            for event in span.get("events", []):
                assert start <= int(event["timeUnixNano"]) <= end and event["name"]
            for link in span.get("links", []):
                assert HEX32.match(link["traceId"]) and HEX16.match(link["spanId"])
        root_start = int(roots[0]["startTimeUnixNano"])
        hour = next(h for h in (START, START + timedelta(hours=1))
                    if f"hour={h:%H}/" in trace_slot[trace_id])
        hour_ns = int(hour.timestamp()) * NS
        assert hour_ns - 5 * 60 * NS <= root_start < hour_ns + 3600 * NS
        if root_start < hour_ns:
            late += 1
        else:
            assert all(int(s["endTimeUnixNano"]) <= hour_ns + 3600 * NS for s in spans)
    assert late <= 0.2 * len(by_trace)


def test_every_dialect_every_hour(slots):
    """Each hour holds traces of all four dialects, and their LLM spans carry the dialect's attributes."""
    llm_calls: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for directory, slot in slots.items():
        for resource, _, span in spans_of(slot["traces"]):
            if is_llm(resource, span):
                dialect = dialect_of(resource)
                check_llm_span(dialect, span)
                llm_calls[(hour_of(directory), dialect)]["failed" if failed(span) else "ok"] += 1
    for hour in ("03", "04"):
        for dialect in DIALECTS:
            assert llm_calls[(hour, dialect)]["ok"] > 0, (hour, dialect, dict(llm_calls))


def check_llm_span(dialect: str, span: dict) -> None:
    """The characteristic attributes of an LLM span in ``dialect`` (docs/llm-mapping.md sources)."""
    a = attrs(span["attributes"])
    events = {e["name"]: attrs(e.get("attributes")) for e in span.get("events", [])}
    ok = not failed(span)
    if failed(span):
        assert span["status"]["message"]
        assert "exception" in events
    if dialect == OTEL:
        assert span["kind"] == 3
        assert a["gen_ai.operation.name"] == "chat"
        assert span["name"] == f"chat {a['gen_ai.request.model']}"
        assert a["gen_ai.provider.name"] in ("openai", "anthropic")
        assert isinstance(a["gen_ai.request.temperature"], float)
        assert a["gen_ai.conversation.id"].startswith("conv_") and a["user.id"].startswith("user-")
        assert a["server.address"]
        assert not {"gen_ai.system", "gen_ai.usage.prompt_tokens"} & a.keys()
        messages = orjson.loads(a["gen_ai.input.messages"])
        assert [m["role"] for m in messages] == ["system", "user"]
        assert all(p["type"] == "text" and p["content"] for m in messages for p in m["parts"])
        if ok:
            assert a["gen_ai.response.model"] != a["gen_ai.request.model"]
            assert a["gen_ai.response.model"].startswith(a["gen_ai.request.model"].removesuffix("-latest")[:7])
            assert isinstance(a["gen_ai.usage.input_tokens"], int) and a["gen_ai.usage.input_tokens"] > 0
            assert isinstance(a["gen_ai.usage.output_tokens"], int) and a["gen_ai.usage.output_tokens"] > 0
            assert isinstance(a["gen_ai.response.finish_reasons"], list) and a["gen_ai.response.finish_reasons"]
            (output,) = orjson.loads(a["gen_ai.output.messages"])
            assert output["role"] == "assistant" and output["parts"][0]["type"] in ("text", "tool_call")
            assert output["finish_reason"] == a["gen_ai.response.finish_reasons"][0]
            seconds = (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / NS
            limit = 30.0 if "gen_ai.usage.reasoning.output_tokens" in a else 8.0
            assert 0.3 <= seconds <= limit
        else:
            assert a["error.type"] and "gen_ai.output.messages" not in a
    elif dialect == V126:
        assert span["kind"] == 3 and span["name"] == f"chat {a['gen_ai.request.model']}"
        assert a["gen_ai.system"] in ("openai", "anthropic") and a["enduser.id"].startswith("user-")
        assert not {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.usage.input_tokens",
                    "gen_ai.input.messages", "gen_ai.conversation.id"} & a.keys()
        assert [m["role"] for m in orjson.loads(events["gen_ai.content.prompt"]["gen_ai.prompt"])] == ["system", "user"]
        if ok:
            assert a["gen_ai.usage.prompt_tokens"] > 0 and a["gen_ai.usage.completion_tokens"] > 0
            assert a["gen_ai.response.model"] and a["gen_ai.response.finish_reasons"]
            (completion,) = orjson.loads(events["gen_ai.content.completion"]["gen_ai.completion"])
            assert completion["role"] == "assistant" and (completion["content"] or completion["tool_calls"])
        else:
            assert "gen_ai.content.completion" not in events
    elif dialect == OPENLLMETRY:
        assert span["kind"] == 3
        assert a["llm.request.type"] == "chat"
        assert span["name"] == f"{a['gen_ai.system'].lower()}.chat"
        assert a["gen_ai.system"] in ("openai", "Anthropic")  # OpenLLMetry capitalises Anthropic
        assert a["gen_ai.request.model"] and isinstance(a["llm.is_streaming"], bool)
        assert (a["gen_ai.prompt.0.role"], a["gen_ai.prompt.1.role"]) == ("system", "user")
        assert a["gen_ai.prompt.1.content"]
        assert a["traceloop.association.properties.session_id"] and a["traceloop.association.properties.user_id"]
        assert not {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.usage.input_tokens"} & a.keys()
        if ok:
            assert a["gen_ai.response.model"] != a["gen_ai.request.model"]
            assert a["llm.usage.total_tokens"] == a["gen_ai.usage.prompt_tokens"] + a["gen_ai.usage.completion_tokens"]
            assert a["gen_ai.completion.0.role"] == "assistant" and a["gen_ai.completion.0.finish_reason"]
            assert a.get("gen_ai.completion.0.content") or a.get("gen_ai.completion.0.tool_calls.0.name")
        else:
            assert not any(k.startswith("gen_ai.completion.") for k in a)
    else:
        assert a["openinference.span.kind"] == "LLM" and span["name"] in ("ChatOpenAI", "ChatAnthropic")
        assert a["llm.system"] in ("openai", "anthropic")
        params = orjson.loads(a["llm.invocation_parameters"])
        assert params["model"] and isinstance(params["temperature"], float)
        assert a["llm.model_name"].startswith(params["model"])
        assert (a["llm.input_messages.0.message.role"], a["llm.input_messages.1.message.role"]) == ("system", "user")
        assert a["input.mime_type"] == "application/json" and orjson.loads(a["input.value"])["messages"]
        assert a["session.id"].startswith("sess_") and a["user.id"].startswith("user-")
        assert not any(k.startswith(("gen_ai.", "traceloop.")) for k in a)
        if ok:
            assert span["status"] == {"code": 1}
            assert a["llm.model_name"] != params["model"]  # the response model
            assert a["llm.token_count.total"] == a["llm.token_count.prompt"] + a["llm.token_count.completion"]
            assert a["llm.output_messages.0.message.role"] == "assistant"
            assert orjson.loads(a["output.value"])["generations"] and a["output.mime_type"] == "application/json"
            if "llm.cost.total" in a:
                assert a["llm.cost.total"] == pytest.approx(a["llm.cost.prompt"] + a["llm.cost.completion"])
        else:
            assert not any(k.startswith(("llm.output_messages", "llm.token_count", "llm.cost")) for k in a)


def test_non_llm_spans_per_dialect(slots):
    """The agent, tool, retrieval and workflow spans around the LLM calls, in each dialect's words."""
    found: dict[str, Counter] = defaultdict(Counter)
    for resource, _, span in all_spans(slots):
        a = attrs(span["attributes"])
        dialect = dialect_of(resource)
        if dialect == OTEL:
            found[dialect][a.get("gen_ai.operation.name") or span["name"]] += 1
            if span["name"].startswith("execute_tool "):
                assert span["name"] == f"execute_tool {a['gen_ai.tool.name']}"
            elif span["name"].startswith("invoke_agent "):
                assert span["name"] == f"invoke_agent {a['gen_ai.agent.name']}"
                assert a["gen_ai.conversation.id"] and a["user.id"]
            elif span["name"] == "retrieve documents":
                assert a["db.system"] == "qdrant"
        elif dialect == V126:
            found[dialect][span["name"].split(" ")[0]] += 1
            if not is_llm(resource, span):  # plain spans: no GenAI attribute at all
                assert not any(k.startswith(("gen_ai.", "llm.", "traceloop.", "openinference.")) for k in a)
        elif dialect == OPENLLMETRY:
            # the association properties are on every span of the trace
            assert a["traceloop.association.properties.user_id"].startswith("user-")
            found[dialect][a.get("traceloop.span.kind") or span["name"]] += 1
            if "traceloop.span.kind" in a:
                assert span["name"] == f"{a['traceloop.entity.name']}.{a['traceloop.span.kind']}"
        else:
            assert a["session.id"] and a["user.id"]  # context attributes on every span
            found[dialect][a["openinference.span.kind"]] += 1
    assert {"invoke_agent", "chat", "execute_tool"} <= found[OTEL].keys()
    assert {"POST", "chat"} <= found[V126].keys()
    assert {"workflow", "openai.chat"} <= found[OPENLLMETRY].keys()
    assert {"AGENT", "LLM"} <= found[OPENINFERENCE].keys()


def test_dialect_features_at_scale(scale):
    """At a larger size the rare features all appear, in every dialect, with plausible frequencies."""
    stats, slots = scale
    spans = all_spans(slots)
    assert len(spans) + stats.native_spans == stats.spans
    llm = defaultdict(list)
    for resource, _, span in spans:
        if is_llm(resource, span):
            llm[dialect_of(resource)].append((span, attrs(span["attributes"])))
    for dialect, calls in llm.items():
        errors = sum(failed(span) for span, _ in calls)
        assert 0.01 < errors / len(calls) < 0.06, dialect
        assert all(any(e["name"] == "exception" for e in span.get("events", [])) for span, _ in calls if failed(span))

    def share(dialect, predicate):
        calls = [(span, a) for span, a in llm[dialect] if not failed(span)]
        return sum(bool(predicate(span, a)) for span, a in calls) / len(calls)

    def events(span):
        return [e["name"] for e in span.get("events", [])]

    # streaming
    assert 0.15 < share(OTEL, lambda s, a: "gen_ai.response.time_to_first_chunk" in a) < 0.35
    for span, a in llm[OTEL]:
        if "gen_ai.response.time_to_first_chunk" in a:  # the attribute agrees with the first chunk event
            first = min(int(e["timeUnixNano"]) for e in span["events"] if e["name"] == "gen_ai.content.completion.chunk")
            assert a["gen_ai.response.time_to_first_chunk"] == pytest.approx(
                (first - int(span["startTimeUnixNano"])) / NS)
    assert 0.2 < share(OPENLLMETRY, lambda s, a: "gen_ai.content.completion.chunk" in events(s)) < 0.4
    assert all(a["llm.is_streaming"] == ("gen_ai.content.completion.chunk" in events(s)) for s, a in llm[OPENLLMETRY])
    assert 0.25 < share(OPENINFERENCE, lambda s, a: "First Token Stream Event" in events(s)) < 0.45
    assert share(V126, lambda s, a: "gen_ai.content.completion.chunk" in events(s)) == 0
    # cached and reasoning tokens
    assert share(OTEL, lambda s, a: "gen_ai.usage.cache_read.input_tokens" in a) > 0.03
    assert share(OTEL, lambda s, a: "gen_ai.usage.cache_creation.input_tokens" in a) > 0
    assert share(OPENLLMETRY, lambda s, a: "gen_ai.usage.cache_read_input_tokens" in a) > 0.03
    assert share(OPENINFERENCE, lambda s, a: "llm.token_count.prompt_details.cache_read" in a) > 0.03
    reasoning = share(OTEL, lambda s, a: "gen_ai.usage.reasoning.output_tokens" in a)
    assert 0.08 < reasoning < 0.25
    assert all(a["gen_ai.request.model"] == "o4-mini" for _, a in llm[OTEL] if "gen_ai.usage.reasoning.output_tokens" in a)
    assert 0.15 < share(OPENINFERENCE, lambda s, a: "llm.token_count.completion_details.reasoning" in a) < 0.35
    # provided costs on some OpenInference LLM spans only
    assert 0.3 < share(OPENINFERENCE, lambda s, a: "llm.cost.total" in a) < 0.5
    # finish reasons, tool calls, Anthropic's capitalised gen_ai.system in OpenLLMetry
    assert share(OTEL, lambda s, a: a["gen_ai.response.finish_reasons"] == ["tool_calls"]) > 0.05
    assert share(OPENLLMETRY, lambda s, a: "gen_ai.completion.0.tool_calls.0.name" in a) > 0.02
    assert share(OPENLLMETRY, lambda s, a: a["gen_ai.system"] == "Anthropic") > 0.05
    # the span kinds of the frameworks
    kinds = Counter(attrs(s["attributes"]).get("openinference.span.kind") for _, _, s in spans)
    assert {"LLM", "EMBEDDING", "CHAIN", "RETRIEVER", "RERANKER", "TOOL", "AGENT", "GUARDRAIL"} <= kinds.keys()
    assert kinds["GUARDRAIL"] < kinds["AGENT"] / 4  # occasional
    traceloop = Counter(attrs(s["attributes"]).get("traceloop.span.kind") for _, _, s in spans)
    assert {"workflow", "task", "agent", "tool"} <= traceloop.keys()
    embedding_types = Counter(attrs(s["attributes"]).get("llm.request.type") for _, _, s in spans)
    assert embedding_types["embedding"] > 0
    # links, statuses and late arrivals
    assert any("links" in s for _, _, s in spans)
    assert any(s["status"].get("code") == 1 for _, _, s in spans)
    hour_ns = int(START.timestamp()) * NS
    late = {s["traceId"] for _, _, s in spans if int(s["startTimeUnixNano"]) < hour_ns}
    assert 0.02 < len(late) / stats.traces < 0.08
    # every service has its share of the traffic
    traces = Counter()
    for resource, _, span in spans:
        if "parentSpanId" not in span:
            traces[resource["service.name"]] += 1
    assert all(0.1 < traces[service] / sum(traces.values()) < 0.45 for service in SERVICE_DIALECTS), traces


def test_token_conventions(scale):
    """Input tokens include cached ones and output tokens include reasoning ones, in every dialect."""
    _, slots = scale
    keys = {  # (input, output, cache read, cache write, reasoning, total)
        OTEL: ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.cache_read.input_tokens",
               "gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.reasoning.output_tokens", None),
        V126: ("gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens", None, None, None, None),
        OPENLLMETRY: ("gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens",
                      "gen_ai.usage.cache_read_input_tokens", None, None, "llm.usage.total_tokens"),
        OPENINFERENCE: ("llm.token_count.prompt", "llm.token_count.completion",
                        "llm.token_count.prompt_details.cache_read", None,
                        "llm.token_count.completion_details.reasoning", "llm.token_count.total"),
    }
    checked = Counter()
    for resource, _, span in all_spans(slots):
        if not is_llm(resource, span) or failed(span):
            continue
        a = attrs(span["attributes"])
        input_key, output_key, read_key, write_key, reasoning_key, total_key = keys[dialect_of(resource)]
        tokens_in, tokens_out = a[input_key], a[output_key]
        assert tokens_in > 0 and tokens_out > 0
        if read_key in a:
            assert 0 < a[read_key] <= tokens_in and a[read_key] % 128 == 0
            checked["cache_read"] += 1
        if write_key in a:
            assert 0 < a[write_key] <= tokens_in and read_key not in a
            checked["cache_write"] += 1
        if reasoning_key in a:
            assert 0 < a[reasoning_key] < tokens_out
            checked["reasoning"] += 1
        if total_key:
            assert a[total_key] == tokens_in + tokens_out
    for line in all_native(slots):
        usage = line.get("usage")
        if usage:
            assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
            assert 0 <= usage["cache_read_tokens"] <= usage["prompt_tokens"]
            checked["native"] += 1
    assert min(checked.values()) > 0 and len(checked) == 4


def test_sessions(scale):
    """A session is 1-5 traces of one user, one after another; every dialect with a session id has them."""
    _, slots = scale
    traces: dict[str, dict] = {}
    for resource, _, span in all_spans(slots):
        a = attrs(span["attributes"])
        trace = traces.setdefault(span["traceId"], {"service": resource["service.name"], "sessions": set(),
                                                    "users": set(), "start": None, "end": None})
        session = a.get("gen_ai.conversation.id") or a.get("session.id") or \
            a.get("traceloop.association.properties.session_id")
        user = a.get("user.id") or a.get("enduser.id") or a.get("traceloop.association.properties.user_id")
        if session:
            trace["sessions"].add(session)
        if user:
            trace["users"].add(user)
        if "parentSpanId" not in span:
            trace["start"], trace["end"] = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
    for line in all_native(slots):
        trace = traces.setdefault(line["trace_id"], {"service": NATIVE_SERVICE, "sessions": set(), "users": set(),
                                                     "start": None, "end": None})
        trace["sessions"].add(line["metadata"]["session_id"])
        trace["users"].add(line["metadata"]["user_id"])
        if line["parent_span_id"] is None:
            trace["start"] = llm_spans.time_ns(line["start_time"], "")
            trace["end"] = llm_spans.time_ns(line["end_time"], "")
    sessions: dict[str, list[dict]] = defaultdict(list)
    for trace in traces.values():
        assert len(trace["users"]) == 1, trace  # every trace has exactly one user
        assert len(trace["sessions"]) == (0 if SERVICE_DIALECTS.get(trace["service"]) == V126 else 1), trace
        for session in trace["sessions"]:
            sessions[session].append(trace)
    by_service: dict[str, Counter] = defaultdict(Counter)
    out_of_order = 0
    for session, members in sessions.items():
        assert len(members) <= 5
        assert len({m["service"] for m in members}) == 1 and len({u for m in members for u in m["users"]}) == 1
        by_service[members[0]["service"]][len(members)] += 1
        members.sort(key=lambda m: m["start"])
        out_of_order += sum(b["start"] < a["end"] for a, b in zip(members, members[1:]))
    for service in [s for s, d in SERVICE_DIALECTS.items() if d != V126] + [NATIVE_SERVICE]:
        assert by_service[service][1] > 0 and sum(n for k, n in by_service[service].items() if k > 1) > 0, service
    assert out_of_order <= 0.01 * len(traces)
    users = Counter(u for t in traces.values() for u in t["users"])
    assert len(users) < len(traces)  # users come back


# --------------------------------------------------------------------------------------------------
# native LLM-span files


def test_native_lines_follow_the_schema(slots, llm_span_schema):
    lines = all_native(slots)
    assert lines
    for line in lines:
        assert schema_errors(line, llm_span_schema, llm_span_schema) == [], line
    # the generator always writes these, beyond the schema's required fields
    for line in lines:
        assert {"parent_span_id", "span_type", "latency", "status", "metadata", "attributes", "input"} <= line.keys()
        assert line["metadata"]["service_name"] == NATIVE_SERVICE and line["metadata"]["environment"] == "prod"
        assert line["metadata"]["user_id"] and line["metadata"]["session_id"] and line["metadata"]["tags"]


def check_native_trace(lines: list[dict], hour_ns: int) -> None:
    ids = {line["span_id"]: line for line in lines}
    assert len(ids) == len(lines) and 1 <= len(lines) <= 3
    roots = [line for line in lines if line["parent_span_id"] is None]
    assert len(roots) == 1
    kinds = {type(line["start_time"]) for line in lines} | {type(line["end_time"]) for line in lines}
    assert kinds in ({str}, {int})  # one form per trace
    for line in lines:
        start, end = llm_spans.time_ns(line["start_time"], "start"), llm_spans.time_ns(line["end_time"], "end")
        if isinstance(line["start_time"], str):
            assert RFC3339_US.match(line["start_time"]) and RFC3339_US.match(line["end_time"])
        assert hour_ns <= start < end <= hour_ns + 3600 * NS
        assert line["latency"]["total_ms"] == pytest.approx((end - start) / 1e6)
        if line["parent_span_id"] is not None:
            parent = ids[line["parent_span_id"]]
            assert llm_spans.time_ns(parent["start_time"], "") <= start \
                and end <= llm_spans.time_ns(parent["end_time"], "")
        for event in line.get("events") or ():
            assert start <= llm_spans.time_ns(event["time"], "") <= end
        if line["span_type"] == "GENERATION":
            assert line["provider"] in ("openai", "anthropic") and line["model"] and line["request_model"]
            assert line["input"][0]["role"] == "system"
            if line["status"] == "ok":
                assert line["usage"]["prompt_tokens"] > 0 and line["output"] and line["finish_reasons"]
                if line["latency"]["ttft_ms"] is not None:
                    assert 0 < line["latency"]["ttft_ms"] < line["latency"]["total_ms"]
                    first = [e for e in line.get("events") or () if e["name"] == "first_token"]
                    assert len(first) == 1 and llm_spans.time_ns(first[0]["time"], "") - start == \
                        round(line["latency"]["ttft_ms"] * 1e6)
                if "cost" in line:
                    cost = line["cost"]
                    assert cost["total"] == pytest.approx(cost["prompt"] + cost["completion"]) and cost["total"] > 0
            else:
                assert line["status_message"] and line["usage"] is None and line["events"][0]["name"] == "exception"
        elif line["span_type"] == "CHAIN":
            assert line["parent_span_id"] is None and len(lines) > 1


def test_native_traces(slots, landing):
    stats = landing[1]
    by_trace: dict[str, list[dict]] = defaultdict(list)
    for directory, slot in slots.items():
        hour_ns = int(datetime(2026, 11, 1, int(hour_of(directory)), tzinfo=timezone.utc).timestamp()) * NS
        trace_ids = {line["trace_id"] for line in slot["llm_spans"]}
        for trace_id in trace_ids:  # a native trace is whole in one file
            check_native_trace([line for line in slot["llm_spans"] if line["trace_id"] == trace_id], hour_ns)
        for line in slot["llm_spans"]:
            by_trace[line["trace_id"]].append(line)
    assert len(by_trace) == stats.native_traces


def test_native_at_scale(scale):
    stats, slots = scale
    lines = all_native(slots)
    traces = {line["trace_id"] for line in lines}
    assert stats.native_traces == len(traces) == native_trace_count(3000, 2) == 150
    assert 0.045 < stats.native_traces / stats.traces < 0.055
    hour_ns = int(START.timestamp()) * NS
    for trace_id in traces:
        check_native_trace([line for line in lines if line["trace_id"] == trace_id], hour_ns)
    generations = [line for line in lines if line["span_type"] == "GENERATION"]
    types = Counter(line["span_type"] for line in lines)
    assert types["GENERATION"] > types["CHAIN"] > types["EMBEDDING"] > 0
    ok = [line for line in generations if line["status"] == "ok"]
    assert 0.4 < sum("cost" in line for line in ok) / len(ok) < 0.6  # provided cost on about half
    assert 0.3 < sum(line["latency"]["ttft_ms"] is not None for line in ok) / len(ok) < 0.5
    assert any(line["status"] == "error" for line in generations)
    assert any(isinstance(line["output"], str) for line in ok) and any(isinstance(line["output"], list) for line in ok)
    int_traces = {line["trace_id"] for line in lines if isinstance(line["start_time"], int)}
    assert 0.1 < len(int_traces) / len(traces) < 0.3
    names = Counter(e["name"] for line in lines for e in line.get("events") or ())
    assert {"first_token", "retry"} <= names.keys()
    assert sum(names.values()) == sum(len(line.get("events") or ()) for line in lines)


# --------------------------------------------------------------------------------------------------
# the loader's view: every dialect reaches the canonical columns (docs/llm-mapping.md)


def test_loader_maps_every_dialect(landing):
    """Decode the files with the loader's own decoders and check the canonical LLM columns per service."""
    _, stats, _, files = landing
    columns = Columns()
    for key, raw in files.items():
        signal = signal_of(key)
        if signal == "llm_spans":
            llm_spans.decode(decompress(raw), columns)
        elif signal == "traces":
            otlp_json.decode(signal, decompress(raw), columns)
    rows = decoded_rows(columns, "trace_spans")
    assert len(rows) == stats.spans
    assert len(columns.tables["trace_events"]["trace_id"]) == stats.span_events
    assert len({row["trace_id"] for row in rows}) == stats.traces
    generations: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row["span_type"] == "GENERATION":
            generations[row["service_name"]].append(row)
    assert generations.keys() == set(SERVICE_DIALECTS) | {NATIVE_SERVICE}
    for service, found in generations.items():
        ok = [row for row in found if row["status_code"] != 2]
        assert ok, service
        for row in found:
            assert row["provider"] in ("openai", "anthropic"), (service, row["provider"])
            assert row["request_model"] and row["user_id"] and row["environment"] and row["input"], (service, row)
            assert (row["session_id"] is None) == (SERVICE_DIALECTS.get(service) == V126), (service, row)
        for row in ok:
            assert row["response_model"] and row["input_tokens"] > 0 and row["output_tokens"] > 0, (service, row)
            assert row["total_tokens"] == row["input_tokens"] + row["output_tokens"]
            assert row["output"] is not None, (service, row)
    sessions = {row["session_id"] for rows_ in generations.values() for row in rows_} - {None}
    assert sessions


# --------------------------------------------------------------------------------------------------
# logs


def test_logs_correlate_with_spans(slots):
    event_names = Counter()
    services = Counter()
    for directory, slot in slots.items():
        spans = {(s["traceId"], s["spanId"]): (resource, s) for resource, _, s in spans_of(slot["traces"])}
        for resource, record in logs_of(slot["logs"]):
            span_resource, span = spans[(record["traceId"], record["spanId"])]  # KeyError = uncorrelated log
            assert span_resource == resource
            assert is_llm(resource, span) or is_tool(resource, span), span["name"]
            assert int(span["startTimeUnixNano"]) <= int(record["timeUnixNano"]) <= int(span["endTimeUnixNano"])
            assert int(record["observedTimeUnixNano"]) >= int(record["timeUnixNano"])
            assert record["flags"] == 1
            assert (record["severityNumber"], record["severityText"]) in ((9, "INFO"), (13, "WARN"), (17, "ERROR"))
            assert record["body"]["stringValue"] and record["attributes"]
            event_names[record.get("eventName")] += 1
            services[resource["service.name"]] += 1
            if record.get("eventName"):
                assert dialect_of(resource) == OTEL
    assert event_names["gen_ai.client.inference.operation.details"] > 0 and event_names[None] > 0
    assert services.keys() == set(SERVICE_DIALECTS)


# --------------------------------------------------------------------------------------------------
# metrics


def expected_histograms(spans: list[tuple[dict, dict, dict]]) -> dict[tuple, list]:
    """Recompute the GenAI client histograms from spans: {(instance, metric, attributes): sorted values}.

    Only spans with ``gen_ai.operation.name`` chat/embeddings feed them -- the ``otel_genai`` dialect's."""
    expected: dict[tuple, list] = defaultdict(list)
    for resource, _, span in spans:
        a = attrs(span["attributes"])
        if a.get("gen_ai.operation.name") not in ("chat", "embeddings"):
            continue
        assert dialect_of(resource) == OTEL
        base = {k: a[k] for k in ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                                  "gen_ai.response.model", "error.type") if k in a}
        instance = resource["service.instance.id"]
        seconds = (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / NS
        expected[(instance, "gen_ai.client.operation.duration", frozenset(base.items()))].append(seconds)
        for token_type in ("input", "output"):
            if f"gen_ai.usage.{token_type}_tokens" in a:
                key = frozenset((base | {"gen_ai.token.type": token_type}).items())
                expected[(instance, "gen_ai.client.token.usage", key)].append(a[f"gen_ai.usage.{token_type}_tokens"])
    return expected


def test_histograms_consistent_and_match_spans(slots):
    for directory, slot in slots.items():
        expected = expected_histograms(spans_of(slot["traces"]))
        assert expected, directory
        found = set()
        for resource, metric in metrics_of(slot["metrics"]):
            if "histogram" not in metric:
                continue
            assert dialect_of(resource) == OTEL
            assert metric["histogram"]["aggregationTemporality"] == 1
            bounds = list(TOKEN_USAGE_BOUNDS if metric["name"] == "gen_ai.client.token.usage" else DURATION_BOUNDS)
            assert metric["unit"] == ("{token}" if metric["name"] == "gen_ai.client.token.usage" else "s")
            for point in metric["histogram"]["dataPoints"]:
                counts = [int(c) for c in point["bucketCounts"]]
                assert point["explicitBounds"] == bounds
                assert len(counts) == len(bounds) + 1
                assert sum(counts) == int(point["count"]) > 0
                assert point["min"] <= point["max"]
                assert int(point["startTimeUnixNano"]) < int(point["timeUnixNano"])
                # the point aggregates exactly this slot's spans with the same attributes
                key = (resource["service.instance.id"], metric["name"], frozenset(attrs(point["attributes"]).items()))
                values = expected[key]
                found.add(key)
                assert int(point["count"]) == len(values)
                assert point["sum"] == pytest.approx(sum(values), rel=1e-12)
                assert (point["min"], point["max"]) == (min(values), max(values))
                buckets = [0] * (len(bounds) + 1)
                for value in values:  # bucket i holds (bounds[i-1], bounds[i]]
                    buckets[next((i for i, b in enumerate(bounds) if value <= b), len(bounds))] += 1
                assert counts == buckets
        assert found == expected.keys(), "spans missing from the histograms"


def test_sum_and_gauge(slots):
    cumulative: dict[str, list[tuple[int, int]]] = defaultdict(list)
    kinds = Counter()
    services = set()
    for slot in slots.values():
        for resource, metric in metrics_of(slot["metrics"]):
            kinds[next(k for k in ("histogram", "sum", "gauge") if k in metric)] += 1
            services.add(resource["service.name"])
            if metric["name"] == "app.requests":
                assert metric["sum"]["isMonotonic"] is True and metric["sum"]["aggregationTemporality"] == 2
                (point,) = metric["sum"]["dataPoints"]
                cumulative[resource["service.instance.id"]].append((int(point["timeUnixNano"]),
                                                                    int(point["asInt"])))
            elif metric["name"] == "process.cpu.utilization":
                (point,) = metric["gauge"]["dataPoints"]
                assert 0 <= point["asDouble"] <= 1
    assert kinds["histogram"] and kinds["sum"] and kinds["gauge"]
    assert services == set(SERVICE_DIALECTS)
    for series in cumulative.values():
        values = [v for _, v in sorted(series)]
        assert values == sorted(values), "a monotonic cumulative sum went down"


# --------------------------------------------------------------------------------------------------
# encoding


def test_int64_fields_are_json_strings(landing):
    _, _, _, files = landing
    checked = Counter()
    for key, raw in files.items():
        if signal_of(key) == "llm_spans":
            continue
        for request in decode(raw):
            for path, key, value in walk(request):
                if key in INT64_FIELDS:
                    assert isinstance(value, str) and value.isdigit(), (path, key, value)
                    checked[key] += 1
                elif key == "bucketCounts":
                    assert all(isinstance(v, str) and v.isdigit() for v in value)
                    checked[key] += 1
                elif key in ("traceId", "spanId", "parentSpanId"):
                    assert isinstance(value, str)
                elif key in ("kind", "severityNumber", "aggregationTemporality", "flags"):
                    assert isinstance(value, int)
    assert INT64_FIELDS | {"bucketCounts"} <= checked.keys()


@pytest.mark.parametrize("compression, ext, magic", [("zstd", ".zst", b"\x28\xb5\x2f\xfd"), ("none", "", b"{")])
def test_other_compressions(tmp_path, compression, ext, magic):
    stats = write_landing(f"file://{tmp_path}/land", START, START + timedelta(minutes=1), traces_per_hour=20,
                          files_per_hour=2, seed=3, compression=compression)
    files = read_tree(tmp_path / "land")
    assert stats.hours == 1 and stats.files == len(files) == 8  # 2 slots x (traces, logs, metrics, llm_spans)
    for key, raw in files.items():
        match = KEY.match(key)
        assert match and (match["ext"] or "") == ext and raw.startswith(magic), key
    slots = by_slot(files)
    spans = all_spans(slots)
    lines = all_native(slots)
    assert len(spans) + len(lines) == stats.spans and stats.native_spans == len(lines) > 0
    assert len({s["traceId"] for _, _, s in spans} | {line["trace_id"] for line in lines}) == stats.traces == 20
    # the same keys and content as with gzip; only the encoding differs
    write_landing(str(tmp_path / "gz"), START, START + timedelta(minutes=1), traces_per_hour=20,
                  files_per_hour=2, seed=3)
    gz = read_tree(tmp_path / "gz")
    assert {k.removesuffix(ext) + ".gz" for k in files} == gz.keys()
    for key, raw in files.items():
        assert decode(raw) == decode(gz[key.removesuffix(ext) + ".gz"])


def test_start_is_floored_to_the_hour(tmp_path):
    stats = write_landing(str(tmp_path), START + timedelta(minutes=30), START + timedelta(minutes=45),
                          traces_per_hour=4, files_per_hour=1)
    assert stats.hours == 1 and stats.files == 3 and stats.native_traces == 0  # too few traces for native ones
    assert all(k.startswith("year=2026/month=11/day=01/hour=03/") for k in read_tree(tmp_path))


@pytest.mark.parametrize("kwargs, message", [
    (dict(start=START, end=START), "must be after"),
    (dict(start=START, end=START - timedelta(hours=1)), "must be after"),
    (dict(compression="brotli"), "unknown compression"),
    (dict(start=START.replace(tzinfo=None)), "timezone-aware"),
    (dict(files_per_hour=0), "files_per_hour"),
    (dict(traces_per_hour=-1), "traces_per_hour"),
])
def test_invalid_arguments(tmp_path, kwargs, message):
    arguments = dict(start=START, end=END) | kwargs
    with pytest.raises(ValueError, match=message):
        write_landing(str(tmp_path), arguments.pop("start"), arguments.pop("end"), **arguments)
    assert not any(tmp_path.rglob("*.json*"))
