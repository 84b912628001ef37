"""Decode OTLP protobuf (``.binpb``) export requests into the same column lists as the OTLP/JSON decoder.

Source: opentelemetry-proto ``collector/{trace,metrics,logs}/v1/*_service.proto`` (the
``Export{Trace,Metrics,Logs}ServiceRequest`` messages) with ``trace/v1/trace.proto``, ``logs/v1/logs.proto``,
``metrics/v1/metrics.proto`` and ``common/v1/common.proto``, parsed by the official generated classes of the
``opentelemetry-proto`` package (protobuf's upb backend).

File forms (after ``landing.read_file`` has undone gzip or zstd compression of the whole file):

* one serialized ``Export…ServiceRequest``, as the Collector's ``awss3exporter`` writes with the
  ``otlp_proto`` marshaler;
* a length-delimited stream, as the ``fileexporter`` writes with ``format: proto``: each message prefixed
  by its size as a 4-byte big-endian unsigned integer. A frame whose payload starts with the gzip or zstd
  magic bytes is decompressed first (the fileexporter's ``compression: zstd`` compresses each message).

The form is decided from the bytes (:func:`split_messages`): the data is a stream when reading it as
``size, payload, size, payload, …`` from the first byte lands exactly on its end, and one message
otherwise. A serialized request starts with the tag byte ``0x0a`` (field 1, length-delimited), which as a
size's first byte would claim a frame of at least 160 MiB, so the two forms cannot be mistaken for each
other below that size; should a stream's frame still not parse, the whole data is tried as one message
before the file is given up.

Rows, values and keys are those of :mod:`observatory_etl.ingest.otlp_json` for the same request written as
OTLP/JSON (e.g. by protobuf's JSON printer or the Collector's OTLP/JSON marshaler), so a record gets the
same row and the same ``log_id`` / ``metric_id`` / ``point_id`` whichever encoding it came in: trace ids
as 16 bytes, span ids as signed 64-bit integers (the 8 bytes read big-endian), times as integer ns with the
same range check (a ``fixed64`` of 2^63 or more rejects its record), enums as integers, attributes and
bodies as JSON object text with AnyValue mapped as :func:`.otlp_json.values.any_value` maps it (bytes as
standard base64 text, non-finite doubles as ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, nesting up to 64
levels), the canonical LLM columns from :class:`observatory_etl.llm.mapping.LlmSources`. proto3 fields
without presence that hold their default are what JSON leaves out, and decode as the JSON decoder decodes
an absent field: an ``aggregation_temporality`` of 0 (unspecified) is NULL, and so are a summary point's
``sum`` and an exponential histogram point's ``zero_threshold`` of 0.0.

Bad input: a span (with its events and links), log record, data point, metric or resource that cannot be
converted (an id of the wrong length, a missing or all-zero trace or span id, a time or count of 2^63 or
more, flags beyond int32) is rejected into ``Columns.rejects`` at its path (``message 1 / resource 0 /
scope 0 / span 5``) with its reason and the record as OTLP/JSON text (hex ids), and the rest of the file
decodes. A file that does not parse as the signal's request (protobuf ``DecodeError``, a framing that does
not parse, another signal's request, no records at all) raises
:class:`~observatory_etl.ingest.columns.DecodeError`, which ``decode.decode_file`` turns into a rejected
file. protobuf's parser decides two things the JSON decoder decides per record: a ``string`` field that is
not valid UTF-8, and messages nested more than 100 deep (an attribute's AnyValue nested beyond 47 arrays
or kvlists; the JSON decoder rejects the record beyond 64), make the whole message undecodable.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import DecodeError as ProtobufDecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from ..columns import Columns, DecodeError
from ..landing import LandingError, decompress
from .logs import decode_logs
from .metrics import decode_metrics
from .traces import decode_traces

REQUEST_TYPES = {
    "traces": ExportTraceServiceRequest,
    "metrics": ExportMetricsServiceRequest,
    "logs": ExportLogsServiceRequest,
}
_TOP_FIELD = {"traces": "resource_spans", "metrics": "resource_metrics", "logs": "resource_logs"}
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd (see landing.decompress)


# ---------------------------------------------------------------------------------------------------
# File forms


def split_messages(data: bytes) -> list[bytes]:
    """Split a file's (decompressed) bytes into serialized messages: a length-delimited stream when its
    4-byte big-endian size prefixes tile ``data`` exactly, else ``data`` as one message.

    Empty data holds no message. A stream's frames are returned without their prefixes, each decompressed
    when it starts with the gzip or zstd magic bytes.

    Raises:
        DecodeError: a frame starts like gzip or zstd but is corrupt.
    """
    if not data:
        return []
    frames = _frames(data)
    if frames is None:
        return [data]
    out = []
    for number, frame in enumerate(frames, start=1):
        if frame[:2] == _COMPRESSED_MAGIC[0] or frame[:4] == _COMPRESSED_MAGIC[1]:
            try:
                frame = decompress(frame, f"message {number}")
            except LandingError as exc:
                raise DecodeError(f"message {number}: {exc.reason}") from None
        out.append(frame)
    return out


def _frames(data: bytes) -> list[bytes] | None:
    """The payloads of ``data`` read as ``(uint32 big-endian size, payload)*``, or None unless the sizes land
    exactly on the end of ``data``."""
    end = len(data)
    offsets = []
    offset = 0
    while offset < end:
        if offset + 4 > end:
            return None
        size = int.from_bytes(data[offset : offset + 4], "big")
        offsets.append((offset + 4, offset + 4 + size))
        offset += 4 + size
    if offset != end:
        return None
    view = memoryview(data)
    return [view[start:stop].tobytes() for start, stop in offsets]


def parse_requests(signal: str, data: bytes) -> list[tuple[str, Any]]:
    """Parse a file's (decompressed) bytes into the export requests of ``signal`` (``traces``, ``metrics`` or
    ``logs``), one or a length-delimited stream (see :func:`split_messages`).

    Returns ``(where, request)`` pairs, ``where`` being ``message 1``, ``message 2``, … (the request classes
    of opentelemetry-proto ``collector/*/v1/*_service.proto``).

    Raises:
        DecodeError: ``signal`` has no OTLP protobuf form, or a message does not parse as the signal's request
            (the message names it, and the signal whose request it is when another one parses).
    """
    request_type = REQUEST_TYPES.get(signal)
    if request_type is None:
        raise DecodeError(f"{signal} files have no OTLP protobuf form (expected one of {', '.join(REQUEST_TYPES)})")
    messages = split_messages(data)
    try:
        return _parse_all(request_type, messages)
    except DecodeError as error:
        if len(messages) > 1:  # a stream that does not parse may still be one message whose size prefix tiled
            try:
                return _parse_all(request_type, [data])
            except DecodeError:
                pass
        other = _other_signal(signal, messages)
        if other:
            raise DecodeError(f"holds {other} ({REQUEST_TYPES[other].__name__}), not {signal}") from None
        raise error from None


def _parse_all(request_type, messages: list[bytes]) -> list[tuple[str, Any]]:
    requests = []
    for number, message in enumerate(messages, start=1):
        request = request_type()
        try:
            request.ParseFromString(message)
        except ProtobufDecodeError as exc:
            form = f"message {number} of {len(messages)} (length-delimited)" if len(messages) > 1 else "message 1"
            raise DecodeError(f"{form}: not a protobuf {request_type.__name__} ({exc})") from None
        requests.append((f"message {number}", request))
    return requests


def _other_signal(signal: str, messages: list[bytes]) -> str | None:
    """The other signal whose request every message parses as and holds records of, if any."""
    for other, request_type in REQUEST_TYPES.items():
        if other == signal or not messages:
            continue
        try:
            requests = _parse_all(request_type, messages)
        except DecodeError:
            continue
        if any(len(getattr(request, _TOP_FIELD[other])) for _, request in requests):
            return other
    return None


def decode(signal: str, data: bytes, columns: Columns) -> int:
    """Decode one file's (decompressed) OTLP protobuf bytes of ``signal`` into ``columns``.

    ``signal`` is ``traces``, ``metrics`` or ``logs``; ``data`` one serialized ``Export…ServiceRequest`` or
    a length-delimited stream of them (see the module docstring). The columns are exactly those the OTLP/JSON
    decoder gives for the same requests (:data:`~observatory_etl.ingest.columns.TABLE_COLUMNS`, times in ns).

    Returns the number of records added (spans + events + links, data points, or log records). A record that
    cannot be converted is rejected into ``columns.rejects`` with its path (``message 1 / resource 0 / scope 0
    / span 5``) and reason; the rest of the file decodes.

    Raises:
        DecodeError: the file as a whole is not OTLP protobuf of ``signal`` (a message does not parse, another
            signal's request, a corrupt compressed frame, or a non-empty file holding no record at all);
            ``columns`` is then left as it was.
    """
    mark, rejected = columns.mark(), len(columns.rejects)
    added = 0
    try:
        requests = parse_requests(signal, data)
        decode_signal = _DECODERS[signal]
        for where, request in requests:
            added += decode_signal(request, columns, where)
        if requests and not added and len(columns.rejects) == rejected:
            name = REQUEST_TYPES[signal].__name__
            raise DecodeError(f"no OTLP records: {len(requests)} {name} holding no {signal} records")
    except DecodeError:
        columns.truncate(mark)  # leave ``columns`` as it was
        del columns.rejects[rejected:]
        raise
    columns.rows += added
    return added


_DECODERS = {"traces": decode_traces, "metrics": decode_metrics, "logs": decode_logs}
