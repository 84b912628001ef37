"""Writing the landing zone: :func:`write_landing`, one hour at a time, compressed and uploaded."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import obstore
import orjson
import zstandard

from ..ingest.gc_pause import gc_paused
from ..ingest.landing import open_store
from .catalog import (
    _FIRST_RESOURCE,
    _RESOURCES,
    _SERVICES,
    NATIVE_SERVICE,
    OPENINFERENCE,
    OPENLLMETRY,
    OTEL_GENAI,
    OTEL_GENAI_V126,
    _pick_resource,
)
from .conversations import _Conversations, _session_id
from .encoding import NS_PER_MS, NS_PER_S, NS_PER_US, _s
from .export_requests import _logs_request, _Slot, _traces_request
from .llm_spans import _NATIVE_MAX_NS, _NativeTrace, native_trace_count
from .metrics import _metrics_request
from .openinference import _OpenInferenceBuilder
from .openllmetry import _TraceloopBuilder
from .otel_genai import _OtelBuilder
from .otel_genai_v126 import _V126Builder
from .rng import _Rng
from .trace import _TraceBuilder

_EXTENSIONS = {"gzip": ".json.gz", "zstd": ".json.zst", "none": ".json"}
_NATIVE_EXTENSIONS = {"gzip": ".jsonl.gz", "zstd": ".jsonl.zst", "none": ".jsonl"}


@dataclass(frozen=True)
class SynthStats:
    """What :func:`write_landing` wrote; every count is exact (it equals what the files contain).

    Attributes:
        hours: hours generated.
        files: objects written (3 OTLP files per upload slot, plus one native file per slot that has
            native traces).
        traces: distinct traces, OTLP and native.
        spans: spans, OTLP and native (= ``trace_spans`` rows once loaded).
        span_events: span events, OTLP and native (= ``trace_events`` rows once loaded).
        logs: log records.
        metric_data_points: histogram, sum and gauge data points.
        bytes_written: bytes stored (after compression).
        native_traces: traces of the native ``llm_spans`` files (included in ``traces``).
        native_spans: lines of the native ``llm_spans`` files (included in ``spans``).
    """

    hours: int = 0
    files: int = 0
    traces: int = 0
    spans: int = 0
    span_events: int = 0
    logs: int = 0
    metric_data_points: int = 0
    bytes_written: int = 0
    native_traces: int = 0
    native_spans: int = 0

    def __add__(self, other: SynthStats) -> SynthStats:
        return SynthStats(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)  # type: ignore[arg-type]
        )


#: The trace builder of each OTLP dialect.
_BUILDERS: dict[str, type[_TraceBuilder]] = {
    OTEL_GENAI: _OtelBuilder,
    OTEL_GENAI_V126: _V126Builder,
    OPENLLMETRY: _TraceloopBuilder,
    OPENINFERENCE: _OpenInferenceBuilder,
}


def _compressor(compression: str) -> Callable[[bytes], bytes]:
    """The byte-reproducible compression function for ``compression``."""
    if compression == "gzip":
        return lambda data: gzip.compress(data, compresslevel=6, mtime=0)
    if compression == "zstd":  # a compressor per call: ZstdCompressor is not thread-safe
        return lambda data: zstandard.ZstdCompressor(level=3).compress(data)
    return lambda data: data


def _to_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(timezone.utc)


def write_landing(landing_url: str, start: datetime, end: datetime, *, traces_per_hour: int = 200,
                  files_per_hour: int = 4, seed: int = 0, compression: str = "gzip",
                  progress: Callable[[str], None] | None = None) -> SynthStats:
    """Write synthetic LLM telemetry for every whole hour in ``[start, end)`` into a landing zone.

    Args:
        landing_url: landing root: a local directory (created if missing) or a URL obstore understands
            (``file://``, ``s3://``, ``gs://``, ``az://``, ``memory://``).
        start: first hour (timezone-aware; converted to UTC and floored to the hour).
        end: exclusive end (timezone-aware); every hour starting before ``end`` is written.
        traces_per_hour: traces per hour, OTLP and native together (:func:`native_trace_count` of them
            native); an OTLP trace has about 6 spans and 7 log records, a native one 1-3 spans. Split
            evenly over the upload slots.
        files_per_hour: upload slots per hour; each writes one traces, one logs and one metrics file
            (and an ``llm_spans`` file when it has native traces), at a minute inside its
            ``60 / files_per_hour`` minute share of the hour.
        seed: varies the data; the same arguments always produce byte-identical objects and keys.
        compression: ``"gzip"`` (``.json.gz``, ``.jsonl.gz``), ``"zstd"`` (``.json.zst``, ``.jsonl.zst``)
            or ``"none"`` (``.json``, ``.jsonl``).
        progress: called once per hour written with a one-line summary.

    Writes, per slot, under ``year=YYYY/month=MM/day=DD/hour=HH/minute=MM/``:
        * ``traces_<key>``: one ExportTraceServiceRequest (``resourceSpans`` grouped by service
          instance, then instrumentation scope); odd-numbered traces files are JSON Lines holding
          up to three requests. Timestamps are Unix nanoseconds as strings.
        * ``logs_<key>``: one ExportLogsServiceRequest of span-correlated log records.
        * ``metrics_<key>``: one ExportMetricsServiceRequest: delta histograms
          ``gen_ai.client.token.usage`` (``{token}``) and ``gen_ai.client.operation.duration``
          (seconds) of the ``otel_genai`` service's chat and embeddings spans per (operation, provider,
          request model, response model, token type | error.type), a cumulative ``app.requests`` sum
          (``asInt``) and a ``process.cpu.utilization`` gauge (``asDouble``) per service instance.
        * ``llm_spans_<key>.jsonl``: the slot's native traces, one LLM span per line.

    Returns:
        SynthStats: exact counts of what was written.

    Raises:
        ValueError: ``end <= start``, a naive datetime, an unknown ``compression``,
            ``traces_per_hour < 0`` or ``files_per_hour < 1``.
    """
    start, end = _to_utc(start, "start"), _to_utc(end, "end")
    if end <= start:
        raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    if compression not in _EXTENSIONS:
        raise ValueError(f"unknown compression {compression!r}; expected one of {', '.join(_EXTENSIONS)}")
    if traces_per_hour < 0:
        raise ValueError(f"traces_per_hour must be >= 0, got {traces_per_hour}")
    if files_per_hour < 1:
        raise ValueError(f"files_per_hour must be >= 1, got {files_per_hour}")

    store = open_store(landing_url)
    compress = _compressor(compression)
    extensions = (_EXTENSIONS[compression], _NATIVE_EXTENSIONS[compression])
    total = SynthStats()
    hour = start.replace(minute=0, second=0, microsecond=0)
    with gc_paused(), ThreadPoolExecutor(max_workers=4, thread_name_prefix="synth-upload") as pool:
        while hour < end:
            stats = _write_hour(store, pool, hour, traces_per_hour, files_per_hour, seed, compress, extensions)
            total += stats
            if progress is not None:
                progress(
                    f"{hour:%Y-%m-%dT%H:00Z}  {stats.files} files  {stats.traces:,} traces  {stats.spans:,} spans "
                    f"({stats.native_spans:,} native)  {stats.span_events:,} events  {stats.logs:,} logs  "
                    f"{stats.metric_data_points:,} points  {stats.bytes_written / 1e6:,.1f} MB"
                )
            hour += timedelta(hours=1)
    return total


def _split(total: int, parts: int, index: int) -> int:
    """Part ``index`` of ``total`` split as evenly as possible over ``parts`` (earlier parts larger)."""
    return total // parts + (index < total % parts)


def _write_hour(store, pool: ThreadPoolExecutor, hour: datetime, traces_per_hour: int, files_per_hour: int,
                seed: int, compress: Callable[[bytes], bytes], extensions: tuple[str, str]) -> SynthStats:
    """Generate one hour and upload it through ``pool`` (compression overlaps generation); returns
    its exact counts once every object of the hour is stored."""
    extension, native_extension = extensions
    rng = _Rng(f"{seed}:{hour.isoformat()}")
    native_rng = _Rng(f"{seed}:{hour.isoformat()}:native")
    key_rng = _Rng(f"{seed}:{hour.isoformat()}:keys")
    hour_ns = int(hour.timestamp()) * NS_PER_S
    hour_end_ns = hour_ns + 3600 * NS_PER_S
    day_start = hour.replace(hour=0)
    day_start_ns = int(day_start.timestamp()) * NS_PER_S
    hour_offset = hour.hour
    prefix = f"year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/"

    late_probability = min(1.0, 0.05 * files_per_hour)  # late arrivals land in the first upload
    n_native = native_trace_count(traces_per_hour, files_per_hour)
    conversations = _Conversations()
    native_batches = _Conversations()
    batch_number = [0]

    def new_batch() -> str:
        batch_number[0] += 1
        return f"batch-{hour:%Y%m%d%H}-{batch_number[0]:04d}"

    requests_before = [0] * len(_RESOURCES)
    used_keys: set[str] = set()
    files = traces = spans = events = logs = points = native_traces = native_spans = 0
    otlp_index = 0
    uploads: list[Future[int]] = []

    for slot_index in range(files_per_hour):
        slot_start = hour_ns + slot_index * 3600 * NS_PER_S // files_per_hour
        slot_end = hour_ns + (slot_index + 1) * 3600 * NS_PER_S // files_per_hour
        upload = slot_start + int((slot_end - slot_start) * rng.uniform(0.6, 0.95))
        minute = (upload - hour_ns) // (60 * NS_PER_S)
        n_slot_native = _split(n_native, files_per_hour, slot_index)
        n_otlp = _split(traces_per_hour, files_per_hour, slot_index) - n_slot_native

        slot = _Slot()
        for _ in range(n_otlp):
            if otlp_index < len(_SERVICES):  # every hour starts with one trace of each service (dialect)
                service = _SERVICES[otlp_index]
                resource = _RESOURCES[_FIRST_RESOURCE[id(service)] + rng.between(0, len(service.instances))]
            else:
                resource = _RESOURCES[_pick_resource(rng)]
                service = resource.service
            otlp_index += 1
            trace_id = f"{rng.getrandbits(128) | 1:032x}"
            conversation, follow_up = conversations.pick(rng, service.name,
                                                         lambda: _session_id(rng, service.dialect))
            links = None
            if follow_up and service.dialect == OTEL_GENAI and rng.random() < 0.25:
                links = [{"traceId": conversation.last_trace, "spanId": conversation.last_root,
                          "attributes": [_s("link.type", "previous_turn")]}]
            builder = _BUILDERS[service.dialect](rng, resource, trace_id, conversation)
            root_id, duration = builder.build(links)
            latest = hour_end_ns - duration - NS_PER_MS
            if not follow_up and slot_index == 0 and rng.random() < late_probability:
                base = hour_ns - rng.between(5 * NS_PER_S, 240 * NS_PER_S)
            else:
                slack = max(0, upload - slot_start - duration)
                base = slot_start + (rng.between(0, slack) if slack else 0)
                if follow_up:  # the next turn starts after the previous one ended
                    base = max(base, conversation.last_end + rng.between(2 * NS_PER_S, 45 * NS_PER_S))
                base = max(hour_ns, min(base, latest))
            builder.shift(base)
            conversations.record(service.name, conversation, trace_id, root_id, base + duration, follow_up)
            slot.traces.append((resource.index, builder.spans))
            slot.logs.extend((resource.index, scope, record) for scope, record in builder.logs)
            slot.calls.extend(builder.calls)
            slot.requests_by_resource[resource.index] += 1
            slot.span_count += len(builder.spans)
            slot.event_count += builder.events

        native_lines: list[dict] = []
        for _ in range(n_slot_native):
            batch, follow_up = native_batches.pick(native_rng, NATIVE_SERVICE, new_batch)
            trace = _NativeTrace(native_rng, batch)
            latest = min(upload, hour_end_ns) - _NATIVE_MAX_NS
            begin = slot_start + native_rng.between(0, max(0, latest - slot_start))
            if follow_up:
                begin = max(begin, batch.last_end + native_rng.between(1 * NS_PER_S, 20 * NS_PER_S))
            begin = max(hour_ns, min(begin, hour_end_ns - _NATIVE_MAX_NS)) // NS_PER_US * NS_PER_US
            trace_end = trace.build(begin)
            native_batches.record(NATIVE_SERVICE, batch, trace.trace_id, trace.lines[-1]["span_id"], trace_end,
                                  follow_up)
            native_lines += trace.lines
            events += trace.events
            native_traces += 1

        # traces: JSON Lines (up to 3 requests) for odd-numbered files, else a single request
        if (hour.hour * files_per_hour + slot_index) % 2 == 1 and len(slot.traces) > 1:
            n_lines = min(3, len(slot.traces))
            size = -(-len(slot.traces) // n_lines)
            chunks = [slot.traces[i:i + size] for i in range(0, len(slot.traces), size)]
            traces_data = b"".join(orjson.dumps(_traces_request(chunk)) + b"\n" for chunk in chunks)
        else:
            traces_data = orjson.dumps(_traces_request(slot.traces))
        logs_data = orjson.dumps(_logs_request(slot.logs))
        metrics_request, n_points = _metrics_request(slot, rng, slot_start, upload, day_start_ns, requests_before,
                                                     hour_offset, traces_per_hour)
        metrics_data = orjson.dumps(metrics_request)

        outputs = [("traces", traces_data, extension), ("logs", logs_data, extension),
                   ("metrics", metrics_data, extension)]
        if native_lines:
            outputs.append(("llm_spans", b"".join(orjson.dumps(line) + b"\n" for line in native_lines),
                            native_extension))
        for signal, data, ext in outputs:
            path = f"{prefix}minute={minute:02d}/{signal}_{_file_key(key_rng, used_keys)}{ext}"
            uploads.append(pool.submit(_upload, store, path, data, compress))
            files += 1

        traces += len(slot.traces) + n_slot_native
        spans += slot.span_count + len(native_lines)
        native_spans += len(native_lines)
        events += slot.event_count
        logs += len(slot.logs)
        points += n_points

    written = sum(upload.result() for upload in uploads)  # re-raises the first failed upload
    return SynthStats(hours=1, files=files, traces=traces, spans=spans, span_events=events, logs=logs,
                      metric_data_points=points, bytes_written=written, native_traces=native_traces,
                      native_spans=native_spans)


def _upload(store, path: str, data: bytes, compress: Callable[[bytes], bytes]) -> int:
    """Compress and store one object (runs in a worker thread: zlib, zstd and obstore release the GIL)."""
    payload = compress(data)
    obstore.put(store, path, payload)
    return len(payload)


def _file_key(rng: _Rng, used: set[str]) -> str:
    """A random-looking 8-hex-digit file token, unique within the hour."""
    while True:
        key = f"{rng.getrandbits(32):08x}"
        if key not in used:
            used.add(key)
            return key
