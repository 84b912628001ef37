"""LLM prices and the cost of a span's tokens.

Prices come from the maintained `genai-prices <https://github.com/pydantic/genai-prices>`_ package
(pydantic/genai-prices): its price data ships inside the installed package (the version pinned in
``requirements.lock``), with model-name matching, cache read and write prices, long-context tiers and
price history. Nothing is fetched over the network: the table reads the bundled data
(``genai_prices.data.providers``) directly, never starts ``genai_prices.UpdatePrices`` (the library's optional
background fetch), and ignores a snapshot that other code in the process may have installed with it.

:meth:`PriceTable.load` without a path is the default table: genai-prices, plus the rows of the CSV named by
``OBSERVATORY_PRICES_CSV`` (:func:`observatory_etl.config.prices_csv`), which win over the library for the
provider and model they match. ``PriceTable.load(path)`` is a table of that CSV alone.

The CSV format (``observatory_etl/llm/model_prices.csv`` is its commented template): prices in USD per 1M
tokens (the unit providers publish), a ``# version: ...`` line, then::

    provider,model_pattern,input_per_mtok,output_per_mtok,cached_input_per_mtok,cache_write_per_mtok,effective_date

``model_pattern`` is an fnmatch glob matched case-insensitively against the model name; empty cache prices
mean the input price; a row prices spans starting on or after its ``effective_date``, until a later row for
the same provider and pattern. In memory (:class:`Price`, :class:`Tier`) prices are USD per token; costs
(:class:`Cost`) are USD, unrounded.

Costs follow the token convention of docs/llm-mapping.md (which is also genai-prices'): ``input_tokens``
includes the cache reads and cache writes, ``output_tokens`` includes the reasoning tokens.

From genai-prices a model's price on a day is its four token prices ``input_mtok``, ``output_mtok``,
``cache_read_mtok`` and ``cache_write_mtok`` (the default, 5-minute cache write; spans do not say the TTL):

- price history: the price genai-prices resolves for 12:00 UTC of the day (``ModelInfo.get_prices``: of the
  model's conditional prices the last one in force, the first one before any start date). Costs are computed
  per day, so prices that depend on the time of day (DeepSeek's peak and off-peak windows) are those of
  12:00 UTC; request-context variants (service tiers such as flex or priority) are not applied;
- tiers that depend on the prompt size (e.g. above 200k input tokens) become :attr:`Price.tiers`; a call is
  priced at the highest tier whose threshold its ``input_tokens`` (cache reads and writes included) exceed,
  for all of its tokens, input and output: the cliff rule of ``genai_prices.types.TieredPrices``;
- a missing cache price is the input price, a missing input or output price is 0 (what ``calc_price``
  computes); a model listed with no price at all is free (cost 0); a model priced only in other units (audio
  hours, pages, characters) has no token price (None); per-request and per-search fees are not priced
  (spans carry no such counts).
"""

from __future__ import annotations

import csv
import fnmatch
import functools
import hashlib
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from importlib.metadata import version as _distribution_version
from pathlib import Path

from ..config import prices_csv

#: The commented template of the CSV format (no rows): a copy with rows is an override or a table of its own.
TEMPLATE_PATH = Path(__file__).resolve().parent / "model_prices.csv"
COLUMNS = (
    "provider", "model_pattern", "input_per_mtok", "output_per_mtok", "cached_input_per_mtok",
    "cache_write_per_mtok", "effective_date",
)
_PER_MTOK = 1_000_000
_CACHE_LIMIT = 100_000  # distinct (provider, model, day) keys kept by PriceTable.find
_PRICING_TIME = time(12, tzinfo=timezone.utc)  # the time of day at which a day's genai-prices price is taken

#: Provider names that spans carry (OTel GenAI ``gen_ai.provider.name`` / ``gen_ai.system``, OpenLLMetry,
#: OpenInference ``llm.provider`` / ``llm.system``), lower-cased, to genai-prices provider ids. A name not
#: listed is looked up among genai-prices' ids and provider patterns; failing that, the model name alone
#: picks the provider.
PROVIDER_IDS = {
    "openai": "openai",
    "azure.ai.openai": "azure", "az.ai.openai": "azure", "azure.ai.inference": "azure",
    "az.ai.inference": "azure", "azure": "azure", "azure_openai": "azure", "azure_ai": "azure",
    "anthropic": "anthropic",
    "gcp.gemini": "google", "gcp.vertex_ai": "google", "gcp.gen_ai": "google", "gemini": "google",
    "vertex_ai": "google", "vertexai": "google", "google": "google", "google_genai": "google",
    "aws.bedrock": "aws", "aws_bedrock": "aws", "bedrock": "aws", "aws": "aws",
    "mistral_ai": "mistral", "mistralai": "mistral", "mistral": "mistral",
    "x_ai": "x-ai", "xai": "x-ai", "x-ai": "x-ai",
    "cohere": "cohere", "deepseek": "deepseek", "groq": "groq", "perplexity": "perplexity",
    "together": "together", "together_ai": "together", "togetherai": "together",
    "fireworks": "fireworks", "fireworks_ai": "fireworks", "openrouter": "openrouter",
    "moonshot": "moonshotai", "moonshotai": "moonshotai", "cerebras": "cerebras",
}

# The genai-prices token price keys (USD per 1M tokens) that price a span.
_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")


class PriceTableError(ValueError):
    """A malformed price CSV; the message names the file and line."""


@dataclass(frozen=True)
class Tier:
    """Prices (USD per token) of a call whose ``input_tokens`` (cache reads and writes included) exceed
    ``above``: all of its tokens are priced at the tier's prices."""

    above: int  # input tokens
    input: float
    output: float
    cached_input: float
    cache_write: float


@dataclass(frozen=True)
class Price:
    """The price of a model on a day. Prices are USD per token (a CSV's USD per 1M tokens / 1,000,000).

    From a CSV: one row (``model_pattern`` its glob). From genai-prices: ``provider`` is the genai-prices
    provider id, ``model_pattern`` the genai-prices model id, ``effective_date`` the start date of the price
    in the library's history (None for a price with no start date), ``tiers`` its prompt-size tiers."""

    provider: str
    model_pattern: str
    input: float  # uncached input tokens
    output: float  # output tokens, reasoning included
    cached_input: float  # input tokens read from the prompt cache
    cache_write: float  # input tokens written to the prompt cache
    effective_date: date | None  # applies to spans starting on or after this date (UTC)
    tiers: tuple[Tier, ...] = ()  # ascending by ``above``; the base prices apply up to the first


@dataclass(frozen=True)
class Cost:
    """The cost of one call in USD (unrounded): input (cache reads and writes included), output, total."""

    input: float
    output: float
    total: float


class PriceTable:
    """Prices by provider, model and day; :meth:`find` and :meth:`cost` look them up.

    ``prices`` are CSV rows (fnmatch patterns, by effective date); with ``use_library=True`` the genai-prices
    data prices what the rows do not (the rows then apply only to spans of their provider or with no
    provider)."""

    def __init__(
        self, version: str, prices: list[Price] | tuple[Price, ...] = (), *, use_library: bool = False
    ) -> None:
        self.version = version
        self.prices = tuple(prices)
        self.use_library = use_library
        groups: dict[tuple[str, str], list[Price]] = {}
        for price in self.prices:
            groups.setdefault((price.provider, price.model_pattern), []).append(price)
        # (canonical provider, matcher, specificity, rows newest first), most specific pattern first (stable:
        # file order).
        self._patterns = sorted(
            (
                (_canonical(provider), re.compile(fnmatch.translate(pattern)).match, _specificity(pattern),
                 sorted(rows, key=lambda p: p.effective_date, reverse=True))
                for (provider, pattern), rows in groups.items()
            ),
            key=lambda entry: entry[2],
            reverse=True,
        )
        self._providers = frozenset(entry[0] for entry in self._patterns)
        self._cache: dict[tuple, Price | None] = {}

    @classmethod
    def load(cls, path: Path | str | None = None) -> PriceTable:
        """The price table.

        Without ``path``: the default table, genai-prices (:meth:`library`) plus, when OBSERVATORY_PRICES_CSV
        names a CSV, that CSV's rows, which win for the provider and model they match; its version is
        ``genai-prices <version>; override <file name> <first 8 hex digits of the file's md5>``. With
        ``path``: the table of that CSV alone, its version the CSV's ``# version:`` line. A CSV is parsed
        once per file version (path, modification time, size).

        Raises:
            PriceTableError: a malformed CSV (the message names the file and line).
            ValueError: OBSERVATORY_PRICES_CSV does not name a file.
            OSError: the CSV cannot be read.
        """
        if path is not None:
            path = Path(path).resolve()
            stat = path.stat()
            return _load_csv(path, stat.st_mtime_ns, stat.st_size)
        override = prices_csv()
        if override is None:
            return cls.library()
        override = override.resolve()
        stat = override.stat()
        return _load_with_override(override, stat.st_mtime_ns, stat.st_size)

    @classmethod
    def library(cls) -> PriceTable:
        """The genai-prices table alone (no override CSV), version ``genai-prices <version>``; one per process.
        Raises nothing: the data is read from the installed package when first needed."""
        return _library_table()

    def find(self, provider: str | None, model: str | None, at: datetime | date | None = None) -> Price | None:
        """The price of ``model`` at ``at`` (a datetime, converted to its UTC date; a date; None = today), in
        USD per token, or None when no price is known. Cached per (provider, model, day) (at most
        100,000 keys; the cache is emptied when full). Raises nothing.

        Case-insensitive. ``provider`` is compared after mapping through :data:`PROVIDER_IDS` (so
        ``gcp.gemini`` spans use ``google`` rows). A model like ``openai/gpt-4o`` or ``models/gemini-2.5-pro``
        is also tried as the part after the last ``/``.

        CSV rows: rows of ``provider`` are preferred; in a CSV-only table, with no provider, an unknown one,
        or no row of that provider matching, any provider's rows match (with the library, a row matches only
        spans of its provider or with no provider). Among matching patterns the most specific wins (most
        literal characters, then fewest wildcards), and of its rows the latest ``effective_date`` on or before
        the date; None when the matching pattern has no row effective yet.

        genai-prices (when no CSV row prices it): the model among the provider's models (and the providers the
        library lists as its fallbacks); when the provider is None, unknown to genai-prices or has no such
        model, the provider that genai-prices picks from the model name alone."""
        day = _day(at)
        key = (provider, model, day)
        try:
            return self._cache[key]
        except KeyError:
            pass
        price = None
        if model and model.strip():
            name = model.strip().lower()
            names = (name, name.rpartition("/")[2]) if "/" in name else (name,)
            provider_key = _canonical(provider)
            if self.prices:
                for candidate in names:
                    price = self._find(provider_key, candidate, day)
                    if price is not None:
                        break
            if price is None and self.use_library:
                price = _library_find(provider, names, day)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = price
        return price

    def _find(self, provider: str | None, model: str, day: date) -> Price | None:
        matching = [entry for entry in self._patterns if entry[1](model)]
        if self.use_library:
            if provider is not None:
                matching = [entry for entry in matching if entry[0] == provider]
        elif provider in self._providers:
            matching = [entry for entry in matching if entry[0] == provider] or matching
        if not matching:
            return None
        for price in matching[0][3]:  # the most specific pattern's rows, newest first
            if price.effective_date <= day:
                return price
        return None

    def cost(
        self,
        provider: str | None,
        model: str | None,
        at: datetime | date | None,
        *,
        input_tokens: int | None,
        output_tokens: int | None,
        cache_read_input_tokens: int | None = None,
        cache_creation_input_tokens: int | None = None,
    ) -> Cost | None:
        """The USD cost of one call, or None without a price (:meth:`find`) or without input and output token
        counts. Raises nothing.

        ``input_tokens`` includes the cache reads and writes (docs/llm-mapping.md), so input cost =
        (input − cache_read − cache_creation) × input price + cache_read × cached-input price +
        cache_creation × cache-write price; output cost = output × output price (reasoning tokens are
        inside ``output_tokens``); prices in USD per token. A missing count is 0; the uncached part is clamped
        at 0 when the cache counts exceed ``input_tokens`` (bad data), so a cost is never negative. With
        tiers, the prices are those of the highest tier whose threshold the prompt size exceeds: the prompt
        size is ``input_tokens`` (or the sum of the cache counts when larger)."""
        if input_tokens is None and output_tokens is None:
            return None
        price = self.find(provider, model, at)
        if price is None:
            return None
        cache_read = max(cache_read_input_tokens or 0, 0)
        cache_creation = max(cache_creation_input_tokens or 0, 0)
        prompt = max(input_tokens or 0, cache_read + cache_creation)
        rates: Price | Tier = price
        for tier in reversed(price.tiers):
            if prompt > tier.above:
                rates = tier
                break
        uncached = prompt - cache_read - cache_creation
        input_cost = uncached * rates.input + cache_read * rates.cached_input + cache_creation * rates.cache_write
        output_cost = max(output_tokens or 0, 0) * rates.output
        return Cost(input=input_cost, output=output_cost, total=input_cost + output_cost)


def _canonical(provider: str | None) -> str | None:
    """``provider`` lower-cased and mapped through PROVIDER_IDS (unchanged when not listed); None if blank."""
    if provider is None:
        return None
    name = provider.strip().lower()
    return PROVIDER_IDS.get(name, name) or None


def _specificity(pattern: str) -> tuple[int, int]:
    wildcards = pattern.count("*") + pattern.count("?")
    return len(pattern) - wildcards, -wildcards


def _day(at: datetime | date | None) -> date:
    if at is None:
        return datetime.now(timezone.utc).date()
    if isinstance(at, datetime):
        return (at.astimezone(timezone.utc) if at.tzinfo else at).date()
    return at


# --------------------------------------------------------------------------------------------------
# genai-prices


def _library_version() -> str:
    return f"genai-prices {_distribution_version('genai-prices')}"


@functools.cache
def _library_table() -> PriceTable:
    return PriceTable(_library_version(), (), use_library=True)


def preload_library() -> None:
    """Import genai-prices' bundled price data now (0.13-0.2 s, once per process) instead of at the first span
    priced; ``load_hour`` runs it on a thread while it waits for the database. Raises nothing."""
    try:
        _genai_providers()
    except Exception:  # the first price lookup imports it again and reports the error there
        pass


@functools.cache
def _genai_providers() -> tuple:
    """The price data bundled in the installed genai-prices (never a fetched or custom snapshot)."""
    from genai_prices.data import providers

    return tuple(providers)


@functools.lru_cache(maxsize=1024)
def _genai_provider(provider: str | None):
    """The genai-prices provider of a span's provider name, or None (no name, or one genai-prices lacks)."""
    name = _canonical(provider)
    if name is None:
        return None
    from genai_prices.data_snapshot import find_provider_by_id

    return find_provider_by_id(list(_genai_providers()), name)


def _library_find(provider: str | None, names: tuple[str, ...], day: date) -> Price | None:
    providers = list(_genai_providers())
    scoped = _genai_provider(provider)
    for scope in (scoped, None) if scoped is not None else (None,):
        for name in names:
            owner = scope
            if owner is None:  # genai-prices' choice from the model name alone (DataSnapshot.find_provider)
                owner = next((p for p in providers if p.model_match is not None and p.model_match.is_match(name)),
                             None)
                if owner is None:
                    continue
            model = owner.find_model(name, all_providers=providers)
            if model is not None:
                return _library_price(owner.id, model, day)
    # No provider's name pattern claims the model (e.g. an embedding model of a span without a provider):
    # the model maker's own price list, if one has it (not a host's: an open model's price depends on who
    # serves it, so it stays unpriced without a provider).
    makers = [p for maker in _MODEL_MAKERS for p in providers if p.id == maker]
    for name in names:
        for owner in makers:
            model = owner.find_model(name, all_providers=providers)
            if model is not None:
                return _library_price(owner.id, model, day)
    return None


# genai-prices provider ids of the model makers, tried first for a model no provider pattern claims.
_MODEL_MAKERS = ("openai", "anthropic", "google", "mistral", "cohere", "deepseek", "x-ai", "meta")


def _library_price(provider_id: str, model, day: date) -> Price | None:
    """The token prices of a genai-prices ModelInfo on ``day`` (USD per token), tiers included."""
    from genai_prices.types import TieredPrices

    model_price, effective = _model_price_on(model, day)
    values = {key: getattr(model_price, key, None) for key in _KEYS}
    if all(value is None for value in values.values()):
        if any(value is not None for value in model_price.__dict__.values()):
            return None  # priced in other units only (audio hours, pages, characters)
        values = dict.fromkeys(_KEYS, 0)  # listed with no price: free
    thresholds = sorted({tier.start for value in values.values() if isinstance(value, TieredPrices)
                         for tier in value.tiers})

    def rates(prompt: int) -> tuple[float, float, float, float]:
        per_token = {}
        for key, value in values.items():
            if isinstance(value, TieredPrices):
                applicable = value.base
                for tier in reversed(value.tiers):
                    if prompt > tier.start:
                        applicable = tier.price
                        break
                value = applicable
            per_token[key] = None if value is None else float(value / _PER_MTOK)  # exact Decimal division
        input_price = per_token["input_mtok"] or 0.0
        cached = per_token["cache_read_mtok"]
        write = per_token["cache_write_mtok"]
        return (input_price, per_token["output_mtok"] or 0.0,
                input_price if cached is None else cached, input_price if write is None else write)

    base = rates(0)
    tiers = tuple(Tier(start, *rates(start + 1)) for start in thresholds)
    return Price(provider_id, model.id, base[0], base[1], base[2], base[3], effective, tiers)


def _model_price_on(model, day: date):
    """(ModelPrice, its start date or None) of a genai-prices ModelInfo on ``day``: the library's own choice
    (``ModelInfo.get_prices``: the last conditional price in force, the first one before any) at 12:00 UTC."""
    model_price = model.get_prices(datetime.combine(day, _PRICING_TIME))
    if isinstance(model.prices, list):
        for conditional in model.prices:
            if conditional.prices is model_price:
                return model_price, getattr(conditional.constraint, "start_date", None)
    return model_price, None


# --------------------------------------------------------------------------------------------------
# CSV


@functools.cache
def _load_with_override(path: Path, mtime_ns: int, size: int) -> PriceTable:
    rows = _load_csv(path, mtime_ns, size)
    digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()[:8]
    return PriceTable(f"{_library_version()}; override {path.name} {digest}", rows.prices, use_library=True)


@functools.cache
def _load_csv(path: Path, mtime_ns: int, size: int) -> PriceTable:
    version = None
    header = None
    prices: list[Price] = []
    seen: set[tuple[str, str, date]] = set()
    with path.open(encoding="utf-8", newline="") as file:
        for lineno, line in enumerate(file, 1):
            where = f"{path}:{lineno}"
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                key, _, value = stripped[1:].partition(":")
                if key.strip().lower() == "version" and version is None:
                    version = value.strip() or None
                continue
            fields = [field.strip() for field in next(csv.reader([line]))]
            if header is None:
                missing = [column for column in COLUMNS if column not in fields]
                if missing:
                    raise PriceTableError(f"{where}: header lacks column(s) {', '.join(missing)}")
                header = fields
                continue
            if len(fields) != len(header):
                raise PriceTableError(f"{where}: {len(fields)} fields, the header has {len(header)}")
            prices.append(_row(dict(zip(header, fields)), where))
            key = (prices[-1].provider, prices[-1].model_pattern, prices[-1].effective_date)
            if key in seen:
                raise PriceTableError(f"{where}: duplicate row for {key[0]} {key[1]} on {key[2]}")
            seen.add(key)
    if header is None:
        raise PriceTableError(f"{path}: no header line")
    if version is None:
        raise PriceTableError(f"{path}: no '# version: ...' line")
    return PriceTable(version, prices)


def _row(row: dict[str, str], where: str) -> Price:
    provider, pattern = row["provider"].lower(), row["model_pattern"].lower()
    if not provider or not pattern:
        raise PriceTableError(f"{where}: provider and model_pattern are required")
    input_price = _per_token(row, "input_per_mtok", where)
    output_price = _per_token(row, "output_per_mtok", where)
    cached = _per_token(row, "cached_input_per_mtok", where, input_price)
    write = _per_token(row, "cache_write_per_mtok", where, input_price)
    try:
        effective = date.fromisoformat(row["effective_date"])
    except ValueError:
        raise PriceTableError(f"{where}: effective_date {row['effective_date']!r} is not an ISO date") from None
    return Price(provider, pattern, input_price, output_price, cached, write, effective)


def _per_token(row: dict[str, str], column: str, where: str, default: float | None = None) -> float:
    text = row[column]
    if not text and default is not None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise PriceTableError(f"{where}: {column} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise PriceTableError(f"{where}: {column} {text!r} must be a non-negative number")
    return value / _PER_MTOK
