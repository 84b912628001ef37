"""Tests of observatory_etl.llm.prices: the default table (genai-prices, plus an OBSERVATORY_PRICES_CSV
override), price CSVs (model matching by pattern, provider and date), and costs under the token convention of
docs/llm-mapping.md (input includes cached tokens)."""

from __future__ import annotations

import csv
import hashlib
import os
import pickle
import socket
import subprocess
import sys
import textwrap
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import genai_prices
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory_etl.llm import prices as prices_module
from observatory_etl.llm.prices import TEMPLATE_PATH, Cost, Price, PriceTable, PriceTableError

M = 1_000_000  # the CSV is USD per 1M tokens; Price is USD per token
AT = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
HEADER = "provider,model_pattern,input_per_mtok,output_per_mtok,cached_input_per_mtok,cache_write_per_mtok,effective_date\n"
GENAI_PRICES = f"genai-prices {genai_prices.__version__}"
ROOT = Path(__file__).resolve().parents[2]

# A hand-written table in the CSV format (the former packaged table: prices from the providers' pages as of
# 2026-11-01): test data for CSV matching, no longer a source of prices.
HAND_TABLE = "# version: 2026-11-01\n" + """\
provider,model_pattern,input_per_mtok,output_per_mtok,cached_input_per_mtok,cache_write_per_mtok,effective_date
openai,gpt-4o*,5.00,15.00,,,2024-05-13
openai,gpt-4o*,2.50,10.00,1.25,,2024-10-02
openai,gpt-4o-2024-05-13,5.00,15.00,,,2024-05-13
openai,gpt-4o-mini*,0.15,0.60,0.075,,2024-07-18
openai,gpt-4.1*,2.00,8.00,0.50,,2025-04-14
openai,gpt-4.1-mini*,0.40,1.60,0.10,,2025-04-14
openai,gpt-4.1-nano*,0.10,0.40,0.025,,2025-04-14
openai,o1*,15.00,60.00,7.50,,2024-12-17
openai,o1-mini*,3.00,12.00,1.50,,2024-09-12
openai,o1-mini*,1.10,4.40,0.55,,2025-01-31
openai,o3*,10.00,40.00,2.50,,2025-04-16
openai,o3*,2.00,8.00,0.50,,2025-06-10
openai,o3-mini*,1.10,4.40,0.55,,2025-01-31
openai,o4-mini*,1.10,4.40,0.275,,2025-04-16
openai,text-embedding-3-small*,0.02,0,,,2024-01-25
openai,text-embedding-3-large*,0.13,0,,,2024-01-25
anthropic,claude-3-5-haiku*,0.80,4.00,0.08,1.00,2024-11-04
anthropic,claude-3-5-sonnet*,3.00,15.00,0.30,3.75,2024-06-20
anthropic,claude-3-7-sonnet*,3.00,15.00,0.30,3.75,2025-02-24
anthropic,claude-sonnet-4*,3.00,15.00,0.30,3.75,2025-05-22
anthropic,claude-opus-4*,15.00,75.00,1.50,18.75,2025-05-22
anthropic,claude-opus-4-5*,5.00,25.00,0.50,6.25,2025-11-24
anthropic,claude-haiku-4-5*,1.00,5.00,0.10,1.25,2025-10-15
google,gemini-1.5-pro*,3.50,10.50,,,2024-05-14
google,gemini-1.5-pro*,1.25,5.00,0.3125,,2024-10-01
google,gemini-1.5-flash*,0.35,1.05,,,2024-05-14
google,gemini-1.5-flash*,0.075,0.30,0.01875,,2024-08-12
google,gemini-1.5-flash-8b*,0.0375,0.15,0.01,,2024-10-03
google,gemini-2.0-flash*,0.10,0.40,0.025,,2025-02-05
google,gemini-2.0-flash-lite*,0.075,0.30,,,2025-02-25
google,gemini-2.5-pro*,1.25,10.00,0.125,,2025-06-17
google,gemini-2.5-flash*,0.30,2.50,0.03,,2025-06-17
google,gemini-2.5-flash-lite*,0.10,0.40,0.01,,2025-07-22
mistral,mistral-large*,2.00,6.00,,,2024-11-18
mistral,mistral-small*,0.10,0.30,,,2025-03-17
"""


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv("OBSERVATORY_PRICES_CSV", raising=False)


@pytest.fixture(scope="module")
def hand_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hand") / "hand_prices.csv"
    path.write_text(HAND_TABLE)
    return path


@pytest.fixture(scope="module")
def table(hand_path) -> PriceTable:
    """The hand-written CSV table (the CSV tests below)."""
    return PriceTable.load(hand_path)


@pytest.fixture
def default() -> PriceTable:
    """The default table: genai-prices (OBSERVATORY_PRICES_CSV unset)."""
    return PriceTable.load()


def write(tmp_path: Path, rows: str, *, version: str = "# version: test\n", header: str = HEADER) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(version + header + rows)
    return path


def calc(provider_id: str | None, model: str, at: datetime, **usage) -> genai_prices.types.PriceCalculation:
    """genai-prices' own calculation (the reference for the table's costs)."""
    return genai_prices.calc_price(genai_prices.Usage(**usage), model, provider_id=provider_id,
                                   genai_request_timestamp=at)


def assert_same_cost(cost: Cost, expected: genai_prices.types.PriceCalculation) -> None:
    assert cost.input == pytest.approx(float(expected.input_price), rel=1e-9, abs=1e-15)
    assert cost.output == pytest.approx(float(expected.output_price), rel=1e-9, abs=1e-15)
    assert cost.total == pytest.approx(float(expected.total_price), rel=1e-9, abs=1e-15)


# --------------------------------------------------------------------------------------------------
# The default table: genai-prices


def test_default_table_is_genai_prices(default):
    assert default.version == GENAI_PRICES and default.version.startswith("genai-prices 0.")
    assert default.use_library and default.prices == ()
    assert PriceTable.load() is default is PriceTable.library()  # built once


def test_template_csv_has_the_format_and_no_rows():
    template = PriceTable.load(TEMPLATE_PATH)
    assert template.version == "template" and template.prices == () and not template.use_library
    assert template.find("openai", "gpt-4o-mini", AT) is None


def test_default_prices_gpt_4o_mini(default):
    price = default.find("openai", "gpt-4o-mini-2024-07-18", AT)
    assert (price.provider, price.model_pattern, price.tiers) == ("openai", "gpt-4o-mini", ())
    assert (price.input, price.output, price.cached_input) == (
        pytest.approx(0.15 / M), pytest.approx(0.60 / M), pytest.approx(0.075 / M))
    # 1000 input tokens of which 200 cached, 500 output: 800 uncached + 200 cached + 500 output.
    cost = default.cost("openai", "gpt-4o-mini", AT, input_tokens=1000, output_tokens=500, cache_read_input_tokens=200)
    assert cost.total == pytest.approx(0.000435, rel=1e-12)
    assert_same_cost(cost, calc("openai", "gpt-4o-mini", AT, input_tokens=1000, cache_read_tokens=200,
                                output_tokens=500))


@pytest.mark.parametrize("provider", ["anthropic", "Anthropic", "ANTHROPIC"])
def test_default_prices_claude_sonnet_4_5(default, provider):
    # claude-sonnet-4-5: $3 input, $15 output, $0.30 cache read, $3.75 cache write per 1M tokens.
    # 10,000 input = 2,000 uncached + 7,000 read + 1,000 written; 300 output.
    cost = default.cost(provider, "claude-sonnet-4-5-20250929", AT, input_tokens=10_000, output_tokens=300,
                        cache_read_input_tokens=7_000, cache_creation_input_tokens=1_000)
    assert cost.input == pytest.approx((2_000 * 3 + 7_000 * 0.30 + 1_000 * 3.75) / M, rel=1e-12)  # 0.01185
    assert cost.output == pytest.approx(300 * 15 / M, rel=1e-12)  # 0.0045
    assert cost.total == pytest.approx(0.01635, rel=1e-12)
    assert default.find(provider, "claude-sonnet-4-5", AT).provider == "anthropic"
    assert default.find(provider, "claude-sonnet-4-5", AT) == default.find("anthropic", "claude-sonnet-4-5", AT)


def test_unknown_model_is_not_priced(default):
    assert default.find("openai", "my-finetune", AT) is None
    assert default.cost("openai", "my-finetune", AT, input_tokens=10, output_tokens=10) is None
    assert default.cost(None, "a-model-nobody-sells", AT, input_tokens=10, output_tokens=10) is None
    assert default.cost("openai", None, AT, input_tokens=10, output_tokens=10) is None
    assert default.find(None, None, AT) is None and default.find("openai", " ", AT) is None
    assert default.cost("openai", "gpt-4o-mini", AT, input_tokens=None, output_tokens=None) is None
    # Groq's Llama is priced for provider groq, but its name alone picks no provider in genai-prices.
    assert default.find("groq", "llama-3.3-70b-versatile", AT).provider == "groq"
    assert default.find(None, "llama-3.3-70b-versatile", AT) is None
    # Priced in other units only (audio hours): no token price.
    assert default.find("openai", "whisper-1", AT) is None


@pytest.mark.parametrize("provider, model", [
    ("openai", "gpt-4o-mini"), ("openai", "gpt-4.1"), ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-3-5-haiku-20241022"), ("gcp.gemini", "gemini-2.5-flash"), ("gcp.gemini", "gemini-2.5-pro"),
])
def test_cache_reads_are_cheaper_than_input(default, provider, model):
    price = default.find(provider, model, AT)
    assert 0 < price.cached_input < price.input
    uncached = default.cost(provider, model, AT, input_tokens=10_000, output_tokens=0)
    cached = default.cost(provider, model, AT, input_tokens=10_000, output_tokens=0, cache_read_input_tokens=10_000)
    assert 0 < cached.input < uncached.input and cached.total == cached.input


@pytest.mark.parametrize("model, provider_id", [
    ("gpt-4o-mini", "openai"), ("claude-sonnet-4-5-20250929", "anthropic"), ("gemini-2.5-pro", "google"),
    ("mistral-large-latest", "mistral"), ("openrouter/anthropic/claude-3-5-haiku-latest", "anthropic"),
])
def test_model_matched_with_provider_none(default, model, provider_id):
    price = default.find(None, model, AT)
    assert price is not None and price.provider == provider_id
    assert default.find(provider_id, model, AT) == price
    # An unknown provider name, or a provider without that model: the model name alone picks the provider.
    assert default.find("my-llm-gateway", model, AT) == price
    cost = default.cost(None, model, AT, input_tokens=2_000, output_tokens=100)
    assert_same_cost(cost, calc(None, model.rpartition("/")[2], AT, input_tokens=2_000, output_tokens=100))


@pytest.mark.parametrize("provider, model, provider_id", [
    ("openai", "gpt-4o-mini", "openai"),
    ("OpenAI", "GPT-4o-Mini-2024-07-18", "openai"),
    ("gcp.gemini", "gemini-2.5-flash", "google"),
    ("gcp.vertex_ai", "gemini-2.5-pro", "google"),
    ("google", "models/gemini-2.5-pro", "google"),
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws"),
    ("azure.ai.openai", "gpt-4o-mini", "azure"),
    ("mistral_ai", "mistral-large-latest", "mistral"),
    ("x_ai", "grok-4", "x-ai"),
    ("deepseek", "deepseek-chat", "deepseek"),
    ("groq", "llama-3.3-70b-versatile", "groq"),
    ("openai", "openai/gpt-4o-mini", "openai"),
])
def test_provider_names_map_to_genai_prices_providers(default, provider, model, provider_id):
    price = default.find(provider, model, AT)
    assert price is not None and price.provider == provider_id
    cost = default.cost(provider, model, AT, input_tokens=1_234, output_tokens=567)
    name = model.rpartition("/")[2] if "/" in model else model
    assert_same_cost(cost, calc(provider_id, name, AT, input_tokens=1_234, output_tokens=567))


def test_long_context_tier_prices_the_whole_call(default):
    # claude-sonnet-4-5 above 200k input tokens: $6 input, $22.5 output, $0.60 cache read, $7.50 cache write.
    price = default.find("anthropic", "claude-sonnet-4-5", AT)
    (tier,) = price.tiers
    assert tier.above == 200_000
    assert (tier.input, tier.output, tier.cached_input, tier.cache_write) == (
        pytest.approx(6 / M), pytest.approx(22.5 / M), pytest.approx(0.6 / M), pytest.approx(7.5 / M))
    at_threshold = default.cost("anthropic", "claude-sonnet-4-5", AT, input_tokens=200_000, output_tokens=1_000)
    assert at_threshold.total == pytest.approx((200_000 * 3 + 1_000 * 15) / M)
    above = default.cost("anthropic", "claude-sonnet-4-5", AT, input_tokens=200_001, output_tokens=1_000)
    assert above.total == pytest.approx((200_001 * 6 + 1_000 * 22.5) / M)
    # The prompt size includes the cached tokens.
    cached = default.cost("anthropic", "claude-sonnet-4-5", AT, input_tokens=250_000, output_tokens=0,
                          cache_read_input_tokens=240_000)
    assert cached.input == pytest.approx((10_000 * 6 + 240_000 * 0.6) / M)
    for tokens in (200_000, 200_001):
        assert_same_cost(default.cost("anthropic", "claude-sonnet-4-5", AT, input_tokens=tokens, output_tokens=1_000),
                         calc("anthropic", "claude-sonnet-4-5", AT, input_tokens=tokens, output_tokens=1_000))
    assert_same_cost(cached, calc("anthropic", "claude-sonnet-4-5", AT, input_tokens=250_000,
                                  cache_read_tokens=240_000))


def test_price_history_from_genai_prices(default):
    # o3: $10/$40 until 2025-06-09, $2/$8 from 2025-06-10 (a datetime is taken at its UTC date).
    before = default.find("openai", "o3-2025-04-16", date(2025, 6, 9))
    on = default.find("openai", "o3", datetime(2025, 6, 10, 0, 0, tzinfo=timezone.utc))
    assert (before.input, before.output, before.effective_date) == (pytest.approx(10 / M), pytest.approx(40 / M), None)
    assert (on.input, on.output, on.effective_date) == (pytest.approx(2 / M), pytest.approx(8 / M), date(2025, 6, 10))
    late = datetime(2025, 6, 9, 23, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert default.find("openai", "o3", late) == on


def test_model_listed_without_prices_is_free(default):
    price = default.find("github-copilot", "gpt-4o-mini", AT)  # included in the subscription
    assert (price.provider, price.input, price.output) == ("github-copilot", 0.0, 0.0)
    assert default.cost("github-copilot", "gpt-4o-mini", AT, input_tokens=100, output_tokens=100) == Cost(0.0, 0.0, 0.0)


SAMPLE_MODELS = [
    ("openai", "gpt-4o-mini"), ("openai", "o3"), ("openai", "text-embedding-3-small"),
    ("anthropic", "claude-sonnet-4-5"), ("anthropic", "claude-opus-4-1"), ("anthropic", "claude-3-5-haiku-latest"),
    ("google", "gemini-2.5-pro"), ("google", "gemini-2.5-flash"), ("mistral", "mistral-small-latest"),
    ("aws", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"), ("deepseek", "deepseek-chat"),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=st.sampled_from(SAMPLE_MODELS), day=st.dates(date(2024, 6, 1), date(2027, 12, 31)),
       input_tokens=st.integers(0, 600_000), data=st.data())
def test_costs_agree_with_genai_prices_calc_price(model, day, input_tokens, data):
    cache_read = data.draw(st.integers(0, input_tokens))
    cache_write = data.draw(st.integers(0, input_tokens - cache_read))
    output_tokens = data.draw(st.integers(0, 200_000))
    provider, name = model
    cost = PriceTable.library().cost(provider, name, day, input_tokens=input_tokens, output_tokens=output_tokens,
                                     cache_read_input_tokens=cache_read, cache_creation_input_tokens=cache_write)
    noon = datetime.combine(day, time(12), tzinfo=timezone.utc)  # the time a day's price is taken at
    assert_same_cost(cost, calc(provider, name, noon, input_tokens=input_tokens, cache_read_tokens=cache_read,
                                cache_write_tokens=cache_write, output_tokens=output_tokens))


def test_find_cache_is_keyed_by_day_and_bounded(monkeypatch):
    table = PriceTable("t", (), use_library=True)
    first = table.find("openai", "gpt-4o-mini", AT)
    assert table._cache[("openai", "gpt-4o-mini", AT.date())] is first
    assert table.find("openai", "gpt-4o-mini", AT + timedelta(hours=1)) is first
    monkeypatch.setattr(prices_module, "_CACHE_LIMIT", 3)
    for day in range(1, 10):
        table.find("openai", "gpt-4o-mini", date(2026, 1, day))
        assert len(table._cache) <= 3


def test_tables_pickle_for_decode_worker_processes(default, table):
    for original in (default, table):
        original.find("anthropic", "claude-sonnet-4-5", AT)
        copy = pickle.loads(pickle.dumps(original))
        assert copy.version == original.version and copy.use_library == original.use_library
        for provider, model in (("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-4o-mini")):
            assert copy.find(provider, model, AT) == original.find(provider, model, AT)


# --------------------------------------------------------------------------------------------------
# OBSERVATORY_PRICES_CSV: an override CSV


def test_override_csv_wins_for_the_provider_and_model_it_matches(tmp_path, monkeypatch):
    path = write(tmp_path, (
        "openai,gpt-4o-mini*,1.00,2.00,0.50,,2024-01-01\n"
        "openai,gpt-4o*,9.00,9.00,,,2030-01-01\n"  # not effective yet on AT
        "google,gemini-2.5-pro*,4.00,8.00,,,2024-01-01\n"
        "acme,acme-1*,0.10,0.20,,,2024-01-01\n"  # a model genai-prices lacks
    ), version="# version: negotiated\n")
    monkeypatch.setenv("OBSERVATORY_PRICES_CSV", str(path))
    table = PriceTable.load()
    assert table.version == f"{GENAI_PRICES}; override prices.csv {hashlib.md5(path.read_bytes()).hexdigest()[:8]}"
    assert table.use_library and len(table.prices) == 4
    assert PriceTable.load() is table  # parsed once
    library = PriceTable.library()

    # The override's rows win, for their provider (after the provider-name mapping) or with no provider.
    for provider in ("openai", "OpenAI", None):
        price = table.find(provider, "gpt-4o-mini-2024-07-18", AT)
        assert (price.provider, price.model_pattern, price.input) == ("openai", "gpt-4o-mini*", pytest.approx(1 / M))
    cost = table.cost("openai", "gpt-4o-mini", AT, input_tokens=1_000, output_tokens=100, cache_read_input_tokens=400)
    assert cost.total == pytest.approx((600 * 1 + 400 * 0.5 + 100 * 2) / M, rel=1e-12)
    assert table.find("gcp.gemini", "gemini-2.5-pro", AT).input == pytest.approx(4 / M)
    assert table.find("acme", "acme-1-large", AT).output == pytest.approx(0.2 / M)
    # Everything else is genai-prices': other models, other providers, and dates before a row is effective.
    assert table.find("anthropic", "claude-sonnet-4-5", AT) == library.find("anthropic", "claude-sonnet-4-5", AT)
    assert table.find("azure.ai.openai", "gpt-4o-mini", AT) == library.find("azure.ai.openai", "gpt-4o-mini", AT)
    assert table.find("openai", "gpt-4o", AT) == library.find("openai", "gpt-4o", AT) is not None
    before = date(2023, 12, 31)
    assert table.find("openai", "gpt-4o-mini", before) == library.find("openai", "gpt-4o-mini", before)
    assert library.find("openai", "gpt-4o-mini", AT).input == pytest.approx(0.15 / M)  # the library is untouched

    # A changed override is reloaded, with a new version.
    path.write_text("# version: two\n" + HEADER + "openai,gpt-4o-mini*,3,4,,,2024-01-01\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    reloaded = PriceTable.load()
    assert reloaded.version == f"{GENAI_PRICES}; override prices.csv {hashlib.md5(path.read_bytes()).hexdigest()[:8]}"
    assert reloaded.version != table.version
    assert reloaded.find("openai", "gpt-4o-mini", AT).input == pytest.approx(3 / M)
    # Unset: the library alone again.
    monkeypatch.delenv("OBSERVATORY_PRICES_CSV")
    assert PriceTable.load() is library


def test_override_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_PRICES_CSV", str(tmp_path / "missing.csv"))
    with pytest.raises(ValueError, match="OBSERVATORY_PRICES_CSV"):
        PriceTable.load()
    path = write(tmp_path, "openai,gpt-x*,abc,1,,,2025-01-01\n")
    monkeypatch.setenv("OBSERVATORY_PRICES_CSV", str(path))
    with pytest.raises(PriceTableError, match="input_per_mtok 'abc' is not a number") as error:
        PriceTable.load()
    assert f"{path.resolve()}:3:" in str(error.value)


# --------------------------------------------------------------------------------------------------
# No network


def _refuse(*args, **kwargs):
    raise AssertionError(f"network I/O attempted: {args!r}")


def test_loading_and_pricing_do_no_network_io(monkeypatch):
    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    for cached in (prices_module._library_table, prices_module._genai_providers, prices_module._genai_provider):
        cached.cache_clear()  # load the data again, under the patch
    table = PriceTable.load()
    assert table.cost("openai", "gpt-4o-mini", AT, input_tokens=1_000, output_tokens=0).total == pytest.approx(1.5e-4)
    assert table.cost(None, "claude-sonnet-4-5", None, input_tokens=1_000, output_tokens=0) is not None
    from genai_prices import update_prices

    assert update_prices._shared_updater.thread is None  # genai-prices' background fetch never started


def test_a_fresh_process_loads_prices_without_network():
    script = textwrap.dedent("""
        import socket, threading
        def refuse(*args, **kwargs):
            raise OSError("network I/O attempted")
        socket.socket.connect = socket.socket.connect_ex = refuse
        socket.getaddrinfo = socket.create_connection = refuse
        from datetime import date
        from observatory_etl.llm.prices import PriceTable
        table = PriceTable.load()
        print(table.version)
        print(table.cost("openai", "gpt-4o-mini", date(2026, 11, 1), input_tokens=1000, output_tokens=0).total)
        print(",".join(sorted(thread.name for thread in threading.enumerate())))
    """)
    env = {key: value for key, value in os.environ.items() if key != "OBSERVATORY_PRICES_CSV"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    version, total, threads = result.stdout.splitlines()
    assert version == GENAI_PRICES
    assert float(total) == pytest.approx(1.5e-4)
    assert "genai_prices:update" not in threads.split(",")


# --------------------------------------------------------------------------------------------------
# Price CSVs (PriceTable.load(path)): the hand-written table and tables written by the tests


def test_hand_table_loads_with_a_version_and_valid_rows(table, hand_path):
    assert HAND_TABLE.splitlines()[0] == "# version: 2026-11-01"
    assert table.version == "2026-11-01" and not table.use_library
    rows = list(csv.DictReader(line for line in HAND_TABLE.splitlines() if not line.startswith("#")))
    assert len(table.prices) == len(rows) >= 23
    for price in table.prices:
        assert price.provider in {"openai", "anthropic", "google", "mistral"}
        assert price.input > 0 and price.output >= 0 and price.cached_input >= 0 and price.cache_write >= 0
        assert price.input < 100 / M and price.output < 100 / M  # per token, not per 1M tokens
        assert price.cached_input <= price.input <= price.cache_write
        assert date(2024, 1, 1) <= price.effective_date <= date(2026, 11, 1)
        assert price.tiers == ()
    assert PriceTable.load(hand_path) is table  # parsed once
    assert PriceTable.load(str(hand_path)) is table


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
