"""The warehouse's DDL: create the schema and apply ``sql/migrate.sql``, ``schema.sql``, ``partitions.sql``,
``upgrade.sql`` and ``views.sql`` once per version of those files.
"""

from __future__ import annotations

import hashlib

import adbc_driver_postgresql.dbapi as adbc

from . import sql_files

_SCHEMA_LOCK = 0x6F62736572766174  # advisory lock key serializing DDL ("observat")
_DDL_FILES = ("migrate", "schema", "partitions", "upgrade", "views")


def ddl_version() -> str:
    """The MD5 of the DDL files (``sql/migrate.sql``, ``schema.sql``, ``partitions.sql``, ``upgrade.sql``,
    ``views.sql``): what a warehouse
    records in ``schema_version`` once they are applied."""
    digest = hashlib.md5(usedforsecurity=False)
    for name in _DDL_FILES:
        digest.update("\n".join(sql_files.statements(name)).encode())
    return digest.hexdigest()


def ensure_schema(conn: adbc.Connection, schema: str) -> None:
    """Create schema ``schema`` and apply the DDL files (see :func:`ddl_version`) in it, then
    commit — unless ``schema_version`` already records this version of them (one cheap SELECT, and no DDL
    locks that would queue a load behind queries on the views).

    Concurrent callers are serialized by an advisory lock, so parallel first runs do not race on DDL.
    ``schema`` must already be a validated identifier (see :func:`observatory_etl.config.validate_schema`).
    """
    version = ddl_version()
    with conn.cursor() as cur:
        cur.execute(f"""SELECT to_regclass('"{schema}".schema_version') IS NOT NULL""")
        if cur.fetchone()[0]:
            cur.execute(f'SELECT version FROM "{schema}".schema_version')
            if cur.fetchall() == [(version,)]:
                conn.commit()
                return
        cur.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        cur.execute(f'SET search_path TO "{schema}", public')
        for name in _DDL_FILES:
            for statement in sql_files.statements(name):
                cur.execute(statement)
        cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version text NOT NULL)")
        cur.execute("DELETE FROM schema_version")
        cur.execute(f"INSERT INTO schema_version (version) VALUES ('{version}')")
    conn.commit()
