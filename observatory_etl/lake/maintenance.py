"""Lake maintenance: expire old snapshots (and delete the files only they referenced), compact small data
files per day, and remove orphan files.

pyiceberg 0.12 has snapshot expiry only as a metadata change (``table.maintenance.expire_snapshots()``), no
data-file compaction (``rewrite_data_files``) and no orphan-file removal, so:

- :func:`expire_snapshots` expires the snapshots older than a cut-off with pyiceberg (the current snapshot
  is always kept) and then deletes the manifest lists, manifests and data files that no remaining
  snapshot references (what Iceberg's Java ``expireSnapshots`` does).
- :func:`compact_day` rewrites, in one commit per table, every partition of one UTC day (the event day;
  the landing day for ``trace_links`` and ``metrics``) that holds more than one data file into one file,
  sorted by the table's sort order: a copy-on-write overwrite of exactly those rows. An hour written in
  many chunks (``chunk_rows``) has one file per chunk; compaction leaves one per partition. Partitions are
  (event day, landing hour), so a day keeps at least one file per landing hour it received rows from.
- :func:`remove_orphan_files` deletes files under the table's ``data/`` and ``metadata/`` folders that no
  snapshot or metadata file references and that are older than a cut-off (a writer killed before it
  could clean up leaves such files).

Every function works on one table and is safe beside writers: a commit conflict is retried, and a
compaction that races a rewrite of the same hour gives way to it (the partition is compacted next time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as day_time

from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.expressions import (
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
)
from pyiceberg.table import Table

from .schema import PARTITION_KEY, LakeTable

SNAPSHOT_PROPERTY_COMPACTION = "observatory.compacted-day"


@dataclass
class ExpireResult:
    """What :func:`expire_snapshots` did to one table: ``snapshots_expired`` of them, ``snapshots_kept``
    remain, ``files_deleted`` (manifest lists, manifests and data files no remaining snapshot uses)."""

    table: str
    snapshots_expired: int = 0
    snapshots_kept: int = 0
    files_deleted: int = 0


@dataclass
class CompactResult:
    """What :func:`compact_day` did to one table for one day: ``partitions`` rewritten, ``files_before``
    data files replaced by ``files_after``, ``rows`` rewritten (unchanged in number), ``skipped`` when a
    concurrent writer replaced one of those hours first (compacted on a later run)."""

    table: str
    day: date
    partitions: int = 0
    files_before: int = 0
    files_after: int = 0
    rows: int = 0
    skipped: str | None = None


@dataclass
class OrphanResult:
    """What :func:`remove_orphan_files` did to one table: ``files_deleted`` paths (unreferenced, older than
    the cut-off) of ``files_seen`` under ``data/`` and ``metadata/``."""

    table: str
    files_seen: int = 0
    files_deleted: list[str] = field(default_factory=list)


def _retry(operation: Callable[[], object], attempts: int = 5, backoff_seconds: float = 0.2):
    """Run ``operation``; on CommitFailedException run it again (at most ``attempts`` times, doubling waits)."""
    for attempt in range(attempts):
        try:
            return operation()
        except CommitFailedException:
            if attempt == attempts - 1:
                raise
            time.sleep(backoff_seconds * 2**attempt)


def referenced_files(table: Table, snapshots=None) -> set[str]:
    """Every manifest list, manifest and live data file path that ``snapshots`` (default: all of the
    table's) reference; each manifest is read once."""
    io = table.io
    paths: set[str] = set()
    manifests_seen: set[str] = set()
    for snapshot in table.metadata.snapshots if snapshots is None else snapshots:
        paths.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(io):
            if manifest.manifest_path in manifests_seen:
                continue
            manifests_seen.add(manifest.manifest_path)
            paths.add(manifest.manifest_path)
            paths.update(entry.data_file.file_path for entry in manifest.fetch_manifest_entry(io, discard_deleted=True))
    return paths


def expire_snapshots(table: Table, older_than: datetime) -> ExpireResult:
    """Expire the table's snapshots taken before ``older_than`` (aware datetime) except the current one
    (and any branch or tag head), then delete the files only they referenced. Time travel to an expired
    snapshot is no longer possible; every remaining snapshot stays readable.

    Raises:
        CommitFailedException: the expiry lost its commit to other writers five times in a row.
    """
    result = ExpireResult(table=".".join(table.name()))

    def commit() -> set[str]:
        table.refresh()
        cutoff_ms = older_than.timestamp() * 1000
        candidates = [s for s in table.metadata.snapshots if s.timestamp_ms < cutoff_ms]
        if not candidates:
            return set()
        protected = {ref.snapshot_id for ref in table.metadata.refs.values()}  # branch and tag heads
        expired = {s.snapshot_id for s in candidates} - protected
        if not expired:
            return set()
        before = referenced_files(table)
        table.maintenance.expire_snapshots().by_ids(sorted(expired)).commit()
        result.snapshots_expired = len(expired)
        return before

    before = _retry(commit)
    table.refresh()
    result.snapshots_kept = len(table.metadata.snapshots)
    if before:
        for path in sorted(before - referenced_files(table)):
            try:
                table.io.delete(path)
                result.files_deleted += 1
            except FileNotFoundError:
                pass
    return result


def _partition_day(lake: LakeTable, partition: dict) -> date | None:
    """The UTC day a partition belongs to: its event day, else the day of its landing hour."""
    if lake.event_time is not None:
        value = partition.get(f"{lake.event_time}_day")
        if value is None or isinstance(value, date):
            return value
        return date(1970, 1, 1) + timedelta(days=int(value))
    return date.fromisoformat(partition[PARTITION_KEY][:10])


def _partition_filter(lake: LakeTable, partition: dict, day: date | None) -> BooleanExpression:
    """The row filter selecting exactly one (event day, landing hour) partition's rows."""
    expression: BooleanExpression = EqualTo(PARTITION_KEY, partition[PARTITION_KEY])
    if lake.event_time is None:
        return expression
    if day is None:
        return And(expression, IsNull(lake.event_time))
    start = datetime.combine(day, day_time(), tzinfo=timezone.utc)
    return And(expression, And(GreaterThanOrEqual(lake.event_time, start.isoformat()),
                               LessThan(lake.event_time, (start + timedelta(days=1)).isoformat())))


def compact_day(table: Table, lake: LakeTable, day: date, min_files: int = 2) -> CompactResult:
    """Rewrite each partition of ``day`` that holds at least ``min_files`` data files into one sorted file,
    all in one commit for the table (readers see the old files or the new ones). Rows and their values are
    unchanged. Memory holds one partition (one landing hour's rows of one event day) at a time.

    Raises:
        CommitFailedException: the commit lost to other writers five times in a row.
    """
    return compact(table, lake, [day], min_files)[0]


def compact(table: Table, lake: LakeTable, days, min_files: int = 2) -> list[CompactResult]:
    """:func:`compact_day` for each of ``days`` (UTC dates), reading the table's partition list once:
    one :class:`CompactResult` per day, in order; days with nothing to compact make no commit."""
    table.refresh()
    days = list(days)
    targets: dict[date, list[tuple[dict, int]]] = {day: [] for day in days}
    for row in table.inspect.partitions().to_pylist():
        partition = row["partition"]
        if partition.get(PARTITION_KEY) is None or row["file_count"] < min_files:
            continue
        day = _partition_day(lake, partition)
        if day in targets:
            targets[day].append((partition, row["file_count"]))
    return [_compact_partitions(table, lake, day, targets[day]) for day in days]


def _compact_partitions(table: Table, lake: LakeTable, day: date, targets: list[tuple[dict, int]]) -> CompactResult:
    """Rewrite the partitions ``targets`` (partition record, data files) of ``day`` in one commit."""
    result = CompactResult(table=".".join(table.name()), day=day)
    if not targets:
        return result

    def commit() -> None:
        table.refresh()
        transaction = table.transaction()
        properties = {SNAPSHOT_PROPERTY_COMPACTION: day.isoformat()}
        result.partitions = result.files_before = result.rows = result.files_after = 0
        for partition, files in targets:
            expression = _partition_filter(lake, partition, _partition_day(lake, partition))
            data = table.scan(row_filter=expression).to_arrow()
            data = data.sort_by([(name, "ascending", "at_start") for name in lake.sort])
            transaction.overwrite(data, overwrite_filter=expression, snapshot_properties=properties)
            snapshot = transaction.table_metadata.current_snapshot()
            result.files_after += int(snapshot.summary.get("added-data-files", 0) or 0)
            result.partitions += 1
            result.files_before += files
            result.rows += data.num_rows
        transaction.commit_transaction()

    try:
        _retry(commit)
    except ValidationException as exc:
        result.skipped = f"a writer replaced one of these hours meanwhile: {exc}"
        result.partitions = result.files_before = result.files_after = result.rows = 0
    return result


def remove_orphan_files(table: Table, older_than: datetime) -> OrphanResult:
    """Delete files under the table's ``data/`` and ``metadata/`` folders that neither a snapshot nor a
    metadata file references, last modified before ``older_than`` (keep it hours in the past: a writer's
    files are unreferenced until it commits). Works where pyiceberg uses pyarrow's file systems (local,
    S3, GCS, ADLS); otherwise deletes nothing.
    """
    from pyarrow.fs import FileSelector, FileType
    from pyiceberg.io.pyarrow import PyArrowFileIO

    result = OrphanResult(table=".".join(table.name()))
    io = table.io
    if not isinstance(io, PyArrowFileIO):
        return result
    table.refresh()
    referenced = {PyArrowFileIO.parse_location(path)[2] for path in referenced_files(table)}
    metadata = [table.metadata_location] + [entry.metadata_file for entry in table.metadata.metadata_log]
    referenced.update(PyArrowFileIO.parse_location(path)[2] for path in metadata)
    referenced.update(PyArrowFileIO.parse_location(s.statistics_path)[2] for s in table.metadata.statistics)
    scheme, netloc, root = PyArrowFileIO.parse_location(table.location())
    fs = io.fs_by_scheme(scheme, netloc)
    for folder in ("data", "metadata"):
        selector = FileSelector(f"{root.rstrip('/')}/{folder}", recursive=True, allow_not_found=True)
        for info in fs.get_file_info(selector):
            if info.type != FileType.File:
                continue
            result.files_seen += 1
            modified = info.mtime
            if info.path in referenced or modified is None:
                continue
            if modified.tzinfo is None:
                modified = modified.replace(tzinfo=timezone.utc)
            if modified < older_than:
                fs.delete_file(info.path)
                result.files_deleted.append(info.path)
    return result
