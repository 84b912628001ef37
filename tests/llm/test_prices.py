"""Tests of observatory_etl.pricing: the packaged price table, model matching by pattern, provider and date,
and costs under the token convention of docs/llm-mapping.md (input includes cached tokens)."""

from __future__ import annotations

import csv
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from observatory_etl.llm.prices import DEFAULT_PATH, Cost, Price, PriceTable, PriceTableError

M = 1_000_000  # the CSV is USD per 1M tokens; Price is USD per token
AT = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
HEADER = "provider,model_pattern,input_per_mtok,output_per_mtok,cached_input_per_mtok,cache_write_per_mtok,effective_date\n"


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def write(tmp_path: Path, rows: str, *, version: str = "# version: test\n", header: str = HEADER) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(version + header + rows)
    return path


def test_packaged_table_loads_with_a_version_and_valid_rows(table):
    assert DEFAULT_PATH.read_text().splitlines()[0] == "# version: 2026-11-01"
    assert table.version == "2026-11-01"
    with DEFAULT_PATH.open() as file:
        rows = list(csv.DictReader(line for line in file if not line.startswith("#")))
    assert len(table.prices) == len(rows) >= 23
    for price in table.prices:
        assert price.provider in {"openai", "anthropic", "google", "mistral"}
        assert price.input > 0 and price.output >= 0 and price.cached_input >= 0 and price.cache_write >= 0
        assert price.input < 100 / M and price.output < 100 / M  # per token, not per 1M tokens
        assert price.cached_input <= price.input <= price.cache_write
        assert date(2024, 1, 1) <= price.effective_date <= date(2026, 11, 1)
    assert PriceTable.load() is table  # parsed once
    assert PriceTable.load(DEFAULT_PATH) is table


@pytest.mark.parametrize("provider, model", [
    ("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("openai", "gpt-4.1"), ("openai", "gpt-4.1-mini"),
    ("openai", "gpt-4.1-nano"), ("openai", "o1"), ("openai", "o3-mini"), ("openai", "o4-mini"),
    ("openai", "text-embedding-3-small"), ("openai", "text-embedding-3-large"),
    ("anthropic", "claude-3-5-haiku-20241022"), ("anthropic", "claude-3-5-sonnet-20241022"),
    ("anthropic", "claude-3-7-sonnet-20250219"), ("anthropic", "claude-sonnet-4-5-20250929"),
    ("anthropic", "claude-opus-4-1-20250805"), ("anthropic", "claude-haiku-4-5-20251001"),
    ("google", "gemini-1.5-pro-002"), ("google", "gemini-1.5-flash-002"), ("google", "gemini-2.0-flash-001"),
    ("google", "gemini-2.5-pro"), ("google", "gemini-2.5-flash"),
    ("mistral", "mistral-large-latest"), ("mistral", "mistral-small-latest"),
])
def test_required_models_are_priced(table, provider, model):
    price = table.find(provider, model, AT)
    assert price is not None and price.provider == provider


def test_cost_gpt_4o_mini_with_cached_input(table):
    # gpt-4o-mini: $0.15 input, $0.60 output, $0.075 cached input per 1M tokens.
    # 1000 input tokens of which 200 cached, 500 output: 800 uncached + 200 cached + 500 output.
    cost = table.cost("openai", "gpt-4o-mini", AT, input_tokens=1000, output_tokens=500, cache_read_input_tokens=200)
    expected_input = 800 * 0.15 / M + 200 * 0.075 / M  # 0.00012 + 0.000015
    expected_output = 500 * 0.60 / M  # 0.0003
    assert cost == Cost(pytest.approx(expected_input), pytest.approx(expected_output),
                        pytest.approx(expected_input + expected_output))
    assert cost.total == pytest.approx(0.000435, rel=1e-12)


def test_cost_anthropic_cache_read_and_write(table):
    # claude-sonnet-4-5: $3 input, $15 output, $0.30 cache read, $3.75 cache write per 1M tokens.
    # 10,000 input = 2,000 uncached + 7,000 read + 1,000 written; 300 output.
    cost = table.cost("anthropic", "claude-sonnet-4-5-20250929", AT, input_tokens=10_000, output_tokens=300,
                      cache_read_input_tokens=7_000, cache_creation_input_tokens=1_000)
    assert cost.input == pytest.approx((2_000 * 3 + 7_000 * 0.30 + 1_000 * 3.75) / M, rel=1e-12)  # 0.01185
    assert cost.output == pytest.approx(300 * 15 / M, rel=1e-12)  # 0.0045
    assert cost.total == pytest.approx(0.01635, rel=1e-12)


def test_cost_missing_counts_and_no_tokens(table):
    # Output only (an embedding has no output; here input is missing): input counts as 0.
    cost = table.cost("openai", "gpt-4.1", AT, input_tokens=None, output_tokens=1_000)
    assert (cost.input, cost.output, cost.total) == (0.0, pytest.approx(1_000 * 8 / M), pytest.approx(0.008))
    # Empty cache prices mean the input price: text-embedding-3-small, $0.02 per 1M, 5,000 tokens of which 1,000 cached.
    cost = table.cost(None, "text-embedding-3-small", AT, input_tokens=5_000, output_tokens=None,
                      cache_read_input_tokens=1_000)
    assert cost.input == pytest.approx(5_000 * 0.02 / M) and cost.output == 0.0
    assert table.cost("openai", "gpt-4o", AT, input_tokens=None, output_tokens=None) is None


def test_cost_clamps_cached_tokens_exceeding_input(table):
    # Bad data: 300 cached of 100 input. The uncached part is 0, not -200; cached tokens are still charged.
    cost = table.cost("openai", "gpt-4o-mini", AT, input_tokens=100, output_tokens=0, cache_read_input_tokens=300)
    assert cost.input == pytest.approx(300 * 0.075 / M) and cost.input > 0
    assert cost.output == 0.0 and cost.total == cost.input


def test_most_specific_pattern_wins(table):
    mini = table.find("openai", "gpt-4o-mini-2024-07-18", AT)
    assert (mini.model_pattern, mini.input) == ("gpt-4o-mini*", pytest.approx(0.15 / M))
    assert table.find("openai", "gpt-4o-2024-08-06", AT).model_pattern == "gpt-4o*"
    assert table.find("openai", "gpt-4o-2024-05-13", AT).input == pytest.approx(5 / M)  # exact name, no wildcard
    assert table.find("openai", "gpt-4.1-nano-2025-04-14", AT).model_pattern == "gpt-4.1-nano*"
    assert table.find("openai", "o3-mini-2025-01-31", AT).model_pattern == "o3-mini*"
    assert table.find("google", "gemini-2.5-flash-lite", AT).model_pattern == "gemini-2.5-flash-lite*"
    assert table.find("anthropic", "claude-opus-4-5-20251101", AT).input == pytest.approx(5 / M)
    assert table.find("anthropic", "claude-opus-4-20250514", AT).input == pytest.approx(15 / M)


def test_dated_price_change(table):
    # o3: $10/$40 from 2025-04-16, $2/$8 from 2025-06-10 (the pattern's later row supersedes the earlier one).
    before = table.find("openai", "o3-2025-04-16", date(2025, 6, 9))
    on = table.find("openai", "o3-2025-04-16", datetime(2025, 6, 10, 0, 0, tzinfo=timezone.utc))
    assert (before.input, before.output) == (pytest.approx(10 / M), pytest.approx(40 / M))
    assert (on.input, on.output) == (pytest.approx(2 / M), pytest.approx(8 / M))
    assert before.effective_date == date(2025, 4, 16) and on.effective_date == date(2025, 6, 10)
    # A datetime is taken at its UTC date: 2025-06-09 23:30 in New York is 2025-06-10 in UTC.
    late = datetime(2025, 6, 9, 23, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert table.find("openai", "o3", late).effective_date == date(2025, 6, 10)
    # Before a pattern's first row there is no price (no fallback to a broader pattern).
    assert table.find("openai", "o3", date(2025, 4, 15)) is None
    assert table.find("openai", "gpt-4o-mini", date(2024, 7, 17)) is None
    # at=None is today: the newest row.
    assert table.find("openai", "o3", None).effective_date == date(2025, 6, 10)
    assert table.cost("openai", "o3", date(2025, 5, 1), input_tokens=1_000, output_tokens=1_000).total == \
        pytest.approx(1_000 * 10 / M + 1_000 * 40 / M)


def test_provider_prefixed_model_names(table):
    assert table.find("openai", "openai/gpt-4o-mini", AT).model_pattern == "gpt-4o-mini*"
    assert table.find("google", "models/gemini-2.5-pro", AT).model_pattern == "gemini-2.5-pro*"
    assert table.find(None, "openrouter/anthropic/claude-3-5-haiku-latest", AT).model_pattern == "claude-3-5-haiku*"


def test_unknown_model_or_missing_model(table):
    assert table.find("openai", "gpt-2", AT) is None
    assert table.find(None, None, AT) is None
    assert table.find("openai", "", AT) is None
    assert table.cost("openai", "my-finetune", AT, input_tokens=10, output_tokens=10) is None
    assert table.cost("openai", None, AT, input_tokens=10, output_tokens=10) is None


def test_case_insensitive_and_provider_optional(table):
    expected = table.find("openai", "gpt-4o-mini", AT)
    assert table.find("OpenAI", "GPT-4o-Mini-2024-07-18", AT) is expected
    assert table.find(None, "gpt-4o-mini", AT) is expected
    assert table.find("azure.ai.openai", "gpt-4o-mini", AT) is expected  # unknown provider: any provider
    assert table.find("anthropic", "gpt-4o-mini", AT) is expected  # no anthropic row matches: any provider


def test_provider_rows_preferred_in_a_custom_table(tmp_path):
    path = write(tmp_path, (
        "groq,llama-3.3-70b*,0.59,0.79,,,2025-01-01\n"
        "together,llama-3.3-70b*,0.88,0.88,,,2025-01-01\n"
        "together,Llama-3.3-70B-Instruct*,0.90,0.90,0.45,1.10,2025-01-01\n"
    ))
    table = PriceTable.load(path)
    assert table.version == "test"
    assert table.find("groq", "llama-3.3-70b-versatile", AT).input == pytest.approx(0.59 / M)
    assert table.find("together", "llama-3.3-70b-versatile", AT).input == pytest.approx(0.88 / M)
    # Groq's rows are preferred even though Together's pattern is more specific.
    assert table.find("groq", "llama-3.3-70b-instruct-turbo", AT).provider == "groq"
    # No provider: the most specific pattern of any provider, matched case-insensitively.
    price = table.find(None, "llama-3.3-70b-instruct-turbo", AT)
    assert price == Price("together", "llama-3.3-70b-instruct*", 0.90 / M, 0.90 / M, 0.45 / M, 1.10 / M,
                          date(2025, 1, 1))
    # 1,000 input = 600 uncached + 300 read + 100 written; 100 output.
    cost = table.cost(None, "llama-3.3-70b-instruct-turbo", AT, input_tokens=1_000, output_tokens=100,
                      cache_read_input_tokens=300, cache_creation_input_tokens=100)
    assert cost.input == pytest.approx((600 * 0.90 + 300 * 0.45 + 100 * 1.10) / M, rel=1e-12)
    assert cost.total == pytest.approx((600 * 0.90 + 300 * 0.45 + 100 * 1.10 + 100 * 0.90) / M, rel=1e-12)


def test_find_is_cached(table):
    first = table.find("openai", "gpt-4.1-mini-2025-04-14", AT)
    assert table._cache[("openai", "gpt-4.1-mini-2025-04-14", AT.date())] is first
    assert table.find("openai", "gpt-4.1-mini-2025-04-14", AT + timedelta(hours=1)) is first


@pytest.mark.parametrize("row, line, message", [
    ("openai,gpt-x*,abc,1,,,2025-01-01\n", 3, "input_per_mtok 'abc' is not a number"),
    ("openai,gpt-x*,1,,,,2025-01-01\n", 3, "output_per_mtok '' is not a number"),
    ("openai,gpt-x*,1,-2,,,2025-01-01\n", 3, "output_per_mtok '-2' must be a non-negative"),
    ("openai,gpt-x*,1,2,nan,,2025-01-01\n", 3, "cached_input_per_mtok 'nan' must be a non-negative"),
    ("openai,gpt-x*,1,2,,,2025-13-01\n", 3, "effective_date '2025-13-01' is not an ISO date"),
    ("openai,gpt-x*,1,2,,,\n", 3, "effective_date '' is not an ISO date"),
    ("openai,gpt-x*,1,2,,2025-01-01\n", 3, "6 fields, the header has 7"),
    (",gpt-x*,1,2,,,2025-01-01\n", 3, "provider and model_pattern are required"),
    ("openai,gpt-x*,1,2,,,2025-01-01\n# a comment\n\nopenai,gpt-x*,1,3,,,2025-01-01\n", 6, "duplicate row"),
])
def test_malformed_rows_name_file_and_line(tmp_path, row, line, message):
    path = write(tmp_path, row)
    with pytest.raises(PriceTableError, match=message) as error:
        PriceTable.load(path)
    assert f"{path.resolve()}:{line}:" in str(error.value)
    assert isinstance(error.value, ValueError)


def test_malformed_header_and_missing_version(tmp_path):
    path = write(tmp_path, "openai,gpt-x*,1,2,,2025-01-01\n", header=HEADER.replace(",cache_write_per_mtok", ""))
    with pytest.raises(PriceTableError, match=r"prices\.csv:2: header lacks column\(s\) cache_write_per_mtok"):
        PriceTable.load(path)
    with pytest.raises(PriceTableError, match="no '# version"):
        PriceTable.load(write(tmp_path, "openai,gpt-x*,1,2,,,2025-01-01\n", version=""))


def test_reload_after_the_file_changes(tmp_path):
    path = write(tmp_path, "openai,gpt-x*,1,2,,,2025-01-01\n")
    assert PriceTable.load(path).find("openai", "gpt-x", AT).input == pytest.approx(1 / M)
    path.write_text("# version: two\n" + HEADER + "openai,gpt-x*,3,4,,,2025-01-01\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    reloaded = PriceTable.load(str(path))
    assert reloaded.version == "two" and reloaded.find("openai", "gpt-x", AT).input == pytest.approx(3 / M)
