"""Costs of a whole frame (observatory_etl.llm.costs.computed_costs) equal the per-call PriceTable.cost, to the
last bit: prices looked up once per distinct (provider, model, day), tiers, cache reads and writes, missing
counts, unknown models, spans without a start."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from observatory_etl.llm.costs import COST_COLUMNS, NS_PER_DAY, computed_costs
from observatory_etl.llm.prices import PriceTable

# Providers and models of the packaged genai-prices data, some with prompt-size tiers (gemini-2.5-pro and
# claude-sonnet-4 price prompts above 200k tokens higher), and names it does not know.
MODELS = [
    ("openai", "gpt-4o-mini"), ("openai", "gpt-4o-2024-08-06"), ("anthropic", "claude-sonnet-4-20250514"),
    ("gcp.gemini", "gemini-2.5-pro"), ("google", "gemini-2.5-pro"), (None, "gpt-4o"), ("Anthropic", "claude-3-5-haiku"),
    ("openai", "no-such-model"), (None, None), ("mistral_ai", "mistral-large-latest"), ("aws.bedrock", "anthropic.claude-3-haiku"),
]
TOKENS = st.none() | st.integers(0, 400_000) | st.sampled_from([-5, 199_999, 200_000, 200_001, 2**40])
DAYS = st.sampled_from([0, 19_000, 20_000, 20_393, 20_500])  # days since the epoch; 0 means "no start time"


@st.composite
def spans(draw):
    provider, model = draw(st.sampled_from(MODELS))
    day = draw(DAYS)
    start_ns = day * NS_PER_DAY + draw(st.integers(0, NS_PER_DAY - 1)) if day else 0
    return {"provider": provider, "model": model, "start_ns": start_ns, "input_tokens": draw(TOKENS),
            "output_tokens": draw(TOKENS), "cache_read_input_tokens": draw(TOKENS),
            "cache_creation_input_tokens": draw(TOKENS)}


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(spans(), min_size=1, max_size=40))
def test_frame_costs_equal_per_call_costs(rows):
    prices = PriceTable.library()
    frame = pl.DataFrame(rows, schema={"provider": pl.String, "model": pl.String, "start_ns": pl.Int64,
                                       "input_tokens": pl.Int64, "output_tokens": pl.Int64,
                                       "cache_read_input_tokens": pl.Int64, "cache_creation_input_tokens": pl.Int64})
    got = computed_costs(frame, prices)
    assert got.columns == list(COST_COLUMNS) and got.height == len(rows)
    for row, costs in zip(rows, got.iter_rows()):
        at = date.fromordinal(date(1970, 1, 1).toordinal() + row["start_ns"] // NS_PER_DAY) if row["start_ns"] else None
        cost = None if row["model"] is None else prices.cost(
            row["provider"], row["model"], at, input_tokens=row["input_tokens"], output_tokens=row["output_tokens"],
            cache_read_input_tokens=row["cache_read_input_tokens"],
            cache_creation_input_tokens=row["cache_creation_input_tokens"],
        )
        assert costs == ((None, None, None) if cost is None else (cost.input, cost.output, cost.total)), row


def test_a_tier_prices_the_whole_call():
    """gemini-2.5-pro: above 200k prompt tokens the higher tier prices input and output alike."""
    prices = PriceTable.library()
    day = 20_393 * NS_PER_DAY
    frame = pl.DataFrame({"provider": ["google"] * 2, "model": ["gemini-2.5-pro"] * 2, "start_ns": [day, day],
                          "input_tokens": [100_000, 300_000], "output_tokens": [1_000, 1_000],
                          "cache_read_input_tokens": [None, None], "cache_creation_input_tokens": [None, None]})
    low, high = computed_costs(frame, prices).iter_rows()
    assert high[1] > low[1] > 0  # the same output tokens cost more in the higher tier
    base = prices.find("google", "gemini-2.5-pro", date(2025, 11, 2))
    assert base is not None and base.tiers and low[0] == 100_000 * base.input
