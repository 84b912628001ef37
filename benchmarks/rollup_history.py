"""``python -m benchmarks.rollup_history``: the traces/sessions rollup's seconds for one hour with 1 day of
partitions retained vs 30 days (issue: rollups must stay cheap as history grows).

Loads one synthetic hour into each of N days (N = 1 and N = 30), then loads a further hour and prints the
rollup seconds of that last load, plus its EXPLAIN (ANALYZE) partition count, per N. Uses the embedded
server in a temporary folder unless --database-url is given.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from observatory_etl import synth
from observatory_etl.pipeline.hour import load_hour
from observatory_etl.warehouse import embedded
from observatory_etl.warehouse.connection import connect

START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def run(database_url: str, days: int, traces: int, repeats: int) -> list[float]:
    """Rollup seconds of the last hour's load, ``repeats`` times (each into a fresh schema with ``days`` days
    of history)."""
    landing = Path(tempfile.mkdtemp(prefix="rollup-landing-"))
    try:
        hours = [START + timedelta(days=d) for d in range(days)]
        last = START + timedelta(days=days - 1, hours=1)
        for hour in [*hours, last]:
            synth.write_landing(str(landing), hour, hour + timedelta(hours=1), traces_per_hour=traces, seed=hour.day)
        seconds = []
        for repeat in range(repeats):
            schema = f"rollup_{days}d_{repeat}"
            _drop(database_url, schema)  # left by an interrupted run: its ledger would skip every hour
            try:
                for hour in hours:
                    load_hour(hour, landing_url=str(landing), database_url=database_url, schema=schema)
                result = load_hour(last, landing_url=str(landing), database_url=database_url, schema=schema)
                seconds.append(result.load.seconds["rollup"])
            finally:
                # every schema left behind slows each later ADBC connect (the driver reads pg_type at connect)
                _drop(database_url, schema)
        return seconds
    finally:
        shutil.rmtree(landing, ignore_errors=True)


def _drop(database_url: str, schema: str) -> None:
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.commit()
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rollup_history", description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=2000, help="traces per synthetic hour (default 2000)")
    parser.add_argument("--repeats", type=int, default=2, help="loads of the last hour per setting (default 2)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: an embedded server in a temp folder)")
    args = parser.parse_args()
    folder = None
    url = args.database_url
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="rollup-pg-"))
        url = embedded.embedded_database_url(folder / "data")
    try:
        for days in (1, 30):
            seconds = run(url, days, args.traces, args.repeats)
            print(f"{days:>2} days of partitions: rollup of the last hour {min(seconds):.3f} s "
                  f"(best of {len(seconds)}: {', '.join(f'{s:.3f}' for s in seconds)})", flush=True)
    finally:
        if folder is not None:
            embedded.stop_embedded(folder / "data")
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
