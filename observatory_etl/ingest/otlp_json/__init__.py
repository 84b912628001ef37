"""Decode OTLP/JSON export requests into plain column lists, one list per frame column.

Source: opentelemetry-proto ``docs/specification.md``, "JSON Protobuf Encoding" (OTLP 1.x), and the
protos ``trace/v1/trace.proto``, ``logs/v1/logs.proto``, ``metrics/v1/metrics.proto``:

* field names are lowerCamelCase, or the proto names (``resource_spans``, ``trace_id``) as the Collector also
  reads them; unknown fields are ignored;
* ``traceId`` / ``spanId`` are hex strings, case-insensitive (the official examples use upper case);
* 64-bit integers (``*UnixNano``, ``intValue``, ``count``, ``bucketCounts``, ``asInt``) may be JSON strings
  or numbers; doubles may be numbers or the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
* enums (span kind, status code, severity number, aggregation temporality) are integers, or their names
  (``SPAN_KIND_CLIENT``) as protobuf's JSON printer writes them and the Collector's unmarshaler reads them;
* ``fixed64`` times and counts up to 2^64 - 1 are valid; values from 2^63 cannot be stored (bigint,
  timestamptz) and reject their record with that reason;
* ``AnyValue`` is one of stringValue, boolValue, intValue, doubleValue, bytesValue (base64), arrayValue
  ``{values: [AnyValue]}``, kvlistValue ``{values: [KeyValue]}`` — nested up to 64 levels (deeper values
  reject their record; beyond about 300 levels the JSON parser itself refuses the file).

Bad input never stops a file: a malformed span (with its events and links), log record, data point or
metric is rejected into ``Columns.rejects`` with its path and reason; a JSON Lines line that is not JSON
likewise. Only a file that is not OTLP/JSON as a whole raises :class:`DecodeError`.

Attributes (lists of KeyValue) become one JSON object text ``{"key": value}`` with AnyValues mapped to
JSON: string, bool, int, double as themselves (NaN and ±Infinity, which jsonb cannot hold, as the strings
``"NaN"``, ``"Infinity"``, ``"-Infinity"``), bytes as their base64 string, arrays as arrays, kvlists
as objects, an empty AnyValue as null. Ids are kept as bytes (trace ids, 16 bytes) and signed 64-bit
integers (span ids, the 8 bytes read big-endian); timestamps stay integer nanoseconds since the Unix
epoch, 0 meaning unset. Records without a natural key get a deterministic 16-byte key: the MD5 of
their identity fields joined by ``\\x1f`` (see :func:`.values.record_key`), the same in every process and
version because it depends only on the input text.

One module per signal (``traces``, ``metrics``, ``logs``) and one for the shared scalar values
(``values``); :func:`decode` takes one file's bytes. Files of traces and logs in the canonical form take a
fast path first (``typed``: msgspec Structs, the same rows), which hands any file it cannot decode whole
back to these general decoders. The polars conversion of the columns is in
:mod:`observatory_etl.ingest.frames`.
"""

from __future__ import annotations

from typing import Callable

import orjson

from ..columns import Columns, DecodeError
from .logs import decode_logs
from .metrics import decode_metrics
from .traces import decode_traces
from .typed import decode as decode_typed
from .values import SNAKE_CASE_MARKERS, camelize

_TOP_KEY = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}
_DECODERS: dict[str, Callable[[list, Columns, str], int]] = {
    "traces": decode_traces,
    "metrics": decode_metrics,
    "logs": decode_logs,
}


def parse_requests(data: bytes, columns: Columns | None = None) -> list[tuple[str, object]]:
    """Parse a file's bytes into export requests: one JSON document, or JSON Lines (one per line).

    Returns ``(where, request)`` pairs: ``("request 1", …)`` for a single document, ``("line N", …)`` for
    JSON Lines. A line that is not JSON is rejected into ``columns.rejects`` (when given) and skipped.

    Raises:
        DecodeError: the data is neither one JSON document nor JSON Lines with at least one JSON line (or,
            without ``columns``, any line is not JSON); the message gives the line number.
    """
    if not data.strip():
        return []
    try:
        return [("request 1", orjson.loads(data))]
    except orjson.JSONDecodeError as whole_error:
        requests, bad = [], []
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                requests.append((f"line {number}", orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                if columns is None:
                    raise DecodeError(f"line {number}: not JSON: {exc}" if number > 1 else f"not JSON: {whole_error}") from None
                bad.append((f"line {number}", f"not JSON: {exc}"))
        if not requests:
            raise DecodeError(f"not JSON: {whole_error}")
        for where, reason in bad:
            columns.reject(where, reason)
        return requests


def decode(signal: str, data: bytes, columns: Columns, *, typed: bool = True) -> int:
    """Decode one file's (decompressed) OTLP/JSON bytes of ``signal`` into ``columns``.

    Returns the number of records added (spans + events + links, data points, or log records). Records
    that cannot be decoded are rejected into ``columns.rejects`` with their path and reason, and the rest
    of the file decodes. Accepts what the Collector's OTLP/JSON unmarshaler accepts: lowerCamelCase or proto
    field names (``resource_spans``), enums as integers or names (``SPAN_KIND_CLIENT``), 64-bit integers as
    numbers or strings. ``typed=False`` skips the fast path (:mod:`.typed`) and decodes with the general
    decoders alone (the tests compare the two).

    Raises:
        DecodeError: the file as a whole is not OTLP/JSON of ``signal`` (not JSON, a request of another
            signal, or a non-empty file holding no record at all); ``columns`` is then left as it was.
    """
    if typed:  # the canonical form: typed msgspec decode when the whole file is valid (.typed)
        added = decode_typed(signal, data, columns)
        if added is not None:
            return added
    snake_case = any(marker in data for marker in SNAKE_CASE_MARKERS)
    decode_signal = _DECODERS[signal]
    top = _TOP_KEY[signal]
    mark, rejected = columns.mark(), len(columns.rejects)
    added = 0
    try:
        requests = parse_requests(data, columns)
        for where, request in requests:
            if snake_case:
                request = camelize(request)
            if type(request) is not dict:
                columns.reject(where, f"expected an export request (a JSON object), got {type(request).__name__}", request)
                continue
            if top not in request:
                others = [s for s, key in _TOP_KEY.items() if key in request]
                if others:
                    raise DecodeError(f"{where}: holds {others[0]} ({_TOP_KEY[others[0]]}), not {signal}")
            resources = request.get(top)
            if resources is None:
                continue
            if type(resources) is not list:
                columns.reject(where, f"{top} must be a list, got {type(resources).__name__}", request)
                continue
            added += decode_signal(resources, columns, where)
        if requests and not added and len(columns.rejects) == rejected:
            keys = sorted({key for _, r in requests if type(r) is dict for key in r})
            raise DecodeError(f"no OTLP records: top-level keys {keys or 'none'} (expected {top} holding records)")
    except DecodeError:
        columns.truncate(mark)  # leave ``columns`` as it was
        del columns.rejects[rejected:]
        raise
    columns.rows += added
    return added
