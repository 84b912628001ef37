"""Recompute the computed costs of LLM spans after the price table changed (the ``recompute_costs`` job)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from ..llm.costs import computed_costs
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
    (:func:`observatory_etl.llm.costs.computed_costs`), writes the spans whose cost changed, and rolls up their
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
            start_ns = spans["start_time"].dt.epoch("ns") if spans.height else pl.Series([], dtype=pl.Int64)
            costs = computed_costs(spans.with_columns(start_ns.alias("start_ns")), prices)
            frame = pl.concat([
                pl.DataFrame({
                    "trace_id": spans["trace_id"].cast(pl.Binary) if spans.height else pl.Series([], dtype=pl.Binary),
                    "span_id": spans["span_id"] if spans.height else pl.Series([], dtype=pl.Int64),
                }),
                costs,
            ], how="horizontal").with_columns(
                pl.when(pl.col("total_cost_usd").is_not_null()).then(pl.lit("computed")).alias("cost_source"),
            )
            changed = partition.update_costs(frame)
    finally:
        conn.close()
    return CostResult(spans_considered=spans.height, spans_changed=changed, price_table_version=prices.version)
