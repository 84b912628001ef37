"""Tests of observatory_etl.landing on real files in a temporary landing folder (collector layout)."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path

import pytest
import zstandard

from observatory_etl.ingest import landing
from observatory_etl.ingest.landing import LandingError, LandingFile

UTC = timezone.utc
HOUR = datetime(2026, 11, 1, 10, tzinfo=UTC)
PAYLOAD = b'{"resourceSpans": []}\n' * 50


def hour_dir(root: Path, hour: datetime, minute: int) -> Path:
    return root / f"year={hour:%Y}" / f"month={hour:%m}" / f"day={hour:%d}" / f"hour={hour:%H}" / f"minute={minute:02d}"


def put(root: Path, hour: datetime, minute: int, name: str, data: bytes) -> str:
    directory = hour_dir(root, hour, minute)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)
    return (directory / name).relative_to(root).as_posix()


def zstd(data: bytes, **options) -> bytes:
    return zstandard.ZstdCompressor(**options).compress(data)


def build_landing(root: Path) -> dict[str, bytes]:
    """A landing hour with every kind of file, plus noise and neighbouring hours; returns key → raw content."""
    wanted = {
        put(root, HOUR, 0, "traces_0001.json", b'{"t": 1}'),
        put(root, HOUR, 0, "logs_0001.json.gz", gzip.compress(b'{"l": 1}')),
        put(root, HOUR, 5, "metrics_ab-cd.json.zst", zstd(b'{"m": 1}')),
        put(root, HOUR, 5, "otel_traces_abc.json", b'{"t": 2}'),
        put(root, HOUR, 59, "traces_9.binpb", b"\x0a\x00"),
        put(root, HOUR, 59, "logs_z.binpb.gz", gzip.compress(b"\x0a\x00")),
    }
    noise = [
        put(root, HOUR, 0, "_SUCCESS", b""),
        put(root, HOUR, 5, "notes.txt", b"hello"),
        put(root, HOUR, 5, "traces_abc.json.tmp", b"partial"),
        put(root, HOUR, 5, "spans_1.json", b"{}"),
        put(root, HOUR, 5, "traces.json", b"{}"),
        put(root, HOUR, 5, "traces_1.csv", b"{}"),
    ]
    other_hours = [
        put(root, datetime(2026, 11, 1, 9, tzinfo=UTC), 59, "traces_prev.json", b"{}"),
        put(root, datetime(2026, 11, 1, 11, tzinfo=UTC), 0, "traces_next.json", b"{}"),
        put(root, datetime(2026, 11, 1, 1, tzinfo=UTC), 0, "traces_one.json", b"{}"),
        put(root, datetime(2026, 11, 2, 10, tzinfo=UTC), 0, "traces_nextday.json", b"{}"),
        put(root, datetime(2025, 11, 1, 10, tzinfo=UTC), 0, "traces_lastyear.json", b"{}"),
    ]
    assert noise and other_hours
    return {key: (root / key).read_bytes() for key in wanted}


# ---------------------------------------------------------------------------------------------------
# hour_prefix / list_hour


def test_hour_prefix():
    assert landing.hour_prefix(datetime(2026, 11, 1, 0, tzinfo=UTC)) == "year=2026/month=11/day=01/hour=00/"
    assert landing.hour_prefix(datetime(2026, 1, 9, 23, 59, 59)) == "year=2026/month=01/day=09/hour=23/"


def test_list_hour_returns_only_that_hours_telemetry_sorted(tmp_path):
    contents = build_landing(tmp_path)
    files = landing.list_hour(landing.open_store(str(tmp_path)), HOUR)
    prefix = "year=2026/month=11/day=01/hour=10/"
    assert [f.path for f in files] == [
        prefix + "minute=00/logs_0001.json.gz",
        prefix + "minute=00/traces_0001.json",
        prefix + "minute=05/metrics_ab-cd.json.zst",
        prefix + "minute=05/otel_traces_abc.json",
        prefix + "minute=59/logs_z.binpb.gz",
        prefix + "minute=59/traces_9.binpb",
    ]
    assert [(f.signal, f.format) for f in files] == [
        ("logs", "json"), ("traces", "json"), ("metrics", "json"), ("traces", "json"), ("logs", "binpb"), ("traces", "binpb"),
    ]
    for file in files:
        assert isinstance(file, LandingFile)
        assert file.size == len(contents[file.path])  # size as stored (compressed)
        assert isinstance(file.last_modified, datetime) and file.last_modified.tzinfo is not None
    assert files == sorted(files, key=lambda f: f.path)


def test_list_hour_other_hours_and_empty_hours(tmp_path):
    build_landing(tmp_path)
    store = landing.open_store(str(tmp_path))
    assert [f.path for f in landing.list_hour(store, datetime(2026, 11, 1, 9, tzinfo=UTC))] == [
        "year=2026/month=11/day=01/hour=09/minute=59/traces_prev.json"
    ]
    assert [f.path for f in landing.list_hour(store, datetime(2026, 11, 1, 1, tzinfo=UTC))] == [
        "year=2026/month=11/day=01/hour=01/minute=00/traces_one.json"
    ]
    assert landing.list_hour(store, datetime(2026, 11, 1, 12, tzinfo=UTC)) == []
    assert landing.list_hour(store, datetime(2030, 1, 1, 0, tzinfo=UTC)) == []


def test_list_hour_under_a_nested_prefix_folder(tmp_path):
    prefix_root = tmp_path / "bucket" / "otel" / "prod"
    build_landing(prefix_root)
    store = landing.open_store(str(prefix_root))
    files = landing.list_hour(store, HOUR)
    assert len(files) == 6
    assert all(f.path.startswith("year=2026/month=11/day=01/hour=10/") for f in files)
    # a store rooted above the prefix does not see the hour at the root-relative key
    assert landing.list_hour(landing.open_store(str(tmp_path / "bucket")), HOUR) == []


def test_list_hour_signal_is_taken_from_the_name_after_file_prefix(tmp_path):
    put(tmp_path, HOUR, 1, "otel_logs_1.json", b"{}")
    put(tmp_path, HOUR, 1, "team-a.metrics_2.json.gz", gzip.compress(b"{}"))
    files = landing.list_hour(landing.open_store(str(tmp_path)), HOUR)
    assert [(f.path.rsplit("/", 1)[1], f.signal, f.format) for f in files] == [
        ("otel_logs_1.json", "logs", "json"),
        ("team-a.metrics_2.json.gz", "metrics", "json"),
    ]


def test_open_store_creates_missing_local_root(tmp_path):
    root = tmp_path / "not" / "yet"
    store = landing.open_store(str(root))
    assert root.is_dir()
    assert landing.list_hour(store, HOUR) == []


def test_open_store_plain_path_and_file_url_agree(tmp_path):
    contents = build_landing(tmp_path)
    by_path = landing.open_store(str(tmp_path))
    by_url = landing.open_store(tmp_path.as_uri())
    by_plain_url = landing.open_store("file://" + str(tmp_path))
    listings = [landing.list_hour(store, HOUR) for store in (by_path, by_url, by_plain_url)]
    paths = [[(f.path, f.signal, f.format, f.size) for f in files] for files in listings]
    assert paths[0] == paths[1] == paths[2]
    assert len(paths[0]) == 6
    for store in (by_path, by_url, by_plain_url):
        file = landing.list_hour(store, HOUR)[1]
        assert file.path.endswith("traces_0001.json")
        assert landing.read_file(store, file) == contents[file.path] == b'{"t": 1}'


def test_open_store_file_url_creates_missing_root(tmp_path):
    root = tmp_path / "fresh"
    store = landing.open_store("file://" + str(root))
    assert root.is_dir()
    assert landing.list_hour(store, HOUR) == []


def test_open_store_percent_encoded_file_url_creates_missing_root(tmp_path):
    root = tmp_path / "with space"
    url = root.as_uri()
    assert "%20" in url
    store = landing.open_store(url)
    assert root.is_dir()
    assert not (tmp_path / "with%20space").exists()
    assert landing.list_hour(store, HOUR) == []


def test_open_store_path_with_space(tmp_path):
    root = tmp_path / "land root"
    put(root, HOUR, 0, "traces_1.json", b"{}")
    store = landing.open_store(str(root))
    (file,) = landing.list_hour(store, HOUR)
    assert landing.read_file(store, file) == b"{}"


# ---------------------------------------------------------------------------------------------------
# decompress / read_file


def test_decompress_passes_plain_bytes_through():
    assert landing.decompress(PAYLOAD) == PAYLOAD
    assert landing.decompress(b"") == b""
    assert landing.decompress(b"\x1f") == b"\x1f"  # one byte of the gzip magic is not gzip
    assert landing.decompress(b"\x28\xb5\x2f") == b"\x28\xb5\x2f"  # three bytes of the zstd magic are not zstd


def test_decompress_gzip_by_magic():
    data = gzip.compress(PAYLOAD)
    assert data[:2] == b"\x1f\x8b"
    assert landing.decompress(data) == PAYLOAD
    # concatenated gzip members (e.g. appended writes) decode whole
    assert landing.decompress(gzip.compress(b"one\n") + gzip.compress(b"two\n")) == b"one\ntwo\n"


def test_decompress_zstd_by_magic_with_and_without_content_size():
    framed = zstd(PAYLOAD)
    assert framed[:4] == b"\x28\xb5\x2f\xfd"
    assert landing.decompress(framed) == PAYLOAD
    compressor = zstandard.ZstdCompressor(write_content_size=False).compressobj()
    streamed = compressor.compress(PAYLOAD) + compressor.flush()
    assert landing.decompress(streamed) == PAYLOAD
    big = PAYLOAD * 2000  # > 1 MB, several zstd blocks
    assert landing.decompress(zstd(big, level=1)) == big


def test_decompress_corrupt_gzip_raises_landing_error_naming_the_file():
    data = gzip.compress(PAYLOAD)
    with pytest.raises(LandingError) as info:
        landing.decompress(data[: len(data) // 2], "year=2026/x/traces_1.json.gz")
    assert info.value.path == "year=2026/x/traces_1.json.gz"
    assert str(info.value).startswith("year=2026/x/traces_1.json.gz: corrupt compressed data")
    bad_crc = data[:-8] + bytes(4) + data[-4:]
    with pytest.raises(LandingError, match="traces_2.json.gz: corrupt compressed data"):
        landing.decompress(bad_crc, "traces_2.json.gz")
    with pytest.raises(LandingError, match="traces_3.json: corrupt compressed data"):
        landing.decompress(b"\x1f\x8b\x00garbage", "traces_3.json")


def test_decompress_corrupt_gzip_body_raises_landing_error():
    data = gzip.compress(PAYLOAD)
    corrupt = data[:10] + b"\x07" + data[11:]  # deflate block type 3 (reserved) right after the 10-byte header
    with pytest.raises(LandingError, match="traces_4.json.gz: corrupt compressed data"):
        landing.decompress(corrupt, "traces_4.json.gz")


def test_decompress_corrupt_zstd_raises_landing_error():
    with pytest.raises(LandingError, match="metrics_1.json.zst: corrupt compressed data"):
        landing.decompress(b"\x28\xb5\x2f\xfd" + b"\xff" * 20, "metrics_1.json.zst")


def test_decompress_truncated_zstd_raises_landing_error():
    data = zstd(PAYLOAD)
    with pytest.raises(LandingError, match="logs_1.json.zst"):
        landing.decompress(data[: len(data) // 2], "logs_1.json.zst")


def test_decompress_concatenated_zstd_frames():
    assert landing.decompress(zstd(b"one\n") + zstd(b"two\n")) == b"one\ntwo\n"


def test_read_file_detects_compression_regardless_of_name(tmp_path):
    expected = {
        "traces_plain.json": PAYLOAD,
        "traces_gz.json.gz": PAYLOAD,
        "traces_gz_nosuffix.json": PAYLOAD,
        "logs_zst.json.zst": PAYLOAD,
        "logs_zst_nosuffix.json": PAYLOAD,
        "metrics_plain_but_named.json.gz": PAYLOAD,
    }
    put(tmp_path, HOUR, 3, "traces_plain.json", PAYLOAD)
    put(tmp_path, HOUR, 3, "traces_gz.json.gz", gzip.compress(PAYLOAD))
    put(tmp_path, HOUR, 3, "traces_gz_nosuffix.json", gzip.compress(PAYLOAD))
    put(tmp_path, HOUR, 3, "logs_zst.json.zst", zstd(PAYLOAD))
    put(tmp_path, HOUR, 3, "logs_zst_nosuffix.json", zstd(PAYLOAD))
    put(tmp_path, HOUR, 3, "metrics_plain_but_named.json.gz", PAYLOAD)
    store = landing.open_store(str(tmp_path))
    files = landing.list_hour(store, HOUR)
    assert sorted(f.path.rsplit("/", 1)[1] for f in files) == sorted(expected)
    for file in files:
        assert landing.read_file(store, file) == expected[file.path.rsplit("/", 1)[1]], file.path
    sizes = {f.path.rsplit("/", 1)[1]: f.size for f in files}
    assert sizes["traces_plain.json"] == len(PAYLOAD)
    assert sizes["traces_gz.json.gz"] == len(gzip.compress(PAYLOAD))
    assert sizes["logs_zst.json.zst"] == len(zstd(PAYLOAD))


def test_read_file_corrupt_file_names_the_key(tmp_path):
    key = put(tmp_path, HOUR, 7, "traces_bad.json.gz", gzip.compress(PAYLOAD)[:30])
    store = landing.open_store(str(tmp_path))
    (file,) = landing.list_hour(store, HOUR)
    with pytest.raises(LandingError) as info:
        landing.read_file(store, file)
    assert info.value.path == key
    assert key in str(info.value)


def test_read_file_missing_object_raises_object_store_error(tmp_path):
    """A file that cannot be fetched is the store's failure (retried), not bad content (not retried)."""
    key = put(tmp_path, HOUR, 7, "traces_gone.json", b"{}")
    store = landing.open_store(str(tmp_path))
    (file,) = landing.list_hour(store, HOUR)
    (tmp_path / key).unlink()
    with pytest.raises(landing.ObjectStoreError) as info:
        landing.read_file(store, file)
    assert not isinstance(info.value, LandingError)
    assert str(info.value).startswith(f"{key}: cannot read object")


def test_iter_hour_yields_files_and_decompressed_bytes_in_key_order(tmp_path):
    build_landing(tmp_path)
    store = landing.open_store(str(tmp_path))
    pairs = list(landing.iter_hour(store, HOUR))
    assert [f.path for f, _ in pairs] == [f.path for f in landing.list_hour(store, HOUR)]
    by_name = {f.path.rsplit("/", 1)[1]: data for f, data in pairs}
    assert by_name["traces_0001.json"] == b'{"t": 1}'
    assert by_name["logs_0001.json.gz"] == b'{"l": 1}'
    assert by_name["metrics_ab-cd.json.zst"] == b'{"m": 1}'
    assert by_name["logs_z.binpb.gz"] == b"\x0a\x00"
