"""CDR rows read from the PBX's own database: FreePBX's ``asteriskcdrdb.cdr`` table.

The table's columns are the 26 of FreePBX's cdr module (`FREEPBX_COLUMNS`, the layout of
its "CDR Reports" CSV). `cdr_fields` reads them with SQLAlchemy in ``calldate`` order,
streamed (a server-side cursor, `ROWS_PER_FETCH` rows at a time), and yields them as the
fields of a CSV file with a header row, so `parse_rows` turns them into the same
`CdrRow` objects a FreePBX file gives and the rest of the import is shared.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from ringtest.config import Settings
from ringtest.core.errors import ReportError
from ringtest.sources.cdr_import import CdrImport, calls_of_fields
from ringtest.sources.cdr_rows import FREEPBX_NEEDS, TIME_FORMAT
from ringtest.store import Store

logger = logging.getLogger(__name__)

ROWS_PER_FETCH = 1000
DEFAULT_TABLE = "cdr"


def is_database_url(source: str) -> bool:
    """True when `source` names a database (``dialect[+driver]://...``), not a file."""
    return "://" in source


def url_for_display(url: str) -> str:
    """`url` with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the database URL"


def cdr_fields(url: str, table: str = DEFAULT_TABLE) -> Iterator[list[str]]:
    """The header row then each row of `table` at `url`, oldest ``calldate`` first, as text
    fields (times as ``YYYY-MM-DD HH:MM:SS``, NULL as empty).

    Raises ReportError naming the database and table when it cannot be read."""
    shown = f"{url_for_display(url)} table {table!r}"
    try:
        engine = sqlalchemy.create_engine(url)
    except (ArgumentError, NoSuchModuleError) as error:
        raise ReportError(
            f"CDR database {shown}: {error}; give a URL such as "
            "mysql+pymysql://user:password@host:3306/asteriskcdrdb"
        ) from None
    try:
        with engine.connect() as connection:
            columns = _columns(connection, table, shown)
            query = (
                sqlalchemy.select(*(sqlalchemy.column(name) for name in columns))
                .select_from(sqlalchemy.table(table))
                .order_by(sqlalchemy.column("calldate"))
                .execution_options(yield_per=ROWS_PER_FETCH)
            )
            yield list(columns)
            for values in connection.execute(query):
                yield [_text(value) for value in values]
    except SQLAlchemyError as error:
        cause = type(getattr(error, "orig", None) or error).__name__
        raise ReportError(
            f"CDR database {shown} cannot be read ({cause}): "
            "check the server is up, the login and its permission to read the table"
        ) from None
    finally:
        engine.dispose()


def _columns(connection: sqlalchemy.Connection, table: str, shown: str) -> tuple[str, ...]:
    inspector = sqlalchemy.inspect(connection)
    if not inspector.has_table(table):
        raise ReportError(f"CDR database {shown} does not exist: give the CDR table with --table")
    columns = tuple(column["name"].casefold() for column in inspector.get_columns(table))
    missing = [name for name in FREEPBX_NEEDS if name not in columns]
    if missing:
        raise ReportError(
            f"CDR database {shown} has no {', '.join(missing)} column: give FreePBX's "
            "asteriskcdrdb cdr table with --table"
        )
    return columns


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    return str(value)


def import_cdr_database(
    url: str,
    settings: Settings,
    store: Store,
    *,
    table: str = DEFAULT_TABLE,
    times_are_local: bool = False,
) -> CdrImport:
    """Read `table` at `url` and store its calls to monitored lines not stored yet, as
    `import_cdr` stores a file's (the same grouping, ring-time rules and line matching).

    times_are_local: the table's times are the calendar's local time (cdr.conf
        ``usegmtime = no``); without it the uniqueids decide, else UTC.
    """
    result = CdrImport()
    shown = url_for_display(url)
    fields = cdr_fields(url, table)
    calls = calls_of_fields(fields, settings, result, times_are_local, f"table {table}")
    result.imported = store.save_new_calls(calls)
    result.already_stored = result.calls_found - result.imported
    logger.info("imported %d calls from %s table %s", result.imported, shown, table)
    return result
