"""The table catalogue (observatory_etl.tables) is the one source of truth: the staging tables of
sql/staging.sql, the final tables of sql/schema.sql and the frames all agree with it, on a real server."""

from __future__ import annotations

import polars as pl
import pytest

from observatory_etl.ingest.columns import Columns
from observatory_etl.ingest.frames import frames
from observatory_etl.tables import FINAL_TABLES, INGESTED_FILES, JSON, RECORD_TABLES, raw_schema
from observatory_etl.warehouse import sql_files
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.ddl import ensure_schema

COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a
WHERE a.attrelid = '{table}'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


@pytest.fixture
def columns_of(database_url, schema):
    """``columns_of(table)``: ``[(name, SQL type)]`` of a table in the test schema, or of a staging table
    created from sql/staging.sql in the same (open) transaction."""
    conn = connect(database_url)
    ensure_schema(conn, schema)
    cur = conn.cursor()
    cur.execute(f'SET search_path TO "{schema}", public')
    for statement in sql_files.statements("staging"):
        cur.execute(statement)

    def columns_of(table: str) -> list[tuple[str, str]]:
        cur.execute(COLUMNS_SQL.format(table=table))
        return cur.fetchall()

    yield columns_of
    conn.rollback()
    cur.close()
    conn.close()


@pytest.mark.parametrize("table", [*RECORD_TABLES.values(), INGESTED_FILES], ids=lambda t: t.name)
def test_staging_tables_are_the_catalogue(columns_of, table):
    assert columns_of(f"stage_{table.name}") == [(c.name, c.type.sql) for c in table.columns]


@pytest.mark.parametrize("table", RECORD_TABLES.values(), ids=lambda t: t.name)
def test_final_tables_hold_every_catalogue_column(columns_of, table):
    final = dict(columns_of(table.name))
    expected = {c.name: ("jsonb" if c.type is JSON else c.type.sql) for c in table.columns}
    assert {name: final.get(name) for name in expected} == expected


@pytest.mark.parametrize("table", FINAL_TABLES.values(), ids=lambda t: t.name)
def test_final_table_keys_are_primary_key_columns(columns_of, database_url, schema, table):
    names = {name for name, _ in columns_of(table.name)}
    assert set(table.key) <= names


def test_frames_have_the_catalogue_schema():
    built = frames(Columns())
    assert list(built) == list(RECORD_TABLES)
    for name, table in RECORD_TABLES.items():
        assert built[name].schema == pl.Schema(table.schema()), name


def test_raw_schema_decodes_times_as_ns_and_leaves_derived_columns_out():
    spans = raw_schema("trace_spans")
    assert spans["start_time_unix_nano"] == pl.Int64 and "start_time" not in spans
    assert "duration_ns" not in spans
    assert list(raw_schema("logs"))[:3] == ["log_id", "time_unix_nano", "observed_time_unix_nano"]
