"""Real Dagster runs: the multi-asset in process, the `dagster asset materialize` command, the CLI demo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import adbc_driver_postgresql.dbapi as adbc
import dagster as dg
import orjson
import pytest

from observatory_etl import synth
from observatory_etl.definitions import defs
from observatory_etl.defs.assets import telemetry_tables
from observatory_etl.defs.checks import CHECKS, reconciliation
from observatory_etl.defs.resources import LandingResource, WarehouseResource
from observatory_etl.warehouse.connection import connect, lock_key
from observatory_etl.warehouse.ddl import ensure_schema
from tests.conftest import HOUR, ROOT, counts, execute, land, query, snapshot

KEY = "2026-11-01-00:00"


def resources(landing, database_url, schema):
    return {
        "landing": LandingResource(url=str(landing)),
        "warehouse": WarehouseResource(database_url=database_url, schema_name=schema),
    }


def merged(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    return {
        event.asset_key.to_user_string(): event.materialization.metadata["rows_merged"].value
        for event in result.get_asset_materialization_events()
    }


def test_definitions_load():
    job = defs.resolve_job_def("load_telemetry")
    assert job.partitions_def.get_partition_key_for_timestamp(HOUR.timestamp()) == KEY
    assert {key.to_user_string() for key in defs.resolve_all_asset_keys()} == {
        "traces", "sessions", "trace_spans", "trace_events", "trace_links", "metrics", "metric_data_points", "logs",
    }


def test_materialize_one_hour_and_rerun(landing, database_url, schema):
    stats = synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=60, seed=7)

    result = dg.materialize([telemetry_tables], partition_key=KEY, resources=resources(landing, database_url, schema))

    assert result.success
    rows = counts(database_url, schema)
    assert rows["trace_spans"] == stats.spans
    assert rows["traces"] == stats.traces
    assert rows["trace_events"] == stats.span_events
    assert rows["logs"] == stats.logs
    assert rows["metric_data_points"] == stats.metric_data_points
    assert rows["metrics"] > 0
    assert merged(result) == rows
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["files_read"].value == stats.files
    assert metadata["records_read"].value == stats.spans + stats.span_events + rows["trace_links"] + stats.logs + stats.metric_data_points
    # a new hour: copied straight into the final tables (metrics definitions are merged)
    assert metadata["seconds_copy"].value > 0 and metadata["rows_per_second_copy"].value > 0
    assert metadata["chunks_copied_straight"].value == metadata["chunks"].value > 0
    # Every span's parent is in its trace (the generator writes whole traces into one hour).
    assert query(
        database_url,
        f"""SELECT count(*) FROM "{schema}".trace_spans s WHERE parent_span_id IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM "{schema}".trace_spans p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)""",
    ) == [(0,)]
    before = snapshot(database_url, schema)

    again = dg.materialize([telemetry_tables], partition_key=KEY, resources=resources(landing, database_url, schema))

    assert again.success
    assert set(merged(again).values()) == {0}
    assert snapshot(database_url, schema) == before


def _env(tmp_path: Path, landing: Path, database_url: str, schema: str) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "OBSERVATORY_LANDING_URL": str(landing),
        "OBSERVATORY_DATABASE_URL": database_url,
        "OBSERVATORY_SCHEMA": schema,
    }


def _materialize_command() -> list[str]:
    return [
        str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "observatory_etl.definitions",
        "--select", "*", "--partition", KEY,
    ]


def test_runs_execute_in_process():
    """Every job, the asset jobs `dagster asset materialize` builds included, runs its steps in the run's own
    process: a step process would import Dagster and the project again (about 1.5 s each)."""
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"
    for name in ("load_telemetry", "recompute_costs", "drop_expired_partitions"):
        assert defs.resolve_job_def(name).executor_def.name == "in_process"


def test_dagster_asset_materialize_command(tmp_path, landing, database_url, schema):
    """The documented one-hour command, on an instance stored in PostgreSQL through dagster-postgres."""
    stats = synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=30, seed=3)
    env = _env(tmp_path, landing, database_url, schema)
    command = _materialize_command()

    first = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "RUN_SUCCESS" in first.stderr
    # The load and the five asset checks ran as steps of one process (the in-process executor: no process,
    # and no second import of Dagster and the project, per step).
    assert "Executing steps in process" in first.stderr and "multiprocess" not in first.stderr
    assert first.stderr.count("ASSET_CHECK_EVALUATION") == 5
    assert counts(database_url, schema)["trace_spans"] == stats.spans
    before = snapshot(database_url, schema)

    second = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert snapshot(database_url, schema) == before
    # The runs were recorded in dagster-postgres' tables, in the same database.
    assert query(database_url, "SELECT count(*) FROM public.runs WHERE status = 'SUCCESS'")[0][0] >= 2


@pytest.fixture
def fresh_database_url(database_url):
    """A new, empty database on the test server (no Dagster storage, no warehouse schema); dropped after."""
    name = f"fresh_{uuid.uuid4().hex[:12]}"

    def admin(sql):
        conn = adbc.connect(database_url, autocommit=True)  # CREATE/DROP DATABASE cannot run in a transaction
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    try:
        admin(f'CREATE DATABASE "{name}"')
    except adbc.ProgrammingError as exc:  # OBSERVATORY_TEST_DATABASE_URL without CREATEDB
        pytest.skip(f"cannot create a database on the test server: {exc}")
    yield urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    admin(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_concurrent_first_runs_on_a_fresh_database(tmp_path, landing, database_url, schema, fresh_database_url):
    """Two `dagster asset materialize` of one hour started at once on a new database: Dagster's storage is
    created once (ObservatoryPostgresStorage takes an advisory lock around it; without it dagster-postgres
    stamped alembic_version twice, "more than one head present"), the `warehouse` pool's row once (without
    the lock one run failed with InFailedSqlTransaction), both runs succeed, and the hour is loaded once."""
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=30, seed=3)
    env = _env(tmp_path, landing, fresh_database_url, "observatory")

    runs = [
        subprocess.Popen(_materialize_command(), env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]

    for run, (_, stderr) in zip(runs, outputs):
        assert run.returncode == 0, stderr[-3000:]
        assert "RUN_SUCCESS" in stderr
    # One run loaded the hour; the other found it loaded (before or after waiting for the hour's lock).
    assert sorted("skipped" in stderr for _, stderr in outputs) == [False, True]
    assert query(fresh_database_url, "SELECT count(*) FROM public.alembic_version") == [(1,)]
    assert query(fresh_database_url, "SELECT status, count(*) FROM public.runs GROUP BY status") == [("SUCCESS", 2)]
    # The same rows as one load of the hour (in process, into a schema of the test server), and each file
    # once in the ledger.
    assert dg.materialize([telemetry_tables], partition_key=KEY, resources=resources(landing, database_url, schema)).success
    assert counts(fresh_database_url, "observatory") == counts(database_url, schema)
    assert snapshot(fresh_database_url, "observatory") == snapshot(database_url, schema)
    assert query(fresh_database_url, "SELECT count(*), count(DISTINCT object_key) FROM observatory.ingested_files") == \
        query(database_url, f'SELECT count(*), count(DISTINCT object_key) FROM "{schema}".ingested_files')


def test_db_init_creates_dagster_storage_and_schema_once(tmp_path, landing, fresh_database_url):
    """`observatory-etl db init`, twice at once on a new database and once more: Dagster's tables stamped
    once, the warehouse schema created, nothing else changes."""
    env = _env(tmp_path, landing, fresh_database_url, "observatory")
    command = [str(Path(sys.executable).with_name("observatory-etl")), "db", "init"]

    inits = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for init in inits:
        _, stderr = init.communicate(timeout=300)
        assert init.returncode == 0, stderr[-3000:]
    again = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "warehouse schema observatory ready" in again.stdout

    assert query(fresh_database_url, "SELECT count(*) FROM public.alembic_version") == [(1,)]
    assert query(fresh_database_url, "SELECT count(*) FROM public.runs") == [(0,)]
    assert query(fresh_database_url, "SELECT count(*) FROM observatory.schema_version") == [(1,)]
    assert counts(fresh_database_url, "observatory") == dict.fromkeys(counts(fresh_database_url, "observatory"), 0)


def test_cli_demo(tmp_path, landing, database_url, schema):
    env = _env(tmp_path, landing, database_url, schema)
    command = [
        str(Path(sys.executable).with_name("observatory-etl")), "demo", "--hours", "2", "--traces-per-hour", "80",
    ]
    demo = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)

    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    assert demo.stdout.count("materialized partition") == 2
    rows = counts(database_url, schema)
    assert all(rows[table] > 0 for table in rows), rows
    for table, count in rows.items():
        assert f"{table:<20} {count:>10,}" in demo.stdout
    assert "observatory-etl ui" in demo.stdout


def test_cli_help_explains_commands():
    out = subprocess.run(
        [str(Path(sys.executable).with_name("observatory-etl")), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for word in ("synth", "demo", "ui", "OBSERVATORY_DATABASE_URL", "dagster asset materialize"):
        assert word in out


def test_recompute_costs_job(landing, database_url, schema):
    """The maintenance job, run as a real Dagster run for one partition, restores computed costs."""
    from observatory_etl.defs.jobs import recompute_costs

    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=30, seed=5)
    dg.materialize([telemetry_tables], partition_key=KEY, resources=resources(landing, database_url, schema))
    computed = f"""SELECT count(*) FROM "{schema}".trace_spans WHERE cost_source = 'computed'
                   AND start_time >= '2026-11-01T00:00Z' AND start_time < '2026-11-01T01:00Z'"""
    [(priced,)] = query(database_url, computed)
    assert priced > 0
    before = snapshot(database_url, schema)
    # Corrupt every computed cost in the hour, as a stale price table would have left them.
    execute(database_url, f"""UPDATE "{schema}".trace_spans SET total_cost_usd = total_cost_usd + 1
                                   WHERE cost_source = 'computed' AND start_time >= '2026-11-01T00:00Z'
                                   AND start_time < '2026-11-01T01:00Z'""")

    result = recompute_costs.execute_in_process(
        partition_key=KEY, resources={"warehouse": WarehouseResource(database_url=database_url, schema_name=schema)}
    )

    assert result.success
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = output.event_specific_data.metadata
    assert metadata["spans_changed"].value == priced
    assert metadata["spans_considered"].value >= priced
    assert snapshot(database_url, schema) == before  # spans, traces and sessions back to the priced values


def test_partition_range_runs_as_one_run(landing, database_url, schema):
    """A 24-hour backfill range materializes in one run (BackfillPolicy.single_run)."""
    stats = synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=24), traces_per_hour=4, files_per_hour=1, seed=11)
    result = dg.materialize(
        [telemetry_tables],
        resources=resources(landing, database_url, schema),
        tags={
            "dagster/asset_partition_range_start": "2026-11-01-00:00",
            "dagster/asset_partition_range_end": "2026-11-01-23:00",
        },
    )
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["partitions"].value == 24
    assert counts(database_url, schema)["trace_spans"] == stats.spans
    assert telemetry_tables.backfill_policy.max_partitions_per_run is None  # single run, whatever the range


def test_bad_record_is_quarantined_and_the_check_warns(landing, database_url, schema):
    land(landing, HOUR, "traces_bad.json", b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}')
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=10, seed=3)
    result = dg.materialize(
        [telemetry_tables, *CHECKS], partition_key=KEY, resources=resources(landing, database_url, schema)
    )
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["records_rejected"].value == 1 and metadata["files_rejected"].value == 0
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert not checks["rejected_input"].passed
    assert checks["rejected_input"].severity == dg.AssetCheckSeverity.WARN
    assert checks["rejected_input"].metadata["table"].value == f"{schema}.rejected_records"
    assert checks["reconciliation"].passed  # read = merged + rejected
    assert query(database_url, f'SELECT reason FROM "{schema}".rejected_records') == [("traceId 'zz' is not 32 hex digits",)]


def test_bad_file_fails_fast_without_retry_when_bad_input_fails(landing, database_url, schema, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_ON_BAD_INPUT", "fail")
    land(landing, HOUR, "traces_bad.json", b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}')
    result = dg.materialize(
        [telemetry_tables], partition_key=KEY, resources=resources(landing, database_url, schema), raise_on_error=False
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1
    error = failures[0].event_specific_data.error
    assert "traces_bad.json" in error.message and "traceId 'zz' is not 32 hex digits" in error.message
    # Failure(allow_retries=False): the retry policy did not schedule another attempt.
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert failures[0].event_specific_data.user_failure_data.metadata["file"].value.endswith("traces_bad.json")


def test_asset_checks_after_a_load(landing, database_url, schema):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=20, seed=9)
    orphan = {
        "resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "00f067aa0ba902b7",
            "parentSpanId": "b7ad6b7169203331", "name": "child of a span that never arrived",
            "startTimeUnixNano": "1793491200000000000", "endTimeUnixNano": "1793491201000000000"}]}]}]
    }
    land(landing, HOUR, "traces_orphan.json", orjson.dumps(orphan), minute=30)

    result = dg.materialize([telemetry_tables, *CHECKS], partition_key=KEY, resources=resources(landing, database_url, schema))

    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"reconciliation", "orphan_spans", "freshness", "row_count_anomaly", "rejected_input"}
    assert checks["rejected_input"].passed and checks["rejected_input"].metadata["records_rejected"].value == 0
    assert checks["reconciliation"].passed
    assert not checks["orphan_spans"].passed
    assert checks["orphan_spans"].metadata["orphan_spans"].value == 1
    assert checks["orphan_spans"].severity == dg.AssetCheckSeverity.WARN
    assert not checks["freshness"].passed  # the hour loaded is weeks old
    assert checks["row_count_anomaly"].passed  # no history to compare with yet

    # A ledger that does not add up fails reconciliation.
    execute(database_url, f"UPDATE \"{schema}\".ingested_files SET rows_merged = rows_merged - 1 WHERE object_key LIKE '%orphan%'")
    evaluation = reconciliation(warehouse=WarehouseResource(database_url=database_url, schema_name=schema))
    assert not evaluation.passed and evaluation.metadata["mismatched_signals"].value == ["traces"]


def test_transient_fault_is_retried(landing, database_url, schema):
    """A real transient fault: the load's database connection is killed while it waits for the hour's
    advisory lock. The RetryPolicy runs the step again, and the second attempt loads the hour."""
    stats = synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=10, seed=13)
    conn = connect(database_url)
    ensure_schema(conn, schema)
    key = lock_key(f"observatory:{schema}:{KEY}")
    waiting = f"""SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'
                  AND query LIKE '%pg_advisory_xact_lock({key})%'"""
    holder = conn.cursor()
    holder.execute(f"SELECT pg_advisory_xact_lock({key})")  # hold the hour, as another run of it would

    outcome = {}
    thread = threading.Thread(
        target=lambda: outcome.setdefault(
            "result",
            dg.materialize([telemetry_tables], partition_key=KEY, resources=resources(landing, database_url, schema), raise_on_error=False),
        )
    )
    thread.start()

    def wait_for_waiter(exclude=()):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pids = [pid for (pid,) in query(database_url, waiting) if pid not in exclude]
            if pids:
                return pids[0]
            time.sleep(0.05)
        raise AssertionError("no load is waiting for the hour's lock")

    first = wait_for_waiter()
    execute(database_url, f"SELECT pg_terminate_backend({first})")  # the connection is lost
    wait_for_waiter(exclude={first})  # the retry is back, waiting for the same lock
    conn.commit()  # release the hour
    conn.close()
    thread.join(120)

    result = outcome["result"]
    assert result.success
    assert len([e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]) == 1
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["retries"].value == 1
    assert counts(database_url, schema)["trace_spans"] == stats.spans
