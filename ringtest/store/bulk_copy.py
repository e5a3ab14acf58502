"""Upserting records into PostgreSQL with COPY: a staging table, then one upsert from it.

Sent as an executemany, an upsert costs PostgreSQL one statement per row (16-29k
calls/s); COPY streams the rows in one statement. But COPY only inserts, so the
rows go into a temporary staging table first (dropped at commit), and one
``INSERT INTO table SELECT ... FROM staging ON CONFLICT DO UPDATE`` moves them
in, with the record table's own conflict rule (`RecordTable.on_conflict`: replace,
keep the first `created_at`, or merge a partial call without downgrading it), so
a save means what it means on SQLite.

Rounds. One statement may not upsert a row twice, so a key's n-th record of one
save is staged in round n, and the rounds are upserted in turn: a later record
of a key merges into the earlier one, in the order they were given.

Several writers. Each round is upserted in key order (pbx, call_id for calls),
so writers saving overlapping calls at once (one process per PBX or site) take
their row locks in one order: one waits for the other's commit, then merges into
its row; they never deadlock. The whole save stays one transaction: rows are
never lost or doubled, whichever commits first.

Rows go in COPY's binary format, typed as the server reports the staging
table's columns: PostgreSQL parses no text (text COPY of the same calls is
five times slower). A naive datetime is refused where it is reached, with
`UtcDateTime`'s message, and nothing of the save is stored, as in an executemany.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from sqlalchemy import Column, Connection, Dialect, Integer, MetaData, Table, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from ringtest.store.record_tables import Record, RecordTable
from ringtest.store.schema import UtcDateTime

ROUND_COLUMN = "staging_round"
"""The staging table's extra column: which round a row is upserted in (0: the first)."""


def save_by_copy(
    connection: Connection, records_table: RecordTable[Record], records: Iterable[Record]
) -> int:
    """COPY `records` into a staging table, then upsert them into their table round by
    round, in key order, inside `connection`'s transaction; returns how many were given.

    A driver error leaves as the SQLAlchemy `DBAPIError` an executemany would raise
    (`database.database_errors` turns it into one line); a value the table cannot
    take (a naive datetime) raises its ValueError, and the transaction stores nothing.
    """
    staging = _staging_table(records_table)
    rounds = _copy(connection, records_table, staging, records)
    for round_number in range(len(rounds)):
        connection.execute(_upsert_round(records_table, staging, round_number))
    return sum(rounds)


def _copy(
    connection: Connection,
    records_table: RecordTable[Record],
    staging: Table,
    records: Iterable[Record],
) -> list[int]:
    """Create `staging` and COPY the records' rows into it (binary, in the column types
    the server reports), each with its round number; returns how many rows each round holds."""
    staging.create(connection)
    to_row = _row_maker(records_table, connection.dialect)
    key_of = operator.itemgetter(*_key_positions(records_table))
    seen: dict[Any, int] = {}
    rounds: list[int] = []
    columns = ", ".join(column.name for column in staging.columns)
    statement = f"COPY {staging.name} ({columns}) FROM STDIN (FORMAT BINARY)"
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {staging.name} LIMIT 0")
            type_oids = [column.type_code for column in cursor.description]
            with cursor.copy(statement) as copy:
                copy.set_types(type_oids)
                for record in records:
                    row = to_row(record)
                    key = key_of(row)
                    round_number = seen[key] = seen.get(key, -1) + 1
                    if round_number == len(rounds):
                        rounds.append(0)
                    rounds[round_number] += 1
                    copy.write_row((*row, round_number))
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            statement, None, error, connection.dialect.loaded_dbapi.Error
        ) from error
    return rounds


def _upsert_round(records_table: RecordTable[Record], staging: Table, round_number: int) -> Any:
    """INSERT INTO the table the staged rows of `round_number`, in key order, upserting."""
    names = records_table.field_names
    key = [staging.c[column.name] for column in records_table.table.primary_key.columns]
    rows = (
        select(*(staging.c[name] for name in names))
        .where(staging.c[ROUND_COLUMN] == round_number)
        .order_by(*key)
    )
    return records_table.on_conflict(
        postgresql.insert(records_table.table).from_select(names, rows)
    )


@cache
def _staging_table(records_table: RecordTable[Any]) -> Table:
    """A temporary table of the record's fields (without their constraints: the real table
    checks them) and the round, dropped when the transaction ends."""
    table = records_table.table
    return Table(
        f"staging_{table.name}",
        MetaData(),
        *(Column(name, table.c[name].type) for name in records_table.field_names),
        Column(ROUND_COLUMN, Integer, nullable=False),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


def _key_positions(records_table: RecordTable[Any]) -> list[int]:
    """Where the key's columns are in a row of the record's fields."""
    names = records_table.field_names
    return [names.index(column.name) for column in records_table.table.primary_key.columns]


def _row_maker(
    records_table: RecordTable[Record], dialect: Dialect
) -> Callable[[Record], tuple[Any, ...]]:
    """A function from a record to its row's values, in field order, as COPY sends them.

    Enums are `StrEnum`s, sent as the strings they are, and instants go as they are
    (a `timestamptz` keeps the instant whatever its zone); but an instant without a
    zone is refused by its column's own `UtcDateTime`, with its message, as an
    executemany would refuse it.
    """
    fields_of = operator.attrgetter(*records_table.field_names)
    column_types = [records_table.table.c[name].type for name in records_table.field_names]
    instants = [
        (position, column_type)
        for position, column_type in enumerate(column_types)
        if isinstance(column_type, UtcDateTime)
    ]

    def to_row(record: Record) -> tuple[Any, ...]:
        row = fields_of(record)
        for position, instant_type in instants:
            instant = row[position]
            if instant is not None and instant.utcoffset() is None:
                instant_type.process_bind_param(instant, dialect)
        return row

    return to_row
