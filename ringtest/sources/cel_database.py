"""CEL rows read from the PBX's own database: the ``cel`` table of cel_odbc (FreePBX's
``asteriskcdrdb.cel`` on MariaDB) or of cel_pgsql, measured as `import_cel` measures a file.

Layout. The columns are named after CEL's fields, as both backends write them: eventtype,
eventtime, cid_name, cid_num, cid_ani, cid_rdnis, cid_dnid, exten, context, channame,
appname, appdata, amaflags, accountcode, uniqueid, linkedid, peer, userdeftype, extra
(FreePBX adds ``id``, an auto-increment key; cel_pgsql's documented table has ``id
serial`` and peeraccount, userfield). The import needs `CEL_NEEDS`. Rows are read in
the order the PBX logged them (``id`` when the table has it, else eventtime), streamed,
and become the same `CelRow` objects a cel_custom file gives, so the tracker path is
shared (`calls_of_cel_rows`). eventtype is the event's name, or its number when the
column is an integer (`EVENT_TYPE_BY_NUMBER`, Asterisk 12 and later).

Times. Both backends write eventtime as a wall time with microseconds, in UTC only with
``usegmtime = yes`` (cel_odbc.conf's table section, cel_pgsql.conf); the default is the
PBX's local time. A uniqueid is ``EPOCH.SEQ``, its channel's creation in Unix seconds, and
a channel's CHAN_START is logged then, so the table says which: `table_clock` compares
the latest CHAN_START rows of calls with their uniqueids, as the CDR import does
(`cdr_rows.ClockEvidence`). A ``timestamp with time zone`` column is exact as it is.
FreePBX's column is a ``datetime`` with no fraction: MariaDB keeps whole seconds, so its
calls are marked ``whole seconds`` and their ring times are good to a second, not to
the milliseconds of a cel_custom file (``ALTER TABLE cel MODIFY eventtime datetime(6)``
keeps them).
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy

from ringtest.config import Settings
from ringtest.core.observations import WHOLE_SECONDS
from ringtest.sources.cdr_rows import CLOCK_TOLERANCE_SECONDS, UNIQUEID_EPOCH
from ringtest.sources.cel_import import CelImport, calls_of_cel_rows
from ringtest.sources.cel_rows import SAMPLE_COLUMNS, BadCelRow, CelRow, parse_cel_fields
from ringtest.sources.history_tables import (
    STREAMED,
    HistoryTable,
    OpenTable,
    open_history_table,
    url_for_display,
)
from ringtest.store import Store

logger = logging.getLogger(__name__)

DEFAULT_TABLE = "cel"
CEL_NEEDS = (
    *("eventtype", "eventtime", "cid_num", "exten", "context", "channame"),
    *("appname", "appdata", "uniqueid", "linkedid", "extra"),
)
EVENT_TYPE_BY_NUMBER = {
    "1": "CHAN_START",
    "2": "CHAN_END",
    "3": "HANGUP",
    "4": "ANSWER",
    "5": "APP_START",
    "6": "APP_END",
    "7": "BRIDGE_ENTER",
    "8": "BRIDGE_EXIT",
    "11": "BLINDTRANSFER",
    "12": "ATTENDEDTRANSFER",
    "14": "LINKEDID_END",
    "17": "LOCAL_OPTIMIZE",
}
"""An integer eventtype column's values (Asterisk 12+ ``enum ast_cel_event_type``)."""
CLOCK_SAMPLE_ROWS = 2000
"""How many of the latest rows of calls' own channels `table_clock`'s samples come from
(about one in eight is a CHAN_START)."""
EPOCH_TIME = re.compile(r"\d{9,11}\.\d{1,6}")


class TableClock:
    """How a CEL table's times were read (for the summary line)."""

    EXACT = "UTC, as the column keeps its time zone"
    ASKED_LOCAL = "local time ({zone}), as --local-times asks"
    SAID_LOCAL = "local time ({zone}), as the uniqueids say (usegmtime = no)"
    SAID_UTC = "UTC, as the uniqueids say (usegmtime = yes)"
    ASSUMED_UTC = (
        "UTC, assumed: the table does not say; if its backend has usegmtime = no (the "
        "default) its times are local: import into a new database with --local-times"
    )
    WHOLE = "; whole seconds (the column keeps no fraction: ring times good to a second)"


@dataclass(frozen=True)
class Clock:
    """The zone a table's naive times are in (None: they are aware), why, and whether they
    have whole seconds only."""

    zone: ZoneInfo | None
    words: str
    whole_seconds: bool


def table_clock(samples: Sequence[tuple[object, str]], zone: ZoneInfo, local: bool) -> Clock:
    """The clock of a table whose latest CHAN_START rows of calls are `samples` (eventtime,
    uniqueid), for a PBX in `zone`; `local`: the user says its times are local."""
    times = [_instant(value) for value, _ in samples]
    whole = bool(times) and all(time is not None and time.microsecond == 0 for time in times)
    suffix = TableClock.WHOLE if whole else ""
    if any(time is not None and time.tzinfo is not None for time in times):
        return Clock(None, TableClock.EXACT + suffix, whole)
    if local:
        return Clock(zone, TableClock.ASKED_LOCAL.format(zone=zone.key) + suffix, whole)
    utc_rows = local_rows = 0
    for time, (_, uniqueid) in zip(times, samples, strict=True):
        created = UNIQUEID_EPOCH.search(uniqueid)
        if time is None or created is None:
            continue
        at = datetime.fromtimestamp(int(created.group(1)), UTC)
        as_utc = abs((time - at.replace(tzinfo=None)).total_seconds()) <= CLOCK_TOLERANCE_SECONDS
        wall = at.astimezone(zone).replace(tzinfo=None)
        as_local = abs((time - wall).total_seconds()) <= CLOCK_TOLERANCE_SECONDS
        utc_rows += as_utc and not as_local
        local_rows += as_local and not as_utc
    if local_rows and not utc_rows:
        return Clock(zone, TableClock.SAID_LOCAL.format(zone=zone.key) + suffix, whole)
    words = TableClock.SAID_UTC if utc_rows and not local_rows else TableClock.ASSUMED_UTC
    return Clock(ZoneInfo("UTC"), words + suffix, whole)


def _instant(value: object) -> datetime | None:
    """A table's eventtime as a datetime (naive or aware as stored); None when not a time.
    SQLite gives text: ISO, or epoch seconds (UTC)."""
    if isinstance(value, datetime):
        return value
    text = str(value or "").strip()
    if EPOCH_TIME.fullmatch(text):
        return datetime.fromtimestamp(float(text), UTC)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _epoch_text(value: object, zone: ZoneInfo | None) -> str:
    """eventtime as cel_custom writes it (epoch seconds, six decimals), `zone` its naive
    times' zone; empty when it is not a time (the row is then bad)."""
    time = _instant(value)
    if time is None:
        return ""
    if time.tzinfo is None:
        time = time.replace(tzinfo=zone or UTC)
    at = time.astimezone(UTC)
    return f"{calendar.timegm(at.timetuple())}.{at.microsecond:06d}"


def cel_rows(
    opened: OpenTable, table: str, clock: Clock, since: datetime | None
) -> Iterator[CelRow | BadCelRow]:
    """`table`'s rows in the order they were logged, from `since` (UTC) on when given, as
    `CelRow`s (or `BadCelRow`s, numbered by their place in the read)."""
    eventtime = sqlalchemy.column("eventtime", sqlalchemy.DateTime)
    order = sqlalchemy.column("id") if "id" in opened.columns else eventtime
    names = [name for name in SAMPLE_COLUMNS if name in opened.columns]
    query = (
        sqlalchemy.select(*(sqlalchemy.column(name) for name in names))
        .select_from(sqlalchemy.table(table))
        .order_by(order)
        .execution_options(**STREAMED)
    )
    if since is not None:
        query = query.where(eventtime >= _bound(since, clock.zone))
    position = {name: names.index(name) for name in names}
    at = position["eventtime"]
    kind = position["eventtype"]

    def fields(values: Sequence[object]) -> list[str]:
        texts = ["" if value is None else str(value) for value in values]
        texts[at] = _epoch_text(values[at], clock.zone)
        texts[kind] = EVENT_TYPE_BY_NUMBER.get(texts[kind], texts[kind])
        return [texts[position[name]] if name in position else "" for name in SAMPLE_COLUMNS]

    rows = (fields(values) for values in opened.connection.execute(query))
    return parse_cel_fields(rows)


def _bound(since: datetime, zone: ZoneInfo | None) -> datetime:
    """`since` as the table compares it: aware for an aware column, else its wall time."""
    if zone is None:
        return since
    return since.astimezone(zone).replace(tzinfo=None)


def _clock_samples(opened: OpenTable, table: str) -> list[tuple[object, str]]:
    """(eventtime, uniqueid) of the CHAN_START rows of calls among the latest
    `CLOCK_SAMPLE_ROWS` rows of calls' own channels (the event type is compared here, not
    in SQL, as the column may be text or a number)."""
    order = "id" if "id" in opened.columns else "eventtime"
    names = ("eventtype", "eventtime", "uniqueid")
    query = (
        sqlalchemy.select(*(sqlalchemy.column(name) for name in names))
        .select_from(sqlalchemy.table(table))
        .where(sqlalchemy.column("uniqueid") == sqlalchemy.column("linkedid"))
        .order_by(sqlalchemy.column(order).desc())
        .limit(CLOCK_SAMPLE_ROWS)
    )
    return [
        (value, str(uniqueid))
        for kind, value, uniqueid in opened.connection.execute(query)
        if EVENT_TYPE_BY_NUMBER.get(str(kind), str(kind)) == "CHAN_START"
    ]


def import_cel_database(
    url: str,
    settings: Settings,
    store: Store,
    *,
    table: str = DEFAULT_TABLE,
    times_are_local: bool = False,
    since: datetime | None = None,
) -> CelImport:
    """Read `table` at `url` and store its calls to monitored lines not stored yet, as
    `import_cel` stores a file's (the same tracker, so the same calls).

    times_are_local: the table's times are the calendar's local time (usegmtime = no);
        without it the uniqueids decide, else UTC.
    since: a UTC instant; rows before it are not read.
    Raises ReportError, one line naming the database and table, when it cannot be read.
    """
    result = CelImport()
    wanted = HistoryTable("CEL", table, CEL_NEEDS, "the cel table of cel_odbc or cel_pgsql")
    with open_history_table(url, wanted) as opened:
        zone = ZoneInfo(settings.calendar.timezone)
        clock = table_clock(_clock_samples(opened, table), zone, times_are_local)
        result.clock = clock.words
        note = f", {WHOLE_SECONDS}" if clock.whole_seconds else ""
        rows = cel_rows(opened, table, clock, since)
        result.imported = store.save_new_calls(
            calls_of_cel_rows(rows, settings, result, f"table {table}", note)
        )
    result.already_stored = result.calls_found - result.imported
    logger.info("imported %d calls from %s table %s", result.imported, url_for_display(url), table)
    return result
