"""The canonical OTLP/JSON form of traces, logs and metrics as msgspec Structs (opentelemetry-proto
``docs/specification.md`` "JSON Protobuf Encoding": lowerCamelCase field names; the messages of
``trace/v1/trace.proto``, ``logs/v1/logs.proto``, ``metrics/v1/metrics.proto``, ``common/v1/common.proto``).

Used by :mod:`.typed`. Every field of the form is declared and any other fails the parse (``_Struct``); a
64-bit integer or an enum may be a number or a string (``Int``); a member that must not be null has an
UNSET default.
"""

from __future__ import annotations

from typing import Any, Union

from msgspec import UNSET, Raw, Struct, UnsetType

Int = Union[int, str]  # a 64-bit integer or an enum: a JSON number or a string
Ignored = Any  # a field of the form that no table keeps (dropped counts, schema URLs, flags)


class _Struct(Struct, forbid_unknown_fields=True, gc=False):
    """Every field of the canonical form is declared; any other field (a proto field name such as
    ``trace_id``, a field of a newer OTLP) fails the parse, so that the general decoder decodes the file
    (it ignores unknown fields, after renaming proto field names). ``gc=False``: Structs hold no cycles."""


class AnyValue(_Struct):
    """common/v1/common.proto AnyValue; a null member is not this form (UNSET defaults reject it)."""

    stringValue: Union[str, UnsetType] = UNSET
    intValue: Union[Int, UnsetType] = UNSET
    boolValue: Union[bool, UnsetType] = UNSET
    doubleValue: Union[float, str, UnsetType] = UNSET
    arrayValue: Union["ArrayValue", UnsetType] = UNSET
    kvlistValue: Union["KeyValueList", UnsetType] = UNSET
    bytesValue: Union[str, UnsetType] = UNSET


class KeyValue(_Struct):
    key: str
    value: Union[AnyValue, None] = None


class ArrayValue(_Struct):
    values: list[AnyValue] = []


class KeyValueList(_Struct):
    values: list[KeyValue] = []


class Resource(_Struct):
    attributes: list[KeyValue] = []
    droppedAttributesCount: Ignored = None
    entityRefs: Ignored = None


class Scope(_Struct):
    name: str = ""
    version: str = ""
    attributes: list[KeyValue] = []
    droppedAttributesCount: Ignored = None


class Status(_Struct):
    code: Int = 0
    message: str = ""


class Event(_Struct):
    timeUnixNano: Int = 0
    name: str = ""
    attributes: list[KeyValue] = []
    droppedAttributesCount: Ignored = None


class Link(_Struct):
    traceId: str = ""
    spanId: str = ""
    traceState: str = ""
    attributes: list[KeyValue] = []
    droppedAttributesCount: Ignored = None
    flags: Ignored = None


class Span(_Struct):
    traceId: str = ""
    spanId: str = ""
    parentSpanId: str = ""
    traceState: str = ""
    name: str = ""
    kind: Int = 0
    startTimeUnixNano: Int = 0
    endTimeUnixNano: Int = 0
    attributes: list[KeyValue] = []
    events: list[Event] = []
    links: list[Link] = []
    status: Union[Status, None] = None
    flags: Ignored = None
    droppedAttributesCount: Ignored = None
    droppedEventsCount: Ignored = None
    droppedLinksCount: Ignored = None


class ScopeSpans(_Struct):
    """``spans`` are left unparsed (each a :class:`Span` decoded on its own by :mod:`.typed`): one span's
    Structs are alive at a time instead of a whole file's (136 MB for a 42 MB file of 34,550 spans)."""

    scope: Union[Scope, None] = None
    spans: list[Raw] = []
    schemaUrl: Ignored = None


class ResourceSpans(_Struct):
    resource: Union[Resource, None] = None
    scopeSpans: list[ScopeSpans] = []
    schemaUrl: Ignored = None


class TracesRequest(_Struct):
    resourceSpans: Union[list[ResourceSpans], UnsetType] = UNSET  # missing: maybe another signal


class LogRecord(_Struct):
    timeUnixNano: Int = 0
    observedTimeUnixNano: Int = 0
    severityNumber: Int = 0
    severityText: str = ""
    body: Union[AnyValue, None] = None
    attributes: list[KeyValue] = []
    flags: Int = 0
    traceId: str = ""
    spanId: str = ""
    eventName: str = ""
    droppedAttributesCount: Ignored = None


class ScopeLogs(_Struct):
    """``logRecords`` are left unparsed, as :class:`ScopeSpans`'s spans (each a :class:`LogRecord`)."""

    scope: Union[Scope, None] = None
    logRecords: list[Raw] = []
    schemaUrl: Ignored = None


class ResourceLogs(_Struct):
    resource: Union[Resource, None] = None
    scopeLogs: list[ScopeLogs] = []
    schemaUrl: Ignored = None


class LogsRequest(_Struct):
    resourceLogs: Union[list[ResourceLogs], UnsetType] = UNSET


class Exemplar(_Struct):
    filteredAttributes: list[KeyValue] = []
    timeUnixNano: Int = 0
    asDouble: Union[float, str, UnsetType] = UNSET
    asInt: Union[Int, UnsetType] = UNSET
    spanId: str = ""
    traceId: str = ""


class NumberDataPoint(_Struct):
    attributes: list[KeyValue] = []
    startTimeUnixNano: Int = 0
    timeUnixNano: Int = 0
    asDouble: Union[float, str, UnsetType] = UNSET
    asInt: Union[Int, UnsetType] = UNSET
    exemplars: list[Exemplar] = []
    flags: Int = 0


class HistogramDataPoint(_Struct):
    attributes: list[KeyValue] = []
    startTimeUnixNano: Int = 0
    timeUnixNano: Int = 0
    count: Int = 0
    sum: Union[float, str, UnsetType] = UNSET
    bucketCounts: list[Int] = []
    explicitBounds: list[Union[float, str]] = []
    exemplars: list[Exemplar] = []
    flags: Int = 0
    min: Union[float, str, UnsetType] = UNSET
    max: Union[float, str, UnsetType] = UNSET


class Buckets(_Struct):
    offset: Int = 0
    bucketCounts: list[Int] = []


class ExponentialHistogramDataPoint(_Struct):
    attributes: list[KeyValue] = []
    startTimeUnixNano: Int = 0
    timeUnixNano: Int = 0
    count: Int = 0
    sum: Union[float, str, UnsetType] = UNSET
    scale: Int = 0
    zeroCount: Int = 0
    positive: Union[Buckets, None] = None
    negative: Union[Buckets, None] = None
    flags: Int = 0
    exemplars: list[Exemplar] = []
    min: Union[float, str, UnsetType] = UNSET
    max: Union[float, str, UnsetType] = UNSET
    zeroThreshold: Union[float, str, UnsetType] = UNSET


class ValueAtQuantile(_Struct):
    quantile: Union[float, str] = 0
    value: Union[float, str] = 0


class SummaryDataPoint(_Struct):
    attributes: list[KeyValue] = []
    startTimeUnixNano: Int = 0
    timeUnixNano: Int = 0
    count: Int = 0
    sum: Union[float, str, UnsetType] = UNSET
    quantileValues: list[ValueAtQuantile] = []
    flags: Int = 0


class Gauge(_Struct):
    dataPoints: list[Raw] = []  # each a NumberDataPoint, parsed one at a time


class Sum(_Struct):
    dataPoints: list[Raw] = []  # each a NumberDataPoint, parsed one at a time
    aggregationTemporality: Union[Int, UnsetType] = UNSET
    isMonotonic: bool = False


class Histogram(_Struct):
    dataPoints: list[Raw] = []  # each a HistogramDataPoint, parsed one at a time
    aggregationTemporality: Union[Int, UnsetType] = UNSET


class ExponentialHistogram(_Struct):
    dataPoints: list[ExponentialHistogramDataPoint] = []
    aggregationTemporality: Union[Int, UnsetType] = UNSET


class Summary(_Struct):
    dataPoints: list[SummaryDataPoint] = []


class Metric(_Struct):
    name: str = ""
    description: str = ""
    unit: str = ""
    gauge: Union[Gauge, UnsetType] = UNSET
    sum: Union[Sum, UnsetType] = UNSET
    histogram: Union[Histogram, UnsetType] = UNSET
    exponentialHistogram: Union[ExponentialHistogram, UnsetType] = UNSET
    summary: Union[Summary, UnsetType] = UNSET
    metadata: Ignored = None


class ScopeMetrics(_Struct):
    scope: Union[Scope, None] = None
    metrics: list[Metric] = []
    schemaUrl: Ignored = None


class ResourceMetrics(_Struct):
    resource: Union[Resource, None] = None
    scopeMetrics: list[ScopeMetrics] = []
    schemaUrl: Ignored = None


class MetricsRequest(_Struct):
    resourceMetrics: Union[list[ResourceMetrics], UnsetType] = UNSET
