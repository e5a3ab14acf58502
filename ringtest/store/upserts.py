"""The store's one write path for records: upsert them, the fastest way each database takes.

SQLite takes an executemany of the record table's upsert, `SAVE_BATCH_ROWS` rows at
a time, in rounds with one row per key each (a statement may not upsert a row twice:
a key's second record goes in the second round, so it merges into the first).
PostgreSQL takes COPY into a staging table and one upsert from it
(`bulk_copy.save_by_copy`), with the same rounds. Either way the caller's
transaction holds the whole save.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy import Connection

from ringtest.store import database
from ringtest.store.bulk_copy import save_by_copy
from ringtest.store.record_tables import Record, RecordTable

SAVE_BATCH_ROWS = 5000
"""Rows sent per executemany; bounds memory when saving a long stream of calls."""


def save_by_executemany(
    connection: Connection, records_table: RecordTable[Record], records: Iterable[Record]
) -> int:
    """Upsert `records` by executemany, `SAVE_BATCH_ROWS` at a time; how many were given."""
    statement = records_table.upsert(database.BACKENDS[connection.dialect.name])
    key_names = [column.name for column in records_table.table.primary_key.columns]
    saved = 0
    records_left = iter(records)
    while batch := list(islice(records_left, SAVE_BATCH_ROWS)):
        for rows in _rounds(records_table, batch, key_names):
            connection.execute(statement, rows)
        saved += len(batch)
    return saved


Saver = Callable[[Connection, RecordTable[Any], Iterable[Any]], int]

SAVERS: dict[str, Saver] = {"sqlite": save_by_executemany, "postgresql": save_by_copy}
"""How each database's dialect upserts records."""


def save(
    connection: Connection, records_table: RecordTable[Record], records: Iterable[Record]
) -> int:
    """Upsert `records` into their table in `connection`'s transaction; how many were given."""
    return SAVERS[connection.dialect.name](connection, records_table, records)


def _rounds(
    records_table: RecordTable[Record], batch: list[Record], key_names: list[str]
) -> Iterator[list[dict[str, Any]]]:
    """`batch`'s rows in rounds with one row per key each (a statement may not upsert a row
    twice): a key's second record goes in the second round, so it merges into the first."""
    rounds: list[list[dict[str, Any]]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for record in batch:
        row = records_table.row(record)
        key = tuple(row[name] for name in key_names)
        seen[key] = seen.get(key, -1) + 1
        if seen[key] == len(rounds):
            rounds.append([])
        rounds[seen[key]].append(row)
    return iter(rounds)
