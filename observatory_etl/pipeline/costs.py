"""Recompute the computed costs of LLM spans after the price table changed (the ``recompute_costs`` job)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from ..llm.mapping import resolve_cost
from ..llm.prices import PriceTable
from ..warehouse import sql_files
from ..warehouse.connection import connect
from ..warehouse.ddl import ensure_schema
from ..warehouse.load import PartitionLoad


@dataclass
class CostResult:
    """What a cost recomputation did: LLM spans priced by the table in the window, and spans changed."""

    spans_considered: int
    spans_changed: int
    price_table_version: str


def recompute_costs(
    start: datetime,
    end: datetime,
    *,
    database_url: str,
    schema: str,
    prices: PriceTable | None = None,
) -> CostResult:
    """Recompute the cost of every LLM span starting in [start, end) that has no provided cost.

    Uses ``prices`` (:meth:`PriceTable.load`: genai-prices and the OBSERVATORY_PRICES_CSV override, unless given) exactly as the load does
    (:func:`observatory_etl.llm.mapping.resolve_cost`), writes the spans whose cost changed, and rolls up their
    traces and sessions, in one transaction. Running it twice changes nothing the second time.
    """
    prices = prices or PriceTable.load()
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        with PartitionLoad(conn, schema, f"costs:{start.isoformat()}:{end.isoformat()}") as partition:
            with conn.cursor() as cur:
                cur.execute(sql_files.statement("costs/select"), (start, end))
                spans = pl.from_arrow(cur.fetch_arrow_table())
            columns = {name: [] for name in ("input_cost_usd", "output_cost_usd", "total_cost_usd", "cost_source")}
            for row in spans.iter_rows(named=True):
                start_ns = int(row["start_time"].timestamp() * 1e9) if row["start_time"] else 0
                costs = resolve_cost(
                    None, None, None, prices, row["provider"], row["model"], start_ns, row["input_tokens"],
                    row["output_tokens"], row["cache_read_input_tokens"], row["cache_creation_input_tokens"],
                )
                for values, value in zip(columns.values(), costs):
                    values.append(value)
            frame = pl.DataFrame(
                {
                    "trace_id": spans["trace_id"].cast(pl.Binary) if spans.height else pl.Series([], dtype=pl.Binary),
                    "span_id": spans["span_id"] if spans.height else pl.Series([], dtype=pl.Int64),
                    **columns,
                },
                schema_overrides={"input_cost_usd": pl.Float64, "output_cost_usd": pl.Float64,
                                  "total_cost_usd": pl.Float64, "cost_source": pl.String},
            )
            changed = partition.update_costs(frame)
    finally:
        conn.close()
    return CostResult(spans_considered=spans.height, spans_changed=changed, price_table_version=prices.version)
