"""Dagster instance storage on the project's PostgreSQL (dagster-postgres), embedded by default.

``dagster_home/dagster.yaml`` names :class:`ObservatoryPostgresStorage` as the instance's custom storage:
it is dagster-postgres' ``DagsterPostgresStorage`` (runs, event logs, schedules) pointed at
OBSERVATORY_DATABASE_URL, or at the embedded server when that variable is unset, so that Dagster and the
warehouse share one server and no URL has to be written into the YAML.
"""

from __future__ import annotations

from dagster_postgres import DagsterPostgresStorage

from ..warehouse import embedded


class ObservatoryPostgresStorage(DagsterPostgresStorage):
    """``DagsterPostgresStorage`` whose URL comes from :func:`observatory_etl.warehouse.embedded.database_url`."""

    @classmethod
    def config_type(cls):
        return {}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(postgres_url=sqlalchemy_url(embedded.database_url()), inst_data=inst_data)


def sqlalchemy_url(url: str) -> str:
    """Name the psycopg2 driver dagster-postgres ships with (SQLAlchemy 2.1 defaults to psycopg 3)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme) :]
    return url
