"""The landing sensor: request a load for every hour whose files appeared or changed.

Each tick lists (1) every object after the cursor (the newest key seen; keys sort by time in the
collector layout, so this never relists what was already seen) and (2) every hour of the last
OBSERVATORY_SENSOR_LOOKBACK_HOURS (default 6), where late files for already-loaded hours appear. For
each hour with files it requests the hour's partition with a run key made from the hour's files (key,
size, ETag): Dagster skips a run key it has already launched for this sensor, so the same files never
load twice and a late or rewritten file makes a new key, so it is never missed. Hours still in progress
are requested once they end (their partition exists then). A late file for an hour older than the
lookback is not seen: backfill that hour.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

import dagster as dg
import obstore

from .. import config
from ..ingest.landing import LandingFile, list_hour, open_store, partition_key
from .jobs import load_telemetry_job
from .partitions import hourly_partitions
from .resources import LandingResource

_HOUR_KEY = re.compile(r"(?:^|/)year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/")


def hour_of_key(key: str) -> datetime | None:
    """The landing hour (UTC) a key sits under, or None for keys outside the layout."""
    match = _HOUR_KEY.search(key)
    if match is None:
        return None
    year, month, day, hour = (int(g) for g in match.groups())
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


def run_key(key: str, files: list[LandingFile]) -> str:
    """``<partition key>:<md5 of the hour's (object key, size, ETag) list>``: changes when any file does."""
    digest = hashlib.md5(usedforsecurity=False)
    for file in sorted(files, key=lambda f: f.path):
        digest.update(f"{file.path}\x1f{file.size}\x1f{file.e_tag or ''}\n".encode())
    return f"{key}:{digest.hexdigest()}"


def scan(store, last_key: str | None, now: datetime, lookback: int) -> tuple[dict[datetime, list[LandingFile]], str | None]:
    """Hours to consider and the new cursor: the hours of objects after ``last_key`` plus the ``lookback``
    hours before ``now``, each with its full file list (one listing of that hour's prefix)."""
    hours: set[datetime] = set()
    newest = last_key
    for batch in obstore.list(store, offset=last_key, chunk_size=1000) if last_key else obstore.list(store, chunk_size=1000):
        for meta in batch:
            hour = hour_of_key(meta["path"])
            if hour is not None:
                hours.add(hour)
            if newest is None or meta["path"] > newest:
                newest = meta["path"]
    current = now.replace(minute=0, second=0, microsecond=0)
    # At least the hour that just ended: its files were seen while it was in progress, when it could
    # not be requested yet, and the cursor has moved past them.
    hours.update(current - timedelta(hours=h) for h in range(max(lookback, 1) + 1))
    found = {}
    for hour in sorted(hours):
        files = list_hour(store, hour)
        if files:
            found[hour] = files
    return found, newest


def run_requests(store, cursor: str | None, now: datetime, lookback: int) -> tuple[list[dg.RunRequest], str | None]:
    """The run requests of one tick and the new cursor (see the module docstring); ``now`` is the tick's time."""
    found, newest = scan(store, cursor, now, lookback)
    requests = []
    for hour, files in found.items():
        if hour < hourly_partitions.start or hour + timedelta(hours=1) > now:
            continue  # before the first partition, or still in progress (its partition does not exist yet)
        key = partition_key(hour)
        requests.append(dg.RunRequest(run_key=run_key(key, files), partition_key=key, tags={"observatory/files": str(len(files))}))
    return requests, newest


@dg.sensor(
    job=load_telemetry_job,
    minimum_interval_seconds=config.sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Loads every landing hour whose files appeared or changed (late files included), once per set of files.",
)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    requests, newest = run_requests(
        open_store(landing.url), context.cursor or None, datetime.now(timezone.utc), config.sensor_lookback_hours()
    )
    if newest is not None:
        context.update_cursor(newest)
    return dg.SensorResult(run_requests=requests)
