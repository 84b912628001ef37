"""The Dagster assets: the final tables, loaded together one landing hour at a time.

``telemetry_tables`` is one multi-asset over the seven final tables because they are merged in one
transaction: a partition either lands in all of them or in none. Each materialization reports files
read, rows per table, and seconds and rows/s per stage as metadata.
"""


import dagster as dg

from . import load, pipeline
from .partitions import hourly_partitions
from .resources import LandingResource, WarehouseResource

_DESCRIPTIONS = {
    "traces": "One row per trace: service, root span, start, end, duration, span/error/LLM-call counts, tokens, cost, session, user.",
    "sessions": "One row per session: user, first and last seen, traces, LLM calls, tokens, cost.",
    "trace_spans": "One row per span, keyed by (trace_id, span_id), with canonical LLM columns (docs/llm-mapping.md).",
    "trace_events": "Span events, keyed by (trace_id, span_id, event_index).",
    "trace_links": "Span links, keyed by (trace_id, span_id, link_index).",
    "metrics": "One row per metric stream identity (resource, scope, name, type, unit).",
    "metric_data_points": "Gauge, sum, histogram, exponential histogram and summary data points.",
    "logs": "OTLP log records, keyed by a content hash (log_id).",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(table, description=_DESCRIPTIONS[table], group_name="telemetry", kinds={"postgres", "polars"})
        for table in load.FINAL_TABLES
    ],
    partitions_def=hourly_partitions,
    can_subset=False,
)
def telemetry_tables(context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource):
    """Load one landing hour of OTLP traces, metrics and logs into the final tables (idempotent)."""
    hour = context.partition_time_window.start
    result = pipeline.load_hour(
        hour,
        landing_url=landing.url,
        database_url=warehouse.url(),
        schema=warehouse.schema(),
        chunk_rows=warehouse.chunk_rows,
        log=context.log.info,
    )
    common = run_metadata(result)
    for table in load.FINAL_TABLES:
        yield dg.MaterializeResult(
            asset_key=table,
            metadata={
                "rows_merged": dg.MetadataValue.int(result.load.merged[table]),
                "rows_staged": dg.MetadataValue.int(result.load.staged.get(table, 0)),
                **common,
            },
        )


def run_metadata(result: pipeline.PartitionResult) -> dict[str, dg.MetadataValue]:
    """Metadata shared by every table of one load: files, records, per-stage seconds and rows/s."""
    seconds = result.stage_seconds()
    records = sum(result.records.values())
    metadata: dict[str, dg.MetadataValue] = {
        "files_read": dg.MetadataValue.int(sum(result.files.values())),
        "bytes_read": dg.MetadataValue.int(result.bytes_read),
        "records_read": dg.MetadataValue.int(records),
        "chunks": dg.MetadataValue.int(result.load.chunks),
        "rows_merged_total": dg.MetadataValue.int(sum(result.load.merged.values())),
    }
    for signal, count in result.files.items():
        metadata[f"files_{signal}"] = dg.MetadataValue.int(count)
    # Rows through each stage: records for the landing stages, staged rows for the database stages.
    staged = sum(result.load.staged.values())
    rows_through = {"read": records, "decode": records, "normalize": staged, "copy": staged, "merge": staged, "total": records}
    for stage, value in seconds.items():
        metadata[f"seconds_{stage}"] = dg.MetadataValue.float(round(value, 4))
        if stage in rows_through and value > 0 and rows_through[stage]:
            metadata[f"rows_per_second_{stage}"] = dg.MetadataValue.int(int(rows_through[stage] / value))
    return metadata
