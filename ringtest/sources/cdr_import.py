"""`ringtest import-cdr`: Asterisk CDR CSV (cdr_csv's `Master.csv`, FreePBX's CDR Reports
export) loaded as historical calls.

The file layouts, and how the file tells UTC from local time, are in `cdr_rows`.
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
* when the PBX answered the caller first (a queue, an IVR, ``Answer()`` before
  ``Dial``), the rows carry the PBX's answer, not the person's: the ring time is
  a callee leg's own (a Local channel's), else unknown (None), never 0 s, and
  counted in `CdrImport.ring_unknown` (`cdr_ring_time`);
* it is to a monitored line by its first row (in call order) to one: its `dst`
  is a line's extension or number, its ``Queue`` is a line's queue, its ``Dial``
  dialled a line's extension or one of its `devices`, or its context is one of a
  line's `contexts` (an IVR's: a row keeps only the last extension reached there).
  A transfer rewrites later rows' `dst` (the first row's too when the caller moved
  on before it was written), so the first row's line wins, and its ``Dial`` data
  tells the line when its `dst` does not. Other calls are not imported.

CDR times have whole seconds (but cdr_custom's raw epoch times: exact, UTC), so ring
times are good to a second, and imported calls say so. They get the PBX label
(`ami.pbx`), the call's linkedid or uniqueid as call_id, and a `gap_note` naming the
file and lines, ``whole seconds`` and, when the CDR has no ring time, ``ring time not in the CDR``
(the marks of `ringtest.core.observations` the report counts). A call already
stored under that key (the listener saw it live) is kept as stored.

The file is read as a stream: rows are parsed as the bytes come (`on_bytes`
reports progress), grouped by call with an external sort (`cdr_grouping`), and
calls are inserted in batches, so memory is bounded whatever the file's size.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from zoneinfo import ZoneInfo

from ami_listener.lines import LineDirectory, MonitoredLine
from ami_listener.tracker import IVR_APPLICATIONS
from ringtest.config import Settings
from ringtest.config.adapters import line_directory_of, standards_of
from ringtest.core.errors import ReportError
from ringtest.core.observations import RING_TIME_NOT_IN_CDR, WHOLE_SECONDS
from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord
from ringtest.core.standards import Standards, normalise_number
from ringtest.sources.cdr_grouping import rows_by_call
from ringtest.sources.cdr_ring_time import callee_leg_ring, pbx_answered_first
from ringtest.sources.cdr_rows import BadRow, CdrRow, ClockEvidence, parse_rows
from ringtest.store import Store

logger = logging.getLogger(__name__)

NUMBERS_CACHED = 65_536
"""Distinct numbers whose E.164 form `_number` remembers (a few MB at most)."""
BAD_ROWS_KEPT = 100
"""Bad rows whose description `CdrImport.bad_rows` keeps; all are counted."""


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


class Clock:
    """Which clock a file's times were read in, and why (for the summary line)."""

    ASKED_LOCAL = "local time ({zone}), as --local-times asks"
    SAID_LOCAL = "local time ({zone}), as the file's uniqueids say (cdr.conf usegmtime = no)"
    SAID_UTC = "UTC, as the file's uniqueids say (cdr.conf usegmtime = yes)"
    EXACT_UTC = "UTC to the microsecond, as func_cdr's raw epoch times are (${CDR(start,u)})"
    ASSUMED_UTC = (
        "UTC, assumed: the file does not say; if cdr.conf has usegmtime = no (Asterisk's "
        "default) the times are local: import into a new database with --local-times"
    )


@dataclass
class CdrImport:
    """What an import did. bad_rows: ``line N: what is wrong`` for the first
    `BAD_ROWS_KEPT` rows skipped, bad_row_count: all of them; ring_unknown: calls found
    whose ring time is not in the CDR (the PBX answered first); clock: how times were read;
    read_until: the latest row's start (UTC; None when no row was read), latest_start: the
    same as the file's wall time."""

    rows_read: int = 0
    bad_rows: list[str] = field(default_factory=list)
    bad_row_count: int = 0
    calls_found: int = 0
    not_monitored: int = 0
    already_stored: int = 0
    imported: int = 0
    ring_unknown: int = 0
    clock: str = ""
    read_until: datetime | None = None
    latest_start: datetime | None = None

    def add_bad(self, bad: BadRow) -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < BAD_ROWS_KEPT:
            self.bad_rows.append(f"line {bad.line_number}: {bad.problem}")


def import_cdr(
    path: Path,
    settings: Settings,
    store: Store,
    *,
    times_are_local: bool = False,
    since: datetime | None = None,
    on_bytes: Callable[[int], None] = lambda size: None,
) -> CdrImport:
    """Read `path` and store its calls to monitored lines not stored yet.

    times_are_local: the file's times are the calendar's local time (cdr_csv's
        ``usegmtime = no``); without it the file's uniqueids decide, else UTC.
    since: a UTC instant; only calls that started at or after it are stored.
    on_bytes: called with the size of each piece of the file as it is read.
    """
    result = CdrImport()
    try:
        file = path.open("rb")
    except OSError as error:
        raise ReportError(
            f"CDR file '{path}' cannot be read ({error.strerror or error}): "
            "check the path and its permissions"
        ) from None
    with file:
        fields = _csv_rows(_decoded_lines(file, on_bytes))
        calls = calls_of_fields(
            fields, settings, result, times_are_local, path.name, calls_since=since
        )
        result.imported = store.save_new_calls(calls)
    result.already_stored = result.calls_found - result.imported
    logger.info("imported %d calls from %s", result.imported, path)
    return result


def read_calls(
    file: Iterable[bytes],
    settings: Settings,
    result: CdrImport,
    times_are_local: bool,
    source_name: str,
    on_bytes: Callable[[int], None] = lambda size: None,
    rows_since: datetime | None = None,
) -> Iterator[CallRecord]:
    """The calls to monitored lines in `file`'s CDR rows, counted in `result`.

    rows_since: a naive wall time; rows that started before it are skipped once their
        clock evidence is counted (so a call of a later gap is grouped without sorting
        the whole file's history).
    """
    fields = _csv_rows(_decoded_lines(file, on_bytes))
    return calls_of_fields(fields, settings, result, times_are_local, source_name, rows_since)


def calls_of_fields(
    fields_by_row: Iterable[list[str] | csv.Error],
    settings: Settings,
    result: CdrImport,
    times_are_local: bool,
    source_name: str,
    rows_since: datetime | None = None,
    calls_since: datetime | None = None,
) -> Iterator[CallRecord]:
    """The calls to monitored lines in CDR rows given as fields (a first row naming FreePBX's
    columns is their header), counted in `result`; `read_calls` without the file.

    calls_since: a UTC instant; calls that started before it are skipped uncounted (known
        only once the clock is: the rows are read first)."""
    zone = ZoneInfo(settings.calendar.timezone)
    evidence = ClockEvidence(zone)
    rows = _good_rows(parse_rows(fields_by_row), result, evidence)
    if rows_since is not None:
        rows = (row for row in rows if row.start >= rows_since)
    return _calls(
        rows_by_call(rows), settings, result, evidence, times_are_local, source_name, calls_since
    )


def _decoded_lines(file: Iterable[bytes], on_bytes: Callable[[int], None]) -> Iterator[str]:
    for raw in file:
        on_bytes(len(raw))
        yield raw.decode("utf-8", errors="replace")


def _good_rows(
    parsed: Iterable[CdrRow | BadRow], result: CdrImport, evidence: ClockEvidence
) -> Iterator[CdrRow]:
    for row in parsed:
        result.rows_read += 1
        if isinstance(row, BadRow):
            result.add_bad(row)
            continue
        evidence.add(row)
        if result.latest_start is None or row.start > result.latest_start:
            result.latest_start = row.start
        yield row


def _calls(
    calls_rows: Iterator[list[CdrRow]],
    settings: Settings,
    result: CdrImport,
    evidence: ClockEvidence,
    times_are_local: bool,
    source_name: str,
    calls_since: datetime | None = None,
) -> Iterator[CallRecord]:
    """The calls to monitored lines that started at or after `calls_since` (UTC; None: all);
    the clock is chosen at the first call, once every row has been read (`rows_by_call`
    reads them all first)."""
    standards = standards_of(settings)
    lines = line_directory_of(settings)
    zone = evidence.zone
    for rows in calls_rows:
        if not result.clock:
            zone, result.clock = _clock(evidence, times_are_local)
        ordered = sorted(rows, key=attrgetter("start", "line_number"))
        call = _call(
            ordered[0].call_key, ordered, zone, settings.ami.pbx, lines, standards, source_name
        )
        if calls_since is not None and _aware(ordered[0].start, zone) < calls_since:
            continue
        if call is None:
            result.not_monitored += 1
            continue
        result.calls_found += 1
        if call.ring_seconds is None and any(row.dstchannel for row in ordered):
            result.ring_unknown += 1
        yield call
    if not result.clock:
        zone, result.clock = _clock(evidence, times_are_local)
    if result.latest_start is not None:
        result.read_until = _aware(result.latest_start, zone)


def _clock(evidence: ClockEvidence, times_are_local: bool) -> tuple[ZoneInfo, str]:
    """The zone the file's wall times are in, and the summary's words for why."""
    local = evidence.zone
    if evidence.exact_rows:
        return ZoneInfo("UTC"), Clock.EXACT_UTC
    if times_are_local:
        return local, Clock.ASKED_LOCAL.format(zone=local.key)
    says_local = evidence.says_local()
    if says_local:
        return local, Clock.SAID_LOCAL.format(zone=local.key)
    if says_local is False:
        return ZoneInfo("UTC"), Clock.SAID_UTC
    return ZoneInfo("UTC"), Clock.ASSUMED_UTC


def _csv_rows(lines: Iterable[str]) -> Iterator[list[str] | csv.Error]:
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


def _aware(wall_time: datetime, zone: ZoneInfo) -> datetime:
    return wall_time.replace(tzinfo=zone).astimezone(UTC)


def _call(
    key: str,
    rows: list[CdrRow],
    zone: ZoneInfo,
    pbx: str,
    lines: LineDirectory,
    standards: Standards,
    source_name: str,
) -> CallRecord | None:
    line = _monitored_line(rows, lines, standards.default_region)
    if line is None:
        return None
    started_at = _aware(rows[0].start, zone)
    outcome, answered_by, answering = next(
        (
            (outcome, by, found)
            for outcome, by, rule in OUTCOME_RULES
            if (found := [row for row in rows if rule(row)])
        ),
        (CallOutcome.ABANDONED, AnsweredBy.NONE, []),
    )
    answer = min((row.answer for row in answering if row.answer), default=None)
    answered_at = _aware(answer, zone) if answer is not None else None
    people = answering if answered_by is AnsweredBy.PERSON else []
    person = min(people, key=attrgetter("answer", "start", "line_number"), default=None)
    ring = _ring(rows, people, person)
    if ring is PBX_ANSWERED_FIRST:
        answered_at = None if person is not None else answered_at
        ring_started_at = ring_seconds = None
    else:
        ring_started_at = _aware(ring[0], zone) if ring else None
        ring_seconds = (_aware(ring[1], zone) - ring_started_at).total_seconds() if ring else None
        answered_at = _aware(ring[1], zone) if ring and person is not None else answered_at
    rings = standards.ring_rule.rings(ring_seconds) if ring_seconds is not None else None
    numbers = sorted(row.line_number for row in rows)
    span = f"line {numbers[0]}" if len(numbers) == 1 else f"lines {numbers[0]}-{numbers[-1]}"
    unknown = f", {RING_TIME_NOT_IN_CDR}" if ring is PBX_ANSWERED_FIRST else ""
    precision = "" if all(row.exact for row in rows) else f", {WHOLE_SECONDS}"
    return CallRecord(
        call_id=key,
        pbx=pbx,
        line=line.line,
        department=line.department,
        caller=_number(rows[0].src, standards.default_region),
        dialled=rows[0].dst,
        started_at=started_at,
        ring_started_at=ring_started_at,
        answered_at=answered_at,
        answered_by=answered_by,
        ended_at=_aware(max(row.end for row in rows), zone),
        ring_seconds=ring_seconds,
        rings=rings,
        outcome=outcome,
        within_standard=answered_by is AnsweredBy.PERSON
        and ring_seconds is not None
        and standards.ring_rule.within(ring_seconds),
        is_test_call=standards.is_test_caller(rows[0].src),
        gap_note=f"imported from Asterisk CDR {source_name}, {span}{precision}{unknown}",
    )


PBX_ANSWERED_FIRST = ()
"""`_ring`'s answer when the PBX answered the caller first and no callee leg of its own
says when ringing began and ended: the ring time is not in the CDR."""


def _ring(
    rows: list[CdrRow], people: list[CdrRow], person: CdrRow | None
) -> tuple[datetime, datetime] | tuple[()] | None:
    """(ringing began, ringing ended) as wall times; `PBX_ANSWERED_FIRST`; or None when
    nothing rang (`cdr_ring_time` says which rows tell)."""
    if pbx_answered_first(rows, person):
        return callee_leg_ring(rows, people) or PBX_ANSWERED_FIRST
    if person is not None and person.answer is not None:
        return rows[0].start, person.answer
    dialled = [row for row in rows if row.dstchannel]
    if dialled:
        return rows[0].start, max(row.end for row in dialled)
    return None


def _monitored_line(
    rows: Iterable[CdrRow], lines: LineDirectory, region: str
) -> MonitoredLine | None:
    """The monitored line of the first row (in call order) to one: by a line's device its
    ``Dial`` dialled (named in config, so it wins over a `dst` a transfer rewrote), by
    its destination as written or in E.164, by the queue of a ``Queue`` row, by an
    extension its ``Dial`` dialled (``PJSIP/201,45``), or by its context being a line's;
    None when no row is to one. The first row's wins: a transfer rewrites a later row's
    destination."""
    for row in rows:
        targets = _dial_targets(row)
        line = (
            next(filter(None, map(lines.for_device, targets)), None)
            or lines.for_dialled(row.dst)
            or lines.for_dialled(_number(row.dst, region))
            or (lines.for_queue(row.lastdata.split(",", 1)[0]) if row.lastapp == "Queue" else None)
            or next(filter(None, (lines.for_dialled(_resource(t)) for t in targets)), None)
            or lines.for_context(row.dcontext)
        )
        if line is not None:
            return line
    return None


def _dial_targets(row: CdrRow) -> list[str]:
    """What a ``Dial`` row dialled (``PJSIP/201&Local/202@from-internal``), else nothing."""
    return row.lastdata.split(",", 1)[0].split("&") if row.lastapp == "Dial" else []


def _resource(target: str) -> str:
    """``201`` of ``PJSIP/201`` or ``Local/201@from-internal``."""
    return target.partition("/")[2].partition("@")[0]


@lru_cache(maxsize=NUMBERS_CACHED)
def _number(text: str, region: str) -> str:
    """`text` in E.164 when it is a valid number, else as written (cached: a file repeats
    its callers and destinations, and parsing a number is the import's dearest step)."""
    try:
        return normalise_number(text, region)
    except ValueError:
        return text
