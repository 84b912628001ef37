"""A real UI run: `dagster dev` (webserver + daemon) on loopback with the project's workspace.yaml and a
dagster_home on PostgreSQL; a 3-partition backfill launched through the GraphQL API loads those hours."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
import urllib.request

from observatory_etl import synth
from tests.conftest import HOUR, ROOT, counts, land, query

ASSETS = ["traces", "sessions", "trace_spans", "trace_events", "trace_links", "metrics", "metric_data_points", "logs"]
PARTITIONS = ["2026-11-01-00:00", "2026-11-01-01:00", "2026-11-01-02:00"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query_text: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=orjson.dumps({"query": query_text, "variables": variables or {}}),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = orjson.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
  }
}"""
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status numPartitions }
  }
}"""
MATERIALIZED = """
query Materialized($partitions: [String!]) {
  assetNodes(assetKeys: [{path: ["trace_spans"]}]) {
    assetMaterializations(partitions: $partitions) { partition runId }
  }
}"""


@pytest.fixture
def dagster_dev(tmp_path, landing, database_url, schema):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "OBSERVATORY_LANDING_URL": str(landing),
        "OBSERVATORY_DATABASE_URL": database_url,
        "OBSERVATORY_SCHEMA": schema,
        "OBSERVATORY_SENSOR_INTERVAL_SECONDS": "5",
    }
    log = open(tmp_path / "dagster-dev.log", "wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dagster dev did not start:\n" + (tmp_path / "dagster-dev.log").read_text()[-3000:])
                time.sleep(1)
        yield port, tmp_path / "dagster-dev.log"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_backfill_through_graphql(dagster_dev, landing, database_url, schema):
    port, log = dagster_dev
    stats = synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=3), traces_per_hour=20, seed=21)

    launched = graphql(port, LAUNCH, {"params": {
        "partitionNames": PARTITIONS,
        "assetSelection": [{"path": [key]} for key in ASSETS],
        "fromFailure": False,
    }})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    deadline = time.monotonic() + 300
    while True:
        backfill = graphql(port, STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS", "FAILED", "COMPLETED_FAILED", "CANCELED"):
            break
        assert time.monotonic() < deadline, f"backfill still {backfill['status']}:\n{log.read_text()[-3000:]}"
        time.sleep(2)

    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), log.read_text()[-3000:]
    assert backfill["numPartitions"] == 3
    # BackfillPolicy.single_run: the three hours ran as a single run, which materialized all three.
    # (Dagster's own tables are shared by the tests that use this database, so look at this run only.)
    [(run_id,)] = query(database_url, "SELECT run_id FROM public.runs WHERE run_body LIKE '%" + backfill_id + "%'")
    materializations = graphql(port, MATERIALIZED, {"partitions": PARTITIONS})["assetNodes"][0]["assetMaterializations"]
    assert sorted(m["partition"] for m in materializations if m["runId"] == run_id) == PARTITIONS
    assert counts(database_url, schema)["trace_spans"] == stats.spans
    assert query(database_url, f'SELECT count(DISTINCT partition_key) FROM "{schema}".ingested_files') == [(3,)]


REPOSITORIES = """
query { repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"""
START_SENSOR = """
mutation Start($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) { __typename ... on PythonError { message } }
}"""
SENSOR_RUNS = """
query Runs {
  runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: "landing_sensor"}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}"""


def sensor_runs(port: int) -> list[dict]:
    runs = graphql(port, SENSOR_RUNS)["runsOrError"]["results"]
    return [
        {"status": r["status"], "partition": {t["key"]: t["value"] for t in r["tags"]}.get("dagster/partition")}
        for r in runs
    ]


def wait_for_runs(port: int, count: int, log: Path) -> list[dict]:
    deadline = time.monotonic() + 240
    while True:
        runs = sensor_runs(port)
        done = [r for r in runs if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]
        if len(done) >= count and len(done) == len(runs):
            return runs
        assert time.monotonic() < deadline, f"{runs}\n{log.read_text()[-3000:]}"
        time.sleep(2)


def test_sensor_and_daemon_load_each_hour_once(dagster_dev, landing, database_url, schema):
    """Only the sensor and the daemon: three landed hours load once each; a late file loads its hour again."""
    port, log = dagster_dev
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    hours = [end - timedelta(hours=h) for h in (3, 2, 1)]
    synth.write_landing(str(landing), hours[0], end, traces_per_hour=10, files_per_hour=2, seed=31)
    keys = sorted(h.strftime("%Y-%m-%d-%H:00") for h in hours)

    [repository] = graphql(port, REPOSITORIES)["repositoriesOrError"]["nodes"]
    selector = {"repositoryName": repository["name"], "repositoryLocationName": repository["location"]["name"],
                "sensorName": "landing_sensor"}
    assert graphql(port, START_SENSOR, {"selector": selector})["startSensor"]["__typename"] == "Sensor"

    runs = wait_for_runs(port, 3, log)
    assert sorted(r["partition"] for r in runs) == keys and {r["status"] for r in runs} == {"SUCCESS"}
    first_spans = counts(database_url, schema)["trace_spans"]

    time.sleep(15)  # more ticks over the same files request nothing new
    assert len(sensor_runs(port)) == 3

    # A late file for the middle hour: exactly one more run, for that hour.
    late = {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "00f067aa0ba902b7", "name": "late",
        "startTimeUnixNano": str(int(hours[1].timestamp() * 1e9)), "endTimeUnixNano": str(int(hours[1].timestamp() * 1e9) + 1000)}]}]}]}
    land(landing, hours[1], "traces_late.json", orjson.dumps(late), minute=59)
    runs = wait_for_runs(port, 4, log)
    assert sorted(r["partition"] for r in runs) == sorted(keys + [keys[1]])
    assert counts(database_url, schema)["trace_spans"] == first_spans + 1
    assert query(database_url, f'SELECT count(*) FROM "{schema}".ingested_files WHERE object_key LIKE \'%traces_late.json\'') == [(1,)]
