"""The Dagster code location: ``dagster … -m observatory_etl.definitions`` loads ``defs``.

Everything Dagster sees is in :mod:`observatory_etl.defs`; this module only gathers it.
"""

import dagster as dg

from .defs.assets import telemetry_tables
from .defs.checks import CHECKS
from .defs.jobs import (
    drop_expired_partitions,
    load_telemetry_job,
    load_telemetry_schedule,
    recompute_costs,
    retention_schedule,
)
from .defs.resources import default_resources
from .defs.sensors import landing_sensor

defs = dg.Definitions(
    assets=[telemetry_tables],
    asset_checks=CHECKS,
    jobs=[load_telemetry_job, recompute_costs, drop_expired_partitions],
    schedules=[load_telemetry_schedule, retention_schedule],
    sensors=[landing_sensor],
    resources=default_resources(),
)
