"""The benchmark end to end at a tiny size: every method measured on the same rows, the report written.

Timings are never asserted (they depend on the machine); row counts, the rerun and the outputs are.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import unquote

from benchmarks import methods
from benchmarks.options import Options
from observatory_etl import cli
from tests.conftest import query

SPAN_METHODS = [
    methods.CEILING,
    methods.STREAMED,
    methods.ROW_BY_ROW,
    *map(methods.multi_row_label, methods.BATCHES),
    *map(methods.adbc_label, methods.BATCHES),
    methods.ADBC_TEMP,
]
INSERT_METHODS = [methods.ROW_BY_ROW, *map(methods.multi_row_label, methods.BATCHES)]


def test_bench_measures_every_method_on_the_same_rows(database_url, tmp_path):
    out = tmp_path / "out"
    argv = ["bench", "--spans", "3000", "--insert-rows", "2000", "--rss-spans", "1500,3000", "--small-files", "40",
            "--rounds", "2", "--database-url", database_url, "--out", str(out)]
    assert cli.main(argv) == 0

    results = json.loads((out / "results.json").read_text())
    by_method = {entry["method"]: entry for entry in results["methods"]}
    assert list(by_method) == [*SPAN_METHODS, methods.DLT, methods.LOAD_ALONE, methods.LOAD_ALONE_MERGE, methods.PIPELINE]
    for entry in results["methods"]:
        assert entry["rows"] > 0 and entry["seconds"] is not None, entry

    # The ceiling and every COPY loaded all the span rows: as many as the pipeline merged into trace_spans.
    rerun = results["rerun"]
    spans = rerun["counts_before"]["trace_spans"]
    assert 2500 < spans < 3500
    for name in set(SPAN_METHODS) - set(INSERT_METHODS):
        assert by_method[name]["rows"] == spans, name
    for name in INSERT_METHODS:  # capped by --insert-rows, and the table says so
        assert by_method[name]["rows"] == 2000 and "--insert-rows" in by_method[name]["note"], name
    # dlt loaded every table: more rows than the spans alone, at least all the records the pipeline decoded.
    assert by_method[methods.DLT]["rows"] >= by_method[methods.PIPELINE]["rows"] > spans
    assert "loader_file_format=csv" in by_method[methods.DLT]["note"]

    assert rerun["rows_changed"] == 0
    assert rerun["counts_after"] == rerun["counts_before"]
    assert set(results["stages"]) == {"list", "read", "decode", "normalize", "copy", "merge", "rollup", "commit", "total"}
    assert results["merged"]["trace_spans"] == spans
    # a new hour: the pipeline and the frames alone COPY straight into the final tables, no merge; the merge
    # path stages and merges the same rows
    assert results["loaded"]["trace_spans"] == spans and results["direct"] is True
    for seconds in ("table_seconds", "alone_table_seconds", "merge_table_seconds"):
        for stage in ("copy", "merge"):
            assert set(results[seconds][stage]) == set(results["loaded"])
    assert results["table_seconds"]["copy"]["trace_spans"] > 0 and results["alone_table_seconds"]["copy"]["trace_spans"] > 0
    assert results["table_seconds"]["merge"]["trace_spans"] == 0 == results["alone_table_seconds"]["merge"]["trace_spans"]
    assert results["merge_table_seconds"]["merge"]["trace_spans"] > 0
    # each load of the decoded frames alone loaded every record the pipeline loaded (dlt's frames)
    assert by_method[methods.LOAD_ALONE]["rows"] == by_method[methods.LOAD_ALONE_MERGE]["rows"] == sum(results["loaded"].values())

    assert [entry["spans"] for entry in results["rss"]] == sorted(entry["spans"] for entry in results["rss"])
    assert len(results["rss"]) == 2 and all(entry["max_rss_kib"] > 0 for entry in results["rss"])
    assert all(check["met"] in (True, False) for check in results["checks"]), results["checks"]

    readme = (out / "README.md").read_text()
    # decode throughput and the lake write are printed beside the loads, from this run
    assert re.search(r"decode \+ normalize: [\d,]+ records in [\d.]+ s = [\d,]+ records/s", readme)
    assert re.search(r"lake write: [\d,]+ rows in [\d.]+ s = [\d,]+ rows/s", readme)
    [json_line] = [line for line in readme.splitlines() if line.startswith("- decode + normalize: ")]
    [proto_line] = [line for line in readme.splitlines() if line.startswith("- decode + normalize, the same hour as OTLP protobuf: ")]
    # the same records, whichever encoding they came in
    assert re.search(r"([\d,]+) records", json_line)[1] == re.search(r"([\d,]+) records", proto_line)[1]
    # the hour of small files: about --small-files files (traces, logs, metrics and LLM-span files), all decoded
    small = results["small_files"]
    assert 30 <= small["files"] <= 50 and small["records"] > small["files"] and small["seconds"] > 0
    assert results["decode"]["records"] == int(re.search(r"([\d,]+) records", json_line)[1].replace(",", ""))
    assert re.search(r"^- decode \+ normalize, an hour of small files: [\d,]+ files, [\d,]+ records in [\d.]+ s = "
                     r"[\d,]+ records/s \(fastest of [\d.]+ / [\d.]+ s\); [\d.]+× the hour above$", readme, re.M)
    # --rounds 2: the decodes, dlt and the pipeline twice each, the fastest round counting
    for decode in (results["decode"], small):
        assert len(decode["rounds"]) == 2 and decode["seconds"] == min(decode["rounds"])
    for name in (methods.DLT, methods.PIPELINE):
        assert re.search(r"fastest of [\d.]+ / [\d.]+ s", by_method[name]["note"]), by_method[name]
    assert "| method | rows | seconds | rows/s | × ceiling | × dlt |" in readme
    assert "| stage | seconds | rows/s |" in readme
    assert "| table | rows | pipeline: copy s | pipeline: merge s | pipeline rows/s |" in readme
    assert re.search(r"\| trace_spans \| [\d,]+( \| [\d.,]+){7} \|", readme)
    targets = ("pipeline vs dlt, end to end", "pipeline vs dlt, the aim", "ADBC COPY into staging vs ceiling",
               "rows into the final tables in the pipeline", "merge alone", "rerun vs first run", "peak RSS",
               "decode + normalize in one process", "an hour of small files vs the measured hour")
    for target in targets:
        [line] = [line for line in readme.splitlines() if line.startswith(f"- {target}")]
        assert "**met**" in line or "**NOT met**" in line, line
    assert "--insert-rows 2000" in readme and "PostgreSQL" in readme
    assert (out / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Every schema the run created is gone.
    assert query(database_url, f"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_{os.getpid()}_%'") == []


def test_dlt_credentials_accept_unix_socket_and_tcp_urls():
    socket = methods.dlt_credentials("postgresql://postgres:@/postgres?host=/tmp/pg/data&port=5433")
    assert unquote(socket["host"]) == "/tmp/pg/data" and "/" not in socket["host"]
    assert (socket["database"], socket["username"], socket["password"], socket["port"]) == ("postgres", "postgres", "", 5433)
    tcp = methods.dlt_credentials("postgresql://etl:secret@db.example:6543/warehouse?sslmode=require")
    assert tcp == {"database": "warehouse", "username": "etl", "password": "secret", "host": "db.example",
                   "port": 6543, "query": {"sslmode": "require"}}


def test_command_line_redacts_the_password():
    command = Options(spans=10, database_url="postgresql://etl:secret@db:5432/w", rss=False).command()
    assert "secret" not in command and "--no-rss" in command and "--spans 10" in command
