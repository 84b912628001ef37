"""Where each table's merge spends its time: ``python -m benchmarks.merge_choices`` runs this after its variants.

For every record table the same staged rows go through a ladder of statements, each timed by the server
with ``EXPLAIN (ANALYZE, BUFFERS, WAL, TIMING OFF)`` (psycopg2: ADBC wraps queries in COPY), each into an
empty table of a fresh schema after a ``CHECKPOINT``:

1. read the staged rows (``count(*)``);
2. parse the JSON columns (the merge's ``::jsonb`` casts, nothing stored);
3. INSERT the merge's SELECT into a plain UNLOGGED copy of the table without indexes (heap only);
4. the same into a logged copy (heap + WAL), then with the JSON columns kept as text (no jsonb, no
   compression), with ``toast_tuple_target`` 2032 (PostgreSQL's default: pglz from 2 kB on) and 8160 (the
   partitions' setting), and with the primary key;
5. the merge as shipped (``sql/merge/<table>.sql``: day partition, key, BRIN, ``NOT EXISTS``, ``ON
   CONFLICT``), without its ``NOT EXISTS``, without its ``ON CONFLICT`` (measured only: a concurrent load of
   another hour holding the same record would then fail), and, for ``trace_spans``, with the message keys
   removed from ``attributes`` (they are stored again in ``input``/``output``).

The staged rows live in UNLOGGED tables of a scratch schema (the merge statements read ``stage_<table>``
through the search path), loaded once with ``adbc_ingest``. The fastest of ``rounds`` is kept.
"""

from __future__ import annotations

import re
import uuid

import polars as pl
import psycopg2

from observatory_etl.tables import MERGE_ORDER
from observatory_etl.warehouse import sql_files
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.ddl import ensure_schema
from observatory_etl.warehouse.load import to_arrow
from observatory_etl.warehouse.partitions import create_partitions

from .run import HOUR

MESSAGE_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages")  # moved verbatim into input / output


def _merge_parts(table: str) -> tuple[str, str, str]:
    """``(merge statement, insert column list, SELECT … FROM …)`` of ``sql/merge/<table>.sql``, comments out."""
    merge = "\n".join(line for line in sql_files.statement(f"merge/{table}").splitlines()
                      if not line.lstrip().startswith("--"))
    columns = merge[:merge.index("SELECT")].split("(", 1)[1].rsplit(")", 1)[0]
    select = re.split(r"\n(?:WHERE NOT EXISTS|ON CONFLICT)", merge[merge.index("SELECT"):])[0]
    return merge, columns, select


def ladder(table: str) -> list[tuple[str, list[str], str]]:
    """The measured steps of ``table``: ``(label, DDL run before, statement)``."""
    merge, columns, select = _merge_parts(table)
    parsed = re.findall(r"\b(\w+)::jsonb", select)
    plain = f"INSERT INTO plain ({columns}) {select}"
    steps = [
        ("read the staged rows", [], f"SELECT count(*) FROM stage_{table}"),
        ("parse the JSON columns (text → jsonb, nothing stored)", [],
         f"SELECT sum({' + '.join(f'pg_column_size({c}::jsonb)' for c in parsed) or '0'}) FROM stage_{table}"),
        ("INSERT, plain UNLOGGED table, no index (heap only)", [f"CREATE UNLOGGED TABLE plain (LIKE {table})"], plain),
        ("INSERT, plain table, no index (heap + WAL)", [f"CREATE TABLE plain (LIKE {table})"], plain),
        ("the same, JSON columns stored as text", [f"CREATE TABLE plain AS SELECT * FROM stage_{table} WITH NO DATA"],
         f"INSERT INTO plain ({columns}) {select.replace('::jsonb', '')}"),
        ("the same as jsonb, toast_tuple_target 2032 (default)",
         [f"CREATE TABLE plain (LIKE {table}) WITH (toast_tuple_target = 2032)"], plain),
        ("the same, toast_tuple_target 8160 (the partitions')",
         [f"CREATE TABLE plain (LIKE {table}) WITH (toast_tuple_target = 8160)"], plain),
        ("the same + its indexes (key, BRIN)", [f"CREATE TABLE plain (LIKE {table} INCLUDING INDEXES)",
                                    "ALTER TABLE plain SET (toast_tuple_target = 8160)"], plain),
        ("merge as shipped", [], merge),
    ]
    if "NOT EXISTS" in merge:
        steps.append(("merge without NOT EXISTS (ON CONFLICT only)", [],
                      re.sub(r"\nWHERE NOT EXISTS \(.*?\n\)", "", merge, flags=re.S)))
        steps.append(("merge without ON CONFLICT (NOT EXISTS only: unsafe beside a concurrent load)", [],
                      re.sub(r"\nON CONFLICT \([^)]*\) DO NOTHING\s*$", "", merge)))
    if table == "trace_spans":
        keys = ", ".join(f"'{key}'" for key in MESSAGE_KEYS)
        stripped = re.sub(r"(?<![\w.])attributes::jsonb", f"(attributes::jsonb - ARRAY[{keys}])", merge)
        steps.append(("merge, attributes without the message keys", [], stripped))
    return steps


def _stage(database_url: str, pg, scratch: str, frames: dict[str, pl.DataFrame]) -> None:
    """UNLOGGED ``<scratch>.stage_<table>`` tables (columns of sql/staging.sql) holding ``frames``."""
    with pg.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{scratch}"')
        for statement in sql_files.statements("staging"):
            found = re.search(r"CREATE TEMP TABLE stage_(\w+) \(", statement)
            if found and found.group(1) in frames:
                body = statement[found.start():].replace("CREATE TEMP TABLE ", f'CREATE UNLOGGED TABLE "{scratch}".')
                cur.execute(body.replace("ON COMMIT DROP", ""))
    pg.commit()
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            for table, frame in frames.items():
                cur.adbc_ingest(f"stage_{table}", to_arrow(frame), mode="append", db_schema_name=scratch)
        conn.commit()
    finally:
        conn.close()
    with pg.cursor() as cur:
        for table in frames:
            cur.execute(f'ANALYZE "{scratch}".stage_{table}')
    pg.commit()


def _explain(cur, statement: str) -> tuple[float, float]:
    """Seconds the server took for ``statement`` and the WAL it wrote (MB)."""
    cur.execute(f"EXPLAIN (ANALYZE, BUFFERS, WAL, TIMING OFF, FORMAT JSON) {statement}")
    plan = cur.fetchone()[0][0]
    return plan["Execution Time"] / 1000, plan["Plan"].get("WAL Bytes", 0) / 1e6


def measure(database_url: str, frames: dict[str, pl.DataFrame], rounds: int = 2,
            log=print) -> dict[str, list[tuple[str, float, float]]]:
    """Run :func:`ladder` of every non-empty table of ``frames`` ``rounds`` times; returns per table its
    steps as ``(label, seconds, WAL MB)``, the fastest round of each step."""
    tables = [t for t in MERGE_ORDER if t in frames and frames[t].height]
    scratch = f"bench_costs_{uuid.uuid4().hex[:8]}"
    pg = psycopg2.connect(database_url)
    best: dict[str, dict[str, tuple[float, float]]] = {t: {} for t in tables}
    try:
        _stage(database_url, pg, scratch, {t: frames[t] for t in tables})
        for round_ in range(1, rounds + 1):
            log(f"merge costs, round {round_} of {rounds}")
            for table in tables:
                for label, ddl, statement in ladder(table):
                    seconds, wal = _step(database_url, pg, scratch, ddl, statement)
                    if label not in best[table] or seconds < best[table][label][0]:
                        best[table][label] = (seconds, wal)
                log(f"  {table}: " + ", ".join(f"{label} {s:.2f} s" for label, (s, _) in best[table].items()))
    finally:
        pg.rollback()
        with pg.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
        pg.commit()
        pg.close()
    return {t: [(label, s, w) for label, (s, w) in steps.items()] for t, steps in best.items()}


def _step(database_url: str, pg, scratch: str, ddl: list[str], statement: str) -> tuple[float, float]:
    """One step in a fresh schema (tables of sql/schema.sql, today's partitions), after a CHECKPOINT."""
    schema = f"bench_costs_{uuid.uuid4().hex[:8]}"
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        create_partitions(conn, schema, HOUR.date(), HOUR.date())
    finally:
        conn.close()
    try:
        with pg.cursor() as cur:
            cur.execute(f'SET search_path TO "{schema}", "{scratch}", public')
            for step in ddl:
                cur.execute(step)
            pg.commit()
            try:
                cur.execute("CHECKPOINT")
            except psycopg2.Error:  # not permitted (needs superuser or pg_checkpoint): measure without
                pg.rollback()
            found = _explain(cur, statement)
        pg.commit()
        return found
    finally:
        pg.rollback()
        with pg.cursor() as cur:
            cur.execute("SET search_path TO public")
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        pg.commit()


def markdown(costs: dict[str, list[tuple[str, float, float]]], rows: dict[str, int]) -> str:
    """One table per record table: step, seconds, rows/s, WAL MB."""
    lines = []
    for table, steps in costs.items():
        lines += ["", f"**{table}** ({rows[table]:,} rows)", "", "| step | s | rows/s | WAL MB |", "|---|---:|---:|---:|"]
        lines += [f"| {label} | {s:.3f} | {rows[table] / s if s else 0:,.0f} | {w:,.0f} |" for label, s, w in steps]
    return "\n".join(lines)
