"""Decode OTLP/JSON export requests into plain column lists, one list per frame column.

Source: opentelemetry-proto ``docs/specification.md``, "JSON Protobuf Encoding" (OTLP 1.x), and the
protos ``trace/v1/trace.proto``, ``logs/v1/logs.proto``, ``metrics/v1/metrics.proto``:

* field names are lowerCamelCase; unknown fields are ignored;
* ``traceId`` / ``spanId`` are hex strings, case-insensitive (the official examples use upper case);
* 64-bit integers (``*UnixNano``, ``intValue``, ``count``, ``bucketCounts``, ``asInt``) may be JSON strings
  or numbers; doubles may be numbers or the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
* enums (span kind, status code, severity number, aggregation temporality) are integers;
* ``AnyValue`` is one of stringValue, boolValue, intValue, doubleValue, bytesValue (base64), arrayValue
  ``{values: [AnyValue]}``, kvlistValue ``{values: [KeyValue]}`` — nested to any depth.

Attributes (lists of KeyValue) become one JSON object text ``{"key": value}`` with AnyValues mapped to
JSON: string, bool, int, double as themselves, bytes as their base64 string, arrays as arrays, kvlists
as objects, an empty AnyValue as null. Ids are kept as bytes (trace ids, 16 bytes) and signed 64-bit
integers (span ids, the 8 bytes read big-endian); timestamps stay integer nanoseconds since the Unix
epoch, 0 meaning unset. Records without a natural key get a deterministic 16-byte key: the MD5 of
their identity fields joined by ``\\x1f`` (see :func:`.values.record_key`), the same in every process and
version because it depends only on the input text.

One module per signal (``traces``, ``metrics``, ``logs``) and one for the shared scalar values
(``values``); :func:`decode` takes one file's bytes. The polars conversion of the columns is in
:mod:`observatory_etl.ingest.frames`.
"""

from __future__ import annotations

from typing import Callable

import orjson

from ..columns import Columns, DecodeError
from .logs import decode_logs
from .metrics import decode_metrics
from .traces import decode_traces

_TOP_KEY = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}
_DECODERS: dict[str, Callable[[list, Columns], int]] = {
    "traces": decode_traces,
    "metrics": decode_metrics,
    "logs": decode_logs,
}


def parse_requests(data: bytes) -> list[dict]:
    """Parse a file's bytes into export requests: one JSON document, or JSON Lines (one per line).

    Raises:
        DecodeError: neither form parses; the message gives the line number for JSON Lines.
    """
    if not data.strip():
        return []
    try:
        return [orjson.loads(data)]
    except orjson.JSONDecodeError as whole_error:
        requests = []
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                requests.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                if number == 1:
                    raise DecodeError(f"not JSON: {whole_error}") from None
                raise DecodeError(f"line {number}: not JSON: {exc}") from None
        return requests


def decode(signal: str, data: bytes, columns: Columns) -> int:
    """Decode one file's (decompressed) OTLP/JSON bytes of ``signal`` into ``columns``.

    Returns the number of records added (spans + events + links, data points, or log records).
    All or nothing: when it raises, ``columns`` holds exactly what it held before the call.

    Raises:
        DecodeError: malformed JSON or OTLP; the message locates the request and record.
    """
    decode = _DECODERS[signal]
    mark = columns.mark()
    added = 0
    try:
        for number, request in enumerate(parse_requests(data), start=1):
            if type(request) is not dict:
                raise DecodeError(f"request {number}: expected a JSON object, got {type(request).__name__}")
            top = _TOP_KEY[signal]
            if top not in request:
                others = [s for s, key in _TOP_KEY.items() if key in request]
                if others:
                    raise DecodeError(f"request {number}: holds {others[0]} ({_TOP_KEY[others[0]]}), not {signal}")
            try:
                added += decode(request.get(top) or (), columns)
            except DecodeError as exc:
                raise DecodeError(f"request {number}: {exc}") from None
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise DecodeError(f"request {number}: malformed OTLP ({type(exc).__name__}: {exc})") from None
    except DecodeError:
        columns.truncate(mark)  # leave ``columns`` as it was
        raise
    columns.rows += added
    return added
