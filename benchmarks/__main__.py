"""``python -m benchmarks [options]``: the same as ``observatory-etl bench [options]``."""

import sys

from observatory_etl import cli

sys.exit(cli.main(["bench", *sys.argv[1:]]))
