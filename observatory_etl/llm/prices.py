"""The packaged, versioned LLM price table and the cost of a span's tokens.

The table is ``observatory_etl/llm/model_prices.csv``: prices in USD per 1M tokens (the unit providers
publish), taken from the providers' public price pages (OpenAI, Anthropic, Google Gemini API, Mistral) as
of the date on its ``# version:`` line. Columns::

    provider,model_pattern,input_per_mtok,output_per_mtok,cached_input_per_mtok,cache_write_per_mtok,effective_date

``model_pattern`` is an fnmatch glob matched case-insensitively against the model name; empty cache prices
mean the input price; a row prices spans starting on or after its ``effective_date``, until a later row for
the same provider and pattern. In memory (:class:`Price`) prices are USD per token; costs (:class:`Cost`)
are USD, unrounded.

Costs follow the token convention of docs/llm-mapping.md: ``input_tokens`` includes the cache reads and
cache writes, ``output_tokens`` includes the reasoning tokens.
"""

from __future__ import annotations

import csv
import fnmatch
import functools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent / "model_prices.csv"
COLUMNS = (
    "provider", "model_pattern", "input_per_mtok", "output_per_mtok", "cached_input_per_mtok",
    "cache_write_per_mtok", "effective_date",
)
_PER_MTOK = 1_000_000
_CACHE_LIMIT = 100_000  # distinct (provider, model, day) keys kept by PriceTable.find


class PriceTableError(ValueError):
    """A malformed price table; the message names the file and line."""


@dataclass(frozen=True)
class Price:
    """One row of the table. Prices are USD per token (the CSV's USD per 1M tokens / 1,000,000)."""

    provider: str
    model_pattern: str
    input: float  # uncached input tokens
    output: float  # output tokens, reasoning included
    cached_input: float  # input tokens read from the prompt cache
    cache_write: float  # input tokens written to the prompt cache
    effective_date: date  # applies to spans starting on or after this date (UTC)


@dataclass(frozen=True)
class Cost:
    """The cost of one call in USD (unrounded): input (cache reads and writes included), output, total."""

    input: float
    output: float
    total: float


class PriceTable:
    """Prices by provider, model glob and effective date; :meth:`find` and :meth:`cost` look them up."""

    def __init__(self, version: str, prices: list[Price] | tuple[Price, ...]) -> None:
        self.version = version
        self.prices = tuple(prices)
        groups: dict[tuple[str, str], list[Price]] = {}
        for price in self.prices:
            groups.setdefault((price.provider, price.model_pattern), []).append(price)
        # (provider, matcher, specificity, rows newest first), most specific pattern first (stable: file order).
        self._patterns = sorted(
            (
                (provider, re.compile(fnmatch.translate(pattern)).match, _specificity(pattern),
                 sorted(rows, key=lambda p: p.effective_date, reverse=True))
                for (provider, pattern), rows in groups.items()
            ),
            key=lambda entry: entry[2],
            reverse=True,
        )
        self._providers = frozenset(price.provider for price in self.prices)
        self._cache: dict[tuple, Price | None] = {}

    @classmethod
    def load(cls, path: Path | str | None = None) -> PriceTable:
        """The table in ``path`` (default: the packaged ``data/model_prices.csv``), parsed once per file
        version. Raises :class:`PriceTableError` naming the file and line of a malformed row."""
        path = Path(path).resolve() if path is not None else DEFAULT_PATH
        stat = path.stat()
        return _load(path, stat.st_mtime_ns, stat.st_size)

    def find(self, provider: str | None, model: str | None, at: datetime | date | None = None) -> Price | None:
        """The price of ``model`` at ``at`` (a datetime, converted to its UTC date; a date; None = today).

        Case-insensitive. Rows of ``provider`` are preferred; with no provider, an unknown one, or no
        row of that provider matching, any provider's rows match. Among matching patterns the most
        specific wins (most literal characters, then fewest wildcards), and of its rows the latest
        ``effective_date`` on or before the date. A model like ``openai/gpt-4o`` or
        ``models/gemini-2.5-pro`` is also tried as the part after the last ``/``. None when nothing
        matches or the matching pattern has no row effective yet."""
        day = _day(at)
        key = (provider, model, day)
        try:
            return self._cache[key]
        except KeyError:
            pass
        price = None
        if model:
            name = model.strip().lower()
            provider_name = provider.strip().lower() if provider else None
            for candidate in (name, name.rpartition("/")[2]) if "/" in name else (name,):
                price = self._find(provider_name, candidate, day)
                if price is not None:
                    break
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = price
        return price

    def _find(self, provider: str | None, model: str, day: date) -> Price | None:
        matching = [entry for entry in self._patterns if entry[1](model)]
        if provider in self._providers:
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
        """The USD cost of one call, or None without a price or without input and output token counts.

        ``input_tokens`` includes the cache reads and writes (docs/llm-mapping.md), so input cost =
        (input − cache_read − cache_creation) × input price + cache_read × cached-input price +
        cache_creation × cache-write price; output cost = output × output price (reasoning tokens are
        inside ``output_tokens``). A missing count is 0; the uncached part is clamped at 0 when the cache
        counts exceed ``input_tokens`` (bad data), so a cost is never negative."""
        if input_tokens is None and output_tokens is None:
            return None
        price = self.find(provider, model, at)
        if price is None:
            return None
        cache_read = max(cache_read_input_tokens or 0, 0)
        cache_creation = max(cache_creation_input_tokens or 0, 0)
        uncached = max((input_tokens or 0) - cache_read - cache_creation, 0)
        input_cost = uncached * price.input + cache_read * price.cached_input + cache_creation * price.cache_write
        output_cost = max(output_tokens or 0, 0) * price.output
        return Cost(input=input_cost, output=output_cost, total=input_cost + output_cost)


def _specificity(pattern: str) -> tuple[int, int]:
    wildcards = pattern.count("*") + pattern.count("?")
    return len(pattern) - wildcards, -wildcards


def _day(at: datetime | date | None) -> date:
    if at is None:
        return datetime.now(timezone.utc).date()
    if isinstance(at, datetime):
        return (at.astimezone(timezone.utc) if at.tzinfo else at).date()
    return at


@functools.cache
def _load(path: Path, mtime_ns: int, size: int) -> PriceTable:
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
