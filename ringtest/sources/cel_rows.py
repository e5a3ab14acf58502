"""CEL CSV rows: the file layout `import-cel` reads, one channel event a row.

Layout. Asterisk's ``cel_custom.conf.sample`` mapping (``[mappings] Master.csv =>``,
written to ``/var/log/asterisk/cel-custom/Master.csv``; the lab's
``docker/asterisk/cel_custom.conf`` is that mapping) has 20 columns: eventtype,
eventtime, CALLERID(name), CALLERID(num), CALLERID(ANI), CALLERID(RDNIS),
CALLERID(DNID), exten, context, channame, appname, appdata, amaflags,
accountcode, uniqueid, linkedid, BRIDGEPEER, userfield, userdeftype, eventextra.
The same columns come from an advanced mapping with ``fields =`` in that order.

Times. With no ``dateformat`` in cel.conf (Asterisk's default), eventtime is
seconds since the epoch with six digits of microseconds (``1796380092.227504``):
an exact UTC instant, kept as written (the tracker reads it as AMI's
``Timestamp:``). A row with any other eventtime (a ``dateformat`` set) is bad:
its zone and fraction are lost.

`extra` is the event's JSON (``{"hangupcause":16,...}`` on HANGUP, the transferee
and target on ATTENDEDTRANSFER), read by `extra_of` only for the events that need it.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from ami_listener.message import server_time_of

SAMPLE_COLUMNS = (
    "eventtype",
    "eventtime",
    "cid_name",
    "cid_num",
    "cid_ani",
    "cid_rdnis",
    "cid_dnid",
    "exten",
    "context",
    "channame",
    "appname",
    "appdata",
    "amaflags",
    "accountcode",
    "uniqueid",
    "linkedid",
    "peer",
    "userfield",
    "userdeftype",
    "extra",
)
"""The columns of cel_custom.conf.sample's mapping, in order."""
EVENT_TIME = re.compile(r"\d{9,11}\.\d{6}")
"""eventtime as cel.conf writes it with no dateformat: epoch seconds and microseconds."""


class CelRow(NamedTuple):
    """One CEL row that parsed. eventtime: as written (epoch seconds with microseconds),
    at: the same instant as a UTC datetime."""

    line_number: int
    eventtype: str
    eventtime: str
    at: datetime
    cid_num: str
    exten: str
    context: str
    channame: str
    appname: str
    appdata: str
    uniqueid: str
    linkedid: str
    extra: str


@dataclass(frozen=True)
class BadCelRow:
    """A row that cannot be read: ``line N: what is wrong``."""

    line_number: int
    problem: str


def parse_cel_rows(
    lines: Iterable[str], since: datetime | None = None
) -> Iterator[CelRow | BadCelRow]:
    """Each row of a CEL CSV file (its text lines) as a `CelRow` or `BadCelRow`; empty
    rows are skipped, and so are rows before `since` (a UTC instant) when given."""
    return parse_cel_fields(_csv_rows(lines), since)


def parse_cel_fields(
    fields_by_row: Iterable[list[str] | csv.Error], since: datetime | None = None
) -> Iterator[CelRow | BadCelRow]:
    """`parse_cel_rows` of rows already split into the fields of `SAMPLE_COLUMNS` (or the
    error reading a row)."""
    for number, fields in enumerate(fields_by_row, start=1):
        if isinstance(fields, csv.Error):
            yield BadCelRow(number, f"cannot be read as CSV ({fields})")
            continue
        if not fields:
            continue
        try:
            row = _parse_row(number, fields)
        except ValueError as error:
            yield BadCelRow(number, str(error))
            continue
        if since is None or row.at >= since:
            yield row


def extra_of(row: CelRow) -> dict[str, object]:
    """The row's extra JSON as a dict; empty when it has none or it is not a JSON object."""
    try:
        extra = json.loads(row.extra) if row.extra else {}
    except ValueError:
        return {}
    return extra if isinstance(extra, dict) else {}


def _parse_row(number: int, fields: list[str]) -> CelRow:
    if len(fields) != len(SAMPLE_COLUMNS):
        raise ValueError(
            f"{len(fields)} fields, expected {len(SAMPLE_COLUMNS)} "
            "(the mapping of Asterisk's cel_custom.conf.sample)"
        )
    if "\0" in "".join(fields):
        raise ValueError("holds a NUL byte: the file is damaged or not text")
    values = dict(zip(SAMPLE_COLUMNS, fields, strict=True))
    eventtime = values["eventtime"]
    at = server_time_of(eventtime) if EVENT_TIME.fullmatch(eventtime) else None
    if at is None:
        raise ValueError(
            f"eventtime {eventtime!r} is not epoch seconds with microseconds: "
            "remove dateformat from cel.conf"
        )
    if not values["uniqueid"]:
        raise ValueError("no uniqueid: map CHANNEL(uniqueid) in cel_custom.conf")
    return CelRow(
        number,
        values["eventtype"],
        eventtime,
        at,
        values["cid_num"],
        values["exten"],
        values["context"],
        values["channame"],
        values["appname"],
        values["appdata"],
        values["uniqueid"],
        values["linkedid"],
        values["extra"],
    )


def decoded_lines(file: Iterable[bytes], on_bytes: Callable[[int], None]) -> Iterator[str]:
    """`file`'s lines as text (bad UTF-8 replaced), telling `on_bytes` each line's size."""
    for raw in file:
        on_bytes(len(raw))
        yield raw.decode("utf-8", errors="replace")


def _csv_rows(lines: Iterable[str]) -> Iterator[list[str] | csv.Error]:
    """Each CSV row's fields, or the `csv.Error` a row raised, so one bad row does not
    end the file."""
    reader = csv.reader(lines)
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield error
