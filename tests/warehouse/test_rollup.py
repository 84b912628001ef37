"""The traces rollup made from the chunks' partials (a new hour copied straight in: warehouse/rollup.py,
sql/merge/new_traces.sql) equals the rollup recomputed from trace_spans (sql/merge/traces.sql), for any spans
split over any chunks, and for traces that already had spans from an earlier hour (whose sessions may change);
sums beyond their column's type are null. On a real PostgreSQL server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory_etl.tables import JSON, TRACE_SPANS
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.ddl import ensure_schema
from observatory_etl.warehouse.load import PartitionLoad
from observatory_etl.warehouse.partitions import create_partitions
from observatory_etl.warehouse.rollup import trace_partials
from tests.conftest import HOUR, execute, query

TRACE_IDS = [bytes([n]) * 16 for n in (1, 2, 3)]
# start times with ties (the span_id decides), an unset one (stored as the epoch) and one in the day before
STARTS = [None, HOUR - timedelta(minutes=5), HOUR, HOUR + timedelta(seconds=1), HOUR + timedelta(minutes=30)]
COSTS = [0.1, 0.2, 0.3, 1e-7, 3.3333333333333335, 123.45678901234567, 0.0, 2.5e-05]

span = st.fixed_dictionaries({
    "trace_id": st.sampled_from(TRACE_IDS),
    "span_id": st.integers(-3, 3) | st.sampled_from([-(2**63), 2**63 - 1]),
    "parent_span_id": st.none() | st.integers(-3, 3),
    "name": st.sampled_from(["root", "chat", "tool", ""]),
    "service_name": st.none() | st.sampled_from(["api", "worker"]),
    "start_time": st.sampled_from(STARTS),
    "end_offset_ms": st.none() | st.integers(0, 90 * 60_000),
    "status_code": st.integers(0, 2),
    "span_type": st.none() | st.sampled_from(["GENERATION", "EMBEDDING", "TOOL"]),
    # counts and costs whose sums can exceed bigint / double precision (then stored as null)
    "input_tokens": st.none() | st.integers(0, 2**40) | st.sampled_from([2**62, 2**63 - 1]),
    "output_tokens": st.none() | st.integers(0, 10**6),
    "total_tokens": st.none() | st.integers(0, 10**6),
    "total_cost_usd": st.none() | st.sampled_from(COSTS) | st.floats(0, 1e4, allow_nan=False) | st.just(1e308),
    "session_id": st.none() | st.sampled_from(["s1", "s2"]),
    "user_id": st.none() | st.sampled_from(["u1", "u2"]),
    "earlier": st.booleans(),  # loaded by an earlier hour's load, if its trace is one of those (below)
})
spans_and_cuts = st.tuples(
    st.lists(span, min_size=1, max_size=40, unique_by=lambda s: (s["trace_id"], s["span_id"], s["start_time"])),
    st.lists(st.integers(1, 39), min_size=1, max_size=4),  # where the later load's spans are cut into chunks
    st.sets(st.sampled_from(TRACE_IDS), max_size=2),  # the traces an earlier hour has spans of
)


def _frame(rows: list[dict]) -> pl.DataFrame:
    """A trace_spans frame of ``rows`` (the columns the rollup reads; the others null, '{}' or 0)."""
    columns = {}
    for column in TRACE_SPANS.columns:
        name = column.name
        if name == "end_time":
            values = [None if r["start_time"] is None or r["end_offset_ms"] is None
                      else r["start_time"] + timedelta(milliseconds=r["end_offset_ms"]) for r in rows]
        elif name in rows[0]:
            values = [r[name] for r in rows]
        elif column.type is JSON:
            values = ["{}"] * len(rows)
        elif name in ("kind", "duration_ns"):
            values = [0] * len(rows)
        else:
            values = [None] * len(rows)
        columns[name] = pl.Series(name, values, dtype=column.type.dtype)
    return pl.DataFrame(columns)


@pytest.fixture(scope="module")
def schemas(database_url):
    names = ("rollup_partials", "rollup_spans")
    conn = connect(database_url)
    try:
        for name in names:
            ensure_schema(conn, name)
            create_partitions(conn, name, (HOUR - timedelta(days=1)).date(), (HOUR + timedelta(days=1)).date())
    finally:
        conn.close()
    yield names
    for name in names:
        execute(database_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _load(database_url: str, schema: str, key: str, chunks: list[pl.DataFrame], direct: bool) -> None:
    conn = connect(database_url)
    try:
        with PartitionLoad(conn, schema, key, direct=direct) as load:
            for chunk in chunks:
                load.chunk({"trace_spans": chunk})
    finally:
        conn.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans_and_cuts)
def test_the_rollup_from_partials_equals_the_rollup_from_trace_spans(database_url, schemas, case):
    rows, cuts, earlier_traces = case
    partials, reference = schemas
    for schema in schemas:
        execute(database_url, f'TRUNCATE "{schema}".trace_spans, "{schema}".traces, "{schema}".sessions')
    earlier = [r for r in rows if r["earlier"] and r["trace_id"] in earlier_traces]
    later = [r for r in rows if not (r["earlier"] and r["trace_id"] in earlier_traces)]
    # the earlier hour, then the later one copied straight in, cut into chunks (a trace's spans across chunks)
    if earlier:
        _load(database_url, partials, "h1", [_frame(earlier)], direct=True)
    if later:
        frame = _frame(later)
        bounds = sorted({0, frame.height, *(min(c, frame.height) for c in cuts)})
        _load(database_url, partials, "h2", [frame[a:b] for a, b in zip(bounds, bounds[1:])], direct=True)
    # the reference: every span merged, every trace recomputed from trace_spans
    _load(database_url, reference, "all", [_frame(rows)], direct=False)
    for table in ("traces", "sessions"):
        got = query(database_url, f'SELECT * FROM "{partials}".{table} ORDER BY 1')
        want = query(database_url, f'SELECT * FROM "{reference}".{table} ORDER BY 1')
        assert got == want, table


def test_partials_of_one_chunk():
    frame = _frame([
        {"trace_id": TRACE_IDS[0], "span_id": 2, "parent_span_id": 1, "name": "child", "service_name": "w",
         "start_time": HOUR, "end_offset_ms": 5_000, "status_code": 2, "span_type": "GENERATION",
         "input_tokens": 10, "output_tokens": None, "total_tokens": 12, "total_cost_usd": 0.5,
         "session_id": None, "user_id": "u1"},
        {"trace_id": TRACE_IDS[0], "span_id": 1, "parent_span_id": None, "name": "root", "service_name": "api",
         "start_time": HOUR + timedelta(seconds=1), "end_offset_ms": 1_000, "status_code": 0, "span_type": "TOOL",
         "input_tokens": 99, "output_tokens": None, "total_tokens": None, "total_cost_usd": 7.0,
         "session_id": "s1", "user_id": "u2"},
    ])
    [row] = trace_partials(frame).to_dicts()
    assert (row["first_span_id"], row["first_name"], row["root_span_id"], row["root_name"]) == (2, "child", 1, "root")
    assert (row["first_start"], row["last_start"]) == (HOUR, HOUR + timedelta(seconds=1))
    assert row["end_time"] == HOUR + timedelta(seconds=5)
    assert (row["span_count"], row["error_count"], row["llm_call_count"]) == (2, 1, 1)
    # tokens and costs of the LLM spans only; a sum over no value is null
    assert (row["input_tokens"], row["output_tokens"], row["total_tokens"], row["llm_costs"]) == (10, None, 12, [0.5])
    assert (row["session_id"], row["session_span_id"], row["user_id"], row["user_span_id"]) == ("s1", 1, "u1", 2)


def _span(span_id: int, start: datetime, **values) -> dict:
    """One span row for :func:`_frame`: a GENERATION span of TRACE_IDS[0] unless ``values`` say otherwise."""
    return {"trace_id": TRACE_IDS[0], "span_id": span_id, "parent_span_id": None, "name": "chat", "service_name": "api",
            "start_time": start, "end_offset_ms": 1_000, "status_code": 0, "span_type": "GENERATION",
            "input_tokens": None, "output_tokens": None, "total_tokens": None, "total_cost_usd": None,
            "session_id": None, "user_id": None, **values}


def _empty_schema(database_url: str, schema: str) -> None:
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        create_partitions(conn, schema, (HOUR - timedelta(days=1)).date(), (HOUR + timedelta(days=1)).date())
    finally:
        conn.close()


@pytest.mark.parametrize("direct", [True, False])
def test_a_trace_whose_spans_have_no_start_time_is_rolled_up(database_url, schema, direct):
    """An unset start time is stored as the epoch; the traces rollup reads that day too (a merge used to read
    no day at all for such a trace, and wrote no traces row)."""
    _empty_schema(database_url, schema)
    row = {"trace_id": TRACE_IDS[0], "span_id": 1, "parent_span_id": None, "name": "root", "service_name": "api",
           "start_time": None, "end_offset_ms": None, "status_code": 0, "span_type": None, "input_tokens": None,
           "output_tokens": None, "total_tokens": None, "total_cost_usd": None, "session_id": None, "user_id": None}
    _load(database_url, schema, "h", [_frame([row])], direct=direct)
    assert query(database_url, f'SELECT span_count, root_span_name, start_time FROM "{schema}".traces') == [
        (1, "root", datetime(1970, 1, 1, tzinfo=timezone.utc))]


@pytest.mark.parametrize("direct", [True, False])
def test_sums_beyond_their_column_type_are_stored_as_null_and_the_hour_loads(database_url, schema, direct):
    """Token counts within bigint whose sum is not (and costs within double precision whose sum is not) used
    to fail the hour's rollup (SQLSTATE 22003), blocking it; such a trace's or session's sum is now null, as a
    span's count beyond bigint is. Both rollups (from partials and from trace_spans) agree."""
    _empty_schema(database_url, schema)
    big = 2**63 - 1
    spans = [
        # trace 1: input tokens and costs overflow, output tokens do not
        _span(1, HOUR, input_tokens=big, output_tokens=5, total_cost_usd=1e308, session_id="s"),
        _span(2, HOUR + timedelta(seconds=1), input_tokens=1, output_tokens=6, total_cost_usd=1e308),
        # traces 2 and 3: each trace's output sum fits, the session's does not
        _span(3, HOUR, trace_id=TRACE_IDS[1], output_tokens=big, total_tokens=7, session_id="t"),
        _span(4, HOUR, trace_id=TRACE_IDS[2], output_tokens=big, total_tokens=8, session_id="t"),
    ]
    _load(database_url, schema, "h", [_frame(spans[:3]), _frame(spans[3:])], direct=direct)
    assert query(database_url, f'SELECT input_tokens, output_tokens, total_tokens, total_cost_usd FROM "{schema}".traces '
                               "ORDER BY trace_id") == [(None, 11, None, None), (None, big, 7, None), (None, big, 8, None)]
    assert query(database_url, f'SELECT session_id, trace_count, input_tokens, output_tokens, total_tokens, total_cost_usd '
                               f'FROM "{schema}".sessions ORDER BY 1') == [("s", 1, None, 11, None, None),
                                                                          ("t", 2, None, None, 15, None)]
    assert query(database_url, f'SELECT count(*) FROM "{schema}".trace_spans') == [(4,)]
    # the usage views' sums likewise (they used to fail the query)
    assert query(database_url, f'SELECT input_tokens, output_tokens, total_tokens FROM "{schema}".llm_usage_hourly') == [
        (None, None, 15)]


@pytest.mark.parametrize("direct", [True, False])
def test_a_trace_that_moves_to_another_session_leaves_the_old_one(database_url, schema, direct):
    """A later load brings an earlier span of a trace with another session_id: the trace moves to that session
    (a trace's session is its earliest span's), and its old session is recomputed without it (the sessions
    rollup used to recompute only the sessions the touched traces had after their rollup, so the old session
    kept counting the trace), or deleted when no trace is left in it."""
    _empty_schema(database_url, schema)
    later = HOUR + timedelta(minutes=30)
    _load(database_url, schema, "h1", [_frame([
        _span(1, later, session_id="old", input_tokens=10),
        _span(2, later, trace_id=TRACE_IDS[1], session_id="stays", input_tokens=1),
        _span(3, later, trace_id=TRACE_IDS[2], session_id="stays", input_tokens=2),
    ])], direct=True)
    assert query(database_url, f'SELECT session_id, trace_count FROM "{schema}".sessions ORDER BY 1') == [
        ("old", 1), ("stays", 2)]
    _load(database_url, schema, "h2", [_frame([
        _span(4, HOUR, session_id="new", input_tokens=20),
        _span(5, HOUR, trace_id=TRACE_IDS[2], session_id="new", input_tokens=3),
    ])], direct=direct)
    assert query(database_url, f'SELECT session_id, trace_count, input_tokens FROM "{schema}".sessions ORDER BY 1') == [
        ("new", 2, 35), ("stays", 1, 1)]
