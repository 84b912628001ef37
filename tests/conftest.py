"""Shared test fixtures: a real PostgreSQL server, an isolated schema per test, a landing folder.

The server is the embedded one (started in a temporary folder for the session and deleted after) unless
OBSERVATORY_TEST_DATABASE_URL names another. Every test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from observatory_etl.tables import FINAL_TABLES, LLM_COLUMNS
from observatory_etl.warehouse import embedded
from observatory_etl.warehouse.connection import connect

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "otlp"
HOUR = datetime(2026, 11, 1, 0, tzinfo=timezone.utc)

# Each final table's key (observatory_etl.tables), used to read whole tables in a stable order.
ORDER_BY = {name: ", ".join(table.key) for name, table in FINAL_TABLES.items()}


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("OBSERVATORY_TEST_DATABASE_URL")
    if url:
        yield url
        return
    # Not under pytest's basetemp: pytest resets that tree to mode 0700, and the embedded server runs as
    # its own system user when the tests run as root.
    folder = Path(tempfile.mkdtemp(prefix="observatory-test-pg-"))
    yield embedded.embedded_database_url(folder / "data")
    embedded.stop_embedded(folder / "data")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def schema(database_url) -> str:
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    execute(database_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def landing(tmp_path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"official OTLP/JSON examples not found at {FIXTURES} (the shared/ folder beside the project)")
    return FIXTURES


def land(landing: Path, hour: datetime, name: str, data: bytes, minute: int = 0) -> Path:
    """Write ``data`` as ``name`` into ``hour`` of the landing folder, in the collector's layout."""
    folder = landing / f"year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/minute={minute:02d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def query(database_url: str, sql: str) -> list[tuple]:
    """Run one query on a fresh connection and return all rows."""
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def execute(database_url: str, sql: str) -> None:
    """Run one statement on a fresh connection and commit."""
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.commit()
    finally:
        conn.close()


def snapshot(database_url: str, schema: str) -> dict[str, list[tuple]]:
    """Every row of every final table, in primary-key order."""
    return {
        table: query(database_url, f'SELECT * FROM "{schema}".{table} ORDER BY {order}')
        for table, order in ORDER_BY.items()
    }


def counts(database_url: str, schema: str) -> dict[str, int]:
    """Row count of every final table."""
    return {table: query(database_url, f'SELECT count(*) FROM "{schema}".{table}')[0][0] for table in ORDER_BY}


def decoded_rows(columns, table: str) -> list[dict]:
    """The decoded rows of ``table`` in a :class:`~observatory_etl.ingest.columns.Columns` as dicts; trace_spans
    rows with their LLM columns, which ``columns.llm`` computes (as frames do)."""
    import polars as pl

    cols = columns.tables[table]
    rows = [dict(zip(cols, values)) for values in zip(*cols.values())]
    if table == "trace_spans":
        times = (pl.Series(cols[name], dtype=pl.Int64) for name in ("start_time_unix_nano", "end_time_unix_nano"))
        llm = {row.pop("row"): row for row in columns.llm.frame(*times, columns.prices).to_dicts()}
        for index, row in enumerate(rows):
            row.update(llm.get(index, dict.fromkeys(LLM_COLUMNS)))
    return rows


def llm_expected(**columns) -> dict:
    """All 23 canonical columns: None unless given."""
    unknown = set(columns) - set(LLM_COLUMNS)
    assert not unknown, unknown
    return {name: columns.get(name) for name in LLM_COLUMNS}


def assert_llm_columns(actual: dict, expected: dict) -> None:
    assert list(actual) == list(LLM_COLUMNS)
    for name in LLM_COLUMNS:
        want = expected[name]
        if isinstance(want, float):
            assert actual[name] == pytest.approx(want, rel=1e-9, abs=1e-15), name
            assert isinstance(actual[name], float), name
        else:
            assert actual[name] == want, name
            if isinstance(want, int) and not isinstance(want, bool):
                assert type(actual[name]) is int, name
