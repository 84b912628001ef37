"""The compiled parts of observatory-etl: the per-record step of the OTLP/JSON fast path
(observatory_etl/ingest/otlp_json/_records.c) and the per-span pass of the LLM sources
(observatory_etl/llm/_sources.c). Everything else is in pyproject.toml.

Both are optional: where they cannot be built (no C compiler), the decoder runs the same steps in Python
(observatory_etl.ingest.otlp_json.typed, observatory_etl.llm.mapping), slower, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "observatory_etl.ingest.otlp_json._records",
            ["observatory_etl/ingest/otlp_json/_records.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
        Extension(
            "observatory_etl.llm._sources", ["observatory_etl/llm/_sources.c"], extra_compile_args=["-O2"], optional=True,
        ),
    ]
)
