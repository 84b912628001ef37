"""OTLP protobuf metrics and data points (metrics/v1/metrics.proto) into the same column lists as the JSON decoder."""

from __future__ import annotations

import orjson

from ..columns import RECORD_ERRORS, TABLE_COLUMNS, Columns, DecodeError
from ..otlp_json.values import point_id, record_key
from .values import (
    attributes_dict,
    attributes_json,
    counts,
    default_none,
    fixed64,
    id_bytes,
    int32,
    opt_float,
    read_resource,
    record_json,
    scopes,
)

# ---------------------------------------------------------------------------------------------------
# Metrics (metrics/v1/metrics.proto)


def decode_metrics(request, columns: Columns, where: str) -> int:
    metrics = columns.tables["metrics"]
    metric_lists = [metrics[name] for name in TABLE_COLUMNS["metrics"]]
    points = columns.tables["metric_data_points"]
    point_columns = [(name, points[name]) for name in TABLE_COLUMNS["metric_data_points"]]
    added = 0
    for r, resource_entry in enumerate(request.resource_metrics):
        try:
            resource_json, service, _ = read_resource(resource_entry)
            scope_entries = scopes(resource_entry.scope_metrics)
        except RECORD_ERRORS as exc:
            columns.reject(f"{where} / resource {r}", exc, record_json(resource_entry))
            continue
        for s, (scope_entry, scope_name, scope_version, scope_json) in enumerate(scope_entries):
            for m, metric in enumerate(scope_entry.metrics):
                path = f"{where} / resource {r} / scope {s} / metric {m}"
                name = metric.name
                kind = metric.WhichOneof("data")
                if kind is None:
                    columns.reject(path, DecodeError(
                        f"metric {name!r}: no data (gauge, sum, histogram, exponentialHistogram or summary)"
                    ), record_json(metric))
                    continue
                unit = metric.unit or None
                metric_id = record_key(resource_json, scope_name, scope_version, name, kind, unit)
                data = getattr(metric, kind)
                # proto3 default 0 (unspecified) is what JSON leaves out: NULL, as the JSON decoder gives it
                temporality = (data.aggregation_temporality or None) if kind not in ("gauge", "summary") else None
                monotonic = data.is_monotonic if kind == "sum" else None
                for values, value in zip(metric_lists, (
                    metric_id, name, service, kind, unit, metric.description or None, scope_name,
                    scope_version, scope_json, resource_json,
                )):
                    values.append(value)
                for index, point in enumerate(data.data_points):
                    try:
                        row = _point(kind, point)
                    except RECORD_ERRORS as exc:
                        columns.reject(f"{path} / data point {index}", exc, record_json(point))
                        continue
                    row["point_id"] = point_id(
                        metric_id, row["attributes"], row["start_time_unix_nano"], row["time_unix_nano"]
                    )
                    row["metric_id"] = metric_id
                    row["metric_name"] = name
                    row["aggregation_temporality"] = temporality
                    row["is_monotonic"] = monotonic
                    for column, values in point_columns:
                        values.append(row.get(column))
                    added += 1
    return added


def _exemplars(exemplars) -> str | None:
    if not exemplars:
        return None
    out = []
    for exemplar in exemplars:
        kind = exemplar.WhichOneof("value")
        trace_id = id_bytes(exemplar.trace_id, 16, False, "traceId")
        span_id = exemplar.span_id
        out.append(
            {
                "time_unix_nano": exemplar.time_unix_nano,
                "value": None if kind is None else float(getattr(exemplar, kind)),
                "trace_id": trace_id.hex() if trace_id else None,
                "span_id": span_id.hex() if span_id else None,
                "filtered_attributes": attributes_dict(exemplar.filtered_attributes),
            }
        )
    return orjson.dumps(out).decode()


def _point(kind: str, point) -> dict:
    """One data point's columns (those of its kind) as a dict (as ``otlp_json.metrics._point``).

    Raises:
        DecodeError: a field cannot be stored (the message names it).
    """
    row = {
        "start_time_unix_nano": fixed64(point.start_time_unix_nano, "startTimeUnixNano"),
        "time_unix_nano": fixed64(point.time_unix_nano, "timeUnixNano"),
        "attributes": attributes_json(point.attributes),
        "flags": int32(point.flags, "flags"),
        "exemplars": None if kind == "summary" else _exemplars(point.exemplars),  # summary points have none
    }
    if kind == "gauge" or kind == "sum":
        value_kind = point.WhichOneof("value")
        row["value"] = None if value_kind is None else opt_float(float(getattr(point, value_kind)))
        return row
    row["count"] = fixed64(point.count, "count")
    if kind == "summary":
        row["sum"] = default_none(point.sum)
        row["quantiles"] = orjson.dumps(
            [{"quantile": q.quantile, "value": opt_float(q.value)} for q in point.quantile_values]
        ).decode()
        return row
    row["sum"] = opt_float(point.sum) if point.HasField("sum") else None
    row["min"] = opt_float(point.min) if point.HasField("min") else None
    row["max"] = opt_float(point.max) if point.HasField("max") else None
    if kind == "histogram":
        row["bucket_counts"] = counts(point.bucket_counts, "bucketCounts")
        row["explicit_bounds"] = list(point.explicit_bounds)
        return row
    row["scale"] = point.scale
    row["zero_count"] = fixed64(point.zero_count, "zeroCount")
    row["zero_threshold"] = default_none(point.zero_threshold)
    for side in ("positive", "negative"):
        buckets = getattr(point, side)
        row[f"{side}_offset"] = buckets.offset
        row[f"{side}_bucket_counts"] = counts(buckets.bucket_counts, f"{side} bucketCounts")
    return row
