"""The benchmark's options and command line, importing nothing heavy (the CLI builds its parser from it).

Used by ``observatory-etl bench`` (:mod:`observatory_etl.cli`) and ``python -m benchmarks``; the
orchestration that takes :class:`Options` is :func:`benchmarks.run.run`.
"""

from __future__ import annotations

import argparse
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUT = Path("docs/benchmarks")


@dataclass
class Options:
    """What to run.

    Attributes:
        spans: spans in the landing hour (≈; traces_per_hour = spans / 6.9).
        insert_rows: cap of the row-by-row and multi-row INSERT methods (None: every span row).
        rss_spans: partition sizes (spans) whose peak RSS is measured, each in a fresh subprocess.
        rss: measure peak RSS at all.
        landing: landing folder to write (and keep); None: a temporary folder, removed at the end.
        reuse_landing: use the hour already in ``landing`` instead of writing it.
        database_url: PostgreSQL libpq URI; None: observatory_etl.warehouse.embedded.database_url() (the embedded server by default).
        out: folder for README.md, throughput.png and results.json.
        small_files: about this many files in a second synthetic hour (the Collector flushing often: ~25
            records per file) whose decode rate is compared with the measured hour's; 0 skips it.
        rounds: times the two decodes, dlt and the pipeline are each measured; the fastest round counts (the
            machine's speed drifts by up to 1.4× between minutes, and noise only ever slows a run down).
    """

    spans: int = 1_000_000
    insert_rows: int | None = None
    rss_spans: tuple[int, ...] = (200_000, 2_000_000)
    rss: bool = True
    landing: str | None = None
    reuse_landing: bool = False
    database_url: str | None = None
    out: Path = DEFAULT_OUT
    small_files: int = 4_000
    rounds: int = 3

    def command(self) -> str:
        """The ``observatory-etl bench`` command line of these options (a database password redacted)."""
        parts = ["observatory-etl", "bench", "--spans", str(self.spans)]
        if self.insert_rows is not None:
            parts += ["--insert-rows", str(self.insert_rows)]
        parts += ["--rss-spans", ",".join(map(str, self.rss_spans))] if self.rss else ["--no-rss"]
        if self.landing:
            parts += ["--landing", self.landing] + (["--reuse-landing"] if self.reuse_landing else [])
        if self.database_url:
            parts += ["--database-url", re.sub(r"(//[^:/@]*:)[^@/]+@", r"\1***@", self.database_url)]
        if self.small_files != Options.small_files:
            parts += ["--small-files", str(self.small_files)]
        if self.rounds != Options.rounds:
            parts += ["--rounds", str(self.rounds)]
        return shlex.join(parts + ["--out", str(self.out)])


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _count(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(sorted(_positive(part) for part in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the benchmark's options to ``parser`` (see :class:`Options`)."""
    parser.add_argument("--spans", type=_positive, default=Options.spans, metavar="N",
                        help="spans in the synthetic landing hour (default 1,000,000)")
    parser.add_argument("--insert-rows", type=_positive, metavar="N",
                        help="load only the first N span rows with the row-by-row and multi-row INSERT methods "
                             "(slow; default: all rows)")
    parser.add_argument("--rss-spans", type=_sizes, default=Options.rss_spans, metavar="N,M",
                        help="partition sizes in spans whose peak RSS is measured (default 200000,2000000)")
    parser.add_argument("--no-rss", dest="rss", action="store_false", help="skip the peak-RSS subprocesses")
    parser.add_argument("--landing", metavar="DIR", help="write the landing here and keep it (default: a temp dir)")
    parser.add_argument("--reuse-landing", action="store_true",
                        help="with --landing: load the hour already there instead of writing it")
    parser.add_argument("--database-url", metavar="URL",
                        help="PostgreSQL URL (default: $OBSERVATORY_DATABASE_URL or the embedded server)")
    parser.add_argument("--small-files", type=_count, default=Options.small_files, metavar="N",
                        help="files (about) in a second synthetic hour of small files, ~25 records each, whose "
                             "decode rate is compared with the measured hour's (default 4,000; 0 skips it)")
    parser.add_argument("--rounds", type=_positive, default=Options.rounds, metavar="N",
                        help="measure the decodes, dlt and the pipeline N times each and keep the fastest round "
                             "(default 3; the others are listed beside it)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="folder for README.md, throughput.png, results.json (default docs/benchmarks)")


def options_from_args(args: argparse.Namespace) -> Options:
    """The :class:`Options` of parsed arguments (from a parser set up by :func:`add_arguments`)."""
    return Options(spans=args.spans, insert_rows=args.insert_rows, rss_spans=args.rss_spans, rss=args.rss,
                   landing=args.landing, reuse_landing=args.reuse_landing, database_url=args.database_url,
                   out=args.out, small_files=args.small_files, rounds=args.rounds)


