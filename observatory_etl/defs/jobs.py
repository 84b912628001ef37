"""Jobs and their schedules: ``load_telemetry`` (the hourly load, scheduled ``load_telemetry_hourly``) and
the maintenance jobs ``recompute_costs`` and ``drop_expired_partitions`` (scheduled
``drop_expired_partitions_daily``, stopped by default).

``recompute_costs``: after the prices change (a genai-prices upgrade, or OBSERVATORY_PRICES_CSV), launch it
for a partition range (a backfill in the UI, or ``dagster job backfill -j recompute_costs
--partitions …``): each partition recomputes the computed costs of LLM spans that *started* in that
hour and rolls up their traces and sessions. Provided costs are never touched.
"""

from datetime import datetime, timedelta, timezone

import dagster as dg

from ..config import retention_days, schedule_lag_minutes
from ..pipeline.costs import recompute_costs as recompute_costs_between
from ..warehouse.partitions import drop_expired
from .assets import telemetry_tables
from .partitions import hourly_partitions
from .resources import WarehouseResource

load_telemetry_job = dg.define_asset_job(
    "load_telemetry",
    selection=[telemetry_tables],
    description="Load one landing hour of OTLP traces, metrics, logs and LLM spans into PostgreSQL.",
)

# Every hour, load the hour that just ended, OBSERVATORY_SCHEDULE_LAG_MINUTES (default 15) after it ends,
# so that the collector's last uploads have landed. Late files for older hours are the sensor's business.
load_telemetry_schedule = dg.build_schedule_from_partitioned_job(
    load_telemetry_job, minute_of_hour=schedule_lag_minutes(), name="load_telemetry_hourly"
)


@dg.op(pool="warehouse", description="Recompute computed LLM costs of spans starting in the partition's hour with the current price table.")
def recompute_costs_op(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> dg.Output[None]:
    window = context.partition_time_window
    result = recompute_costs_between(window.start, window.end, database_url=warehouse.url(), schema=warehouse.schema())
    context.log.info(
        f"{context.partition_key}: {result.spans_changed:,} of {result.spans_considered:,} LLM spans changed cost "
        f"(price table {result.price_table_version})"
    )
    return dg.Output(
        None,
        metadata={
            "spans_considered": result.spans_considered,
            "spans_changed": result.spans_changed,
            "price_table_version": result.price_table_version,
        },
    )


@dg.job(partitions_def=hourly_partitions, description=__doc__.split("\n\n")[1].replace("\n", " "))
def recompute_costs():
    recompute_costs_op()


class RetentionConfig(dg.Config):
    """How much telemetry ``drop_expired_partitions`` keeps."""

    retention_days: int = retention_days()


@dg.op(pool="warehouse", description="Drop the daily partitions (and rollup rows) of telemetry older than retention_days.")
def drop_expired_partitions_op(
    context: dg.OpExecutionContext, config: RetentionConfig, warehouse: WarehouseResource
) -> dg.Output[None]:
    if config.retention_days < 1:
        raise dg.Failure(f"retention_days must be at least 1, got {config.retention_days}")
    before = (datetime.now(timezone.utc) - timedelta(days=config.retention_days)).date()
    with warehouse.connect() as conn:
        result = drop_expired(conn, warehouse.schema(), before)
    context.log.info(
        f"kept days from {before}: dropped {len(result.partitions_dropped)} partitions "
        f"({', '.join(result.partitions_dropped) or 'none'}), {result.traces_deleted:,} traces, "
        f"{result.trace_links_deleted:,} trace links, {result.sessions_deleted:,} sessions"
    )
    return dg.Output(
        None,
        metadata={
            "kept_from_day": str(before),
            "partitions_dropped": dg.MetadataValue.json(result.partitions_dropped),
            "traces_deleted": result.traces_deleted,
            "trace_links_deleted": result.trace_links_deleted,
            "sessions_deleted": result.sessions_deleted,
        },
    )


@dg.job(
    description="Retention: drop the daily partitions of trace_spans, trace_events, metric_data_points and logs "
    "for UTC days older than retention_days (default OBSERVATORY_RETENTION_DAYS, 30), and the traces, trace "
    "links and sessions that ended before them. The file ledger is kept, so expired hours are not reloaded."
)
def drop_expired_partitions():
    drop_expired_partitions_op()


# Daily at 00:30 UTC; stopped by default (start it in the UI or set default_status in a deployment).
retention_schedule = dg.ScheduleDefinition(
    name="drop_expired_partitions_daily", job=drop_expired_partitions, cron_schedule="30 0 * * *",
    execution_timezone="UTC",
)
