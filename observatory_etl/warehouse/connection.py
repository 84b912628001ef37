"""Connections to the PostgreSQL warehouse (ADBC) and advisory-lock keys."""

from __future__ import annotations

import hashlib

import adbc_driver_postgresql.dbapi as adbc


def connect(url: str) -> adbc.Connection:
    """Open an ADBC PostgreSQL connection (autocommit off) to ``url`` (a libpq URI)."""
    return adbc.connect(url)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (first 8 bytes of its MD5)."""
    return int.from_bytes(hashlib.md5(name.encode(), usedforsecurity=False).digest()[:8], "big", signed=True)
