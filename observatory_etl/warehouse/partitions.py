"""Daily partitions of the event tables and retention: create the partitions ahead of a load, drop expired days.

The partitioned tables are :data:`observatory_etl.tables.PARTITIONED_TABLES` (by UTC event day; see
``sql/schema.sql`` and ``sql/partitions.sql``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import adbc_driver_postgresql.dbapi as adbc

from ..tables import PARTITIONED_TABLES
from . import sql_files


def create_partitions(conn: adbc.Connection, schema: str, first_day: date, last_day: date) -> int:
    """Create the daily partitions of :data:`PARTITIONED_TABLES` for the UTC days [first_day, last_day] that
    have none, in a transaction of their own, and commit; returns how many were created.

    Run before a load's transaction (never inside it: attaching a partition waits for loads holding the
    table). Rows of days without a partition go to the table's DEFAULT partition and move into the day's
    partition when it is created (sql/partitions.sql).
    """
    with conn.cursor() as cur:
        cur.execute(f'SET search_path TO "{schema}", public')
        cur.execute(sql_files.statement("create_partitions"), (first_day, last_day, list(PARTITIONED_TABLES)))
        created = cur.fetchone()[0]
    conn.commit()
    return created


@dataclass
class RetentionResult:
    """What :func:`drop_expired` removed: daily partitions dropped (``table_pYYYYMMDD`` names), and rows of
    ``traces``, ``trace_links`` and ``sessions`` deleted."""

    partitions_dropped: list[str]
    traces_deleted: int
    trace_links_deleted: int
    sessions_deleted: int


def drop_expired(conn: adbc.Connection, schema: str, before: date) -> RetentionResult:
    """Delete telemetry of UTC days before ``before``, in one transaction.

    Drops the daily partitions of :data:`PARTITIONED_TABLES` for those days, deletes their default
    partitions' older rows, the ``traces`` rows (and their ``trace_links``) of traces that ended before
    ``before`` and the ``sessions`` last seen before it. The file ledger is kept, so rerunning an expired
    hour does not load it again. Raises ``adbc_driver_manager.Error`` on a database failure (rolled back).
    """
    cutoff = datetime(before.year, before.month, before.day, tzinfo=timezone.utc)
    try:
        with conn.cursor() as cur:
            cur.execute(f'SET search_path TO "{schema}", public')
            cur.execute(sql_files.statement("retention/drop_partitions"), (before, list(PARTITIONED_TABLES)))
            dropped = [name for _, name in cur.fetchall()]
            cur.execute(sql_files.statement("retention/traces"), (cutoff,))
            traces, links = cur.fetchone()
            cur.execute(sql_files.statement("retention/sessions"), (cutoff,))
            sessions = max(cur.rowcount, 0)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return RetentionResult(dropped, traces, links, sessions)
