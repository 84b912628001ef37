"""The lake on an S3-compatible server on loopback (moto's ThreadedMotoServer): written, rewritten, read back,
maintained; the landing stays on a local path."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto.server import ThreadedMotoServer

from observatory_etl import synth
from observatory_etl.lake import (
    LAKE_TABLES,
    close_catalog,
    expire_snapshots,
    open_catalog,
    remove_orphan_files,
    write_hour,
)
from observatory_etl.lake.catalog import catalog_schema_name
from observatory_etl.pipeline.hour import load_hour
from tests.conftest import HOUR, execute, query
from tests.lake.conftest import lake_counts

BUCKET = "observatory-lake"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3(monkeypatch):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                        "AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


def keys(client, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def test_lake_on_s3(s3, landing, database_url, schema):
    stats = synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=2), traces_per_hour=20, seed=8)
    catalog = open_catalog(f"s3://{BUCKET}/lake", database_url=database_url, schema=schema)
    try:
        for hour in (HOUR, HOUR + timedelta(hours=1), HOUR):  # the last one a rerun
            write_hour(catalog, schema, hour, landing_url=str(landing), chunk_rows=80)
            load_hour(hour, landing_url=str(landing), database_url=database_url, schema=schema)
        spans = catalog.load_table((schema, "trace_spans"))
        assert spans.location() == f"s3://{BUCKET}/lake/{schema}/trace_spans"
        counts = lake_counts(catalog, schema)
        assert sum(counts["trace_spans"].values()) == stats.spans
        assert sum(counts["logs"].values()) == stats.logs
        for name in LAKE_TABLES:
            if name != "metrics":  # a metric stream of both hours is one warehouse row, one lake row per hour
                assert sum(counts[name].values()) == query(database_url, f'SELECT count(*) FROM "{schema}".{name}')[0][0]
        data = [k for k in keys(s3, f"lake/{schema}/trace_spans/data/") if k.endswith(".parquet")]
        assert len(data) > len(spans.inspect.data_files())  # the replaced hour's files are still there…

        later = datetime.now(timezone.utc) + timedelta(seconds=1)
        expired = expire_snapshots(spans, later)
        assert expired.snapshots_kept == 1 and expired.files_deleted > 0
        data = [k for k in keys(s3, f"lake/{schema}/trace_spans/data/") if k.endswith(".parquet")]
        assert len(data) == len(spans.inspect.data_files())  # …until their snapshots expire
        s3.put_object(Bucket=BUCKET, Key=f"lake/{schema}/trace_spans/data/orphan.parquet", Body=b"x")
        orphans = remove_orphan_files(spans, later + timedelta(minutes=5))
        assert [p.rsplit("/", 1)[-1] for p in orphans.files_deleted] == ["orphan.parquet"]
        assert lake_counts(catalog, schema) == counts
    finally:
        close_catalog(catalog)
        execute(database_url, f'DROP SCHEMA IF EXISTS "{catalog_schema_name(schema)}" CASCADE')
