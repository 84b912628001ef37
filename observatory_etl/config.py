"""Every setting of observatory-etl, read from the environment in this one module and validated.

The Dagster CLI, the webserver, the daemon, run workers and ``observatory-etl`` all read the same
variables, so they agree without extra files:

=================================  ============================================================  ======================
variable                           meaning                                                       default
=================================  ============================================================  ======================
OBSERVATORY_LANDING_URL            object-store root of the landing zone (path or URL)           ``./landing``
OBSERVATORY_DATABASE_URL           PostgreSQL URL of the warehouse                               embedded server
OBSERVATORY_SCHEMA                 schema of all tables                                          ``observatory``
OBSERVATORY_START                  first hourly partition (ISO date or datetime, UTC)            ``2026-01-01``
OBSERVATORY_CHUNK_ROWS             records decoded per loaded chunk                              ``50000``
OBSERVATORY_CHUNK_BYTES            in-memory bytes of a chunk's frames (whichever bound first)   ``134217728`` (128 MiB)
OBSERVATORY_DECODE_WORKERS         processes decoding files while chunks load (0: in-process)    CPUs beyond 2, at most 4
OBSERVATORY_SCHEDULE_LAG_MINUTES   minutes after an hour ends before the schedule loads it       ``15``
OBSERVATORY_RETENTION_DAYS         days of telemetry the retention job keeps                     ``30``
OBSERVATORY_SENSOR_LOOKBACK_HOURS  hours the landing sensor rescans for late files each tick     ``6``
OBSERVATORY_SENSOR_INTERVAL_SECONDS  seconds between landing sensor ticks                        ``60``
OBSERVATORY_FRESHNESS_HOURS        hours since the newest loaded hour ended before the           ``3``
                                   freshness check warns
OBSERVATORY_ON_BAD_INPUT           ``quarantine``: bad records and files go to rejected_records  ``quarantine``
                                   and the ledger, the hour's good records load; ``fail``: the
                                   hour fails on the first bad file (strict CI)
OBSERVATORY_PRICES_CSV             a price CSV whose rows win over the genai-prices library      none
OBSERVATORY_READ_CONCURRENCY       landing objects fetched and decompressed at once              ``16`` (``4`` for a
                                   (``ingest.landing.read_files``)                               local path)
OBSERVATORY_MALLOC_MMAP_THRESHOLD  bytes from which glibc malloc maps a block of its own, so      ``1048576`` (1 MiB)  
                                   freeing returns it (``allocator``; 0: glibc's own sliding
                                   threshold)
OBSERVATORY_LAKE_URL               the lake (Apache Iceberg) warehouse location: a path,         none (no lake)
                                   ``file://``, ``s3://``, ``gs://``, ``az://``; unset: no lake
OBSERVATORY_LAKE_CATALOG           a pyiceberg catalog to load by name (``.pyiceberg.yaml``,     SqlCatalog in the
                                   ``PYICEBERG_CATALOG__<NAME>__*``)                             warehouse's PostgreSQL
OBSERVATORY_LAKE_SNAPSHOT_DAYS     days of lake snapshots ``lake_maintenance`` keeps             ``7``
DAGSTER_HOME                       Dagster instance folder                                       ``./dagster_home``
=================================  ============================================================  ======================

Each function reads its variable when called (so tests and the CLI may set variables at run time) and
raises ValueError naming the variable when the value is invalid. With OBSERVATORY_DATABASE_URL unset the
warehouse is the embedded PostgreSQL server in ``$DAGSTER_HOME/postgres``
(:mod:`observatory_etl.warehouse.embedded` starts it).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

DEFAULT_LANDING_URL = "./landing"
DEFAULT_SCHEMA = "observatory"
DEFAULT_START = "2026-01-01"
DEFAULT_CHUNK_ROWS = 50_000
DEFAULT_CHUNK_BYTES = 128 * 1024 * 1024
DEFAULT_RETENTION_DAYS = 30
DEFAULT_MALLOC_MMAP_THRESHOLD = 1024 * 1024

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _integer(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    """The integer value of variable ``name`` (``default`` when unset or empty).

    Raises:
        ValueError: not an integer in [minimum, maximum].
    """
    raw = os.environ.get(name) or str(default)
    valid = raw.isdigit() and int(raw) >= minimum and (maximum is None or int(raw) <= maximum)
    if not valid:
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise ValueError(f"{name} must be an integer {bounds}, got {raw!r}")
    return int(raw)


def malloc_mmap_threshold() -> int:
    """OBSERVATORY_MALLOC_MMAP_THRESHOLD: bytes from which glibc malloc gives a block its own mapping
    (:mod:`observatory_etl.allocator`); 0 keeps glibc's sliding threshold."""
    return _integer("OBSERVATORY_MALLOC_MMAP_THRESHOLD", DEFAULT_MALLOC_MMAP_THRESHOLD, maximum=32 * 1024 * 1024)


def landing_url() -> str:
    """The landing zone root from OBSERVATORY_LANDING_URL (a path, ``file://``, ``s3://``, ``gs://``, ``az://``)."""
    return os.environ.get("OBSERVATORY_LANDING_URL") or DEFAULT_LANDING_URL


def database_url() -> str | None:
    """The warehouse's libpq URI from OBSERVATORY_DATABASE_URL, or None for the embedded server."""
    return os.environ.get("OBSERVATORY_DATABASE_URL") or None


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


def chunk_rows() -> int:
    """Rows per loaded chunk, from OBSERVATORY_CHUNK_ROWS (default 50,000). Raises ValueError if < 1."""
    return _integer("OBSERVATORY_CHUNK_ROWS", DEFAULT_CHUNK_ROWS, minimum=1)


def chunk_bytes() -> int:
    """In-memory bytes of a chunk's frames, from OBSERVATORY_CHUNK_BYTES (default 128 MiB). Raises ValueError if < 1."""
    return _integer("OBSERVATORY_CHUNK_BYTES", DEFAULT_CHUNK_BYTES, minimum=1)


def decode_workers() -> int:
    """Processes that decode landing files in parallel with the load, from OBSERVATORY_DECODE_WORKERS
    (0 decodes in the loading process).

    The default leaves two CPUs to the loading process and a local PostgreSQL: the CPUs beyond two, at
    most 4 (so 0 on a 2-CPU machine, where worker processes measured slower: a 100k-span hour took
    17.4-19.1 s with 2 workers against 14.7-16.8 s in-process, see docs/tuning.md).

    Raises:
        ValueError: not a non-negative integer.
    """
    return _integer("OBSERVATORY_DECODE_WORKERS", min(max((os.cpu_count() or 1) - 2, 0), 4))


def schedule_lag_minutes() -> int:
    """Minutes after an hour ends before the hourly schedule loads it, from OBSERVATORY_SCHEDULE_LAG_MINUTES.

    Raises:
        ValueError: not an integer from 0 to 59.
    """
    return _integer("OBSERVATORY_SCHEDULE_LAG_MINUTES", 15, maximum=59)


def retention_days() -> int:
    """Days of telemetry the retention job keeps, from OBSERVATORY_RETENTION_DAYS (default 30).

    Raises:
        ValueError: not a positive integer.
    """
    return _integer("OBSERVATORY_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, minimum=1)


def sensor_lookback_hours() -> int:
    """Hours the landing sensor rescans for late files each tick, from OBSERVATORY_SENSOR_LOOKBACK_HOURS (default 6).

    Raises:
        ValueError: not a non-negative integer.
    """
    return _integer("OBSERVATORY_SENSOR_LOOKBACK_HOURS", 6)


def sensor_interval_seconds() -> int:
    """Seconds between landing sensor ticks, from OBSERVATORY_SENSOR_INTERVAL_SECONDS (default 60).

    Raises:
        ValueError: not a positive integer.
    """
    return _integer("OBSERVATORY_SENSOR_INTERVAL_SECONDS", 60, minimum=1)


def freshness_hours() -> int:
    """Hours since the newest loaded hour ended before the freshness check warns, from
    OBSERVATORY_FRESHNESS_HOURS (default 3).

    Raises:
        ValueError: not a non-negative integer.
    """
    return _integer("OBSERVATORY_FRESHNESS_HOURS", 3)


BAD_INPUT_POLICIES = ("quarantine", "fail")


def on_bad_input() -> str:
    """What a load does with input it cannot decode, from OBSERVATORY_ON_BAD_INPUT: ``quarantine`` (default:
    record the bad record or file with its reason and load the rest of the hour) or ``fail`` (fail the hour).

    Raises:
        ValueError: any other value.
    """
    value = (os.environ.get("OBSERVATORY_ON_BAD_INPUT") or "quarantine").strip().lower()
    if value not in BAD_INPUT_POLICIES:
        raise ValueError(f"OBSERVATORY_ON_BAD_INPUT must be one of {', '.join(BAD_INPUT_POLICIES)}, got {value!r}")
    return value


def prices_csv() -> Path | None:
    """A price CSV (the format of ``observatory_etl/llm/model_prices.csv``) whose rows win over the genai-prices
    library, from OBSERVATORY_PRICES_CSV; None when unset.

    Raises:
        ValueError: the file does not exist.
    """
    raw = os.environ.get("OBSERVATORY_PRICES_CSV")
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ValueError(f"OBSERVATORY_PRICES_CSV={raw!r} is not a file")
    return path


def dagster_home() -> Path:
    """The Dagster instance folder: DAGSTER_HOME, else ``./dagster_home``, as an absolute path."""
    return Path(os.environ.get("DAGSTER_HOME") or "dagster_home").resolve()


def embedded_data_dir() -> Path:
    """Where the embedded PostgreSQL server keeps its data: ``$DAGSTER_HOME/postgres``."""
    return dagster_home() / "postgres"


DEFAULT_LAKE_SNAPSHOT_DAYS = 7


def lake_url() -> str | None:
    """The lake's warehouse location from OBSERVATORY_LAKE_URL (a path, ``file://``, ``s3://``, ``gs://``,
    ``az://``), or None when unset: the lake is off (``lake_tables`` and ``lake_maintenance`` are not defined)."""
    return (os.environ.get("OBSERVATORY_LAKE_URL") or "").strip() or None


def lake_catalog() -> str | None:
    """The pyiceberg catalog the lake uses, by name, from OBSERVATORY_LAKE_CATALOG (configured in
    ``.pyiceberg.yaml`` or ``PYICEBERG_CATALOG__<NAME>__*`` variables); None when unset: a SqlCatalog in the
    warehouse's PostgreSQL, schema ``<OBSERVATORY_SCHEMA>_lake``.

    Raises:
        ValueError: the name is not a plain catalog name (letters, digits, ``_``, ``-``).
    """
    raw = (os.environ.get("OBSERVATORY_LAKE_CATALOG") or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", raw):
        raise ValueError(f"OBSERVATORY_LAKE_CATALOG must be a catalog name (letters, digits, _ and -), got {raw!r}")
    return raw


def lake_enabled() -> bool:
    """Whether the lake is configured: OBSERVATORY_LAKE_URL or OBSERVATORY_LAKE_CATALOG is set."""
    return bool(lake_url() or lake_catalog())


def lake_snapshot_days() -> int:
    """Days of lake snapshots the ``lake_maintenance`` job keeps (older ones expire, with the files only they
    use), from OBSERVATORY_LAKE_SNAPSHOT_DAYS (default 7).

    Raises:
        ValueError: not a positive integer.
    """
    return _integer("OBSERVATORY_LAKE_SNAPSHOT_DAYS", DEFAULT_LAKE_SNAPSHOT_DAYS, minimum=1)


def read_concurrency(local: bool = False) -> int:
    """Landing objects fetched and decompressed at once by :func:`observatory_etl.ingest.landing.read_files`,
    from OBSERVATORY_READ_CONCURRENCY; 1 reads one object after the other.

    Unset, it is 16 for an object store (each request waits for the network; 16 hides that latency while
    holding at most 16 objects in memory) and 4 for a local path (``local``), where only the decompression
    runs in parallel. When set, the value applies to both.

    Raises:
        ValueError: not a positive integer.
    """
    return _integer("OBSERVATORY_READ_CONCURRENCY", 4 if local else 16, minimum=1)


_SECRET_PARAMETER = re.compile(r"(?i)(password|passwd|secret|token|key|signature|sig|credential)")


def redact_url(url: str) -> str:
    """``url`` safe to log or show in Dagster: the password of its user info and the values of query
    parameters that name a secret (``password``, ``secret``, ``token``, ``key``, ``sig``…) become ``***``.

    A plain path or a URL without secrets is returned unchanged.
    """
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    if "://" not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:  # an empty password (the embedded server's URL) holds nothing to hide
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAMETER.search(name) for name, _ in pairs):
            query = urlencode([(n, "***" if _SECRET_PARAMETER.search(n) else v) for n, v in pairs], safe="/*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
