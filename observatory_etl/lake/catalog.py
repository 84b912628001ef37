"""Where the lake is: its warehouse location, its Iceberg catalog, and its tables (created and evolved from
the catalogue).

The catalog is, by default, a pyiceberg ``SqlCatalog`` kept in the warehouse's own PostgreSQL, in a schema
of its own (``<warehouse schema>_lake``, so ``observatory_lake`` by default; tables ``iceberg_tables`` and
``iceberg_namespace_properties``), named ``observatory``. Any other pyiceberg catalog (REST, Glue, Hive,
another SQL database) is used by name instead: ``open_catalog(..., catalog_name="prod")`` calls
``pyiceberg.catalog.load_catalog("prod")``, which reads ``.pyiceberg.yaml`` (in ``$PYICEBERG_HOME``, ``~``
or the working directory) and ``PYICEBERG_CATALOG__PROD__*`` variables. Tables live in the namespace named
after the warehouse schema (``observatory.trace_spans``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlparse, urlunparse

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.table import Table

from ..config import validate_schema
from .schema import LAKE_TABLES, LakeTable

DEFAULT_CATALOG_NAME = "observatory"

# Table properties of every lake table (https://iceberg.apache.org/docs/latest/configuration/).
TABLE_PROPERTIES = {
    "write.parquet.compression-codec": "zstd",
    # pyiceberg retries a commit that lost a race (CommitFailedException) itself, re-validating and
    # re-applying the snapshot without rewriting data: up to 8 times, 100 ms doubling to 10 s, plus jitter.
    "commit.retry.num-retries": "8",
    "commit.retry.min-wait-ms": "100",
    "commit.retry.max-wait-ms": "10000",
    # Every commit writes a metadata file; keep the last 100 and delete older ones after each commit.
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "100",
    # Exact min/max of the landing hour in the manifests (the default truncates strings to 16 characters).
    "write.metadata.metrics.column.partition_key": "full",
}


class LakeConfigError(ValueError):
    """The lake's location or catalog settings cannot be used; the message names the setting."""


def warehouse_location(url: str) -> str:
    """The Iceberg warehouse location for OBSERVATORY_LAKE_URL ``url``.

    A local path (or ``file://`` URL) is made absolute and created; ``s3://``, ``gs://`` (``gcs://``) and
    ``abfs[s]://`` are passed through; ``az://container/path`` is rewritten to pyiceberg's
    ``abfs://container@<account>.dfs.core.windows.net/path`` with the account from
    ``AZURE_STORAGE_ACCOUNT_NAME``. The result has no trailing slash.

    Raises:
        LakeConfigError: an unsupported scheme, or ``az://`` without ``AZURE_STORAGE_ACCOUNT_NAME``.
    """
    url = url.strip()
    if "://" not in url:
        path = Path(url).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path.as_uri()
    scheme = url.split("://", 1)[0].lower()
    if scheme == "file":
        Path(unquote(urlparse(url).path)).mkdir(parents=True, exist_ok=True)
        return url.rstrip("/")
    if scheme in ("s3", "s3a", "gs", "gcs", "abfs", "abfss"):
        return url.rstrip("/")
    if scheme == "az":
        account = os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
        if not account:
            raise LakeConfigError(f"OBSERVATORY_LAKE_URL={url!r}: az:// needs AZURE_STORAGE_ACCOUNT_NAME "
                                  "(or write abfs://container@account.dfs.core.windows.net/path)")
        parsed = urlparse(url)
        return f"abfs://{parsed.netloc}@{account}.dfs.core.windows.net{parsed.path}".rstrip("/")
    raise LakeConfigError(f"OBSERVATORY_LAKE_URL={url!r}: use a path, file://, s3://, gs://, az:// or abfs:// URL")


def storage_properties(location: str) -> dict[str, str]:
    """pyiceberg FileIO properties for ``location`` taken from the environment the landing store also
    reads: for ``s3://``, ``s3.region`` (``AWS_REGION``/``AWS_DEFAULT_REGION``, default ``us-east-1``;
    always set, since an unset region makes pyarrow ask AWS for the bucket's), ``s3.endpoint``
    (``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``/``AWS_ENDPOINT``) and the ``AWS_ACCESS_KEY_ID``/
    ``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN`` keys; for ``abfs://``, ``adls.account-name`` and
    ``adls.account-key`` from ``AZURE_STORAGE_ACCOUNT_NAME``/``AZURE_STORAGE_ACCOUNT_KEY``. Empty otherwise."""
    env = os.environ
    scheme = location.split("://", 1)[0].lower() if "://" in location else "file"
    props: dict[str, str] = {}
    if scheme in ("s3", "s3a"):
        props["s3.region"] = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or env.get("AWS_ENDPOINT")
        for prop, value in (("s3.endpoint", endpoint), ("s3.access-key-id", env.get("AWS_ACCESS_KEY_ID")),
                            ("s3.secret-access-key", env.get("AWS_SECRET_ACCESS_KEY")),
                            ("s3.session-token", env.get("AWS_SESSION_TOKEN"))):
            if value:
                props[prop] = value
    elif scheme in ("abfs", "abfss"):
        for prop, var in (("adls.account-name", "AZURE_STORAGE_ACCOUNT_NAME"), ("adls.account-key", "AZURE_STORAGE_ACCOUNT_KEY")):
            if env.get(var):
                props[prop] = env[var]
    return props


def catalog_schema_name(schema: str) -> str:
    """The PostgreSQL schema of the default SqlCatalog's tables: ``<schema>_lake`` (``observatory_lake``).

    Raises:
        ValueError: the result is not a plain identifier of at most 63 characters.
    """
    return validate_schema(f"{schema}_lake")


def sqlalchemy_catalog_url(database_url: str, search_path: str) -> str:
    """The SQLAlchemy URL (psycopg2 driver) of the libpq URI ``database_url`` whose sessions use
    ``search_path`` (added to libpq's ``options``), so the SqlCatalog's tables go into that schema."""
    for scheme in ("postgresql://", "postgres://"):
        if database_url.startswith(scheme):
            database_url = "postgresql+psycopg2://" + database_url[len(scheme):]
            break
    parsed = urlparse(database_url)
    query = parse_qsl(parsed.query, keep_blank_values=True)
    options = " ".join([v for k, v in query if k == "options"] + [f"-csearch_path={search_path}"])
    query = [(k, v) for k, v in query if k != "options"] + [("options", options)]
    return urlunparse(parsed._replace(query=urlencode(query)))


def _ensure_pg_schema(database_url: str, name: str) -> None:
    """CREATE SCHEMA IF NOT EXISTS ``name`` (two processes racing to create it both succeed)."""
    import psycopg2
    import psycopg2.errors

    conn = psycopg2.connect(database_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            try:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
            except psycopg2.errors.UniqueViolation:
                pass  # created by a concurrent process between the check and the insert
    finally:
        conn.close()


def open_catalog(lake_url: str | None, *, catalog_name: str | None = None, database_url: str | None = None,
                 schema: str = "observatory") -> Catalog:
    """Open the lake's Iceberg catalog.

    Args:
        lake_url: OBSERVATORY_LAKE_URL, the warehouse location (see :func:`warehouse_location`); may be None
            only for a named catalog whose configuration sets ``warehouse``.
        catalog_name: a pyiceberg catalog to load by name (OBSERVATORY_LAKE_CATALOG: ``.pyiceberg.yaml`` or
            ``PYICEBERG_CATALOG__<NAME>__*``); OBSERVATORY_LAKE_URL is its ``warehouse`` unless its
            configuration names one. None: the default SqlCatalog in PostgreSQL.
        database_url: the warehouse's libpq URI (the default catalog's database); required when
            ``catalog_name`` is None.
        schema: the warehouse schema; the default catalog keeps its tables in ``<schema>_lake``.

    Raises:
        LakeConfigError: no location, or a location/catalog that cannot be used.
        psycopg2.Error, sqlalchemy.exc.SQLAlchemyError: the default catalog's database cannot be reached.
    """
    location = warehouse_location(lake_url) if lake_url else None
    if catalog_name:
        from pyiceberg.utils.config import Config

        configured = Config().get_catalog_config(catalog_name) or {}
        properties = {} if location is None else storage_properties(location)
        if location is not None and "warehouse" not in configured:
            properties["warehouse"] = location
        properties = {k: v for k, v in properties.items() if k not in configured}
        # The configuration read now (pyiceberg reads its own once, at import), then our additions.
        return load_catalog(catalog_name, **{**configured, **properties})
    if location is None:
        raise LakeConfigError("the lake needs OBSERVATORY_LAKE_URL (its warehouse location)")
    if not database_url:
        raise LakeConfigError("the default lake catalog (SqlCatalog) needs the warehouse's database URL")
    catalog_schema = catalog_schema_name(schema)
    _ensure_pg_schema(database_url, catalog_schema)
    return load_catalog(DEFAULT_CATALOG_NAME, **{
        "type": "sql",
        "uri": sqlalchemy_catalog_url(database_url, catalog_schema),
        "warehouse": location,
        "pool_pre_ping": "true",
        **storage_properties(location),
    })


def close_catalog(catalog: Catalog) -> None:
    """Release a catalog's database connections (a SqlCatalog's SQLAlchemy pool); a no-op for others."""
    engine = getattr(catalog, "engine", None)
    if engine is not None:
        engine.dispose()


def ensure_table(catalog: Catalog, namespace: str, lake: LakeTable) -> Table:
    """The Iceberg table ``<namespace>.<lake.name>``: created (with the namespace) from the catalogue's
    schema, partition spec, sort order and :data:`TABLE_PROPERTIES` if missing, else loaded and, when the
    catalogue has columns the table lacks (or widened a type), evolved with ``update_schema().union_by_name``
    (one commit; older snapshots keep their schema and stay readable, new columns read as null in them).

    Two processes creating or evolving the same table at once both succeed (the loser reloads).

    Raises:
        pyiceberg.exceptions.ValidationError: the catalogue changed a column incompatibly (e.g. a narrower
            or unrelated type); evolve it by hand (docs/lake.md).
    """
    identifier = (namespace, lake.name)
    try:
        catalog.create_namespace_if_not_exists(namespace)
    except NamespaceAlreadyExistsError:  # a concurrent creator won between the check and the insert
        pass
    for attempt in range(5):
        try:
            table = catalog.load_table(identifier)
        except NoSuchTableError:
            try:
                return catalog.create_table(identifier, schema=lake.schema, partition_spec=lake.spec,
                                            sort_order=lake.sort_order, properties=TABLE_PROPERTIES)
            except TableAlreadyExistsError:
                continue
        if not schema_behind(table, lake):
            return table
        try:
            with table.update_schema() as update:
                update.union_by_name(lake.schema)
            return table
        except CommitFailedException:  # evolved by another process meanwhile: reload and look again
            time.sleep(0.1 * 2**attempt)
    return catalog.load_table(identifier)


def schema_behind(table: Table, lake: LakeTable) -> bool:
    """Whether the live table lacks a catalogue column or has one with another type."""
    current = {field.name: field.field_type for field in table.schema().fields}
    for field in lake.schema.fields:
        if field.name not in current:
            return True
        if field.field_type.is_primitive and current[field.name] != field.field_type:
            return True
    return False


def ensure_tables(catalog: Catalog, namespace: str, names=None) -> dict[str, Table]:
    """:func:`ensure_table` for every lake table (or those ``names``), in catalogue order: ``{name: Table}``."""
    return {name: ensure_table(catalog, namespace, LAKE_TABLES[name]) for name in (names or LAKE_TABLES)}


def row_counts(catalog: Catalog, namespace: str) -> dict[str, int]:
    """Rows per lake table over all hours, ``{table: rows}`` in catalogue order, from each table's current
    snapshot summary (``total-records``: no data file is read); 0 for a table that is missing or empty."""
    counts = {}
    for name in LAKE_TABLES:
        try:
            snapshot = catalog.load_table((namespace, name)).current_snapshot()
        except NoSuchTableError:
            snapshot = None
        counts[name] = int(snapshot.summary.get("total-records", 0) or 0) if snapshot and snapshot.summary else 0
    return counts


def key_counts(catalog: Catalog, namespace: str) -> dict[str, int]:
    """Distinct records per lake table over all hours, ``{table: count}`` in catalogue order: rows with a
    distinct key (the table's key in :mod:`observatory_etl.tables`), what the warehouse holds once. It reads
    the key columns of every data file (``polars.scan_iceberg``); 0 for a table that is missing or empty."""
    import warnings

    import polars as pl

    from ..tables import RECORD_TABLES

    # polars suggests its optional polars_iceberg planner; pyiceberg's planning is fine for counting keys.
    warnings.filterwarnings("ignore", message="Iceberg scan planning", category=pl.exceptions.PerformanceWarning)

    counts = {}
    for name in LAKE_TABLES:
        try:
            table = catalog.load_table((namespace, name))
        except NoSuchTableError:
            counts[name] = 0
            continue
        if table.current_snapshot() is None:
            counts[name] = 0
            continue
        keys = list(RECORD_TABLES[name].key)
        counts[name] = pl.scan_iceberg(table).select(keys).unique().select(pl.len()).collect().item()
    return counts
