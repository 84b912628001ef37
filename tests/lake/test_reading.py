"""The reading examples of docs/lake.md run as written: tokens and cost per model per day over the whole lake,
through polars.scan_iceberg, and a plain pyiceberg catalog opened without observatory_etl."""

from __future__ import annotations

import warnings
from datetime import timedelta

import polars as pl
import pytest
from pyiceberg.catalog import load_catalog

from observatory_etl import synth
from observatory_etl.lake import write_hour
from observatory_etl.lake.catalog import sqlalchemy_catalog_url
from observatory_etl.pipeline.hour import load_hour
from tests.conftest import HOUR, query

pytestmark = pytest.mark.filterwarnings("ignore:.*polars_iceberg.*")


def usage_per_model_per_day(spans: pl.LazyFrame) -> pl.DataFrame:
    """The query of docs/lake.md ("Tokens and cost per model per day, all history")."""
    return (
        spans.filter(pl.col("request_model").is_not_null())
        .unique(subset=["trace_id", "span_id"], keep="any")  # a span landed in two hours counts once
        .group_by(pl.col("start_time").dt.date().alias("day"), "request_model")
        .agg(
            calls=pl.len(),
            input_tokens=pl.col("input_tokens").sum(),
            output_tokens=pl.col("output_tokens").sum(),
            cost_usd=pl.col("total_cost_usd").sum(),
        )
        .sort("day", "request_model")
        .collect()
    )


def test_usage_per_model_per_day_equals_the_warehouse(catalog, landing, lake_dir, database_url, schema):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=3), traces_per_hour=20, seed=21)
    for n in range(3):
        write_hour(catalog, schema, HOUR + timedelta(hours=n), landing_url=str(landing))
        load_hour(HOUR + timedelta(hours=n), landing_url=str(landing), database_url=database_url, schema=schema)

    # As docs/lake.md: any engine with a catalog of the same tables (here pyiceberg alone, no observatory_etl).
    plain = load_catalog(
        "observatory", type="sql", warehouse=lake_dir.as_uri(),
        uri=sqlalchemy_catalog_url(database_url, f"{schema}_lake"),
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*polars_iceberg.*")
        lake = usage_per_model_per_day(pl.scan_iceberg(plain.load_table(f"{schema}.trace_spans")))
    plain.engine.dispose()

    warehouse = query(database_url, f"""
        SELECT (start_time AT TIME ZONE 'UTC')::date, request_model, count(*), sum(input_tokens)::bigint, sum(output_tokens)::bigint,
               sum(total_cost_usd)
        FROM "{schema}".trace_spans WHERE request_model IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2""")
    assert len(lake) == len(warehouse) > 0
    for got, want in zip(lake.iter_rows(), warehouse, strict=True):
        assert got[:5] == tuple(want[:5])
        assert got[5] == pytest.approx(want[5], rel=1e-9)
