"""The lake in Dagster: the asset downstream of the warehouse in a real run, the maintenance job as a real run,
definitions that include the lake only when configured."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import dagster as dg
import pytest

from observatory_etl import synth
from observatory_etl.defs import lake as lake_defs
from observatory_etl.defs.assets import telemetry_tables
from observatory_etl.defs.lake import LakeResource, lake_maintenance, lake_tables
from observatory_etl.defs.resources import LandingResource, WarehouseResource
from observatory_etl.lake import LAKE_TABLES, PARTITION_KEY, row_counts
from tests.conftest import HOUR, ROOT, counts
from tests.lake.conftest import lake_counts, read

KEY = "2026-11-01-00:00"


def resources(landing, database_url, schema, lake_dir, chunk_rows=50_000):
    return {
        "landing": LandingResource(url=str(landing)),
        "warehouse": WarehouseResource(database_url=database_url, schema_name=schema, chunk_rows=chunk_rows),
        "lake": LakeResource(url=str(lake_dir)),
    }


def test_materialize_warehouse_and_lake_then_rerun(catalog, landing, lake_dir, database_url, schema):
    stats = synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=30, seed=12)

    result = dg.materialize([telemetry_tables, lake_tables], partition_key=KEY,
                            resources=resources(landing, database_url, schema, lake_dir))

    assert result.success
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("lake_tables")]
    metadata = event.materialization.metadata
    warehouse = counts(database_url, schema)
    lake = lake_counts(catalog, schema)
    assert metadata["rows"].value == {name: lake[name].get(KEY, 0) for name in LAKE_TABLES}
    for name in LAKE_TABLES:
        assert lake[name].get(KEY, 0) == warehouse[name], name
    assert lake["trace_spans"][KEY] == stats.spans
    assert metadata["rows_per_second"].value > 0 and metadata["location"].value == lake_dir.as_uri() + f"/{schema}"
    # The lake asset ran after the warehouse's, in the same run.
    order = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert order.index("lake_tables") > order.index("telemetry_tables")

    again = dg.materialize([lake_tables], partition_key=KEY, resources=resources(landing, database_url, schema, lake_dir))
    assert again.success and lake_counts(catalog, schema) == lake


def test_lake_maintenance_job_expires_compacts_and_removes_orphans(catalog, landing, lake_dir, database_url, schema,
                                                                  monkeypatch):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=2), traces_per_hour=30, seed=13)
    res = resources(landing, database_url, schema, lake_dir, chunk_rows=60)  # small chunks: many small files
    for key in (KEY, "2026-11-01-01:00", KEY):
        assert dg.materialize([lake_tables], partition_key=key, resources=res).success
    spans = catalog.load_table((schema, "trace_spans"))
    files_before = len(spans.inspect.data_files())
    rows_before = {name: read(catalog, schema, name).sort(list(LAKE_TABLES[name].key) + [PARTITION_KEY])
                   for name in LAKE_TABLES}
    assert len(spans.snapshots()) > 10 and files_before > 4
    orphan = lake_dir / schema / "trace_spans" / "data" / "orphan-from-a-killed-writer.parquet"
    orphan.write_bytes(b"PAR1")
    os.utime(orphan, (0, 0))

    # Run the job 30 days from now: every snapshot but the current one is older than snapshot_days.
    real_datetime = datetime
    future = real_datetime.now(timezone.utc) + timedelta(days=30)

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return future if tz else future.replace(tzinfo=None)

    monkeypatch.setattr(lake_defs, "datetime", Later)
    compact_days = (future.date() - date(2026, 10, 31)).days
    result = lake_maintenance.execute_in_process(
        run_config={"ops": {"lake_maintenance_op": {"config": {"snapshot_days": 7, "compact_days": compact_days}}}},
        resources={"warehouse": res["warehouse"], "lake": res["lake"]},
    )

    assert result.success
    [materialization] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    tables = materialization.event_specific_data.metadata["tables"].value
    assert tables["trace_spans"]["partitions_compacted"] >= 1
    assert tables["trace_spans"]["data_files_after"] < tables["trace_spans"]["data_files_before"]
    assert tables["trace_spans"]["orphan_files_deleted"] == 1 and not orphan.exists()
    for name in LAKE_TABLES:
        table = catalog.load_table((schema, name))
        assert len(table.snapshots()) <= 1, name  # only the current snapshot is left
        partitions = table.inspect.partitions().to_pylist()
        assert all(p["file_count"] == 1 for p in partitions), name  # one file per (event day, landing hour)
        after = read(catalog, schema, name).sort(list(LAKE_TABLES[name].key) + [PARTITION_KEY])
        assert after.equals(rows_before[name]), name  # the same rows, values and hours
        on_disk = {str(p) for p in (lake_dir / schema / name / "data").rglob("*.parquet")}
        live = {path.removeprefix("file://") for path in table.inspect.data_files()["file_path"].to_pylist()}
        assert on_disk == live, name  # no file left behind
    assert len(catalog.load_table((schema, "trace_spans")).inspect.data_files()) < files_before
    assert row_counts(catalog, schema) == {name: rows_before[name].height for name in LAKE_TABLES}


def test_definitions_include_the_lake_only_when_configured(tmp_path):
    code = ("from observatory_etl.definitions import defs; "
            "print(sorted(k.to_user_string() for k in defs.resolve_all_asset_keys())); "
            "print(sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith('__'))); "
            "print(sorted(s.name for s in defs.schedules))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBSERVATORY_LAKE")}
    env["DAGSTER_HOME"] = str(tmp_path)
    off = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert "lake_tables" not in off and "lake_maintenance" not in off
    on = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env={**env, "OBSERVATORY_LAKE_URL": str(tmp_path / "lake")},
                        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True).stdout.splitlines()
    assert "'lake_tables'" in on[0]
    assert "'lake_maintenance'" in on[1] and "'lake_write'" in on[1]
    assert "'lake_maintenance_daily'" in on[2]


def test_schedule_stopped_and_automation_follows_the_warehouse():
    assert lake_defs.lake_maintenance_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert lake_tables.partitions_def == telemetry_tables.partitions_def
    assert set(lake_tables.asset_deps[dg.AssetKey("lake_tables")]) == set(telemetry_tables.keys)
    assert lake_tables.automation_conditions_by_key[dg.AssetKey("lake_tables")] is not None


@pytest.mark.parametrize("variable", ["OBSERVATORY_LAKE_URL", "OBSERVATORY_LAKE_CATALOG"])
def test_lake_enabled_by_either_setting(monkeypatch, variable):
    monkeypatch.delenv("OBSERVATORY_LAKE_URL", raising=False)
    monkeypatch.delenv("OBSERVATORY_LAKE_CATALOG", raising=False)
    assert not lake_defs.lake_enabled()
    assert list(lake_defs.lake_definitions().assets or []) == []
    monkeypatch.setenv(variable, "prod" if variable.endswith("CATALOG") else "/tmp/lake")
    assert lake_defs.lake_enabled()
    assert [a.key for a in lake_defs.lake_definitions().assets] == [dg.AssetKey("lake_tables")]


def test_automation_requests_the_hour_the_warehouse_loaded(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    defs = dg.Definitions(assets=[telemetry_tables, lake_tables], resources={
        "landing": LandingResource(), "warehouse": WarehouseResource(), "lake": LakeResource(url=str(tmp_path))})
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert result.total_requested == 0  # enabling the lake does not backfill history by itself
    for key in telemetry_tables.keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=KEY))
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.get_requested_partitions(dg.AssetKey("lake_tables")) == {KEY}
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert result.total_requested == 0  # requested once
