"""The merge's design choices, each measured on the same rows: ``python -m benchmarks.merge_choices``.

One synthetic hour (default 200,000 spans) is decoded and normalized once; then every variant stages and
merges the same frames through the pipeline's own :class:`observatory_etl.warehouse.load.PartitionLoad` (COPY into
temporary staging tables, ``INSERT … ON CONFLICT`` per table, rollups, commit) into a fresh schema, and
prints seconds per stage:

* ``as shipped``: daily-partitioned tables, compact keys (uuid, bigint), DO NOTHING, one transaction;
* ``unpartitioned``: the same tables as plain tables (the first release's layout);
* ``lz4 TOAST``: ``default_toast_compression = lz4`` instead of pglz for large jsonb values (when the
  server is built with lz4; the embedded one is not);
* ``toast_tuple_target 2032``: the partitions at PostgreSQL's default, so rows over 2 kB are compressed
  with pglz (the partitions are created with 8160: rows up to 8 kB stay as they are);
* ``synchronous_commit off``: ``SET LOCAL`` in the load's transaction: the commit does not wait for the
  WAL flush;
* ``unlogged tables``: no WAL for the final tables (not crash-safe: measured to show the WAL's cost);
* ``reload``: the same frames again into the loaded schema, every row already there (what a late file
  costs: its hour is loaded again whole);
* ``two connections``: spans, events and links on one connection while logs, data points and metrics merge
  on another (two transactions), against the serial ``as shipped`` wall time.

Each variant runs ``--rounds`` times (default 2) into a fresh schema after a ``CHECKPOINT``; the fastest
round is reported, so a checkpoint or a noisy neighbour in one round does not decide the comparison.
Merge seconds per table are printed for every variant. Then :mod:`benchmarks.merge_costs` breaks each
table's merge down (JSON parsing, heap, WAL, TOAST compression, indexes, the ``NOT EXISTS`` anti-join,
the LLM messages stored twice) with ``EXPLAIN (ANALYZE, BUFFERS, WAL)``; ``--no-costs`` skips it.

Timings are printed, never asserted; the tuning notes in docs/tuning.md quote them.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

import polars as pl

from observatory_etl.tables import PARTITIONED_TABLES
from observatory_etl.warehouse import embedded
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.ddl import ensure_schema
from observatory_etl.warehouse.load import PartitionLoad
from observatory_etl.warehouse.partitions import create_partitions

from . import merge_costs
from .run import HOUR, _decode_landing, synthesize

SPAN_TABLES = ("trace_spans", "trace_events", "trace_links")


def _schema() -> str:
    """A fresh schema name for one variant."""
    return f"bench_merge_{uuid.uuid4().hex[:10]}"


def _prepare(database_url: str, schema: str, ddl: list[str]) -> None:
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        create_partitions(conn, schema, HOUR.date(), HOUR.date())
        with conn.cursor() as cur:
            cur.execute(f'SET search_path TO "{schema}", public')
            for statement in ddl:
                cur.execute(statement)
        conn.commit()
    finally:
        conn.close()


def _merge(database_url: str, schema: str, frames: dict[str, pl.DataFrame], settings: list[str]) -> dict[str, float]:
    """Stage and merge ``frames`` in one PartitionLoad; seconds per stage, ``wall``, and ``wal_mb`` (WAL
    written meanwhile, MB: the server's, so concurrent work on it counts too)."""
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_current_wal_insert_lsn()::text")
            wal_before = cur.fetchone()[0]
            conn.commit()
            started = time.perf_counter()
            for setting in settings:
                cur.execute(setting)
        with PartitionLoad(conn, schema, f"bench:{uuid.uuid4()}") as partition:
            partition.chunk(frames)
        seconds = dict(partition.stats.seconds)
        seconds.update({f"merge {table}": s for table, s in partition.stats.table_seconds["merge"].items() if s})
        seconds["wall"] = time.perf_counter() - started
        with conn.cursor() as cur:
            cur.execute(f"SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '{wal_before}')::bigint")
            seconds["wal_mb"] = cur.fetchone()[0] / 1e6
        conn.commit()
    finally:
        conn.close()
    return seconds


def _has_lz4(database_url: str) -> bool:
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
            return bool(cur.fetchone()[0])
    finally:
        conn.close()


def _unpartitioned() -> list[str]:
    """DDL turning the partitioned tables into plain tables with the same columns and keys."""
    keys = {"trace_spans": "trace_id, span_id, start_time", "trace_events": "trace_id, span_id, event_index, time",
            "metric_data_points": "point_id, time", "logs": "log_id, time"}
    ddl = []
    for table, key in keys.items():
        ddl += [
            f"CREATE TABLE {table}_plain (LIKE {table} INCLUDING DEFAULTS)",
            f"DROP TABLE {table} CASCADE",
            f"ALTER TABLE {table}_plain RENAME TO {table}",
            f"ALTER TABLE {table} ADD PRIMARY KEY ({key})",
        ]
    return ddl


def _default_toast_target() -> list[str]:
    """DDL setting the day partitions back to PostgreSQL's default toast_tuple_target (2032 bytes)."""
    return [f"ALTER TABLE {table}_p{HOUR:%Y%m%d} RESET (toast_tuple_target)" for table in PARTITIONED_TABLES]


def _unlogged() -> list[str]:
    return [f"ALTER TABLE {table}_p{HOUR:%Y%m%d} SET UNLOGGED" for table in PARTITIONED_TABLES] + [
        f"ALTER TABLE {table} SET UNLOGGED" for table in ("traces", "sessions", "trace_links", "metrics")
    ]


def _checkpoint(database_url: str) -> None:
    """Flush dirty buffers before a variant, so none pays for the previous one's writes (needs superuser
    or pg_checkpoint; skipped without)."""
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("CHECKPOINT")
        conn.commit()
    except Exception:  # not permitted: measure without
        conn.rollback()
    finally:
        conn.close()


def _drop(database_url: str, schemas: list[str]) -> None:
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            for schema in schemas:
                cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.commit()
    finally:
        conn.close()


def _two_connections(database_url: str, schema: str, frames: dict[str, pl.DataFrame]) -> dict[str, float]:
    """Spans, events and links on one connection while the other tables merge on a second one."""
    halves = [{t: f for t, f in frames.items() if t in SPAN_TABLES},
              {t: f for t, f in frames.items() if t not in SPAN_TABLES}]
    out: list[dict] = [{}, {}]
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, _merge(database_url, schema, halves[i], [])))
               for i in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = {stage: max(o[stage] for o in out) for stage in ("copy", "merge", "rollup", "commit")}
    seconds["wall"] = time.perf_counter() - started
    return seconds


def measure(database_url: str, frames: dict[str, pl.DataFrame], rounds: int = 2,
            log=print) -> list[tuple[str, dict[str, float]]]:
    """Run every variant ``rounds`` times on ``frames`` (each into a fresh schema, after a CHECKPOINT);
    returns ``(variant, seconds per stage)`` of each variant's fastest round, in order."""
    variants: list[tuple[str, list[str], list[str]]] = [  # (name, DDL before, session settings)
        ("as shipped (partitioned, DO NOTHING)", [], []),
        ("unpartitioned tables", _unpartitioned(), []),
        ("toast_tuple_target 2032 (pglz from 2 kB, before)", _default_toast_target(), []),
        ("synchronous_commit off (SET LOCAL)", [], ["SET LOCAL synchronous_commit = off"]),
        ("unlogged tables (not crash-safe)", _unlogged(), []),
    ]
    if _has_lz4(database_url):
        variants.insert(2, ("lz4 TOAST compression", [], ["SET LOCAL default_toast_compression = lz4"]))
    else:
        log("  lz4 TOAST compression: skipped, this server is built without lz4")
    rerun, parallel = "reload: every row already there", "two connections (spans ∥ logs, metrics)"
    best: dict[str, dict[str, float]] = {}

    def keep(name: str, seconds: dict[str, float]) -> None:
        tables = ", ".join(f"{key[6:]} {s:.2f}" for key, s in seconds.items() if key.startswith("merge "))
        log(f"  {name:<40} wall {seconds['wall']:6.2f} s  (copy {seconds['copy']:.2f}, merge {seconds['merge']:.2f}, "
            f"rollup {seconds['rollup']:.2f}, commit {seconds['commit']:.2f}; merge per table: {tables})")
        if name not in best or seconds["wall"] < best[name]["wall"]:
            best[name] = seconds

    for round_ in range(1, rounds + 1):
        log(f"round {round_} of {rounds}")
        for name, ddl, settings in variants:
            schema = _schema()
            try:
                _prepare(database_url, schema, ddl)
                _checkpoint(database_url)
                keep(name, _merge(database_url, schema, frames, settings))
                if not ddl and not settings:  # as shipped: the same frames again
                    _checkpoint(database_url)
                    keep(rerun, _merge(database_url, schema, frames, []))
            finally:
                _drop(database_url, [schema])
        schema = _schema()
        try:
            _prepare(database_url, schema, [])
            _checkpoint(database_url)
            keep(parallel, _two_connections(database_url, schema, frames))
        finally:
            _drop(database_url, [schema])
    order = [variants[0][0], rerun, *(name for name, _, _ in variants[1:]), parallel]
    return [(name, best[name]) for name in order]


def markdown(results: list[tuple[str, dict[str, float]]], rows: int) -> str:
    """The results as a markdown table: seconds per stage and merged rows per second of wall time."""
    base = results[0][1]["wall"]
    lines = ["| variant | COPY s | merge s | rollup s | commit s | wall s | rows/s | × as shipped | WAL MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in results:
        wal = f"{s['wal_mb']:,.0f}" if "wal_mb" in s else "–"
        lines.append(f"| {name} | {s['copy']:.2f} | {s['merge']:.2f} | {s['rollup']:.2f} | {s['commit']:.2f} | "
                     f"{s['wall']:.2f} | {rows / s['wall']:,.0f} | {base / s['wall']:.2f} | {wal} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.merge_choices",
        description="Measure the merge's design choices (partitioning, TOAST compression, commit mode, WAL, "
        "concurrent merges, reruns) on one synthetic hour, through the pipeline's own PartitionLoad.",
    )
    parser.add_argument("--spans", type=int, default=200_000, help="spans in the synthetic hour (default 200,000)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of every variant; the fastest is reported (default 2)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: the embedded server in $DAGSTER_HOME/postgres)")
    parser.add_argument("--landing", metavar="DIR",
                        help="load the hour already in this landing folder (e.g. the bench's --landing) instead of "
                             "synthesizing one; --spans is then ignored")
    parser.add_argument("--no-costs", dest="costs", action="store_false",
                        help="skip the per-table breakdown of the merge (benchmarks.merge_costs)")
    args = parser.parse_args(argv)
    database_url = embedded.database_url(args.database_url)
    with tempfile.TemporaryDirectory(prefix="observatory-merge-") as workdir:
        landing_url = args.landing or str(Path(workdir) / "landing")
        if not args.landing:
            synthesize(landing_url, args.spans, print)
        frames, _, _ = _decode_landing(landing_url, HOUR)
    rows = sum(frame.height for frame in frames.values())
    print(f"{rows:,} rows ({', '.join(f'{t} {f.height:,}' for t, f in frames.items())})", flush=True)
    results = measure(database_url, frames, args.rounds)
    print("\n" + markdown(results, rows), flush=True)
    if args.costs:
        costs = merge_costs.measure(database_url, frames, args.rounds)
        print(merge_costs.markdown(costs, {table: frame.height for table, frame in frames.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
