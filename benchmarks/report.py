"""The benchmark's output: a markdown report, a bar chart and the raw figures as JSON.

:func:`write` puts ``README.md``, ``throughput.png`` and ``results.json`` into one folder; the target
checks (:func:`checks`) are computed from the figures, never stated by hand.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import methods
from .methods import Result

STAGES = ("list", "read", "decode", "normalize", "copy", "merge", "rollup", "commit", "total")


@dataclass
class Rerun:
    """The second :func:`~observatory_etl.pipeline.hour.load_hour` of the same hour into the same schema.

    Attributes:
        seconds: wall seconds of the rerun.
        first_seconds: wall seconds of the first run.
        rows_changed: rows the rerun inserted or changed in the final tables (its ``load.merged``).
        counts_before: rows per final table after the first run.
        counts_after: rows per final table after the rerun.
        skipped: the rerun found every file in the ledger unchanged and read nothing.
    """

    seconds: float
    first_seconds: float
    rows_changed: int
    counts_before: dict[str, int]
    counts_after: dict[str, int]
    skipped: bool


@dataclass
class Rss:
    """Peak resident memory of one :func:`~observatory_etl.pipeline.hour.load_hour` in a fresh subprocess.

    Attributes:
        spans: spans in the landing hour it loaded.
        records: records it decoded.
        max_rss_kib: peak RSS of the subprocess in KiB (``VmHWM``; see :mod:`benchmarks.rss` for why not
            ``ru_maxrss``).
        seconds: wall seconds of its load.
    """

    spans: int
    records: int
    max_rss_kib: int
    seconds: float

    @property
    def megabytes(self) -> float:
        """Peak RSS in MB (10^6 bytes)."""
        return self.max_rss_kib * 1024 / 1e6


@dataclass
class Decode:
    """The fastest of one or more decode + normalize rounds of a landing hour in one process
    (``benchmarks.run._decode_landing``).

    Attributes:
        files: landing files decoded.
        records: records decoded (spans + events + links + data points + log records).
        seconds: wall seconds of the fastest round (read + decompress + decode + every canonical LLM column +
            frames).
        rounds: wall seconds of every round, in order (``seconds`` is their minimum).
    """

    files: int
    records: int
    seconds: float
    rounds: tuple[float, ...] = ()

    @property
    def rate(self) -> float:
        """Records per second."""
        return self.records / self.seconds

    @property
    def text(self) -> str:
        """``"437,467 records in 5.8 s = 75,566 records/s"``, then ``" (fastest of 5.8 / 6.1 / 6.4 s)"`` for
        several rounds."""
        text = f"{self.records:,} records in {self.seconds:.1f} s = {self.rate:,.0f} records/s"
        return text + (f" ({rounds_text(self.rounds)})" if len(self.rounds) > 1 else "")


def rounds_text(seconds) -> str:
    """``"fastest of 5.8 / 6.1 / 6.4 s"``: the seconds of each round, in order."""
    return "fastest of " + " / ".join(f"{s:.1f}" for s in seconds) + " s"


@dataclass
class Check:
    """One target: ``value`` (a ratio) against the goal, ``met`` None when a figure is missing."""

    name: str
    value: float | None
    goal: str
    met: bool | None
    detail: str = ""

    def line(self) -> str:
        verdict = "n/a (not measured)" if self.met is None else ("met" if self.met else "NOT met")
        value = "n/a" if self.value is None else f"{self.value:.2f}×"
        return f"{self.name}: {value} (goal {self.goal}): **{verdict}**" + (f"; {self.detail}" if self.detail else "")


@dataclass
class Report:
    """Everything one benchmark run measured.

    Attributes:
        header: what ran where, label → text (date, machine, versions, landing, command).
        methods: the load methods, ceiling first (see :mod:`benchmarks.methods`).
        stages: the pipeline's seconds per stage (``PartitionResult.stage_seconds()``).
        records: records the pipeline decoded (spans + events + links + data points + log records).
        merged: rows the pipeline inserted per final table.
        loaded: rows the pipeline loaded into each record table (copied straight in, or staged and merged);
            the loads of the decoded frames alone load the same rows.
        direct: the pipeline copied every chunk straight into the final tables (a new hour).
        table_seconds: the pipeline's seconds of ``copy`` and of ``merge`` per record table
            (``LoadStats.table_seconds``).
        alone_table_seconds: the same for the load of the decoded frames alone, as a new hour
            (``methods.LOAD_ALONE``: COPY straight in, no merge).
        merge_table_seconds: the same for the load of the decoded frames through staging and the merge
            (``methods.LOAD_ALONE_MERGE``: a reload's path).
        rerun: the rerun of the same hour.
        rss: peak RSS per partition size, smallest first (empty with ``--no-rss``).
        decode: the decode + normalize of the measured hour.
        small_files: the decode + normalize of a second hour written as many small files (None with
            ``--small-files 0``).
    """

    header: dict[str, str]
    methods: list[Result] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    records: int = 0
    merged: dict[str, int] = field(default_factory=dict)
    loaded: dict[str, int] = field(default_factory=dict)
    direct: bool = False
    table_seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    alone_table_seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    merge_table_seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    rerun: Rerun | None = None
    rss: list[Rss] = field(default_factory=list)
    decode: Decode | None = None
    small_files: Decode | None = None

    def method(self, name: str) -> Result | None:
        """The result of method ``name``, None if it was not run."""
        return next((result for result in self.methods if result.method == name), None)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _rate(report: Report, name: str) -> float | None:
    result = report.method(name)
    return result.rows_per_second if result else None


BOTH = ("copy", "merge")  # the stages of a load into the final tables, whichever way it went


def stage_rate(report: Report, stages: tuple[str, ...], table: str | None = None, load: str = "pipeline") -> float | None:
    """Rows/s of ``load`` (``pipeline``; ``alone``: the decoded frames alone as a new hour; ``merge path``: the
    decoded frames alone through staging and merge) in ``stages`` (``("copy",)``, ``("merge",)`` or both):
    rows loaded into ``table`` ÷ its seconds in those stages, or, with ``table`` None, rows of every record
    table ÷ their seconds."""
    by_stage = {"pipeline": report.table_seconds, "alone": report.alone_table_seconds,
                "merge path": report.merge_table_seconds}[load]
    seconds = {t: sum(by_stage.get(stage, {}).get(t, 0.0) for stage in stages) for t in report.loaded}
    if table is not None:
        return _ratio(report.loaded.get(table), seconds.get(table))
    return _ratio(sum(report.loaded.values()), sum(seconds.values()))


def checks(report: Report) -> list[Check]:
    """The targets of DESIGN.md ("Figures to beat") computed from the report's figures."""
    vs_dlt = _ratio(_rate(report, methods.PIPELINE), _rate(report, methods.DLT))
    ceiling = _rate(report, methods.CEILING)
    copy = _ratio(_rate(report, methods.ADBC_TEMP), ceiling)
    streamed = _ratio(_rate(report, methods.STREAMED), ceiling)
    in_pipeline = _ratio(stage_rate(report, ("copy",), "trace_spans"), ceiling)
    into_final, merge_alone = stage_rate(report, BOTH), stage_rate(report, ("merge",), load="merge path")
    how = "COPY straight into the final tables" if report.direct else "COPY into staging + merge"
    load_vs_dlt = _ratio(_rate(report, methods.LOAD_ALONE), _rate(report, methods.DLT))
    landing_seconds = sum(report.stages.get(stage, 0.0) for stage in ("list", "read", "decode"))
    head_start = (f"dlt starts from frames already decoded; the pipeline's list + read + decode took "
                  f"{landing_seconds:.1f} s of its {report.stages.get('total', 0.0):.1f} s")
    found = [
        Check("pipeline vs dlt, end to end (rows/s)", vs_dlt, "≥ 2×", None if vs_dlt is None else vs_dlt >= 2,
              (head_start + "; " if report.stages else "") + f"our load of the same decoded frames: {_x(load_vs_dlt)} dlt"),
        Check("pipeline vs dlt, the aim", vs_dlt, "≥ 3×", None if vs_dlt is None else vs_dlt >= 3),
        Check("ADBC COPY into staging vs ceiling (rows/s), both alone on the machine", copy, "≥ 0.9×",
              None if copy is None else copy >= 0.9,
              f"the same bytes streamed by a client without encoding: {_x(streamed)}; the pipeline's COPY of "
              f"trace_spans while the next chunk decodes ({how}): {_x(in_pipeline)}"),
        Check("rows into the final tables in the pipeline, beside decode, every record table (rows ÷ copy + merge "
              "seconds)", None if into_final is None else into_final / 60_000, "≥ 1× of 60,000 rows/s",
              None if into_final is None else into_final >= 60_000, f"{_number(into_final)} rows/s ({how})"),
        Check("merge alone (staging + ON CONFLICT, the path of reloads; the decoded frames), every record table "
              "(rows ÷ merge seconds)", None if merge_alone is None else merge_alone / 60_000, "≥ 1× of 60,000 rows/s",
              None if merge_alone is None else merge_alone >= 60_000, f"{_number(merge_alone)} rows/s"),
    ]
    found += _decode_checks(report)
    rerun = report.rerun
    if rerun is None:
        found.append(Check("rerun vs first run (seconds)", None, "< 0.05×, 0 rows changed", None))
    else:
        share = _ratio(rerun.seconds, rerun.first_seconds)
        unchanged = rerun.rows_changed == 0 and rerun.counts_before == rerun.counts_after
        found.append(Check(
            "rerun vs first run (seconds)", share, "< 0.05×, 0 rows changed",
            share is not None and share < 0.05 and unchanged,
            f"{_percent(share)} of the first run, rows changed {rerun.rows_changed}, "
            f"final-table counts {'unchanged' if unchanged else 'CHANGED'}",
        ))
    if len(report.rss) >= 2:
        small, big = report.rss[0], report.rss[-1]
        growth = _ratio(big.max_rss_kib, small.max_rss_kib)
        found.append(Check(
            f"peak RSS {big.spans:,} vs {small.spans:,} spans", growth, "≤ 1.5×", growth <= 1.5,
            f"{big.megabytes:,.0f} MB vs {small.megabytes:,.0f} MB",
        ))
    else:
        found.append(Check("peak RSS, big vs small partition", None, "≤ 1.5×", None))
    return found


DECODE_RATE = 80_000  # records/s of decode + normalize in one process (DESIGN.md)
SMALL_FILES_SHARE = 0.75  # an hour of many small files decodes within 25% of that rate


def _decode_checks(report: Report) -> list[Check]:
    """The decode targets: the measured hour's records/s, and an hour of small files against it."""
    decode, small = report.decode, report.small_files
    found = [Check(
        "decode + normalize in one process, the measured hour (records/s)",
        None if decode is None else decode.rate / DECODE_RATE, f"≥ 1× of {DECODE_RATE:,} records/s",
        None if decode is None else decode.rate >= DECODE_RATE,
        "" if decode is None else f"{decode.rate:,.0f} records/s",
    )]
    share = None if decode is None or small is None else small.rate / decode.rate
    found.append(Check(
        "an hour of small files vs the measured hour, decode + normalize (records/s)", share,
        f"≥ {SMALL_FILES_SHARE}×", None if share is None else share >= SMALL_FILES_SHARE,
        "" if small is None else f"{small.files:,} files, {small.rate:,.0f} records/s",
    ))
    return found


def _number(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def markdown(report: Report) -> str:
    """The report as markdown: header, methods table, pipeline stages, rerun, RSS, targets."""
    ceiling, dlt = _rate(report, methods.CEILING), _rate(report, methods.DLT)
    lines = ["# Benchmark: one landing hour into PostgreSQL", ""]
    lines += [f"- {label}: {text}" for label, text in report.header.items()]
    lines += [
        "",
        "## Load methods",
        "",
        "The span methods (ceiling, INSERT, ADBC) load the same `trace_spans` rows into an UNLOGGED table "
        "without indexes (columns of `stage_trace_spans`, sql/staging.sql), truncated between methods; each "
        "time covers the load and its commit. dlt loads and merges every normalized table of the hour from "
        "frames already decoded (ids as hex text, lists as JSON text: dlt has no uuid type and its csv writer "
        "takes no lists). The pipeline row is `load_hour` whole: list, read, decode, normalize, COPY (straight "
        "into the final tables with their keys and indexes, for a new hour), rollups and commit; its rows are "
        "records decoded.",
        "",
        "| method | rows | seconds | rows/s | × ceiling | × dlt |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in report.methods:
        rate = result.rows_per_second
        name = result.method + (f" — {result.note}" if result.note else "")
        lines.append(
            f"| {name} | {result.rows:,} | {_number(result.seconds, 2)} | {_number(rate)} "
            f"| {_x(_ratio(rate, ceiling))} | {_x(_ratio(rate, dlt))} |"
        )
    lines += [
        "",
        "## Pipeline stages (load_hour)",
        "",
        f"rows/s = records decoded ({report.records:,}) ÷ stage seconds. A chunk's COPY (and merge) run while "
        "the next chunk decodes, so the stages add up to more than the total.",
        "",
        "| stage | seconds | rows/s |",
        "|---|---:|---:|",
    ]
    for stage in STAGES:
        seconds = report.stages.get(stage)
        lines.append(f"| {stage} | {_number(seconds, 3)} | {_number(_ratio(report.records, seconds))} |")
    if report.merged:
        lines += ["", "Rows merged: " + ", ".join(f"{t} {n:,}" for t, n in report.merged.items()) + "."]
    if report.table_seconds:
        lines += [
            "",
            "## COPY and merge per table",
            "",
            "rows/s = rows loaded into the table ÷ the table's seconds, summed over the chunks. Pipeline = "
            f"`load_hour` ({'a new hour: every chunk copied straight into the final tables' if report.direct else 'chunks staged and merged'}), "
            "where a chunk's load shares the 2 cores with the decode of the next chunk; alone = the same decoded "
            f"frames in chunks of the same size, nothing else running: as a new hour (`{methods.LOAD_ALONE}`) and "
            f"through staging and the merge (`{methods.LOAD_ALONE_MERGE}`).",
            "",
            "| table | rows | pipeline: copy s | pipeline: merge s | pipeline rows/s | alone, new hour: rows/s "
            "| merge path: copy rows/s | merge path: merge s | merge path: merge rows/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        copy, merge = report.table_seconds.get("copy", {}), report.table_seconds.get("merge", {})
        merge_path = report.merge_table_seconds.get("merge", {})

        def row(name: str, rows: int, table: str | None) -> str:
            pick = (lambda seconds: seconds.get(table)) if table else (lambda seconds: sum(seconds.values()))
            return (f"| {name} | {rows:,} | {_number(pick(copy), 2)} | {_number(pick(merge), 2)} | "
                    f"{_number(stage_rate(report, BOTH, table))} | {_number(stage_rate(report, BOTH, table, 'alone'))} | "
                    f"{_number(stage_rate(report, ('copy',), table, 'merge path'))} | {_number(pick(merge_path), 2)} | "
                    f"{_number(stage_rate(report, ('merge',), table, 'merge path'))} |")

        lines += [row(table, rows, table) for table, rows in report.loaded.items()]
        lines.append(row("every record table", sum(report.loaded.values()), None))
    lines += ["", "## Rerun of the same hour", ""]
    rerun = report.rerun
    if rerun:
        lines.append(
            f"- {rerun.seconds:.3f} s vs {rerun.first_seconds:.2f} s the first time "
            f"({_percent(_ratio(rerun.seconds, rerun.first_seconds))}); rows changed: {rerun.rows_changed}"
            + ("; skipped: every file unchanged in the ledger" if rerun.skipped else "")
        )
        lines.append("- final-table counts before → after: " + ", ".join(
            f"{t} {rerun.counts_before[t]:,} → {rerun.counts_after.get(t, 0):,}" for t in rerun.counts_before
        ))
    lines += ["", "## Peak memory of the pipeline (RSS, fresh subprocess each)", ""]
    lines += [
        f"- {rss.spans:,} spans ({rss.records:,} records): {rss.megabytes:,.0f} MB peak RSS, load {rss.seconds:.1f} s"
        for rss in report.rss
    ] or ["- not measured (--no-rss)"]
    if len(report.rss) >= 2:
        small, big = report.rss[0], report.rss[-1]
        lines.append(f"- ratio {big.spans:,} / {small.spans:,} spans: {_x(_ratio(big.max_rss_kib, small.max_rss_kib))} "
                     "(VmHWM of the whole subprocess, interpreter and libraries included)")
    lines += ["", "## Targets (DESIGN.md, figures to beat)", ""]
    lines += [f"- {check.line()}" for check in checks(report)]
    return "\n".join(lines) + "\n"


def chart(report: Report, path: Path) -> None:
    """Horizontal bars of rows/s (log scale): the methods (ceiling grey, dlt orange, the pipeline green),
    then the pipeline's stages; saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    colors = {methods.CEILING: "tab:gray", methods.DLT: "tab:orange", methods.PIPELINE: "tab:green"}
    measured = [r for r in report.methods if r.rows_per_second]
    stages = [(s, report.records / report.stages[s]) for s in STAGES if report.stages.get(s)]
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 1.2 + 0.42 * (len(measured) + len(stages))),
        gridspec_kw={"height_ratios": [max(len(measured), 1), max(len(stages), 1)]},
    )
    for axes, labels, rates, bar_colors, title in (
        (top, [r.method for r in measured], [r.rows_per_second for r in measured],
         [colors.get(r.method, "tab:blue") for r in measured], "load methods, rows/s"),
        (bottom, [s for s, _ in stages], [rate for _, rate in stages], "tab:green",
         "pipeline stages, records decoded ÷ stage seconds"),
    ):
        bars = axes.barh(labels, rates, color=bar_colors)
        axes.bar_label(bars, labels=[f"{rate:,.0f}" for rate in rates], padding=3, fontsize=8)
        axes.set_xscale("log")
        if rates:
            axes.set_xlim(min(rates) / 2, max(rates) * 4)  # room for the value labels
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.invert_yaxis()
        axes.set_title(title, fontsize=10)
        axes.tick_params(axis="y", labelsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def to_json(report: Report) -> dict:
    """The raw figures: the report's fields, rows/s per method, RSS in MB and the checks."""
    data = asdict(report)
    for entry, result in zip(data["methods"], report.methods):
        entry["rows_per_second"] = result.rows_per_second
    for entry, rss in zip(data["rss"], report.rss):
        entry["megabytes"] = rss.megabytes
    data["checks"] = [asdict(check) for check in checks(report)]
    return data


def write(report: Report, out: Path) -> str:
    """Write ``README.md``, ``throughput.png`` and ``results.json`` into ``out`` (created); return the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(report)
    (out / "README.md").write_text(text)
    chart(report, out / "throughput.png")
    (out / "results.json").write_text(json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n")
    return text
