"""Dagster resources: where the landing zone is and which PostgreSQL warehouse to load.

Both are small ``ConfigurableResource`` classes fed from the environment (see
:mod:`observatory_etl.config` for the variables and defaults) in :func:`default_resources`.
"""

from __future__ import annotations

import os

import dagster as dg

from . import config


class LandingResource(dg.ConfigurableResource):
    """The object-store root of the landing zone: a path, ``file://``, ``s3://``, ``gs://`` or ``az://`` URL."""

    url: str = config.DEFAULT_LANDING_URL


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse.

    Attributes:
        database_url: libpq URI; ``None`` starts (or reuses) the embedded server in ``$DAGSTER_HOME/postgres``.
        schema_name: schema of all tables (a plain lower-case identifier).
        chunk_rows: rows per staged-and-merged chunk (bounds memory).
        chunk_bytes: in-memory bytes of a chunk's frames (bounds memory; whichever bound comes first).
    """

    database_url: str | None = None
    schema_name: str = config.DEFAULT_SCHEMA
    chunk_rows: int = config.DEFAULT_CHUNK_ROWS
    chunk_bytes: int = config.DEFAULT_CHUNK_BYTES

    def url(self) -> str:
        """The URI to connect to (the embedded server's when ``database_url`` is unset)."""
        return self.database_url or config.embedded_database_url()

    def schema(self) -> str:
        """The validated schema name (raises ValueError for anything but a plain identifier)."""
        return config.validate_schema(self.schema_name)


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
            chunk_rows=_env_int("OBSERVATORY_CHUNK_ROWS", config.DEFAULT_CHUNK_ROWS),
            chunk_bytes=_env_int("OBSERVATORY_CHUNK_BYTES", config.DEFAULT_CHUNK_BYTES),
        ),
    }
