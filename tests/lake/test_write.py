"""Hours into the lake on a real catalog (SqlCatalog in PostgreSQL) and a local path: exact counts equal to the
warehouse's, reruns replacing exactly one hour in one commit per table, commit conflicts, failed hours, schema
evolution."""

from __future__ import annotations

import threading
from datetime import timedelta

import polars as pl
import pytest
from pyiceberg.exceptions import CommitFailedException

from observatory_etl import synth
from observatory_etl.ingest.landing import LandingError
from observatory_etl.lake import (
    LAKE_TABLES,
    PARTITION_KEY,
    LakeCommitError,
    ensure_table,
    ensure_tables,
    row_counts,
    write_hour,
)
from observatory_etl.lake import catalog as catalog_mod
from observatory_etl.lake import schema as schema_mod
from observatory_etl.pipeline import decoder as decoder_mod
from observatory_etl.lake.catalog import open_catalog
from observatory_etl.lake.schema import lake_table
from observatory_etl.pipeline.hour import load_hour
from observatory_etl.tables import RECORD_TABLES, TEXT, Column, Table
from tests.conftest import HOUR, land, query
from tests.lake.conftest import lake_counts, read

H0, H1 = HOUR, HOUR + timedelta(hours=1)
K0, K1 = "2026-11-01-00:00", "2026-11-01-01:00"


def commits(catalog, namespace) -> dict[str, int]:
    """Catalog commits so far per table (each commit writes one metadata file)."""
    out = {}
    for name in LAKE_TABLES:
        table = catalog.load_table((namespace, name))
        out[name] = len(table.metadata.metadata_log) + 1
    return out


def warehouse_counts(database_url, schema) -> dict[str, int]:
    return {t: query(database_url, f'SELECT count(*) FROM "{schema}".{t}')[0][0] for t in RECORD_TABLES}


def distinct_keys(frame: pl.DataFrame, name: str) -> int:
    return frame.select(list(RECORD_TABLES[name].key)).unique().height if frame.height else 0


def test_two_hours_and_a_rerun_match_the_warehouse(catalog, landing, database_url, schema):
    stats = synth.write_landing(str(landing), H0, H1 + timedelta(hours=1), traces_per_hour=40, seed=11)
    for hour in (H0, H1):
        load_hour(hour, landing_url=str(landing), database_url=database_url, schema=schema)
    first = write_hour(catalog, schema, H0, landing_url=str(landing), chunk_rows=150)
    assert first.chunks > 1  # several chunks, still one commit per table
    write_hour(catalog, schema, H1, landing_url=str(landing))
    after_two = commits(catalog, schema)
    snapshot_after_h0 = {n: catalog.load_table((schema, n)).current_snapshot() for n in LAKE_TABLES}
    before = lake_counts(catalog, schema)

    again = write_hour(catalog, schema, H0, landing_url=str(landing), chunk_rows=100, run_id="rerun")

    assert lake_counts(catalog, schema) == before  # the rerun replaced exactly hour 0's rows
    assert row_counts(catalog, schema) == {name: sum(before[name].values()) for name in LAKE_TABLES}
    after_rerun = commits(catalog, schema)
    for name in LAKE_TABLES:  # one commit per table that has or had rows of hour 0, none for the others
        assert after_rerun[name] - after_two[name] == (1 if before[name].get(K0) else 0), name
    assert again.rows == {name: before[name].get(K0, 0) for name in LAKE_TABLES}
    summary = catalog.load_table((schema, "trace_spans")).current_snapshot().summary
    assert summary["observatory.partition-key"] == K0 and summary["observatory.run-id"] == "rerun"

    # Exact counts: the synthesized records, and the warehouse's rows for the same two hours.
    lake = {name: read(catalog, schema, name) for name in LAKE_TABLES}
    assert lake["trace_spans"].height == stats.spans
    assert lake["trace_events"].height == stats.span_events
    assert lake["logs"].height == stats.logs
    assert lake["metric_data_points"].height == stats.metric_data_points
    warehouse = warehouse_counts(database_url, schema)
    for name in LAKE_TABLES:
        # Each key once per landing hour; a metric stream seen in both hours is one warehouse row.
        assert distinct_keys(lake[name], name) == warehouse[name], name
        per_hour = lake[name].group_by(PARTITION_KEY).agg(pl.struct(list(RECORD_TABLES[name].key)).n_unique().alias("k"), pl.len())
        assert all(k == n for k, n in per_hour.select("k", "len").iter_rows()), name
        if name != "metrics":
            assert lake[name].height == warehouse[name], name
    # The same normalization: the LLM columns of every span equal the warehouse's.
    columns = "trace_id, span_id, request_model, input_tokens, output_tokens, total_cost_usd, cost_source"
    in_warehouse = sorted(
        (bytes.fromhex(t.replace("-", "")), *rest)
        for t, *rest in query(database_url, f'SELECT trace_id::text, {columns.split(", ", 1)[1]} FROM "{schema}".trace_spans')
    )
    in_lake = sorted(lake["trace_spans"].select(columns.split(", ")).iter_rows())
    assert in_lake == in_warehouse
    # Old snapshots stay readable: the state after hour 0 holds hour 0 only.
    old = read(catalog, schema, "trace_spans", snapshot_id=snapshot_after_h0["trace_spans"].snapshot_id)
    assert set(old[PARTITION_KEY]) == {K0, K1}
    first_snapshot = catalog.load_table((schema, "trace_spans")).history()[0]
    assert read(catalog, schema, "trace_spans", snapshot_id=first_snapshot.snapshot_id).height > 0


def test_quarantined_records_never_reach_the_lake(catalog, landing, database_url, schema):
    synth.write_landing(str(landing), H0, H1, traces_per_hour=10, seed=2)
    land(landing, H0, "traces_bad.json", b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', minute=30)
    land(landing, H0, "logs_bad.json", b"not json", minute=31)
    result = write_hour(catalog, schema, H0, landing_url=str(landing))
    assert result.records_rejected >= 1 and result.files_rejected == 1
    load_hour(H0, landing_url=str(landing), database_url=database_url, schema=schema)
    warehouse = warehouse_counts(database_url, schema)
    for name in LAKE_TABLES:
        assert read(catalog, schema, name).height == warehouse[name], name


def test_a_failed_hour_leaves_no_snapshot_and_no_files(catalog, landing, lake_dir, schema):
    synth.write_landing(str(landing), H0, H1, traces_per_hour=30, seed=5)
    write_hour(catalog, schema, H0, landing_url=str(landing))
    before = {n: catalog.load_table((schema, n)).metadata_location for n in LAKE_TABLES}
    files_before = sorted(p for p in lake_dir.rglob("*") if p.is_file())
    counts_before = lake_counts(catalog, schema)
    land(landing, H0, "traces_zzz.json", b"{ truncated", minute=59)  # sorts last: earlier chunks were staged

    with pytest.raises(LandingError, match="traces_zzz"):
        write_hour(catalog, schema, H0, landing_url=str(landing), chunk_rows=50, on_bad_input="fail")

    assert {n: catalog.load_table((schema, n)).metadata_location for n in LAKE_TABLES} == before
    assert sorted(p for p in lake_dir.rglob("*") if p.is_file()) == files_before  # staged files deleted
    assert lake_counts(catalog, schema) == counts_before


def test_another_writer_committing_meanwhile(catalog, landing, database_url, schema, monkeypatch):
    """A real conflict: while hour 0 is being written, another writer (its own catalog) commits hour 1 to the
    same tables, then hour 0 itself. pyiceberg retries the first (another hour: no conflict); the second
    conflicts with our delete of hour 0, and the hour is written again."""
    synth.write_landing(str(landing), H0, H1 + timedelta(hours=1), traces_per_hour=20, seed=9)
    ensure_tables(catalog, schema)
    other = open_catalog(str(catalog.properties["warehouse"]), database_url=database_url, schema=schema)
    decode = decoder_mod.decode_into  # the lake decodes through the pipeline's Decoder
    interfere = iter([H1, H0])
    calls = {"n": 0}

    def decode_and_interfere(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # inside the first attempt, transactions open
            for hour in interfere:
                write_hour(other, schema, hour, landing_url=str(landing))
        return decode(*args, **kwargs)

    monkeypatch.setattr(decoder_mod, "decode_into", decode_and_interfere)
    result = write_hour(catalog, schema, H0, landing_url=str(landing), backoff_seconds=0.01)
    monkeypatch.setattr(decoder_mod, "decode_into", decode)
    other.engine.dispose()

    assert result.attempts == 2
    expected = {}
    for hour in (H0, H1):
        expected[hour] = write_hour(catalog, schema, hour, landing_url=str(landing)).rows
    counts = lake_counts(catalog, schema)
    for name in LAKE_TABLES:
        assert counts[name].get(K0, 0) == expected[H0][name] and counts[name].get(K1, 0) == expected[H1][name], name


def test_commit_failures_are_retried_then_reported(catalog, landing, schema, monkeypatch):
    synth.write_landing(str(landing), H0, H1, traces_per_hour=10, seed=4)
    tables = ensure_tables(catalog, schema)
    for table in tables.values():  # fast retries for the test
        with table.transaction() as transaction:
            transaction.set_properties({"commit.retry.min-wait-ms": "1", "commit.retry.max-wait-ms": "5",
                                        "commit.retry.num-retries": "2"})
    commit_table = type(catalog).commit_table
    failures = {"left": 2}

    def flaky(self, table, requirements, updates):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise CommitFailedException("simulated concurrent update")
        return commit_table(self, table, requirements, updates)

    monkeypatch.setattr(type(catalog), "commit_table", flaky)
    result = write_hour(catalog, schema, H0, landing_url=str(landing), backoff_seconds=0.01)
    assert failures["left"] == 0 and result.attempts == 1  # pyiceberg's own retries absorbed both
    assert lake_counts(catalog, schema)["trace_spans"] == {K0: result.rows["trace_spans"]}

    before = {n: catalog.load_table((schema, n)).metadata_location for n in LAKE_TABLES}
    failures["left"] = 10**6
    with pytest.raises(LakeCommitError, match="after 2 attempts"):
        write_hour(catalog, schema, H0, landing_url=str(landing), attempts=2, backoff_seconds=0.01)
    monkeypatch.setattr(type(catalog), "commit_table", commit_table)
    assert {n: catalog.load_table((schema, n)).metadata_location for n in LAKE_TABLES} == before


def test_concurrent_writers_of_different_hours(catalog, landing, database_url, schema):
    synth.write_landing(str(landing), H0, H1 + timedelta(hours=1), traces_per_hour=20, seed=3)
    ensure_tables(catalog, schema)
    errors = []

    def writer(hour):
        own = open_catalog(str(catalog.properties["warehouse"]), database_url=database_url, schema=schema)
        try:
            write_hour(own, schema, hour, landing_url=str(landing), chunk_rows=60, backoff_seconds=0.05)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            own.engine.dispose()

    threads = [threading.Thread(target=writer, args=(hour,)) for hour in (H0, H1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    counts = lake_counts(catalog, schema)
    load_hour(H0, landing_url=str(landing), database_url=database_url, schema=schema)
    load_hour(H1, landing_url=str(landing), database_url=database_url, schema=schema)
    assert sum(counts["trace_spans"].values()) == warehouse_counts(database_url, schema)["trace_spans"]
    assert set(counts["trace_spans"]) == {K0, K1}


def test_a_new_catalogue_column_evolves_the_table(catalog, landing, schema, monkeypatch):
    synth.write_landing(str(landing), H0, H1 + timedelta(hours=1), traces_per_hour=10, seed=6)
    write_hour(catalog, schema, H0, landing_url=str(landing))
    logs = catalog.load_table((schema, "logs"))
    old_snapshot, old_schema_id = logs.current_snapshot().snapshot_id, logs.schema().schema_id
    old_rows = read(catalog, schema, "logs")

    # The catalogue gains a column: the lake table is evolved by name, the next hour writes it.
    wider = Table("logs", "", RECORD_TABLES["logs"].key,
                  RECORD_TABLES["logs"].columns + (Column("severity_class", TEXT),), partitioned=True)
    monkeypatch.setitem(schema_mod.LAKE_TABLES, "logs", lake_table(wider))
    monkeypatch.setitem(catalog_mod.LAKE_TABLES, "logs", lake_table(wider))
    evolved = ensure_table(catalog, schema, lake_table(wider))
    assert evolved.schema().find_field("severity_class").field_type == lake_table(wider).schema.find_field("severity_class").field_type
    assert evolved.schema().schema_id != old_schema_id
    assert ensure_table(catalog, schema, lake_table(wider)).metadata_location == evolved.metadata_location  # no-op now
    write_hour(catalog, schema, H1, landing_url=str(landing))

    now = read(catalog, schema, "logs")
    assert "severity_class" in now.columns and now["severity_class"].null_count() == now.height
    assert set(now[PARTITION_KEY]) == {K0, K1}
    then = read(catalog, schema, "logs", snapshot_id=old_snapshot)  # the old snapshot reads as it was written
    assert then.height == old_rows.height and set(then[PARTITION_KEY]) == {K0}
    assert then.drop("severity_class", strict=False).sort("log_id").equals(old_rows.sort("log_id"))


def test_a_named_catalog_from_the_environment(landing, tmp_path, monkeypatch):
    """OBSERVATORY_LAKE_CATALOG=<name>: any pyiceberg catalog configured by name (here a SqlCatalog on SQLite
    from PYICEBERG_CATALOG__LOCAL__* variables); OBSERVATORY_LAKE_URL is its warehouse."""
    synth.write_landing(str(landing), H0, H1, traces_per_hour=10, seed=1)
    monkeypatch.setenv("PYICEBERG_CATALOG__LOCAL__TYPE", "sql")
    monkeypatch.setenv("PYICEBERG_CATALOG__LOCAL__URI", f"sqlite:///{tmp_path / 'catalog.db'}")
    named = open_catalog(str(tmp_path / "named-lake"), catalog_name="local")
    try:
        result = write_hour(named, "observatory", H0, landing_url=str(landing))
        assert named.name == "local"
        assert named.load_table("observatory.trace_spans").location().startswith((tmp_path / "named-lake").as_uri())
        assert row_counts(named, "observatory") == result.rows
    finally:
        named.engine.dispose()
