"""OTLP/JSON scalar values: AnyValue, attributes, 64-bit integers, doubles, trace and span ids, record keys.

Source: opentelemetry-proto ``docs/specification.md`` "JSON Protobuf Encoding" and
``common/v1/common.proto`` (AnyValue, KeyValue).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import orjson

from ..columns import DecodeError


def any_value(value: dict | None) -> Any:
    """Map one OTLP ``AnyValue`` object to a JSON-compatible Python value (recursively).

    Raises:
        DecodeError: the value is not an object, or an intValue/doubleValue does not parse.
    """
    if not value:
        return None
    if type(value) is not dict:
        raise DecodeError(f"AnyValue must be an object, got {value!r:.80}")
    for kind, inner in value.items():
        if kind == "stringValue":
            return inner
        if kind == "intValue":
            return to_int(inner)
        if kind == "boolValue":
            return bool(inner)
        if kind == "doubleValue":
            return to_float(inner)
        if kind == "arrayValue":
            return [any_value(v) for v in (inner or {}).get("values") or ()]
        if kind == "kvlistValue":
            return {kv["key"]: any_value(kv.get("value")) for kv in (inner or {}).get("values") or ()}
        if kind == "bytesValue":
            return inner  # base64 text, as OTLP/JSON carries it
    return None  # an empty AnyValue, or only unknown fields


def attributes_dict(key_values: list | None) -> dict:
    """Flatten a list of OTLP ``KeyValue`` into ``{key: value}`` (the last of duplicate keys wins)."""
    if not key_values:
        return {}
    out = {}
    for kv in key_values:
        value = kv.get("value")
        # Fast path for the common scalar kinds; any_value handles the rest.
        if value and len(value) == 1:
            if "stringValue" in value:
                out[kv["key"]] = value["stringValue"]
                continue
            if "intValue" in value:
                out[kv["key"]] = to_int(value["intValue"])
                continue
        out[kv["key"]] = any_value(value)
    return out


def attributes_json(key_values: list | None) -> str:
    """``attributes_dict`` serialized as compact JSON text (``"{}"`` for none)."""
    if not key_values:
        return "{}"
    return orjson.dumps(attributes_dict(key_values)).decode()


def to_int(value: Any) -> int:
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DecodeError(f"expected a 64-bit integer (number or string), got {value!r:.80}") from None


def opt_int(value: Any) -> int | None:
    return None if value is None else to_int(value)


def to_float(value: Any) -> float:
    if type(value) is float:
        return value
    try:
        return float(value)  # also "NaN", "Infinity", "-Infinity" and integers
    except (TypeError, ValueError):
        raise DecodeError(f"expected a double (number or string), got {value!r:.80}") from None


def opt_float(value: Any) -> float | None:
    if value is None:
        return None
    result = to_float(value)
    return None if math.isnan(result) else result


def trace_id_bytes(value: Any, *, required: bool = True, field: str = "traceId") -> bytes | None:
    """Parse a hex trace id (any case) into 16 bytes; empty or missing gives None unless required.

    Raises:
        DecodeError: not 32 hex digits, all zeros, or missing where required.
    """
    return _id_bytes(value, 16, required, field)


def span_id_int(value: Any, *, required: bool = True, field: str = "spanId") -> int | None:
    """Parse a hex span id (any case) into a signed 64-bit integer (its 8 bytes read big-endian).

    ``observatory.span_id_hex(bigint)`` and ``observatory.span_id(text)`` convert in SQL.

    Raises:
        DecodeError: not 16 hex digits, all zeros, or missing where required.
    """
    raw = _id_bytes(value, 8, required, field)
    return None if raw is None else int.from_bytes(raw, "big", signed=True)


def _id_bytes(value: Any, size: int, required: bool, field: str) -> bytes | None:
    """``size`` bytes from exactly ``2 * size`` hex digits (any case); empty or all zeros → None if optional."""
    if not value:
        if required:
            raise DecodeError(f"missing {field}")
        return None
    raw = None
    if type(value) is str and len(value) == 2 * size:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            pass
    if raw is None or len(raw) != size:  # fromhex skips whitespace: fewer bytes means it had some
        raise DecodeError(f"{field} {value!r:.80} is not {2 * size} hex digits")
    if raw == bytes(size):
        if required:
            raise DecodeError(f"{field} is all zeros (invalid)")
        return None
    return raw


def record_key(*parts: Any) -> bytes:
    """Deterministic 16-byte key: MD5 of the parts' ``str()`` joined by ``\\x1f`` (bytes as hex).

    Stable across processes, machines and library versions (it hashes only the decoded input text),
    unlike polars' ``hash()``. Used for ``log_id``, ``point_id`` and ``metric_id`` (stored as uuid).
    """
    text = "\x1f".join(p.hex() if type(p) is bytes else ("" if p is None else str(p)) for p in parts)
    return hashlib.md5(text.encode(), usedforsecurity=False).digest()




def read_resource(resource_entry: dict) -> tuple[str, str | None, dict]:
    """A ResourceSpans/ResourceMetrics/ResourceLogs entry's resource: ``(attributes JSON text, service.name or
    None, attributes dict)``."""
    attrs = attributes_dict((resource_entry.get("resource") or {}).get("attributes"))
    service = attrs.get("service.name")
    return orjson.dumps(attrs).decode(), service if isinstance(service, str) else None, attrs


def scopes(resource_entry: dict, key: str):
    """Yield ``(scope entry, scope name, scope version, scope attributes JSON text)`` for each entry of
    ``resource_entry[key]`` (``scopeSpans``, ``scopeMetrics`` or ``scopeLogs``)."""
    for scope_entry in resource_entry.get(key) or ():
        scope = scope_entry.get("scope") or {}
        yield (
            scope_entry,
            scope.get("name") or None,
            scope.get("version") or None,
            attributes_json(scope.get("attributes")),
        )
