"""The landing zone on real object-store servers on loopback: S3 (moto), GCS (fake-gcs-server) and Azure Blob
(Azurite), reached through ``s3://``, ``gs://`` and ``az://`` URLs with the variables obstore reads
(tests/ingest/stores.py starts the servers). Every store must list, read, load and be watched by the sensor
exactly as a local landing folder is; and :func:`landing.read_files` reads many objects at once, in order,
with bounded memory.
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import obstore
import pytest
import zstandard

from observatory_etl import config
from observatory_etl.defs.sensors import run_requests
from observatory_etl.ingest import landing
from observatory_etl.ingest.landing import LandingError, ObjectStoreError
from observatory_etl.pipeline import hour as hour_module
from observatory_etl.pipeline.hour import load_hour
from observatory_etl.synth import write_landing
from tests.conftest import execute, query, snapshot
from tests.ingest.stores import (
    FOREIGN_ENV,
    KINDS,
    ServerUnavailable,
    azurite_server,
    create_bucket,
    drop_bucket,
    fake_gcs_server,
    first_list_page_size,
    moto_server,
)

UTC = timezone.utc
H0 = datetime(2026, 11, 1, 0, tzinfo=UTC)
H1 = H0 + timedelta(hours=1)
H2 = H0 + timedelta(hours=2)
# Keys per list page when the client does not ask for fewer: S3 1,000, Azure 5,000. fake-gcs-server returns
# every key in one page (real GCS pages at 1,000; object_store follows its continuation token either way).
PAGE_SIZE = {"s3": 1000, "gcs": 1000, "azure": 5000}


def hour_key(hour: datetime, minute: int, name: str) -> str:
    return f"{landing.hour_prefix(hour)}minute={minute:02d}/{name}"


# --- servers (one each per session, started only when a test needs it) and a fresh bucket per test ----------


def _serve(starter):
    try:
        with starter() as endpoint:
            yield endpoint
    except ServerUnavailable as exc:
        pytest.fail(f"object-store server not available: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def s3_endpoint():
    yield from _serve(moto_server)


@pytest.fixture(scope="session")
def gcs_endpoint():
    yield from _serve(fake_gcs_server)


@pytest.fixture(scope="session")
def azure_endpoint():
    yield from _serve(azurite_server)


def _bucket(kind: str, request, monkeypatch):
    endpoint = request.getfixturevalue(f"{kind}_endpoint")
    for name in FOREIGN_ENV[kind]:
        monkeypatch.delenv(name, raising=False)
    bucket = create_bucket(kind, endpoint)
    for name, value in bucket.env.items():
        monkeypatch.setenv(name, value)
    return bucket


@pytest.fixture(params=KINDS)
def bucket(request, monkeypatch):
    """An empty bucket on each server in turn, its variables set; the landing root is ``bucket.url``."""
    bucket = _bucket(request.param, request, monkeypatch)
    yield bucket
    drop_bucket(bucket)


@pytest.fixture
def s3_bucket(request, monkeypatch):
    """An empty bucket on the moto server only (for tests of read_files' scheduling)."""
    return _bucket("s3", request, monkeypatch)


@pytest.fixture(scope="module")
def synth_landing(tmp_path_factory) -> Path:
    """Three hours of synthetic telemetry (H0-H2) in the collector layout, as the CLI's ``synth`` writes it."""
    root = tmp_path_factory.mktemp("synth") / "landing"
    write_landing(str(root), H0, H0 + timedelta(hours=3), traces_per_hour=60, files_per_hour=4, seed=7)
    return root


def upload_hours(bucket, root: Path, *hours: datetime) -> list[str]:
    """Upload the files of ``hours`` from the local landing ``root``; returns their keys."""
    objects = {}
    for hour in hours:
        for path in sorted((root / landing.hour_prefix(hour)).rglob("*")):
            if path.is_file():
                objects[path.relative_to(root).as_posix()] = path.read_bytes()
    bucket.upload_many(objects)
    return sorted(objects)


# --- listing ----------------------------------------------------------------------------------------------------


def test_list_hour_finds_the_hours_files_with_size_and_etag(bucket, synth_landing):
    upload_hours(bucket, synth_landing, H0, H1)
    bucket.upload(hour_key(H0, 0, "_SUCCESS"), b"")  # not telemetry: skipped
    store = landing.open_store(bucket.url)
    local = landing.list_hour(landing.open_store(str(synth_landing)), H0)

    files = landing.list_hour(store, H0)

    assert len(files) == 16
    assert [(f.path, f.signal, f.format, f.size) for f in files] == [(f.path, f.signal, f.format, f.size) for f in local]
    assert all(f.e_tag for f in files), [f.e_tag for f in files]
    if bucket.kind != "azure":  # content MD5s (Azurite's are time-based, and random in part)
        assert len({f.e_tag for f in files}) == len(files)
    now = datetime.now(UTC)
    assert all(f.last_modified.tzinfo is not None and now - timedelta(minutes=5) < f.last_modified <= now + timedelta(minutes=1) for f in files)
    assert {f.path[: len(landing.hour_prefix(H1))] for f in landing.list_hour(store, H1)} == {landing.hour_prefix(H1)}
    assert landing.list_hour(store, H2) == []

    # A rewritten object is a new version: new size and ETag (what the sensor's run key and the ledger see).
    first = files[0]
    bucket.upload(first.path, gzip.compress(b'{"resourceSpans": []}'))
    (again,) = [f for f in landing.list_hour(store, H0) if f.path == first.path]
    assert (again.size, again.e_tag) != (first.size, first.e_tag)


def test_list_hour_pages_past_the_servers_page_size(bucket):
    count = PAGE_SIZE[bucket.kind] + 1  # 1,001 keys (S3, GCS) or 5,001 (Azure, whose pages hold 5,000)
    objects = {hour_key(H0, i % 60, f"traces_{i:05d}.json"): b"{}" for i in range(count)}
    objects[hour_key(H1, 0, "traces_next.json")] = b"{}"
    bucket.upload_many(objects)
    store = landing.open_store(bucket.url)

    files = landing.list_hour(store, H0)

    assert len(files) == count
    assert [f.path for f in files] == sorted(k for k in objects if k.startswith(landing.hour_prefix(H0)))
    assert all(f.size == 2 and f.e_tag for f in files)
    first_page, more = first_list_page_size(bucket, landing.hour_prefix(H0))
    if bucket.kind == "gcs":
        assert (first_page, more) == (count, False)  # fake-gcs-server does not page: a complete list is all we can check
    else:
        assert (first_page, more) == (PAGE_SIZE[bucket.kind], True)  # so list_hour needed a second page


# --- reading ----------------------------------------------------------------------------------------------------


def test_read_file_returns_the_decompressed_bytes(bucket, synth_landing):
    upload_hours(bucket, synth_landing, H0)
    payload = b'{"resourceLogs": []}\n' * 100
    extra = {
        hour_key(H0, 59, "logs_zst.json.zst"): zstandard.ZstdCompressor().compress(payload),
        hour_key(H0, 59, "metrics_plain.json"): payload,
    }
    bucket.upload_many(extra)
    store, local = landing.open_store(bucket.url), landing.open_store(str(synth_landing))
    local_bytes = {f.path: landing.read_file(local, f) for f in landing.list_hour(local, H0)}

    files = landing.list_hour(store, H0)

    assert len(files) == 18
    for file in files:
        data = landing.read_file(store, file)
        if file.path in extra:
            assert data == payload, file.path
        else:
            assert data == local_bytes[file.path], file.path
            assert data[:1] in (b"{", b"[")  # decompressed JSON
    assert [f.path for f, _ in landing.iter_hour(store, H0)] == [f.path for f in files]


def test_object_deleted_between_list_and_read_is_an_object_store_error_naming_it(bucket, synth_landing):
    upload_hours(bucket, synth_landing, H0)
    store = landing.open_store(bucket.url)
    files = landing.list_hour(store, H0)
    gone = files[5]
    bucket.delete(gone.path)

    with pytest.raises(ObjectStoreError) as info:
        landing.read_file(store, gone)
    assert not isinstance(info.value, LandingError)  # the store's failure (retried), not bad content
    assert str(info.value).startswith(f"{gone.path}: cannot read object")

    results = list(landing.read_files(store, files, concurrency=4))
    assert [f.path for f, _ in results] == [f.path for f in files]
    errors = {f.path: r for f, r in results if isinstance(r, Exception)}
    assert list(errors) == [gone.path]
    assert isinstance(errors[gone.path], ObjectStoreError) and gone.path in str(errors[gone.path])
    assert all(isinstance(r, bytes) and r[:1] in (b"{", b"[") for f, r in results if f.path != gone.path)


def test_read_files_keeps_key_order_and_matches_read_file(bucket):
    # Sizes vary a lot so later keys often finish first.
    objects = {
        hour_key(H0, i % 60, f"traces_{i:04d}.json.gz"): gzip.compress(b'{"n": %d}' % i + b" " * (200_000 if i % 7 == 0 else 10))
        for i in range(120)
    }
    bucket.upload_many(objects)
    store = landing.open_store(bucket.url)
    files = landing.list_hour(store, H0)

    results = list(landing.read_files(store, files, concurrency=8))

    assert [f.path for f, _ in results] == sorted(objects)
    assert [data for _, data in results] == [gzip.decompress(objects[f.path]) for f in files]


# --- the whole hour into PostgreSQL, and the sensor ---------------------------------------------------------------


def test_an_hour_loads_exactly_as_the_same_files_from_a_local_path(bucket, synth_landing, database_url, schema):
    upload_hours(bucket, synth_landing, H0, H1)
    local_schema = f"{schema}_local"
    try:
        from_local = load_hour(H0, landing_url=str(synth_landing), database_url=database_url, schema=local_schema)
        from_store = load_hour(H0, landing_url=bucket.url, database_url=database_url, schema=schema)

        assert from_store.files == from_local.files and sum(from_store.files.values()) == 16
        assert from_store.records == from_local.records and from_store.records["traces"] > 0
        assert from_store.bytes_read == from_local.bytes_read
        assert from_store.records_rejected == from_local.records_rejected == 0
        local_rows = snapshot(database_url, local_schema)
        assert all(local_rows[t] for t in ("traces", "trace_spans", "logs", "metric_data_points")), {t: len(r) for t, r in local_rows.items()}
        assert snapshot(database_url, schema) == local_rows
        # the ledger holds each object's store ETag, so an unchanged hour is skipped on the next run
        listed = {f.path: (f.size, f.e_tag) for f in landing.list_hour(landing.open_store(bucket.url), H0)}
        ledger = query(database_url, f'SELECT object_key, size, etag, status FROM "{schema}".ingested_files')
        assert {key: (size, etag) for key, size, etag, _ in ledger} == listed
        assert {status for *_, status in ledger} == {"loaded"}
        assert load_hour(H0, landing_url=bucket.url, database_url=database_url, schema=schema).skipped
    finally:
        execute(database_url, f'DROP SCHEMA IF EXISTS "{local_schema}" CASCADE')


def test_an_object_gone_after_the_listing_fails_the_hour_with_object_store_error(
    bucket, synth_landing, database_url, schema, monkeypatch
):
    """The error Dagster retries (not LandingError, which it does not), naming the file; nothing is committed."""
    upload_hours(bucket, synth_landing, H0)
    gone = []

    def list_then_delete(store, hour):
        files = landing.list_hour(store, hour)
        gone.append(files[7].path)
        bucket.delete(files[7].path)
        return files

    monkeypatch.setattr(hour_module, "list_hour", list_then_delete)
    with pytest.raises(ObjectStoreError) as info:
        load_hour(H0, landing_url=bucket.url, database_url=database_url, schema=schema)
    assert not isinstance(info.value, LandingError)
    assert gone and gone[0] in str(info.value)
    assert query(database_url, f'SELECT count(*) FROM "{schema}".ingested_files') == [(0,)]
    assert query(database_url, f'SELECT count(*) FROM "{schema}".trace_spans') == [(0,)]


def test_sensor_scan_finds_new_hours_and_a_late_file(bucket, synth_landing):
    upload_hours(bucket, synth_landing, H0, H1)
    store = landing.open_store(bucket.url)

    requests, cursor = run_requests(store, None, H1 + timedelta(hours=1, minutes=10), lookback=6)
    first = {r.partition_key: r.run_key for r in requests}
    assert sorted(first) == [landing.partition_key(H0), landing.partition_key(H1)]
    assert cursor == max(f.path for h in (H0, H1) for f in landing.list_hour(store, h))

    # Nothing new: the same run keys (Dagster launches a run key once).
    again, cursor_again = run_requests(store, cursor, H1 + timedelta(hours=1, minutes=11), lookback=6)
    assert {r.partition_key: r.run_key for r in again} == first and cursor_again == cursor

    # A late file for H0 (its key sorts before the cursor: found by the lookback) and a new hour H2.
    late = hour_key(H0, 59, "traces_late.json.gz")
    bucket.upload(late, gzip.compress(b'{"resourceSpans": []}'))
    upload_hours(bucket, synth_landing, H2)
    later, new_cursor = run_requests(store, cursor, H2 + timedelta(hours=1, minutes=1), lookback=6)
    by_partition = {r.partition_key: r for r in later}
    assert sorted(by_partition) == [landing.partition_key(h) for h in (H0, H1, H2)]
    assert by_partition[landing.partition_key(H0)].run_key != first[landing.partition_key(H0)]
    assert by_partition[landing.partition_key(H0)].tags["observatory/files"] == "17"
    assert by_partition[landing.partition_key(H1)].run_key == first[landing.partition_key(H1)]
    assert new_cursor > cursor and new_cursor.startswith(landing.hour_prefix(H2))


# --- read_files: bounded concurrency ------------------------------------------------------------------------------


class CountingGet:
    """Wraps obstore.get to count calls started and the most running at once (each held ``delay`` seconds)."""

    def __init__(self, real, delay: float):
        self.real, self.delay = real, delay
        self.lock = threading.Lock()
        self.started = self.running = self.most = 0

    def __call__(self, store, path, *args, **kwargs):
        with self.lock:
            self.started += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.delay)
            return self.real(store, path, *args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1


def test_read_files_has_at_most_n_objects_in_flight(s3_bucket, monkeypatch):
    objects = {hour_key(H0, i % 60, f"logs_{i:03d}.json.gz"): gzip.compress(b'{"i": %d}' % i) for i in range(60)}
    s3_bucket.upload_many(objects)
    store = landing.open_store(s3_bucket.url)
    files = landing.list_hour(store, H0)
    counting = CountingGet(obstore.get, delay=0.02)
    monkeypatch.setattr(obstore, "get", counting)

    results = list(landing.read_files(store, files, concurrency=5))

    assert [f.path for f, _ in results] == sorted(objects)
    assert counting.started == 60
    assert counting.most == 5  # all 5 used, never more

    # A consumer that stops reading stops the fetching: N fetched-but-unread objects at most, plus the one it holds.
    counting.started = counting.most = 0
    reader = landing.read_files(store, files, concurrency=5)
    next(reader)
    time.sleep(0.3)
    assert counting.started == 6
    reader.close()
    time.sleep(0.1)
    assert counting.started == 6


def test_read_files_one_failure_does_not_lose_the_others(s3_bucket):
    payload = b'{"resourceSpans": []}'
    objects = {hour_key(H0, i, f"traces_{i:02d}.json.gz"): gzip.compress(payload) for i in range(30)}
    corrupt, missing = hour_key(H0, 3, "traces_03.json.gz"), hour_key(H0, 20, "traces_20.json.gz")
    objects[corrupt] = gzip.compress(payload)[:12]
    s3_bucket.upload_many(objects)
    store = landing.open_store(s3_bucket.url)
    files = landing.list_hour(store, H0)
    s3_bucket.delete(missing)

    for concurrency in (1, 16):
        results = list(landing.read_files(store, files, concurrency=concurrency))
        assert [f.path for f, _ in results] == sorted(objects)
        by_path = {f.path: r for f, r in results}
        assert isinstance(by_path[corrupt], LandingError) and by_path[corrupt].path == corrupt
        assert isinstance(by_path[missing], ObjectStoreError) and missing in str(by_path[missing])
        assert all(r == payload for p, r in by_path.items() if p not in (corrupt, missing))


def test_read_files_on_a_local_path_and_its_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("OBSERVATORY_READ_CONCURRENCY", raising=False)
    root = tmp_path / "landing"
    for i in range(10):
        folder = root / landing.hour_prefix(H0) / f"minute={i:02d}"
        folder.mkdir(parents=True)
        (folder / f"metrics_{i}.json.gz").write_bytes(gzip.compress(b"%d" % i))
    store = landing.open_store(str(root))
    files = landing.list_hour(store, H0)

    assert [r for _, r in landing.read_files(store, files)] == [b"%d" % i for i in range(10)]
    assert [r for _, r in landing.read_files(store, iter(files), concurrency=1)] == [b"%d" % i for i in range(10)]
    assert list(landing.read_files(store, [])) == []
    assert landing.read_concurrency_for(store) == 4
    assert landing.read_concurrency_for(obstore.store.MemoryStore()) == 16
    with pytest.raises(ValueError, match="at least 1"):
        list(landing.read_files(store, files, concurrency=0))

    monkeypatch.setenv("OBSERVATORY_READ_CONCURRENCY", "32")
    assert landing.read_concurrency_for(store) == config.read_concurrency(local=True) == 32
    assert config.read_concurrency() == 32
    for bad in ("0", "-1", "many"):
        monkeypatch.setenv("OBSERVATORY_READ_CONCURRENCY", bad)
        with pytest.raises(ValueError, match="OBSERVATORY_READ_CONCURRENCY"):
            config.read_concurrency()


def test_read_files_on_a_local_path_reads_small_files_inline_and_large_ones_on_threads(tmp_path):
    # Small local files are read in the calling thread, large ones (INLINE_READ_BYTES or more) on the pool;
    # either way in key order, each failure only its own file's, the same bytes as read_file.
    root = tmp_path / "landing"
    folder = root / landing.hour_prefix(H0) / "minute=00"
    folder.mkdir(parents=True)
    big = os.urandom(landing.INLINE_READ_BYTES)  # incompressible: stays above the threshold gzip'd
    payloads = {f"traces_{i:02d}.json.gz": (big + b"%d" % i if i % 3 == 0 else b'{"n": %d}' % i) for i in range(12)}
    for name, payload in payloads.items():
        (folder / name).write_bytes(gzip.compress(payload))
    (folder / "logs_a b.json.gz").write_bytes(gzip.compress(b"spaced"))  # a key with a space in its name
    (folder / "logs_corrupt.json.gz").write_bytes(gzip.compress(b"x" * 100)[:-9])
    (folder / "logs_gone.json.gz").write_bytes(gzip.compress(b"gone"))
    store = landing.open_store(str(root))
    files = landing.list_hour(store, H0)
    assert sum(f.size >= landing.INLINE_READ_BYTES for f in files) == 4
    (folder / "logs_gone.json.gz").unlink()

    results = list(landing.read_files(store, files, concurrency=4))

    assert [f.path for f, _ in results] == [f.path for f in files]
    by_name = {f.path.rsplit("/", 1)[1]: r for f, r in results}
    assert by_name.pop("logs_a b.json.gz") == b"spaced"
    assert isinstance(by_name.pop("logs_corrupt.json.gz"), LandingError)
    gone = by_name.pop("logs_gone.json.gz")
    assert isinstance(gone, ObjectStoreError) and not isinstance(gone, LandingError) and "logs_gone" in str(gone)
    assert by_name == payloads
    for file, result in results:  # read_file reads every present file alike
        if isinstance(result, bytes):
            assert landing.read_file(store, file) == result


def test_a_missing_server_fails_with_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("AZURITE_BLOB", str(tmp_path / "no-such-azurite-blob"))
    with pytest.raises(ServerUnavailable, match="npm install --no-save azurite@3"), azurite_server():
        pass
