"""The lake's design derives from the table catalogue; the lake package is pure code; its settings validate."""

from __future__ import annotations

import ast
from datetime import datetime, timezone

import polars as pl
import pyarrow as pa
import pytest
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (
    FixedType,
    IntegerType,
    ListType,
    LongType,
    StringType,
    TimestamptzType,
)

from observatory_etl import config
from observatory_etl.lake import (
    LAKE_TABLES,
    PARTITION_KEY,
    to_arrow,
    warehouse_location,
)
from observatory_etl.lake.catalog import (
    LakeConfigError,
    catalog_schema_name,
    sqlalchemy_catalog_url,
    storage_properties,
)
from observatory_etl.tables import RECORD_TABLES
from tests.conftest import ROOT


def test_one_lake_table_per_record_table_with_the_catalogue_columns():
    assert list(LAKE_TABLES) == list(RECORD_TABLES)
    for name, table in RECORD_TABLES.items():
        lake = LAKE_TABLES[name]
        assert lake.column_names == table.column_names + (PARTITION_KEY,)
        assert lake.key == table.key
        assert lake.schema.find_field(PARTITION_KEY).required
        assert not any(field.required for field in lake.schema.fields if field.name != PARTITION_KEY)
    assert set(LAKE_TABLES["trace_spans"].column_names) >= {"request_model", "input_tokens", "total_cost_usd", "input"}


def test_types_ids_fixed_times_microseconds_attributes_json_text():
    spans = LAKE_TABLES["trace_spans"].schema
    assert spans.find_field("trace_id").field_type == FixedType(16)
    assert spans.find_field("span_id").field_type == LongType()
    assert spans.find_field("kind").field_type == IntegerType()
    assert spans.find_field("start_time").field_type == TimestamptzType()
    assert spans.find_field("attributes").field_type == StringType()
    assert isinstance(spans.find_field("finish_reasons").field_type, ListType)
    points = LAKE_TABLES["metric_data_points"].schema
    assert points.find_field("bucket_counts").field_type.element_type == LongType()


def test_partitioned_by_event_day_and_landing_hour_sorted_by_trace_id():
    expected_time = {"trace_spans": "start_time", "trace_events": "time", "metric_data_points": "time", "logs": "time",
                     "trace_links": None, "metrics": None}
    for name, lake in LAKE_TABLES.items():
        assert lake.event_time == expected_time[name]
        transforms = [(lake.schema.find_column_name(f.source_id), type(f.transform)) for f in lake.spec.fields]
        assert transforms == ([(lake.event_time, DayTransform)] if lake.event_time else []) + [(PARTITION_KEY, IdentityTransform)]
        assert lake.sort[0] == ("trace_id" if "trace_id" in lake.key else lake.key[0])
        assert [lake.schema.find_column_name(f.source_id) for f in lake.sort_order.fields] == list(lake.sort)


def test_to_arrow_casts_to_the_lake_types_and_sorts():
    frame = pl.DataFrame(
        {"trace_id": [b"\x02" * 16, b"\x01" * 16], "span_id": [5, 6], "event_index": [0, 1],
         "time": [datetime(2026, 11, 1, tzinfo=timezone.utc)] * 2, "name": ["b", "a"], "attributes": ["{}", '{"k":1}']},
        schema=RECORD_TABLES["trace_events"].schema(),
    )
    arrow = to_arrow("trace_events", frame, "2026-11-01-00:00")
    assert arrow.schema.field("trace_id").type == pa.binary(16)
    assert arrow.schema.field("event_index").type == pa.int32()
    assert arrow.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert arrow.column("name").to_pylist() == ["a", "b"]  # sorted by trace_id
    assert arrow.column(PARTITION_KEY).to_pylist() == ["2026-11-01-00:00"] * 2
    # A frame without a column the lake has (an older catalogue) writes it as null.
    narrower = to_arrow("trace_events", frame.drop("attributes"), "2026-11-01-00:00")
    assert narrower.column("attributes").null_count == 2


def test_a_trace_id_that_is_not_16_bytes_is_refused():
    frame = pl.DataFrame({"trace_id": [b"short"], "span_id": [1], "link_index": [0]},
                         schema_overrides={"link_index": pl.Int32})
    with pytest.raises(pa.ArrowInvalid):
        to_arrow("trace_links", frame, "2026-11-01-00:00")


def test_lake_package_imports_no_dagster_layer():
    for path in (ROOT / "observatory_etl" / "lake").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("dagster", "observatory_etl.defs", "observatory_etl.cli")), (path, name)
                assert not (isinstance(node, ast.ImportFrom) and node.level and name.startswith(("defs", "cli"))), (path, name)


def test_locations(tmp_path, monkeypatch):
    assert warehouse_location(str(tmp_path / "a" / "lake")) == (tmp_path / "a" / "lake").as_uri()
    assert (tmp_path / "a" / "lake").is_dir()
    assert warehouse_location("s3://bucket/lake/") == "s3://bucket/lake"
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")
    assert warehouse_location("az://container/lake") == "abfs://container@acct.dfs.core.windows.net/lake"
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME")
    with pytest.raises(LakeConfigError, match="AZURE_STORAGE_ACCOUNT_NAME"):
        warehouse_location("az://container/lake")
    with pytest.raises(LakeConfigError, match="OBSERVATORY_LAKE_URL"):
        warehouse_location("ftp://host/lake")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert storage_properties("s3://bucket/lake")["s3.region"] == "us-east-1"  # never resolved over the network
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    assert storage_properties("s3://bucket/lake")["s3.endpoint"] == "http://127.0.0.1:9000"
    assert storage_properties("file:///tmp/lake") == {}


def test_catalog_url_and_schema():
    url = sqlalchemy_catalog_url("postgresql://postgres:@/postgres?host=/tmp/pg", "observatory_lake")
    assert url.startswith("postgresql+psycopg2://postgres:@/postgres?")
    assert "host=%2Ftmp%2Fpg" in url and "options=-csearch_path%3Dobservatory_lake" in url
    assert catalog_schema_name("observatory") == "observatory_lake"
    with pytest.raises(ValueError):
        catalog_schema_name("x" * 60)


def test_settings(monkeypatch):
    for name in ("OBSERVATORY_LAKE_URL", "OBSERVATORY_LAKE_CATALOG", "OBSERVATORY_LAKE_SNAPSHOT_DAYS"):
        monkeypatch.delenv(name, raising=False)
    assert config.lake_url() is None and config.lake_catalog() is None
    assert config.lake_snapshot_days() == 7
    monkeypatch.setenv("OBSERVATORY_LAKE_URL", " s3://bucket/lake ")
    monkeypatch.setenv("OBSERVATORY_LAKE_CATALOG", "prod")
    monkeypatch.setenv("OBSERVATORY_LAKE_SNAPSHOT_DAYS", "30")
    assert (config.lake_url(), config.lake_catalog(), config.lake_snapshot_days()) == ("s3://bucket/lake", "prod", 30)
    monkeypatch.setenv("OBSERVATORY_LAKE_SNAPSHOT_DAYS", "0")
    with pytest.raises(ValueError, match="OBSERVATORY_LAKE_SNAPSHOT_DAYS"):
        config.lake_snapshot_days()
    monkeypatch.setenv("OBSERVATORY_LAKE_CATALOG", "prod; drop")
    with pytest.raises(ValueError, match="OBSERVATORY_LAKE_CATALOG"):
        config.lake_catalog()
