"""``observatory-etl``: synthesize telemetry, run a demo, start the Dagster UI, reach the database.

Run ``observatory-etl --help`` (or ``observatory-etl COMMAND --help``) for the options.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import config
from .warehouse import embedded

EPILOG = """\
environment:
  OBSERVATORY_LANDING_URL   landing root, path or URL (default ./landing)
  OBSERVATORY_DATABASE_URL  PostgreSQL URL (default: embedded server in $DAGSTER_HOME/postgres)
  OBSERVATORY_SCHEMA        schema of all tables (default observatory)
  OBSERVATORY_START         first hourly partition, ISO date/datetime UTC (default 2026-01-01)
  OBSERVATORY_ON_BAD_INPUT  quarantine (default: bad records/files to rejected_records, the rest loads) | fail
  DAGSTER_HOME              Dagster instance folder (default ./dagster_home)

load one hour with Dagster:
  dagster asset materialize -m observatory_etl.definitions --select '*' --partition 2026-11-01-00:00
"""


def _utc(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or datetime (e.g. 2026-11-01T06:00)") from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _last_hours(count: int) -> tuple[datetime, datetime]:
    """The last ``count`` complete UTC hours as [start, end)."""
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=count), end


def _ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at ./dagster_home unless set; it must hold the project's dagster.yaml."""
    home = config.dagster_home()
    os.environ["DAGSTER_HOME"] = str(home)
    if not (home / "dagster.yaml").exists():
        raise SystemExit(
            f"error: {home}/dagster.yaml not found. Run from the project root (it has dagster_home/dagster.yaml) "
            "or set DAGSTER_HOME to a folder holding it."
        )
    return home


def _synth(args: argparse.Namespace, landing_url: str) -> None:
    from . import synth

    print(f"synthesizing {args.start:%Y-%m-%dT%H:%MZ} .. {args.end:%Y-%m-%dT%H:%MZ} into {config.redact_url(landing_url)} (seed {args.seed})", flush=True)
    stats = synth.write_landing(
        landing_url,
        args.start,
        args.end,
        traces_per_hour=args.traces_per_hour,
        files_per_hour=args.files_per_hour,
        seed=args.seed,
        compression=args.compression,
        progress=lambda line: print("  " + line, flush=True),
    )
    print(
        f"wrote {stats.files:,} files ({stats.bytes_written / 1e6:.1f} MB): {stats.traces:,} traces, {stats.spans:,} spans, "
        f"{stats.logs:,} log records, {stats.metric_data_points:,} metric data points",
        flush=True,
    )


def cmd_synth(args: argparse.Namespace) -> int:
    if args.end is None:
        args.end = args.start + timedelta(hours=args.hours)
    if args.end <= args.start:
        raise SystemExit("error: --end must be after --start")
    _synth(args, args.landing or config.landing_url())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _ensure_dagster_home()
    landing_url = args.landing or config.landing_url()
    os.environ["OBSERVATORY_LANDING_URL"] = landing_url
    args.start, args.end = _last_hours(args.hours)
    _synth(args, landing_url)
    _db_init()
    if not config.lake_enabled():  # the demo writes the lake too, into ./lake unless one is configured
        os.environ["OBSERVATORY_LAKE_URL"] = str(Path("lake").resolve())

    import dagster as dg

    from .defs.assets import telemetry_tables
    from .defs.lake import lake_resource, lake_tables
    from .defs.resources import WarehouseResource, default_resources
    from .ingest.landing import partition_key
    from .tables import FINAL_TABLES
    from .warehouse import sql_files

    # The runs get the resources of `defs` (fed by EnvVar); the summary below reads the same settings here.
    warehouse = WarehouseResource(database_url=config.database_url(), schema_name=config.schema_name())
    where = "OBSERVATORY_DATABASE_URL" if config.database_url() else "embedded PostgreSQL"
    print(f"warehouse: {where} ({config.redact_url(warehouse.url())})", flush=True)
    lake = lake_resource()
    print(f"lake: Apache Iceberg at {config.redact_url(lake.url) if lake.url else lake.catalog_name} (OBSERVATORY_LAKE_URL; docs/lake.md)", flush=True)
    instance = dg.DagsterInstance.get()
    hour = args.start
    while hour < args.end:
        key = partition_key(hour)
        started = time.perf_counter()
        result = dg.materialize(
            [telemetry_tables, lake_tables],
            partition_key=key,
            instance=instance,
            resources={**default_resources(), "lake": lake},
            # Dagster's per-event console lines would drown the summary; the runs keep every event.
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            raise_on_error=True,
        )
        spans = _merged(result, "trace_spans")
        print(f"materialized partition {key}: {spans:,} spans merged in {time.perf_counter() - started:.1f}s (run {result.run_id[:8]})", flush=True)
        hour += timedelta(hours=1)

    lake_records = _lake_records(lake, warehouse)
    with warehouse.connect() as conn, conn.cursor() as cur:
        print(f"\nrows per table in schema {warehouse.schema()}, and distinct records in the lake:")
        print(f"  {'table':<20} {'warehouse':>10} {'lake':>10}")
        for table in FINAL_TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")
            lake_text = f"{lake_records[table]:>10,}" if table in lake_records else f"{'-':>10}"
            print(f"  {table:<20} {cur.fetchone()[0]:>10,} {lake_text}")
        cur.execute(sql_files.statement("reports/usage_by_model"))
        print("\nLLM usage per model (view llm_usage_hourly):")
        print(f"  {'provider':<10} {'model':<28} {'calls':>7} {'errors':>6} {'input tok':>11} {'output tok':>11} {'cost USD':>10}")
        for provider, model, calls, errors, tokens_in, tokens_out, cost in cur.fetchall():
            cost_text = f"{cost:>10.4f}" if cost is not None else f"{'-':>10}"
            print(f"  {provider or '-':<10} {model or '-':<28} {calls:>7,} {errors:>6,} {tokens_in or 0:>11,} {tokens_out or 0:>11,} {cost_text}")
    print(
        "\nnext:\n"
        "  observatory-etl ui                 # Dagster UI at http://127.0.0.1:3000 (assets, partitions, runs)\n"
        '  psql "$(observatory-etl db url)"   # query the tables (needs a psql client)'
    )
    return 0


def _lake_records(lake, warehouse) -> dict[str, int]:
    """Distinct records per lake table (:func:`observatory_etl.lake.key_counts`)."""
    from .lake import close_catalog, key_counts

    catalog = lake.open(warehouse)
    try:
        return key_counts(catalog, warehouse.schema())
    finally:
        close_catalog(catalog)


def _metadata(result, table: str) -> dict:
    """The metadata values of ``table``'s materialization in a run's result ({} if it has none)."""
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key.to_user_string() == table:
            return {name: value.value for name, value in materialization.metadata.items()}
    return {}


def _merged(result, table: str) -> int:
    return int(_metadata(result, table).get("rows_merged", 0))


def cmd_reprocess(args: argparse.Namespace) -> int:
    _ensure_dagster_home()
    import dagster as dg

    from .defs.assets import telemetry_tables
    from .defs.resources import WarehouseResource, default_resources
    from .ingest.landing import partition_key
    from .warehouse import sql_files

    first = partition_key(args.start) if args.start else "0000"
    last = partition_key(args.end) if args.end else "9999"
    warehouse = WarehouseResource(database_url=config.database_url(), schema_name=config.schema_name())
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(sql_files.statement("reports/hours_with_rejects"), (first, last))
        hours = cur.fetchall()
    if not hours:
        print("no landing hour has rejected records or files: nothing to reprocess")
        return 0
    print(f"{len(hours)} hours with quarantined input:")
    for key, records, files in hours:
        print(f"  {key}  {records:,} records, {files:,} files rejected")
    if args.dry_run:
        return 0
    instance = dg.DagsterInstance.get()
    failed = 0
    for key, records, files in hours:
        result = dg.materialize(
            [telemetry_tables], partition_key=key, instance=instance, resources=default_resources(),
            run_config={"ops": {"telemetry_tables": {"config": {"force": True}}},
                        "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            raise_on_error=False,
        )
        if not result.success:
            failed += 1
            print(f"reprocessed {key}: run {result.run_id[:8]} FAILED (see the Dagster UI)", flush=True)
            continue
        metadata = _metadata(result, "trace_spans")
        print(f"reprocessed {key}: {metadata['records_rejected']:,} records and {metadata['files_rejected']:,} files "
              f"still rejected (were {records:,} and {files:,}), run {result.run_id[:8]}", flush=True)
    return 1 if failed else 0


def cmd_ui(args: argparse.Namespace) -> int:
    home = _ensure_dagster_home()
    # Start the embedded server and create Dagster's storage and the warehouse schema now, once, before the
    # webserver, daemon and code server open the instance together (and the first page load waits for it).
    _db_init()
    dagster = shutil.which("dagster") or str(Path(sys.executable).with_name("dagster"))
    command = [dagster, "dev", "-h", args.host, "-p", str(args.port)]
    workspace = Path("workspace.yaml")
    command += ["-w", str(workspace)] if workspace.exists() else ["-m", "observatory_etl.definitions"]
    print(f"DAGSTER_HOME={home}\n$ {' '.join(command)}", flush=True)
    os.execvp(command[0], command)
    return 0  # not reached


def _db_init(verbose: bool = False) -> None:
    """Start the embedded server (unless OBSERVATORY_DATABASE_URL is set), create Dagster's storage (the
    instance of $DAGSTER_HOME, under its advisory lock: observatory_etl.defs.instance) and the warehouse
    schema with its tables; idempotent, and safe while other processes do the same."""
    import dagster as dg

    from .defs.resources import WarehouseResource

    url = embedded.database_url()
    with dg.DagsterInstance.get():
        pass
    warehouse = WarehouseResource(database_url=config.database_url(), schema_name=config.schema_name())
    with warehouse.connect():
        pass
    if verbose:
        print(f"Dagster storage (DAGSTER_HOME={config.dagster_home()}) and warehouse schema {warehouse.schema()} ready in {url}")


def cmd_db(args: argparse.Namespace) -> int:
    if args.action == "init":
        _ensure_dagster_home()
        _db_init(verbose=True)
        return 0
    config.dagster_home()
    if args.action == "url":
        print(embedded.database_url())
    elif args.action == "stop":
        stopped = embedded.stop_embedded()
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    try:
        from benchmarks import run
    except ImportError:
        raise SystemExit(_NO_BENCHMARKS) from None
    return run.main(run.options_from_args(args))


# benchmarks/ lives beside the package in a source checkout and is not part of the installed wheel.
_NO_BENCHMARKS = (
    "error: the benchmarks package was not found: run observatory-etl bench from a source checkout "
    "(the project root, after pip install -e '.[bench]')"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="observatory-etl",
        description="Batch ETL for LLM telemetry: OpenTelemetry Collector landing files (OTLP/JSON traces, metrics, "
        "logs) → polars → PostgreSQL, as hourly-partitioned Dagster assets.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def synth_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--landing", metavar="URL", help="landing root, path or URL (default: $OBSERVATORY_LANDING_URL or ./landing)")
        p.add_argument("--traces-per-hour", type=_positive, default=200, metavar="N", help="traces per hour (about 7 spans each; default 200)")
        p.add_argument("--files-per-hour", type=_positive, default=4, metavar="N", help="upload slots per hour, each a traces, logs and metrics file (default 4)")
        p.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same files (default 0)")
        p.add_argument("--compression", choices=("gzip", "zstd", "none"), default="gzip", help="file compression (default gzip)")

    p = commands.add_parser(
        "synth",
        help="write synthetic LLM telemetry into a landing zone",
        description="Write realistic synthetic LLM telemetry (agent traces over LLM, tool and retrieval spans with "
        "GenAI attributes, correlated logs, GenAI metric histograms) as OTLP/JSON files in the collector's "
        "year=/month=/day=/hour=/minute= layout, one set per hour in [start, end).",
    )
    p.add_argument("--start", type=_utc, required=True, help="first hour, ISO date or datetime in UTC (e.g. 2026-11-01T00:00)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--end", type=_utc, help="end of the range, exclusive")
    group.add_argument("--hours", type=_positive, default=1, help="hours to write when --end is not given (default 1)")
    synth_options(p)
    p.set_defaults(func=cmd_synth)

    p = commands.add_parser(
        "demo",
        help="synthesize a few hours and load them on the embedded default",
        description="Synthesize the last few complete hours into the landing folder, materialize those partitions "
        "with Dagster (recorded in $DAGSTER_HOME, so the UI shows them), and print rows per table.",
    )
    p.add_argument("--hours", type=_positive, default=3, help="hours to synthesize and load (default 3)")
    synth_options(p)
    p.set_defaults(func=cmd_demo)

    p = commands.add_parser(
        "ui",
        help="start the Dagster UI (dagster dev) with this project's workspace and instance",
        description="Run `dagster dev` with workspace.yaml (or -m observatory_etl.definitions) and DAGSTER_HOME "
        "(default ./dagster_home), on the embedded PostgreSQL unless OBSERVATORY_DATABASE_URL is set.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    p.set_defaults(func=cmd_ui)

    p = commands.add_parser(
        "reprocess",
        help="load again the hours with quarantined records or files (after a decoder upgrade)",
        description="Find the landing hours whose ledger (ingested_files) has files with status partial or rejected "
        "and materialize each again with force=True, so their files are decoded again even though they did not "
        "change. Records that now decode are merged (nothing is doubled); the quarantine of those files is replaced.",
    )
    p.add_argument("--start", type=_utc, help="first landing hour to consider, ISO date or datetime UTC (default: all)")
    p.add_argument("--end", type=_utc, help="last landing hour to consider, inclusive (default: all)")
    p.add_argument("--dry-run", action="store_true", help="only list the hours")
    p.set_defaults(func=cmd_reprocess)

    p = commands.add_parser(
        "db",
        help="the warehouse database: create Dagster's storage and the schema, print its URL, or stop the embedded server",
    )
    p.add_argument(
        "action", choices=("init", "url", "stop"),
        help="init: start the embedded server (unless OBSERVATORY_DATABASE_URL is set) and create Dagster's storage "
        "and the warehouse schema, once, before the first runs (idempotent); url: print the connection URL (starts "
        "the embedded server); stop: stop it",
    )
    p.set_defaults(func=cmd_db)

    p = commands.add_parser(
        "bench",
        help="benchmark the load against the COPY ceiling, INSERT, ADBC and dlt on one synthetic hour",
        description="Synthesize one landing hour and load the same rows side by side: server-side COPY (the "
        "ceiling), INSERT row by row and in batches, ADBC COPY, dlt's postgres merge, and the whole pipeline "
        "(plus a rerun and its peak RSS); write the report to docs/benchmarks/ (README.md, throughput.png, "
        "results.json). Needs the bench extra: pip install -e '.[bench]'.",
    )
    try:
        from benchmarks.options import add_arguments
    except ImportError:
        p.epilog = _NO_BENCHMARKS.removeprefix("error: ")
    else:
        add_arguments(p)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``observatory-etl``."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
