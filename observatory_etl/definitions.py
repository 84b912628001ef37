"""The Dagster code location: ``dagster … -m observatory_etl.definitions`` loads ``defs``.

Everything Dagster sees is in :mod:`observatory_etl.defs`; this module only gathers it.
"""

import dagster as dg

from . import config
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


def _lake_definitions() -> dg.Definitions:
    """The lake's definitions (observatory_etl/defs/lake.py), imported only when the lake is configured
    (OBSERVATORY_LAKE_URL or OBSERVATORY_LAKE_CATALOG): pyiceberg costs every Dagster process 0.3 s to import."""
    if not config.lake_enabled():
        return dg.Definitions()
    from .defs.lake import lake_definitions

    return lake_definitions()


defs = dg.Definitions.merge(
    dg.Definitions(
        assets=[telemetry_tables],
        asset_checks=CHECKS,
        jobs=[load_telemetry_job, recompute_costs, drop_expired_partitions],
        schedules=[load_telemetry_schedule, retention_schedule],
        sensors=[landing_sensor],
        resources=default_resources(),
        # Steps run in the run's own process: a step process would import Dagster and the project again
        # (about 1.5 s each, 6 steps with the checks); an hour is one step anyway (docs/tuning.md).
        executor=dg.in_process_executor,
    ),
    _lake_definitions(),
)
