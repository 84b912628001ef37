"""Lake write throughput beside the warehouse load, on one synthetic landing hour.

    .venv/bin/python -m benchmarks.lake_write [--spans 100000] [--chunk-rows 50000] [--database-url URL] [--lake PATH]

Synthesizes the hour 2026-11-01T00Z (as ``observatory-etl bench`` does), loads it into the warehouse with
``load_hour`` (a fresh schema), writes it into the lake with ``write_hour`` (a fresh namespace; the default
SqlCatalog in the same PostgreSQL, the lake in a temporary folder unless ``--lake``), and prints rows,
seconds and rows/s of both, with the lake's stages. Both sinks decode the landing themselves. Schemas and
temporary folders are removed at the end. Needs the lake extra (``pip install -e '.[lake]'``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2

from observatory_etl import config
from observatory_etl.lake import close_catalog, ensure_tables, open_catalog, write_hour
from observatory_etl.lake.catalog import catalog_schema_name
from observatory_etl.pipeline.hour import load_hour
from observatory_etl.warehouse import embedded

from .run import HOUR, synthesize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lake_write", description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=100_000, help="spans in the synthetic hour (default 100,000)")
    parser.add_argument("--chunk-rows", type=int, default=config.DEFAULT_CHUNK_ROWS, help="rows per chunk, both sinks")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default OBSERVATORY_DATABASE_URL or embedded)")
    parser.add_argument("--lake", default=None, help="lake location (default a temporary folder)")
    args = parser.parse_args(argv)

    os.environ["DAGSTER_HOME"] = str(config.dagster_home())  # the embedded server lives under it
    database_url = embedded.database_url(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="observatory-lake-bench-"))
    schema = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    lake_url = args.lake or str(workdir / "lake")
    try:
        landing_url = str(workdir / "landing")
        synthesize(landing_url, args.spans, print)

        warehouse = load_hour(HOUR, landing_url=landing_url, database_url=database_url, schema=schema,
                              chunk_rows=args.chunk_rows, log=lambda line: None)
        warehouse_rows = sum(warehouse.load.merged.values())
        records = sum(warehouse.records.values())

        catalog = open_catalog(lake_url, database_url=database_url, schema=schema)
        try:
            ensure_tables(catalog, schema)  # created before the clock starts
            started = time.perf_counter()
            lake = write_hour(catalog, schema, HOUR, landing_url=landing_url, chunk_rows=args.chunk_rows)
            lake_seconds = time.perf_counter() - started
            started = time.perf_counter()
            rerun = write_hour(catalog, schema, HOUR, landing_url=landing_url, chunk_rows=args.chunk_rows)
            rerun_seconds = time.perf_counter() - started
        finally:
            close_catalog(catalog)

        print()
        print(f"one landing hour: {records:,} records decoded, {args.chunk_rows:,} rows per chunk")
        print(f"{'sink':<50} {'rows':>10} {'seconds':>8} {'rows/s':>9}")
        lines = [
            ("warehouse: load_hour (decode + COPY + merge)", warehouse_rows, warehouse.wall_seconds),
            ("lake: write_hour (decode + Parquet + commit)", lake.total_rows, lake_seconds),
            ("lake: rerun of the same hour (replaces it)", rerun.total_rows, rerun_seconds),
        ]
        for label, rows, seconds in lines:
            print(f"{label:<50} {rows:>10,} {seconds:>8.2f} {rows / seconds if seconds > 0 else 0:>9,.0f}")
        print("lake stages (s; write runs on a thread beside decode): "
              + ", ".join(f"{k} {v:.2f}" for k, v in lake.seconds.items())
              + f"; {sum(lake.data_files.values())} data files, {lake.chunks} chunks")
        print("rows per table: " + ", ".join(f"{t} {n:,}" for t, n in lake.rows.items()))
    finally:
        pg = psycopg2.connect(database_url)
        pg.autocommit = True
        with pg.cursor() as cur:
            for name in (schema, catalog_schema_name(schema)):
                cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        pg.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
