"""Decoded rows as plain Python column lists, one list per column of each record table.

The decoders (:mod:`observatory_etl.ingest.otlp_json`, :mod:`observatory_etl.ingest.llm_spans`) append to
a :class:`Columns`; :mod:`observatory_etl.ingest.frames` turns it into polars frames. The column order of
each table is :func:`observatory_etl.tables.raw_schema` (timestamps as integer ns, ``*_unix_nano``).
"""

from __future__ import annotations

from ..llm.prices import PriceTable
from ..tables import RECORD_TABLES, raw_schema

# Decoded column names per record table, in frame order (see observatory_etl.tables.raw_schema).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {table: tuple(raw_schema(table)) for table in RECORD_TABLES}


class DecodeError(ValueError):
    """Input that cannot be decoded (OTLP/JSON or LLM-span lines); the message says where (request, record) and why."""


class Columns:
    """Column lists of the decoded rows, per table: ``columns.tables[table][column] -> list``.

    ``rows`` counts the decoded records (spans + events + links + data points + logs) so callers can
    cut the input into bounded chunks. ``prices`` prices LLM spans that carry no cost (the packaged
    table unless given).
    """

    def __init__(self, prices: PriceTable | None = None) -> None:
        self.tables: dict[str, dict[str, list]] = {
            table: {name: [] for name in names} for table, names in TABLE_COLUMNS.items()
        }
        self.rows = 0
        self.prices = prices or PriceTable.load()

    def __len__(self) -> int:
        return self.rows

    def mark(self) -> dict[str, int]:
        """The current row count of every table, for :meth:`truncate`."""
        return {table: len(cols[TABLE_COLUMNS[table][0]]) for table, cols in self.tables.items()}

    def truncate(self, mark: dict[str, int]) -> None:
        """Drop every row added since ``mark`` (including a half-appended record)."""
        for table, cols in self.tables.items():
            for values in cols.values():
                del values[mark[table] :]
