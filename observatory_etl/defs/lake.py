"""The lake in Dagster: the asset ``lake_tables`` (each landing hour's frames into Apache Iceberg tables), the
job ``lake_write`` over it, the job ``lake_maintenance`` and its schedule ``lake_maintenance_daily``.

All of it is defined only when the lake is configured (OBSERVATORY_LAKE_URL, or OBSERVATORY_LAKE_CATALOG
naming a pyiceberg catalog with its own warehouse): :func:`lake_definitions` returns empty
``Definitions`` otherwise, so a deployment without a lake shows no lake asset, and ``dagster asset
materialize --select '*'`` loads the warehouse only.

``lake_tables`` is downstream of the warehouse multi-asset ``telemetry_tables``: it has the same hourly
partitions and runs after it in a run that selects both (``--select '*'``). Its automation condition asks
for an hour whenever the warehouse has loaded that hour (scheduled, by the sensor, in a backfill or a
reprocess), once the warehouse run is done; start ``default_automation_condition_sensor`` in the UI (stopped
by default, as every schedule and sensor here) for that, or backfill ``lake_tables`` / run ``lake_write``.
"""


from datetime import datetime, timedelta, timezone

import dagster as dg

from .. import config
from ..ingest.landing import LandingError, partition_key
from ..lake import (
    LAKE_TABLES,
    close_catalog,
    compact,
    ensure_tables,
    expire_snapshots,
    open_catalog,
    remove_orphan_files,
    write_hour,
)
from .assets import telemetry_tables
from .partitions import hourly_partitions
from .resources import LandingResource, WarehouseResource


class LakeResource(dg.ConfigurableResource):
    """Where the lake is.

    Attributes:
        url: the Iceberg warehouse location (OBSERVATORY_LAKE_URL): a path, ``file://``, ``s3://``, ``gs://``
            or ``az://`` URL.
        catalog_name: a pyiceberg catalog to load by name (OBSERVATORY_LAKE_CATALOG); None for the default
            SqlCatalog in the warehouse's PostgreSQL (schema ``<warehouse schema>_lake``).
    """

    url: str | None = None
    catalog_name: str | None = None

    def open(self, warehouse: WarehouseResource):
        """The lake's catalog (close it with :func:`observatory_etl.lake.close_catalog`); tables are in the
        namespace named after the warehouse schema.

        Raises:
            observatory_etl.lake.catalog.LakeConfigError: no location, or one that cannot be used.
        """
        database_url = None if self.catalog_name else warehouse.url()
        return open_catalog(self.url, catalog_name=self.catalog_name, database_url=database_url,
                            schema=warehouse.schema())


# Ask for a lake hour after each warehouse load of that hour, once that run is over (any age of hour: late
# files and reprocessing reach the lake too); a lake run in progress for the hour is not asked for again.
LAKE_AUTOMATION = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after each warehouse load of the hour")


@dg.asset(
    name="lake_tables",
    deps=[telemetry_tables],
    partitions_def=hourly_partitions,
    group_name="lake",
    kinds={"iceberg", "polars"},
    description="The landing hour's normalized frames (trace_spans with the LLM columns, trace_events, trace_links, "
    "logs, metrics, metric_data_points) in Apache Iceberg tables; rerunning an hour replaces exactly its rows.",
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=LAKE_AUTOMATION,
    # Object-store faults and commit conflicts that outlived pyiceberg's own retries are retried with backoff;
    # bad input with OBSERVATORY_ON_BAD_INPUT=fail raises Failure(allow_retries=False).
    retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
)
def lake_tables(context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource,
                lake: LakeResource) -> dg.MaterializeResult:
    """Write each landing hour of the run's partition (or range) into the lake, one commit per table per hour.

    Raises:
        dagster.Failure: not retried: OBSERVATORY_ON_BAD_INPUT=fail and a landing file or record is not valid.
        observatory_etl.lake.LakeCommitError, ObjectStoreError: retried by the retry policy.
    """
    window = context.partition_time_window
    catalog = lake.open(warehouse)
    results = []
    try:
        location = ensure_tables(catalog, warehouse.schema())["trace_spans"].location().rsplit("/", 1)[0]
        hour = window.start
        while hour < window.end:
            try:
                results.append(write_hour(
                    catalog, warehouse.schema(), hour, landing_url=landing.url, chunk_rows=warehouse.chunk_rows,
                    chunk_bytes=warehouse.chunk_bytes, run_id=context.run.run_id, log=context.log.info,
                ))
            except LandingError as exc:
                raise dg.Failure(
                    description=f"partition {partition_key(hour)}: {exc}",
                    metadata={"partition": partition_key(hour), "file": exc.path, "reason": exc.reason},
                    allow_retries=False,
                ) from exc
            hour += timedelta(hours=1)
    finally:
        close_catalog(catalog)
    rows = {name: sum(r.rows[name] for r in results) for name in LAKE_TABLES}
    seconds = {stage: sum(r.seconds[stage] for r in results) for stage in results[0].seconds} if results else {}
    write_seconds = sum(r.wall_seconds for r in results)
    metadata = {
        "partitions": dg.MetadataValue.int(len(results)),
        "namespace": warehouse.schema(),
        "location": location,
        "rows_total": dg.MetadataValue.int(sum(rows.values())),
        "rows": dg.MetadataValue.json(rows),
        "data_files": dg.MetadataValue.json({n: sum(r.data_files[n] for r in results) for n in LAKE_TABLES}),
        "snapshots": dg.MetadataValue.json(results[-1].snapshots if results else {}),
        "files_read": dg.MetadataValue.int(sum(r.files for r in results)),
        "records_rejected": dg.MetadataValue.int(sum(r.records_rejected for r in results)),
        "files_rejected": dg.MetadataValue.int(sum(r.files_rejected for r in results)),
        "attempts": dg.MetadataValue.int(max((r.attempts for r in results), default=0)),
        "seconds_total": dg.MetadataValue.float(round(write_seconds, 4)),
    }
    for stage, value in seconds.items():
        metadata[f"seconds_{stage}"] = dg.MetadataValue.float(round(value, 4))
    if write_seconds > 0:
        metadata["rows_per_second"] = dg.MetadataValue.int(int(sum(rows.values()) / write_seconds))
    return dg.MaterializeResult(metadata=metadata)


lake_write = dg.define_asset_job(
    "lake_write", selection=[lake_tables],
    description="Write landing hours into the lake's Iceberg tables (backfill it for a range of hours).",
)


class LakeMaintenanceConfig(dg.Config):
    """What ``lake_maintenance`` keeps and compacts."""

    snapshot_days: int = config.lake_snapshot_days()
    """Snapshots older than this many days expire (default OBSERVATORY_LAKE_SNAPSHOT_DAYS, 7); the current one stays."""
    compact_days: int = 7
    """Compact the UTC days from this many days ago to yesterday (today is still being written)."""
    orphan_hours: int = 24
    """Delete unreferenced files in the tables' folders older than this many hours (0: keep them)."""


@dg.op(description="Expire old lake snapshots (and the files only they used), compact each closed day's small "
                   "files, remove orphan files, for every lake table.")
def lake_maintenance_op(context: dg.OpExecutionContext, config: LakeMaintenanceConfig, warehouse: WarehouseResource,
                        lake: LakeResource) -> dg.Output[None]:
    if config.snapshot_days < 1 or config.compact_days < 0 or config.orphan_hours < 0:
        raise dg.Failure(f"snapshot_days must be at least 1, compact_days and orphan_hours at least 0: {config}")
    now = datetime.now(timezone.utc)
    today = now.date()
    days = [today - timedelta(days=n) for n in range(config.compact_days, 0, -1)]
    summary: dict[str, dict] = {}
    catalog = lake.open(warehouse)
    try:
        for name, table in ensure_tables(catalog, warehouse.schema()).items():
            compacted = compact(table, LAKE_TABLES[name], days)
            expired = expire_snapshots(table, now - timedelta(days=config.snapshot_days))
            orphans = remove_orphan_files(table, now - timedelta(hours=config.orphan_hours)) if config.orphan_hours else None
            summary[name] = {
                "snapshots_expired": expired.snapshots_expired,
                "snapshots_kept": expired.snapshots_kept,
                "files_deleted": expired.files_deleted,
                "partitions_compacted": sum(c.partitions for c in compacted),
                "data_files_before": sum(c.files_before for c in compacted),
                "data_files_after": sum(c.files_after for c in compacted),
                "compaction_skipped": [f"{c.day}: {c.skipped}" for c in compacted if c.skipped],
                "orphan_files_deleted": len(orphans.files_deleted) if orphans else 0,
            }
            context.log.info(f"{name}: {summary[name]}")
    finally:
        close_catalog(catalog)
    return dg.Output(None, metadata={
        "tables": dg.MetadataValue.json(summary),
        "snapshots_expired": sum(s["snapshots_expired"] for s in summary.values()),
        "partitions_compacted": sum(s["partitions_compacted"] for s in summary.values()),
        "files_deleted": sum(s["files_deleted"] + s["orphan_files_deleted"] for s in summary.values()),
        "kept_snapshots_from": (now - timedelta(days=config.snapshot_days)).isoformat(timespec="seconds"),
        "compacted_days": dg.MetadataValue.json([str(d) for d in days]),
    })


@dg.job(description="Lake maintenance: expire snapshots older than snapshot_days (OBSERVATORY_LAKE_SNAPSHOT_DAYS, "
                    "7) and delete the files only they used, compact the small files of each closed day of the last "
                    "compact_days, and remove orphan files older than orphan_hours.")
def lake_maintenance():
    lake_maintenance_op()


# Daily at 01:30 UTC (after drop_expired_partitions_daily at 00:30); stopped by default, as every schedule here.
lake_maintenance_schedule = dg.ScheduleDefinition(
    name="lake_maintenance_daily", job=lake_maintenance, cron_schedule="30 1 * * *", execution_timezone="UTC",
)


def lake_resource() -> LakeResource:
    """The ``lake`` resource configured from OBSERVATORY_LAKE_URL and OBSERVATORY_LAKE_CATALOG."""
    return LakeResource(url=config.lake_url(), catalog_name=config.lake_catalog())


def lake_enabled() -> bool:
    """Whether the lake is configured (:func:`observatory_etl.config.lake_enabled`)."""
    return config.lake_enabled()


def lake_definitions() -> dg.Definitions:
    """The lake's asset, jobs, schedule and ``lake`` resource when the lake is configured, else empty
    ``Definitions`` (merged into ``observatory_etl.definitions.defs`` either way)."""
    if not lake_enabled():
        return dg.Definitions()
    return dg.Definitions(
        assets=[lake_tables],
        jobs=[lake_write, lake_maintenance],
        schedules=[lake_maintenance_schedule],
        resources={"lake": lake_resource()},
    )
