"""Decode OTLP/JSON ``resourceMetrics`` (opentelemetry-proto ``metrics/v1/metrics.proto``) into metric and data
point columns: gauge, sum, histogram, exponential histogram and summary.
"""

from __future__ import annotations

import orjson

from ..columns import TABLE_COLUMNS, Columns, DecodeError
from .values import (
    attributes_dict,
    attributes_json,
    opt_float,
    read_resource,
    record_key,
    scopes,
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
        span_id = exemplar.get("spanId")
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


def decode_metrics(resource_metrics: list, columns: Columns) -> int:
    """Append the metrics and data points of ``resourceMetrics`` (metrics/v1/metrics.proto) to ``columns``;
    returns data points added.

    Raises:
        DecodeError: a metric has no data or a data point is malformed (the message names it).
    """
    metrics = columns.tables["metrics"]
    points = columns.tables["metric_data_points"]
    point_columns = [(name, points[name]) for name in TABLE_COLUMNS["metric_data_points"]]
    added = 0
    for resource_entry in resource_metrics:
        resource_json, service, _ = read_resource(resource_entry)
        for scope_entry, scope_name, scope_version, scope_json in scopes(resource_entry, "scopeMetrics"):
            for metric in scope_entry.get("metrics") or ():
                name = metric.get("name") or ""
                kind = next((k for k in _METRIC_TYPES if k in metric), None)
                if kind is None:
                    raise DecodeError(f"metric {name!r}: no data (gauge, sum, histogram, exponentialHistogram or summary)")
                metric_type = _METRIC_TYPES[kind]
                unit = metric.get("unit") or None
                metric_id = record_key(resource_json, scope_name, scope_version, name, metric_type, unit)
                metrics["metric_id"].append(metric_id)
                metrics["name"].append(name)
                metrics["service_name"].append(service)
                metrics["type"].append(metric_type)
                metrics["unit"].append(unit)
                metrics["description"].append(metric.get("description") or None)
                metrics["scope_name"].append(scope_name)
                metrics["scope_version"].append(scope_version)
                metrics["scope_attributes"].append(scope_json)
                metrics["resource_attributes"].append(resource_json)
                data = metric[kind] or {}
                temporality = data.get("aggregationTemporality")
                temporality = int(temporality) if temporality is not None else None
                monotonic = bool(data.get("isMonotonic", False)) if kind == "sum" else None
                for index, point in enumerate(data.get("dataPoints") or ()):
                    try:
                        row = _point(kind, point)
                    except DecodeError as exc:
                        raise DecodeError(f"metric {name!r} data point {index}: {exc}") from None
                    attrs = row["attributes"]
                    row["point_id"] = record_key(
                        metric_id, attrs, row["start_time_unix_nano"], row["time_unix_nano"]
                    )
                    row["metric_id"] = metric_id
                    row["metric_name"] = name
                    row["aggregation_temporality"] = temporality
                    row["is_monotonic"] = monotonic
                    for column, values in point_columns:
                        values.append(row.get(column))
                    added += 1
    return added


def _point(kind: str, point: dict) -> dict:
    row = {
        "start_time_unix_nano": to_int(point.get("startTimeUnixNano") or 0),
        "time_unix_nano": to_int(point.get("timeUnixNano") or 0),
        "attributes": attributes_json(point.get("attributes")),
        "flags": int(point.get("flags") or 0),
        "exemplars": _exemplars(point.get("exemplars")),
    }
    if kind in ("gauge", "sum"):
        value = point.get("asDouble", point.get("asInt"))
        row["value"] = None if value is None else opt_float(value)
        return row
    row["count"] = to_int(point.get("count") or 0)
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
        row["bucket_counts"] = [to_int(c) for c in point.get("bucketCounts") or ()]
        row["explicit_bounds"] = [to_float(b) for b in point.get("explicitBounds") or ()]
        return row
    row["scale"] = int(point.get("scale") or 0)
    row["zero_count"] = to_int(point.get("zeroCount") or 0)
    row["zero_threshold"] = opt_float(point.get("zeroThreshold"))
    for side in ("positive", "negative"):
        buckets = point.get(side) or {}
        row[f"{side}_offset"] = int(buckets.get("offset") or 0)
        row[f"{side}_bucket_counts"] = [to_int(c) for c in buckets.get("bucketCounts") or ()]
    return row
