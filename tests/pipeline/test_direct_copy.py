"""An hour never loaded before is copied straight into the final tables; a record already stored sends the hour
back through staging and merging, and the tables end exactly as a merge would leave them. On a real PostgreSQL
server, with real files in the landing layout."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from observatory_etl import synth
from observatory_etl.ingest.landing import list_hour, open_store
from observatory_etl.llm.prices import PriceTable
from observatory_etl.pipeline.chunks import Chunk
from observatory_etl.pipeline.decoder import Decoder
from observatory_etl.pipeline.hour import load_hour
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.ddl import ensure_schema
from observatory_etl.warehouse.load import DirectCopyConflict, PartitionLoad
from observatory_etl.warehouse.partitions import create_partitions
from tests.conftest import HOUR, counts, execute, query, snapshot


@pytest.fixture
def other_schema(database_url, schema):
    name = schema + "_b"
    yield name
    execute(database_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _frames(landing) -> dict:
    """Every frame of the landing hour, decoded as the pipeline does."""
    chunk = Chunk()
    files = list_hour(open_store(str(landing)), HOUR)
    with Decoder(str(landing), PriceTable.load(), 0) as decoder:
        for part in decoder.chunks(files, 10**9, 1 << 40, lambda file, decoded: None):
            chunk.add(part.take())
    return chunk.take()


def _load(database_url, schema, frames, direct):
    conn = connect(database_url)
    try:
        ensure_schema(conn, schema)
        create_partitions(conn, schema, (HOUR - timedelta(days=1)).date(), (HOUR + timedelta(days=1)).date())
        with PartitionLoad(conn, schema, "2026-11-01-00:00", direct=direct) as load:
            load.chunk(dict(frames))
        return load.stats
    finally:
        conn.close()


def test_copy_straight_into_the_final_tables_equals_the_merge(landing, database_url, schema, other_schema):
    # GenAI spans of every convention, events, links, logs and metric points of every kind
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=150, files_per_hour=3)
    frames = _frames(landing)
    direct = _load(database_url, schema, frames, direct=True)
    merged = _load(database_url, other_schema, frames, direct=False)
    assert direct.direct_chunks == 1 and merged.direct_chunks == 0
    assert direct.copied["trace_spans"] == frames["trace_spans"].height > 0
    # metrics, whose definitions every request repeats, are staged and merged either way
    assert {t: n for t, n in direct.staged.items() if n} == {"metrics": frames["metrics"].height}
    assert sum(merged.staged.values()) == sum(direct.copied.values()) + direct.staged["metrics"]
    assert direct.merged == merged.merged
    assert snapshot(database_url, schema) == snapshot(database_url, other_schema)  # rollups included


def test_a_stored_record_aborts_the_straight_copy(landing, database_url, schema):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=20, files_per_hour=1)
    frames = _frames(landing)
    _load(database_url, schema, frames, direct=False)
    before = snapshot(database_url, schema)
    with pytest.raises(DirectCopyConflict, match="COPY straight into trace_spans met a stored row"):
        _load(database_url, schema, frames, direct=True)
    assert snapshot(database_url, schema) == before  # rolled back whole


def _copy_traces_file(source, target, hour, name):
    """Land a copy of ``source``'s first traces file of HOUR in ``target`` under ``hour`` as ``name``."""
    [first] = sorted(source.rglob("traces_*"))[:1]
    folder = target / f"year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/minute=59"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(first, folder / name)


def test_an_hour_with_a_record_delivered_twice_loads_again_merging(landing, database_url, schema, other_schema, tmp_path):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=1), traces_per_hour=60, files_per_hour=2)
    single = tmp_path / "single"
    shutil.copytree(landing, single)
    expected = load_hour(HOUR, landing_url=str(single), database_url=database_url, schema=other_schema,
                         decode_workers=0, chunk_rows=1)
    # a new hour: every chunk copied straight in, though each metrics file repeats its metrics' definitions
    assert expected.load.direct_chunks == expected.load.chunks == sum(expected.files.values()) > 4

    # the same spans again in a second file of the hour, in a later chunk (one file per chunk)
    _copy_traces_file(single, landing, HOUR, "traces_again.json.gz")
    lines: list[str] = []
    result = load_hour(HOUR, landing_url=str(landing), database_url=database_url, schema=schema, decode_workers=0,
                       chunk_rows=1, log=lines.append)
    assert any("COPY straight into trace_spans met a stored row" in line and "loading the hour again, merging" in line
               for line in lines), lines
    assert result.load.direct_chunks == 0 and result.load.chunks == sum(result.files.values())
    assert result.records["traces"] > expected.records["traces"] and result.records["logs"] == expected.records["logs"]
    assert snapshot(database_url, schema) == snapshot(database_url, other_schema)  # nothing doubled
    [(files, merged)] = query(database_url, f'SELECT count(*), sum(rows_merged)::bigint FROM "{schema}".ingested_files')
    assert files == sum(result.files.values()) and merged == sum(result.records.values())


def test_a_record_another_hour_loaded_sends_the_next_hour_to_the_merge(landing, database_url, schema):
    synth.write_landing(str(landing), HOUR, HOUR + timedelta(hours=2), traces_per_hour=30, files_per_hour=1)
    first = load_hour(HOUR, landing_url=str(landing), database_url=database_url, schema=schema, decode_workers=0)
    assert first.load.direct_chunks == first.load.chunks
    after_first = counts(database_url, schema)

    # the Collector delivered a batch of the first hour again an hour later
    _copy_traces_file(landing, landing, HOUR + timedelta(hours=1), "traces_retry.json.gz")
    lines: list[str] = []
    second = load_hour(HOUR + timedelta(hours=1), landing_url=str(landing), database_url=database_url, schema=schema,
                       decode_workers=0, log=lines.append)
    assert any("COPY straight into trace_spans met a stored row" in line for line in lines), lines
    assert second.load.direct_chunks == 0
    spans = query(database_url, f'SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM "{schema}".trace_spans')
    assert spans[0][0] == spans[0][1] > after_first["trace_spans"]  # the second hour's own spans, none twice

    # a rerun of either hour changes nothing
    before = snapshot(database_url, schema)
    for h in (HOUR, HOUR + timedelta(hours=1)):
        assert load_hour(h, landing_url=str(landing), database_url=database_url, schema=schema).skipped
    assert snapshot(database_url, schema) == before
