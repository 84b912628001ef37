"""The Dagster assets: the final tables, loaded together one landing hour at a time.

``telemetry_tables`` is one multi-asset over the eight final tables because they are merged in one
transaction: an hour either lands in all of them or in none. A run covers one partition or, in a
backfill, a range (BackfillPolicy.single_run), each hour its own transaction. Each materialization reports files
read, rows per table, and seconds and rows/s per stage as metadata.
"""

from datetime import timedelta

import dagster as dg

from ..ingest.landing import LandingError, partition_key
from ..pipeline.hour import PartitionResult, load_hour
from ..tables import FINAL_TABLES
from ..warehouse.errors import WarehouseError
from .partitions import hourly_partitions
from .resources import LandingResource, WarehouseResource


class LoadConfig(dg.Config):
    """Run configuration of ``telemetry_tables``."""

    force: bool = False
    """Load the hours even when their files all match the ledger: after a decoder upgrade, hours with
    rejected records or files are read again (``observatory-etl reprocess`` sets it). Nothing is doubled."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(table.name, description=table.description, group_name="telemetry", kinds={"postgres", "polars"})
        for table in FINAL_TABLES.values()
    ],
    partitions_def=hourly_partitions,
    can_subset=False,
    pool="warehouse",  # limits simultaneous warehouse loads across runs (dagster_home/dagster.yaml)
    # A backfill (or `dagster asset materialize --partition-range`, which requires this) is one run that
    # loads its hours one after another, each in its own transaction; hours already loaded are skipped.
    backfill_policy=dg.BackfillPolicy.single_run(),
    # Transient faults (lost connections, timeouts, object-store throttling) are retried with backoff;
    # bad input raises Failure(allow_retries=False) and fails at once.
    retry_policy=dg.RetryPolicy(max_retries=3, delay=1, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
)
def telemetry_tables(
    context: dg.AssetExecutionContext, config: LoadConfig, landing: LandingResource, warehouse: WarehouseResource
):
    """Load the landing hours of the run's partition (or partition range) into the final tables (idempotent).

    Bad records and files are quarantined (``rejected_records``, the ledger's status and error) and the
    hour's good records load, unless OBSERVATORY_ON_BAD_INPUT=fail.

    Raises:
        dagster.Failure: not retried: with OBSERVATORY_ON_BAD_INPUT=fail a landing file or record is not valid
            (names the file and reason); or a database error that a retry cannot fix (SQLSTATE other than
            08, 40, 53, 57P0x, e.g. a 22xxx data error; names the table, the stage and the files). A file
            the object store fails to serve, or a transient database error, is retried instead.
    """
    window = context.partition_time_window
    results = []
    hour = window.start
    while hour < window.end:
        try:
            results.append(
                load_hour(
                    hour,
                    landing_url=landing.url,
                    database_url=warehouse.url(),
                    schema=warehouse.schema(),
                    chunk_rows=warehouse.chunk_rows,
                    chunk_bytes=warehouse.chunk_bytes,
                    run_id=context.run.run_id,
                    log=context.log.info,
                    force=config.force,
                )
            )
        except LandingError as exc:
            raise dg.Failure(
                description=f"partition {partition_key(hour)}: {exc}",
                metadata={"partition": partition_key(hour), "file": exc.path, "reason": exc.reason},
                allow_retries=False,
            ) from exc
        except WarehouseError as exc:
            if exc.transient:
                raise
            raise dg.Failure(
                description=f"partition {partition_key(hour)}: {exc}",
                metadata={"partition": partition_key(hour), "table": exc.table, "stage": exc.stage,
                          "sqlstate": exc.sqlstate or "", "files": dg.MetadataValue.json(list(exc.files))},
                allow_retries=False,
            ) from exc
        hour += timedelta(hours=1)
    common = run_metadata(results, retries=context.retry_number)
    for table in FINAL_TABLES:
        yield dg.MaterializeResult(
            asset_key=table,
            metadata={
                "rows_merged": dg.MetadataValue.int(sum(r.load.merged[table] for r in results)),
                "rows_staged": dg.MetadataValue.int(sum(r.load.staged.get(table, 0) for r in results)),
                "rows_copied_straight": dg.MetadataValue.int(sum(r.load.copied.get(table, 0) for r in results)),
                **common,
            },
        )


def run_metadata(results: list[PartitionResult], retries: int = 0) -> dict[str, dg.MetadataValue]:
    """Metadata shared by every table of one run (summed over its hours): files, records, hours skipped
    as unchanged, ledger rows, the step's retries so far, per-stage seconds and rows/s."""
    seconds: dict[str, float] = {}
    files: dict[str, int] = {}
    for result in results:
        for stage, value in result.stage_seconds().items():
            seconds[stage] = seconds.get(stage, 0.0) + value
        for signal, count in result.files.items():
            files[signal] = files.get(signal, 0) + count
    records = sum(sum(r.records.values()) for r in results)
    staged = sum(sum(r.load.staged.values()) for r in results)
    loaded = staged + sum(sum(r.load.copied.values()) for r in results)
    metadata: dict[str, dg.MetadataValue] = {
        "partitions": dg.MetadataValue.int(len(results)),
        "partitions_skipped_unchanged": dg.MetadataValue.int(sum(r.skipped for r in results)),
        "ledger_rows_written": dg.MetadataValue.int(sum(r.load.ledger_rows for r in results)),
        "retries": dg.MetadataValue.int(retries),
        "files_read": dg.MetadataValue.int(sum(files.values())),
        "bytes_read": dg.MetadataValue.int(sum(r.bytes_read for r in results)),
        "records_read": dg.MetadataValue.int(records),
        "chunks": dg.MetadataValue.int(sum(r.load.chunks for r in results)),
        "chunks_copied_straight": dg.MetadataValue.int(sum(r.load.direct_chunks for r in results)),
        "rows_merged_total": dg.MetadataValue.int(sum(sum(r.load.merged.values()) for r in results)),
        "records_rejected": dg.MetadataValue.int(sum(r.records_rejected for r in results)),
        "files_rejected": dg.MetadataValue.int(sum(r.files_rejected for r in results)),
        "nul_characters_replaced": dg.MetadataValue.int(sum(r.nul_replaced for r in results)),
    }
    for signal, count in files.items():
        metadata[f"files_{signal}"] = dg.MetadataValue.int(count)
    # Rows through each stage: records for the landing stages, rows copied (into staging or straight into the
    # final tables) and rows staged for the database stages.
    rows_through = {"read": records, "decode": records, "normalize": loaded, "copy": loaded, "merge": staged, "total": records}
    for stage, value in seconds.items():
        metadata[f"seconds_{stage}"] = dg.MetadataValue.float(round(value, 4))
        if stage in rows_through and value > 0 and rows_through[stage]:
            metadata[f"rows_per_second_{stage}"] = dg.MetadataValue.int(int(rows_through[stage] / value))
    return metadata
