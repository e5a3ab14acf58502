"""Reading many records fast: the rows of a query as records, converted here, not by SQLAlchemy.

An export of a million calls spends most of its time turning database values
into Python ones. SQLAlchemy's result processing (its own text-to-datetime
parse on SQLite, then `UtcDateTime`'s, then the enum lookup) costs about as
much as everything else together, so `stream_records` selects the columns
untyped and converts only the columns that need it, one converter per column
chosen once from the column's type and the dialect (`converter_for`). Rows come
`chunk_rows` at a time (`yield_per`: a server-side cursor on PostgreSQL, the
cursor itself on SQLite), so memory holds one chunk whatever the row count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Enum, Select, type_coerce
from sqlalchemy.types import NullType

from ringtest.store.record_tables import Record, RecordTable
from ringtest.store.schema import UtcDateTime

Converter = Callable[[Any], Any]


def _sqlite_instant(text: str) -> datetime:
    """SQLite keeps a `UtcDateTime` as the UTC wall time in ISO text (parsed with its
    offset appended: several times faster than `replace(tzinfo=...)` after parsing)."""
    return datetime.fromisoformat(text + "+00:00")


def _server_instant(value: datetime) -> datetime:
    """PostgreSQL returns a `timestamptz` in the session's zone."""
    return value.astimezone(UTC)


INSTANT_CONVERTERS: dict[str, Converter] = {
    "sqlite": _sqlite_instant,
    "postgresql": _server_instant,
}


def converter_for(column: Column[Any], dialect: str) -> Converter | None:
    """How a non-NULL raw value of `column` becomes its record field; None: as it comes."""
    if isinstance(column.type, UtcDateTime):
        return INSTANT_CONVERTERS[dialect]
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        return column.type.enum_class._value2member_map_.__getitem__
    if isinstance(column.type, Boolean):
        return bool
    return None


def _sqlite_iso_text(text: str) -> str:
    """SQLite's stored UTC text as `datetime.isoformat` writes the instant, by string
    slicing (``2026-11-23 09:30:00.000000`` -> ``2026-11-23T09:30:00+00:00``)."""
    if len(text) != len("YYYY-MM-DD HH:MM:SS.ffffff"):
        return _sqlite_instant(text).isoformat()
    if text.endswith(".000000"):
        text = text[:-7]
    return text[:10] + "T" + text[11:] + "+00:00"


def _server_iso_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


ISO_TEXT_CONVERTERS: dict[str, Converter] = {
    "sqlite": _sqlite_iso_text,
    "postgresql": _server_iso_text,
}


def plain_converter_for(column: Column[Any], dialect: str) -> Converter | None:
    """How a non-NULL raw value of `column` becomes export text or a plain value: instants
    as ISO 8601 UTC text (as `datetime.isoformat` writes them), enums as their stored
    values, booleans as booleans; None: as it comes."""
    if isinstance(column.type, UtcDateTime):
        return ISO_TEXT_CONVERTERS[dialect]
    if isinstance(column.type, Boolean):
        return bool
    return None


def stream_records(
    connection: Connection,
    records_table: RecordTable[Record],
    query: Select[Any],
    chunk_rows: int,
) -> Iterator[Record]:
    """The records of `query` (a `RecordTable.query`, every column of its table) as they
    are read, `chunk_rows` rows per fetch."""
    record_class = records_table.record_class
    for values in _converted_rows(connection, records_table, query, converter_for, chunk_rows):
        yield record_class(*values)


def stream_plain_rows(
    connection: Connection,
    records_table: RecordTable[Record],
    query: Select[Any],
    chunk_rows: int,
) -> Iterator[list[Any]]:
    """The rows of `query` as lists of plain values in field order, ready for CSV or JSON
    (`plain_converter_for`), without making records: the export path."""
    return _converted_rows(connection, records_table, query, plain_converter_for, chunk_rows)


def _converted_rows(
    connection: Connection,
    records_table: RecordTable[Record],
    query: Select[Any],
    converter_of: Callable[[Column[Any], str], Converter | None],
    chunk_rows: int,
) -> Iterator[list[Any]]:
    """`query`'s rows with every column selected untyped, then converted by `converter_of`."""
    columns = list(records_table.table.columns)
    untyped = query.with_only_columns(
        *(type_coerce(column, NullType()).label(column.name) for column in columns)
    )
    dialect = connection.dialect.name
    converters = [
        (index, converter)
        for index, column in enumerate(columns)
        if (converter := converter_of(column, dialect)) is not None
    ]
    result = connection.execution_options(yield_per=chunk_rows).execute(untyped)
    for rows in result.partitions():
        for row in rows:
            values = list(row)
            for index, converter in converters:
                if values[index] is not None:
                    values[index] = converter(values[index])
            yield values
