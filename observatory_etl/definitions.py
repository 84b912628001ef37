"""The Dagster code location: ``dagster … -m observatory_etl.definitions`` loads ``defs``."""

import dagster as dg

from .assets import telemetry_tables
from .jobs import recompute_costs
from .resources import default_resources

load_telemetry_job = dg.define_asset_job(
    "load_telemetry",
    selection=[telemetry_tables],
    description="Load one landing hour of OTLP traces, metrics and logs into PostgreSQL.",
)

defs = dg.Definitions(assets=[telemetry_tables], jobs=[load_telemetry_job, recompute_costs], resources=default_resources())
