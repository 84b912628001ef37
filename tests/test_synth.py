"""Tests of the synthetic landing generator: write small hours to disk, read them back, check them."""

from __future__ import annotations

import gzip
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
import zstandard

from observatory_etl.synth import DURATION_BOUNDS, TOKEN_USAGE_BOUNDS, SynthStats, write_landing

START = datetime(2026, 11, 1, 3, tzinfo=timezone.utc)
END = START + timedelta(hours=2)
TRACES_PER_HOUR = 60
FILES_PER_HOUR = 4
NS = 1_000_000_000

KEY = re.compile(
    r"^year=(?P<year>\d{4})/month=(?P<month>\d{2})/day=(?P<day>\d{2})/hour=(?P<hour>\d{2})/minute=(?P<minute>\d{2})/"
    r"(?P<signal>traces|metrics|logs)_(?P<key>[0-9a-f]{8})\.json(?P<ext>\.gz|\.zst)?$"
)
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
INT64_FIELDS = {"startTimeUnixNano", "endTimeUnixNano", "timeUnixNano", "observedTimeUnixNano", "intValue", "count",
                "asInt"}


# --------------------------------------------------------------------------------------------------
# helpers


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root``, keyed by its path relative to ``root`` (with ``/``)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def decode(raw: bytes) -> list[dict]:
    """The export requests of one file: decompress by magic bytes, then JSON or JSON Lines."""
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif raw[:4] == b"\x28\xb5\x2f\xfd":
        raw = zstandard.ZstdDecompressor().decompress(raw)
    return [orjson.loads(line) for line in raw.splitlines() if line.strip()]


def attrs(items: list[dict]) -> dict:
    """OTLP attribute list -> {key: python value} (intValue strings become ints)."""
    out = {}
    for item in items:
        (kind, value), = item["value"].items()
        if kind == "intValue":
            value = int(value)
        elif kind == "arrayValue":
            value = [next(iter(v.values())) for v in value["values"]]
        out[item["key"]] = value
    return out


def spans_of(requests: list[dict]) -> list[tuple[dict, dict, dict]]:
    """(resource attributes, scope, span) of every span in the requests."""
    return [(attrs(rs["resource"]["attributes"]), ss["scope"], span)
            for request in requests for rs in request["resourceSpans"]
            for ss in rs["scopeSpans"] for span in ss["spans"]]


def logs_of(requests: list[dict]) -> list[dict]:
    return [record for request in requests for rl in request["resourceLogs"]
            for sl in rl["scopeLogs"] for record in sl["logRecords"]]


def metrics_of(requests: list[dict]) -> list[tuple[dict, dict]]:
    """(resource attributes, metric) of every metric in the requests."""
    return [(attrs(rm["resource"]["attributes"]), metric)
            for request in requests for rm in request["resourceMetrics"]
            for sm in rm["scopeMetrics"] for metric in sm["metrics"]]


def points_of(metric: dict) -> list[dict]:
    for kind in ("histogram", "sum", "gauge"):
        if kind in metric:
            return metric[kind]["dataPoints"]
    raise AssertionError(f"unexpected metric type: {sorted(metric)}")


def by_slot(files: dict[str, bytes]) -> dict[str, dict[str, list[dict]]]:
    """{minute directory: {signal: requests}} -- one upload slot per minute directory."""
    slots: dict[str, dict[str, list[dict]]] = defaultdict(dict)
    for key, raw in files.items():
        directory, name = key.rsplit("/", 1)
        signal = name.split("_", 1)[0]
        assert signal not in slots[directory], f"two {signal} files in {directory}"
        slots[directory][signal] = decode(raw)
    return slots


def walk(node, path=""):
    """Yield (key path, key, value) for every dict entry of a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)


# --------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("landing")
    messages: list[str] = []
    stats = write_landing(str(root), START, END, traces_per_hour=TRACES_PER_HOUR, files_per_hour=FILES_PER_HOUR,
                          seed=7, progress=messages.append)
    return root, stats, messages, read_tree(root)


@pytest.fixture(scope="module")
def slots(landing):
    return by_slot(landing[3])


# --------------------------------------------------------------------------------------------------
# layout and counts


def test_key_layout(landing):
    _, _, _, files = landing
    slots = defaultdict(list)
    for key in files:
        match = KEY.match(key)
        assert match, key
        assert match["ext"] == ".gz"
        hour = datetime(int(match["year"]), int(match["month"]), int(match["day"]), int(match["hour"]),
                        tzinfo=timezone.utc)
        # which upload slot's share of the hour (15 minutes each) the file's minute falls in
        slots[(hour, match["signal"])].append(int(match["minute"]) * FILES_PER_HOUR // 60)
    assert slots.keys() == {(START + timedelta(hours=h), s) for h in range(2) for s in ("traces", "logs", "metrics")}
    for found in slots.values():  # one file of each signal per slot, spread over the hour
        assert sorted(found) == list(range(FILES_PER_HOUR))
    assert len({KEY.match(k)["key"] for k in files}) == len(files)  # tokens unique


def test_stats_equal_file_contents(landing, slots):
    _, stats, messages, files = landing
    spans = [span for slot in slots.values() for _, _, span in spans_of(slot["traces"])]
    points = [p for slot in slots.values() for _, m in metrics_of(slot["metrics"]) for p in points_of(m)]
    assert stats == SynthStats(
        hours=2,
        files=len(files),
        traces=len({s["traceId"] for s in spans}),
        spans=len(spans),
        span_events=sum(len(s.get("events", [])) for s in spans),
        logs=sum(len(logs_of(slot["logs"])) for slot in slots.values()),
        metric_data_points=len(points),
        bytes_written=sum(len(raw) for raw in files.values()),
    )
    assert stats.traces == 2 * TRACES_PER_HOUR
    assert stats.spans > 3 * stats.traces and stats.logs > stats.traces and stats.span_events > 0
    assert len(messages) == 2
    assert messages[0].startswith("2026-11-01T03:00Z") and messages[1].startswith("2026-11-01T04:00Z")
    assert f"{TRACES_PER_HOUR} traces" in messages[0]


def test_deterministic(landing, tmp_path):
    _, stats, _, files = landing
    again = write_landing(str(tmp_path / "again"), START, END, traces_per_hour=TRACES_PER_HOUR,
                          files_per_hour=FILES_PER_HOUR, seed=7)
    assert again == stats
    assert read_tree(tmp_path / "again") == files  # same keys, byte-identical contents
    assert all(raw[4:8] == b"\0\0\0\0" for raw in files.values())  # gzip mtime 0: no clock in the bytes

    # an hour depends only on (arguments, hour): generating a sub-range reproduces it
    write_landing(str(tmp_path / "second"), START + timedelta(hours=1, minutes=30), END,
                  traces_per_hour=TRACES_PER_HOUR, files_per_hour=FILES_PER_HOUR, seed=7)
    second_hour = {k: v for k, v in files.items() if "/hour=04/" in k}
    assert read_tree(tmp_path / "second") == second_hour

    write_landing(str(tmp_path / "other"), START, END, traces_per_hour=TRACES_PER_HOUR,
                  files_per_hour=FILES_PER_HOUR, seed=8)
    assert set(read_tree(tmp_path / "other")).isdisjoint(files)


def test_both_traces_file_forms(landing):
    _, _, _, files = landing
    lines = [len(decode(raw)) for key, raw in files.items() if "/traces_" in key]
    assert 1 in lines and any(n > 1 for n in lines), lines
    for key, raw in files.items():
        if "/traces_" not in key:
            assert len(decode(raw)) == 1, key


# --------------------------------------------------------------------------------------------------
# traces


def test_span_trees(slots):
    by_trace: dict[str, list[dict]] = defaultdict(list)
    trace_slot: dict[str, str] = {}
    for directory, slot in slots.items():
        for resource, scope, span in spans_of(slot["traces"]):
            assert {"service.name", "service.version", "deployment.environment", "telemetry.sdk.name",
                    "telemetry.sdk.language"} <= resource.keys()
            assert scope["name"] and scope["version"]
            by_trace[span["traceId"]].append(span)
            assert trace_slot.setdefault(span["traceId"], directory) == directory, "a trace split over files"
    late = 0
    for trace_id, spans in by_trace.items():
        assert HEX32.match(trace_id)
        ids = {s["spanId"]: s for s in spans}
        assert len(ids) == len(spans), "duplicate span id"
        roots = [s for s in spans if "parentSpanId" not in s]
        assert len(roots) == 1 and roots[0]["name"].startswith("invoke_agent ")
        for span in spans:
            assert HEX16.match(span["spanId"])
            assert span["kind"] in (1, 2, 3)
            start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
            assert start < end
            if "parentSpanId" in span:
                parent = ids[span["parentSpanId"]]  # KeyError = dangling parent
                assert int(parent["startTimeUnixNano"]) <= start and end <= int(parent["endTimeUnixNano"])
            assert span["status"].get("code", 0) in (0, 1, 2)
            for event in span.get("events", []):
                assert start <= int(event["timeUnixNano"]) <= end and event["name"]
            for link in span.get("links", []):
                assert HEX32.match(link["traceId"]) and HEX16.match(link["spanId"])
        root_start = int(roots[0]["startTimeUnixNano"])
        hour = next(h for h in (START, START + timedelta(hours=1))
                    if f"hour={h:%H}/" in trace_slot[trace_id])
        hour_ns = int(hour.timestamp()) * NS
        assert hour_ns - 5 * 60 * NS <= root_start < hour_ns + 3600 * NS
        if root_start < hour_ns:
            late += 1
        else:
            assert all(int(s["endTimeUnixNano"]) <= hour_ns + 3600 * NS for s in spans)
    assert late <= 0.2 * len(by_trace)


def test_genai_span_attributes(slots):
    spans = [span for slot in slots.values() for _, _, span in spans_of(slot["traces"])]
    names = Counter(span["name"].split(" ")[0] for span in spans)
    assert {"invoke_agent", "chat", "execute_tool"} <= names.keys()
    chats = 0
    for span in spans:
        a = attrs(span["attributes"])
        if span["name"].startswith("chat "):
            chats += 1
            assert span["kind"] == 3
            assert a["gen_ai.operation.name"] == "chat"
            assert span["name"] == f"chat {a['gen_ai.request.model']}"
            assert a["gen_ai.provider.name"] in ("openai", "anthropic")
            assert isinstance(a["gen_ai.request.temperature"], float)
            assert a["gen_ai.conversation.id"] and a["server.address"]
            if span["status"].get("code") == 2:
                assert a["error.type"] and span["status"]["message"]
            else:
                assert a["gen_ai.response.model"] != a["gen_ai.request.model"]
                assert a["gen_ai.response.model"].startswith(a["gen_ai.request.model"].removesuffix("-latest")[:8])
                assert isinstance(a["gen_ai.usage.input_tokens"], int) and a["gen_ai.usage.input_tokens"] > 0
                assert isinstance(a["gen_ai.usage.output_tokens"], int) and a["gen_ai.usage.output_tokens"] > 0
                assert isinstance(a["gen_ai.response.finish_reasons"], list) and a["gen_ai.response.finish_reasons"]
                seconds = (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / NS
                assert 0.3 <= seconds <= 8.0
        elif span["name"].startswith("execute_tool "):
            assert a["gen_ai.operation.name"] == "execute_tool"
            assert span["name"] == f"execute_tool {a['gen_ai.tool.name']}"
        elif span["name"].startswith("invoke_agent "):
            assert a["gen_ai.operation.name"] == "invoke_agent"
            assert span["name"] == f"invoke_agent {a['gen_ai.agent.name']}"
        elif span["name"].startswith("embeddings "):
            assert a["gen_ai.operation.name"] == "embeddings"
        elif span["name"] == "retrieve documents":
            assert a["db.system"] == "qdrant"
    assert chats > 0


def test_error_rate_and_extras_at_scale(tmp_path):
    """At a larger size the rare features all appear with plausible frequencies."""
    stats = write_landing(str(tmp_path), START, START + timedelta(hours=1), traces_per_hour=3000,
                          files_per_hour=2, seed=1, compression="none")
    spans = [span for slot in by_slot(read_tree(tmp_path)).values() for _, _, span in spans_of(slot["traces"])]
    assert len(spans) == stats.spans
    chats = [s for s in spans if s["name"].startswith("chat ")]
    errors = [s for s in chats if s["status"].get("code") == 2]
    assert 0.015 < len(errors) / len(chats) < 0.05
    assert any(e["name"] == "exception" for s in errors for e in s.get("events", []))
    assert any(e["name"] == "gen_ai.content.completion.chunk" for s in chats for e in s.get("events", []))
    assert any("links" in s for s in spans)
    assert any(s["status"].get("code") == 1 for s in spans)
    hour_ns = int(START.timestamp()) * NS
    late = {s["traceId"] for s in spans if int(s["startTimeUnixNano"]) < hour_ns}
    assert 0.02 < len(late) / stats.traces < 0.08


# --------------------------------------------------------------------------------------------------
# logs


def test_logs_correlate_with_spans(slots):
    event_names = Counter()
    for directory, slot in slots.items():
        spans = {(s["traceId"], s["spanId"]): s for _, _, s in spans_of(slot["traces"])}
        for record in logs_of(slot["logs"]):
            span = spans[(record["traceId"], record["spanId"])]  # KeyError = uncorrelated log
            assert span["name"].split(" ")[0] in ("chat", "execute_tool")
            assert int(span["startTimeUnixNano"]) <= int(record["timeUnixNano"]) <= int(span["endTimeUnixNano"])
            assert int(record["observedTimeUnixNano"]) >= int(record["timeUnixNano"])
            assert record["flags"] == 1
            assert (record["severityNumber"], record["severityText"]) in ((9, "INFO"), (13, "WARN"), (17, "ERROR"))
            assert record["body"]["stringValue"]
            assert "gen_ai.operation.name" in attrs(record["attributes"])
            event_names[record.get("eventName")] += 1
    assert event_names["gen_ai.client.inference.operation.details"] > 0 and event_names[None] > 0


# --------------------------------------------------------------------------------------------------
# metrics


def expected_histograms(spans: list[tuple[dict, dict, dict]]) -> dict[tuple, list]:
    """Recompute the GenAI client histograms from spans: {(instance, metric, attributes): sorted values}."""
    expected: dict[tuple, list] = defaultdict(list)
    for resource, _, span in spans:
        a = attrs(span["attributes"])
        if a.get("gen_ai.operation.name") not in ("chat", "embeddings"):
            continue
        base = {k: a[k] for k in ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                                  "gen_ai.response.model", "error.type") if k in a}
        instance = resource["service.instance.id"]
        seconds = (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / NS
        expected[(instance, "gen_ai.client.operation.duration", frozenset(base.items()))].append(seconds)
        for token_type in ("input", "output"):
            if f"gen_ai.usage.{token_type}_tokens" in a:
                key = frozenset((base | {"gen_ai.token.type": token_type}).items())
                expected[(instance, "gen_ai.client.token.usage", key)].append(a[f"gen_ai.usage.{token_type}_tokens"])
    return expected


def test_histograms_consistent_and_match_spans(slots):
    for directory, slot in slots.items():
        expected = expected_histograms(spans_of(slot["traces"]))
        assert expected, directory
        found = set()
        for resource, metric in metrics_of(slot["metrics"]):
            if "histogram" not in metric:
                continue
            assert metric["histogram"]["aggregationTemporality"] == 1
            bounds = list(TOKEN_USAGE_BOUNDS if metric["name"] == "gen_ai.client.token.usage" else DURATION_BOUNDS)
            assert metric["unit"] == ("{token}" if metric["name"] == "gen_ai.client.token.usage" else "s")
            for point in metric["histogram"]["dataPoints"]:
                counts = [int(c) for c in point["bucketCounts"]]
                assert point["explicitBounds"] == bounds
                assert len(counts) == len(bounds) + 1
                assert sum(counts) == int(point["count"]) > 0
                assert point["min"] <= point["max"]
                assert int(point["startTimeUnixNano"]) < int(point["timeUnixNano"])
                # the point aggregates exactly this slot's spans with the same attributes
                key = (resource["service.instance.id"], metric["name"], frozenset(attrs(point["attributes"]).items()))
                values = expected[key]
                found.add(key)
                assert int(point["count"]) == len(values)
                assert point["sum"] == pytest.approx(sum(values), rel=1e-12)
                assert (point["min"], point["max"]) == (min(values), max(values))
                buckets = [0] * (len(bounds) + 1)
                for value in values:  # bucket i holds (bounds[i-1], bounds[i]]
                    buckets[next((i for i, b in enumerate(bounds) if value <= b), len(bounds))] += 1
                assert counts == buckets
        assert found == expected.keys(), "spans missing from the histograms"


def test_sum_and_gauge(slots):
    cumulative: dict[str, list[tuple[int, int]]] = defaultdict(list)
    kinds = Counter()
    for slot in slots.values():
        for resource, metric in metrics_of(slot["metrics"]):
            kinds[next(k for k in ("histogram", "sum", "gauge") if k in metric)] += 1
            if metric["name"] == "app.requests":
                assert metric["sum"]["isMonotonic"] is True and metric["sum"]["aggregationTemporality"] == 2
                (point,) = metric["sum"]["dataPoints"]
                cumulative[resource["service.instance.id"]].append((int(point["timeUnixNano"]),
                                                                    int(point["asInt"])))
            elif metric["name"] == "process.cpu.utilization":
                (point,) = metric["gauge"]["dataPoints"]
                assert 0 <= point["asDouble"] <= 1
    assert kinds["histogram"] and kinds["sum"] and kinds["gauge"]
    for series in cumulative.values():
        values = [v for _, v in sorted(series)]
        assert values == sorted(values), "a monotonic cumulative sum went down"


# --------------------------------------------------------------------------------------------------
# encoding


def test_int64_fields_are_json_strings(landing):
    _, _, _, files = landing
    checked = Counter()
    for raw in files.values():
        for request in decode(raw):
            for path, key, value in walk(request):
                if key in INT64_FIELDS:
                    assert isinstance(value, str) and value.isdigit(), (path, key, value)
                    checked[key] += 1
                elif key == "bucketCounts":
                    assert all(isinstance(v, str) and v.isdigit() for v in value)
                    checked[key] += 1
                elif key in ("traceId", "spanId", "parentSpanId"):
                    assert isinstance(value, str)
                elif key in ("kind", "severityNumber", "aggregationTemporality", "flags"):
                    assert isinstance(value, int)
    assert INT64_FIELDS | {"bucketCounts"} <= checked.keys()


@pytest.mark.parametrize("compression, ext, magic", [("zstd", ".json.zst", b"\x28\xb5\x2f\xfd"),
                                                     ("none", ".json", b"{")])
def test_other_compressions(tmp_path, compression, ext, magic):
    stats = write_landing(f"file://{tmp_path}/land", START, START + timedelta(minutes=1), traces_per_hour=20,
                          files_per_hour=2, seed=3, compression=compression)
    files = read_tree(tmp_path / "land")
    assert stats.hours == 1 and stats.files == len(files) == 6
    for key, raw in files.items():
        assert key.endswith(ext) and KEY.match(key) and raw.startswith(magic), key
    spans = [s for slot in by_slot(files).values() for _, _, s in spans_of(slot["traces"])]
    assert len(spans) == stats.spans and len({s["traceId"] for s in spans}) == stats.traces == 20
    # the same keys and content as with gzip; only the encoding differs
    write_landing(str(tmp_path / "gz"), START, START + timedelta(minutes=1), traces_per_hour=20,
                  files_per_hour=2, seed=3)
    gz = read_tree(tmp_path / "gz")
    assert {k.removesuffix(ext) + ".json.gz" for k in files} == gz.keys()
    for key, raw in files.items():
        assert decode(raw) == decode(gz[key.removesuffix(ext) + ".json.gz"])


def test_start_is_floored_to_the_hour(tmp_path):
    stats = write_landing(str(tmp_path), START + timedelta(minutes=30), START + timedelta(minutes=45),
                          traces_per_hour=4, files_per_hour=1)
    assert stats.hours == 1 and stats.files == 3
    assert all(k.startswith("year=2026/month=11/day=01/hour=03/") for k in read_tree(tmp_path))


@pytest.mark.parametrize("kwargs, message", [
    (dict(start=START, end=START), "must be after"),
    (dict(start=START, end=START - timedelta(hours=1)), "must be after"),
    (dict(compression="brotli"), "unknown compression"),
    (dict(start=START.replace(tzinfo=None)), "timezone-aware"),
    (dict(files_per_hour=0), "files_per_hour"),
    (dict(traces_per_hour=-1), "traces_per_hour"),
])
def test_invalid_arguments(tmp_path, kwargs, message):
    arguments = dict(start=START, end=END) | kwargs
    with pytest.raises(ValueError, match=message):
        write_landing(str(tmp_path), arguments.pop("start"), arguments.pop("end"), **arguments)
    assert not any(tmp_path.rglob("*.json*"))
