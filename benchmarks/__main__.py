"""``python -m benchmarks [options]``: the same as ``observatory-etl bench [options]``."""

import argparse
import sys

from . import run
from .options import add_arguments

parser = argparse.ArgumentParser(
    prog="python -m benchmarks",
    description="Benchmark the load against the COPY ceiling, INSERT, ADBC and dlt on one synthetic hour "
    "(the same as observatory-etl bench).",
)
add_arguments(parser)
sys.exit(run.main(run.options_from_args(parser.parse_args(sys.argv[1:]))))
