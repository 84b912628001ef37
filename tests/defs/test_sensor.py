"""The landing sensor: each set of an hour's files is requested once; late files are not missed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg

from observatory_etl import synth
from observatory_etl.ingest.landing import open_store
from observatory_etl.defs.resources import LandingResource
from observatory_etl.defs.sensors import hour_of_key, landing_sensor, run_requests
from tests.conftest import HOUR, land

NOW = HOUR + timedelta(hours=3, minutes=10)  # 03:10: hours 00, 01 and 02 are complete, 03 is in progress


def by_partition(requests):
    return {r.partition_key: r.run_key for r in requests}


def test_three_hours_then_a_late_file(landing):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=4), traces_per_hour=8, files_per_hour=2, seed=1)
    store = open_store(str(landing))

    first, cursor = run_requests(store, None, NOW, lookback=6)
    assert sorted(by_partition(first)) == ["2026-11-01-00:00", "2026-11-01-01:00", "2026-11-01-02:00"]
    assert cursor.startswith("year=2026/month=11/day=01/hour=03/")  # the newest key seen

    # The next tick sees the same files: the same run keys, which Dagster does not launch again.
    second, cursor = run_requests(store, cursor, NOW, lookback=6)
    assert by_partition(second) == by_partition(first)

    # A late file lands in hour 01 under a key older than the cursor: only hour 01 gets a new run key.
    land(landing, HOUR + timedelta(hours=1), "traces_late.json", b'{"resourceSpans": []}', minute=59)
    third, _ = run_requests(store, cursor, NOW, lookback=6)
    changed = {k for k, v in by_partition(third).items() if by_partition(first).get(k) != v}
    assert changed == {"2026-11-01-01:00"}


def test_new_hours_beyond_the_lookback_come_from_the_cursor(landing):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=8, files_per_hour=1, seed=2)
    store = open_store(str(landing))
    _, cursor = run_requests(store, None, NOW, lookback=0)
    # Two days later, with no lookback at all, files of a new hour are found by listing after the cursor.
    later = HOUR + timedelta(days=2)
    synth.write_landing(str(landing), later, later + timedelta(hours=1), traces_per_hour=8, files_per_hour=1, seed=3)
    requests, _ = run_requests(store, cursor, later + timedelta(hours=5), lookback=0)
    assert sorted(by_partition(requests)) == ["2026-11-03-00:00"]


def test_hour_of_key():
    assert hour_of_key("prefix/year=2026/month=11/day=01/hour=07/minute=05/traces_a.json") == datetime(
        2026, 11, 1, 7, tzinfo=timezone.utc
    )
    assert hour_of_key("_SUCCESS") is None


def test_sensor_evaluates_in_dagster(landing):
    """The decorated sensor, evaluated by Dagster with its resource, requests the last complete hours."""
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    synth.write_landing(str(landing), end - timedelta(hours=2), end, traces_per_hour=8, files_per_hour=1, seed=4)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"landing": LandingResource(url=str(landing))})
        result = landing_sensor(context)
    keys = sorted(r.partition_key for r in result.run_requests)
    assert keys == [(end - timedelta(hours=h)).strftime("%Y-%m-%d-%H:00") for h in (2, 1)]
    assert context.cursor


def test_an_hour_seen_in_progress_is_requested_once_it_ends(landing):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=8, files_per_hour=1, seed=5)
    store = open_store(str(landing))
    during, cursor = run_requests(store, None, HOUR + timedelta(minutes=40), lookback=0)
    assert during == []  # the hour is still in progress: no partition yet
    after, _ = run_requests(store, cursor, HOUR + timedelta(hours=1, minutes=5), lookback=0)
    assert sorted(by_partition(after)) == ["2026-11-01-00:00"]
