"""The Dagster code location: ``dagster … -m observatory_etl.definitions`` loads ``defs``."""

import dagster as dg

from . import config
from .assets import telemetry_tables
from .checks import CHECKS
from .jobs import drop_expired_partitions, load_telemetry_job, recompute_costs, retention_schedule
from .resources import default_resources
from .sensors import landing_sensor

# Every hour, load the hour that just ended, OBSERVATORY_SCHEDULE_LAG_MINUTES (default 15) after it ends,
# so that the collector's last uploads have landed. Late files for older hours are the sensor's business.
load_telemetry_schedule = dg.build_schedule_from_partitioned_job(
    load_telemetry_job, minute_of_hour=config.schedule_lag_minutes(), name="load_telemetry_hourly"
)

defs = dg.Definitions(
    assets=[telemetry_tables],
    asset_checks=CHECKS,
    jobs=[load_telemetry_job, recompute_costs, drop_expired_partitions],
    schedules=[load_telemetry_schedule, retention_schedule],
    sensors=[landing_sensor],
    resources=default_resources(),
)
