"""The PBX's history tables (CDR, CEL) opened for reading, whatever the database.

`open_history_table` connects with SQLAlchemy (``mysql+pymysql://`` for FreePBX's MariaDB,
``postgresql+psycopg://`` for cel_pgsql/cdr_pgsql, ``sqlite:///``), checks that the table
exists and has the columns the import needs, and turns every failure into one
`ReportError` line naming the database (its password hidden) and the table, with the fix.
Rows are then read streamed (`STREAMED`: a server-side cursor, `ROWS_PER_FETCH` rows at a
time), so memory stays bounded whatever the table's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from ringtest.core.errors import ReportError

ROWS_PER_FETCH = 1000
STREAMED = {"yield_per": ROWS_PER_FETCH}
"""Execution options that read a query's rows through a server-side cursor."""
EXAMPLE_URL = "mysql+pymysql://user:password@host:3306/asteriskcdrdb"


def is_database_url(source: str) -> bool:
    """True when `source` names a database (``dialect[+driver]://...``), not a file."""
    return "://" in source


def url_for_display(url: str) -> str:
    """`url` with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the database URL"


@dataclass(frozen=True)
class HistoryTable:
    """What an import reads: `kind` (``CDR`` or ``CEL``), the table, and the words of the
    fix when the table is not one (``FreePBX's asteriskcdrdb cdr table``)."""

    kind: str
    table: str
    needs: tuple[str, ...]
    layout: str


@dataclass(frozen=True)
class OpenTable:
    """A connection to a checked history table: its columns (lower case) as the database
    names them."""

    connection: sqlalchemy.Connection
    columns: tuple[str, ...]

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name


@contextmanager
def open_history_table(url: str, wanted: HistoryTable) -> Iterator[OpenTable]:
    """`wanted` at `url`, connected and checked. Raises ReportError, one line naming the
    database and table, when it cannot be read (a bad URL or driver, the server down, a
    refused login, no such table, a missing column), also while its rows are read."""
    shown = f"{wanted.kind} database {url_for_display(url)} table {wanted.table!r}"
    try:
        engine = sqlalchemy.create_engine(url)
    except (ArgumentError, NoSuchModuleError) as error:
        raise ReportError(f"{shown}: {error}; give a URL such as {EXAMPLE_URL}") from None
    try:
        with engine.connect() as connection:
            yield OpenTable(connection, _columns(connection, wanted, shown))
    except SQLAlchemyError as error:
        cause = type(getattr(error, "orig", None) or error).__name__
        raise ReportError(
            f"{shown} cannot be read ({cause}): "
            "check the server is up, the login and its permission to read the table"
        ) from None
    finally:
        engine.dispose()


def _columns(
    connection: sqlalchemy.Connection, wanted: HistoryTable, shown: str
) -> tuple[str, ...]:
    inspector = sqlalchemy.inspect(connection)
    if not inspector.has_table(wanted.table):
        raise ReportError(f"{shown} does not exist: give the {wanted.kind} table with --table")
    columns = tuple(column["name"].casefold() for column in inspector.get_columns(wanted.table))
    missing = [name for name in wanted.needs if name not in columns]
    if missing:
        raise ReportError(
            f"{shown} has no {', '.join(missing)} column: give {wanted.layout} with --table"
        )
    return columns
