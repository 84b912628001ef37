"""Decode OTLP/JSON ``resourceMetrics`` (opentelemetry-proto ``metrics/v1/metrics.proto``) into metric and data
point columns: gauge, sum, histogram, exponential histogram and summary.
"""

from __future__ import annotations

import orjson

from ..columns import RECORD_ERRORS, TABLE_COLUMNS, Columns, DecodeError
from .values import (
    AGGREGATION_TEMPORALITIES,
    attributes_dict,
    attributes_json,
    enum_value,
    fixed64,
    int32,
    opt_float,
    point_id,
    read_resource,
    record_key,
    record_list,
    scopes,
    text,
    time_ns,
    to_float,
    to_int,
    trace_id_bytes,
)

_METRIC_TYPES = {
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponentialHistogram": "exponential_histogram",
    "summary": "summary",
}

def _exemplars(exemplars: list | None) -> str | None:
    if not exemplars:
        return None
    out = []
    for exemplar in exemplars:
        value = exemplar.get("asDouble", exemplar.get("asInt"))
        trace_id = trace_id_bytes(exemplar.get("traceId"), required=False)
        span_id = text(exemplar.get("spanId"), "exemplar spanId")
        out.append(
            {
                "time_unix_nano": to_int(exemplar.get("timeUnixNano") or 0),
                "value": None if value is None else to_float(value),
                "trace_id": trace_id.hex() if trace_id else None,
                "span_id": span_id.lower() if span_id else None,
                "filtered_attributes": attributes_dict(exemplar.get("filteredAttributes")),
            }
        )
    return orjson.dumps(out).decode()


def decode_metrics(resource_metrics: list, columns: Columns, where: str) -> int:
    """Append the metrics and data points of ``resourceMetrics`` (metrics/v1/metrics.proto) to ``columns``;
    returns data points added.

    A malformed resource, scope, metric (e.g. one without data) or data point is rejected into
    ``columns.rejects`` at its path under ``where`` (``request 1 / resource 0 / scope 0 / metric 2 / data
    point 5``); everything else decodes.
    """
    metrics = columns.tables["metrics"]
    metric_lists = [metrics[name] for name in TABLE_COLUMNS["metrics"]]
    points = columns.tables["metric_data_points"]
    point_columns = [(name, points[name]) for name in TABLE_COLUMNS["metric_data_points"]]
    added = 0
    for r, resource_entry in enumerate(resource_metrics):
        try:
            resource_json, service, _ = read_resource(resource_entry)
            scope_entries = list(scopes(resource_entry, "scopeMetrics"))
        except RECORD_ERRORS as exc:
            columns.reject(f"{where} / resource {r}", exc, resource_entry)
            continue
        for s, (scope_entry, scope_name, scope_version, scope_json) in enumerate(scope_entries):
            try:
                scope_metrics = record_list(scope_entry, "metrics", "")
            except DecodeError as exc:
                columns.reject(f"{where} / resource {r} / scope {s}", exc, scope_entry)
                continue
            for m, metric in enumerate(scope_metrics):
                path = f"{where} / resource {r} / scope {s} / metric {m}"
                try:
                    name = text(metric.get("name"), "metric name") or ""
                    kind = next((k for k in _METRIC_TYPES if k in metric), None)
                    if kind is None:
                        raise DecodeError(f"metric {name!r}: no data (gauge, sum, histogram, exponentialHistogram or summary)")
                    metric_type = _METRIC_TYPES[kind]
                    unit = text(metric.get("unit"), "unit")
                    description = text(metric.get("description"), "description")
                    metric_id = record_key(resource_json, scope_name, scope_version, name, metric_type, unit)
                    data = metric[kind] or {}
                    temporality = data.get("aggregationTemporality")
                    temporality = (
                        enum_value(temporality, AGGREGATION_TEMPORALITIES, "aggregationTemporality")
                        if temporality is not None else None
                    )
                    monotonic = bool(data.get("isMonotonic", False)) if kind == "sum" else None
                    data_points = list(data.get("dataPoints") or ())
                except RECORD_ERRORS as exc:
                    columns.reject(path, exc, metric)
                    continue
                for values, value in zip(metric_lists, (
                    metric_id, name, service, metric_type, unit, description, scope_name,
                    scope_version, scope_json, resource_json,
                )):
                    values.append(value)
                for index, point in enumerate(data_points):
                    try:
                        row = _point(kind, point)
                    except RECORD_ERRORS as exc:
                        columns.reject(f"{path} / data point {index}", exc, point)
                        continue
                    attrs = row["attributes"]
                    row["point_id"] = point_id(metric_id, attrs, row["start_time_unix_nano"], row["time_unix_nano"])
                    row["metric_id"] = metric_id
                    row["metric_name"] = name
                    row["aggregation_temporality"] = temporality
                    row["is_monotonic"] = monotonic
                    for column, values in point_columns:
                        values.append(row.get(column))
                    added += 1
    return added


def _point(kind: str, point: dict) -> dict:
    """One data point's columns (those of its kind) as a dict.

    Raises:
        DecodeError: a field is malformed (the message names it); other RECORD_ERRORS for wrong JSON types.
    """
    if type(point) is not dict:
        raise DecodeError(f"a data point must be an object, got {type(point).__name__}")
    row = {
        "start_time_unix_nano": time_ns(point.get("startTimeUnixNano"), "startTimeUnixNano"),
        "time_unix_nano": time_ns(point.get("timeUnixNano"), "timeUnixNano"),
        "attributes": attributes_json(point.get("attributes")),
        "flags": int32(point.get("flags"), "flags"),
        "exemplars": _exemplars(point.get("exemplars")),
    }
    if kind in ("gauge", "sum"):
        value = point.get("asDouble", point.get("asInt"))
        row["value"] = None if value is None else opt_float(value)
        return row
    row["count"] = fixed64(point.get("count"), "count")
    row["sum"] = opt_float(point.get("sum"))
    if kind == "summary":
        row["quantiles"] = orjson.dumps(
            [
                {"quantile": to_float(q.get("quantile") or 0), "value": opt_float(q.get("value", 0))}
                for q in point.get("quantileValues") or ()
            ]
        ).decode()
        return row
    row["min"] = opt_float(point.get("min"))
    row["max"] = opt_float(point.get("max"))
    if kind == "histogram":
        row["bucket_counts"] = [fixed64(c, "bucketCounts") for c in point.get("bucketCounts") or ()]
        row["explicit_bounds"] = [to_float(b) for b in point.get("explicitBounds") or ()]
        return row
    row["scale"] = int32(point.get("scale"), "scale")
    row["zero_count"] = fixed64(point.get("zeroCount"), "zeroCount")
    row["zero_threshold"] = opt_float(point.get("zeroThreshold"))
    for side in ("positive", "negative"):
        buckets = point.get(side) or {}
        row[f"{side}_offset"] = int32(buckets.get("offset"), f"{side} offset")
        row[f"{side}_bucket_counts"] = [fixed64(c, f"{side} bucketCounts") for c in buckets.get("bucketCounts") or ()]
    return row
