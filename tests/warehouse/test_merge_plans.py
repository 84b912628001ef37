"""The merge statements' plans on a real server: the NOT EXISTS that skips rows already stored probes the
key's index per staged row and never reads the final table whole (an anti-join would read and sort the whole
day partition for every chunk, a cost growing with the day; docs/tuning.md, "Issue 11, session 4")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from observatory_etl import synth
from observatory_etl.pipeline.hour import load_hour
from observatory_etl.warehouse import sql_files
from observatory_etl.warehouse.connection import connect
from tests.conftest import HOUR

PROBED = ("trace_spans", "trace_events", "metric_data_points", "logs")


@pytest.mark.parametrize("table", PROBED)
def test_the_merge_probes_the_key_index_and_never_scans_the_final_table(landing, database_url, schema, table):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=120)
    load_hour(HOUR, landing_url=str(landing), database_url=database_url, schema=schema)
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.adbc_statement.set_options(**{"adbc.postgresql.use_copy": "false"})  # EXPLAIN cannot run in COPY
            cur.execute(f'SET search_path TO "{schema}", public')
            for statement in sql_files.statements("staging"):
                cur.execute(statement)
            cur.execute(f"EXPLAIN {sql_files.statement(f'merge/{table}')}")
            plan = "\n".join(row[0] for row in cur.fetchall())
    finally:
        conn.rollback()
        conn.close()
    assert "NOT EXISTS(SubPlan" in plan, plan
    assert "Anti Join" not in plan, plan
    assert f"Seq Scan on {table}_p" not in plan and f"Seq Scan on {table}_default" not in plan, plan
    assert "Index Only Scan" in plan or "Index Scan" in plan or "Bitmap Index Scan" in plan, plan
