"""CDR rows read from the PBX's own database: FreePBX's ``asteriskcdrdb.cdr`` table, or
cdr_pgsql's ``cdr``.

FreePBX's table has the 26 columns of its cdr module (`FREEPBX_COLUMNS`, the layout of
its "CDR Reports" CSV); Asterisk's cdr_pgsql table (its documentation's ``CREATE TABLE
cdr``) has 19 of them: calldate, clid, src, dst, dcontext, channel, dstchannel,
lastapp, lastdata, duration, billsec, disposition, amaflags, accountcode, uniqueid,
userfield, peeraccount, linkedid, sequence. Both hold every column a call needs
(`FREEPBX_NEEDS`). `cdr_fields` reads them with SQLAlchemy in ``calldate`` order,
streamed (`history_tables`), and yields them as the fields of a CSV file with a header
row, so `parse_rows` turns them into the same `CdrRow` objects a FreePBX file gives
and the rest of the import is shared.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import sqlalchemy

from ringtest.config import Settings
from ringtest.sources.cdr_import import CdrImport, calls_of_fields
from ringtest.sources.cdr_rows import FREEPBX_NEEDS, TIME_FORMAT
from ringtest.sources.history_tables import (
    STREAMED,
    HistoryTable,
    is_database_url,
    open_history_table,
    url_for_display,
)
from ringtest.store import Store

__all__ = [
    "DEFAULT_TABLE",
    "cdr_fields",
    "import_cdr_database",
    "is_database_url",
    "url_for_display",
]

logger = logging.getLogger(__name__)

DEFAULT_TABLE = "cdr"
WIDEST_UTC_OFFSET = timedelta(hours=14)
"""How far a table's wall times may be from UTC: rows this much before `since` are read
too, and the calls before `since` dropped once the table's clock is known."""


def cdr_fields(
    url: str, table: str = DEFAULT_TABLE, since: datetime | None = None
) -> Iterator[list[str]]:
    """The header row then each row of `table` at `url`, oldest ``calldate`` first, as text
    fields (times as ``YYYY-MM-DD HH:MM:SS``, NULL as empty); with `since` (UTC), only the
    rows whose calldate is at most `WIDEST_UTC_OFFSET` before it.

    Raises ReportError naming the database and table when it cannot be read."""
    wanted = HistoryTable("CDR", table, FREEPBX_NEEDS, "FreePBX's asteriskcdrdb cdr table")
    with open_history_table(url, wanted) as opened:
        calldate = sqlalchemy.column("calldate", sqlalchemy.DateTime)
        query = (
            sqlalchemy.select(*(sqlalchemy.column(name) for name in opened.columns))
            .select_from(sqlalchemy.table(table))
            .order_by(calldate)
            .execution_options(**STREAMED)
        )
        if since is not None:
            lower = (since - WIDEST_UTC_OFFSET).astimezone(UTC).replace(tzinfo=None)
            query = query.where(calldate >= lower)
        yield list(opened.columns)
        for values in opened.connection.execute(query):
            yield [_text(value) for value in values]


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
    since: datetime | None = None,
) -> CdrImport:
    """Read `table` at `url` and store its calls to monitored lines not stored yet, as
    `import_cdr` stores a file's (the same grouping, ring-time rules and line matching).

    times_are_local: the table's times are the calendar's local time (cdr.conf
        ``usegmtime = no``); without it the uniqueids decide, else UTC.
    since: a UTC instant; only calls that started at or after it are stored.
    """
    result = CdrImport()
    shown = url_for_display(url)
    fields = cdr_fields(url, table, since)
    calls = calls_of_fields(
        fields, settings, result, times_are_local, f"table {table}", calls_since=since
    )
    result.imported = store.save_new_calls(calls)
    result.already_stored = result.calls_found - result.imported
    logger.info("imported %d calls from %s table %s", result.imported, shown, table)
    return result
