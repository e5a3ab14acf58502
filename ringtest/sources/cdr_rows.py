"""CDR CSV rows: the two file layouts `import-cdr` reads, and what the file says about its clock.

Layouts. cdr_csv's ``Master.csv`` has no header and one row per call leg:
accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
start, answer, end, duration, billsec, disposition, amaflags, then uniqueid
(``loguniqueid = yes``) and userfield (``loguserfield = yes``), then peeraccount,
linkedid and sequence (``newcdrcolumns = yes``): rows of 17, 18 or 21 fields.

cdr_custom's ``Master.csv`` with the mapping of Asterisk's ``cdr_custom.conf.sample``
has 19 fields: clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata,
start, answer, end, duration, billsec, disposition, amaflags, accountcode,
uniqueid, userfield, sequence. Written with ``${CDR(start,u)}``, ``${CDR(answer,u)}``
and ``${CDR(end,u)}`` (func_cdr's raw values) its times are epoch seconds with six
decimals, UTC to the microsecond (``1796380092.227504``; ``0.000000`` for no
answer): such a row is `CdrRow.exact`. Any layout's times may be written so.

FreePBX's "CDR Reports" CSV is the ``asteriskcdrdb.cdr`` table, whose 26 columns are
calldate, clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata,
duration, billsec, disposition, amaflags, accountcode, uniqueid, userfield, did,
recordingfile, cnum, cnam, outbound_cnum, outbound_cnam, dst_cnam, linkedid,
peeraccount, sequence (the column list of FreePBX's cdr module and of
cdr_adaptive_odbc's table; older exports have a header row with the first 16).
It has no answer or end time: `calldate` is the start, the end is start +
duration and a person answered at end - billsec (Asterisk's own definitions of
duration and billsec). A file whose first row is a header naming these columns
is read by name, so any subset that holds the needed ones is read.

Times. Asterisk writes times in UTC only with ``usegmtime = yes`` in cdr.conf;
its default writes local time with no offset. The file still says which: a
uniqueid is ``[systemname-]EPOCH.SEQ``, the channel's creation in Unix seconds,
and a call's first row starts when its channel was created. `ClockEvidence`
counts the rows whose start matches the uniqueid as UTC, and as local time
where the two differ (a UTC offset other than zero).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ringtest.core.errors import ReportError

BASE_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
)
FREEPBX_COLUMNS = (
    "calldate",
    "clid",
    "src",
    "dst",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "accountcode",
    "uniqueid",
    "userfield",
    "did",
    "recordingfile",
    "cnum",
    "cnam",
    "outbound_cnum",
    "outbound_cnam",
    "dst_cnam",
    "linkedid",
    "peeraccount",
    "sequence",
)
CDR_CUSTOM_COLUMNS = (
    *("clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata"),
    *("start", "answer", "end", "duration", "billsec", "disposition", "amaflags"),
    *("accountcode", "uniqueid", "userfield", "sequence"),
)
"""The ``Master.csv`` mapping of Asterisk's cdr_custom.conf.sample."""
COLUMNS_BY_COUNT = {
    17: (*BASE_COLUMNS, "uniqueid"),
    18: (*BASE_COLUMNS, "uniqueid", "userfield"),
    19: CDR_CUSTOM_COLUMNS,
    21: (*BASE_COLUMNS, "uniqueid", "userfield", "peeraccount", "linkedid", "sequence"),
    26: FREEPBX_COLUMNS,
}
FREEPBX_NEEDS = (
    *("calldate", "src", "dst", "dstchannel", "lastapp", "lastdata"),
    *("duration", "billsec", "disposition", "uniqueid"),
)
"""The columns a FreePBX file with a header row must have."""
DISPOSITIONS = frozenset({"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"})
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
WALL_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
EPOCH_TIME = re.compile(r"(\d{1,11})\.(\d{6})")
"""func_cdr's raw time (``${CDR(start,u)}``): epoch seconds and microseconds, UTC."""
EPOCH = datetime(1970, 1, 1)
UNIQUEID_EPOCH = re.compile(r"(\d{9,11})\.\d+$")
CLOCK_TOLERANCE_SECONDS = 2.0
"""How far a first row's start may be from its uniqueid's second and still match it."""


class CdrRow(NamedTuple):
    """One CDR row that parsed. start/answer/end: the file's wall times, naive (their zone is
    decided once the whole file is read); answer None when unanswered."""

    call_key: str
    line_number: int
    src: str
    dst: str
    dcontext: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str
    created_at: datetime | None
    """The uniqueid's creation second as a naive UTC wall time; None when it has none."""
    exact: bool = False
    """The times are func_cdr's raw epoch microseconds (UTC), not whole-second wall times."""


@dataclass
class ClockEvidence:
    """Rows whose start matches their uniqueid read as UTC (`utc_rows`) or only as local
    time (`local_rows`); rows that match neither or both say nothing."""

    zone: ZoneInfo
    utc_rows: int = 0
    local_rows: int = 0
    exact_rows: int = 0

    def add(self, row: CdrRow) -> None:
        if row.exact:
            self.exact_rows += 1
            return
        if row.created_at is None:
            return
        as_utc = abs((row.start - row.created_at).total_seconds()) <= CLOCK_TOLERANCE_SECONDS
        local = row.created_at.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)
        as_local = abs((row.start - local).total_seconds()) <= CLOCK_TOLERANCE_SECONDS
        if as_utc and not as_local:
            self.utc_rows += 1
        elif as_local and not as_utc:
            self.local_rows += 1

    def says_local(self) -> bool | None:
        """True when the rows say local time, False when they say UTC, None when they say
        neither (no uniqueids, an offset of zero all along) or both."""
        if self.local_rows and not self.utc_rows:
            return True
        if self.utc_rows and not self.local_rows:
            return False
        return None


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be read: ``line N: what is wrong``."""

    line_number: int
    problem: str


def parse_rows(fields_by_row: Iterable[list[str] | Exception]) -> Iterator[CdrRow | BadRow]:
    """Each CSV row of a CDR file (its fields, or the error reading it) as a `CdrRow` or
    `BadRow`; empty rows are skipped, a header row names the columns of the rows after it.

    Raises ReportError when the header row lacks a column a call needs."""
    header: tuple[str, ...] | None = None
    for number, fields in enumerate(fields_by_row, start=1):
        if isinstance(fields, Exception):
            yield BadRow(number, f"cannot be read as CSV ({fields})")
            continue
        if not fields:
            continue
        if header is None and number == 1 and "calldate" in _names(fields):
            header = _header(fields)
            continue
        try:
            yield _parse_row(number, fields, header)
        except ValueError as error:
            yield BadRow(number, str(error))


def _names(fields: list[str]) -> list[str]:
    return [field.strip().lstrip("\ufeff").casefold() for field in fields]


def _header(fields: list[str]) -> tuple[str, ...]:
    names = tuple(_names(fields))
    missing = [name for name in FREEPBX_NEEDS if name not in names]
    if missing:
        raise ReportError(
            f"the CDR file's header row has no {', '.join(missing)} column: export FreePBX's "
            "CDR Reports with every column, or import cdr_csv's Master.csv"
        )
    return names


def _parse_row(number: int, fields: list[str], header: tuple[str, ...] | None) -> CdrRow:
    names = header or COLUMNS_BY_COUNT.get(len(fields))
    if names is None or len(names) != len(fields):
        raise ValueError(
            f"{len(fields)} fields, expected 18 (cdr_csv with loguniqueid and loguserfield), "
            "17 or 21 (with newcdrcolumns), 19 (cdr_custom's sample mapping)"
            + (f", or {len(header)} as the header row says" if header else ", or 26 (FreePBX)")
        )
    values = dict(zip(names, fields, strict=True))
    disposition = values["disposition"]
    if disposition not in DISPOSITIONS:
        raise ValueError(
            f"disposition {disposition!r} is not one of {', '.join(sorted(DISPOSITIONS))}"
        )
    if "calldate" in values:
        start, answer, end = _freepbx_times(values)
    else:
        start = _instant(values["start"], "start")
        end = _instant(values["end"], "end")
        answer = _instant(values["answer"], "answer") if values["answer"] else None
        answer = None if answer == EPOCH else answer  # func_cdr's raw "no answer"
    if end < start:
        raise ValueError(f"end {end:{TIME_FORMAT}} is before start {start:{TIME_FORMAT}}")
    key = values.get("linkedid") or values["uniqueid"]
    if not key:
        raise ValueError("no uniqueid: set loguniqueid = yes in cdr.conf [csv]")
    return CdrRow(
        key,
        number,
        values["src"],
        values["dst"],
        values.get("dcontext", ""),
        values.get("channel", ""),
        values["dstchannel"],
        values["lastapp"],
        values["lastdata"],
        start,
        answer,
        end,
        disposition,
        _created_at(values["uniqueid"]),
        EPOCH_TIME.fullmatch(values.get("start", "")) is not None,
    )


def _freepbx_times(values: dict[str, str]) -> tuple[datetime, datetime | None, datetime]:
    """(start, answer, end) of a FreePBX row: calldate, end - billsec, calldate + duration."""
    start = _instant(values["calldate"], "calldate")
    duration, billsec = (
        _seconds(values["duration"], "duration"),
        _seconds(values["billsec"], "billsec"),
    )
    end = start + timedelta(seconds=duration)
    answer = end - timedelta(seconds=billsec) if values["disposition"] == "ANSWERED" else None
    return start, answer, end


def _seconds(text: str, name: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"{name} {text!r} is not a whole number of seconds")
    return int(text)


def _instant(text: str, name: str) -> datetime:
    """`text` as written by Asterisk (`TIME_FORMAT`), checked by `WALL_TIME` then parsed by
    `fromisoformat` (ten times faster than `strptime`, which dominated a large import), or
    as func_cdr's raw epoch microseconds (`EPOCH_TIME`), a naive UTC wall time exactly."""
    epoch = EPOCH_TIME.fullmatch(text)
    if epoch is not None:
        seconds, microseconds = epoch.groups()
        return EPOCH + timedelta(seconds=int(seconds), microseconds=int(microseconds))
    try:
        if WALL_TIME.fullmatch(text) is None:
            raise ValueError(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a time: expected YYYY-MM-DD HH:MM:SS") from None


def _created_at(uniqueid: str) -> datetime | None:
    found = UNIQUEID_EPOCH.search(uniqueid)
    if found is None:
        return None
    return datetime.fromtimestamp(int(found.group(1)), UTC).replace(tzinfo=None)
