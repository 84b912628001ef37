"""The compiled part of observatory-etl: the per-record step of the OTLP/JSON fast path
(observatory_etl/ingest/otlp_json/_records.c). Everything else is in pyproject.toml.

The extension is optional: where it cannot be built (no C compiler), the decoder runs the same steps in
Python (observatory_etl.ingest.otlp_json.typed), slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "observatory_etl.ingest.otlp_json._records",
            ["observatory_etl/ingest/otlp_json/_records.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
