"""Hourly partitions: one partition per landing hour (the collector's upload time, UTC).

Keys are Dagster's ``HourlyPartitionsDefinition`` default format ``YYYY-MM-DD-HH:00``; the first
partition is OBSERVATORY_START (default 2026-01-01T00:00 UTC) and the last is the latest complete hour.
"""

import dagster as dg

from .. import config

hourly_partitions = dg.HourlyPartitionsDefinition(start_date=config.start_time().strftime("%Y-%m-%d-%H:%M"))
