"""Dagster instance storage on the project's PostgreSQL (dagster-postgres), embedded by default.

``dagster_home/dagster.yaml`` names :class:`ObservatoryPostgresStorage` as the instance's custom storage:
it is dagster-postgres' ``DagsterPostgresStorage`` (runs, event logs, schedules) pointed at
OBSERVATORY_DATABASE_URL, or at the embedded server when that variable is unset, so that Dagster and the
warehouse share one server and no URL has to be written into the YAML.

dagster-postgres creates its tables the first time a storage is opened on an empty database, and stamps
the Alembic revision into ``alembic_version``. Two processes opening it at once on a new database (two
``dagster asset materialize``, or ``dagster dev``'s webserver, daemon and code server) both saw no table,
both created and stamped, and left two rows in ``alembic_version`` ("has more than one head present").
:class:`ObservatoryPostgresStorage` therefore opens the storage under a PostgreSQL advisory lock
(:func:`storage_lock`): the first process creates and stamps, the others wait and find the tables.
``observatory-etl db init`` does it once up front.

The same happens one step later with a concurrency pool (``warehouse``): the first step to claim a pool
that has no row yet creates it with the instance's default limit, and dagster-postgres, on a unique
violation, updates the row inside the transaction the violation has just aborted — two first runs fail
one of themselves with ``InFailedSqlTransaction``. :class:`ObservatoryEventLogStorage` creates a pool's
row under the same kind of lock and lets the second caller find it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import sqlalchemy
from dagster._core.storage.event_log.schema import ConcurrencyLimitsTable
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage
from sqlalchemy.pool import NullPool

from ..warehouse import embedded

STORAGE_LOCK = 0x6F62732D64616773
"""Advisory-lock key serializing the creation of Dagster's storage tables ("obs-dags"; session level)."""

POOL_LOCK = 0x6F62732D706F6F6C
"""Advisory-lock key serializing the creation of a concurrency pool's row ("obs-pool"; session level)."""

LOCK_TIMEOUT = "300s"
"""How long a process waits for another one creating or migrating the storage before it fails."""


class ObservatoryPostgresStorage(DagsterPostgresStorage):
    """``DagsterPostgresStorage`` whose URL comes from :func:`observatory_etl.warehouse.embedded.database_url`,
    opened (tables created and stamped on first use) under :func:`storage_lock`."""

    def __init__(self, postgres_url: str, inst_data=None):
        super().__init__(postgres_url=postgres_url, inst_data=inst_data)
        # The tables exist now (created above if they did not): the replacement creates none.
        self._event_log_storage = ObservatoryEventLogStorage(postgres_url, should_autocreate_tables=False)

    @classmethod
    def config_type(cls):
        return {}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        url = sqlalchemy_url(embedded.database_url())
        with storage_lock(url):
            return cls(postgres_url=url, inst_data=inst_data)


class ObservatoryEventLogStorage(PostgresEventLogStorage):
    """dagster-postgres' event log storage whose pools are created once however many runs claim them first."""

    def initialize_concurrency_limit_to_default(self, concurrency_key: str) -> bool:
        """Create ``concurrency_key``'s row with the instance's default limit, under :data:`POOL_LOCK`; a
        caller that waited finds the row another one has just created, and leaves it."""
        with storage_lock(self.postgres_url, POOL_LOCK):
            default_limit = self._instance.global_op_concurrency_default_limit if self.has_instance else None
            if default_limit is not None:
                with self.index_connection() as conn:
                    row = conn.execute(
                        sqlalchemy.select(ConcurrencyLimitsTable.c.limit).where(
                            ConcurrencyLimitsTable.c.concurrency_key == concurrency_key
                        )
                    ).fetchone()
                if row is not None and row[0] == default_limit:
                    return True
            return super().initialize_concurrency_limit_to_default(concurrency_key)


@contextmanager
def storage_lock(url: str, key: int = STORAGE_LOCK) -> Iterator[None]:
    """Hold the session-level advisory lock ``key`` (default :data:`STORAGE_LOCK`) in the database of ``url``
    (a SQLAlchemy URL) for the duration of the block: at most one process creates or migrates Dagster's
    storage (or a pool's row) at a time.

    Uncontended it costs one connection (a few milliseconds); the lock goes with the connection, so a
    process that dies holding it releases it.

    Raises:
        sqlalchemy.exc.OperationalError: the server cannot be reached, or another process held the lock
            longer than :data:`LOCK_TIMEOUT`.
    """
    engine = sqlalchemy.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
            conn.execute(sqlalchemy.text(f"SELECT pg_advisory_lock({key})"))
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text(f"SELECT pg_advisory_unlock({key})"))
    finally:
        engine.dispose()


def sqlalchemy_url(url: str) -> str:
    """Name the psycopg2 driver dagster-postgres ships with (SQLAlchemy 2.1 defaults to psycopg 3)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme) :]
    return url
