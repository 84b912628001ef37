"""Reading one landing hour of many small objects, one at a time vs :func:`landing.read_files`:
``python -m benchmarks.object_store_reads`` (needs the test extra: moto).

A moto S3 server runs in a child process on 127.0.0.1 (its own interpreter, as a remote store would be),
one hour of ``--objects`` gzip'd OTLP/JSON objects (about ``--size`` bytes of JSON each) is uploaded under
``s3://<bucket>/landing``, listed once, then read whole:

* ``sequential``: ``read_file`` for each file in key order, what :func:`landing.iter_hour` does;
* ``read_files N``: :func:`landing.read_files` with N objects in flight, for each ``--concurrency``.

The same objects are then read from a local folder the same ways. Each variant runs ``--rounds`` times;
the fastest and the median round are printed, in seconds. Every variant must return the same bytes.
Timings are printed, never asserted.

Loopback has no network latency, and moto answers from one Python process (about 2 ms of CPU a request),
so against it concurrency can only overlap the client's work with the server's. ``--latency-ms N`` puts a
TCP proxy (a child process, on loopback) between the client and moto that delivers every byte from moto N
ms late, like a store N ms away: the time to first byte that a real store adds to each request and that
concurrency hides.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import obstore

from observatory_etl.ingest import landing

HOUR = datetime(2026, 11, 1, 0, tzinfo=timezone.utc)


def payload(i: int, size: int) -> bytes:
    """About ``size`` bytes of a small OTLP/JSON trace export, gzip'd (different for every ``i``)."""
    span = {"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": f"chat model-{i % 7}", "kind": 3,
            "startTimeUnixNano": str(1_793_491_200_000_000_000 + i), "endTimeUnixNano": str(1_793_491_200_500_000_000 + i),
            "attributes": [{"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(i % 997)}}]}
    spans = [span] * max(1, size // len(json.dumps(span)))
    body = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}]}
    return gzip.compress(json.dumps(body).encode())


def start_moto() -> tuple[subprocess.Popen, str]:
    """moto_server on a free loopback port, in a child process; returns it and its URL once it answers."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return process, url
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"moto_server exited with status {process.returncode} (is the test extra installed?)")
            time.sleep(0.1)
    process.kill()
    raise SystemExit("moto_server did not answer within 60 s")


def start_proxy(upstream: str, latency_ms: float) -> tuple[subprocess.Popen, str]:
    """:func:`proxy` in a child process in front of ``upstream``; returns it and its URL."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    up_port = int(upstream.rsplit(":", 1)[1])
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.object_store_reads", "--proxy",
                                f"{port}:{up_port}:{latency_ms}"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("latency proxy did not start")


def proxy(port: int, upstream_port: int, latency_ms: float) -> None:
    """Forward 127.0.0.1:port to 127.0.0.1:upstream_port, delivering each chunk from upstream ``latency_ms`` late
    (in order; requests pass at once). Runs until killed."""
    delay = latency_ms / 1000

    async def client_to_upstream(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def upstream_to_client(reader, writer):
        loop, queue = asyncio.get_running_loop(), asyncio.Queue()

        async def deliver():
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        delivery = asyncio.create_task(deliver())
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, data))
        queue.put_nowait((loop.time() + delay, b""))
        await delivery

    async def handle(client_reader, client_writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        try:
            await asyncio.gather(client_to_upstream(client_reader, up_writer), upstream_to_client(up_reader, client_writer))
        except (ConnectionError, OSError):
            pass
        finally:
            up_writer.close()
            client_writer.close()

    async def serve():
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def measure(label: str, read, rounds: int, expected: list[bytes]) -> tuple[float, float]:
    """Run ``read()`` (returning the hour's bytes in key order) ``rounds`` times; print and return (best, median) seconds."""
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        got = read()
        seconds.append(time.perf_counter() - start)
        if got != expected:
            raise SystemExit(f"{label}: returned different bytes")
    best, median = min(seconds), statistics.median(seconds)
    print(f"  {label:<22} best {best:7.3f} s   median {median:7.3f} s   {len(expected) / best:8.0f} objects/s", flush=True)
    return best, median


def run_variants(store, files, rounds: int, concurrencies: list[int], expected: list[bytes]) -> dict[str, tuple[float, float]]:
    """Every variant on ``files`` of ``store``; returns label -> (best, median) seconds."""
    for _, _ in landing.read_files(store, files[:64], concurrency=16):  # warm up: connections, the server's first requests
        pass
    results = {"sequential": measure("sequential", lambda: [landing.read_file(store, f) for f in files], rounds, expected)}
    for n in concurrencies:
        results[f"read_files {n}"] = measure(
            f"read_files {n}", lambda n=n: [data for _, data in landing.read_files(store, files, concurrency=n)], rounds, expected
        )
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=4000, help="objects in the hour (default 4000)")
    parser.add_argument("--size", type=int, default=2000, help="approximate JSON bytes per object before gzip (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each variant; best and median printed (default 3)")
    parser.add_argument("--concurrency", default="4,8,16,32,64", help="read_files concurrencies to measure (default 4,8,16,32,64)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="also read through a proxy that delays moto's answers this long (default 0: not measured)")
    parser.add_argument("--proxy", help=argparse.SUPPRESS)  # PORT:UPSTREAM_PORT:LATENCY_MS, the child process
    args = parser.parse_args(argv)
    if args.proxy:
        port, upstream_port, latency_ms = args.proxy.split(":")
        proxy(int(port), int(upstream_port), float(latency_ms))
        return
    concurrencies = [int(n) for n in args.concurrency.split(",") if n]

    objects = {f"{landing.hour_prefix(HOUR)}minute={i % 60:02d}/traces_{i:06d}.json.gz": payload(i, args.size)
               for i in range(args.objects)}
    total = sum(len(v) for v in objects.values())
    print(f"{len(objects)} objects, {total / len(objects):.0f} bytes each on average (gzip'd), {os.cpu_count()} CPUs")

    process, endpoint = start_moto()
    try:
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ALLOW_HTTP="true", AWS_REGION="us-east-1",
                          AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        import boto3

        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
        store = landing.open_store(f"s3://{bucket}/landing")
        start = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda item: obstore.put(store, *item), objects.items()))
        print(f"uploaded to moto in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        files = landing.list_hour(store, HOUR)
        print(f"list_hour: {len(files)} files in {time.perf_counter() - start:.3f} s")
        expected = [gzip.decompress(objects[f.path]) for f in files]
        print(f"S3 (moto_server in a child process, loopback), {args.rounds} rounds:")
        run_variants(store, files, args.rounds, concurrencies, expected)
        if args.latency_ms:
            relay, relay_url = start_proxy(endpoint, args.latency_ms)
            try:
                os.environ["AWS_ENDPOINT_URL"] = relay_url
                store = landing.open_store(f"s3://{bucket}/landing")
                print(f"S3 through a proxy adding {args.latency_ms:g} ms to each answer, {args.rounds} rounds:")
                run_variants(store, files, args.rounds, concurrencies, expected)
            finally:
                relay.terminate()
                relay.wait()
    finally:
        process.terminate()
        process.wait()

    with tempfile.TemporaryDirectory(prefix="observatory-bench-") as folder:
        for key, data in objects.items():
            path = Path(folder) / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        store = landing.open_store(folder)
        files = landing.list_hour(store, HOUR)
        print(f"local path, {args.rounds} rounds:")
        run_variants(store, files, args.rounds, concurrencies, expected)


if __name__ == "__main__":
    main()
