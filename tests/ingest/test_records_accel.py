"""The compiled accelerator of the OTLP/JSON fast path (``observatory_etl.ingest.otlp_json._records``) changes
nothing but speed: :func:`observatory_etl.ingest.otlp_json.typed.decode` gives EXACTLY the same result with it
(``typed._records`` the C module) and without it (``typed._records = None``, the pure Python path).

"The same" is strict (:func:`difference`): the return value; every column list of every table value by value
with the same Python type at every position, recursively (``True`` is not ``1``, ``1`` is not ``1.0``,
``-0.0`` is not ``0.0``, NaN equals NaN, dict keys in the same order, bytes are not str); the LLM sources
(``columns.llm``: rows, sparse positions and values, extras, resolved rows and values); ``columns.rows``,
``columns.metric_ids``, ``columns.rejects``, and the spill state. An exception escaping ``decode`` is an
outcome too (compared by type and message).

Inputs:

* hypothesis-generated valid requests of every signal (tests/ingest/test_decoder_properties.py), written with
  random JSON forms: escapes (``\\u00XX`` in upper or lower case, ``\\/``, surrogate pairs), raw UTF-8 or
  ASCII, whitespace between tokens; GenAI spans (the LLM sources);
* the same after mutations: those of test_decoder_properties.py (a field or value of another JSON type, a key
  deleted, a record duplicated, U+0000, an AnyValue 70 levels deep, truncation), and raw-text ones written
  here (a value replaced by raw JSON text such as ``1e400``, ``-0``, ``2**64``, a lone surrogate escape,
  invalid UTF-8 bytes; a key deleted; an unknown field; a duplicated key);
* hand-written examples as JSON text (:data:`EXAMPLES`): ids, kinds, times, statuses, AnyValues of every kind
  and form, nesting at the depth limit, string escapes and encodings, unknown and null fields, events, links
  (many), whitespace; log records' times, severities, bodies, flags, ids and event names; number and histogram
  data points' values, times, flags, exemplars, counts, sums, bucket counts and bounds;
* the synthesizer's files (the common case, which the accelerator must actually take) and the official OTLP
  examples (shared/fixtures/otlp).

The module is skipped when the extension is not built, except :func:`test_the_accelerator_is_built`, which
fails then when ``OBSERVATORY_REQUIRE_ACCEL=1`` (CI).
"""

from __future__ import annotations

import copy
import gc
import json
import locale
import math
import os
import random
import shutil
import subprocess
import sys
import tracemalloc
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import tests.ingest.test_decoder_properties as props
from observatory_etl import synth
from observatory_etl.ingest.otlp_json import typed as otlp_typed
from tests.conftest import FIXTURES, HOUR

ACCEL = getattr(otlp_typed, "_records", None)  # the C module as typed.py imported it, or None (not built)
needs_accel = pytest.mark.skipif(ACCEL is None, reason="the _records extension is not built (typed._records is None)")

_settings, new_columns = props._settings, props.new_columns


# ---------------------------------------------------------------------------------------------------
# Strict comparison of two decodes


def _same_float(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def difference(a, b, path: str = "") -> str | None:
    """Where ``a`` and ``b`` first differ (a path and both values), or None when they are strictly the same:
    the same type at every position, recursively; floats by value and sign, NaN equal to NaN; dicts with the
    same keys in the same order."""
    if type(a) is not type(b):
        return f"{path or '.'}: {type(a).__name__} {a!r:.200} vs {type(b).__name__} {b!r:.200}"
    if type(a) is float:
        return None if _same_float(a, b) else f"{path or '.'}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        keys_a, keys_b = list(a), list(b)
        if len(keys_a) != len(keys_b):
            return f"{path or '.'}: dict of {len(keys_a)} keys {keys_a!r:.300} vs {len(keys_b)} keys {keys_b!r:.300}"
        for index, (key_a, key_b) in enumerate(zip(keys_a, keys_b)):
            found = difference(key_a, key_b, f"{path}{{key {index}}}")
            if found:
                return found
            found = difference(a[key_a], b[key_b], f"{path}[{key_a!r:.60}]")
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path or '.'}: {type(a).__name__} of {len(a)} vs {len(b)} items: {a!r:.300} vs {b!r:.300}"
        for index, (item_a, item_b) in enumerate(zip(a, b)):
            found = difference(item_a, item_b, f"{path}[{index}]")
            if found:
                return found
        return None
    if a == b:
        return None
    hint = " (the same repr: a non-canonical object?)" if repr(a) == repr(b) else ""
    return f"{path or '.'}: {a!r:.300} vs {b!r:.300}{hint}"


def state(columns) -> dict:
    """Everything a decode leaves in ``columns`` (as plain values, for :func:`difference`)."""
    llm = columns.llm
    return {
        "tables": columns.tables,
        "llm.rows": llm.rows,
        "llm.sparse": llm.sparse,
        "llm.extras": llm.extras,
        "llm.resolved_rows": llm.resolved_rows,
        "llm.resolved": llm.resolved,
        "rows": columns.rows,
        "metric_ids": columns.metric_ids,
        "rejects": columns.rejects,
        "spilled": columns.spilled,
        "spilled_nul": columns.spilled_nul,
    }


def run(signal: str, data: bytes, records) -> tuple[tuple, dict]:
    """``typed.decode(signal, data, fresh columns)`` with ``typed._records`` set to ``records`` (None: the pure
    Python path): its outcome ("returned", value) or ("raised", "Type: message"), and the columns' state."""
    columns = new_columns()
    saved = otlp_typed._records
    otlp_typed._records = records
    try:
        outcome = ("returned", otlp_typed.decode(signal, data, columns))
    except Exception as exc:  # noqa: BLE001 — an escaping exception is an outcome to compare
        outcome = ("raised", f"{type(exc).__name__}: {exc}")
    finally:
        otlp_typed._records = saved
    return outcome, state(columns)


def decode_both(signal: str, data: bytes):
    """Decode ``data`` with the accelerator off, then on; assert the outcomes and column states are strictly the
    same. Returns the outcome (``("returned", records or None)`` or ``("raised", ...)``)."""
    off_outcome, off_state = run(signal, data, None)
    on_outcome, on_state = run(signal, data, ACCEL)
    found = [d for d in (difference(on_outcome, off_outcome, "outcome"),) if d]
    for name, value in on_state.items():
        if name == "tables":  # every differing column, not only the first
            for table, cols in value.items():
                found += [d for column, values in cols.items()
                          if (d := difference(values, off_state["tables"][table][column], f"{table}.{column}"))]
        elif (d := difference(value, off_state[name], name)):
            found.append(d)
    if found:
        listed = "\n    ".join(found[:12]) + (f"\n    … {len(found) - 12} more" if len(found) > 12 else "")
        pytest.fail(
            f"accelerator on vs off differ for {signal} input {data[:1500]!r}{'…' if len(data) > 1500 else ''}:\n"
            f"  outcome on: {on_outcome}, off: {off_outcome}\n  differences (on vs off):\n    {listed}",
            pytrace=False,
        )
    return off_outcome


class Counting:
    """A stand-in for the C module counting, per function, the calls and the non-None results (records the
    accelerator decoded itself rather than leaving them to msgspec)."""

    def __init__(self, module) -> None:
        self._module = module
        self.calls: Counter = Counter()
        self.taken: Counter = Counter()

    def __getattr__(self, name):
        attribute = getattr(self._module, name)
        if not callable(attribute):
            return attribute

        def counted(*args, **kwargs):
            result = attribute(*args, **kwargs)
            self.calls[name] += 1
            self.taken[name] += result is not None
            return result

        return counted


# ---------------------------------------------------------------------------------------------------
# Writing JSON text in varied forms


class RawJSON(str):
    """JSON text written as it is (a lone surrogate in it becomes that byte: surrogateescape)."""


class Pairs(list):
    """A JSON object given as (key, value) pairs, so that keys may repeat."""


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Writer:
    """Writes JSON text with random (seeded) forms: ``\\uXXXX`` escapes of any character (hex digits in upper or
    lower case, surrogate pairs above the BMP), ``\\/``, raw UTF-8 or ASCII only, whitespace between tokens."""

    def __init__(self, rnd: random.Random, *, escapes: float = 0.0, key_escapes: float = 0.0, ascii_only: bool = True,
                 spaces: float = 0.0, newlines: bool = False) -> None:
        self.rnd, self.escapes, self.ascii_only, self.spaces = rnd, escapes, ascii_only, spaces
        self.key_escapes = key_escapes
        self.blanks = (" ", "\t", "\r", "\n", "  ") if newlines else (" ", "\t", "\r", "  ")

    def ws(self) -> str:
        return self.rnd.choice(self.blanks) if self.spaces and self.rnd.random() < self.spaces else ""

    def _u(self, code: int) -> str:
        text = f"{code:04x}"
        return "\\u" + (text.upper() if self.rnd.random() < 0.5 else text)

    def string(self, text: str, key: bool = False) -> str:
        out = ['"']
        rate = self.key_escapes if key else self.escapes
        for char in text:
            code = ord(char)
            escape = rate and self.rnd.random() < rate
            if 0xD800 <= code < 0xE000:  # a lone surrogate in the text: its escape
                out.append(self._u(code))
            elif char in _SHORT_ESCAPES:
                out.append(self._u(code) if escape else _SHORT_ESCAPES[char])
            elif code < 0x20:
                out.append(self._u(code))
            elif escape or (code > 0x7F and self.ascii_only):
                if char == "/" and self.rnd.random() < 0.5:
                    out.append("\\/")
                elif code > 0xFFFF:
                    code -= 0x10000
                    out.append(self._u(0xD800 + (code >> 10)) + self._u(0xDC00 + (code & 0x3FF)))
                else:
                    out.append(self._u(code))
            else:
                out.append(char)
        out.append('"')
        return "".join(out)

    def write(self, value) -> str:
        ws = self.ws
        if type(value) is RawJSON:
            return str(value)
        if type(value) is str:
            return self.string(value)
        if type(value) is Pairs:
            items = value
        elif type(value) is dict:
            items = list(value.items())
        elif type(value) is list:
            return "[" + ws() + ("," + ws()).join(self.write(v) + ws() for v in value) + "]"
        else:  # None, bool, int, float (json writes integers of any size)
            return json.dumps(value)
        return "{" + ws() + ("," + ws()).join(
            self.string(k, key=True) + ws() + ":" + ws() + self.write(v) + ws() for k, v in items
        ) + "}"


def to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def write_requests(rnd: random.Random, docs: list) -> bytes:
    """``docs`` as one JSON document, or JSON Lines when several, in a random form (see :class:`Writer`); object
    keys escaped one time in eight only (the accelerator leaves a record with an escaped key to msgspec)."""
    form = rnd.randrange(4)
    writer = Writer(
        rnd,
        escapes=(0.0, 0.0, 0.15, 0.5)[form],
        key_escapes=0.2 if rnd.random() < 0.125 else 0.0,
        ascii_only=rnd.random() < 0.5,
        spaces=(0.0, 0.3, 0.0, 0.3)[form],
        newlines=len(docs) == 1,
    )
    return b"\n".join(to_bytes(writer.write(doc)) for doc in docs)


def write_and_decode(signal: str, rnd: random.Random, docs: list, truncate: bool = False):
    """``docs`` written by :func:`write_requests` (cut at a random length with ``truncate``), noted for hypothesis'
    report, and decoded both ways (:func:`decode_both`'s result)."""
    raw = write_requests(rnd, docs)
    if truncate:
        raw = raw[: rnd.randint(0, len(raw))]
    note(f"file: {raw[:3000]!r}")
    return decode_both(signal, raw)


def request_docs(signal: str):
    """One or two generated requests of ``signal`` (test_decoder_properties.py's), as documents."""
    return st.lists(props.REQUESTS[signal].map(lambda pair: pair[0]), min_size=1, max_size=2)


# ---------------------------------------------------------------------------------------------------
# Raw-text mutations (besides those of test_decoder_properties.py)


def deep_any_value_text(levels: int) -> str:
    return json.dumps(props.deep_any_value(levels))


RAW_VALUES = tuple(RawJSON(text) for text in (
    "null", "true", "false", "0", "-0", "-1", "1", "2", "3", "9", "32767", "32768", "255", "256",
    str(2**63 - 1), str(2**63), str(2**64 - 1), str(2**64), str(-(2**63)), str(-(2**63) - 1),
    "1.5", "1.0", "-0.0", "0.0", "1e3", "1E2", "1e400", "-1e400", "1e-400", "5e-324", "0.1", "1e308",
    "123456789012345678901234567890", "9007199254740993", "2.2250738585072011e-308",
    '""', '"x"', '"00"', '"0"', '"5"', '"-5"', '"+5"', '" 5"', '"5 "', '"1_0"', '"1e3"', '"１２"', '"NaN"',
    '"Infinity"', '"-Infinity"', '"SPAN_KIND_CLIENT"', '"SEVERITY_NUMBER_INFO"', '"STATUS_CODE_ERROR"',
    '"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"\\udc00"', '"\\ud83d\\ude00"', '"\\uD83D\\uDE00"', '"\\/"',
    '"\\"\\\\\\b\\f\\n\\r\\t"', '"\\u00e9"', '"é😀"', '"\udcff"', '"a\udcc3"', '"\udced\udca0\udc80"',
    '"\udcc0\udcaf"', '"5b8efff798038103d269b633813fc60c"', '"eee19b7ec3c1b174"', '"EEE19B7EC3C1B174"',
    '"0000000000000000"', '"00000000000000000000000000000000"',
    "[]", "[1]", '["x"]', "[{}]", "[null]", "{}", '{"stringValue":"s"}', '{"intValue":"7"}',
    '{"key":"k","value":{"intValue":1}}', '{"values":[]}', '{"zz":1}',
    deep_any_value_text(70), deep_any_value_text(64), "[" * 900 + "]" * 900,
))
RAW_MUTATIONS = ("value",) * 6 + ("delete", "unknown", "duplicate key", "duplicate key")
_RECORD_LISTS = ("spans", "logRecords", "metrics")


def raw_mutate(rnd: random.Random, doc):
    """``(doc after one raw-text mutation, what was done)``; four times in five the place is inside a record
    (what the accelerator reads). ``doc`` itself is left as it was (generated values share objects: the
    strategies' constants)."""
    doc = copy.deepcopy(doc)
    nodes = list(props._nodes(doc))
    inside = [(p, node) for p, node in nodes if any(step in _RECORD_LISTS for step in p[:-1] if type(step) is str)
              or (len(p) >= 2 and p[-2] in _RECORD_LISTS)]
    if inside and rnd.random() < 0.8:
        nodes = inside
    kind = rnd.choice(RAW_MUTATIONS)
    objects = [(p, node) for p, node in nodes if type(node) is dict]
    if kind == "value":
        path = rnd.choice([p for p, _ in nodes])
        value = rnd.choice(RAW_VALUES)
        return props._put(doc, path, value), f"value: {path} = {value[:80]!r}"
    if not objects:
        return doc, f"{kind}: no object"
    path, node = rnd.choice(objects)
    if kind == "delete":
        if not node:
            return doc, "delete: empty object"
        key = rnd.choice(list(node))
        del node[key]
        return doc, f"delete: {path} [{key!r}]"
    if kind == "unknown":
        node["zz"] = 1
        return doc, f"unknown: {path} ['zz'] = 1"
    # duplicate key: the key again before or after it, with the same value or another one
    if not node:
        return doc, "duplicate key: empty object"
    key = rnd.choice(list(node))
    other = node[key] if rnd.random() < 0.3 else rnd.choice(RAW_VALUES)
    pairs = Pairs(node.items())
    at = rnd.randrange(len(pairs) + 1)
    pairs.insert(at, (key, other))
    return props._put(doc, path, pairs), f"duplicate key: {path} [{key!r}] again at {at} = {str(other)[:80]!r}"


# ---------------------------------------------------------------------------------------------------
# Requests in the accelerator's common case (so that most records are read by the C code, not msgspec)


def _common(signal: str, record: dict) -> dict:
    """A generated record brought to the common case: enums as integers, no links."""
    if signal == "traces":
        record.pop("links", None)
        if type(record.get("kind")) is str:
            record["kind"] = props.SPAN_KIND_NAMES.index(record["kind"])
        status = record.get("status")
        if status and type(status.get("code")) is str:
            status["code"] = props.STATUS_CODE_NAMES.index(status["code"])
    elif signal == "metrics":
        for data in (value for value in record.values() if type(value) is dict):
            for point in data.get("dataPoints", ()):
                point.pop("exemplars", None)
    elif type(record.get("severityNumber")) is str:
        record["severityNumber"] = props.SEVERITY_NAMES.index(record["severityNumber"])
    return record


@st.composite
def common_requests(draw, signal: str):
    """A request of one resource and scope holding 1-5 records (spans, log records, or metrics of the data
    fields the accelerator reads: gauge, sum, histogram) in the common case."""
    top, scope_key, records_key, _ = props.LAYOUT[signal]
    strategy = {"traces": props.spans(), "logs": props.log_records(),
                "metrics": st.sampled_from(("gauge", "sum", "histogram")).flatmap(props.metrics)}[signal]
    records = [_common(signal, copy.deepcopy(draw(strategy)[0])) for _ in range(draw(st.integers(1, 5)))]
    resource_attributes = draw(props.RESOURCE_ATTRIBUTES)[0]
    return {top: [{"resource": {"attributes": resource_attributes},
                   scope_key: [{"scope": {"name": "lib", "version": "1"}, records_key: records}]}]}


# ---------------------------------------------------------------------------------------------------
# The test that CI runs to make sure the extension is built


def test_the_accelerator_is_built():
    if os.environ.get("OBSERVATORY_REQUIRE_ACCEL") != "1":
        pytest.skip("OBSERVATORY_REQUIRE_ACCEL=1 not set")
    from observatory_etl.ingest.otlp_json import _records  # fails when not built

    assert otlp_typed._records is _records, "typed.py did not pick up the built _records module"
    assert all(callable(getattr(_records, name)) for name in ("span", "log_record", "number_point", "histogram_point"))


# ---------------------------------------------------------------------------------------------------
# 1. Generated requests


@needs_accel
@pytest.mark.parametrize("signal", props.SIGNALS)
@_settings(60)
@given(data=st.data())
def test_generated_valid_requests_decode_the_same_with_and_without_the_accelerator(signal, data):
    docs = data.draw(request_docs(signal), label="requests")
    rnd = data.draw(st.randoms(use_true_random=False), label="random")
    write_and_decode(signal, rnd, docs)


@needs_accel
@_settings(150)
@given(spans_=st.lists(props.genai_spans(), min_size=1, max_size=3), rnd=st.randoms(use_true_random=False))
def test_genai_spans_decode_the_same_with_and_without_the_accelerator(spans_, rnd):
    # GenAI keys holding values of any kind: the LLM sources (columns.llm) are compared too
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}},
                               {"key": "deployment.environment.name", "value": {"stringValue": "prod"}}]}
    spans_ = copy.deepcopy(spans_)
    if rnd.random() < 0.5:
        for record in spans_:
            record["events"] = [{"name": "gen_ai.content.prompt", "timeUnixNano": "1",
                                 "attributes": [{"key": "gen_ai.prompt", "value": {"stringValue": "hi"}}]}]
    doc = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans_}]}]}
    assert write_and_decode("traces", rnd, [doc])[1] == len(spans_) + sum(len(s.get("events", ())) for s in spans_)


@needs_accel
@pytest.mark.parametrize("signal", props.SIGNALS)
@_settings(80, shrink=False)
@given(data=st.data())
def test_mutated_requests_decode_the_same_with_and_without_the_accelerator(signal, data):
    """The mutations of test_decoder_properties.py (fields and values of other JSON types, keys deleted,
    records duplicated, U+0000, AnyValues 70 levels deep, truncation)."""
    docs = data.draw(request_docs(signal), label="requests")
    rnd = data.draw(st.randoms(use_true_random=False), label="random")
    kinds = data.draw(st.lists(st.sampled_from(props.MUTATIONS), min_size=1, max_size=3), label="mutations")
    for kind in kinds:
        if kind != "truncate":
            index = rnd.randrange(len(docs))
            docs[index], done = props.mutate(data, rnd, docs[index], kind, props.OTLP_FIELDS)
            note(f"request {index}: {done}")
    write_and_decode(signal, rnd, docs, truncate="truncate" in kinds)


@needs_accel
@pytest.mark.parametrize("signal", props.SIGNALS)
@_settings(100, shrink=False)
@given(data=st.data())
def test_raw_text_mutations_decode_the_same_with_and_without_the_accelerator(signal, data):
    """Values replaced by raw JSON text (numbers out of range or in odd forms, escapes, lone surrogates,
    invalid UTF-8, deep nests), keys deleted, unknown fields added, keys duplicated."""
    docs = data.draw(request_docs(signal), label="requests")
    rnd = data.draw(st.randoms(use_true_random=False), label="random")
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        index = rnd.randrange(len(docs))
        docs[index], done = raw_mutate(rnd, docs[index])
        note(f"request {index}: {done}")
    write_and_decode(signal, rnd, docs)


@needs_accel
@pytest.mark.parametrize("signal", props.SIGNALS)
@_settings(120)
@given(data=st.data())
def test_common_case_requests_decode_the_same_with_and_without_the_accelerator(signal, data):
    doc = data.draw(common_requests(signal), label="request")
    rnd = data.draw(st.randoms(use_true_random=False), label="random")
    write_and_decode(signal, rnd, [doc])


@needs_accel
@pytest.mark.parametrize("signal", props.SIGNALS)
@_settings(200, shrink=False)
@given(data=st.data())
def test_common_case_requests_mutated_decode_the_same_with_and_without_the_accelerator(signal, data):
    """One or two mutations (raw-text ones, or those of test_decoder_properties.py) of a common-case request:
    the other records still go through the accelerator."""
    doc = data.draw(common_requests(signal), label="request")
    rnd = data.draw(st.randoms(use_true_random=False), label="random")
    for _ in range(data.draw(st.integers(1, 2), label="mutations")):
        if rnd.random() < 0.6:
            doc, done = raw_mutate(rnd, doc)
        else:
            kind = rnd.choice([k for k in props.MUTATIONS if k != "truncate"])
            doc, done = props.mutate(data, rnd, doc, kind, props.OTLP_FIELDS)
        note(done)
    write_and_decode(signal, rnd, [doc])


# ---------------------------------------------------------------------------------------------------
# 2. Hand-written examples (JSON text)

TRACE_ID, SPAN_ID, PARENT_ID = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "eee19b7ec3c1b173"
RESOURCE = '{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]}'
DELETE = object()  # a field value meaning "leave the field out"

SPAN_BASE = {
    "traceId": f'"{TRACE_ID}"',
    "spanId": f'"{SPAN_ID}"',
    "parentSpanId": f'"{PARENT_ID}"',
    "name": '"op"',
    "kind": "2",
    "startTimeUnixNano": '"1544712660000000000"',
    "endTimeUnixNano": '"1544712661000000000"',
    "attributes": '[{"key":"http.method","value":{"stringValue":"GET"}},{"key":"n","value":{"intValue":"7"}}]',
    "status": "{}",
}
LOG_BASE = {
    "timeUnixNano": '"1544712660300000000"',
    "observedTimeUnixNano": '"1544712660300000001"',
    "severityNumber": "10",
    "severityText": '"Information"',
    "traceId": f'"{TRACE_ID}"',
    "spanId": f'"{SPAN_ID}"',
    "body": '{"stringValue":"Example log record"}',
    "attributes": '[{"key":"string.attribute","value":{"stringValue":"some string"}}]',
}


def _object(base: dict, fields: dict) -> str:
    merged = {**base, **fields}
    return "{" + ",".join(f'"{k}":{v}' for k, v in merged.items() if v is not DELETE) + "}"


def span(**fields) -> str:
    """A span's JSON text: SPAN_BASE with ``fields`` (name → JSON text, or DELETE) replacing or added."""
    return _object(SPAN_BASE, fields)


def log(**fields) -> str:
    return _object(LOG_BASE, fields)


def traces(*span_texts: str, resource: str = RESOURCE) -> str:
    spans_text = ",".join(span_texts)
    return (f'{{"resourceSpans":[{{"resource":{resource},"scopeSpans":[{{"scope":{{"name":"lib","version":"1"}},'
            f'"spans":[{spans_text}]}}]}}]}}')


def logs(*record_texts: str, resource: str = RESOURCE) -> str:
    records_text = ",".join(record_texts)
    return (f'{{"resourceLogs":[{{"resource":{resource},"scopeLogs":[{{"scope":{{"name":"lib"}},'
            f'"logRecords":[{records_text}]}}]}}]}}')


POINT_BASE = {
    "attributes": '[{"key":"host","value":{"stringValue":"a"}},{"key":"n","value":{"intValue":"2"}}]',
    "startTimeUnixNano": '"1544712660000000000"',
    "timeUnixNano": '"1544712661000000000"',
    "asDouble": "1.5",
}
HISTOGRAM_BASE = {
    "attributes": '[{"key":"host","value":{"stringValue":"a"}}]',
    "startTimeUnixNano": '"1544712660000000000"',
    "timeUnixNano": '"1544712661000000000"',
    "count": '"3"',
    "sum": "4.5",
    "bucketCounts": '["1","2","0"]',
    "explicitBounds": "[1, 2.5]",
    "min": "0.5",
    "max": "3",
}


def point(**fields) -> str:
    """A NumberDataPoint's JSON text: POINT_BASE with ``fields`` replacing or added (DELETE: left out)."""
    return _object(POINT_BASE, fields)


def histogram_point(**fields) -> str:
    return _object(HISTOGRAM_BASE, fields)


def metrics(*point_texts: str, kind: str = "gauge", data: str = "", resource: str = RESOURCE) -> str:
    """A metrics request of one metric of data field ``kind`` holding ``point_texts``; ``data``: more members of
    the data field (JSON text after a comma, e.g. ``"aggregationTemporality":2``)."""
    points_text = ",".join(point_texts)
    return (f'{{"resourceMetrics":[{{"resource":{resource},"scopeMetrics":[{{"scope":{{"name":"lib"}},'
            f'"metrics":[{{"name":"m","unit":"1","{kind}":{{"dataPoints":[{points_text}]{"," if data else ""}{data}}}}}]}}]}}]}}')


def attr(value_text: str, key: str = "k") -> str:
    """An attributes list of one KeyValue whose value is ``value_text`` (JSON text)."""
    return f'[{{"key":{json.dumps(key)},"value":{value_text}}}]'


def nest(levels: int, bottom: str = '{"stringValue":"bottom"}') -> str:
    """An AnyValue ``levels`` levels deep (arrays and kvlists alternating)."""
    text = bottom
    for level in range(levels - 1):
        text = (f'{{"arrayValue":{{"values":[{text}]}}}}' if level % 2
                else f'{{"kvlistValue":{{"values":[{{"key":"d","value":{text}}}]}}}}')
    return text


def s(text: str) -> str:
    """A JSON string literal of ``text``, ASCII-escaped."""
    return json.dumps(text)


# AnyValues as JSON text, each used as a span attribute, an event attribute and a log body/attribute
ANY_VALUES = {
    "string": '{"stringValue":"v"}',
    "string empty": '{"stringValue":""}',
    "string null": '{"stringValue":null}',
    "string number": '{"stringValue":5}',
    "int number": '{"intValue":5}',
    "int string": '{"intValue":"5"}',
    "int negative string": '{"intValue":"-5"}',
    "int plus string": '{"intValue":"+5"}',
    "int space string": '{"intValue":" 5"}',
    "int trailing space": '{"intValue":"5 "}',
    "int underscore": '{"intValue":"1_000"}',
    "int fullwidth": '{"intValue":"１２"}',
    "int leading zeros": '{"intValue":"007"}',
    "int minus zero": '{"intValue":"-0"}',
    "int number minus zero": '{"intValue":-0}',
    "int max": f'{{"intValue":{2**63 - 1}}}',
    "int max string": f'{{"intValue":"{2**63 - 1}"}}',
    "int min": f'{{"intValue":{-(2**63)}}}',
    "int min string": f'{{"intValue":"{-(2**63)}"}}',
    "int 2^63": f'{{"intValue":{2**63}}}',
    "int 2^63 string": f'{{"intValue":"{2**63}"}}',
    "int 2^64": f'{{"intValue":{2**64}}}',
    "int below min": f'{{"intValue":{-(2**63) - 1}}}',
    "int below min string": f'{{"intValue":"{-(2**63) - 1}"}}',
    "int float": '{"intValue":5.0}',
    "int float string": '{"intValue":"5.0"}',
    "int exponent": '{"intValue":1e3}',
    "int empty": '{"intValue":""}',
    "int x": '{"intValue":"x"}',
    "int null": '{"intValue":null}',
    "int bool": '{"intValue":true}',
    "bool true": '{"boolValue":true}',
    "bool false": '{"boolValue":false}',
    "bool string": '{"boolValue":"true"}',
    "bool number": '{"boolValue":1}',
    "double 1": '{"doubleValue":1}',
    "double 1.5": '{"doubleValue":1.5}',
    "double -0.0": '{"doubleValue":-0.0}',
    "double -0": '{"doubleValue":-0}',
    "double 0.0": '{"doubleValue":0.0}',
    "double 1e308": '{"doubleValue":1e308}',
    "double max": '{"doubleValue":1.7976931348623157e308}',
    "double 1e400": '{"doubleValue":1e400}',
    "double -1e400": '{"doubleValue":-1e400}',
    "double 1e-400": '{"doubleValue":1e-400}',
    "double NaN": '{"doubleValue":"NaN"}',
    "double nan lower": '{"doubleValue":"nan"}',
    "double Infinity": '{"doubleValue":"Infinity"}',
    "double -Infinity": '{"doubleValue":"-Infinity"}',
    "double inf": '{"doubleValue":"inf"}',
    "double 5e-324": '{"doubleValue":5e-324}',
    "double 4.9e-324": '{"doubleValue":4.9e-324}',
    "double subnormal edge": '{"doubleValue":2.2250738585072011e-308}',
    "double 0.1": '{"doubleValue":0.1}',
    "double 0.30000000000000004": '{"doubleValue":0.30000000000000004}',
    "double 1e23": '{"doubleValue":1e23}',
    "double 2^53+1": '{"doubleValue":9007199254740993}',
    "double huge integer": '{"doubleValue":123456789012345678901234567890}',
    "double long mantissa": '{"doubleValue":0.1000000000000000055511151231257827021181583404541015625000001}',
    "double -1e-400": '{"doubleValue":-1e-400}',
    "double -0e5": '{"doubleValue":-0e5}',
    "double -0.0e0": '{"doubleValue":-0.0e0}',
    "double -5": '{"doubleValue":-5}',
    "double 2^64-1": f'{{"doubleValue":{2**64 - 1}}}',
    "double 2^63+1025": f'{{"doubleValue":{2**63 + 1025}}}',
    "double below int64": f'{{"doubleValue":{-(2**63) - 1}}}',
    "double -huge integer": '{"doubleValue":-123456789012345678901234567890}',
    "double 2^53+3": '{"doubleValue":9007199254740995}',
    "double halfway to even": '{"doubleValue":1.00000000000000011102230246251565404236316680908203125}',
    "double just above halfway": '{"doubleValue":1.00000000000000011102230246251565404236316680908203126}',
    "double half min subnormal": '{"doubleValue":2.4703282292062327e-324}',
    "double above half min subnormal": '{"doubleValue":2.4703282292062328e-324}',
    "double 63 chars": '{"doubleValue":0.' + "1" * 61 + "}",
    "double 64 chars": '{"doubleValue":0.' + "1" * 62 + "}",
    "double 1E2": '{"doubleValue":1E2}',
    "double 1e+2": '{"doubleValue":1e+2}',
    "double 2.5e-3": '{"doubleValue":2.5e-3}',
    "double string": '{"doubleValue":"1.5"}',
    "double string spaces": '{"doubleValue":" 1.5 "}',
    "double empty": '{"doubleValue":""}',
    "double null": '{"doubleValue":null}',
    "bytes": '{"bytesValue":"aGVsbG8="}',
    "bytes empty": '{"bytesValue":""}',
    "bytes not base64": '{"bytesValue":"not base64!"}',
    "bytes number": '{"bytesValue":5}',
    "array empty object": '{"arrayValue":{}}',
    "array empty values": '{"arrayValue":{"values":[]}}',
    "array null values": '{"arrayValue":{"values":null}}',
    "array null": '{"arrayValue":null}',
    "array": '{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"},{"boolValue":true},{"doubleValue":2.5}]}}',
    "array of empty": '{"arrayValue":{"values":[{}]}}',
    "array of null": '{"arrayValue":{"values":[null]}}',
    "array nested": '{"arrayValue":{"values":[{"arrayValue":{"values":[{"kvlistValue":{"values":'
                    '[{"key":"x","value":{"intValue":1}}]}}]}}]}}',
    "array unknown field": '{"arrayValue":{"values":[],"zz":1}}',
    "kvlist empty object": '{"kvlistValue":{}}',
    "kvlist empty values": '{"kvlistValue":{"values":[]}}',
    "kvlist": '{"kvlistValue":{"values":[{"key":"a","value":{"stringValue":"x"}},{"key":"b","value":{"intValue":2}}]}}',
    "kvlist nested": '{"kvlistValue":{"values":[{"key":"a","value":{"kvlistValue":{"values":[{"key":"b","value":'
                     '{"arrayValue":{"values":[{"doubleValue":1}]}}}]}}}]}}',
    "kvlist duplicate keys": '{"kvlistValue":{"values":[{"key":"a","value":{"intValue":1}},{"key":"b","value":'
                             '{"intValue":2}},{"key":"a","value":{"intValue":3}}]}}',
    "kvlist without value": '{"kvlistValue":{"values":[{"key":"a"}]}}',
    "kvlist null value": '{"kvlistValue":{"values":[{"key":"a","value":null}]}}',
    "kvlist without key": '{"kvlistValue":{"values":[{"value":{"intValue":1}}]}}',
    "kvlist number key": '{"kvlistValue":{"values":[{"key":1,"value":{"intValue":1}}]}}',
    "empty": "{}",
    "null": "null",
    "string and int": '{"stringValue":"a","intValue":1}',
    "int and string": '{"intValue":1,"stringValue":"a"}',
    "bool and double": '{"boolValue":true,"doubleValue":1.5}',
    "double and bool": '{"doubleValue":1.5,"boolValue":false}',
    "array and kvlist": '{"kvlistValue":{},"arrayValue":{}}',
    "bytes and string": '{"bytesValue":"AA==","stringValue":"s"}',
    "string twice": '{"stringValue":"a","stringValue":"b"}',
    "int twice": '{"intValue":1,"intValue":"2"}',
    "unknown field": '{"zz":1}',
    "string and unknown field": '{"stringValue":"a","zz":1}',
    "not an object": '"v"',
    "a list": "[]",
    "depth 63": nest(63),
    "depth 64": nest(64),
    "depth 65": nest(65),
    "depth 64 int bottom": nest(64, '{"intValue":"1"}'),
    "depth 300": nest(300),
    "depth 64 empty array bottom": nest(63, '{"arrayValue":{"values":[]}}'),
    "string escapes": '{"stringValue":' + s('"\\/\b\f\n\r\t') + "}",
    "string escapes raw": '{"stringValue":"\\"\\\\\\/\\b\\f\\n\\r\\t"}',
    "string \\u00e9": '{"stringValue":"\\u00e9"}',
    "string \\u00E9": '{"stringValue":"caf\\u00E9"}',
    "string \\u0000": '{"stringValue":"a\\u0000b"}',
    "string pair": '{"stringValue":"\\ud83d\\ude00"}',
    "string pair upper": '{"stringValue":"\\uD83D\\uDE00"}',
    "string lone high": '{"stringValue":"\\ud800"}',
    "string lone high then text": '{"stringValue":"\\ud800x"}',
    "string lone low": '{"stringValue":"\\udc00"}',
    "string reversed pair": '{"stringValue":"\\ude00\\ud83d"}',
    "string raw utf-8": '{"stringValue":"é😀中"}',
    "string escaped ascii": '{"stringValue":"\\u0061\\u0062"}',
    "string \\u007f and \\u0080": '{"stringValue":"\\u007f\\u0080\\u07ff\\u0800\\uffff"}',
    "string long": '{"stringValue":"' + "x" * 5000 + '"}',
    "string long escaped": '{"stringValue":"' + "\\u00e9" * 2000 + '"}',
}

GENAI_ATTRIBUTES = (
    '[{"key":"gen_ai.system","value":{"stringValue":"openai"}},{"key":"gen_ai.request.model","value":'
    '{"stringValue":"gpt-4o"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}},'
    '{"key":"gen_ai.usage.output_tokens","value":{"intValue":30}},{"key":"gen_ai.response.finish_reasons",'
    '"value":{"arrayValue":{"values":[{"stringValue":"stop"}]}}},{"key":"gen_ai.prompt.0.content",'
    '"value":{"stringValue":"hi"}},{"key":"llm.cost.total","value":{"doubleValue":0.5}},'
    '{"key":"session.id","value":{"stringValue":"s1"}}]'
)

# Raw byte strings (not text): invalid UTF-8 and raw control characters inside a string
BAD_BYTES = {
    "invalid utf-8 ff": b"\xff",
    "truncated sequence": b"\xc3",
    "overlong": b"\xc0\xaf",
    "utf-8 surrogate": b"\xed\xa0\x80",
    "beyond U+10FFFF": b"\xf4\x90\x80\x80",
    "truncated 3-byte": b"\xe2\x82",
    "raw control char": b"\x01",
    "raw tab": b"\t",
    "raw newline": b"\n",
    "raw DEL": b"\x7f",
}

EXAMPLES: list[tuple[str, str, str | bytes]] = []  # (id, signal, request text or bytes)


def example(name: str, signal: str, data: str | bytes) -> None:
    EXAMPLES.append((name, signal, data))


def _build_examples() -> None:
    t, lg = "traces", "logs"
    example("base span", t, traces(span()))
    example("base log record", lg, logs(log()))
    # ids
    for field, value in (("traceId", TRACE_ID), ("spanId", SPAN_ID), ("parentSpanId", PARENT_ID)):
        example(f"{field} upper", t, traces(span(**{field: s(value.upper())})))
        example(f"{field} mixed", t, traces(span(**{field: s(value.title())})))
        example(f"{field} zero", t, traces(span(**{field: s("0" * len(value))})))
        example(f"{field} empty", t, traces(span(**{field: '""'})))
        example(f"{field} missing", t, traces(span(**{field: DELETE})))
        example(f"{field} null", t, traces(span(**{field: "null"})))
        example(f"{field} short", t, traces(span(**{field: s(value[:-2])})))
        example(f"{field} odd length", t, traces(span(**{field: s(value[:-1])})))
        example(f"{field} long", t, traces(span(**{field: s(value + "ab")})))
        example(f"{field} space inside", t, traces(span(**{field: s(value[:4] + " " + value[5:])})))
        example(f"{field} spaces, fromhex fewer bytes", t, traces(span(**{field: s(" " + value[2:] + " ")})))
        example(f"{field} space pair", t, traces(span(**{field: s(value[:4] + " " + value[4:-1])})))
        example(f"{field} non-hex", t, traces(span(**{field: s("g" + value[1:])})))
        example(f"{field} 0x", t, traces(span(**{field: s("0x" + value[2:])})))
        example(f"{field} non-ascii", t, traces(span(**{field: s("é" + value[2:])})))
        example(f"{field} fullwidth digit", t, traces(span(**{field: s("５" + value[1:])})))
        example(f"{field} escaped hex", t, traces(span(**{field: '"\\u0035' + value[1:] + '"'})))
        example(f"{field} number", t, traces(span(**{field: "5"})))
        example(f"{field} nul", t, traces(span(**{field: '"\\u0000' + value[1:] + '"'})))
        example(f"{field} twice", t, traces(span(**{field: s(value) + f',"{field}":' + s(value.upper())})))
    # kind
    for name, text in (("0", "0"), ("3", "3"), ("32767", "32767"), ("32768", "32768"), ("-1", "-1"),
                       ("-32768", "-32768"), ("-32769", "-32769"), ("name", '"SPAN_KIND_CLIENT"'),
                       ("name lower", '"span_kind_client"'), ("unknown name", '"SPAN_KIND_BOGUS"'),
                       ("digit string", '"3"'), ("digit string big", '"32768"'), ("space digit", '" 3"'),
                       ("superscript", '"²"'), ("fullwidth", '"３"'), ("empty", '""'), ("true", "true"),
                       ("1.0", "1.0"), ("1e0", "1e0"), ("null", "null"), ("missing", DELETE), ("2^63", str(2**63)),
                       ("2^64", str(2**64)), ("-0", "-0"), ("list", "[]"), ("escaped name", '"SPAN_KIND_\\u0043LIENT"')):
        example(f"kind {name}", t, traces(span(kind=text)))
    # times
    for name, text in (("number", "1544712660000000000"), ("zero", "0"), ("zero string", '"0"'),
                       ("digit string", '"1544712660000000000"'), ("empty", '""'), ("plus", '"+5"'),
                       ("leading space", '" 5"'), ("trailing space", '"5 "'), ("underscore", '"1_0"'),
                       ("minus", '"-1"'), ("minus number", "-1"), ("minus zero", '"-0"'), ("minus zero number", "-0"),
                       ("leading zeros", '"0005"'), ("max", str(2**63 - 1)), ("max string", f'"{2**63 - 1}"'),
                       ("2^63", str(2**63)), ("2^63 string", f'"{2**63}"'), ("2^64", str(2**64)),
                       ("2^64 string", f'"{2**64}"'), ("1e3", "1e3"), ("1e3 string", '"1e3"'), ("1.0", "1.0"),
                       ("1.5", "1.5"), ("null", "null"), ("missing", DELETE), ("fullwidth", '"１２"'),
                       ("arabic-indic", '"٣"'), ("hex", '"0x10"'), ("x", '"x"'), ("true", "true"), ("list", "[]"),
                       ("escaped digit", '"\\u0031\\u0032"'), ("huge", "1" * 40), ("huge string", '"' + "1" * 40 + '"')):
        example(f"start {name}", t, traces(span(startTimeUnixNano=text)))
        example(f"end {name}", t, traces(span(endTimeUnixNano=text)))
        example(f"log time {name}", lg, logs(log(timeUnixNano=text)))
        example(f"log observed {name}", lg, logs(log(observedTimeUnixNano=text)))
        example(f"event time {name}", t, traces(span(events=f'[{{"name":"e","timeUnixNano":{text}}}]'
                                                         if text is not DELETE else '[{"name":"e"}]')))
    # status
    for name, text in (("missing", DELETE), ("null", "null"), ("empty", "{}"), ("error", '{"code":2,"message":"boom"}'),
                       ("name", '{"code":"STATUS_CODE_ERROR"}'), ("name ok", '{"code":"STATUS_CODE_OK"}'),
                       ("message empty", '{"message":""}'), ("message only", '{"message":"m"}'),
                       ("unknown field", '{"code":1,"zz":1}'), ("code 3", '{"code":3}'), ("code -1", '{"code":-1}'),
                       ("code 32768", '{"code":32768}'), ("code null", '{"code":null}'),
                       ("message null", '{"message":null}'), ("code string", '{"code":"2"}'),
                       ("code true", '{"code":true}'), ("code 1.0", '{"code":1.0}'), ("list", "[]"), ("string", '"x"'),
                       ("message nul", '{"code":2,"message":"a\\u0000b"}'), ("message escapes", '{"message":"\\u00e9\\n"}'),
                       ("code twice", '{"code":1,"code":2}'), ("message first", '{"message":"m","code":2}'),
                       ("bogus name", '{"code":"STATUS_CODE_BOGUS"}'), ("message number", '{"message":5}')):
        example(f"status {name}", t, traces(span(status=text)))
    # AnyValues: span attribute, event attribute, link attribute, log body, log attribute, resource attribute
    for name, value in ANY_VALUES.items():
        example(f"span attribute {name}", t, traces(span(attributes=attr(value))))
        example(f"log body {name}", lg, logs(log(body=value)))
        example(f"log attribute {name}", lg, logs(log(attributes=attr(value))))
    for name in ("int string", "double NaN", "depth 65", "array", "kvlist duplicate keys", "string lone high",
                 "unknown field", "string and int", "null", "double -0.0", "int 2^63"):
        example(f"event attribute {name}", t, traces(span(events=f'[{{"name":"e","attributes":{attr(ANY_VALUES[name])}}}]')))
        example(f"link attribute {name}", t, traces(span(
            links=f'[{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}","attributes":{attr(ANY_VALUES[name])}}}]')))
        example(f"resource attribute {name}", t, traces(span(), resource=f'{{"attributes":{attr(ANY_VALUES[name])}}}'))
    # KeyValues
    kv = {
        "without value": '[{"key":"k"}]',
        "value null": '[{"key":"k","value":null}]',
        "without key": '[{"value":{"stringValue":"v"}}]',
        "key null": '[{"key":null,"value":{"stringValue":"v"}}]',
        "key number": '[{"key":5,"value":{"stringValue":"v"}}]',
        "key empty": '[{"key":"","value":{"stringValue":"v"}}]',
        "key escapes": '[{"key":"a\\"b\\\\c\\u00e9\\ud83d\\ude00\\/","value":{"stringValue":"v"}}]',
        "key nul": '[{"key":"a\\u0000","value":{"stringValue":"v"}}]',
        "key lone surrogate": '[{"key":"\\ud800","value":{"stringValue":"v"}}]',
        "key raw utf-8": '[{"key":"clé😀","value":{"stringValue":"v"}}]',
        "value before key": '[{"value":{"stringValue":"v"},"key":"k"}]',
        "unknown field": '[{"key":"k","value":{"stringValue":"v"},"zz":1}]',
        "key twice": '[{"key":"a","key":"b","value":{"stringValue":"v"}}]',
        "value twice": '[{"key":"k","value":{"stringValue":"v"},"value":{"intValue":1}}]',
        "duplicate keys": '[{"key":"a","value":{"intValue":1}},{"key":"b","value":{"intValue":2}},'
                          '{"key":"a","value":{"stringValue":"last"}}]',
        "duplicate keys scalar then nested": '[{"key":"a","value":{"intValue":1}},{"key":"a","value":'
                                             '{"arrayValue":{"values":[]}}}]',
        "empty list": "[]",
        "null": "null",
        "object": "{}",
        "list of null": "[null]",
        "list of empty": "[{}]",
        "many": "[" + ",".join(f'{{"key":"k{i}","value":{{"intValue":"{i}"}}}}' for i in range(300)) + "]",
        "genai": GENAI_ATTRIBUTES,
        "genai odd values": '[{"key":"gen_ai.system","value":{"intValue":"5"}},{"key":"gen_ai.usage.input_tokens",'
                            '"value":{"doubleValue":"NaN"}},{"key":"gen_ai.usage.output_tokens","value":{"stringValue":'
                            '"12"}},{"key":"llm.token_count.prompt","value":{"doubleValue":1e19}},'
                            '{"key":"gen_ai.request.model","value":{}}]',
        "genai duplicate": '[{"key":"gen_ai.system","value":{"stringValue":"openai"}},{"key":"x","value":'
                           '{"intValue":1}},{"key":"gen_ai.system","value":{"stringValue":"anthropic"}}]',
    }
    for name, text in kv.items():
        example(f"span attributes {name}", t, traces(span(attributes=text)))
        example(f"log attributes {name}", lg, logs(log(attributes=text)))
    # strings in every string field
    strings = {
        "escapes": s('"\\/\b\f\n\r\t'),
        "slash escape": '"a\\/b"',
        "\\u00e9": '"\\u00e9"',
        "\\u0000": '"a\\u0000b"',
        "pair": '"\\ud83d\\ude00"',
        "lone high": '"\\ud800"',
        "lone low": '"\\udc00"',
        "raw utf-8": '"é😀"',
        "empty": '""',
        "null": "null",
        "number": "5",
        "true": "true",
        "list": "[]",
    }
    for name, text in strings.items():
        example(f"span name {name}", t, traces(span(name=text)))
        example(f"span traceState {name}", t, traces(span(traceState=text)))
        example(f"event name {name}", t, traces(span(events=f'[{{"name":{text}}}]')))
        example(f"link traceState {name}", t, traces(span(
            links=f'[{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}","traceState":{text}}}]')))
        example(f"status message {name}", t, traces(span(status=f'{{"code":2,"message":{text}}}')))
        example(f"attribute string {name}", t, traces(span(attributes=attr(f'{{"stringValue":{text}}}'))))
        example(f"log severityText {name}", lg, logs(log(severityText=text)))
        example(f"log eventName {name}", lg, logs(log(eventName=text)))
        example(f"log body string {name}", lg, logs(log(body=f'{{"stringValue":{text}}}')))
    for name, raw in BAD_BYTES.items():
        for field in ("name", "traceState"):
            example(f"span {field} {name}", t, to_bytes(traces(span(**{field: '"a"'}))).replace(b'"a"', b'"a' + raw + b'"'))
        example(f"attribute key {name}", t, to_bytes(traces(span(attributes=attr('{"stringValue":"v"}', "K"))))
                .replace(b'"K"', b'"K' + raw + b'"'))
        example(f"attribute value {name}", t, to_bytes(traces(span(attributes=attr('{"stringValue":"V"}'))))
                .replace(b'"V"', b'"V' + raw + b'"'))
        example(f"traceId {name}", t, to_bytes(traces(span())).replace(TRACE_ID.encode(), TRACE_ID[:-1].encode() + raw))
        example(f"span field name {name}", t, to_bytes(traces(span())).replace(b'"name"', b'"na' + raw + b'"'))
        example(f"log body {name}", lg, to_bytes(logs(log(body='{"stringValue":"B"}'))).replace(b'"B"', b'"B' + raw + b'"'))
        example(f"log severityText {name}", lg, to_bytes(logs(log(severityText='"S"'))).replace(b'"S"', b'"S' + raw + b'"'))
    # unknown fields and nulls
    for field in ("zz", "traceID", "trace_id", "droppedAttributesCount", "droppedEventsCount", "droppedLinksCount",
                  "flags"):
        example(f"span field {field}", t, traces(span(**{field: "1"})))
    example("span flags deep", t, traces(span(flags="[" * 900 + "]" * 900)))
    example("span flags object", t, traces(span(flags='{"a":[1,{"b":"\\u00e9"}],"c":null}')))
    example("span droppedAttributesCount string", t, traces(span(droppedAttributesCount='"x"')))
    for field in ("name", "traceState", "attributes", "events", "links", "status", "kind", "traceId", "spanId",
                  "parentSpanId", "startTimeUnixNano", "endTimeUnixNano", "flags", "droppedAttributesCount"):
        example(f"span {field} null", t, traces(span(**{field: "null"})))
    for field in ("timeUnixNano", "observedTimeUnixNano", "severityNumber", "severityText", "body", "attributes",
                  "flags", "traceId", "spanId", "eventName", "droppedAttributesCount"):
        example(f"log {field} null", lg, logs(log(**{field: "null"})))
        example(f"log {field} missing", lg, logs(log(**{field: DELETE})))
    example("log unknown field", lg, logs(log(zz="1")))
    example("log droppedAttributesCount", lg, logs(log(droppedAttributesCount="3")))
    example("log droppedAttributesCount deep", lg, logs(log(droppedAttributesCount="[" * 900 + "]" * 900)))
    example("log proto field name", lg, logs(log(severity_number="9")))
    example("span empty object", t, traces("{}"))
    example("span only ids", t, traces(f'{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}"}}'))
    example("log empty object", lg, logs("{}"))
    for name, text in (("number", "1"), ("string", '"x"'), ("list", "[]"), ("null", "null"), ("true", "true")):
        example(f"span is {name}", t, traces(text))
        example(f"log record is {name}", lg, logs(text))
        example(f"span {name} after a good one", t, traces(span(), text))
    # events
    for name, text in (("no attributes", '[{"name":"e","timeUnixNano":"1"}]'),
                       ("attributes", '[{"name":"e","timeUnixNano":1,"attributes":[{"key":"a","value":{"intValue":"1"}}]}]'),
                       ("empty", "[]"), ("empty event", "[{}]"), ("null event", "[null]"), ("not a list", "{}"),
                       ("unknown field", '[{"name":"e","zz":1}]'), ("dropped", '[{"name":"e","droppedAttributesCount":2}]'),
                       ("attributes null", '[{"name":"e","attributes":null}]'),
                       ("many", "[" + ",".join(f'{{"name":"e{i}","timeUnixNano":"{i}"}}' for i in range(200)) + "]"),
                       ("genai", ('[{"name":"gen_ai.content.prompt","timeUnixNano":"5","attributes":[{"key":"gen_ai.prompt",'
                                  '"value":{"stringValue":"hi"}}]},{"name":"gen_ai.content.completion","attributes":'
                                  '[{"key":"gen_ai.completion","value":{"stringValue":"yo"}}]}]'))):
        example(f"events {name}", t, traces(span(events=text)))
        example(f"events {name} with genai attributes", t, traces(span(events=text, attributes=kv["genai"])))
    # links
    link_forms = {
        "valid": f'{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}"}}',
        "upper": f'{{"traceId":"{TRACE_ID.upper()}","spanId":"{SPAN_ID.upper()}","traceState":"a=b"}}',
        "empty ids": '{"traceId":"","spanId":""}',
        "no ids": "{}",
        "zero ids": '{"traceId":"' + "0" * 32 + '","spanId":"' + "0" * 16 + '"}',
        "short ids": '{"traceId":"abc","spanId":"abc"}',
        "non-hex": '{"traceId":"' + "g" * 32 + '","spanId":"' + "g" * 16 + '"}',
        "attributes": f'{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}","attributes":[{{"key":"a","value":{{"intValue":1}}}}]}}',
        "flags": f'{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}","flags":257}}',
        "dropped": f'{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}","droppedAttributesCount":1}}',
        "unknown field": f'{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}","zz":1}}',
        "null": "null",
        "ids null": '{"traceId":null,"spanId":null}',
    }
    for name, text in link_forms.items():
        example(f"link {name}", t, traces(span(links=f"[{text}]")))
    example("links null", t, traces(span(links="null")))
    example("links empty", t, traces(span(links="[]")))
    many = ",".join(f'{{"traceId":"{i:032x}","spanId":"{i + 1:016X}","traceState":"s{i % 3}","attributes":'
                    f'[{{"key":"i","value":{{"intValue":"{i}"}}}}]}}' for i in range(1, 1201))
    example("1200 links", t, traces(span(links=f"[{many}]")))
    example("1200 links with one bad", t, traces(span(links=f'[{many},{link_forms["short ids"]}]')))
    example("links over many spans", t, traces(*(span(spanId=s(f"{i + 1:016x}"), links=f"[{link_forms['valid']}]")
                                                 for i in range(300))))
    # whitespace and layout
    pretty = json.dumps(json.loads(traces(span(events='[{"name":"e","timeUnixNano":"1"}]'))), indent=2)
    example("pretty printed, newlines", t, pretty)
    example("tabs and CRLF", t, pretty.replace("  ", "\t").replace("\n", "\r\n"))
    example("spaces everywhere", t, " " + traces(span()).replace(",", " ,\t ").replace(":", " \r: ").replace("{", "{ ")
            .replace("}", " }").replace("[", "[\t").replace("]", "\t]") + " \n")
    example("json lines", t, traces(span()) + "\n\n" + traces(span(spanId=s("1" * 16))) + "\n")
    example("pretty log", lg, json.dumps(json.loads(logs(log())), indent="\t"))
    example("log spaces everywhere", lg, logs(log()).replace(",", " , ").replace(":", "\t:\t").replace("{", "{\n "))
    example("many spans", t, traces(*(span(spanId=s(f"{i + 1:016x}"), name=s(f"op{i}")) for i in range(500))))
    example("many spans, one bad at the end", t, traces(*(span(spanId=s(f"{i + 1:016x}")) for i in range(300)),
                                                        span(kind='"bogus"')))
    example("many logs", lg, logs(*(log(body=f'{{"intValue":{i}}}') for i in range(500))))
    example("span fields in another order", t, "{" + '"resourceSpans":[{"scopeSpans":[{"spans":[{' + ",".join(
        f'"{k}":{v}' for k, v in reversed(SPAN_BASE.items())) + "}]}]}]}")
    if FIXTURES.is_dir():  # the official OTLP/JSON examples, in the shared/ folder beside the project when present
        example("official trace.json", t, (FIXTURES / "trace.json").read_bytes())
        example("official logs.json", lg, (FIXTURES / "logs.json").read_bytes())
        example("official metrics.json", "metrics", (FIXTURES / "metrics.json").read_bytes())
    # log records
    for name, text in (("9", "9"), ("0", "0"), ("24", "24"), ("25", "25"), ("-1", "-1"), ("32767", "32767"),
                       ("32768", "32768"), ("name", '"SEVERITY_NUMBER_INFO"'), ("name fatal4", '"SEVERITY_NUMBER_FATAL4"'),
                       ("unknown name", '"SEVERITY_NUMBER_BOGUS"'), ("digit string", '"9"'), ("empty", '""'),
                       ("1.0", "1.0"), ("true", "true"), ("2^63", str(2**63)), ("superscript", '"²"')):
        example(f"log severityNumber {name}", lg, logs(log(severityNumber=text)))
    for name, text in (("1", "1"), ("string", '"1"'), ("255", "255"), ("256", "256"), ("2^32-1", str(2**32 - 1)),
                       ("2^32", str(2**32)), ("2^63", str(2**63)), ("2^64", str(2**64)), ("-1", "-1"), ("x", '"x"'),
                       ("1.5", "1.5"), ("1.0", "1.0"), ("plus", '"+1"'), ("space", '" 1"'), ("empty", '""'),
                       ("zero", "0"), ("zero string", '"0"'), ("underscore", '"1_1"'), ("true", "true")):
        example(f"log flags {name}", lg, logs(log(flags=text)))
    for field, value in (("traceId", TRACE_ID), ("spanId", SPAN_ID)):
        for name, text in (("empty", '""'), ("zero", s("0" * len(value))), ("upper", s(value.upper())),
                           ("mixed", s(value.title())), ("short", s(value[:-2])), ("non-hex", s("z" + value[1:])),
                           ("space", s(" " + value[2:] + " ")), ("number", "1"), ("nul", '"\\u0000' + value[1:] + '"')):
            example(f"log {field} {name}", lg, logs(log(**{field: text})))
    example("log eventName", lg, logs(log(eventName='"device.app.lifecycle"')))
    example("log eventName escaped", lg, logs(log(eventName='"\\u0065vent"')))
    example("log minimal", lg, logs('{"body":{"stringValue":"x"}}'))
    example("log only time", lg, logs('{"timeUnixNano":"1"}'))
    # metric data points (NumberDataPoint, HistogramDataPoint)
    m = "metrics"
    example("number point", m, metrics(point()))
    example("sum points", m, metrics(point(), point(asDouble=DELETE, asInt='"7"'), kind="sum",
                                     data='"aggregationTemporality":2,"isMonotonic":true'))
    example("histogram point", m, metrics(histogram_point(), kind="histogram", data='"aggregationTemporality":1'))
    example("many points", m, metrics(*(point(timeUnixNano=f'"{i + 1}"') for i in range(300))))
    example("points, one bad at the end", m, metrics(*(point(timeUnixNano=f'"{i + 1}"') for i in range(50)),
                                                     point(asDouble='"x"')))
    for name, text in (("1", "1"), ("-0", "-0"), ("-0.0", "-0.0"), ("0.1", "0.1"), ("1e400", "1e400"), ("2^63", str(2**63)),
                       ("huge integer", "123456789012345678901234567890"), ("NaN", '"NaN"'), ("Infinity", '"Infinity"'),
                       ("string", '"1.5"'), ("empty", '""'), ("null", "null"), ("true", "true")):
        example(f"point asDouble {name}", m, metrics(point(asDouble=text)))
    for name, text in (("5", "5"), ("string", '"5"'), ("negative string", '"-5"'), ("-0", "-0"), ("string -0", '"-0"'),
                       ("string -00", '"-00"'), ("leading zeros", '"007"'), ("max", str(2**63 - 1)),
                       ("min string", f'"{-(2**63)}"'), ("2^63", str(2**63)), ("2^63 string", f'"{2**63}"'),
                       ("2^53+1", str(2**53 + 1)), ("2^53+1 string", f'"{2**53 + 1}"'), ("plus", '"+5"'),
                       ("space", '" 5"'), ("underscore", '"1_0"'), ("empty", '""'), ("5.0", "5.0"), ("1e3", "1e3"),
                       ("null", "null"), ("x", '"x"')):
        example(f"point asInt {name}", m, metrics(point(asDouble=DELETE, asInt=text)))
    example("point asInt and asDouble", m, metrics(point(asInt='"3"')))
    example("point asDouble after asInt", m, metrics('{"asInt":"3","asDouble":2.5}'))
    example("point without a value", m, metrics(point(asDouble=DELETE)))
    example("point empty", m, metrics("{}"))
    example("point null", m, metrics("null"))
    example("point a list", m, metrics("[]"))
    for field in ("startTimeUnixNano", "timeUnixNano"):
        for name, text in (("number", "1544712660000000000"), ("empty", '""'), ("zero", '"0"'), ("-1", "-1"),
                           ("-0 string", '"-0"'), ("2^63", str(2**63)), ("2^63 string", f'"{2**63}"'),
                           ("float", "1.5"), ("missing", DELETE), ("null", "null")):
            example(f"point {field} {name}", m, metrics(point(**{field: text})))
    for name, text in (("1", "1"), ("string", '"1"'), ("-1", "-1"), ("-1 string", '"-1"'), ("2^31-1", str(2**31 - 1)),
                       ("2^31", str(2**31)), ("-2^31", str(-(2**31))), ("-2^31-1 string", f'"{-(2**31) - 1}"'),
                       ("empty", '""'), ("x", '"x"'), ("1.5", "1.5"), ("null", "null")):
        example(f"point flags {name}", m, metrics(point(flags=text)))
    for name, text in (("empty", "[]"), ("null", "null"), ("one", f'[{{"timeUnixNano":"1","asDouble":2,"traceId":"{TRACE_ID}"}}]'),
                       ("spaced empty", "[ \n ]")):
        example(f"point exemplars {name}", m, metrics(point(exemplars=text)))
        example(f"histogram exemplars {name}", m, metrics(histogram_point(exemplars=text), kind="histogram"))
    for name, text in (("empty", "[]"), ("missing", DELETE), ("null", "null"), ("nested", attr(ANY_VALUES["kvlist nested"])),
                       ("U+0000", attr(ANY_VALUES["string \\u0000"])), ("depth 65", attr(ANY_VALUES["depth 65"]))):
        example(f"point attributes {name}", m, metrics(point(attributes=text)))
    example("point unknown field", m, metrics(point(zz="1")))
    example("point duplicate time", m, metrics('{"timeUnixNano":"1","timeUnixNano":"2","asDouble":1}'))
    example("point histogram field", m, metrics(point(count='"1"')))
    example("histogram number field", m, metrics(histogram_point(asDouble="1"), kind="histogram"))
    for name, text in (("number", "3"), ("empty", '""'), ("zero", "0"), ("-1", "-1"), ("-1 string", '"-1"'),
                       ("2^63", str(2**63)), ("x", '"x"'), ("1.0", "1.0"), ("missing", DELETE), ("null", "null")):
        example(f"histogram count {name}", m, metrics(histogram_point(count=text), kind="histogram"))
    for field in ("sum", "min", "max"):
        for name, text in (("int", "4"), ("-0", "-0"), ("-0.0", "-0.0"), ("NaN", '"NaN"'), ("Infinity", '"Infinity"'),
                           ("1e400", "1e400"), ("string", '"2"'), ("missing", DELETE), ("null", "null")):
            example(f"histogram {field} {name}", m, metrics(histogram_point(**{field: text}), kind="histogram"))
    for name, text in (("numbers", "[1, 2, 0]"), ("empty", "[]"), ("negative", '["-1"]'), ("negative number", "[-1]"),
                       ("-0 string", '["-0"]'), ("empty string", '[""]'), ("2^63", f"[{2**63}]"), ("2^63-1", f"[{2**63 - 1}]"),
                       ("2^64 string", f'["{2**64}"]'), ("float", "[1.5]"), ("space", '[" 1"]'), ("null item", "[null]"),
                       ("null", "null"), ("not a list", '"1"'), ("trailing comma", "[1,]")):
        example(f"histogram bucketCounts {name}", m, metrics(histogram_point(bucketCounts=text), kind="histogram"))
    for name, text in (("ints", "[1, 2]"), ("empty", "[]"), ("-0", "[-0]"), ("-0.0", "[-0.0]"), ("Infinity", '["Infinity"]'),
                       ("NaN", '["NaN"]'), ("1e400", "[1e400]"), ("string", '["1.5"]'), ("huge integer", f"[{2**70}]"),
                       ("null item", "[null]"), ("null", "null"), ("missing", DELETE)):
        example(f"histogram explicitBounds {name}", m, metrics(histogram_point(explicitBounds=text), kind="histogram"))
    example("histogram minimal", m, metrics("{}", kind="histogram"))
    example("histogram duplicate count", m, metrics('{"count":"1","count":"2"}', kind="histogram"))
    example("exponential histogram beside", m, metrics(histogram_point(), kind="histogram").replace(
        '"metrics":[', '"metrics":[{"name":"e","exponentialHistogram":{"dataPoints":[{"count":"1","scale":2}]}},'))
    example("summary", m, metrics('{"count":"1","sum":2,"quantileValues":[{"quantile":0.5,"value":1}]}', kind="summary"))


_build_examples()


@needs_accel
@pytest.mark.parametrize(("signal", "data"), [pytest.param(sig, data, id=name) for name, sig, data in EXAMPLES])
def test_examples_decode_the_same_with_and_without_the_accelerator(signal, data):
    decode_both(signal, data if type(data) is bytes else to_bytes(data))


# ---------------------------------------------------------------------------------------------------
# 3. The common case: the accelerator takes it, and decodes it the same


@needs_accel
def test_the_accelerator_takes_the_common_case():
    counting = Counting(ACCEL)
    for signal, data, function in (("traces", traces(span()), "span"), ("logs", logs(log()), "log_record"),
                                   ("metrics", metrics(point()), "number_point"),
                                   ("metrics", metrics(histogram_point(), kind="histogram"), "histogram_point")):
        columns = new_columns()
        saved = otlp_typed._records
        otlp_typed._records = counting
        try:
            assert otlp_typed.decode(signal, data.encode(), columns) == 1
        finally:
            otlp_typed._records = saved
        assert counting.taken[function] == 1, f"{function}: called {counting.calls[function]} times, decoded " \
                                              f"{counting.taken[function]} (the common case left to msgspec)"


@needs_accel
def test_synthetic_files_decode_the_same_and_mostly_through_the_accelerator(tmp_path, capsys):
    synth.write_landing(str(tmp_path), HOUR, HOUR + timedelta(hours=1), traces_per_hour=40, files_per_hour=2,
                        compression="none")
    files = sorted(p for p in tmp_path.rglob("*.json") if not p.name.startswith("llm_spans"))
    assert {p.name.split("_")[0] for p in files} == {"traces", "logs", "metrics"}
    counting = Counting(ACCEL)
    for path in files:
        signal, data = path.name.split("_")[0], path.read_bytes()
        assert decode_both(signal, data)[1] > 0, path.name
        saved = otlp_typed._records
        otlp_typed._records = counting
        try:
            otlp_typed.decode(signal, data, new_columns())
        finally:
            otlp_typed._records = saved
    with capsys.disabled():
        print(f"\naccelerator on the synthetic files: calls {dict(counting.calls)}, decoded {dict(counting.taken)}")
    for function in ("span", "log_record", "number_point", "histogram_point"):
        assert counting.taken[function] > 0, f"the accelerator decoded no synthetic {function}: {counting.calls}"


# ---------------------------------------------------------------------------------------------------
# 4. Reference counts and leaks (the C code's ownership of what it builds, in its common and bail-out paths)

_MIXED_TRACES = traces(
    span(),
    span(attributes=GENAI_ATTRIBUTES, events='[{"name":"gen_ai.content.prompt","timeUnixNano":"5"}]'),
    span(attributes=attr(ANY_VALUES["array nested"])),
    span(attributes=attr(ANY_VALUES["double NaN"]), kind='"SPAN_KIND_SERVER"'),  # late fields outside the common case
    span(events='[{"name":"e","timeUnixNano":"1","attributes":[{"key":"a","value":{"intValue":"1"}}]}]',
         status='{"code":"STATUS_CODE_ERROR","message":"m"}'),
    span(links=f'[{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}"}}]', startTimeUnixNano="1544712660000000000"),
    span(attributes=attr(ANY_VALUES["kvlist duplicate keys"]), traceState='"a=\\u00e9"', zz=DELETE),
    span(attributes=attr(ANY_VALUES["string pair"]), name='"\\u00e9\\ud83d\\ude00"'),
)
_BAD_TRACES = traces(span(), span(attributes=attr(ANY_VALUES["depth 65"])))  # the file falls back after a good span
_MIXED_LOGS = logs(
    log(), log(body=ANY_VALUES["kvlist nested"]), log(body=ANY_VALUES["double -Infinity"], severityNumber='"SEVERITY_NUMBER_WARN"'),
    log(flags='"1"', traceId='""', spanId='""'), log(body=ANY_VALUES["string pair"], eventName='"e"'),
    log(attributes=attr(ANY_VALUES["bytes"]), timeUnixNano="1544712660300000000"),
)
_BAD_LOGS = logs(log(), log(body=ANY_VALUES["depth 65"]))
_MIXED_METRICS = metrics(
    point(), point(asDouble=DELETE, asInt='"-0"', flags='"1"'), point(asDouble='"NaN"'), point(attributes=attr(ANY_VALUES["array nested"])),
    point(exemplars=f'[{{"timeUnixNano":"1","asDouble":2,"traceId":"{TRACE_ID}"}}]'), point(attributes="[]", asDouble=DELETE),
) + "\n" + metrics(histogram_point(), histogram_point(bucketCounts='["1", 2]', explicitBounds='["Infinity"]'),
                    histogram_point(sum=DELETE, min=DELETE, max=DELETE, bucketCounts="[]", explicitBounds="[]"), kind="histogram")
_BAD_METRICS = metrics(point(), point(), point(asDouble='"x"'))  # the file falls back after good points
_LEAK_INPUTS = (("traces", _MIXED_TRACES), ("traces", _BAD_TRACES), ("logs", _MIXED_LOGS), ("logs", _BAD_LOGS),
                ("metrics", _MIXED_METRICS), ("metrics", _BAD_METRICS))
_LEAK_IDS = ["traces", "traces falling back", "logs", "logs falling back", "metrics", "metrics falling back"]


def _decode_times(signal: str, data: bytes, records, times: int) -> None:
    saved = otlp_typed._records
    otlp_typed._records = records
    try:
        for _ in range(times):
            otlp_typed.decode(signal, data, new_columns())
    finally:
        otlp_typed._records = saved


@needs_accel
@pytest.mark.parametrize(("signal", "text"), _LEAK_INPUTS, ids=_LEAK_IDS)
def test_reference_counts_of_shared_objects_stay_balanced(signal, text):
    """Python 3.11 singletons and small integers are refcounted: a missing Py_INCREF (a value returned borrowed)
    makes their counts fall with every decode, a missing Py_DECREF makes them grow. Compared to the pure Python
    path's drift over the same decodes."""
    data = to_bytes(text)
    watched = {"None": None, "True": True, "False": False, "0": 0, "1": 1, "7": 7, "''": ""}
    drifts = {}
    for records in (None, ACCEL):
        _decode_times(signal, data, records, 20)
        gc.collect()
        before = {name: sys.getrefcount(obj) for name, obj in watched.items()}
        _decode_times(signal, data, records, 500)
        gc.collect()
        drifts["on" if records else "off"] = {name: sys.getrefcount(obj) - before[name] for name, obj in watched.items()}
    bad = {name: (drifts["on"][name], drifts["off"][name]) for name in watched
           if abs(drifts["on"][name] - drifts["off"][name]) > 50}
    assert not bad, f"reference counts drift over 500 decodes (on, off): {bad}"


@needs_accel
@pytest.mark.parametrize(("signal", "text"), _LEAK_INPUTS, ids=_LEAK_IDS)
def test_decoding_again_and_again_does_not_leak(signal, text):
    data = to_bytes(text)
    _decode_times(signal, data, ACCEL, 50)
    gc.collect()
    tracemalloc.start()
    try:
        _decode_times(signal, data, ACCEL, 50)
        gc.collect()
        first, _ = tracemalloc.get_traced_memory()
        _decode_times(signal, data, ACCEL, 1000)
        gc.collect()
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert second - first < 64 * 1024, f"{second - first} bytes more traced after 1000 more decodes"


# ---------------------------------------------------------------------------------------------------
# 5. The C module on its own: bounds, buffers, locale

_BOUNDS_INPUTS = (
    ("span", span(events='[{"name":"e\\u00e9","timeUnixNano":"5","attributes":[{"key":"a","value":{"doubleValue":1.5}}]}]',
                  attributes=attr(ANY_VALUES["kvlist nested"]), status='{"code":2,"message":"m\\ud83d\\ude00"}',
                  traceState='"k=v"', flags="1", links="[]")),
    ("span", span(attributes=GENAI_ATTRIBUTES, kind="-5", startTimeUnixNano="-0")),
    ("log_record", log(body=ANY_VALUES["array nested"], flags='"3"', eventName='"x\\"y"', severityNumber='"9"')),
    ("log_record", log(body=ANY_VALUES["double 0.1"], traceId='""', spanId='"0000000000000000"')),
    ("number_point", point(asDouble=DELETE, asInt='"-12"', flags="1", exemplars="[]")),
    ("number_point", point(asDouble="-2.5e-3", attributes=attr(ANY_VALUES["kvlist nested"]))),
    ("histogram_point", histogram_point(exemplars="[]", flags='"1"')),
    ("histogram_point", histogram_point(bucketCounts="[0]", explicitBounds="[]", count="0", sum="-0")),
)


@needs_accel
@pytest.mark.parametrize(("function", "text"), _BOUNDS_INPUTS)
def test_a_record_cut_short_is_never_read_past_its_end(function, text):
    """Every prefix of a record, given as a memoryview of the whole record's bytes: the C code sees only the
    prefix; reading past its end would find the rest and accept it."""
    full = text.encode()
    decode = getattr(ACCEL, function)
    whole = decode(full)
    assert whole is not None, f"{function} left the common case {text!r} to msgspec"
    view = memoryview(full)
    accepted = [i for i in range(len(full)) if decode(view[:i]) is not None]
    assert not accepted, f"{function} accepted prefixes of lengths {accepted[:10]} of {full!r}"
    padded = full + b" \t\r\n "
    assert difference(decode(padded), whole) is None, "trailing whitespace changed the result"
    for form in (bytearray(full), memoryview(full), memoryview(b"xx" + full)[2:]):
        assert difference(decode(form), whole) is None, f"{type(form).__name__}: another result"


@needs_accel
def test_doubles_do_not_depend_on_the_c_locale(monkeypatch, tmp_path):
    """strtod reads the decimal point of LC_NUMERIC; Python's float() and msgspec never do. A process that sets
    its locale from a German environment (``locale.setlocale(locale.LC_ALL, "")``) must decode the same."""
    saved = locale.setlocale(locale.LC_NUMERIC)
    chosen = None
    for name in ("de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8"):
        try:
            chosen = locale.setlocale(locale.LC_NUMERIC, name)
            break
        except locale.Error:
            continue
    if chosen is None and shutil.which("localedef"):  # not installed: compile one into tmp_path
        subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(tmp_path / "de_DE.UTF-8")],
                       capture_output=True, check=False)
        monkeypatch.setenv("LOCPATH", str(tmp_path))
        try:
            chosen = locale.setlocale(locale.LC_NUMERIC, "de_DE.UTF-8")
        except locale.Error:
            pass
    if chosen is None:
        pytest.skip("no locale with a decimal comma available")
    try:
        assert locale.localeconv()["decimal_point"] == ","
        decode_both("traces", traces(span(attributes=attr('{"doubleValue":1.5}'))).encode())
        decode_both("logs", logs(log(body='{"doubleValue":2.5e-3}')).encode())
    finally:
        locale.setlocale(locale.LC_NUMERIC, saved)
