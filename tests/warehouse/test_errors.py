"""Database errors are classified by SQLSTATE: data errors name the table and stage and are not transient;
a lost connection is transient (retried by the asset's retry policy). On a real PostgreSQL server."""

from __future__ import annotations

import pytest

from observatory_etl.ingest.columns import Columns
from observatory_etl.ingest.frames import frames
from observatory_etl.ingest.otlp_json import decode
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.ddl import ensure_schema
from observatory_etl.warehouse.errors import WarehouseError, is_transient
from observatory_etl.warehouse.load import PartitionLoad
from tests.conftest import query

SPAN = (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",'
        b'"spanId":"eee19b7ec3c1b174","name":"s","startTimeUnixNano":"1793491200000000000"}]}]}]}')


def spans_frame():
    columns = Columns()
    decode("traces", SPAN, columns)
    return frames(columns)["trace_spans"]


@pytest.mark.parametrize("direct, stage", [(True, "copy"), (False, "merge")])
def test_a_data_error_names_the_table_and_is_not_transient(database_url, schema, direct, stage):
    """Invalid JSON fails the COPY straight into trace_spans (jsonb parses it there), or the merge's cast."""
    import polars as pl

    bad = spans_frame().with_columns(pl.lit("{not json").alias("attributes"))
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        with pytest.raises(WarehouseError) as info:
            with PartitionLoad(conn, schema, "2026-11-01-00:00", direct=direct) as load:
                load.chunk({"trace_spans": bad})
    finally:
        conn.close()
    error = info.value
    assert (error.table, error.stage, error.sqlstate, error.transient) == ("trace_spans", stage, "22P02", False)
    assert f"{stage} of trace_spans failed (SQLSTATE 22P02)" in str(error)
    assert error.with_files(("a.json", "b.json")).files == ("a.json", "b.json")
    assert query(database_url, f'SELECT count(*) FROM "{schema}".trace_spans') == [(0,)]  # rolled back


def test_a_terminated_connection_is_transient(database_url, schema):
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            [(pid,)] = cur.fetchall()
        query(database_url, f"SELECT pg_terminate_backend({pid})")
        with pytest.raises(Exception) as info:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
        assert is_transient(info.value), (type(info.value), getattr(info.value, "sqlstate", None))
    finally:
        try:
            conn.close()
        except Exception:
            pass


def test_sqlstate_classes():
    class Fake(Exception):
        def __init__(self, sqlstate):
            self.sqlstate = sqlstate

    assert [is_transient(Fake(s)) for s in ("08006", "40001", "40P01", "53300", "57P01", "57014")] == [True] * 6
    assert [is_transient(Fake(s)) for s in ("22P02", "23505", "42P01", "22021")] == [False] * 4
