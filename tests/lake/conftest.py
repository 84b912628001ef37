"""Fixtures of the lake tests: a lake on a local path with its default SqlCatalog in the test's PostgreSQL, and
helpers reading it back."""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl
import pytest

from observatory_etl.lake import LAKE_TABLES, PARTITION_KEY, close_catalog, open_catalog
from observatory_etl.lake.catalog import catalog_schema_name
from tests.conftest import execute


@pytest.fixture
def lake_dir(tmp_path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def catalog(database_url, schema, lake_dir):
    """The default catalog (SqlCatalog in schema ``<schema>_lake``) over a lake on a local path."""
    opened = open_catalog(str(lake_dir), database_url=database_url, schema=schema)
    yield opened
    close_catalog(opened)
    execute(database_url, f'DROP SCHEMA IF EXISTS "{catalog_schema_name(schema)}" CASCADE')


def read(catalog, namespace: str, name: str, snapshot_id: int | None = None) -> pl.DataFrame:
    """A whole lake table (or one of its snapshots) through ``polars.scan_iceberg``."""
    table = catalog.load_table((namespace, name))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*polars_iceberg.*")
        return pl.scan_iceberg(table, snapshot_id=snapshot_id).collect()


def lake_counts(catalog, namespace: str) -> dict[str, dict[str, int]]:
    """Rows per table per landing hour: ``{table: {partition_key: rows}}``."""
    out = {}
    for name in LAKE_TABLES:
        frame = read(catalog, namespace, name)
        out[name] = dict(frame.group_by(PARTITION_KEY).len().iter_rows()) if frame.height else {}
    return out
