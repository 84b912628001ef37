"""The Kubernetes deployment (deploy/k8s/, docs/deploy-kubernetes.md), checked without a cluster.

The instance is validated with Dagster's own instance schema and dagster-k8s' run launcher schema, the run
pod a run would get is built with dagster-k8s' own code, the storage section connects to PostgreSQL, and
the Helm values, the Dockerfile and the doc are checked against the instance and against each other.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy
import yaml
from dagster._config import process_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.config import pg_config
from dagster._core.storage.dagster_run import DagsterRun
from dagster._serdes import class_from_code_pointer
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import pg_url_from_config

import dagster_k8s
import dagster_k8s.launcher
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import UserDefinedDagsterK8sConfig, construct_dagster_k8s_job, get_job_name_from_run_id
from observatory_etl import config
from observatory_etl.pipeline import hour
from observatory_etl.pipeline.hour import load_hour
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.ddl import ensure_schema
from tests.conftest import HOUR, ROOT, land, query

K8S = ROOT / "deploy" / "k8s"
DOC = ROOT / "docs" / "deploy-kubernetes.md"
LOCK = ROOT / "requirements.lock"
IMAGE_TAG = "registry.example.com/observatory-etl:0.1.0"


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def instance() -> dict:
    return read_yaml(K8S / "dagster.yaml")


@pytest.fixture(scope="module")
def launcher(instance) -> dict:
    """The ``run_launcher.config`` block of deploy/k8s/dagster.yaml."""
    return instance["run_launcher"]["config"]


@pytest.fixture(scope="module")
def values() -> dict:
    return read_yaml(K8S / "values.yaml")


@pytest.fixture(scope="module")
def deployment(values) -> dict:
    """The one code location of values.yaml."""
    (only,) = values["dagster-user-deployments"]["deployments"]
    return only


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text()


def env_pairs(env_vars: list[str]) -> dict[str, str]:
    """``["A=1", "B=2"]`` as ``{"A": "1", "B": "2"}`` (every entry must carry its value)."""
    assert all("=" in item for item in env_vars), "env_vars without a value would be read from the daemon's environment"
    return dict(item.split("=", 1) for item in env_vars)


def quantity(value: str) -> float:
    """A Kubernetes CPU or memory quantity as a number (cores or bytes)."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    for suffix, factor in units.items():
        if str(value).endswith(suffix):
            return float(str(value)[: -len(suffix)]) * factor
    return float(value)


# --- deploy/k8s/dagster.yaml: Dagster's and dagster-k8s' own validation ------------------------------


def test_instance_validates_against_dagsters_schema():
    validated, custom_instance_class = dagster_instance_config(str(K8S), "dagster.yaml")

    assert custom_instance_class is None
    assert set(validated["storage"]) == {"postgres"}
    assert validated["run_launcher"]["class"] == "K8sRunLauncher"
    assert validated["concurrency"]["pools"]["granularity"] == "run"
    assert validated["run_retries"]["enabled"] and validated["run_monitoring"]["enabled"]


@pytest.mark.parametrize(
    "override",
    [
        {"run_monitoring": {"start_timeout": 600}},  # misspelled key
        {"concurrency": {"pools": {"default_limit": -1}}},  # out of range
        {"run_queue": {"max_concurrent_runs": 4}},  # conflicts with concurrency.runs
    ],
    ids=["misspelled", "negative-pool", "run-queue-conflict"],
)
def test_instance_validation_catches_mistakes(override):
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(K8S), "dagster.yaml", overrides=override)


def test_configured_classes_import_and_accept_their_config(instance):
    for section in ("run_coordinator", "run_launcher", "scheduler"):
        if section not in instance:
            continue
        cls = class_from_code_pointer(instance[section]["module"], instance[section]["class"])
        result = process_config(cls.config_type(), instance[section].get("config") or {})
        assert result.success, f"{section}: {result.errors}"
    assert class_from_code_pointer("dagster_k8s", instance["run_launcher"]["class"]) is dagster_k8s.K8sRunLauncher


def test_run_launcher_config_validates(launcher):
    result = process_config(dagster_k8s.K8sRunLauncher.config_type(), launcher)

    assert result.success, result.errors
    # The Kubernetes parts of run_k8s_config are Permissive in the schema: check them against the k8s models.
    UserDefinedDagsterK8sConfig.from_dict(launcher["run_k8s_config"])
    misspelled = {**launcher, "job_namespce": launcher["job_namespace"]}
    assert not process_config(dagster_k8s.K8sRunLauncher.config_type(), misspelled).success


def test_storage_url_names_an_installed_driver(instance, monkeypatch):
    storage = instance["storage"]["postgres"]
    monkeypatch.delenv("DAGSTER_PG_PASSWORD", raising=False)
    assert not process_config(pg_config(), storage).success, "the password must come from DAGSTER_PG_PASSWORD"

    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "s3cr3t/+")
    result = process_config(pg_config(), storage)
    assert result.success, result.errors
    engine = sqlalchemy.create_engine(pg_url_from_config(result.value))  # imports the DBAPI, connects to nothing
    try:
        assert engine.dialect.driver == "psycopg2"
        assert engine.url.host == storage["postgres_db"]["hostname"]
        assert engine.url.password == "s3cr3t/+"
    finally:
        engine.dispose()


def test_storage_section_works_against_postgresql(instance, database_url, monkeypatch):
    """The storage section as written (postgres_db, psycopg2 scheme, password from the environment) on a real
    server: only where to connect is taken from the test server, in a scratch database."""
    dsn = psycopg2.extensions.parse_dsn(database_url)
    scratch = f"dagster_k8s_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(database_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{scratch}"')
    except psycopg2.Error as exc:
        admin.close()
        pytest.skip(f"cannot create a scratch database on the test server: {exc}")
    try:
        db = dict(instance["storage"]["postgres"]["postgres_db"])
        host = dsn.get("host", "localhost")
        db.update(
            username=dsn.get("user", "postgres"),
            db_name=scratch,
            port=int(dsn.get("port", 5432)),
            hostname="" if host.startswith("/") else host,
            params={"host": host} if host.startswith("/") else {},
        )
        monkeypatch.setenv("DAGSTER_PG_PASSWORD", dsn.get("password", ""))
        processed = process_config(pg_config(), {"postgres_db": db})
        assert processed.success, processed.errors
        storage = DagsterPostgresStorage.from_config_value(None, processed.value)
        try:
            assert storage.run_storage.get_runs() == []
            assert storage.schedule_storage.all_instigator_state() == []
        finally:
            for part in (storage.run_storage, storage.event_log_storage, storage.schedule_storage):
                part.dispose()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        admin.close()


def test_run_pod_of_a_run(launcher, monkeypatch):
    """The Kubernetes Job dagster-k8s builds for a run with this launcher config (nothing is sent anywhere)."""
    processed = process_config(dagster_k8s.K8sRunLauncher.config_type(), launcher).value
    calls = []
    monkeypatch.setattr(dagster_k8s.launcher, "load_kubernetes_config", lambda **kwargs: calls.append(kwargs))
    run_launcher = dagster_k8s.K8sRunLauncher(**processed, k8s_client_batch_api=object(), k8s_client_core_api=object())
    assert calls == [{"load_incluster_config": True, "kubeconfig_file": None, "k8s_api_ssl_ca_cert_file": None}]

    run = DagsterRun(job_name="load_telemetry", run_id=str(uuid.uuid4()), tags={"dagster/partition": "2026-11-01-00:00"})
    context = run_launcher.get_container_context_for_run(run)
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(job_image=IMAGE_TAG, run_launcher=run_launcher),
        args=["dagster", "api", "execute_run", "{}"],
        job_name=get_job_name_from_run_id(run.run_id),
        user_defined_k8s_config=context.run_k8s_config,
        component="run_worker",
        labels={"dagster/job": run.job_name, "dagster/run-id": run.run_id},
    ).to_dict()

    assert context.namespace == launcher["job_namespace"]
    assert job["spec"]["backoff_limit"] == 0  # retries are Dagster's (run_retries), not the Job's
    pod = job["spec"]["template"]["spec"]
    assert pod["service_account_name"] == launcher["service_account_name"]
    (container,) = pod["containers"]
    assert container["image"] == IMAGE_TAG
    assert container["image_pull_policy"] == "IfNotPresent"

    resources = container["resources"]
    assert {k: v for k, v in resources.items() if v} == launcher["run_k8s_config"]["container_config"]["resources"]
    for kind in ("cpu", "memory"):
        assert quantity(resources["requests"][kind]) <= quantity(resources["limits"][kind])
    assert quantity(resources["requests"]["memory"]) >= 2**30  # a 100k-span hour peaks at about 0.8 GiB

    env = {e["name"]: e for e in container["env"]}
    assert env["DAGSTER_PG_PASSWORD"]["value_from"]["secret_key_ref"] == {
        "name": launcher["postgres_password_secret"], "key": "postgresql-password", "optional": None
    }
    assert env["DAGSTER_HOME"]["value"] == launcher["dagster_home"]
    for name, value in env_pairs(launcher["env_vars"]).items():
        assert env[name]["value"] == value
    assert [source["secret_ref"]["name"] for source in container["env_from"]] == launcher["env_secrets"]
    assert job["metadata"]["labels"]["app.kubernetes.io/part-of"] == "observatory-etl"


def test_run_settings_are_the_projects(launcher, monkeypatch):
    settings = env_pairs(launcher["env_vars"])
    source = "\n".join(p.read_text() for p in (ROOT / "observatory_etl").rglob("*.py"))
    read_by_project = set(re.findall(r"OBSERVATORY_[A-Z_]+", source))
    assert set(settings) <= read_by_project
    assert {"OBSERVATORY_LANDING_URL", "OBSERVATORY_START"} <= set(settings)
    assert "OBSERVATORY_DATABASE_URL" not in settings, "the warehouse URL holds a password: it comes from the Secret"

    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    assert config.start_time().minute == 0
    assert config.schema_name() == settings.get("OBSERVATORY_SCHEMA", config.DEFAULT_SCHEMA)
    assert int(settings.get("OBSERVATORY_CHUNK_ROWS", config.DEFAULT_CHUNK_ROWS)) > 0
    assert re.match(r"(s3|gs|az|file)://", config.landing_url())


# --- deploy/k8s/values.yaml: the Helm chart's values against the instance ------------------------------


def test_values_run_the_code_location(deployment):
    args = deployment["dagsterApiGrpcArgs"]
    assert args[args.index("-m") + 1] == "observatory_etl.definitions"
    from observatory_etl import definitions

    assert definitions.defs.resolve_job_def("load_telemetry").partitions_def is not None
    assert f"{deployment['image']['repository']}:{deployment['image']['tag']}" == IMAGE_TAG
    assert deployment["image"]["pullPolicy"] == "IfNotPresent"


def test_values_render_the_same_instance(values, instance, launcher):
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert k8s["jobNamespace"] == launcher["job_namespace"]
    assert k8s["loadInclusterConfig"] == launcher["load_incluster_config"]
    assert k8s["imagePullPolicy"] == launcher["image_pull_policy"]
    assert [s["name"] for s in k8s["envSecrets"]] == launcher["env_secrets"]
    assert k8s["envVars"] == launcher["env_vars"]
    assert k8s["labels"] == launcher["labels"]
    assert k8s["failPodOnRunFailure"] == launcher["fail_pod_on_run_failure"]
    assert k8s["runK8sConfig"]["containerConfig"] == launcher["run_k8s_config"]["container_config"]
    assert values["global"]["postgresqlSecretName"] == launcher["postgres_password_secret"]
    assert values["global"]["dagsterHome"] == launcher["dagster_home"]

    pg, db = values["postgresql"], instance["storage"]["postgres"]["postgres_db"]
    assert pg["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    assert (pg["postgresqlHost"], pg["postgresqlUsername"], pg["postgresqlDatabase"], pg["service"]["port"]) == (
        db["hostname"], db["username"], db["db_name"], db["port"]
    )
    assert pg["postgresqlScheme"] == db["scheme"]
    assert db["password"] == {"env": "DAGSTER_PG_PASSWORD"}  # what the chart renders

    concurrency = values["concurrency"]
    assert concurrency["enabled"] is True
    assert concurrency["runs"]["maxConcurrentRuns"] == instance["concurrency"]["runs"]["max_concurrent_runs"]
    assert concurrency["runs"]["tagConcurrencyLimits"] == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert concurrency["pools"]["defaultLimit"] == instance["concurrency"]["pools"]["default_limit"]
    assert concurrency["pools"]["granularity"] == instance["concurrency"]["pools"]["granularity"]

    daemon = values["dagsterDaemon"]
    assert daemon["runCoordinator"]["type"] == instance["run_coordinator"]["class"]
    # The chart fails when the queue's limits are set in both places: they live in `concurrency` only.
    assert not (daemon["runCoordinator"].get("config") or {}).get("queuedRunCoordinator")
    snake = {"maxRetries": "max_retries", "retryOnAssetOrOpFailure": "retry_on_asset_or_op_failure"}
    assert {snake.get(k, k): v for k, v in daemon["runRetries"].items()} == instance["run_retries"]
    monitoring = {re.sub(r"([A-Z])", r"_\1", k).lower(): v for k, v in daemon["runMonitoring"].items()}
    assert monitoring == instance["run_monitoring"]
    assert values["telemetry"] == instance["telemetry"]


def test_code_server_and_run_pods_share_settings(deployment, launcher):
    code_server = {e["name"]: e["value"] for e in deployment["env"]}
    assert code_server == env_pairs(launcher["env_vars"])  # OBSERVATORY_START defines the partitions in both
    assert [s["name"] for s in deployment["envSecrets"]] == launcher["env_secrets"]


def test_run_pods_are_sized_by_the_launcher_alone(deployment, launcher):
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is False
    # Why: with it on, the chart passes the code server's resources as the runs' container context, and
    # dagster-k8s merges that over the launcher's, so run pods would get the code server's size.
    run_k8s_config = UserDefinedDagsterK8sConfig.from_dict(launcher["run_k8s_config"])
    launcher_context = K8sContainerContext(run_k8s_config=run_k8s_config)
    code_location = K8sContainerContext.create_from_config({"k8s": {"resources": deployment["resources"]}})
    merged = launcher_context.merge(code_location).run_k8s_config.container_config["resources"]
    run_pod_requests = launcher["run_k8s_config"]["container_config"]["resources"]["requests"]
    assert merged["requests"] == deployment["resources"]["requests"] != run_pod_requests


def test_concurrency_leaves_room_for_fresh_hours(instance):
    from observatory_etl.defs.assets import telemetry_tables
    from observatory_etl.defs.jobs import recompute_costs_op

    runs, pools = instance["concurrency"]["runs"], instance["concurrency"]["pools"]
    (backfill,) = [limit for limit in runs["tag_concurrency_limits"] if limit["key"] == "dagster/backfill"]
    # Backfills never take every warehouse slot, and the pool never waits for a run slot.
    assert backfill["limit"] < pools["default_limit"] <= runs["max_concurrent_runs"]
    # The default limit governs the pool the loads use; a backfill range is one run.
    assert telemetry_tables.op.pool == recompute_costs_op.pool == "warehouse"
    assert telemetry_tables.backfill_policy.max_partitions_per_run is None


# --- Dockerfile -------------------------------------------------------------------------------------------


def test_dockerfile_installs_the_lock_with_hashes(launcher):
    dockerfile = (K8S / "Dockerfile").read_text()
    lock = LOCK.read_text()
    lines = [line.strip() for line in dockerfile.splitlines() if line.strip() and not line.lstrip().startswith("#")]

    python = re.search(r"--python-version (\d+\.\d+)", lock).group(1)
    assert re.search(rf"^FROM python:{re.escape(python)}[-\s]", dockerfile, re.M), f"base image must be Python {python}"
    hashed = next(i for i, line in enumerate(lines) if re.search(r"pip install .*--require-hashes -r requirements\.lock", line))
    project = next(i for i, line in enumerate(lines) if re.search(r"pip install .*--no-deps \.(\s|$)", line))
    copy_lock = next(i for i, line in enumerate(lines) if re.match(r"COPY requirements\.lock ", line))
    assert copy_lock < hashed < project
    assert "--no-deps" not in lines[hashed] and "requirements" not in lines[project]
    # What the run pods and the code server import comes from the lock.
    for package in ("dagster", "dagster-postgres", "dagster-k8s", "psycopg2-binary"):
        assert re.search(rf"^{package}==", lock, re.M), package
    assert re.search(rf"DAGSTER_HOME={re.escape(launcher['dagster_home'])}\b", dockerfile)

    # Every COPY source is let through Dockerfile.dockerignore's allowlist.
    ignore = (K8S / "Dockerfile.dockerignore").read_text().split()
    allowed = {entry[1:].rstrip("/") for entry in ignore if entry.startswith("!")}
    for line in lines:
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert source.rstrip("/") in allowed, source
                assert (ROOT / source).exists(), source


# --- docs/deploy-kubernetes.md ------------------------------------------------------------------------------


def test_doc_commands_match_the_files(doc, launcher, values):
    helm = re.search(r"helm upgrade --install (\S+) dagster/dagster --version (\S+) --namespace (\S+)", doc)
    assert helm, "the doc installs the chart"
    release, chart_version, namespace = helm.groups()
    assert chart_version == re.search(r"^dagster==(\S+)", LOCK.read_text(), re.M).group(1)
    assert namespace == launcher["job_namespace"]
    # The chart names its objects after the release ("dagster" when the release name contains it).
    fullname = release if "dagster" in release else f"{release}-dagster"
    assert launcher["instance_config_map"] == f"{fullname}-instance"
    assert launcher["service_account_name"] == fullname
    assert "--values deploy/k8s/values.yaml" in doc

    assert f"docker build -f deploy/k8s/Dockerfile -t {IMAGE_TAG} ." in doc
    secrets = dict(re.findall(r"create secret generic (\S+) \\\n\s+--from-literal=([A-Za-z_-]+)=", doc))
    assert secrets == {
        launcher["env_secrets"][0]: "OBSERVATORY_DATABASE_URL",
        launcher["postgres_password_secret"]: "postgresql-password",
    }
    assert f"kubectl create namespace {namespace}" in doc


# --- concurrent hours and the rollups ---------------------------------------------------------------------


def _span(trace_hex, span_hex, parent_hex, name, start_s, end_s):
    span = {
        "traceId": trace_hex, "spanId": span_hex, "name": name, "kind": 1,
        "startTimeUnixNano": str(int(start_s * 1e9)), "endTimeUnixNano": str(int(end_s * 1e9)),
    }
    if parent_hex:
        span["parentSpanId"] = parent_hex
    return span


def _request(spans) -> bytes:
    import orjson

    scope_spans = [{"scope": {"name": "t"}, "spans": spans}]
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": scope_spans}]})


def test_parallel_hours_do_not_miss_each_other_in_rollups(landing, database_url, schema, monkeypatch):
    """Two hours holding spans of one trace, loaded at the same time (as two run pods would): the rollups are
    serialized up to commit, so the second reads the first's committed spans and the traces row counts both."""
    trace, start = "0af7651916cd43dd8448eb211c80319d", HOUR.timestamp() - 120
    first, second = HOUR, HOUR + timedelta(hours=1)
    root = _span(trace, "b7ad6b7169203331", None, "root", start, start + 30)
    child = _span(trace, "00f067aa0ba902b8", "b7ad6b7169203331", "tool", start + 1, start + 9)
    land(landing, first, "traces_a.json", _request([root]))
    land(landing, second, "traces_b.json", _request([child]))
    conn = connect(database_url)
    ensure_schema(conn, schema)
    conn.close()

    # Hold the first hour's commit (after its rollups) until the second hour's load waits on a lock.
    real_connect, holding = hour.connect, threading.local()

    class HeldCommit:
        def __init__(self, conn):
            self._conn = conn

        def __getattr__(self, name):
            return getattr(self._conn, name)

        def commit(self):
            import inspect

            if inspect.stack()[1].function == "__exit__":  # PartitionLoad's commit
                started.set()
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not query(
                    database_url, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                ):
                    time.sleep(0.05)
            return self._conn.commit()

    def held_connect(url):
        conn = real_connect(url)
        return HeldCommit(conn) if getattr(holding, "on", False) else conn

    monkeypatch.setattr(hour, "connect", held_connect)
    started = threading.Event()

    def load_first():
        holding.on = True
        load_hour(first, landing_url=str(landing), database_url=database_url, schema=schema)

    thread = threading.Thread(target=load_first)
    thread.start()
    assert started.wait(60)
    load_hour(second, landing_url=str(landing), database_url=database_url, schema=schema)
    thread.join(60)

    spans = query(database_url, f'SELECT count(*) FROM "{schema}".trace_spans')[0][0]
    assert spans == 2
    assert query(database_url, f'SELECT span_count FROM "{schema}".traces') == [(spans,)]
