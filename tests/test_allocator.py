"""The C allocator's mapping threshold (observatory_etl.allocator), set on import."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from observatory_etl.allocator import limit_heap_retention

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt's M_MMAP_THRESHOLD is glibc's")
def test_the_threshold_is_set_on_glibc(monkeypatch):
    assert limit_heap_retention()
    monkeypatch.setenv("OBSERVATORY_MALLOC_MMAP_THRESHOLD", "0")
    assert not limit_heap_retention()


def test_an_invalid_threshold_names_the_variable(monkeypatch):
    monkeypatch.setenv("OBSERVATORY_MALLOC_MMAP_THRESHOLD", str(64 * 1024 * 1024))
    with pytest.raises(ValueError, match="OBSERVATORY_MALLOC_MMAP_THRESHOLD"):
        limit_heap_retention()


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc")
def test_a_freed_block_above_the_threshold_returns_to_the_system():
    """In a fresh process that imported the package: after a 30 MB block was freed (which raises glibc's own
    sliding threshold to 30 MB), a freed 20 MB block still leaves the resident set (with the variable at 0,
    glibc's own threshold, it stays)."""
    script = """
import observatory_etl
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
first = bytearray(30 << 20)\ndel first
before = rss()
block = bytearray(20 << 20)
block[::4096] = b"x" * len(block[::4096])
during = rss()
del block
after = rss()
print(during - before > 15 << 20, during - after > 15 << 20)
"""
    def run(threshold: str) -> list[str]:
        env = {**os.environ, "OBSERVATORY_MALLOC_MMAP_THRESHOLD": threshold}
        return subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                              env=env).stdout.split()

    assert run("1048576") == ["True", "True"]
    assert run("0") == ["True", "False"]
