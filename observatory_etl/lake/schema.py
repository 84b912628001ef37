"""The lake's table design, derived from the table catalogue (:mod:`observatory_etl.tables`).

Every record table of the warehouse (``trace_spans`` with the canonical LLM columns, ``trace_events``,
``trace_links``, ``metrics``, ``metric_data_points``, ``logs``) is one Iceberg table (format v2) with the
catalogue's columns in the catalogue's order, plus ``partition_key`` (the landing hour,
``YYYY-MM-DD-HH:00``, as Dagster's hourly partitions name it):

==========================  =====================================  =========================================
catalogue type              Iceberg type                           why
==========================  =====================================  =========================================
``UUID`` (trace id, md5)    ``fixed[16]``                          the 16 bytes, as PostgreSQL's uuid
``BIGINT`` (span id, …)     ``long``                               span ids are 8 bytes read big-endian, signed
``INTEGER`` / ``SMALLINT``  ``int``                                Iceberg has no 16-bit integer
``FLOAT8`` / ``BOOLEAN``    ``double`` / ``boolean``
``TEXT``                    ``string``
``JSON``                    ``string`` (JSON text)                 see below
``TIMESTAMPTZ``             ``timestamptz`` (microseconds, UTC)    as PostgreSQL; ``duration_ns`` keeps ns
``*_ARRAY``                 ``list<string|long|double>``
==========================  =====================================  =========================================

Attributes (and bodies, LLM input/output, quantiles, exemplars) stay **JSON text**: Iceberg v2 has no JSON
type; ``variant`` is Iceberg v3, which pyiceberg 0.12 cannot write and few engines read yet; a
``map<string, string>`` would flatten typed and nested OTLP values (ints, arrays, kvlists) into strings.
JSON text keeps the exact value and every engine parses it (``json_extract`` in DuckDB/Trino/Spark,
``str.json_path_match`` in polars).

Partitioning: ``day(<event time>)`` (``start_time`` for spans, ``time`` for events, data points and logs,
as the warehouse's daily partitions) plus ``identity(partition_key)``; ``trace_links`` and ``metrics``
have no event time and are partitioned by ``partition_key`` only. Every data file then belongs to one
landing hour, so replacing an hour drops whole files (no rewrite of other hours' rows). Sort order:
``trace_id`` (then the rest of the key) where the table has one, else the key; writers sort each file.
Every column is optional (nullable) but ``partition_key``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.sorting import NullOrder, SortDirection, SortField, SortOrder
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    FixedType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from .. import tables
from ..tables import RECORD_TABLES, Table

PARTITION_KEY = "partition_key"
"""The landing-hour column every lake table adds (``YYYY-MM-DD-HH:00``, Dagster's hourly partition key)."""

# Catalogue column types (tables.ColumnType instances) → Iceberg types. Lists get their element ids later.
_SCALARS: dict[int, IcebergType] = {
    id(tables.UUID): FixedType(16),
    id(tables.BIGINT): LongType(),
    id(tables.INTEGER): IntegerType(),
    id(tables.SMALLINT): IntegerType(),
    id(tables.FLOAT8): DoubleType(),
    id(tables.BOOLEAN): BooleanType(),
    id(tables.TEXT): StringType(),
    id(tables.JSON): StringType(),
    id(tables.TIMESTAMPTZ): TimestamptzType(),
}
_LISTS: dict[int, IcebergType] = {
    id(tables.TEXT_ARRAY): StringType(),
    id(tables.BIGINT_ARRAY): LongType(),
    id(tables.FLOAT8_ARRAY): DoubleType(),
}


@dataclass(frozen=True)
class LakeTable:
    """One lake table, as derived from a catalogue :class:`~observatory_etl.tables.Table`.

    Attributes:
        name: the table's name (the warehouse table's, also the Iceberg table's name in the namespace).
        key: the catalogue key; a landing hour holds each key once (its first row, as the warehouse).
        event_time: the column whose UTC day partitions the table, or None (``trace_links``, ``metrics``).
        sort: the columns each data file is sorted by (``trace_id`` first where the table has one).
        schema: the Iceberg schema (field ids 1…n in catalogue order, ``partition_key`` last).
        spec: the partition spec (``day(event_time)``, ``identity(partition_key)``).
        sort_order: the Iceberg sort order over ``sort`` (ascending, nulls first).
    """

    name: str
    key: tuple[str, ...]
    event_time: str | None
    sort: tuple[str, ...]
    schema: Schema
    spec: PartitionSpec
    sort_order: SortOrder

    @property
    def column_names(self) -> tuple[str, ...]:
        """The lake columns in order: the catalogue's, then ``partition_key``."""
        return tuple(field.name for field in self.schema.fields)

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema a writer hands to pyiceberg (``fixed_size_binary(16)``, ``int32``,
        ``timestamp[us, tz=UTC]``, ``large_string``, ``large_list<…>``, each field with its Iceberg field id)."""
        return self.schema.as_arrow()


def event_time_column(table: Table) -> str | None:
    """The column a day-partitioned catalogue table is partitioned by, as in the warehouse's daily partitions:
    ``time`` where the table has one (events, data points, logs), else ``start_time`` (spans); None for a
    table that is not day-partitioned."""
    if not table.partitioned:
        return None
    return "time" if "time" in table.column_names else "start_time"


def iceberg_schema(table: Table) -> Schema:
    """The Iceberg schema of a catalogue table: its columns in order (all optional) and ``partition_key``
    (required string) last. Field ids are assigned 1…n in that order, list element ids after them; a
    catalog assigns its own ids when it creates the table, and schema evolution matches by name.

    Raises:
        KeyError: a column type the lake does not map (a new ``tables.ColumnType`` needs a line here).
    """
    fields = []
    next_id = len(table.columns) + 2
    for field_id, column in enumerate(table.columns, start=1):
        kind = id(column.type)
        if kind in _SCALARS:
            field_type = _SCALARS[kind]
        elif kind in _LISTS:
            field_type = ListType(element_id=next_id, element_type=_LISTS[kind], element_required=False)
            next_id += 1
        else:
            raise KeyError(f"{table.name}.{column.name}: no Iceberg type for {column.type}")
        fields.append(NestedField(field_id, column.name, field_type, required=False))
    fields.append(NestedField(len(table.columns) + 1, PARTITION_KEY, StringType(), required=True,
                              doc="landing hour (UTC) the row was loaded from, YYYY-MM-DD-HH:00"))
    return Schema(*fields)


def lake_table(table: Table) -> LakeTable:
    """The :class:`LakeTable` of one catalogue record table (schema, partition spec, sort order)."""
    schema = iceberg_schema(table)
    event_time = event_time_column(table)
    partition_fields = []
    if event_time is not None:
        partition_fields.append(PartitionField(
            source_id=schema.find_field(event_time).field_id, field_id=1000, transform=DayTransform(),
            name=f"{event_time}_day",
        ))
    partition_fields.append(PartitionField(
        source_id=schema.find_field(PARTITION_KEY).field_id, field_id=1000 + len(partition_fields),
        transform=IdentityTransform(), name=PARTITION_KEY,
    ))
    sort = table.key if "trace_id" not in table.key else ("trace_id",) + tuple(c for c in table.key if c != "trace_id")
    sort_order = SortOrder(*(
        SortField(source_id=schema.find_field(name).field_id, transform=IdentityTransform(),
                  direction=SortDirection.ASC, null_order=NullOrder.NULLS_FIRST)
        for name in sort
    ))
    return LakeTable(table.name, table.key, event_time, sort, schema, PartitionSpec(*partition_fields), sort_order)


LAKE_TABLES: dict[str, LakeTable] = {name: lake_table(table) for name, table in RECORD_TABLES.items()}
"""The lake tables, one per record table of the catalogue, in merge order."""


def to_arrow(name: str, frame: pl.DataFrame, partition_key: str, schema: pa.Schema | None = None) -> pa.Table:
    """One normalized frame of table ``name`` as the Arrow table the lake writes: the catalogue's columns
    cast to the lake's types (16-byte binaries to ``fixed_size_binary(16)``, Int16 to int32) plus the
    ``partition_key`` column, sorted by the table's sort columns (nulls first).

    Args:
        name: a key of :data:`LAKE_TABLES`.
        frame: a frame with the catalogue's columns (``observatory_etl.tables.RECORD_TABLES[name].schema()``);
            columns the frame lacks are written as nulls (a frame of an older catalogue).
        partition_key: the landing hour, ``YYYY-MM-DD-HH:00``.
        schema: the Arrow schema to produce (default :meth:`LakeTable.arrow_schema`; writers pass the
            live Iceberg table's, whose field ids may differ).

    Raises:
        pyarrow.ArrowInvalid: a value does not fit its lake type (e.g. an id that is not 16 bytes).
    """
    table = LAKE_TABLES[name]
    schema = schema or table.arrow_schema()
    frame = frame.sort(list(table.sort), nulls_last=False, maintain_order=True)
    missing = [field.name for field in schema if field.name not in frame.columns and field.name != PARTITION_KEY]
    if missing:
        frame = frame.with_columns(pl.lit(None).alias(column) for column in missing)
    frame = frame.with_columns(pl.lit(partition_key, dtype=pl.String).alias(PARTITION_KEY))
    arrow = frame.select(schema.names).to_arrow()
    return arrow.cast(schema)
