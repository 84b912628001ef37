"""Dagster resources: where the landing zone is and which PostgreSQL warehouse to load.

Both are small ``ConfigurableResource`` classes fed from the environment (see
:mod:`observatory_etl.config` for the variables and defaults) in :func:`default_resources`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import adbc_driver_postgresql.dbapi as adbc
import dagster as dg

from .. import config
from ..warehouse import connection, ddl, embedded


class LandingResource(dg.ConfigurableResource):
    """The object-store root of the landing zone: a path, ``file://``, ``s3://``, ``gs://`` or ``az://`` URL."""

    url: str = config.DEFAULT_LANDING_URL


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse.

    Attributes:
        database_url: libpq URI; ``None`` starts (or reuses) the embedded server in ``$DAGSTER_HOME/postgres``.
        schema_name: schema of all tables (a plain lower-case identifier).
        chunk_rows: rows per loaded chunk (bounds memory).
        chunk_bytes: in-memory bytes of a chunk's frames (bounds memory; whichever bound comes first).
    """

    database_url: str | None = None
    schema_name: str = config.DEFAULT_SCHEMA
    chunk_rows: int = config.DEFAULT_CHUNK_ROWS
    chunk_bytes: int = config.DEFAULT_CHUNK_BYTES

    def url(self) -> str:
        """The URI to connect to (the embedded server's, started if needed, when ``database_url`` is unset)."""
        return self.database_url or embedded.embedded_database_url()

    def schema(self) -> str:
        """The validated schema name (raises ValueError for anything but a plain identifier)."""
        return config.validate_schema(self.schema_name)

    @contextmanager
    def connect(self) -> Iterator[adbc.Connection]:
        """An ADBC connection (autocommit off) to the warehouse whose schema exists with its tables
        (:func:`observatory_etl.warehouse.ddl.ensure_schema`) and is first on ``search_path``; closed on exit.

        Raises:
            adbc_driver_manager.Error: the server cannot be reached or the DDL failed.
        """
        conn = connection.connect(self.url())
        try:
            ddl.ensure_schema(conn, self.schema())
            with conn.cursor() as cur:
                cur.execute(f'SET search_path TO "{self.schema()}", public')
            conn.commit()
            yield conn
        finally:
            conn.close()


def _env(name: str, default):
    """``EnvVar(name)`` when the variable is set (so Dagster shows where a value came from), else ``default``."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def _env_int(name: str, default: int):
    """``EnvVar.int(name)`` when the variable is set, else ``default``."""
    return dg.EnvVar.int(name) if os.environ.get(name) else default


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of ``defs``, configured from OBSERVATORY_* environment variables."""
    return {
        "landing": LandingResource(url=_env("OBSERVATORY_LANDING_URL", config.DEFAULT_LANDING_URL)),
        "warehouse": WarehouseResource(
            database_url=_env("OBSERVATORY_DATABASE_URL", None),
            schema_name=_env("OBSERVATORY_SCHEMA", config.DEFAULT_SCHEMA),
            chunk_rows=_env_int("OBSERVATORY_CHUNK_ROWS", config.chunk_rows()),
            chunk_bytes=_env_int("OBSERVATORY_CHUNK_BYTES", config.chunk_bytes()),
        ),
    }
