"""Daily partitions of the large tables: created ahead of a load, rows routed by event day, the default
partition for other days, retention, and the move of a warehouse created before partitioning."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import orjson

from observatory_etl import synth
from observatory_etl.defs.jobs import drop_expired_partitions
from observatory_etl.defs.resources import WarehouseResource
from observatory_etl.pipeline.hour import load_hour
from observatory_etl.tables import PARTITIONED_TABLES
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.ddl import ensure_schema
from observatory_etl.warehouse.partitions import create_partitions
from tests.conftest import HOUR, counts, execute, land, query, snapshot

UTC = timezone.utc


def run(hour, landing, database_url, schema):
    return load_hour(hour, landing_url=str(landing), database_url=database_url, schema=schema)


def partitions(database_url, schema, table):
    """{partition name: rows} of one partitioned table."""
    rows = query(
        database_url,
        f"""SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = '"{schema}".{table}'::regclass ORDER BY 1""",
    )
    return {name: query(database_url, f'SELECT count(*) FROM "{schema}".{name}')[0][0] for (name,) in rows}


def test_load_creates_day_partitions_and_routes_rows_by_event_day(landing, database_url, schema):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=60)
    result = run(HOUR, landing, database_url, schema)

    for table in PARTITIONED_TABLES:
        found = partitions(database_url, schema, table)
        # the landing day and its neighbours, plus the default partition
        assert set(found) == {f"{table}_p20261031", f"{table}_p20261101", f"{table}_p20261102", f"{table}_default"}
        assert sum(found.values()) == query(database_url, f'SELECT count(*) FROM "{schema}".{table}')[0][0] > 0
        assert found[f"{table}_default"] == 0
    by_day = partitions(database_url, schema, "trace_spans")
    assert by_day["trace_spans_p20261101"] + by_day["trace_spans_p20261031"] == result.load.merged["trace_spans"]
    # the load of a second hour of the same day creates nothing
    conn = connect(database_url)
    try:
        assert create_partitions(conn, schema, date(2026, 10, 31), date(2026, 11, 2)) == 0
    finally:
        conn.close()


def test_rows_of_other_days_go_to_the_default_partition_and_move_when_their_day_is_created(database_url, schema):
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        create_partitions(conn, schema, date(2026, 11, 1), date(2026, 11, 1))
    finally:
        conn.close()
    far = "2027-03-04 05:06:07+00"
    execute(
        database_url,
        f"""INSERT INTO "{schema}".logs (log_id, time, trace_flags, severity_number, scope_attributes, attributes,
            resource_attributes) VALUES (gen_random_uuid(), '{far}', 0, 9, '{{}}', '{{}}', '{{}}'),
            (gen_random_uuid(), '2026-11-01 10:00+00', 0, 9, '{{}}', '{{}}', '{{}}')""",
    )
    assert partitions(database_url, schema, "logs") == {"logs_default": 1, "logs_p20261101": 1}

    conn = connect(database_url)
    try:
        assert create_partitions(conn, schema, date(2027, 3, 4), date(2027, 3, 4)) == 4
    finally:
        conn.close()
    assert partitions(database_url, schema, "logs") == {"logs_default": 0, "logs_p20261101": 1, "logs_p20270304": 1}
    assert query(database_url, f'SELECT time FROM "{schema}".logs_p20270304') == [
        (datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC),)
    ]


def test_unset_partition_times_are_stored_as_the_epoch_or_the_observed_time(landing, database_url, schema):
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "no start",
            "kind": 1, "startTimeUnixNano": "0", "endTimeUnixNano": "5"}
    log = {"observedTimeUnixNano": "1762000000000000000", "severityNumber": 9, "body": {"stringValue": "hi"}}
    land(landing, HOUR, "traces_1.json", _request("resourceSpans", "scopeSpans", "spans", span))
    land(landing, HOUR, "logs_1.json", _request("resourceLogs", "scopeLogs", "logRecords", log))
    run(HOUR, landing, database_url, schema)

    assert query(database_url, f'SELECT start_time FROM "{schema}".trace_spans_default') == [
        (datetime(1970, 1, 1, tzinfo=UTC),)
    ]
    observed = datetime.fromtimestamp(1762000000, UTC)
    assert query(database_url, f'SELECT time, observed_time FROM "{schema}".logs') == [(observed, observed)]
    before = snapshot(database_url, schema)
    execute(database_url, f'DELETE FROM "{schema}".ingested_files')  # force a full reload
    run(HOUR, landing, database_url, schema)
    assert snapshot(database_url, schema) == before


def _request(resource_key: str, scope_key: str, records_key: str, record: dict) -> bytes:
    return orjson.dumps({resource_key: [{"resource": {"attributes": []}, scope_key: [{records_key: [record]}]}]})


def test_retention_drops_old_days_and_their_rollups(landing, database_url, schema):
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    for hour in (old, recent):
        synth.write_landing(str(landing), hour, hour + timedelta(hours=1), traces_per_hour=30)
        run(hour, landing, database_url, schema)
    before = counts(database_url, schema)
    old_traces = query(database_url, f"""SELECT count(*) FROM "{schema}".traces WHERE end_time < '{(now - timedelta(days=30)).date()}'""")[0][0]
    assert old_traces > 0

    result = drop_expired_partitions.execute_in_process(
        run_config={"ops": {"drop_expired_partitions_op": {"config": {"retention_days": 30}}}},
        resources={"warehouse": WarehouseResource(database_url=database_url, schema_name=schema)},
    )
    assert result.success
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = output.event_specific_data.metadata
    dropped = metadata["partitions_dropped"].value
    old_day = f"{old:%Y%m%d}"
    assert any(name.endswith(old_day) for name in dropped)
    assert all(name.rsplit("_p", 1)[1] < f"{now - timedelta(days=30):%Y%m%d}" for name in dropped)
    assert metadata["traces_deleted"].value == old_traces

    after = counts(database_url, schema)
    assert after["traces"] == before["traces"] - old_traces
    assert query(database_url, f"""SELECT count(*) FROM "{schema}".trace_spans WHERE start_time < '{(now - timedelta(days=30)).date()}'""")[0][0] == 0
    assert 0 < after["trace_spans"] < before["trace_spans"]
    # the ledger remembers the expired hour: loading it again is skipped, nothing comes back
    assert run(old, landing, database_url, schema).skipped
    assert counts(database_url, schema) == after


def test_a_warehouse_created_before_partitioning_is_moved_into_partitions(landing, database_url, schema):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=40)
    run(HOUR, landing, database_url, schema)
    before = snapshot(database_url, schema)
    old_keys = {"trace_spans": "trace_id, span_id", "trace_events": "trace_id, span_id, event_index",
                "metric_data_points": "point_id", "logs": "log_id"}
    # Rebuild the four tables as the plain tables of the first release (same columns, old keys).
    for table, key in old_keys.items():
        execute(database_url, f'CREATE TABLE "{schema}".{table}_plain AS SELECT * FROM "{schema}".{table}')
        execute(database_url, f'DROP TABLE "{schema}".{table} CASCADE')
        execute(database_url, f'ALTER TABLE "{schema}".{table}_plain RENAME TO {table}')
        execute(database_url, f'ALTER TABLE "{schema}".{table} ADD PRIMARY KEY ({key})')
    execute(database_url, f'DELETE FROM "{schema}".schema_version')  # as if the DDL were new

    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
    finally:
        conn.close()
    for table in old_keys:
        assert query(database_url, f"SELECT relkind FROM pg_class WHERE oid = '\"{schema}\".{table}'::regclass") == [("p",)]
        assert query(database_url, f"SELECT to_regclass('\"{schema}\".{table}_unpartitioned')") == [(None,)]
        assert f"{table}_p20261101" in partitions(database_url, schema, table)
    assert snapshot(database_url, schema) == before
    # the views came back
    assert query(database_url, f'SELECT count(*) FROM "{schema}".llm_usage_hourly')[0][0] > 0


def _toast_targets(database_url, schema):
    """{partition: its toast_tuple_target reloption, or None} of every partition of the partitioned tables."""
    rows = query(database_url, f"""
        SELECT c.relname, (SELECT split_part(o, '=', 2) FROM unnest(c.reloptions) o
                           WHERE o LIKE 'toast_tuple_target=%')
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '{schema}' AND c.relkind = 'r'""")
    return dict(rows)


def test_partitions_store_rows_up_to_8_kb_uncompressed(database_url, schema):
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        create_partitions(conn, schema, date(2026, 11, 1), date(2026, 11, 1))
    finally:
        conn.close()
    targets = _toast_targets(database_url, schema)
    assert set(targets) == {f"{t}_{p}" for t in PARTITIONED_TABLES for p in ("default", "p20261101")}
    assert set(targets.values()) == {"8160"}
    # a 5 kB attributes value (compressible: pglz would shrink it to a few hundred bytes at the default
    # 2 kB target) is stored as it is, in the day partition and in the default partition
    value = orjson.dumps({"gen_ai.input.messages": "hello " * 800}).decode()
    for day in ("2026-11-01", "2030-01-01"):
        execute(database_url, f"""INSERT INTO "{schema}".trace_spans (trace_id, span_id, name, kind, start_time,
            duration_ns, status_code, attributes, resource_attributes, scope_attributes)
            VALUES (gen_random_uuid(), 1, 's', 1, '{day}T00:00:00Z', 0, 0, '{value}', '{{}}', '{{}}')""")
    sizes = query(database_url, f'SELECT pg_column_size(attributes) FROM "{schema}".trace_spans')
    assert [size > len(value) for (size,) in sizes] == [True, True]


def test_partitions_made_before_the_toast_target_get_it_when_the_ddl_is_applied_again(database_url, schema):
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        create_partitions(conn, schema, date(2026, 11, 1), date(2026, 11, 1))
        execute(database_url, f'ALTER TABLE "{schema}".logs_p20261101 RESET (toast_tuple_target)')
        execute(database_url, f'ALTER TABLE "{schema}".trace_spans_default RESET (toast_tuple_target)')
        execute(database_url, f'DELETE FROM "{schema}".schema_version')  # as after an upgrade of the DDL files
        assert _toast_targets(database_url, schema)["logs_p20261101"] is None
        ensure_schema(conn, schema)
    finally:
        conn.close()
    assert set(_toast_targets(database_url, schema).values()) == {"8160"}
