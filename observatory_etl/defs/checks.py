"""Asset checks on the loaded tables; they run after each load (``--select '*'`` includes them).

- ``reconciliation`` (error): for the newest loaded hour, per signal, records read = rows merged +
  rejected in the file ledger — nothing read was dropped silently.
- ``orphan_spans`` (warning): spans of the last 24 hours of data whose parent is not in their trace.
- ``freshness`` (warning): the newest loaded landing hour is at most OBSERVATORY_FRESHNESS_HOURS (default
  3) hours old.
- ``row_count_anomaly`` (warning): the newest hour's records are within ½× to 2× the median of the 24
  hours before it.
- ``rejected_input`` (warning): the newest loaded hour quarantined nothing (see ``rejected_records`` and
  the ledger's ``status``/``error``).
"""

from __future__ import annotations

import statistics
from datetime import datetime, timezone

import dagster as dg

from .. import config
from ..warehouse import sql_files
from .resources import WarehouseResource


def _rows(warehouse: WarehouseResource, name: str) -> list[tuple]:
    """The rows of the check query ``sql/checks/<name>.sql``."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(sql_files.statement(f"checks/{name}"))
        return cur.fetchall()


@dg.asset_check(asset="trace_spans", name="reconciliation",
                description="Records read = rows merged + rejected, per signal, for the newest loaded hour.")
def reconciliation(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    rows = _rows(warehouse, "reconciliation")
    off = {signal: (read, merged, rejected) for signal, read, merged, rejected in rows if read != merged + rejected}
    return dg.AssetCheckResult(
        passed=not off,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "by_signal": {signal: {"read": r, "merged": m, "rejected": j} for signal, r, m, j in rows},
            "mismatched_signals": sorted(off),
        },
    )


@dg.asset_check(asset="trace_spans", name="orphan_spans", description="Spans whose parent is missing from their trace (last 24 h of data).")
def orphan_spans(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    [(orphans, spans)] = _rows(warehouse, "orphan_spans")
    return dg.AssetCheckResult(
        passed=orphans == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"orphan_spans": orphans, "spans_checked": spans},
    )


@dg.asset_check(asset="trace_spans", name="freshness", description="The newest loaded landing hour is recent enough.")
def freshness(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    rows = _rows(warehouse, "records_per_hour")
    if not rows:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, metadata={"newest_hour": "none"})
    newest = datetime.strptime(rows[0][0], "%Y-%m-%d-%H:%M").replace(tzinfo=timezone.utc)
    age = (datetime.now(timezone.utc) - newest).total_seconds() / 3600 - 1  # hours since the hour ended
    return dg.AssetCheckResult(
        passed=age <= config.freshness_hours(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"newest_hour": rows[0][0], "hours_since_it_ended": round(age, 2), "limit_hours": config.freshness_hours()},
    )


@dg.asset_check(asset="trace_spans", name="row_count_anomaly", description="The newest hour's records are within ½× to 2× the median of the 24 hours before.")
def row_count_anomaly(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    rows = _rows(warehouse, "records_per_hour")
    if len(rows) < 2:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"history_hours": len(rows) - 1 if rows else 0})
    newest = rows[0][1]
    median = statistics.median(count for _, count in rows[1:])
    ratio = newest / median if median else float("inf")
    return dg.AssetCheckResult(
        passed=0.5 <= ratio <= 2.0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"newest_hour": rows[0][0], "records": newest, "median_previous": float(median), "ratio": round(ratio, 3)},
    )


@dg.asset_check(asset="trace_spans", name="rejected_input",
                description="The newest loaded hour quarantined no record and no file (table rejected_records).")
def rejected_input(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    rows = _rows(warehouse, "rejected_input")
    if not rows:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"newest_hour": "none"})
    [(hour, records, files, files_read)] = rows
    schema = warehouse.schema()
    return dg.AssetCheckResult(
        passed=records == 0 and files == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=None if records == 0 and files == 0 else (
            f"{hour}: {records:,} records quarantined in {schema}.rejected_records, {files:,} of {files_read:,} "
            f"files rejected (ingested_files.status = 'rejected', see its error column)"
        ),
        metadata={"newest_hour": hour, "records_rejected": records, "files_rejected": files, "files_read": files_read,
                  "table": f"{schema}.rejected_records"},
    )


CHECKS = [reconciliation, orphan_spans, freshness, row_count_anomaly, rejected_input]
