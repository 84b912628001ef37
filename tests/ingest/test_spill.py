"""A large file's frames built while it decodes (``decode_file(..., frame_rows=N)``, ``Columns.maybe_spill``): the
same frames as built at once, and nothing of the spilled part left when the fast path hands the file to the
general decoder after spilling."""

from __future__ import annotations

import gzip
from datetime import timedelta

import orjson
import pytest

from observatory_etl import synth
from observatory_etl.ingest import landing
from observatory_etl.ingest.columns import Columns
from observatory_etl.ingest.decode import decode_file
from observatory_etl.ingest.otlp_json import typed
from observatory_etl.llm.prices import PriceTable
from tests.conftest import HOUR


@pytest.fixture(scope="module")
def hour(tmp_path_factory):
    """One synthetic landing hour (gzip files in the collector's layout): its store and files."""
    root = tmp_path_factory.mktemp("spill")
    synth.write_landing(str(root), HOUR, HOUR + timedelta(hours=1), traces_per_hour=150, files_per_hour=1)
    store = landing.open_store(str(root))
    return root, store, landing.list_hour(store, HOUR)


def _frames_equal(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for table, frame in expected.items():
        assert actual[table].equals(frame), table


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """The fast path moves rows into the lists (and may spill) every 64 records instead of 4,096."""
    monkeypatch.setattr(typed, "_ROWS", 64)


@pytest.mark.parametrize("signal", ["traces", "logs"])
def test_spilled_frames_equal_frames_built_at_once(hour, signal):
    _, store, files = hour
    file = next(f for f in files if f.signal == signal)
    data = landing.read_file(store, file)
    prices = PriceTable.load()
    whole = decode_file(store, file, prices, data=data)
    spilled = decode_file(store, file, prices, data=data, frame_rows=100)
    assert whole.records > 500 and spilled.records == whole.records and not spilled.rejects
    _frames_equal(spilled.frames, whole.frames)

    parts = []  # the spill did happen: parts of 100 rows or more

    def spill(full: Columns) -> None:
        parts.append(full.mark())
        full.clear()

    columns = Columns(prices)
    columns.spill_rows, columns.spill = 100, spill
    assert typed.decode(signal, data, columns) == whole.records
    assert len(parts) > 2 and all(sum(mark.values()) >= 100 for mark in parts)


def test_a_bad_record_after_spilling_leaves_only_the_general_decoders_rows(hour, tmp_path):
    """The last span of a file has a bad trace id: the fast path has spilled frames by then, falls back, and the
    file's frames are exactly the general decoder's (the span rejected, every other row once)."""
    root, store, files = hour
    file = next(f for f in files if f.signal == "traces")
    request = orjson.loads(landing.read_file(store, file))
    request["resourceSpans"][-1]["scopeSpans"][-1]["spans"][-1]["traceId"] = "not-hex"
    bad = tmp_path / file.path
    bad.parent.mkdir(parents=True)
    bad.write_bytes(gzip.compress(orjson.dumps(request)))
    bad_store = landing.open_store(str(tmp_path))
    bad_file = landing.list_hour(bad_store, HOUR)[0]
    data = landing.read_file(bad_store, bad_file)
    prices = PriceTable.load()

    spilled = decode_file(bad_store, bad_file, prices, data=data, frame_rows=100)
    whole = decode_file(bad_store, bad_file, prices, data=data)
    assert [r.record_path for r in spilled.rejects] == [r.record_path for r in whole.rejects]
    assert len(spilled.rejects) == 1 and "traceId" in spilled.rejects[0].reason
    _frames_equal(spilled.frames, whole.frames)
    good = decode_file(store, file, prices)
    assert spilled.frames["trace_spans"].height == good.frames["trace_spans"].height - 1
