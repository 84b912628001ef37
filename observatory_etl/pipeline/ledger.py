"""The file ledger ``ingested_files``: which landing files (key, size, ETag) an hour has loaded.

An hour whose files all match their ledger rows is skipped; the rows of a load are staged with its
chunks and written at commit (``sql/merge/ingested_files.sql``), so the ledger never runs ahead of the data.
"""

from __future__ import annotations

from datetime import datetime, timezone

import adbc_driver_postgresql.dbapi as adbc
import polars as pl

from ..ingest.decode import DecodedFile
from ..ingest.landing import LandingFile
from ..tables import INGESTED_FILES, REJECTED_RECORDS
from ..warehouse import sql_files


def ledger_files(
    conn: adbc.Connection, schema: str, partition_key: str, *, commit: bool = True
) -> dict[str, tuple[int, str | None]]:
    """The ``ingested_files`` rows of one landing hour: ``{object_key: (size, etag)}``.

    ``commit=False`` reads inside the caller's open transaction (e.g. after it took the hour's lock).
    """
    with conn.cursor() as cur:
        cur.execute(f'SET search_path TO "{schema}", public')
        cur.execute(sql_files.statement("ledger_files"), (partition_key,))
        rows = cur.fetchall()
    if commit:
        conn.commit()
    return {key: (size, etag) for key, size, etag in rows}


def unchanged(files: list[LandingFile], ledger: dict[str, tuple[int, str | None]]) -> bool:
    """Whether every listed file is in the ledger with the same size and ETag (the hour is already loaded)."""
    return all(ledger.get(f.path) == (f.size, f.e_tag) for f in files)




def ledger_row(file: LandingFile, key: str, decoded: DecodedFile, run_id: str | None) -> dict:
    """The ``ingested_files`` row of one read file: records read = records merged + records rejected.

    Every decoded record is merged with ON CONFLICT, so all of them are held by the final tables after
    commit (inserted now or already there). ``status`` is ``loaded``, ``partial`` (some records rejected)
    or ``rejected`` (the whole file, with its ``error``).
    """
    rejected = len(decoded.rejects)
    status = "rejected" if decoded.error is not None else ("partial" if rejected else "loaded")
    return {
        "object_key": file.path, "size": file.size, "etag": file.e_tag, "last_modified": file.last_modified,
        "signal": file.signal, "partition_key": key, "records_read": decoded.records + rejected,
        "rows_merged": decoded.records, "rejected": rejected, "run_id": run_id,
        "loaded_at": datetime.now(timezone.utc), "status": status, "error": decoded.error,
    }


def reject_rows(file: LandingFile, key: str, decoded: DecodedFile, run_id: str | None) -> list[dict]:
    """The ``rejected_records`` rows of one read file's quarantined records."""
    now = datetime.now(timezone.utc)
    return [
        {"object_key": file.path, "record_path": r.record_path, "signal": file.signal, "reason": r.reason,
         "record": r.record, "partition_key": key, "run_id": run_id, "rejected_at": now}
        for r in decoded.rejects
    ]


def ledger_frame(rows: list[dict]) -> pl.DataFrame:
    """The ledger rows of one load (:func:`ledger_row` dicts) as a frame shaped like ``stage_ingested_files``."""
    return pl.DataFrame(rows, schema=INGESTED_FILES.schema())


def rejects_frame(rows: list[dict]) -> pl.DataFrame:
    """The rejected records of one load (:func:`reject_rows` dicts) shaped like ``stage_rejected_records``."""
    return pl.DataFrame(rows, schema=REJECTED_RECORDS.schema())
