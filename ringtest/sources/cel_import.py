"""`ringtest import-cel`: Asterisk CEL (cel_custom's ``Master.csv``) loaded as historical
calls, measured by the live listener's own tracker.

Each row (`cel_rows`) becomes the AMI events it stands for (`cel_events`), which
`ami_listener.tracker.CallTracker` turns into calls exactly as it does live: the
call id is the Linkedid (the listener's own), ringing starts at a callee's start
or the caller's queue entry, a person answers when a callee channel answers,
and the PBX answering the caller is voicemail, an IVR or nobody. CEL times are
microseconds of the PBX's clock in UTC, so ring times agree with the listener's
to the milliseconds a phone takes to start ringing; the CDR gives whole seconds,
and no ring time at all for a call the PBX answered first (a queue, an IVR).

What is stored: each call to a monitored line that ended in the file and is not
stored yet (`Store.save_new_calls`: a call the listener stored is kept as stored,
and a second import adds nothing), with a `gap_note` naming the file and lines.
Calls still in progress when the file ends (cel_custom writes as calls happen)
are counted, not stored: a later import takes them once they have ended. Rows of
a call that began before the file did are counted as tracker anomalies.

The file is read as a stream, in file order (cel_custom appends each event as it
happens): memory holds the calls in progress, whatever the file's size.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ami_listener.tracker import CallTracker
from ringtest.config import Settings
from ringtest.config.adapters import line_directory_of, standards_of
from ringtest.core.errors import ReportError
from ringtest.core.records import CallRecord, DialledCall
from ringtest.sources.cel_events import CelTranslator
from ringtest.sources.cel_rows import BadCelRow, CelRow, decoded_lines, parse_cel_rows
from ringtest.store import Store

logger = logging.getLogger(__name__)

BAD_ROWS_KEPT = 100
"""Bad rows whose description `CelImport.bad_rows` keeps; all are counted."""
LONGEST_CALL = timedelta(hours=4)
"""A call in progress longer than this at the end of an import is not waited for by
`CelImport.read_until` (its end was likely never logged)."""


@dataclass
class CelImport:
    """What an import did. bad_rows: ``line N: what is wrong`` for the first
    `BAD_ROWS_KEPT` rows skipped, bad_row_count: all of them; calls_found: calls to
    monitored lines that ended in the file; in_progress: calls still open at its end;
    anomalies: events the tracker could not place (calls begun before the file);
    app_starts: APP_START rows (none means cel.conf tracks no applications); read_until:
    the instant a later import must read from to see whole every call not stored yet
    (UTC; None when no row was read); clock: how a table's times were read (a file's
    are UTC epoch seconds)."""

    rows_read: int = 0
    bad_rows: list[str] = field(default_factory=list)
    bad_row_count: int = 0
    calls_found: int = 0
    not_monitored: int = 0
    in_progress: int = 0
    already_stored: int = 0
    imported: int = 0
    anomalies: int = 0
    app_starts: int = 0
    read_until: datetime | None = None
    clock: str = ""

    def add_bad(self, bad: BadCelRow) -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < BAD_ROWS_KEPT:
            self.bad_rows.append(f"line {bad.line_number}: {bad.problem}")


def import_cel(
    path: Path,
    settings: Settings,
    store: Store,
    *,
    since: datetime | None = None,
    on_bytes: Callable[[int], None] = lambda size: None,
) -> CelImport:
    """Read `path` and store its calls to monitored lines not stored yet.

    since: a UTC instant; rows before it are skipped (`--since`).
    on_bytes: called with the size of each piece of the file as it is read."""
    result = CelImport()
    try:
        file = path.open("rb")
    except OSError as error:
        raise ReportError(
            f"CEL file '{path}' cannot be read ({error.strerror or error}): "
            "check the path and its permissions"
        ) from None
    with file:
        result.imported = store.save_new_calls(
            read_cel_calls(file, settings, result, path.name, on_bytes, since)
        )
    result.already_stored = result.calls_found - result.imported
    logger.info("imported %d calls from %s", result.imported, path)
    return result


def read_cel_calls(
    file: Iterable[bytes],
    settings: Settings,
    result: CelImport,
    source_name: str,
    on_bytes: Callable[[int], None] = lambda size: None,
    since: datetime | None = None,
) -> Iterator[CallRecord]:
    """The calls to monitored lines that end in `file`'s CEL rows, counted in `result`,
    each marked as imported from `source_name`.

    since: a UTC instant; rows before it are skipped (their calls are not seen)."""
    rows = parse_cel_rows(decoded_lines(file, on_bytes), since)
    return calls_of_cel_rows(rows, settings, result, source_name)


def calls_of_cel_rows(
    parsed: Iterable[CelRow | BadCelRow],
    settings: Settings,
    result: CelImport,
    source_name: str,
    note: str = "",
) -> Iterator[CallRecord]:
    """The calls to monitored lines that end in the CEL rows `parsed` (in the order the PBX
    logged them), counted in `result`, marked as imported from `source_name` (and `note`,
    e.g. ``, whole seconds``); sets `result.read_until`."""
    tracker = CallTracker(settings.ami.pbx, line_directory_of(settings), standards_of(settings))
    translator = CelTranslator()
    first_line: dict[str, int] = {}
    last_at: datetime | None = None
    for row in _good_rows(parsed, result):
        last_at = row.at
        if row.eventtype == "CHAN_START" and row.uniqueid == row.linkedid:
            first_line.setdefault(row.linkedid, row.line_number)
        elif row.eventtype == "APP_START":
            result.app_starts += 1
        for event in translator.events(row):
            for output in tracker.feed(event, row.at):
                if isinstance(output, CallRecord | DialledCall):
                    first = first_line.pop(output.call_id, row.line_number)
                    call = _counted(output, result, source_name, first, row.line_number, note)
                    if call is not None:
                        yield call
    result.in_progress = tracker.open_call_count
    result.anomalies = sum(tracker.anomalies.values())
    result.read_until = _read_until(tracker, last_at)


def _read_until(tracker: CallTracker, last_at: datetime | None) -> datetime | None:
    """Where a later import must start to see whole every call not stored yet: the start of
    the oldest call still in progress (no earlier than `LONGEST_CALL` before the last row,
    so a call whose end was never logged does not hold it back forever), else the last
    row's instant; None when no row was read."""
    if last_at is None:
        return None
    open_calls = tracker.open_calls()
    if not open_calls:
        return last_at
    return max(open_calls[0].started_at, last_at - LONGEST_CALL)


def _good_rows(parsed: Iterable[CelRow | BadCelRow], result: CelImport) -> Iterator[CelRow]:
    for row in parsed:
        result.rows_read += 1
        if isinstance(row, BadCelRow):
            result.add_bad(row)
            continue
        yield row


def _counted(
    output: CallRecord | DialledCall,
    result: CelImport,
    source_name: str,
    first: int,
    last: int,
    marks: str,
) -> CallRecord | None:
    """A finished call of the tracker, counted: a call to a monitored line marked as
    imported (lines `first` to `last` of the file), else None."""
    if isinstance(output, DialledCall):
        result.not_monitored += 1
        return None
    result.calls_found += 1
    span = f"line {first}" if first == last else f"lines {first}-{last}"
    note = f"imported from Asterisk CEL {source_name}, {span}{marks}"
    if output.gap_note:
        note = f"{note}; {output.gap_note}"
    return dataclasses.replace(output, gap_note=note)
