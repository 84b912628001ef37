"""LLM telemetry end to end on a real PostgreSQL: canonical columns, trace and session rollups across
hours, the usage views, native LLM-span files, and cost recomputation after a price change."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from observatory_etl.llm.prices import PriceTable
from observatory_etl.pipeline.costs import recompute_costs
from observatory_etl.pipeline.hour import load_hour
from tests.conftest import HOUR, execute, land, query, snapshot

UTC = timezone.utc
T = HOUR.timestamp()  # spans start at the landing hour
TRACE_1 = "0af7651916cd43dd8448eb211c80319c"
TRACE_2 = "1bf7651916cd43dd8448eb211c80319d"


def kv(attributes: dict) -> list[dict]:
    out = []
    for key, value in attributes.items():
        if isinstance(value, bool):
            any_value = {"boolValue": value}
        elif isinstance(value, int):
            any_value = {"intValue": str(value)}
        elif isinstance(value, float):
            any_value = {"doubleValue": value}
        elif isinstance(value, list):
            any_value = {"arrayValue": {"values": [{"stringValue": v} for v in value]}}
        else:
            any_value = {"stringValue": value}
        out.append({"key": key, "value": any_value})
    return out


def span(trace, span_id, parent, name, start_s, end_s, attributes, *, error=False, events=()):
    body = {
        "traceId": trace, "spanId": span_id, "name": name, "kind": 3,
        "startTimeUnixNano": str(int((T + start_s) * 1e9)), "endTimeUnixNano": str(int((T + end_s) * 1e9)),
        "attributes": kv(attributes),
    }
    if parent:
        body["parentSpanId"] = parent
    if error:
        body["status"] = {"code": 2, "message": "429 Too Many Requests"}
    if events:
        body["events"] = [
            {"timeUnixNano": str(int((T + t) * 1e9)), "name": n, "attributes": kv(a)} for t, n, a in events
        ]
    return body


def request(*spans, resource=None):
    resource = resource or {"service.name": "support-agent", "deployment.environment.name": "prod"}
    return orjson.dumps(
        {"resourceSpans": [{"resource": {"attributes": kv(resource)},
                            "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}]}]}
    )


def chat(trace, span_id, parent, start_s, end_s, input_tokens, output_tokens, cost, **extra):
    """An OTel GenAI (new names) chat span with an OpenInference provided cost."""
    attributes = {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18", "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens, "llm.cost.total": cost,
    }
    attributes.update(extra)
    return span(trace, span_id, parent, "chat gpt-4o-mini", start_s, end_s, attributes,
                error=attributes.pop("error", False))


@pytest.fixture
def two_hours(landing):
    """Trace 1 (session s-1, user u-1) splits over two landing hours; trace 2 is in the same session."""
    agent = span(TRACE_1, "b7ad6b7169203331", None, "invoke_agent support", 0, 30,
                 {"gen_ai.operation.name": "invoke_agent", "session.id": "s-1", "user.id": "u-1"})
    first = chat(TRACE_1, "00f067aa0ba90201", "b7ad6b7169203331", 1, 3, 100, 50, 0.01,
                 **{"gen_ai.response.time_to_first_chunk": 0.25})
    late = chat(TRACE_1, "00f067aa0ba90202", "b7ad6b7169203331", 4, 8, 200, 20, 0.02, error=True)
    other_agent = span(TRACE_2, "c7ad6b7169203331", None, "invoke_agent support", 40, 45,
                       {"gen_ai.operation.name": "invoke_agent", "session.id": "s-1", "user.id": "u-1"})
    other = chat(TRACE_2, "00f067aa0ba90203", "c7ad6b7169203331", 41, 42, 10, 5, 0.001)
    land(landing, HOUR, "traces_a.json", request(agent, first))
    land(landing, HOUR + timedelta(hours=1), "traces_b.json", request(late, other_agent, other))
    return landing


def load_both(landing, database_url, schema, **kwargs):
    for hour in (HOUR, HOUR + timedelta(hours=1)):
        load_hour(hour, landing_url=str(landing), database_url=database_url, schema=schema, **kwargs)


def test_trace_and_session_rollups_across_hours(two_hours, database_url, schema):
    load_both(two_hours, database_url, schema)
    start = datetime.fromtimestamp(T, UTC)

    traces = query(
        database_url,
        f"""SELECT trace_id::text, span_count, error_count, llm_call_count, input_tokens, output_tokens, total_tokens,
                   total_cost_usd, session_id, user_id FROM "{schema}".traces ORDER BY 1""",
    )
    assert traces == [
        ("0af76519-16cd-43dd-8448-eb211c80319c", 3, 1, 2, 300, 70, 370, pytest.approx(0.03), "s-1", "u-1"),
        ("1bf76519-16cd-43dd-8448-eb211c80319d", 2, 0, 1, 10, 5, 15, pytest.approx(0.001), "s-1", "u-1"),
    ]
    assert query(database_url, f'SELECT * FROM "{schema}".sessions') == [
        ("s-1", "u-1", start, start + timedelta(seconds=45), 2, 3, 310, 75, 385, pytest.approx(0.031))
    ]
    spans = query(
        database_url,
        f"""SELECT span_type, operation, provider, request_model, response_model, cost_source, latency_ms, ttft_ms,
                   environment FROM "{schema}".trace_spans WHERE span_id = "{schema}".span_id('00f067aa0ba90201')""",
    )
    assert spans == [("GENERATION", "chat", "openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "provided", 2000.0, 250.0, "prod")]

    before = snapshot(database_url, schema)
    load_both(two_hours, database_url, schema)
    assert snapshot(database_url, schema) == before


def test_usage_views(two_hours, database_url, schema):
    load_both(two_hours, database_url, schema)

    [hourly] = query(
        database_url,
        f"""SELECT hour, provider, model, calls, errors, input_tokens, output_tokens, total_tokens, total_cost_usd,
                   p50_latency_ms, p95_latency_ms, p50_ttft_ms FROM "{schema}".llm_usage_hourly""",
    )
    # Three calls of 2000, 4000 and 1000 ms: p50 = 2000, p95 = 2000 + 0.9 * (4000 - 2000) = 3800.
    assert hourly == (
        datetime.fromtimestamp(T, UTC), "openai", "gpt-4o-mini", 3, 1, 310, 75, 385,
        pytest.approx(0.031), 2000.0, pytest.approx(3800.0), 250.0,
    )
    assert query(
        database_url,
        f'SELECT user_id, calls, errors, traces, sessions, total_tokens, total_cost_usd FROM "{schema}".llm_usage_by_user',
    ) == [("u-1", 3, 1, 2, 1, 385, pytest.approx(0.031))]
    assert query(
        database_url,
        f'SELECT session_id, user_id, calls, errors, traces, total_tokens FROM "{schema}".llm_usage_by_session',
    ) == [("s-1", "u-1", 3, 1, 2, 385)]


def write_prices(path, input_per_mtok, output_per_mtok):
    path.write_text(
        "# version: test\n"
        "provider,model_pattern,input_per_mtok,output_per_mtok,cached_input_per_mtok,cache_write_per_mtok,effective_date\n"
        f"openai,gpt-4o-mini*,{input_per_mtok},{output_per_mtok},,,2024-01-01\n"
    )
    return PriceTable.load(path)


def test_computed_cost_and_recompute_after_a_price_change(landing, database_url, schema, tmp_path):
    priced = span(TRACE_1, "00f067aa0ba90201", None, "chat gpt-4o-mini", 0, 1, {
        "gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 500, "session.id": "s-9",
    })
    provided = chat(TRACE_1, "00f067aa0ba90202", None, 2, 3, 1000, 500, 0.5)
    land(landing, HOUR, "traces_a.json", request(priced, provided))
    old = write_prices(tmp_path / "old.csv", 1.0, 2.0)
    load_hour(HOUR, landing_url=str(landing), database_url=database_url, schema=schema, prices=old)

    costs = f'SELECT cost_source, input_cost_usd, output_cost_usd, total_cost_usd FROM "{schema}".trace_spans ORDER BY span_id'
    assert query(database_url, costs) == [
        ("computed", pytest.approx(1000 * 1.0e-6), pytest.approx(500 * 2.0e-6), pytest.approx(0.002)),
        ("provided", None, None, 0.5),
    ]

    new = write_prices(tmp_path / "new.csv", 2.0, 8.0)
    result = recompute_costs(HOUR, HOUR + timedelta(hours=1), database_url=database_url, schema=schema, prices=new)
    assert (result.spans_considered, result.spans_changed, result.price_table_version) == (1, 1, "test")
    assert query(database_url, costs) == [
        ("computed", pytest.approx(0.002), pytest.approx(0.004), pytest.approx(0.006)),
        ("provided", None, None, 0.5),  # a provided cost is never recomputed
    ]
    assert query(database_url, f'SELECT total_cost_usd FROM "{schema}".traces') == [(pytest.approx(0.506),)]
    # The provided span has no session of its own but shares the trace, so the session holds both.
    assert query(database_url, f'SELECT total_cost_usd FROM "{schema}".sessions') == [(pytest.approx(0.506),)]

    again = recompute_costs(HOUR, HOUR + timedelta(hours=1), database_url=database_url, schema=schema, prices=new)
    assert again.spans_changed == 0


def test_native_llm_span_files(landing, database_url, schema):
    lines = [
        {"trace_id": TRACE_1, "span_id": "00f067aa0ba90201", "parent_span_id": None, "name": "summarize",
         "provider": "Anthropic", "model": "claude-3-5-haiku-20241022", "request_model": "claude-3-5-haiku-latest",
         "start_time": "2026-11-01T00:00:01.000000Z", "end_time": "2026-11-01T00:00:03.500000Z",
         "usage": {"prompt_tokens": 120, "completion_tokens": 30}, "cost": {"prompt": 0.001, "completion": 0.002},
         "latency": {"total_ms": 2500.0, "ttft_ms": 300.0}, "input": [{"role": "user", "content": "hi"}],
         "output": [{"role": "assistant", "content": "hello"}], "status": "ok",
         "metadata": {"user_id": "u-7", "session_id": "s-7", "environment": "prod", "service_name": "batch", "tags": ["a"]},
         "attributes": {"team": "x"}, "events": [{"name": "retry", "time": 1793491202000000000}]},
    ]
    land(landing, HOUR, "llm_spans_0001.jsonl.gz", gzip.compress(b"\n".join(orjson.dumps(l) for l in lines)))
    result = load_hour(HOUR, landing_url=str(landing), database_url=database_url, schema=schema)

    assert result.files["llm_spans"] == 1 and result.records["llm_spans"] == 2
    row = query(
        database_url,
        f"""SELECT name, service_name, scope_name, span_type, provider, request_model, response_model, input_tokens,
                   output_tokens, total_tokens, input_cost_usd, output_cost_usd, total_cost_usd, cost_source,
                   latency_ms, ttft_ms, session_id, user_id, environment, input::text, output::text, attributes::text
            FROM "{schema}".trace_spans""",
    )
    assert row == [(
        "summarize", "batch", "llm_spans", "GENERATION", "anthropic", "claude-3-5-haiku-latest",
        "claude-3-5-haiku-20241022", 120, 30, 150, 0.001, 0.002, pytest.approx(0.003), "provided", 2500.0, 300.0,
        "s-7", "u-7", "prod", '[{"role": "user", "content": "hi"}]', '[{"role": "assistant", "content": "hello"}]',
        '{"tags": ["a"], "team": "x"}',
    )]
    assert query(database_url, f'SELECT name FROM "{schema}".trace_events') == [("retry",)]
    assert query(database_url, f'SELECT llm_call_count, total_tokens, session_id, user_id FROM "{schema}".traces') == [
        (1, 150, "s-7", "u-7")
    ]


# The traces and trace_spans tables as the first release created them, before the LLM columns.
FIRST_RELEASE_DDL = [
    """CREATE TABLE traces (
        trace_id uuid PRIMARY KEY, service_name text, root_span_name text, start_time timestamptz,
        end_time timestamptz, duration_ns bigint, span_count integer NOT NULL, error_count integer NOT NULL)""",
    """CREATE TABLE trace_spans (
        trace_id uuid NOT NULL, span_id bigint NOT NULL, parent_span_id bigint, trace_state text, name text NOT NULL,
        kind smallint NOT NULL, service_name text, scope_name text, scope_version text, start_time timestamptz,
        end_time timestamptz, duration_ns bigint NOT NULL, status_code smallint NOT NULL, status_message text,
        attributes jsonb NOT NULL, resource_attributes jsonb NOT NULL, scope_attributes jsonb NOT NULL,
        PRIMARY KEY (trace_id, span_id))""",
]


def test_warehouse_of_the_first_release_is_upgraded(two_hours, database_url, schema):
    execute(database_url, f'CREATE SCHEMA "{schema}"')
    for statement in FIRST_RELEASE_DDL:
        execute(database_url, statement.replace("CREATE TABLE ", f'CREATE TABLE "{schema}".'))
    load_both(two_hours, database_url, schema)
    assert query(database_url, f'SELECT llm_call_count, total_tokens, session_id FROM "{schema}".traces ORDER BY trace_id') == [
        (2, 370, "s-1"), (1, 15, "s-1"),
    ]


def test_token_sums_beyond_bigint_do_not_block_the_hour(landing, database_url, schema):
    """Two chat spans of one trace whose input token counts each fit in bigint but whose sum does not: the hour
    loads (its rollup used to fail with SQLSTATE 22003, blocking the hour at every retry), both spans keep their
    counts, and the trace's and session's input token sums are null; the other sums are exact."""
    big = 2**63 - 1
    land(landing, HOUR, "traces_big.json", request(
        chat(TRACE_1, "00f067aa0ba90201", None, 1, 3, big, 50, 0.01, **{"session.id": "s-big"}),
        chat(TRACE_1, "00f067aa0ba90202", None, 4, 8, 1, 20, 0.02),
    ))
    result = load_hour(HOUR, landing_url=str(landing), database_url=database_url, schema=schema)
    assert result.load.merged["trace_spans"] == 2 and not result.records_rejected
    assert query(database_url, f'SELECT input_tokens FROM "{schema}".trace_spans ORDER BY span_id') == [(big,), (1,)]
    assert query(database_url, f'SELECT input_tokens, output_tokens, round(total_cost_usd::numeric, 6)::text '
                               f'FROM "{schema}".traces') == [(None, 70, "0.030000")]
    assert query(database_url, f'SELECT session_id, input_tokens, output_tokens FROM "{schema}".sessions') == [
        ("s-big", None, 70)]
