"""LlmSources.add keeps the same sources with and without its compiled pass (observatory_etl/llm/_sources.c).

Spans are generated (hypothesis) with attributes drawn from every source key of the mapping, indexed message
keys of each family, GenAI-prefixed keys that are no source, other keys, and values of every JSON type and
None; each is added to two LlmSources, one through ``_sources.collect`` and one through the Python loop, and
their whole state is compared strictly (test_records_accel.difference: the same type at every position, floats
by value and sign, dicts in the same key order).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatory_etl.llm import mapping
from tests.ingest.test_records_accel import difference

pytestmark = pytest.mark.skipif(mapping._collect is None, reason="observatory_etl.llm._sources is not built")

KEYS = st.one_of(
    st.sampled_from(mapping.SOURCE_KEYS),
    st.builds(lambda prefix, i, field: f"{prefix}{i}.{field}", st.sampled_from(list(mapping._INDEXED_FAMILIES)),
              st.integers(0, 3), st.sampled_from(["role", "content", "message.role", "message.content", "finish_reason"])),
    st.sampled_from(["gen_ai.other", "llm.other", "openinference.other", "traceloop.other", "gen_ai.prompt",
                     "http.method", "service.name", "llm", "", "gen_ai."]),
    st.text(max_size=12),
)
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False),
                   st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3),
                   st.dictionaries(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1), max_size=2))
SPANS = st.lists(st.tuples(st.dictionaries(KEYS, VALUES, max_size=12), st.sampled_from([None, "prod"]),
                           st.booleans()), max_size=12)


def state(sources: mapping.LlmSources) -> tuple:
    return sources.rows, sources.sparse, sources.extras, sources.resolved_rows, sources.resolved


@settings(max_examples=300, derandomize=True, deadline=None)
@given(SPANS)
def test_the_compiled_pass_keeps_the_same_sources(spans):
    compiled, python = mapping.LlmSources(), mapping.LlmSources()
    collect = mapping._collect
    for row, (attributes, environment, with_event) in enumerate(spans):
        events = [(5, "gen_ai.content.prompt", {"gen_ai.prompt": "hi"})] if with_event else []
        compiled.add(row * 2, attributes, environment, events)
        mapping._collect = None
        try:
            python.add(row * 2, attributes, environment, events)
        finally:
            mapping._collect = collect
    assert difference(state(compiled), state(python)) is None


def test_the_compiled_pass_is_built_in_ci():
    if os.environ.get("OBSERVATORY_REQUIRE_ACCEL") != "1":
        pytest.skip("OBSERVATORY_REQUIRE_ACCEL=1 not set")
    assert mapping._collect is not None


INDEXED_KEYS = st.builds(
    lambda prefix, index, dot, field: f"{prefix}{index}{dot}{field}",
    st.sampled_from(list(mapping._INDEXED_FAMILIES)),
    st.one_of(st.integers(0, 12).map(str), st.sampled_from(["007", "0", "", "x", "1a", "١", "2٣", "9" * 18, "9" * 19,
                                                            "99999999999999999999999", "-1", " 1", "+1"])),
    st.sampled_from([".", "", ".."]),
    st.one_of(st.sampled_from(["role", "content", "message.role", "message.content", "message.", "message",
                               "finish_reason", "", "message.contents.0.message_content.text", "rôle", "message.é"]),
              st.text(max_size=8)),
)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.dictionaries(INDEXED_KEYS, VALUES, max_size=10))
def test_the_compiled_indexed_messages_are_the_same(attributes):
    """mapping._indexed gathers the same messages with and without _sources.indexed: leading zeros, other
    scripts' digits (left to Python), indexes beyond 18 digits, keys without a field or an infix."""
    keys = list(attributes)
    compiled = mapping._indexed(attributes, keys)
    assert mapping._indexed_compiled is not None
    saved, mapping._indexed_compiled = mapping._indexed_compiled, None
    try:
        python = mapping._indexed(attributes, keys)
    finally:
        mapping._indexed_compiled = saved
    assert difference(compiled, python) is None
    assert list(compiled) == list(python)


def test_indexed_messages_in_index_order():
    attributes = {"gen_ai.prompt.10.role": "user", "gen_ai.prompt.2.role": "system", "gen_ai.prompt.02.content": "be",
                  "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.role": "skipped",
                  "gen_ai.prompt.١.role": "arabic-indic one"}
    assert mapping._indexed(attributes, list(attributes)) == {
        "openllmetry_input": [{"role": "arabic-indic one"}, {"role": "system", "content": "be"}, {"role": "user"}],
        "openinference_output": [{"role": "assistant"}],
    }
