"""Peak memory of one pipeline run, measured in a fresh subprocess.

``python -m benchmarks.rss --landing DIR --database-url URL --schema NAME --hour ISO`` loads one landing
hour with :func:`observatory_etl.pipeline.hour.load_hour` and prints one JSON object: ``max_rss_kib`` (peak
resident memory of the subprocess, KiB), ``records`` (decoded) and ``seconds`` (wall clock of the load).
The landing must exist before the subprocess starts, so synthesizing it never counts.
:func:`measure` runs the subprocess and returns that object.

The peak is ``VmHWM`` of ``/proc/self/status``: the high-water mark of this process's own address space.
``getrusage(RUSAGE_SELF).ru_maxrss`` is not used where /proc exists because Linux carries the parent's
peak over fork and exec into it (a 9 MB child of an 800 MB parent reports 800 MB), so it would measure the
benchmark process, not the load; it is the fallback elsewhere (and reported as ``ru_maxrss_kib``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from datetime import datetime

from observatory_etl.pipeline.hour import load_hour


def measure(landing_url: str, database_url: str, schema: str, hour: datetime) -> dict:
    """Run ``python -m benchmarks.rss`` on one landing hour and return its JSON figures.

    Raises:
        subprocess.CalledProcessError: the subprocess failed (its stderr went to ours).
    """
    command = [sys.executable, "-m", "benchmarks.rss", "--landing", landing_url, "--database-url", database_url,
               "--schema", schema, "--hour", hour.isoformat()]
    completed = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _peak_kib() -> int | None:
    """``VmHWM`` of /proc/self/status in KiB: this address space's peak RSS; None without /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])  # "VmHWM:   123456 kB"
    except OSError:
        pass
    return None


def main(argv: list[str] | None = None) -> int:
    """Load the hour and print the figures as one JSON line on stdout."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rss", description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", required=True, help="landing root holding the hour")
    parser.add_argument("--database-url", required=True, help="PostgreSQL libpq URI")
    parser.add_argument("--schema", required=True, help="schema to load into (created if missing)")
    parser.add_argument("--hour", required=True, type=datetime.fromisoformat, help="landing hour, ISO with offset")
    args = parser.parse_args(argv)
    result = load_hour(args.hour, landing_url=args.landing, database_url=args.database_url, schema=args.schema)
    ru_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ru_maxrss_kib = ru_maxrss // 1024 if sys.platform == "darwin" else ru_maxrss  # bytes on macOS
    figures = {
        "max_rss_kib": _peak_kib() or ru_maxrss_kib,
        "ru_maxrss_kib": ru_maxrss_kib,
        "records": sum(result.records.values()),
        "seconds": result.wall_seconds,
    }
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
