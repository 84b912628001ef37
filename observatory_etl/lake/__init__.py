"""The lake: every landing hour's normalized frames, also in Apache Iceberg tables (docs/lake.md).

The warehouse (PostgreSQL) keeps OBSERVATORY_RETENTION_DAYS of telemetry; the lake keeps it for as long as
you like, in open tables any engine reads (polars, DuckDB, Spark, Trino, Snowflake, …). It is written from
the warehouse's own decode and normalization (one normalization, two sinks), one landing hour at a time,
idempotently: writing an hour again replaces exactly that hour's rows, in one commit per table.

Pure code (no Dagster): :mod:`.schema` (table design derived from the catalogue), :mod:`.catalog` (location,
catalog, create and evolve tables), :mod:`.write` (one hour), :mod:`.maintenance` (snapshot expiry,
compaction, orphan files). The Dagster asset ``lake_tables`` and job ``lake_maintenance`` are in
:mod:`observatory_etl.defs.lake`.
"""

from .catalog import (
    close_catalog,
    ensure_table,
    ensure_tables,
    key_counts,
    open_catalog,
    row_counts,
    warehouse_location,
)
from .maintenance import compact, compact_day, expire_snapshots, remove_orphan_files
from .schema import LAKE_TABLES, PARTITION_KEY, LakeTable, to_arrow
from .write import LakeCommitError, LakeHourResult, write_hour

__all__ = [
    "LAKE_TABLES", "PARTITION_KEY", "LakeCommitError", "LakeHourResult", "LakeTable", "close_catalog", "compact",
    "compact_day", "ensure_table", "ensure_tables", "expire_snapshots", "key_counts", "open_catalog", "remove_orphan_files",
    "row_counts", "to_arrow", "warehouse_location", "write_hour",
]
