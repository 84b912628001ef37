"""The landing zone: list one hour's files in the OpenTelemetry Collector layout and read them.

Layout (awss3exporter, https://github.com/open-telemetry/opentelemetry-collector-contrib
exporter/awss3exporter), relative to the landing root::

    [prefix/]year=YYYY/month=MM/day=DD/hour=HH/minute=MM/[file_prefix]{traces|metrics|logs}_<key>.<ext>

``ext`` is ``json`` (otlp_json) or ``binpb`` (otlp_proto), optionally followed by ``.gz`` or ``.zst``.
LLM-span JSON Lines files sit in the same folders as ``llm_spans_<key>.jsonl[.gz|.zst]`` (see ``llm_spans.py``).
The compression is detected from the magic bytes (gzip ``1f 8b``, zstd ``28 b5 2f fd``), so a file
whose name lacks the suffix still decodes. Object-store access goes through obstore: a local path,
``file://``, ``s3://``, ``gs://`` or ``az://`` URL all work the same way (credentials and endpoints from
obstore's environment variables). :func:`read_file` reads one file; :func:`read_files` many at once, in order.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from urllib.parse import unquote, urlparse

import obstore
import zstandard
from isal import igzip, igzip_lib

from .. import config

SIGNALS = ("traces", "metrics", "logs", "llm_spans")

_FILE_NAME = re.compile(
    r"(?P<signal>llm_spans|traces|metrics|logs)_(?P<key>[^/]+?)\.(?P<format>jsonl|json|binpb)(?:\.(?:gz|zst))?$"
)
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class LandingError(Exception):
    """A landing file that cannot be read or decoded; the message names the file and the reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self):  # pickled whole from decode worker processes
        return type(self), (self.path, self.reason)


@dataclass(frozen=True)
class LandingFile:
    """One object in the landing zone.

    Attributes:
        path: object key relative to the landing root.
        signal: ``traces``, ``metrics``, ``logs`` or ``llm_spans``.
        format: ``json`` (OTLP/JSON), ``binpb`` (OTLP protobuf) or ``jsonl`` (native LLM spans).
        size: bytes as stored (compressed).
        e_tag: the object store's ETag (None where the store has none).
        last_modified: the object's last-modified time (UTC).
    """

    path: str
    signal: str
    format: str
    size: int
    e_tag: str | None
    last_modified: datetime


def open_store(url: str):
    """Return an obstore store for a landing root given as a local path or an object-store URL.

    Local paths (with or without ``file://``) are created if missing so an empty landing lists nothing.
    """
    if "://" not in url:
        path = Path(url).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        url = path.as_uri()
    elif url.startswith("file://"):
        Path(unquote(urlparse(url).path)).mkdir(parents=True, exist_ok=True)
    return obstore.store.from_url(url)


def hour_prefix(hour: datetime) -> str:
    """The key prefix of one landing hour (UTC), e.g. ``year=2026/month=11/day=01/hour=00/``."""
    return f"year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}/"


def partition_key(hour: datetime) -> str:
    """The key of one landing hour (UTC), as Dagster's hourly partitions format it: ``YYYY-MM-DD-HH:00``."""
    return hour.strftime("%Y-%m-%d-%H:00")


def list_hour(store, hour: datetime) -> list[LandingFile]:
    """List the telemetry files of one landing hour, sorted by key.

    Objects under the hour whose names do not match the layout (e.g. ``_SUCCESS`` markers) are skipped;
    so are other objects the collector never writes. Keys are returned relative to the landing root.
    """
    files = []
    for batch in obstore.list(store, prefix=hour_prefix(hour), chunk_size=1000):
        for meta in batch:
            match = _FILE_NAME.search(meta["path"].rsplit("/", 1)[-1])
            if match is None:
                continue
            files.append(
                LandingFile(
                    path=meta["path"],
                    signal=match["signal"],
                    format=match["format"],
                    size=meta["size"],
                    e_tag=meta.get("e_tag"),
                    last_modified=meta["last_modified"],
                )
            )
    files.sort(key=lambda f: f.path)
    return files


def decompress(data: bytes, path: str = "<bytes>") -> bytes:
    """Undo gzip or zstd compression detected from the magic bytes; other data is returned as is.

    Raises:
        LandingError: the data starts like gzip or zstd but is truncated or corrupt.
    """
    try:
        if data[:2] == _GZIP_MAGIC:
            return igzip.decompress(data)  # every member of a multi-member file (ISA-L: ~3.5x zlib's speed)
        if data[:4] == _ZSTD_MAGIC:
            return _zstd_decompress(data)
    except (OSError, EOFError, igzip_lib.IsalError, zstandard.ZstdError) as exc:
        raise LandingError(path, f"corrupt compressed data: {exc}") from exc
    return data


def _zstd_decompress(data: bytes) -> bytes:
    """Decompress every zstd frame of ``data`` (frames need not record their content size).

    Raises:
        zstandard.ZstdError: a frame is corrupt or ends early.
    """
    parts = []
    while data:
        frame = zstandard.ZstdDecompressor().decompressobj()
        parts.append(frame.decompress(data))
        if not frame.eof:
            raise zstandard.ZstdError("truncated zstd frame")
        data = frame.unused_data
    return b"".join(parts)


class ObjectStoreError(Exception):
    """The object store failed to serve a file (network, throttling, permissions): possibly transient,
    unlike :class:`LandingError`, which is about the file's content. The message names the file."""


def read_file(store, file: LandingFile) -> bytes:
    """Fetch one landing file and return its decompressed bytes.

    Raises:
        ObjectStoreError: the object cannot be fetched (retrying may help).
        LandingError: the bytes are not valid gzip or zstd (retrying will not help).
    """
    return _read(store, file, local_root(store))


def _read(store, file: LandingFile, root: str | None) -> bytes:
    """:func:`read_file`, with ``root`` = :func:`local_root` of ``store`` (looked up once by :func:`read_files`)."""
    try:
        data = None if root is None else _local_bytes(root, file.path)
        if data is None:
            data = obstore.get(store, file.path).bytes().to_bytes()
    except Exception as exc:  # obstore raises its own hierarchy; keep the file name in the message
        raise ObjectStoreError(f"{file.path}: cannot read object: {exc}") from exc
    return decompress(data, file.path)


def local_root(store) -> str | None:
    """The directory of a local landing root (an obstore ``LocalStore``), None for an object store."""
    if isinstance(store, obstore.store.LocalStore) and store.prefix is not None:
        return f"{store.prefix}/"
    return None


def _local_bytes(root: str, path: str) -> bytes | None:
    """The bytes of ``path`` under the local landing root ``root`` read straight from the file system (~16 µs
    for a 2 KB file, against ~95 µs of CPU through obstore's ``get``, which hands the read to its async runtime:
    a quarter of the decode of an hour of 4,400 small files), or None for a key that obstore keeps under
    another file name (it percent-encodes some characters), which its ``get`` then reads."""
    try:
        with open(root + path, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        return None


def iter_hour(store, hour: datetime) -> Iterator[tuple[LandingFile, bytes]]:
    """Yield ``(file, decompressed bytes)`` for every telemetry file of one landing hour, in key order."""
    for file in list_hour(store, hour):
        yield file, read_file(store, file)


# A local file smaller than this (compressed) is read inline by read_files, not on its threads.
INLINE_READ_BYTES = 256 << 10


def read_concurrency_for(store) -> int:
    """How many objects :func:`read_files` fetches at once from ``store`` by default:
    :func:`observatory_etl.config.read_concurrency` (OBSERVATORY_READ_CONCURRENCY; 16 for an object store,
    4 for a local path, which has no latency to hide)."""
    return config.read_concurrency(local=isinstance(store, obstore.store.LocalStore))


def _read_or_error(store, file: LandingFile, root: str | None) -> bytes | ObjectStoreError | LandingError:
    """:func:`read_file` (``root``: see :func:`_read`), with its two expected failures returned instead of raised."""
    try:
        return _read(store, file, root)
    except (ObjectStoreError, LandingError) as exc:
        return exc


def read_files(
    store, files: Iterable[LandingFile], concurrency: int | None = None
) -> Iterator[tuple[LandingFile, bytes | ObjectStoreError | LandingError]]:
    """Fetch and decompress many landing files at once; yield ``(file, result)`` in the order of ``files``.

    With :func:`list_hour`'s list that is key order, the order :func:`iter_hour` reads in. Up to
    ``concurrency`` objects are fetched (``obstore.get``) and decompressed at the same time on a pool of
    threads (both release the GIL), which hides an object store's per-request latency. On a local path,
    files are read from the file system, and one under :data:`INLINE_READ_BYTES` is read in the calling
    thread when its turn comes (a thread's hand-off costs more than its read).

    Memory is bounded: at most ``concurrency`` files are fetched or held fetched-but-not-yet-yielded at
    any moment (a sliding window: one more is started only when the oldest is yielded), plus the one the
    caller is holding; a slow consumer therefore stops the fetching instead of letting results pile up.
    Closing the generator early cancels what has not started; fetches already running finish in the
    background and are dropped.

    Args:
        store: an obstore store (:func:`open_store`).
        files: the files to read, e.g. ``list_hour(store, hour)``; consumed lazily.
        concurrency: objects in flight, at least 1 (1 reads one after the other in this thread); default
            :func:`read_concurrency_for` (OBSERVATORY_READ_CONCURRENCY: 16 for an object store, 4 for a
            local path).

    Yields:
        ``(file, result)`` for every file, in order: ``result`` is the decompressed bytes, or the
        :class:`ObjectStoreError` (the object could not be fetched: missing, network, throttling;
        retrying may help) or :class:`LandingError` (corrupt gzip/zstd; retrying will not help) for that
        file alone — one failed object never hides the others. Both name the file.

    Raises:
        ValueError: ``concurrency`` is less than 1 (or OBSERVATORY_READ_CONCURRENCY is invalid).
    """
    if concurrency is None:
        concurrency = read_concurrency_for(store)
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    pending = iter(files)
    root = local_root(store)
    if concurrency == 1:
        for file in pending:
            yield file, _read_or_error(store, file, root)
        return
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="observatory-read")

    def start(file: LandingFile) -> Future | None:
        # a small local file is read when its turn comes, in this thread: handing it to a thread and back costs
        # more than reading it (4,400 files of 2 KB: 0.36-0.51 s through the threads, 0.18 s inline)
        if root is not None and file.size < INLINE_READ_BYTES:
            return None
        return pool.submit(_read_or_error, store, file, root)

    window: deque[tuple[LandingFile, Future | None]] = deque()
    try:
        for file in islice(pending, concurrency):
            window.append((file, start(file)))
        while window:
            file, future = window.popleft()
            # anything but the two expected errors is a bug: raised here
            result = _read_or_error(store, file, root) if future is None else future.result()
            following = next(pending, None)
            if following is not None:
                window.append((following, start(following)))
            yield file, result
    finally:
        for _, future in window:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
