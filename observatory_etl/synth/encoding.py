"""OTLP/JSON encoding: time units, OTLP enums and attribute helpers.

Per the OTLP "JSON Protobuf Encoding": 64-bit integers (``intValue``) are JSON strings.
"""

from __future__ import annotations

import orjson

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
NS_PER_US = 1_000


# OTLP enums.
_KIND_INTERNAL, _KIND_SERVER, _KIND_CLIENT = 1, 2, 3
_STATUS_UNSET: dict = {}
_STATUS_OK = {"code": 1}
_SEV_INFO, _SEV_WARN, _SEV_ERROR = (9, "INFO"), (13, "WARN"), (17, "ERROR")
_TEMPORALITY_DELTA, _TEMPORALITY_CUMULATIVE = 1, 2


# --------------------------------------------------------------------------------------------------
# OTLP/JSON attribute helpers (64-bit ints as strings, per the JSON Protobuf Encoding)


def _s(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def _i(key: str, value: int) -> dict:
    return {"key": key, "value": {"intValue": str(value)}}


def _d(key: str, value: float) -> dict:
    return {"key": key, "value": {"doubleValue": value}}


def _b(key: str, value: bool) -> dict:
    return {"key": key, "value": {"boolValue": value}}


def _sa(key: str, values: list[str]) -> dict:
    return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in values]}}}


def _json(value) -> str:
    return orjson.dumps(value).decode()
