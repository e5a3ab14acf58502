"""`ringtest import-cdr`: Asterisk CDR CSV (cdr_csv's `Master.csv`) loaded as historical calls.

cdr_csv writes one row per call leg, no header, with these columns (Asterisk 12+):
accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
start, answer, end, duration, billsec, disposition, amaflags, then uniqueid
(``loguniqueid = yes``) and userfield (``loguserfield = yes``), then peeraccount,
linkedid and sequence (``newcdrcolumns = yes``). Rows of 17, 18 or 21 fields are read.

Asterisk 12+ writes several CDRs per call: one per dialled party (a ring group
of two gives two rows), a new one for each queue attempt, and one for the
voicemail pickup that starts when voicemail answers. Dispositions describe the
dialled party. So a call is the rows sharing its linkedid (else uniqueid), and:

* it started at the earliest `start`; ringing is taken to start there too;
* a person answered when a row that dialled a channel (not a Local channel) is
  ANSWERED; the earliest such `answer` is when, and ring time is that minus the
  start. Otherwise voicemail (a ``VoiceMail`` row answered), busy, failed, or
  abandoned, in that order (`OUTCOME_RULES`); an unanswered call's ring time
  runs to the end of its last dialled leg;
* it is to a monitored line when a row's `dst` is a line's extension or number, or a
  ``Queue`` row's queue is a line's queue (the tracker's `LineDirectory`); other calls
  are not imported.

CDR times have whole seconds, so ring times are good to a second. A call the
PBX answered itself before dialling (an IVR) carries the IVR's answer time on
its dial rows: its ring time cannot be recovered from CDRs and reads as 0 s.
Imported calls get the configured PBX label (`ami.pbx`), the call's linkedid or
uniqueid as call_id, and a `gap_note` naming the file and lines. A call already
stored under that key (the listener saw it live) is kept as stored.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ami_listener.lines import LineDirectory, MonitoredLine
from ami_listener.tracker import IVR_APPLICATIONS
from ringtest.config import Settings
from ringtest.config.adapters import line_directory_of, standards_of
from ringtest.core.errors import ReportError
from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord
from ringtest.core.standards import Standards, normalise_number
from ringtest.store import Store

logger = logging.getLogger(__name__)

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
COLUMNS_BY_COUNT = {
    17: (*BASE_COLUMNS, "uniqueid"),
    18: (*BASE_COLUMNS, "uniqueid", "userfield"),
    21: (*BASE_COLUMNS, "uniqueid", "userfield", "peeraccount", "linkedid", "sequence"),
}
DISPOSITIONS = frozenset({"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"})
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class CdrRow:
    """One CDR row that parsed. start/answer/end: aware UTC; answer None when unanswered."""

    line_number: int
    src: str
    dst: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str
    call_key: str


def _person_answered(row: CdrRow) -> bool:
    return (
        row.disposition == "ANSWERED"
        and row.dstchannel != ""
        and not row.dstchannel.startswith("Local/")
    )


def _voicemail_answered(row: CdrRow) -> bool:
    return row.lastapp == "VoiceMail" and row.disposition == "ANSWERED"


def _busy(row: CdrRow) -> bool:
    return row.disposition == "BUSY" or row.lastapp == "Busy"


def _failed(row: CdrRow) -> bool:
    return row.disposition in ("FAILED", "CONGESTION")


def _ivr_answered(row: CdrRow) -> bool:
    return row.lastapp in IVR_APPLICATIONS and row.answer is not None


OUTCOME_RULES: tuple[tuple[CallOutcome, AnsweredBy, Callable[[CdrRow], bool]], ...] = (
    (CallOutcome.ANSWERED, AnsweredBy.PERSON, _person_answered),
    (CallOutcome.VOICEMAIL, AnsweredBy.VOICEMAIL, _voicemail_answered),
    (CallOutcome.BUSY, AnsweredBy.NONE, _busy),
    (CallOutcome.FAILED, AnsweredBy.NONE, _failed),
    (CallOutcome.ABANDONED, AnsweredBy.IVR, _ivr_answered),
)
"""A call's outcome and who answered: the first rule some row of the call meets, top
to bottom; a call no rule fits was abandoned while ringing (NO ANSWER)."""


@dataclass
class CdrImport:
    """What an import did. bad_rows: ``line N: what is wrong`` for each row skipped."""

    rows_read: int = 0
    calls: list[CallRecord] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)
    not_monitored: int = 0
    already_stored: int = 0
    imported: int = 0


def import_cdr(
    path: Path, settings: Settings, store: Store, *, times_are_local: bool = False
) -> CdrImport:
    """Read `path` (cdr_csv) and store its calls to monitored lines not stored yet.

    times_are_local: the file's times are the calendar's local time (cdr_csv's
        ``usegmtime = no``) rather than UTC (``usegmtime = yes``, as the lab writes).
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise ReportError(
            f"CDR file '{path}' cannot be read ({error.strerror or error}): "
            "check the path and its permissions"
        ) from None
    zone = ZoneInfo(settings.calendar.timezone) if times_are_local else UTC
    result = read_cdr(text.splitlines(), settings, zone, source_name=path.name)
    if result.calls:
        since = min(call.started_at for call in result.calls)
        until = max(call.started_at for call in result.calls) + timedelta(seconds=1)
        stored = {(call.pbx, call.call_id) for call in store.iter_calls(since, until)}
        new = [call for call in result.calls if (call.pbx, call.call_id) not in stored]
        result.already_stored = len(result.calls) - len(new)
        result.imported = store.save_calls(new)
    logger.info("imported %d calls from %s", result.imported, path)
    return result


def read_cdr(
    lines: Sequence[str], settings: Settings, zone: ZoneInfo = UTC, source_name: str = "CDR"
) -> CdrImport:
    """Parse cdr_csv `lines` into calls to monitored lines (pure: nothing is stored)."""
    result = CdrImport()
    rows_by_call: dict[str, list[CdrRow]] = {}
    for number, fields in enumerate(_csv_rows(lines), start=1):
        if not fields:
            continue
        result.rows_read += 1
        if isinstance(fields, csv.Error):
            result.bad_rows.append(f"line {number}: cannot be read as CSV ({fields})")
            continue
        try:
            row = _parse_row(number, fields, zone)
        except ValueError as error:
            result.bad_rows.append(f"line {number}: {error}")
            continue
        rows_by_call.setdefault(row.call_key, []).append(row)
    standards = standards_of(settings)
    lines = line_directory_of(settings)
    for key, rows in rows_by_call.items():
        ordered = sorted(rows, key=lambda row: row.start)
        call = _call(key, ordered, settings.ami.pbx, lines, standards, source_name)
        if call is None:
            result.not_monitored += 1
        else:
            result.calls.append(call)
    return result


def _csv_rows(lines: Sequence[str]) -> Iterator[list[str] | csv.Error]:
    """Each CSV row's fields, or the `csv.Error` a row raised (a field over the
    csv module's 128 KiB limit), so one bad row does not end the file."""
    reader = csv.reader(lines)
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield error


def _parse_row(number: int, fields: list[str], zone: ZoneInfo) -> CdrRow:
    names = COLUMNS_BY_COUNT.get(len(fields))
    if names is None:
        raise ValueError(
            f"{len(fields)} fields, expected 18 (cdr_csv with loguniqueid and loguserfield), "
            "17 or 21 (with newcdrcolumns)"
        )
    values = dict(zip(names, fields, strict=True))
    disposition = values["disposition"]
    if disposition not in DISPOSITIONS:
        raise ValueError(
            f"disposition {disposition!r} is not one of {', '.join(sorted(DISPOSITIONS))}"
        )
    start = _instant(values["start"], "start", zone)
    end = _instant(values["end"], "end", zone)
    answer = _instant(values["answer"], "answer", zone) if values["answer"] else None
    if end < start:
        raise ValueError(f"end {values['end']} is before start {values['start']}")
    key = values.get("linkedid") or values["uniqueid"]
    if not key:
        raise ValueError("no uniqueid: set loguniqueid = yes in cdr.conf [csv]")
    return CdrRow(
        number,
        values["src"],
        values["dst"],
        values["dstchannel"],
        values["lastapp"],
        values["lastdata"],
        start,
        answer,
        end,
        disposition,
        key,
    )


def _instant(text: str, name: str, zone: ZoneInfo) -> datetime:
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=zone).astimezone(UTC)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a time: expected YYYY-MM-DD HH:MM:SS") from None


def _call(
    key: str,
    rows: list[CdrRow],
    pbx: str,
    lines: LineDirectory,
    standards: Standards,
    source_name: str,
) -> CallRecord | None:
    line = _monitored_line(rows, lines, standards.default_region)
    if line is None:
        return None
    started_at = rows[0].start
    outcome, answered_by, answering = next(
        (
            (outcome, by, found)
            for outcome, by, rule in OUTCOME_RULES
            if (found := [row for row in rows if rule(row)])
        ),
        (CallOutcome.ABANDONED, AnsweredBy.NONE, []),
    )
    answered_at = min((row.answer for row in answering if row.answer), default=None)
    dialled = [row for row in rows if row.dstchannel]
    if answered_by is AnsweredBy.PERSON and answered_at is not None:
        ring_seconds: float | None = (answered_at - started_at).total_seconds()
    elif dialled:
        ring_seconds = (max(row.end for row in dialled) - started_at).total_seconds()
    else:
        ring_seconds = None
    rings = standards.ring_rule.rings(ring_seconds) if ring_seconds is not None else None
    lines = sorted(row.line_number for row in rows)
    span = f"line {lines[0]}" if len(lines) == 1 else f"lines {lines[0]}-{lines[-1]}"
    return CallRecord(
        call_id=key,
        pbx=pbx,
        line=line.line,
        department=line.department,
        caller=_number(rows[0].src, standards.default_region),
        dialled=rows[0].dst,
        started_at=started_at,
        ring_started_at=started_at if dialled else None,
        answered_at=answered_at,
        answered_by=answered_by,
        ended_at=max(row.end for row in rows),
        ring_seconds=ring_seconds,
        rings=rings,
        outcome=outcome,
        within_standard=answered_by is AnsweredBy.PERSON
        and ring_seconds is not None
        and standards.ring_rule.within(ring_seconds),
        is_test_call=standards.is_test_caller(rows[0].src),
        gap_note=f"imported from Asterisk CDR {source_name}, {span}",
    )


def _monitored_line(
    rows: Iterable[CdrRow], lines: LineDirectory, region: str
) -> MonitoredLine | None:
    """The monitored line of the first row to one: by its destination as written or in
    E.164, else by the queue of a ``Queue`` row; None when no row is to one."""
    for row in rows:
        line = (
            lines.for_dialled(row.dst)
            or lines.for_dialled(_number(row.dst, region))
            or (lines.for_queue(row.lastdata.split(",", 1)[0]) if row.lastapp == "Queue" else None)
        )
        if line is not None:
            return line
    return None


def _number(text: str, region: str) -> str:
    try:
        return normalise_number(text, region)
    except ValueError:
        return text
