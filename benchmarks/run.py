"""Orchestration of ``observatory-etl bench``: one landing, every method on the same rows, one report.

:func:`run` takes :class:`~benchmarks.options.Options` (no argparse in it) and returns a
:class:`~benchmarks.report.Report`; :func:`main` runs, writes the report and prints it. The command line
(``observatory-etl bench``, ``python -m benchmarks``) is :func:`add_arguments` and :func:`options_from_args`,
defined in the import-light :mod:`benchmarks.options` (so ``observatory-etl --help`` stays fast) and
re-exported here.

Schemas created in the database are named ``bench_<pid>_<random>[_…]`` and dropped at the end.
"""

from __future__ import annotations

import base64
import gzip
import os
import platform
import shutil
import struct
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

import polars as pl
import psycopg2
from google.protobuf import json_format

from observatory_etl import config, synth
from observatory_etl.ingest import landing, otlp_json, otlp_proto
from observatory_etl.lake import close_catalog, ensure_tables, open_catalog, write_hour
from observatory_etl.lake.catalog import catalog_schema_name
from observatory_etl.llm.prices import PriceTable
from observatory_etl.pipeline.chunks import Chunk
from observatory_etl.pipeline.decoder import Decoder
from observatory_etl.tables import FINAL_TABLES
from observatory_etl.warehouse import embedded
from observatory_etl.warehouse.connection import connect
from observatory_etl.warehouse.load import to_arrow

from . import methods, rss
from . import report as report_mod
from .methods import Log, Result
from .options import Options, add_arguments, options_from_args
from .report import Decode, Report, Rerun, Rss, rounds_text

HOUR = datetime(2026, 11, 1, 0, tzinfo=timezone.utc)
SPANS_PER_TRACE = 6.9  # synth's average (agent traces of ~6 spans, native traces of 1-3)
SPANS_PER_FILE = 8_000  # ≈ the collector's batch processor send_batch_size (8192) per traces file

__all__ = ["Options", "add_arguments", "options_from_args", "main", "run", "synthesize"]


def main(options: Options) -> int:
    """Run the benchmark, write the report into ``options.out`` and print it."""
    report = run(options)
    text = report_mod.write(report, options.out)
    print("\n" + text, flush=True)
    print(f"wrote {options.out}/README.md, throughput.png, results.json", flush=True)
    return 0


def _print(line: str) -> None:
    print(line, flush=True)


def run(options: Options, log: Log = _print) -> Report:
    """Build the landing, measure every method on its rows, and return the figures.

    Order: synthesize (unless reused) → the hour of small files written (``--small-files``) → decode and
    normalize both, their rounds alternating → the span methods (ceiling, INSERT, ADBC) → dlt → the pipeline and its rerun → peak RSS
    subprocesses. The decodes, dlt and the pipeline run ``options.rounds`` times each and the fastest round
    counts (the machine's speed drifts between minutes; noise only slows a round down). Everything created
    (schemas, the temporary landing, dlt's working folder) is removed at the end, also on failure.
    """
    os.environ["DAGSTER_HOME"] = str(config.dagster_home())  # the embedded server lives under it
    database_url = embedded.database_url(options.database_url)
    tag = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    rounds = range(options.rounds)
    schemas = [tag, f"{tag}_alone", f"{tag}_merge", *(f"{tag}_pipeline{r}" for r in rounds),
               *(name for r in rounds for name in methods.dlt_schemas(f"{tag}_dlt{r}"))]
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="observatory-bench-"))
        cleanup.callback(shutil.rmtree, workdir, True)
        landing_url = _landing(options, workdir, log)
        pg = psycopg2.connect(database_url)
        cleanup.callback(pg.close)
        cleanup.callback(_drop, pg, schemas)
        small_url = _small_files(options.small_files, workdir, log) if options.small_files else None
        frames, files, decode, small = _timed_decodes(landing_url, small_url, options.rounds)
        decode_rate = (f"{decode.text}, in one process (read + decompress + decode + every canonical LLM column + "
                       f"frames), peak RSS so far {_max_rss_mb():,.0f} MB")
        log(f"decoded and normalized {len(files)} files: {decode_rate}; "
            + ", ".join(f"{table} {frame.height:,}" for table, frame in frames.items()))
        report = Report(header={**_header(options, pg, frames, files), "decode + normalize": decode_rate},
                        decode=decode, small_files=small)
        if small is not None:
            log(f"decoded and normalized {small.files:,} small files: {small.text}")
            report.header["decode + normalize, an hour of small files"] = (
                f"{small.files:,} files, {small.text}; {small.rate / decode.rate:.2f}× the hour above")
            shutil.rmtree(small_url, ignore_errors=True)
        proto_rate = _protobuf_decode(landing_url, workdir, log)
        if proto_rate:
            report.header["decode + normalize, the same hour as OTLP protobuf"] = proto_rate
        _loads(report, pg, database_url, tag, frames, options.insert_rows, options.rounds, workdir, log)
        del frames  # free the rows before the pipeline runs
        _pipeline(report, landing_url, database_url, [f"{tag}_pipeline{r}" for r in rounds], pg, log)
        schemas.append(f"{tag}_lake")
        schemas.append(catalog_schema_name(f"{tag}_lake"))
        report.header["lake write"] = _lake(landing_url, database_url, f"{tag}_lake", workdir, report, log)
        if options.rss:
            for index, spans in enumerate(options.rss_spans):
                schemas.append(f"{tag}_rss{index}")
                report.rss.append(_peak_rss(spans, workdir, database_url, schemas[-1], pg, log))
    return report


def _drop(pg, schemas: list[str]) -> None:
    pg.rollback()  # a failure may have left the connection mid-transaction
    methods.drop_schemas(pg, schemas)


def synthesize(landing_url: str, spans: int, log: Log) -> synth.SynthStats:
    """Write the hour :data:`HOUR` with about ``spans`` spans into ``landing_url`` (seed 0, gzip): traces per
    hour = spans / 6.9, one upload slot per ≈8,000 spans (at least 4)."""
    traces = max(1, round(spans / SPANS_PER_TRACE))
    slots = max(4, round(spans / SPANS_PER_FILE))
    log(f"synthesizing {HOUR:%Y-%m-%dT%H:%MZ}: {traces:,} traces in {slots} upload slots into {landing_url}")
    started = time.perf_counter()
    stats = synth.write_landing(landing_url, HOUR, HOUR.replace(hour=1), traces_per_hour=traces,
                                files_per_hour=slots, seed=0)
    log(f"wrote {stats.files} files ({stats.bytes_written / 1e6:.1f} MB), {stats.spans:,} spans, "
        f"{stats.logs:,} logs in {time.perf_counter() - started:.1f} s")
    return stats


def _landing(options: Options, workdir: Path, log: Log) -> str:
    """The landing root of the measured hour: written now, unless ``--reuse-landing`` finds it there."""
    if options.landing is None:
        url = str(workdir / "landing")
    else:
        url = options.landing
        present = landing.list_hour(landing.open_store(url), HOUR)
        if present and options.reuse_landing:
            log(f"reusing {len(present)} files of {HOUR:%Y-%m-%dT%H:%MZ} in {url}")
            return url
        if present:
            raise SystemExit(f"error: {url} already holds files of {HOUR:%Y-%m-%dT%H:%MZ}; pass --reuse-landing "
                             "to load them, or a folder without that hour")
    synthesize(url, options.spans, log)
    return url


def _decode_landing(landing_url: str, hour: datetime) -> tuple[dict[str, pl.DataFrame], list[landing.LandingFile], int]:
    """Decode and normalize every file of ``hour`` once, as the pipeline does in one process
    (:class:`observatory_etl.pipeline.decoder.Decoder`: reads ahead, gathers columns across files, frames per
    50,000 records), into one frame per table (rows repeating a table's key keep the first, as the merge
    would); also returns the records decoded."""
    files = landing.list_hour(landing.open_store(landing_url), hour)
    chunk, records = Chunk(), 0

    def count(_, decoded) -> None:
        nonlocal records
        records += decoded.records

    with Decoder(landing_url, PriceTable.load(), workers=0) as decoder:
        for part in decoder.chunks(files, 50_000, config.DEFAULT_CHUNK_BYTES, count):
            chunk.add(part.take())
    return chunk.take(), files, records


def _timed_decode(landing_url: str, rounds: int = 1) -> tuple[dict[str, pl.DataFrame], list[landing.LandingFile], Decode]:
    """:func:`_decode_landing` of :data:`HOUR`, timed, ``rounds`` times: the last round's frames and files, and
    the :class:`Decode` of the fastest round (every round's seconds in ``rounds``)."""
    seconds = []
    for _ in range(rounds):
        frames = None  # the previous round's frames are freed before the next round decodes
        started = time.perf_counter()
        frames, files, records = _decode_landing(landing_url, HOUR)
        seconds.append(time.perf_counter() - started)
    return frames, files, Decode(len(files), records, min(seconds), tuple(seconds))


def _timed_decodes(landing_url: str, small_url: str | None, rounds: int):
    """:func:`_timed_decode` of the measured hour and, when ``small_url`` is given, of the hour of small files
    there, their rounds alternating (the hour, the small files, the hour, …) so that both see the same minutes
    of the machine, whose speed drifts by up to 1.4× within minutes: their ratio compares like with like.
    Returns the measured hour's last frames and files, its :class:`Decode`, and the small files' (or None)."""
    hour, small = [], []
    for _ in range(rounds):
        frames = None  # the previous round's frames are freed before the next round decodes
        frames, files, decode = _timed_decode(landing_url)
        hour.append(decode.seconds)
        if small_url is not None:
            _, _, small_decode = _timed_decode(small_url)
            small.append(small_decode.seconds)
    decode = Decode(len(files), decode.records, min(hour), tuple(hour))
    if small_url is None:
        return frames, files, decode, None
    return frames, files, decode, Decode(small_decode.files, small_decode.records, min(small), tuple(small))


def _small_files(files: int, workdir: Path, log: Log) -> str:
    """Write an hour of about ``files`` small files (the Collector flushing often: one upload slot per 3.5
    files, 5 traces per slot, ~25 records per file) into a folder of ``workdir``; returns its path."""
    slots = max(1, round(files / 3.5))
    url = str(workdir / "landing-small")
    log(f"synthesizing an hour of small files: {slots * 5:,} traces in {slots:,} upload slots into {url}")
    synth.write_landing(url, HOUR, HOUR.replace(hour=1), traces_per_hour=slots * 5, files_per_hour=slots, seed=1)
    return url


def _protobuf_decode(landing_url: str, workdir: Path, log: Log) -> str | None:
    """The hour converted to OTLP protobuf (``.binpb``, as the awss3exporter's ``otlp_proto`` marshaler writes
    it; the conversion with protobuf's json_format is not timed), then decoded and normalized as the JSON
    path is; None for a landing that is not a local folder."""
    if "://" in landing_url and not landing_url.startswith("file://"):
        return None
    source = Path(landing_url.removeprefix("file://"))
    target = workdir / "landing-binpb"
    log("converting the hour to OTLP protobuf (.binpb, not timed)")
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        signal = path.name.split("_")[0]
        if signal not in otlp_proto.REQUEST_TYPES:  # llm_spans_*.jsonl have no protobuf form: kept as they are
            shutil.copyfile(path, out)
            continue
        messages = [_to_proto(signal, request) for _, request in otlp_json.parse_requests(landing.decompress(path.read_bytes()))]
        data = messages[0] if len(messages) == 1 else b"".join(struct.pack(">I", len(m)) + m for m in messages)
        out.with_name(path.name.split(".json", 1)[0] + ".binpb.gz").write_bytes(gzip.compress(data, mtime=0))
    _, _, decode = _timed_decode(str(target))
    text = f"{decode.text} (the same path as above)"
    log(f"decoded and normalized the hour as OTLP protobuf: {text}")
    shutil.rmtree(target, ignore_errors=True)
    return text


def _to_proto(signal: str, request: dict) -> bytes:
    """One OTLP/JSON export request as its serialized protobuf message (hex ids → bytes, via json_format)."""
    def ids(value):
        if type(value) is dict:
            return {k: (base64.b64encode(bytes.fromhex(v)).decode() if k in ("traceId", "spanId", "parentSpanId")
                        and type(v) is str else ids(v)) for k, v in value.items()}
        if type(value) is list:
            return [ids(v) for v in value]
        return value

    return json_format.ParseDict(ids(request), otlp_proto.REQUEST_TYPES[signal]()).SerializeToString()


def _max_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _header(options: Options, pg, frames: dict[str, pl.DataFrame], files: list[landing.LandingFile]) -> dict[str, str]:
    """Date, machine, PostgreSQL and library versions, the landing's counts and the command."""
    with pg.cursor() as cur:
        cur.execute("SELECT version()")
        server = cur.fetchone()[0]
    pg.commit()
    counts = {table: frame.height for table, frame in frames.items()}
    records = sum(n for table, n in counts.items() if table != "metrics")
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores ({_cpu_model()}), {_ram_gib()} RAM, {platform.system()} {platform.release()}",
        "PostgreSQL": server,
        "libraries": ", ".join(f"{name} {_version(name)}" for name in
                               ("polars", "adbc-driver-postgresql", "pyarrow", "psycopg2-binary", "dlt")),
        "landing": f"1 hour ({HOUR:%Y-%m-%dT%H:%MZ}), {len(files)} files ({sum(f.size for f in files) / 1e6:.1f} MB "
                   f"gzip): {counts['trace_spans']:,} spans, {counts['trace_events']:,} span events, "
                   f"{counts['trace_links']:,} links, {counts['logs']:,} log records, "
                   f"{counts['metric_data_points']:,} metric data points ({counts['metrics']:,} metrics) "
                   f"= {records:,} records",
        "command": f"`{options.command()}`",
    }


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _proc_field(path: str, name: str) -> str | None:
    """The value of the first ``name: value`` line of a /proc file, None if absent."""
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    return _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown CPU"


def _ram_gib() -> str:
    total = _proc_field("/proc/meminfo", "MemTotal")  # "24683704 kB"
    return f"{int(total.split()[0]) / 2**20:.1f} GiB" if total else "unknown"


def _loads(report: Report, pg, database_url: str, tag: str, frames: dict[str, pl.DataFrame],
           insert_cap: int | None, rounds: int, workdir: Path, log: Log) -> None:
    """The span methods (ceiling, INSERT, ADBC) on the ``trace_spans`` frame, then dlt on every frame
    (``rounds`` times, each into its own dataset ``<tag>_dlt<round>``: the fastest counts), then our load of the
    same frames.

    The INSERT methods load the first ``insert_cap`` span rows (None: all).
    """
    spans = frames["trace_spans"]
    arrow = to_arrow(spans)
    insert_rows = min(spans.height, insert_cap or spans.height)
    rows = methods.psycopg2_rows(spans.head(insert_rows))
    capped = f"first {insert_rows:,} of {spans.height:,} rows, --insert-rows" if insert_rows < spans.height else ""
    methods.create_tables(pg, tag)
    adbc_conn = connect(database_url)
    try:
        for result in methods.ceiling(pg, adbc_conn, tag, arrow, log):
            _add(report, result, log)
        steps: list[Callable[[], Result]] = [
            lambda: methods.insert_row_by_row(pg, tag, spans.columns, rows, log, capped),
            *(lambda b=batch: methods.insert_batches(pg, tag, spans.columns, rows, b, log, capped)
              for batch in methods.BATCHES),
            *(lambda b=batch: methods.adbc_batches(adbc_conn, tag, arrow, b, log) for batch in methods.BATCHES),
            lambda: methods.adbc_temp(adbc_conn, spans, log),
        ]
        for step in steps:
            _add(report, step(), log)
    finally:
        adbc_conn.close()
    dlt = [methods.dlt_merge(pg, database_url, frames, f"{tag}_dlt{r}", workdir / "dlt", log) for r in range(rounds)]
    _add(report, _fastest(dlt), log)
    alone, stats = methods.load_alone(HOUR, database_url, f"{tag}_alone", frames, log)
    _add(report, alone, log)
    report.alone_table_seconds = {stage: dict(seconds) for stage, seconds in stats.table_seconds.items()}
    merged, stats = methods.load_alone(HOUR, database_url, f"{tag}_merge", frames, log, direct=False)
    _add(report, merged, log)
    report.merge_table_seconds = {stage: dict(seconds) for stage, seconds in stats.table_seconds.items()}


def _add(report: Report, result: Result, log: Log) -> None:
    report.methods.append(result)
    log(f"  done: {result.line()}")


def _final_counts(pg, schema: str) -> dict[str, int]:
    """Rows per final table of ``schema``."""
    counts = {}
    with pg.cursor() as cur:
        for table in FINAL_TABLES:
            cur.execute(f'SELECT count(*) FROM "{schema}".{table}')
            counts[table] = cur.fetchone()[0]
    pg.commit()
    return counts


def _fastest(results: list[Result]) -> Result:
    """The fastest of several rounds of one method, its note listing every round's seconds."""
    best = min(results, key=lambda r: float("inf") if r.seconds is None else r.seconds)
    if len(results) < 2 or best.seconds is None:
        return best
    text = rounds_text(r.seconds for r in results if r.seconds is not None)
    return replace(best, note=f"{best.note}; {text}" if best.note else text)


def _pipeline(report: Report, landing_url: str, database_url: str, schemas: list[str], pg, log: Log) -> None:
    """The whole pipeline on the landing into a fresh schema, once per schema of ``schemas`` (the fastest
    round counts; its stage figures are reported), then a rerun of the same hour in that round's schema."""
    runs = [methods.whole_pipeline(HOUR, landing_url, database_url, schema, log) for schema in schemas]
    index = min(range(len(runs)), key=lambda i: runs[i][0].seconds)
    result, schema = runs[index][1], schemas[index]
    first = _fastest([run for run, _ in runs])
    _add(report, first, log)
    report.stages = result.stage_seconds()
    report.records = first.rows
    report.merged = dict(result.load.merged)
    report.loaded = {table: result.load.staged[table] + result.load.copied[table] for table in result.load.staged}
    report.direct = result.load.direct_chunks == result.load.chunks > 0
    report.table_seconds = {stage: dict(seconds) for stage, seconds in result.load.table_seconds.items()}
    before = _final_counts(pg, schema)
    again, rerun = methods.whole_pipeline(HOUR, landing_url, database_url, schema, log, label="rerun of the same hour")
    log(f"  done: {again.line()}")
    report.rerun = Rerun(
        seconds=again.seconds, first_seconds=first.seconds, rows_changed=sum(rerun.load.merged.values()),
        counts_before=before, counts_after=_final_counts(pg, schema), skipped=rerun.skipped,
    )
    log("  final tables before → after the rerun: "
        + ", ".join(f"{t} {n:,} → {report.rerun.counts_after[t]:,}" for t, n in before.items()))


def _lake(landing_url: str, database_url: str, namespace: str, workdir: Path, report: Report, log: Log) -> str:
    """Write the hour into an Iceberg lake (a temporary folder, the SqlCatalog in the same PostgreSQL), as
    the ``lake_tables`` asset does, and describe its rows/s beside the warehouse load's."""
    catalog = open_catalog(str(workdir / "lake"), database_url=database_url, schema=namespace)
    try:
        ensure_tables(catalog, namespace)  # created before the clock starts
        started = time.perf_counter()
        result = write_hour(catalog, namespace, HOUR, landing_url=landing_url)
        seconds = time.perf_counter() - started
    finally:
        close_catalog(catalog)
    pipeline = report.method(methods.PIPELINE)
    beside = (f"; the warehouse load of the same hour: {pipeline.rows:,} records in {pipeline.seconds:.1f} s = "
              f"{pipeline.rows_per_second:,.0f} records/s") if pipeline and pipeline.rows_per_second else ""
    text = (f"{result.total_rows:,} rows in {seconds:.1f} s = {result.total_rows / seconds:,.0f} rows/s "
            f"(decode + Parquet + one commit per table){beside}")
    log(f"lake write: {text}")
    return text


def _peak_rss(spans: int, workdir: Path, database_url: str, schema: str, pg, log: Log) -> Rss:
    """Synthesize a ``spans``-span hour, then load it in a fresh subprocess and take its peak RSS; the
    landing and the schema are removed afterwards."""
    folder = workdir / f"rss-{spans}"
    stats = synthesize(str(folder), spans, log)
    log(f"peak RSS of load_hour at {stats.spans:,} spans (subprocess): starting")
    try:
        figures = rss.measure(str(folder), database_url, schema, HOUR)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        methods.drop_schemas(pg, [schema])
    result = Rss(spans=stats.spans, records=figures["records"], max_rss_kib=figures["max_rss_kib"],
                 seconds=figures["seconds"])
    log(f"  done: {result.megabytes:,.0f} MB peak RSS, {result.records:,} records in {result.seconds:.1f} s")
    return result
