"""Native LLM-span files (``llm_spans_<key>.jsonl``, observatory_etl/schemas/llm_span.schema.json) decoded by
``native.decode_file`` into the same ``trace_spans`` / ``trace_events`` columns as OTLP spans.

Computed costs come from a small price table written in ``tmp_path``; expected costs are worked out by hand.
"""

from __future__ import annotations

import copy

import orjson
import polars as pl
import pytest

from observatory_etl.ingest import llm_spans
from observatory_etl.ingest.columns import Columns, DecodeError
from observatory_etl.ingest.frames import frames as build_frames
from observatory_etl.llm.prices import PriceTable
from observatory_etl.tables import LLM_COLUMNS
from tests.conftest import assert_llm_columns, decoded_rows, llm_expected

T0 = 1_793_491_200_000_000_000  # 2026-11-01T00:00:00Z in ns
MS = 1_000_000
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_2 = "0af7651916cd43dd8448eb211c80319c"

PRICES_CSV = """\
# version: test-native-2026-11
provider,model_pattern,input_per_mtok,output_per_mtok,cached_input_per_mtok,cache_write_per_mtok,effective_date
openai,gpt-4o-mini*,0.15,0.60,0.075,,2024-07-18
anthropic,claude-3-5-sonnet*,3.00,15.00,0.30,3.75,2024-06-20
"""


@pytest.fixture
def prices(tmp_path) -> PriceTable:
    path = tmp_path / "prices.csv"
    path.write_text(PRICES_CSV)
    return PriceTable.load(path)


def jsonl(*lines) -> bytes:
    return b"\n".join(orjson.dumps(line) for line in lines) + b"\n"


def decode(data: bytes, prices: PriceTable) -> tuple[Columns, list[dict], list[dict]]:
    columns = Columns(prices=prices)
    added = llm_spans.decode(data, columns)
    span_rows, event_rows = decoded_rows(columns, "trace_spans"), decoded_rows(columns, "trace_events")
    assert added == len(span_rows) + len(event_rows) == columns.rows
    return columns, span_rows, event_rows


def llm(row: dict) -> dict:
    out = {name: row[name] for name in LLM_COLUMNS}
    for name in ("input", "output"):
        if out[name] is not None:
            assert isinstance(out[name], str), f"{name} must be JSON text"
            out[name] = orjson.loads(out[name])
    return out



# ---------------------------------------------------------------------------------------------------
# Lines as the schema defines them

GENERATION = {
    "trace_id": TRACE,
    "span_id": "00f067aa0ba902b7",
    "parent_span_id": "f0f1f2f3f4f5f6f7",
    "name": "chat gpt-4o-mini",
    "span_type": "GENERATION",
    "provider": "OpenAI",
    "model": "gpt-4o-mini-2024-07-18",
    "request_model": "gpt-4o-mini",
    "start_time": "2026-11-01T00:12:03.123456Z",
    "end_time": "2026-11-01T00:12:04.623456Z",
    "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "cache_read_tokens": 1000,
              "cache_creation_tokens": 0, "reasoning_tokens": 64},
    "latency": {"ttft_ms": 250.5},
    "input": [{"role": "system", "content": "You are a support agent."},
              {"role": "user", "content": "Where is my order 1234?"}],
    "output": [{"role": "assistant", "content": "It shipped yesterday."}],
    "status": "ok",
    "finish_reasons": ["stop"],
    "metadata": {"user_id": "user-1", "session_id": "session-1", "environment": "production",
                 "service_name": "support-bot", "tags": ["beta", "support"]},
    "attributes": {"team": "support", "retry": 0, "nested": {"a": [1, 2]}},
    "events": [
        {"name": "first_token", "time": "2026-11-01T00:12:03.373956Z", "attributes": {"chunk": 1}},
        {"name": "done", "time": T0 + 724_623_456_000},
    ],
}
START_1 = T0 + 723_123_456_000  # 00:12:03.123456
END_1 = T0 + 724_623_456_000  # 00:12:04.623456

PROVIDED = {
    "trace_id": TRACE,
    "span_id": "b7ad6b7169203331",
    "parent_span_id": None,
    "name": "anthropic.messages",
    "provider": "anthropic",
    "model": "claude-3-5-sonnet-20241022",
    "start_time": T0 + 1_000 * MS,
    "end_time": T0 + 2_000 * MS,
    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 125},
    "cost": {"prompt": 0.0003, "completion": 0.0003, "total": 0.0006},
    "latency": {"total_ms": 950.25, "ttft_ms": None},
    "input": "Summarize this ticket.",
    "output": {"text": "Customer wants a refund."},
    "status": "error",
    "status_message": "overloaded_error",
}

MINIMAL = {
    "trace_id": TRACE_2,
    "span_id": "1111111111111111",
    "name": "minimal",
    "start_time": "2026-11-01T00:00:00Z",
    "end_time": "2026-11-01T00:00:00.5Z",
}


def test_generation_line_every_column(prices):
    columns, (row,), events = decode(jsonl(GENERATION), prices)
    # base columns
    assert row["trace_id"] == bytes.fromhex(TRACE)
    assert row["span_id"] == 67667974448284343  # 00f067aa0ba902b7
    assert row["parent_span_id"] == -1084818905618843913  # f0f1f2f3f4f5f6f7, signed 64-bit
    assert row["trace_state"] is None
    assert row["name"] == "chat gpt-4o-mini"
    assert row["kind"] == 0
    assert row["service_name"] == "support-bot"
    assert row["scope_name"] == "llm_spans"
    assert row["scope_version"] is None
    assert row["start_time_unix_nano"] == START_1
    assert row["end_time_unix_nano"] == END_1
    assert row["status_code"] == 1
    assert row["status_message"] is None
    assert orjson.loads(row["attributes"]) == {"team": "support", "retry": 0, "nested": {"a": [1, 2]},
                                               "tags": ["beta", "support"]}
    assert orjson.loads(row["resource_attributes"]) == {"service.name": "support-bot"}
    assert row["scope_attributes"] == "{}"
    # canonical columns: (1200 − 1000 − 0) × 0.15 + 1000 × 0.075 = 105 µUSD in; 300 × 0.60 = 180 µUSD out
    assert_llm_columns(llm(row), llm_expected(
        span_type="GENERATION", provider="openai", request_model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18", input_tokens=1200, output_tokens=300, total_tokens=1500,
        cache_read_input_tokens=1000, cache_creation_input_tokens=0, reasoning_tokens=64,
        input_cost_usd=105e-6, output_cost_usd=180e-6, total_cost_usd=285e-6, cost_source="computed",
        latency_ms=1500.0, ttft_ms=250.5, finish_reasons=["stop"], session_id="session-1", user_id="user-1",
        environment="production", input=GENERATION["input"], output=GENERATION["output"],
    ))
    # events
    assert events == [
        {"trace_id": bytes.fromhex(TRACE), "span_id": 67667974448284343, "event_index": 0,
         "time_unix_nano": T0 + 723_373_956_000, "name": "first_token", "attributes": '{"chunk":1}'},
        {"trace_id": bytes.fromhex(TRACE), "span_id": 67667974448284343, "event_index": 1,
         "time_unix_nano": END_1, "name": "done", "attributes": "{}"},
    ]
    assert columns.rows == 3


def test_provided_cost_latency_and_error_status(prices):
    _, (row,), events = decode(jsonl(PROVIDED), prices)
    assert events == []
    assert row["parent_span_id"] is None
    assert row["start_time_unix_nano"] == T0 + 1_000 * MS and row["end_time_unix_nano"] == T0 + 2_000 * MS
    assert row["status_code"] == 2 and row["status_message"] == "overloaded_error"
    assert row["service_name"] is None and row["resource_attributes"] == "{}" and row["attributes"] == "{}"
    assert row["scope_name"] == "llm_spans" and row["kind"] == 0
    # provided cost wins over the price table (which would give 100 × 3 + 20 × 15 = 600 µUSD too, but computed);
    # latency.total_ms wins over the 1000 ms duration; given total_tokens is kept although in + out = 120.
    assert_llm_columns(llm(row), llm_expected(
        span_type="GENERATION", provider="anthropic", request_model="claude-3-5-sonnet-20241022",
        response_model="claude-3-5-sonnet-20241022", input_tokens=100, output_tokens=20, total_tokens=125,
        input_cost_usd=0.0003, output_cost_usd=0.0003, total_cost_usd=0.0006, cost_source="provided",
        latency_ms=950.25, input="Summarize this ticket.", output={"text": "Customer wants a refund."},
    ))


def test_computed_cost_when_no_cost_is_given(prices):
    line = {**PROVIDED, "cost": None, "usage": {"prompt_tokens": 5000, "completion_tokens": 400,
                                                "cache_read_tokens": 3000, "cache_creation_tokens": 1000}}
    _, (row,), _ = decode(jsonl(line), prices)
    # (5000 − 3000 − 1000) × 3.00 + 3000 × 0.30 + 1000 × 3.75 = 7650 µUSD; 400 × 15.00 = 6000 µUSD
    assert row["input_cost_usd"] == pytest.approx(7650e-6)
    assert row["output_cost_usd"] == pytest.approx(6000e-6)
    assert row["total_cost_usd"] == pytest.approx(13650e-6)
    assert row["cost_source"] == "computed"
    assert row["total_tokens"] == 5400


def test_minimal_line(prices):
    _, (row,), events = decode(jsonl(MINIMAL), prices)
    assert events == []
    assert row["trace_id"] == bytes.fromhex(TRACE_2) and row["span_id"] == 0x1111111111111111
    assert row["parent_span_id"] is None and row["status_code"] == 0 and row["status_message"] is None
    assert row["start_time_unix_nano"] == T0 and row["end_time_unix_nano"] == T0 + 500 * MS
    assert row["service_name"] is None and row["attributes"] == "{}" and row["resource_attributes"] == "{}"
    assert_llm_columns(llm(row), llm_expected(span_type="GENERATION", latency_ms=500.0))


@pytest.mark.parametrize("status, code", [("ok", 1), ("error", 2), ("unset", 0), (None, 0)])
def test_status(prices, status, code):
    _, (row,), _ = decode(jsonl({**MINIMAL, "status": status}), prices)
    assert row["status_code"] == code


@pytest.mark.parametrize("span_type", ["GENERATION", "EMBEDDING", "AGENT", "TOOL", "RETRIEVER", "RERANKER",
                                       "CHAIN", "GUARDRAIL", "EVALUATOR", "SPAN"])
def test_span_types(prices, span_type):
    _, (row,), _ = decode(jsonl({**MINIMAL, "span_type": span_type}), prices)
    assert row["span_type"] == span_type


@pytest.mark.parametrize("start, end", [
    ("2026-11-01T00:12:03.123456Z", "2026-11-01T00:12:04.623456Z"),
    ("2026-11-01T02:12:03.123456+02:00", "2026-10-31T19:12:04.623456-05:00"),
    ("2026-11-01T00:12:03.123456+00:00", START_1 + 1_500 * MS),
    (START_1, END_1),
])
def test_time_forms(prices, start, end):
    _, (row,), _ = decode(jsonl({**MINIMAL, "start_time": start, "end_time": end}), prices)
    assert row["start_time_unix_nano"] == START_1
    assert row["end_time_unix_nano"] == END_1
    assert row["latency_ms"] == pytest.approx(1500.0)


def test_time_ns():
    assert llm_spans.time_ns("2026-11-01T00:00:00Z", "t") == T0
    assert llm_spans.time_ns("2026-11-01T00:00:00.000001Z", "t") == T0 + 1000
    assert llm_spans.time_ns(T0 + 7, "t") == T0 + 7  # integer ns keep full precision
    for bad in ("2026-11-01T00:00:00", "yesterday", "", 1.5e18, True, None, [T0]):
        with pytest.raises(DecodeError, match="t "):
            llm_spans.time_ns(bad, "t")


def test_provided_cost_parts_without_total_and_unknown_model(prices):
    parts = {**MINIMAL, "span_id": "2222222222222222", "span_type": "TOOL", "provider": "openai",
             "model": "gpt-4o-mini", "usage": {"prompt_tokens": 10, "completion_tokens": 10},
             "cost": {"prompt": 0.25, "completion": 0.5}}
    only_total = {**parts, "span_id": "3333333333333333", "cost": {"total": 2}}
    unknown = {**MINIMAL, "span_id": "4444444444444444", "provider": "openai", "model": "my-finetune",
               "usage": {"prompt_tokens": 10, "completion_tokens": 10}}
    no_tokens = {**MINIMAL, "span_id": "5555555555555555", "provider": "openai", "model": "gpt-4o-mini"}
    request_only = {**MINIMAL, "span_id": "6666666666666666", "provider": "openai", "request_model": "gpt-4o-mini",
                    "usage": {"completion_tokens": 1000}}
    _, rows, _ = decode(jsonl(parts, only_total, unknown, no_tokens, request_only), prices)
    costs = [(r["input_cost_usd"], r["output_cost_usd"], r["total_cost_usd"], r["cost_source"]) for r in rows]
    assert costs[0] == (0.25, 0.5, 0.75, "provided")
    assert costs[1] == (None, None, 2.0, "provided")
    assert costs[2] == (None, None, None, None)
    assert costs[3] == (None, None, None, None)
    assert costs[4] == (0.0, pytest.approx(600e-6), pytest.approx(600e-6), "computed")  # 1000 × 0.60
    assert rows[4]["request_model"] == "gpt-4o-mini" and rows[4]["response_model"] is None
    assert rows[4]["total_tokens"] == 1000
    assert rows[0]["span_type"] == "TOOL" and rows[0]["total_tokens"] == 20


def test_events_without_time_or_attributes(prices):
    line = {**MINIMAL, "events": [{"name": "retry"}, {"name": "chunk", "time": T0 + 5, "attributes": None}]}
    _, _, events = decode(jsonl(line), prices)
    assert [(e["event_index"], e["time_unix_nano"], e["name"], e["attributes"]) for e in events] == [
        (0, 0, "retry", "{}"), (1, T0 + 5, "chunk", "{}")]


def test_unknown_fields_are_ignored_and_blank_lines_skipped(prices):
    data = orjson.dumps({**MINIMAL, "future_field": {"x": 1}}) + b"\n\n" + orjson.dumps(
        {**MINIMAL, "span_id": "2222222222222222"}) + b"\n"
    _, rows, _ = decode(data, prices)
    assert [r["span_id"] for r in rows] == [0x1111111111111111, 0x2222222222222222]
    assert rows[0]["attributes"] == "{}"


def test_empty_file(prices):
    columns, rows, events = decode(b"", prices)
    assert rows == [] and events == [] and columns.rows == 0


def test_several_files_append(prices):
    columns = Columns(prices=prices)
    assert llm_spans.decode(jsonl(GENERATION), columns) == 3
    assert llm_spans.decode(jsonl(PROVIDED, MINIMAL), columns) == 2
    assert columns.rows == 5
    assert columns.tables["trace_spans"]["name"] == ["chat gpt-4o-mini", "anthropic.messages", "minimal"]
    assert len(columns.tables["trace_events"]["name"]) == 2


# ---------------------------------------------------------------------------------------------------
# Errors: DecodeError naming the line, and the columns left as they were


def _without(line: dict, key: str) -> dict:
    return {k: v for k, v in line.items() if k != key}


ERRORS = [
    ("missing trace_id", _without(MINIMAL, "trace_id"), "missing trace_id"),
    ("missing span_id", _without(MINIMAL, "span_id"), "missing span_id"),
    ("missing name", _without(MINIMAL, "name"), "missing name"),
    ("missing end_time", _without(MINIMAL, "end_time"), "missing end_time"),
    ("bad trace_id", {**MINIMAL, "trace_id": "xyz"}, "trace_id"),
    ("zero span_id", {**MINIMAL, "span_id": "0000000000000000"}, "span_id"),
    ("bad time string", {**MINIMAL, "start_time": "yesterday"}, "start_time"),
    ("naive time", {**MINIMAL, "end_time": "2026-11-01T00:00:01.000001"}, "end_time"),
    ("float time", {**MINIMAL, "start_time": 1.7934912e18}, "start_time"),
    ("bad status", {**MINIMAL, "status": "failed"}, "status"),
    ("bad span_type", {**MINIMAL, "span_type": "LLM"}, "span_type"),
    ("negative tokens", {**MINIMAL, "usage": {"prompt_tokens": -1}}, "usage.prompt_tokens"),
    ("negative reasoning", {**MINIMAL, "usage": {"reasoning_tokens": -3}}, "usage.reasoning_tokens"),
    ("fractional tokens", {**MINIMAL, "usage": {"completion_tokens": 1.5}}, "usage.completion_tokens"),
    ("boolean tokens", {**MINIMAL, "usage": {"total_tokens": True}}, "usage.total_tokens"),
    ("string cost", {**MINIMAL, "cost": {"total": "0.1"}}, "cost.total"),
    ("string latency", {**MINIMAL, "latency": {"ttft_ms": "fast"}}, "latency.ttft_ms"),
    ("usage not an object", {**MINIMAL, "usage": [1, 2]}, "usage"),
    ("metadata not an object", {**MINIMAL, "metadata": "prod"}, "metadata"),
    ("event without name", {**MINIMAL, "events": [{"time": T0}]}, "event 0"),
    ("event bad time", {**MINIMAL, "events": [{"name": "e", "time": "noon"}]}, "event 0 time"),
    ("non-object line", [MINIMAL], "expected a JSON object"),
    ("string line", "a span", "expected a JSON object"),
]


@pytest.mark.parametrize("bad, needle", [(e[1], e[2]) for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_name_the_line_and_leave_columns_unchanged(prices, bad, needle):
    columns = Columns(prices=prices)
    llm_spans.decode(jsonl(GENERATION), columns)
    before_tables, before_rows = copy.deepcopy(columns.tables), columns.rows
    good = {**MINIMAL, "events": [{"name": "fine", "time": T0}]}
    llm_spans.decode(jsonl(good, bad), columns)
    [reject] = columns.rejects
    assert reject.record_path == "line 2"
    assert needle in reject.reason, reject.reason
    expected = Columns(prices=prices)
    llm_spans.decode(jsonl(GENERATION, good), expected)
    assert columns.tables == expected.tables  # the bad line added nothing, not even half a record
    assert columns.rows == expected.rows == before_rows + 2
    assert before_tables["trace_spans"]["name"] == columns.tables["trace_spans"]["name"][:1]


def test_not_json_line(prices):
    columns = Columns(prices=prices)
    assert llm_spans.decode(jsonl(MINIMAL, MINIMAL) + b"{oops\n", columns) == 2
    [reject] = columns.rejects
    assert reject.record_path == "line 3" and reject.reason.startswith("not JSON") and reject.record is None
    assert columns.rows == 2


def test_error_on_the_first_line(prices):
    columns = Columns(prices=prices)
    llm_spans.decode(jsonl({**MINIMAL, "status": "OK"}, MINIMAL), columns)
    [reject] = columns.rejects
    assert reject.record_path == "line 1" and reject.reason.startswith("status")
    assert orjson.loads(reject.record) == {**MINIMAL, "status": "OK"}
    assert columns.tables["trace_spans"]["name"] == [MINIMAL["name"]]


def test_error_line_number_counts_blank_lines(prices):
    data = orjson.dumps(MINIMAL) + b"\n\n" + orjson.dumps({**MINIMAL, "status": "bad"}) + b"\n"
    columns = Columns(prices=prices)
    llm_spans.decode(data, columns)
    assert [r.record_path for r in columns.rejects] == ["line 3"]


def test_lower_case_rfc3339_separators(prices):
    _, (row,), _ = decode(jsonl({**MINIMAL, "start_time": "2026-11-01t00:00:00z"}), prices)
    assert row["start_time_unix_nano"] == T0


@pytest.mark.parametrize("bad", [{"cost": {"total": -0.5}}, {"latency": {"total_ms": -10}},
                                 {"latency": {"ttft_ms": -1}}, {"start_time": -5}],
                         ids=["cost", "total_ms", "ttft_ms", "start_time"])
def test_negative_numbers_are_rejected(prices, bad):
    columns = Columns(prices=prices)
    assert llm_spans.decode(jsonl({**MINIMAL, **bad}), columns) == 0
    assert [r.record_path for r in columns.rejects] == ["line 1"]


@pytest.mark.parametrize("bad", [{"model": 123}, {"request_model": 4}, {"status_message": 500},
                                 {"metadata": {"session_id": 42}}, {"metadata": {"user_id": 7}},
                                 {"metadata": {"environment": True}}, {"metadata": {"service_name": 1}}],
                         ids=["model", "request_model", "status_message", "session_id", "user_id", "environment",
                              "service_name"])
def test_non_string_fields_fail_at_decode_not_in_frames(prices, bad):
    columns = Columns(prices=prices)
    llm_spans.decode(jsonl({**MINIMAL, **bad}), columns)
    if columns.rejects:
        assert [r.record_path for r in columns.rejects] == ["line 1"]
        assert columns.rows == 0
        return
    build_frames(columns)  # if decoding accepted it, the frames must build


def test_finish_reasons_string_is_not_split_into_characters(prices):
    columns = Columns(prices=prices)
    llm_spans.decode(jsonl({**MINIMAL, "finish_reasons": "stop"}), columns)
    if columns.rejects:
        assert [r.record_path for r in columns.rejects] == ["line 1"]
        return
    assert [row["finish_reasons"] for row in decoded_rows(columns, "trace_spans")] == [["stop"]]


# ---------------------------------------------------------------------------------------------------
# Frames


def test_frames_dtypes_and_values(prices):
    columns, _, _ = decode(jsonl(GENERATION, PROVIDED, MINIMAL), prices)
    frames = build_frames(columns)
    spans = frames["trace_spans"]
    assert spans.height == 3
    schema = spans.schema
    assert schema["trace_id"] == pl.Binary and schema["span_id"] == pl.Int64
    assert schema["start_time"] == pl.Datetime("us", "UTC") and schema["duration_ns"] == pl.Int64
    assert schema["finish_reasons"] == pl.List(pl.String)
    for name in ("input_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens",
                 "cache_creation_input_tokens", "reasoning_tokens"):
        assert schema[name] == pl.Int64, name
    for name in ("input_cost_usd", "output_cost_usd", "total_cost_usd", "latency_ms", "ttft_ms"):
        assert schema[name] == pl.Float64, name
    for name in ("span_type", "operation", "provider", "request_model", "response_model", "cost_source",
                 "session_id", "user_id", "environment", "input", "output"):
        assert schema[name] == pl.String, name
    assert spans["finish_reasons"].to_list() == [["stop"], None, None]
    assert spans["total_tokens"].to_list() == [1500, 125, None]
    assert spans["cost_source"].to_list() == ["computed", "provided", None]
    assert spans["latency_ms"].to_list() == [1500.0, 950.25, 500.0]
    assert spans["duration_ns"].to_list() == [1_500 * MS, 1_000 * MS, 500 * MS]
    assert spans["status_code"].to_list() == [1, 2, 0]
    assert spans["scope_name"].to_list() == ["llm_spans"] * 3
    assert str(spans["start_time"][0]) == "2026-11-01 00:12:03.123456+00:00"
    events = frames["trace_events"]
    assert events.schema["time"] == pl.Datetime("us", "UTC") and events.schema["event_index"] == pl.Int32
    assert events["name"].to_list() == ["first_token", "done"]
