"""Every form the Collector accepts loads, bad input is quarantined instead of blocking its hour, and nothing
is lost or doubled: real files in the landing layout, loaded into a real PostgreSQL."""

from __future__ import annotations

import copy
import gzip

import orjson
import pytest

from observatory_etl.ingest.landing import LandingError
from observatory_etl.pipeline.hour import load_hour
from tests.conftest import HOUR, counts, execute, land, query, snapshot

TRACE = "5b8efff798038103d269b633813fc60c"
KINDS = {0: "SPAN_KIND_UNSPECIFIED", 1: "SPAN_KIND_INTERNAL", 2: "SPAN_KIND_SERVER", 3: "SPAN_KIND_CLIENT"}
T0 = 1_793_491_200_000_000_000  # 2026-11-01T00:00:00Z in ns


def run(landing, database_url, schema, **kwargs):
    return load_hour(HOUR, landing_url=str(landing), database_url=database_url, schema=schema, **kwargs)


def span(n: int, **fields) -> dict:
    return {"traceId": TRACE, "spanId": f"{n:016x}", "name": f"span {n}", "kind": 3,
            "startTimeUnixNano": str(T0 + n), "endTimeUnixNano": str(T0 + n + 1000),
            "status": {"code": 1}, "attributes": [{"key": "n", "value": {"intValue": str(n)}}], **fields}


def traces(*spans: dict) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                               "scopeSpans": [{"scope": {"name": "s"}, "spans": list(spans)}]}]}


def logs(*records: dict) -> dict:
    return {"resourceLogs": [{"resource": {}, "scopeLogs": [{"scope": {"name": "s"}, "logRecords": list(records)}]}]}


def snake(value):
    """``value`` with proto field names (``resource_spans``), as protobuf's own JSON printer can write them."""
    if isinstance(value, dict):
        return {"".join("_" + c.lower() if c.isupper() else c for c in k): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def with_enum_names(doc: dict) -> dict:
    """``doc`` with span kinds and status codes as enum names (protobuf's JSON printer's default)."""
    doc = copy.deepcopy(doc)
    for resource in doc["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for s in scope["spans"]:
                s["kind"] = KINDS[s["kind"]]
                s["status"]["code"] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"][s["status"]["code"]]
    return doc


def test_proto_field_names_and_enum_names_load_exactly_like_the_canonical_form(landing, database_url, schema, tmp_path):
    canonical = traces(span(1), span(2, kind=2, status={"code": 2, "message": "boom"}))
    land(landing, HOUR, "traces_a.json", orjson.dumps(canonical))
    run(landing, database_url, schema)
    expected = snapshot(database_url, schema)

    other = tmp_path / "other"
    for name, doc in [("traces_b.json", snake(canonical)), ("traces_c.json", with_enum_names(canonical)),
                      ("traces_d.json", snake(with_enum_names(canonical)))]:
        land(other, HOUR, name, orjson.dumps(doc))
    second = f"{schema}_forms"
    try:
        result = run(other, database_url, second)
        assert result.records_rejected == 0 and result.files_rejected == 0
        actual = snapshot(database_url, second)
    finally:
        execute(database_url, f'DROP SCHEMA IF EXISTS "{second}" CASCADE')
    assert actual == expected
    assert [row[5] for row in expected["trace_spans"]] == [3, 2]  # kind


def test_a_bad_record_is_quarantined_and_the_hour_loads_its_good_records(landing, database_url, schema):
    bad_trace_id = span(3, traceId="xyz")
    land(landing, HOUR, "traces_good.json", orjson.dumps(traces(span(1))))
    land(landing, HOUR, "traces_mixed.json", orjson.dumps(traces(span(2), bad_trace_id)), minute=5)
    land(landing, HOUR, "traces_truncated.json.gz", gzip.compress(orjson.dumps(traces(span(4))))[:40], minute=6)
    land(landing, HOUR, "logs_notjson.json", b'{"resourceLogs": [', minute=7)
    land(landing, HOUR, "logs_future.json",
         orjson.dumps(logs({"timeUnixNano": str(2**64 - 1), "body": {"stringValue": "late"}},
                           {"timeUnixNano": str(T0), "body": {"stringValue": "ok"}})), minute=8)
    land(landing, HOUR, "traces_empty.json", b'{"resourceSpanz": []}', minute=9)

    result = run(landing, database_url, schema)
    assert result.records_rejected == 2 and result.files_rejected == 3
    assert counts(database_url, schema)["trace_spans"] == 2
    assert counts(database_url, schema)["logs"] == 1

    ledger = {row[0].rsplit("/", 1)[1]: row[1:] for row in query(database_url, f"""
        SELECT object_key, status, records_read, rows_merged, rejected, error
        FROM "{schema}".ingested_files ORDER BY object_key""")}
    assert ledger["traces_good.json"] == ("loaded", 1, 1, 0, None)
    assert ledger["traces_mixed.json"] == ("partial", 2, 1, 1, None)
    assert ledger["logs_future.json"] == ("partial", 2, 1, 1, None)
    assert ledger["traces_truncated.json.gz"][:4] == ("rejected", 0, 0, 0)
    assert "corrupt compressed data" in ledger["traces_truncated.json.gz"][4]
    assert ledger["logs_notjson.json"][0] == "rejected" and ledger["logs_notjson.json"][4].startswith("not JSON")
    assert ledger["traces_empty.json"][0] == "rejected"
    assert ledger["traces_empty.json"][4].startswith("no OTLP records: top-level keys ['resourceSpanz']")

    rejected = query(database_url, f"""
        SELECT object_key, record_path, signal, reason, record, partition_key
        FROM "{schema}".rejected_records""")
    rejected.sort(key=lambda r: r[0].rsplit("/", 1)[1])
    assert [(r[0].rsplit("/", 1)[1], r[1], r[2]) for r in rejected] == [
        ("logs_future.json", "request 1 / resource 0 / scope 0 / log record 0", "logs"),
        ("traces_mixed.json", "request 1 / resource 0 / scope 0 / span 1", "traces"),
    ]
    assert "outside the storable range" in rejected[0][3]
    assert rejected[1][3] == "traceId 'xyz' is not 32 hex digits"
    assert orjson.loads(rejected[1][4]) == bad_trace_id
    assert {r[5] for r in rejected} == {"2026-11-01-00:00"}

    # Reconciliation per file: records read = records merged + records rejected.
    assert query(database_url, f"""SELECT count(*) FROM "{schema}".ingested_files
                                   WHERE records_read <> rows_merged + rejected""") == [(0,)]

    # A rerun changes nothing (the ledger knows every file, rejected ones included) ...
    before = snapshot(database_url, schema)
    assert run(landing, database_url, schema).skipped
    # ... and a forced reprocess doubles nothing, in the tables or in the quarantine.
    again = run(landing, database_url, schema, force=True)
    assert again.records_rejected == 2 and again.files_rejected == 3
    assert snapshot(database_url, schema) == before
    assert query(database_url, f'SELECT count(*) FROM "{schema}".rejected_records') == [(2,)]


def test_a_replaced_file_reloads_and_its_quarantine_is_cleared(landing, database_url, schema):
    path = land(landing, HOUR, "traces_x.json", orjson.dumps(traces(span(1), span(2, spanId="nothex"))))
    run(landing, database_url, schema)
    assert query(database_url, f'SELECT count(*) FROM "{schema}".rejected_records') == [(1,)]
    path.write_bytes(orjson.dumps(traces(span(1), span(2))))  # the producer fixed and re-uploaded it
    result = run(landing, database_url, schema)
    assert not result.skipped and result.records_rejected == 0
    assert counts(database_url, schema)["trace_spans"] == 2
    assert query(database_url, f'SELECT count(*) FROM "{schema}".rejected_records') == [(0,)]
    assert query(database_url, f'SELECT status, rejected FROM "{schema}".ingested_files') == [("loaded", 0)]


def test_nul_characters_are_replaced_and_counted(landing, database_url, schema):
    doc = traces(span(1, name="a\u0000b", attributes=[{"key": "k\u0000", "value": {"stringValue": "v\u0000"}}]))
    land(landing, HOUR, "traces_nul.json", orjson.dumps(doc))
    result = run(landing, database_url, schema)
    assert result.nul_replaced == 2 and result.records_rejected == 0
    [(name, attributes)] = query(database_url, f'SELECT name, attributes FROM "{schema}".trace_spans')
    assert name == "a\ufffdb"
    assert orjson.loads(attributes) == {"k\ufffd": "v\ufffd"}


def test_fail_mode_fails_the_hour_and_loads_nothing(landing, database_url, schema, monkeypatch):
    land(landing, HOUR, "traces_good.json", orjson.dumps(traces(span(1))))
    land(landing, HOUR, "traces_bad.json", orjson.dumps(traces(span(2, endTimeUnixNano="later"))), minute=5)
    monkeypatch.setenv("OBSERVATORY_ON_BAD_INPUT", "fail")
    with pytest.raises(LandingError, match=r"traces_bad.json: request 1 / resource 0 / scope 0 / span 0: expected a 64-bit"):
        run(landing, database_url, schema)
    assert counts(database_url, schema)["trace_spans"] == 0
    monkeypatch.setenv("OBSERVATORY_ON_BAD_INPUT", "quarantine")
    assert run(landing, database_url, schema).records_rejected == 1
    assert counts(database_url, schema)["trace_spans"] == 1
