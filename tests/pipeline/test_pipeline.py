"""The load end to end on a real PostgreSQL: landing files → final tables, reruns, split traces, bad files."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta, timezone

import orjson
import pytest
import zstandard

from observatory_etl import synth
from observatory_etl.ingest import landing as landing_mod
from observatory_etl.pipeline import hour
from observatory_etl.pipeline.hour import load_hour
from tests.conftest import HOUR, counts, execute, land, query, snapshot

UTC = timezone.utc


def run(hour, landing, database_url, schema, **kwargs):
    return load_hour(hour, landing_url=str(landing), database_url=database_url, schema=schema, **kwargs)


def span_int(hex_id: str) -> int:
    return int.from_bytes(bytes.fromhex(hex_id), "big", signed=True)


def land_official(landing, fixtures_dir):
    """The official examples, as the collector would land them: plain, gzip and zstd."""
    land(landing, HOUR, "traces_0001.json", (fixtures_dir / "trace.json").read_bytes(), minute=5)
    land(landing, HOUR, "logs_0001.json.gz", gzip.compress((fixtures_dir / "logs.json").read_bytes()), minute=5)
    land(landing, HOUR, "metrics_0001.json.zst", zstandard.compress((fixtures_dir / "metrics.json").read_bytes()), minute=5)


def test_official_examples_reach_every_column(landing, database_url, schema, fixtures_dir):
    land_official(landing, fixtures_dir)
    result = run(HOUR, landing, database_url, schema)

    assert result.files == {"traces": 1, "metrics": 1, "logs": 1, "llm_spans": 0}
    assert result.load.merged == {
        "traces": 1, "sessions": 0, "trace_spans": 1, "trace_events": 0, "trace_links": 0, "metrics": 3,
        "metric_data_points": 3, "logs": 1,
    }
    trace_id = uuid.UUID("5b8efff798038103d269b633813fc60c")
    t0 = datetime(2018, 12, 13, 14, 51, 0, tzinfo=UTC)
    resource = {"service.name": "my.service"}
    scope_attrs = {"my.scope.attribute": "some scope attribute"}

    [trace] = query(database_url, f'SELECT * FROM "{schema}".traces')
    assert trace == (
        trace_id, "my.service", "I'm a server span", t0, t0 + timedelta(seconds=1), 1_000_000_000, 1, 0,
        0, None, None, None, None, None, None,  # no LLM spans: no calls, tokens, cost, session or user
    )

    [span] = query(database_url, f'SELECT * FROM "{schema}".trace_spans')
    assert span[:15] == (
        trace_id, span_int("EEE19B7EC3C1B174"), span_int("EEE19B7EC3C1B173"), None, "I'm a server span", 2,
        "my.service", "my.library", "1.0.0", t0, t0 + timedelta(seconds=1), 1_000_000_000, 0, None,
        span[14],
    )
    assert json.loads(span[14]) == {"my.span.attr": "some value"}
    assert json.loads(span[15]) == resource
    assert json.loads(span[16]) == scope_attrs
    assert span[17:] == (None,) * 23  # not a GenAI span: every canonical LLM column is NULL
    # The hex helpers give back the ids as the examples wrote them (lower case).
    assert query(
        database_url,
        f"""SELECT "{schema}".span_id_hex(span_id), "{schema}".trace_id_hex(trace_id) FROM "{schema}".trace_spans
            WHERE trace_id = '5B8EFFF798038103D269B633813FC60C' AND span_id = "{schema}".span_id('EEE19B7EC3C1B174')""",
    ) == [("eee19b7ec3c1b174", "5b8efff798038103d269b633813fc60c")]

    [log] = query(database_url, f'SELECT * FROM "{schema}".logs')
    t_log = datetime(2018, 12, 13, 14, 51, 0, 300000, tzinfo=UTC)
    assert log[1:14] == (
        t_log, t_log, trace_id, span_int("EEE19B7EC3C1B174"), 0, 0, "Information", '"Example log record"', None,
        "my.service", "my.library", "1.0.0", log[13],
    )
    assert json.loads(log[13]) == scope_attrs
    assert json.loads(log[14]) == {
        "string.attribute": "some string",
        "boolean.attribute": True,
        "int.attribute": 10,
        "double.attribute": 637.704,
        "array.attribute": ["many", "values"],
        "map.attribute": {"some.map.key": "some value"},
    }
    assert json.loads(log[15]) == resource

    metrics = {row[1]: row for row in query(database_url, f'SELECT * FROM "{schema}".metrics')}
    assert sorted(metrics) == ["my.counter", "my.gauge", "my.histogram"]
    assert [metrics[n][2:8] for n in sorted(metrics)] == [
        ("my.service", "sum", "1", "I`m a Counter", "my.library", "1.0.0"),
        ("my.service", "gauge", "1", "I`m a Gauge", "my.library", "1.0.0"),
        ("my.service", "histogram", "1", "I`m a Histogram", "my.library", "1.0.0"),
    ]
    assert all(json.loads(m[8]) == scope_attrs and json.loads(m[9]) == resource for m in metrics.values())

    t_point = datetime(2018, 12, 13, 14, 51, 0, 300000, tzinfo=UTC)
    points = {
        row[0]: row
        for row in query(
            database_url,
            f"""SELECT metric_name, metric_id, start_time, time, value, count, sum, min, max, bucket_counts,
                       explicit_bounds, flags, aggregation_temporality, is_monotonic, attributes
                FROM "{schema}".metric_data_points""",
        )
    }
    counter, gauge, histogram = points["my.counter"], points["my.gauge"], points["my.histogram"]
    assert counter[1] == metrics["my.counter"][0]
    assert counter[2:14] == (t_point, t_point, 5.0, None, None, None, None, None, None, 0, 1, True)
    assert json.loads(counter[14]) == {"my.counter.attr": "some value"}
    assert gauge[2:14] == (None, t_point, 10.0, None, None, None, None, None, None, 0, None, None)
    assert json.loads(gauge[14]) == {"my.gauge.attr": "some value"}
    assert histogram[2:14] == (t_point, t_point, None, 3, 3.0, 1.0, 1.0, [1, 1, 1], [1.0], 0, 1, None)
    assert json.loads(histogram[14]) == {"my.histogram.attr": "some value"}


def test_rerun_changes_nothing(landing, database_url, schema, fixtures_dir):
    land_official(landing, fixtures_dir)
    run(HOUR, landing, database_url, schema)
    before = snapshot(database_url, schema)
    xmin_before = query(database_url, f'SELECT xmin::text FROM "{schema}".traces')

    again = run(HOUR, landing, database_url, schema)

    assert set(again.load.merged.values()) == {0}
    assert snapshot(database_url, schema) == before
    # Not even rewritten with equal values: the traces row keeps its transaction id.
    assert query(database_url, f'SELECT xmin::text FROM "{schema}".traces') == xmin_before


def _span(trace_hex, span_hex, parent_hex, name, start_s, end_s, *, error=False, service="svc"):
    span = {
        "traceId": trace_hex,
        "spanId": span_hex,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(int(start_s * 1e9)),
        "endTimeUnixNano": str(int(end_s * 1e9)),
    }
    if parent_hex:
        span["parentSpanId"] = parent_hex
    if error:
        span["status"] = {"code": 2, "message": "boom"}
    return span


def _traces_request(spans, service="svc"):
    return orjson.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                    "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
                }
            ]
        }
    )


TRACE = "0af7651916cd43dd8448eb211c80319c"
T = HOUR.timestamp() - 120  # spans started two minutes before the landing hour


@pytest.mark.parametrize("root_first", [True, False], ids=["root-first", "root-late"])
def test_trace_split_across_hours(landing, database_url, schema, root_first):
    root = _span(TRACE, "b7ad6b7169203331", None, "invoke_agent planner", T, T + 30, service="agent")
    child = _span(TRACE, "00f067aa0ba902b7", "b7ad6b7169203331", "chat gpt-4o-mini", T + 1, T + 10, service="llm")
    late = _span(TRACE, "00f067aa0ba902b8", "b7ad6b7169203331", "execute_tool search", T + 11, T + 45, error=True, service="llm")
    first_hour, second_hour = HOUR, HOUR + timedelta(hours=1)
    if root_first:
        land(landing, first_hour, "traces_a.json", _traces_request([root], "agent") + b"\n" + _traces_request([child], "llm"))
        land(landing, second_hour, "traces_b.json", _traces_request([late], "llm"))
    else:
        land(landing, first_hour, "traces_a.json", _traces_request([child, late], "llm"))
        land(landing, second_hour, "traces_b.json", _traces_request([root], "agent"))

    run(first_hour, landing, database_url, schema)
    run(second_hour, landing, database_url, schema)

    start = datetime.fromtimestamp(T, UTC)
    assert query(database_url, f'SELECT * FROM "{schema}".traces') == [
        (uuid.UUID(TRACE), "agent", "invoke_agent planner", start, start + timedelta(seconds=45), 45_000_000_000, 3, 1,
         0, None, None, None, None, None, None)
    ]
    # Loading either hour again leaves the rollup as it is.
    before = snapshot(database_url, schema)
    run(first_hour, landing, database_url, schema)
    assert snapshot(database_url, schema) == before


def test_in_fail_mode_a_bad_file_fails_the_hour_and_merges_nothing(landing, database_url, schema, fixtures_dir):
    land_official(landing, fixtures_dir)
    run(HOUR, landing, database_url, schema)
    before = snapshot(database_url, schema)

    good = _span(TRACE, "b7ad6b7169203331", None, "new span", T, T + 1)
    land(landing, HOUR, "traces_0002.json", _traces_request([good]), minute=10)
    bad = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz", "spanId": "00f067aa0ba902b7"}]}]}]}
    land(landing, HOUR, "traces_0003.json", orjson.dumps(bad), minute=20)

    with pytest.raises(landing_mod.LandingError) as failure:
        run(HOUR, landing, database_url, schema, on_bad_input="fail")
    assert failure.value.path == "year=2026/month=11/day=01/hour=00/minute=20/traces_0003.json"
    assert "traceId 'xyz' is not 32 hex digits" in str(failure.value)
    assert snapshot(database_url, schema) == before  # the good new file was not half-merged either


def test_truncated_gzip_names_the_file(landing, database_url, schema):
    land(landing, HOUR, "logs_x.json.gz", gzip.compress(b'{"resourceLogs": []}')[:-6])
    with pytest.raises(landing_mod.LandingError, match=r"minute=00/logs_x\.json\.gz: corrupt compressed data"):
        run(HOUR, landing, database_url, schema, on_bad_input="fail")
    result = run(HOUR, landing, database_url, schema)  # quarantine: the file is rejected in the ledger
    assert result.files_rejected == 1
    [(status, error)] = query(database_url, f'SELECT status, error FROM "{schema}".ingested_files')
    assert status == "rejected" and error.startswith("corrupt compressed data")


def test_chunks_give_the_same_tables_as_one_batch(landing, database_url, schema, tmp_path):
    spans = [
        _span(f"{t:032x}", f"{t * 16 + s + 1:016x}", None if s == 0 else f"{t * 16 + 1:016x}", f"span {s}", T + s, T + s + 1)
        for t in range(1, 41)
        for s in range(5)
    ]
    for index in range(0, len(spans), 50):
        land(landing, HOUR, f"traces_{index:04d}.json", _traces_request(spans[index : index + 50]), minute=index // 50)

    chunked = run(HOUR, landing, database_url, schema, chunk_rows=50)  # a flush after every file
    assert chunked.load.chunks == 4
    assert counts(database_url, schema)["trace_spans"] == 200
    assert counts(database_url, schema)["traces"] == 40
    chunked_tables = snapshot(database_url, schema)

    other = schema + "_one"
    try:
        whole = run(HOUR, landing, database_url, other)
        assert whole.load.chunks == 1
        assert snapshot(database_url, other) == chunked_tables
    finally:
        execute(database_url, f'DROP SCHEMA IF EXISTS "{other}" CASCADE')


def test_worker_processes_and_byte_bounded_chunks_give_the_same_tables(landing, database_url, schema, monkeypatch):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=120, files_per_hour=4)
    inline = run(HOUR, landing, database_url, schema, decode_workers=0)
    assert inline.load.chunks == 1
    expected = snapshot(database_url, schema)

    monkeypatch.setattr(hour, "POOL_MIN_BYTES", 0)  # the hour is small: use the processes anyway
    other = schema + "_workers"
    try:
        # one byte per chunk: every file is its own chunk
        parallel = run(HOUR, landing, database_url, other, decode_workers=2, chunk_bytes=1)
        assert parallel.load.chunks == sum(parallel.files.values()) > 4
        assert parallel.records == inline.records
        assert snapshot(database_url, other) == expected
    finally:
        execute(database_url, f'DROP SCHEMA IF EXISTS "{other}" CASCADE')


def test_a_bad_file_decoded_by_a_worker_process_names_the_file(landing, database_url, schema, monkeypatch):
    monkeypatch.setattr(hour, "POOL_MIN_BYTES", 0)
    land(landing, HOUR, "logs_x.json", b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}')
    with pytest.raises(landing_mod.LandingError) as failure:
        run(HOUR, landing, database_url, schema, decode_workers=1, on_bad_input="fail")
    assert failure.value.path == "year=2026/month=11/day=01/hour=00/minute=00/logs_x.json"
    assert set(counts(database_url, schema).values()) == {0}
    # quarantined in a worker process as in this one: the reject reaches the ledger and rejected_records
    result = run(HOUR, landing, database_url, schema, decode_workers=1)
    assert result.records_rejected == 1
    assert query(database_url, f'SELECT record_path FROM "{schema}".rejected_records') == [
        ("request 1 / resource 0 / scope 0 / log record 0",)]



def test_empty_hour_loads_nothing(landing, database_url, schema):
    result = run(HOUR, landing, database_url, schema)
    assert sum(result.files.values()) == 0
    assert set(counts(database_url, schema).values()) == {0}


def test_file_ledger_skip_and_late_files(landing, database_url, schema, fixtures_dir):
    land_official(landing, fixtures_dir)
    first = run(HOUR, landing, database_url, schema, run_id="run-1")
    assert not first.skipped and first.load.ledger_rows == 3
    ledger = query(
        database_url,
        f"""SELECT object_key, signal, partition_key, records_read, rows_merged, rejected, run_id, status, size
            FROM "{schema}".ingested_files ORDER BY object_key""",
    )
    folder = "year=2026/month=11/day=01/hour=00/minute=05"
    sizes = {p.name: p.stat().st_size for p in (landing / folder).iterdir()}
    assert ledger == [
        (f"{folder}/logs_0001.json.gz", "logs", "2026-11-01-00:00", 1, 1, 0, "run-1", "loaded", sizes["logs_0001.json.gz"]),
        (f"{folder}/metrics_0001.json.zst", "metrics", "2026-11-01-00:00", 3, 3, 0, "run-1", "loaded", sizes["metrics_0001.json.zst"]),
        (f"{folder}/traces_0001.json", "traces", "2026-11-01-00:00", 1, 1, 0, "run-1", "loaded", sizes["traces_0001.json"]),
    ]
    # Every record read is accounted for: merged or rejected, per signal.
    assert sum(first.records.values()) == sum(row[4] + row[5] for row in ledger)

    # Nothing changed: the rerun reads no file and writes nothing.
    before = snapshot(database_url, schema)
    again = run(HOUR, landing, database_url, schema, run_id="run-2")
    assert again.skipped and sum(again.files.values()) == 0
    assert snapshot(database_url, schema) == before
    assert {row[0] for row in query(database_url, f'SELECT run_id FROM "{schema}".ingested_files')} == {"run-1"}

    # A late file for the loaded hour: the hour loads again, merges only the new rows, and the ledger
    # gains the file while the old rows keep the run that loaded them.
    late = _span(TRACE, "b7ad6b7169203331", None, "late span", T, T + 1)
    land(landing, HOUR, "traces_0009.json", _traces_request([late]), minute=59)
    third = run(HOUR, landing, database_url, schema, run_id="run-3")
    assert not third.skipped and third.load.merged["trace_spans"] == 1 and third.load.ledger_rows == 1
    assert query(database_url, f'SELECT run_id, count(*) FROM "{schema}".ingested_files GROUP BY 1 ORDER BY 1') == [
        ("run-1", 3), ("run-3", 1),
    ]


def test_a_run_that_waited_for_the_hours_lock_skips_the_hour_another_run_loaded(landing, database_url, schema, monkeypatch):
    """Two runs of one hour at once: the second waits for the hour's advisory lock, then reads the ledger
    again under it and skips, instead of decoding the whole hour again to merge nothing."""
    import threading
    import time

    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=20, seed=4)
    real_connect, holding, started = hour.connect, threading.local(), threading.Event()

    class HeldCommit:
        def __init__(self, conn):
            self._conn = conn

        def __getattr__(self, name):
            return getattr(self._conn, name)

        def commit(self):
            import inspect

            if inspect.stack()[1].function == "__exit__":  # PartitionLoad's commit: hold it
                started.set()
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not query(
                    database_url, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                ):
                    time.sleep(0.05)
            return self._conn.commit()

    def held_connect(url):
        conn = real_connect(url)
        return HeldCommit(conn) if getattr(holding, "on", False) else conn

    monkeypatch.setattr(hour, "connect", held_connect)
    results = {}

    def first():
        holding.on = True
        results["first"] = run(HOUR, landing, database_url, schema)

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(60)
    results["second"] = run(HOUR, landing, database_url, schema)
    thread.join(60)
    assert not results["first"].skipped and sum(results["first"].records.values()) > 0
    assert results["second"].skipped and sum(results["second"].records.values()) == 0
    assert counts(database_url, schema)["trace_spans"] == results["first"].load.merged["trace_spans"] > 0
