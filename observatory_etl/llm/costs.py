"""Computed LLM costs for a whole frame of spans: prices looked up once per distinct (provider, model, day)
and joined, the cost formula as polars expressions.

The formula is :meth:`observatory_etl.llm.prices.PriceTable.cost`'s, term for term and in the same order of
operations, so a frame's costs equal the per-call ones to the last bit (tests/llm/test_costs.py compares
them): input cost = (prompt − cache_read − cache_creation) × input price + cache_read × cached-input price +
cache_creation × cache-write price, output cost = output × output price (USD; prices USD per token), where
prompt = max(input_tokens, cache_read + cache_creation) also selects the tier (the highest whose threshold it
exceeds prices the whole call).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl

from .prices import PriceTable

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
NS_PER_DAY = 86_400_000_000_000
COST_COLUMNS = ("input_cost_usd", "output_cost_usd", "total_cost_usd")

# One row per price tier (the base price has ``above`` = -1, below any prompt size).
_PRICE_SCHEMA = {
    "provider": pl.String, "model": pl.String, "day": pl.Int64, "above": pl.Int64, "input": pl.Float64,
    "output": pl.Float64, "cached_input": pl.Float64, "cache_write": pl.Float64,
}


def computed_costs(spans: pl.DataFrame, prices: PriceTable) -> pl.DataFrame:
    """The computed cost of each row of ``spans``.

    Args:
        spans: columns ``provider``, ``model`` (String; the model priced: response model, else request
            model), ``start_ns`` (Int64, ns since the epoch; 0 or null prices at today's date, as
            :meth:`PriceTable.cost` with no date), ``input_tokens``, ``output_tokens``,
            ``cache_read_input_tokens``, ``cache_creation_input_tokens`` (Int64, nullable).
        prices: the price table; :meth:`PriceTable.find` is called once per distinct (provider, model, UTC day).

    Returns a frame of ``spans.height`` rows, in order: ``input_cost_usd``, ``output_cost_usd``,
    ``total_cost_usd`` (Float64, USD), null where the row has no model, no input and no output tokens, or
    no price. Raises nothing.
    """
    today = (datetime.now(timezone.utc).date().toordinal() - _EPOCH_ORDINAL)
    keyed = spans.with_row_index("_row").with_columns(
        pl.when(pl.col("start_ns").fill_null(0) != 0).then(pl.col("start_ns") // NS_PER_DAY)
        .otherwise(pl.lit(today, pl.Int64)).alias("day"),
    )
    wanted = keyed.filter(
        pl.col("model").is_not_null() & (pl.col("input_tokens").is_not_null() | pl.col("output_tokens").is_not_null())
    )
    rows: list[tuple] = []
    for provider, model, day in wanted.select("provider", "model", "day").unique().iter_rows():
        price = prices.find(provider, model, date.fromordinal(_EPOCH_ORDINAL + day))
        if price is None:
            continue
        rows.append((provider, model, day, -1, price.input, price.output, price.cached_input, price.cache_write))
        rows.extend((provider, model, day, t.above, t.input, t.output, t.cached_input, t.cache_write)
                    for t in price.tiers)
    table = pl.DataFrame(rows, schema=_PRICE_SCHEMA, orient="row")
    cache_read = pl.max_horizontal(pl.col("cache_read_input_tokens").fill_null(0), 0)
    cache_creation = pl.max_horizontal(pl.col("cache_creation_input_tokens").fill_null(0), 0)
    priced = (
        wanted.with_columns(cache_read.alias("_read"), cache_creation.alias("_write"))
        .with_columns(pl.max_horizontal(pl.col("input_tokens").fill_null(0), pl.col("_read") + pl.col("_write")).alias("_prompt"))
        .join(table, on=["provider", "model", "day"], how="inner", nulls_equal=True)
        .filter(pl.col("_prompt") > pl.col("above"))
        .sort("_row", "above")
        .group_by("_row", maintain_order=True).last()
        .select(
            "_row",
            ((pl.col("_prompt") - pl.col("_read") - pl.col("_write")) * pl.col("input")
             + pl.col("_read") * pl.col("cached_input") + pl.col("_write") * pl.col("cache_write")).alias("input_cost_usd"),
            (pl.max_horizontal(pl.col("output_tokens").fill_null(0), 0) * pl.col("output")).alias("output_cost_usd"),
        )
        .with_columns((pl.col("input_cost_usd") + pl.col("output_cost_usd")).alias("total_cost_usd"))
    )
    return keyed.select("_row").join(priced, on="_row", how="left", maintain_order="left").select(COST_COLUMNS)
