"""Decoded rows as plain Python column lists, one list per column of each record table.

The decoders (:mod:`observatory_etl.ingest.otlp_json`, :mod:`observatory_etl.ingest.llm_spans`) append to
a :class:`Columns`; :mod:`observatory_etl.ingest.frames` turns it into polars frames. The column order of
each table is :func:`observatory_etl.tables.raw_schema` (timestamps as integer ns, ``*_unix_nano``).
"""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any, Callable, NamedTuple, Sequence

import orjson

from ..llm.mapping import LlmSources
from ..llm.prices import PriceTable
from ..tables import LLM_COLUMNS, RECORD_TABLES, raw_schema

# Decoded column names per record table, in frame order (see observatory_etl.tables.raw_schema).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {table: tuple(raw_schema(table)) for table in RECORD_TABLES}
# The columns the decoders fill, per table: all but the canonical LLM columns of trace_spans, which
# Columns.llm computes per chunk (observatory_etl.llm.mapping.LlmSources).
DECODED_COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(c for c in names if table != "trace_spans" or c not in LLM_COLUMNS)
    for table, names in TABLE_COLUMNS.items()
}


class DecodeError(ValueError):
    """Input that cannot be decoded (OTLP/JSON or LLM-span lines); the message says where (request, record) and why."""


class Reject(NamedTuple):
    """One record that could not be decoded, kept out of the tables and quarantined in ``rejected_records``.

    Attributes:
        record_path: where it is in its file, e.g. ``request 1 / resource 0 / scope 0 / span 5`` or ``line 7``.
        reason: why it was rejected.
        record: the record's raw JSON text when it parsed, else None.
    """

    record_path: str
    reason: str
    record: str | None


# Exceptions a malformed record raises while it is decoded (a value of the wrong JSON type, a missing key).
RECORD_ERRORS = (DecodeError, KeyError, TypeError, AttributeError, ValueError, OverflowError, RecursionError)


class Columns:
    """Column lists of the decoded rows, per table: ``columns.tables[table][column] -> list`` (the columns of
    :data:`DECODED_COLUMNS`), the LLM sources of the GenAI spans among them (:attr:`llm`, which gives the
    canonical LLM columns of ``trace_spans`` when frames are built), and the records rejected on the way
    (:attr:`rejects`).

    ``rows`` counts the decoded records (spans + events + links + data points + logs) so callers can
    cut the input into bounded chunks. ``prices`` prices LLM spans that carry no cost (the packaged
    table unless given).
    """

    def __init__(self, prices: PriceTable | None = None) -> None:
        self.tables: dict[str, dict[str, list]] = {
            table: {name: [] for name in names} for table, names in DECODED_COLUMNS.items()
        }
        self.llm = LlmSources()
        self.rows = 0
        self.prices = prices or PriceTable.load()
        self.rejects: list[Reject] = []
        # metric_id by metric identity (resource, scope, name, type, unit): each request of a metrics file
        # repeats its metrics, and record_key gives the same id every time, so it is hashed once per Columns
        self.metric_ids: dict[tuple, bytes] = {}
        # Spilling (see maybe_spill): while one large file decodes, its rows become frames every spill_rows rows.
        self.spill_rows = 0  # 0: never
        self.spill: Callable[[Columns], None] | None = None  # builds the frames into spilled, then clear()s
        self.spilled: dict[str, list] = {}  # frames built so far: per table, its frames in order
        self.spilled_nul = 0  # U+0000 values replaced in them

    def reject(self, record_path: str, reason: str | BaseException, record: Any = None) -> None:
        """Quarantine one record: ``reason`` (a message or the exception that rejected it) at ``record_path``,
        with ``record`` (its parsed JSON value, or None) kept as JSON text."""
        if isinstance(reason, BaseException):
            reason = str(reason) if isinstance(reason, DecodeError) else f"malformed ({type(reason).__name__}: {reason})"
        self.rejects.append(Reject(record_path, reason, None if record is None else _json_text(record)))

    def __len__(self) -> int:
        return self.rows

    def mark(self) -> dict[str, int]:
        """The current row count of every table, for :meth:`truncate`."""
        return {table: len(cols[DECODED_COLUMNS[table][0]]) for table, cols in self.tables.items()}

    def truncate(self, mark: dict[str, int]) -> None:
        """Drop every row added since ``mark`` (including a half-appended record), and any frames spilled
        (spilling starts on empty columns, so they were all built after ``mark``)."""
        for table, cols in self.tables.items():
            for values in cols.values():
                del values[mark[table] :]
        self.llm.truncate(mark["trace_spans"])
        self.spilled.clear()
        self.spilled_nul = 0

    def maybe_spill(self) -> None:
        """When :attr:`spill_rows` is set and the column lists hold that many rows, call :attr:`spill`, which
        builds their frames into :attr:`spilled` and empties the lists (:meth:`clear`): a large file's rows are
        never all alive as Python objects (a file of 46k records takes ~70 MB as lists, ~40 MB as frames). The
        fast decoder calls it between records; set it up only on columns that are empty when the file starts
        (see :meth:`truncate`; :func:`observatory_etl.ingest.decode.decode_file` does)."""
        if self.spill_rows and sum(len(next(iter(cols.values()))) for cols in self.tables.values()) >= self.spill_rows:
            self.spill(self)

    def clear(self) -> None:
        """Empty every column list and the LLM sources (the lists stay the same objects)."""
        for cols in self.tables.values():
            for values in cols.values():
                values.clear()
        self.llm.truncate(0)


def append_rows(lists: list[list], rows: Sequence[tuple]) -> None:
    """Append each row (a tuple in the order of ``lists``, one list per column of a table) to the column lists.

    Many rows at once go column by column (``extend`` over ``itemgetter``, in C): about 0.5 µs a row of 16
    columns instead of 1.5 µs appending value by value."""
    if len(rows) < 8:
        for row in rows:
            for values, value in zip(lists, row):
                values.append(value)
        return
    for index, values in enumerate(lists):
        values.extend(map(itemgetter(index), rows))


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits, which orjson does not write
        return json.dumps(value, default=str)
