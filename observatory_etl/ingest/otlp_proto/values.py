"""OTLP protobuf values (common/v1/common.proto): AnyValue, attributes, ids, integer ranges, resources and
scopes, converted exactly as :mod:`observatory_etl.ingest.otlp_json.values` converts their JSON form."""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import orjson
from google.protobuf import json_format
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from ..columns import DecodeError
from ..otlp_json.values import INT64_MAX, MAX_ANY_VALUE_DEPTH

NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
ZERO_TRACE_ID = bytes(16)
ZERO_SPAN_ID = bytes(8)
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_isfinite, _isnan = math.isfinite, math.isnan
_which = AnyValue.WhichOneof  # unbound: no attribute lookup per value



# ---------------------------------------------------------------------------------------------------
# Values (common/v1/common.proto)


def any_value(value, depth: int = 1) -> Any:
    """Map one protobuf ``AnyValue`` to a JSON-compatible Python value, as :func:`.otlp_json.values.any_value`
    maps its OTLP/JSON form: string, bool, int and double as themselves (a non-finite double as ``"NaN"``,
    ``"Infinity"`` or ``"-Infinity"``), bytes as standard base64 text, arrays as lists, kvlists as dicts, an
    unset value as None.

    Raises:
        DecodeError: it nests deeper than :data:`~.otlp_json.values.MAX_ANY_VALUE_DEPTH` levels.
    """
    kind = _which(value, "value")
    if kind is None:
        return None
    if depth > MAX_ANY_VALUE_DEPTH:
        raise DecodeError(f"AnyValue nested deeper than {MAX_ANY_VALUE_DEPTH} levels")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "double_value":
        number = value.double_value
        return number if _isfinite(number) else NON_FINITE[str(number)]
    if kind == "array_value":
        return [any_value(v, depth + 1) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None  # a kind newer than this decoder


def attributes_dict(key_values) -> dict:
    """Flatten repeated ``KeyValue`` into ``{key: value}`` (the last of duplicate keys wins), values as
    :func:`any_value`."""
    out = {}
    for kv in key_values:
        value = kv.value
        kind = _which(value, "value")
        if kind == "string_value":
            out[kv.key] = value.string_value
        elif kind == "int_value":
            out[kv.key] = value.int_value
        else:
            out[kv.key] = any_value(value)
    return out


def attributes_json(key_values) -> str:
    """:func:`attributes_dict` as compact JSON text (``"{}"`` for none)."""
    if not key_values:
        return "{}"
    return orjson.dumps(attributes_dict(key_values)).decode()


def id_bytes(raw: bytes, size: int, required: bool, field: str) -> bytes | None:
    """``raw`` as an id of ``size`` bytes; empty or all zeros gives None unless required.

    Raises:
        DecodeError: not ``size`` bytes, or empty or all zeros where required.
    """
    if not raw:
        if required:
            raise DecodeError(f"missing {field}")
        return None
    if len(raw) != size:
        raise DecodeError(f"{field} {raw.hex()[:80]!r} is {len(raw)} bytes, not {size}")
    if raw == (ZERO_TRACE_ID if size == 16 else ZERO_SPAN_ID):
        if required:
            raise DecodeError(f"{field} is all zeros (invalid)")
        return None
    return raw


def span_id_int(raw: bytes, required: bool, field: str) -> int | None:
    raw = id_bytes(raw, 8, required, field)
    return None if raw is None else int.from_bytes(raw, "big", signed=True)


def fixed64(value: int, field: str) -> int:
    """A ``fixed64``/``uint64`` time (ns since the Unix epoch) or count, as storable (signed 64-bit)."""
    if value > INT64_MAX:
        raise DecodeError(f"{field} {value} is outside the storable range 0 .. 2^63-1")
    return value


def int32(value: int, field: str) -> int:
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise DecodeError(f"{field} {value} is outside the int32 range")
    return value


def counts(values, field: str) -> list[int]:
    counts = list(values)
    if counts and max(counts) > INT64_MAX:
        raise DecodeError(f"{field} {max(counts)} is outside the storable range 0 .. 2^63-1")
    return counts


def opt_float(value: float) -> float | None:
    """NaN is stored as NULL in double precision columns, as :func:`.otlp_json.values.opt_float` stores it."""
    return None if _isnan(value) else value


def default_none(value: float) -> float | None:
    """A double without presence: its default 0.0 is what JSON leaves out, hence NULL; NaN NULL too."""
    return None if value == 0.0 or _isnan(value) else value


def record_json(message) -> dict:
    """A protobuf record as its OTLP/JSON object (lowerCamelCase names, enums as integers, 64-bit integers as
    strings, trace and span ids as hex): the form a rejected record is quarantined in."""
    return hex_ids(json_format.MessageToDict(message, use_integers_for_enums=True))


ID_KEYS = frozenset(("traceId", "spanId", "parentSpanId"))


def hex_ids(value):
    if type(value) is dict:
        out = {}
        for key, item in value.items():
            if key in ID_KEYS and type(item) is str:
                try:
                    item = base64.b64decode(item).hex()
                except (binascii.Error, ValueError):
                    pass
            else:
                item = hex_ids(item)
            out[key] = item
        return out
    if type(value) is list:
        return [hex_ids(item) for item in value]
    return value


def read_resource(resource_entry) -> tuple[str, str | None, dict]:
    """``(attributes JSON text, service.name or None, attributes dict)`` of a Resource{Spans,Metrics,Logs}."""
    attrs = attributes_dict(resource_entry.resource.attributes)
    service = attrs.get("service.name")
    return orjson.dumps(attrs).decode(), service if isinstance(service, str) else None, attrs


def scopes(scope_entries) -> list:
    """``(scope entry, scope name, scope version, scope attributes JSON text)`` per Scope{Spans,Metrics,Logs}."""
    out = []
    for scope_entry in scope_entries:
        scope = scope_entry.scope
        out.append((scope_entry, scope.name or None, scope.version or None, attributes_json(scope.attributes)))
    return out
