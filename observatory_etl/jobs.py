"""Jobs: ``load_telemetry`` (the hourly load) and the maintenance job ``recompute_costs``.

``recompute_costs``: after the price table (``observatory_etl/data/model_prices.csv``) changes, launch it
for a partition range (a backfill in the UI, or ``dagster job backfill -j recompute_costs
--partitions …``): each partition recomputes the computed costs of LLM spans that *started* in that
hour and rolls up their traces and sessions. Provided costs are never touched.
"""

import dagster as dg

from . import pipeline
from .assets import telemetry_tables
from .partitions import hourly_partitions
from .resources import WarehouseResource

load_telemetry_job = dg.define_asset_job(
    "load_telemetry",
    selection=[telemetry_tables],
    description="Load one landing hour of OTLP traces, metrics, logs and LLM spans into PostgreSQL.",
)


@dg.op(pool="warehouse", description="Recompute computed LLM costs of spans starting in the partition's hour with the current price table.")
def recompute_costs_op(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> dg.Output[None]:
    window = context.partition_time_window
    result = pipeline.recompute_costs(
        window.start, window.end, database_url=warehouse.url(), schema=warehouse.schema()
    )
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
