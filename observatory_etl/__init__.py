"""observatory-etl: hourly Dagster assets that load OpenTelemetry traces, metrics and logs (LLM telemetry) from
object storage into PostgreSQL. Importing the package sets the C allocator's mapping threshold
(:mod:`observatory_etl.allocator`), before anything large is allocated."""

from .allocator import limit_heap_retention

limit_heap_retention()
