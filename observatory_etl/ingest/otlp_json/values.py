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

# AnyValue nesting accepted inside one attribute value; deeper values reject their record.
MAX_ANY_VALUE_DEPTH = 64
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
# Non-finite doubles are stored in JSON (attributes, bodies) as the strings OTLP/JSON writes them as:
# jsonb has no NaN or Infinity.
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def any_value(value: dict | None, depth: int = 1) -> Any:
    """Map one OTLP ``AnyValue`` object to a JSON-compatible Python value (recursively).

    stringValue, boolValue, intValue (int64, number or string) and doubleValue as themselves (a non-finite
    double as the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``), bytesValue as its base64 text,
    arrayValue as a list, kvlistValue as a dict; an empty AnyValue as None.

    Raises:
        DecodeError: the value is not an object, an intValue/doubleValue does not parse or is out of
            range, or it nests deeper than :data:`MAX_ANY_VALUE_DEPTH` levels.
    """
    if not value:
        return None
    if type(value) is not dict:
        raise DecodeError(f"AnyValue must be an object, got {value!r:.80}")
    if depth > MAX_ANY_VALUE_DEPTH:
        raise DecodeError(f"AnyValue nested deeper than {MAX_ANY_VALUE_DEPTH} levels")
    for kind, inner in value.items():
        if kind == "stringValue":
            return inner
        if kind == "intValue":
            return int64(inner)
        if kind == "boolValue":
            return bool(inner)
        if kind == "doubleValue":
            number = to_float(inner)
            return number if math.isfinite(number) else _NON_FINITE[str(number)]
        if kind == "arrayValue":
            return [any_value(v, depth + 1) for v in (inner or {}).get("values") or ()]
        if kind == "kvlistValue":
            return {kv["key"]: any_value(kv.get("value"), depth + 1) for kv in (inner or {}).get("values") or ()}
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
                out[kv["key"]] = int64(value["intValue"])
                continue
        out[kv["key"]] = any_value(value)
    return out


def attributes_json(key_values: list | None) -> str:
    """``attributes_dict`` serialized as compact JSON text (``"{}"`` for none)."""
    if not key_values:
        return "{}"
    return orjson.dumps(attributes_dict(key_values)).decode()


def to_int(value: Any) -> int:
    """An integer from a JSON number or string (OTLP/JSON writes 64-bit integers as either).

    Raises:
        DecodeError: neither an integer nor a string of one.
    """
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DecodeError(f"expected a 64-bit integer (number or string), got {value!r:.80}") from None


def int64(value: Any, field: str = "intValue") -> int:
    """:func:`to_int` within the signed 64-bit range (an ``int64`` field such as ``intValue``).

    Raises:
        DecodeError: not an integer, or outside [-2^63, 2^63 - 1].
    """
    number = to_int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise DecodeError(f"{field} {number} is outside the int64 range")
    return number


def text(value: Any, field: str) -> str | None:
    """A ``string`` field: its text, None when missing or empty.

    Raises:
        DecodeError: the JSON value is not a string.
    """
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise DecodeError(f"{field} must be a string, got {value!r:.80}")
    return value


def fixed64(value: Any, field: str) -> int:
    """A ``fixed64`` (unsigned) value such as a time in ns since the Unix epoch or a count; 0 when missing.

    Stored as a signed 64-bit integer (bigint, timestamptz): values from 2^63 up to 2^64 - 1 (for a time,
    from the year 2262) cannot be stored and reject their record with this reason.

    Raises:
        DecodeError: not an integer, negative, or 2^63 or more.
    """
    if not value:
        return 0
    number = to_int(value)
    if not 0 <= number <= INT64_MAX:
        raise DecodeError(f"{field} {number} is outside the storable range 0 .. 2^63-1")
    return number


time_ns = fixed64


def int32(value: Any, field: str) -> int:
    """An ``int32``/``uint32``/``sint32`` field (flags, scale, bucket offsets) within the signed 32-bit range
    its integer column holds; 0 when missing.

    Raises:
        DecodeError: not an integer, or outside [-2^31, 2^31 - 1].
    """
    if not value:
        return 0
    number = to_int(value)
    if not -(1 << 31) <= number < (1 << 31):
        raise DecodeError(f"{field} {number} is outside the int32 range")
    return number


def enum_value(value: Any, names: dict[str, int], field: str) -> int:
    """An OTLP enum given as an integer or by its name (``SPAN_KIND_CLIENT``), as the Collector's OTLP/JSON
    unmarshaler (pdata ``ReadEnumValue``) and protobuf's JSON printer write it; missing gives 0.

    Raises:
        DecodeError: an unknown name, or neither an integer nor a string.
    """
    if not value:
        return 0
    number = None
    if type(value) is int:
        number = value
    elif type(value) is str:
        if value in names:
            return names[value]
        if value.isdigit():  # a number in a string: more lenient than the Collector, as this decoder always was
            number = int(value)
    if number is None:
        raise DecodeError(f"{field} {value!r:.80} is not a known enum value")
    if not -(1 << 15) <= number < (1 << 15):  # stored as smallint; OTLP's enums use 0-24
        raise DecodeError(f"{field} {number} is outside the stored smallint range")
    return number


def _names(prefix: str, *names: str) -> dict[str, int]:
    return {f"{prefix}_{name}": number for number, name in enumerate(names)}


SPAN_KINDS = _names("SPAN_KIND", "UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUS_CODES = _names("STATUS_CODE", "UNSET", "OK", "ERROR")
SEVERITY_NUMBERS = _names(
    "SEVERITY_NUMBER", "UNSPECIFIED",
    *(f"{level}{n if n > 1 else ''}" for level in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL") for n in range(1, 5)),
)
AGGREGATION_TEMPORALITIES = _names("AGGREGATION_TEMPORALITY", "UNSPECIFIED", "DELTA", "CUMULATIVE")


def opt_int(value: Any) -> int | None:
    """:func:`to_int`, or None for None."""
    return None if value is None else to_int(value)


def to_float(value: Any) -> float:
    """A double from a JSON number or one of the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.

    Raises:
        DecodeError: anything else.
    """
    if type(value) is float:
        return value
    try:
        return float(value)  # also "NaN", "Infinity", "-Infinity" and integers
    except (TypeError, ValueError):
        raise DecodeError(f"expected a double (number or string), got {value!r:.80}") from None


def opt_float(value: Any) -> float | None:
    """:func:`to_float`, or None for None and NaN (stored as NULL in double precision columns)."""
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


def point_id(metric_id: bytes, attributes: str, start: int, time: int) -> bytes:
    """A data point's ``point_id``: :func:`record_key` of its metric's ``metric_id``, its attributes as JSON
    text and its start and time (ns), with the text built in one f-string (it runs once per data point). The
    OTLP/JSON decoders and the OTLP protobuf decoder call it, so a point has one id in every form."""
    return hashlib.md5(f"{metric_id.hex()}\x1f{attributes}\x1f{start}\x1f{time}".encode(), usedforsecurity=False).digest()


def log_id(time: int, observed: int, trace_id: bytes | None, span_id: int | None, flags: int, severity_number: int,
           severity_text: str | None, body: str, event_name: str | None, scope_part: str, attributes: str,
           resource_json: str) -> bytes:
    """A log record's ``log_id``: :func:`record_key` of its identity fields (times ns, ids, flags, severity,
    body and attributes as JSON text, event name, ``scope_part`` = ``"<scope name>\x1f<scope version>\x1f"``,
    resource attributes JSON text), with the text built in one f-string (it runs once per log record).
    The OTLP/JSON decoders and the OTLP protobuf decoder call it, so a record has one id in every form."""
    key = (
        f"{time}\x1f{observed}\x1f{trace_id.hex() if trace_id else ''}\x1f"
        f"{'' if span_id is None else span_id}\x1f{flags}\x1f{severity_number}\x1f{severity_text or ''}\x1f"
        f"{body}\x1f{event_name or ''}\x1f{scope_part}{attributes}\x1f{resource_json}"
    )
    return hashlib.md5(key.encode(), usedforsecurity=False).digest()


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
            text(scope.get("name"), "scope name"),
            text(scope.get("version"), "scope version"),
            attributes_json(scope.get("attributes")),
        )


# Proto field names in a file mean it was written with protobuf's own names (valid proto3 JSON, which the
# Collector's unmarshaler reads too). Every record of every signal in that form holds one of these (its
# resource list, its times, its attribute values); each is a fast substring search over the file's bytes.
# A false positive (an attribute value holding one) only costs the renaming pass, never a wrong value.
SNAKE_CASE_MARKERS = (b'_unix_nano"', b'resource_', b'_value"')


def camelize(value: Any) -> Any:
    """``value`` with every object key in lowerCamelCase (``resource_spans`` → ``resourceSpans``), recursively.

    Safe for OTLP/JSON: its object keys are all proto field names (attribute keys are values of ``key``).
    """
    if type(value) is dict:
        return {(_camel(k) if "_" in k else k): camelize(v) for k, v in value.items()}
    if type(value) is list:
        return [camelize(v) for v in value]
    return value


def record_list(entry: dict, key: str, where: str) -> list:
    """``entry[key]`` (a list of records such as ``spans`` or ``logRecords``), or [] when missing.

    Raises:
        DecodeError: it is not a list (the whole ``entry`` is then rejected: its records cannot be told apart).
    """
    value = entry.get(key)
    if value is None:
        return []
    if type(value) is not list:
        raise DecodeError(f"{where}{key} must be a list, got {type(value).__name__}")
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
