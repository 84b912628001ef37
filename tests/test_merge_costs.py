"""The per-table breakdown of the merge (benchmarks.merge_costs) at a tiny size: every step of every table
runs on the real server, and nothing is left behind.

Timings are printed by the benchmark, never asserted here.
"""

from __future__ import annotations

from benchmarks import merge_costs
from benchmarks.run import HOUR, _decode_landing
from observatory_etl import synth
from tests.conftest import query


def test_every_step_of_every_table_runs_on_the_same_rows(landing, database_url):
    synth.write_landing(str(landing), HOUR, HOUR.replace(hour=1), traces_per_hour=40, seed=3)
    frames, _, _ = _decode_landing(str(landing), HOUR)
    tables = [table for table, frame in frames.items() if frame.height]
    assert {"trace_spans", "logs", "metric_data_points"} <= set(tables)

    costs = merge_costs.measure(database_url, frames, rounds=1, log=lambda line: None)

    assert list(costs) == [t for t in merge_costs.MERGE_ORDER if t in tables]
    for table, steps in costs.items():
        labels = [label for label, _, _ in steps]
        assert labels == [label for label, _, _ in merge_costs.ladder(table)], table
        assert all(seconds >= 0 and wal >= 0 for _, seconds, wal in steps), steps
    # the merge's own statement is among the steps, and the message keys variant only for spans
    assert "merge, attributes without the message keys" in [label for label, _, _ in costs["trace_spans"]]
    assert "merge, attributes without the message keys" not in [label for label, _, _ in costs["logs"]]
    assert query(database_url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_costs_%'") == []


def test_the_message_keys_variant_removes_only_those_keys():
    [(_, _, statement)] = [step for step in merge_costs.ladder("trace_spans")
                           if step[0] == "merge, attributes without the message keys"]
    assert "(attributes::jsonb - ARRAY['gen_ai.input.messages', 'gen_ai.output.messages'])" in statement
    # resource and scope attributes are cast as before
    assert "resource_attributes::jsonb" in statement and "scope_attributes::jsonb" in statement
