"""`ringtest import-queue-log`: Asterisk's queue_log (the file QueueMetrics and Asternic
read) loaded as the waits of queue calls, merged with calls already stored.

Layout: one event a line, ``EPOCH|CALLID|QUEUE|AGENT|EVENT|DATA1|DATA2|...`` (epoch
seconds; the call id is the caller channel's uniqueid, which is the listener's and
the CEL's call id for a call the public made, and the CDR's key without linkedid).
A queue call is the lines of one call id and queue:

* ``ENTERQUEUE`` (data2: the caller's number): waiting, which is ringing, began;
* ``CONNECT`` (data1: holdtime, seconds waited): a member answered;
* ``COMPLETECALLER`` / ``COMPLETEAGENT`` / ``TRANSFER``: the answered call ended;
* ``ABANDON`` (data3: waittime): the caller hung up waiting;
* ``EXITWITHTIMEOUT``, ``EXITEMPTY`` (data3: waittime) and ``EXITWITHKEY``
  (data4): the caller left the queue unanswered, for wherever the dialplan sends
  them next (voicemail, another line), which the queue_log does not say; such
  calls are counted, not stored (the CDR or CEL holds their outcome);
* ``RINGNOANSWER`` (a member's ring timed out) and the rest change nothing here.

Stored: each answered or abandoned call of a queue that is a monitored line,
with its wait (whole seconds) as the ring time, the caller's number and a
`gap_note` naming the file, its lines and ``whole seconds``. A call already
stored (the listener, a CEL or CDR import) is never stored twice: it is kept,
and only a ring time it lacks (a CDR that could not say, the PBX having answered
first) is taken from the queue_log's wait (`QueueLogImport.waits_added`). Import
CEL before the queue_log: CEL's ring times are exact.

The file is read as a stream: memory holds the calls still waiting or talking.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from ami_listener.lines import LineDirectory
from ringtest.config import Settings
from ringtest.config.adapters import line_directory_of, standards_of
from ringtest.core.errors import ReportError
from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord
from ringtest.core.standards import Standards, normalise_number
from ringtest.sources.cel_rows import decoded_lines
from ringtest.store import Store

logger = logging.getLogger(__name__)

BAD_ROWS_KEPT = 100
"""Bad lines whose description `QueueLogImport.bad_rows` keeps; all are counted."""
BATCH_CALLS = 5000
"""Calls looked up in the store, and saved, together."""
LONGEST_WAIT_BEFORE_QUEUE = timedelta(hours=4)
"""How long before its queue entry a stored call may have started (an IVR, a transfer)."""
ENDED = frozenset({"COMPLETECALLER", "COMPLETEAGENT", "TRANSFER"})
LEFT_UNANSWERED = frozenset({"EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"})
"""Events of a caller leaving the queue unanswered, for the dialplan's next step."""


@dataclass
class QueueCall:
    """One caller's visit to one queue, as far as the file has told."""

    call_id: str
    queue: str
    caller: str
    entered_at: datetime
    first_line: int
    wait_seconds: float | None = None
    answered_at: datetime | None = None


@dataclass
class QueueLogImport:
    """What an import did: calls_found: answered or abandoned calls of monitored queues;
    left_unanswered: callers who left a monitored queue for the dialplan (not stored);
    waits_added: stored calls whose missing ring time the queue_log gave."""

    rows_read: int = 0
    bad_rows: list[str] = field(default_factory=list)
    bad_row_count: int = 0
    calls_found: int = 0
    not_monitored: int = 0
    left_unanswered: int = 0
    in_progress: int = 0
    already_stored: int = 0
    imported: int = 0
    waits_added: int = 0

    def add_bad(self, line_number: int, problem: str) -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < BAD_ROWS_KEPT:
            self.bad_rows.append(f"line {line_number}: {problem}")


def import_queue_log(
    path: Path,
    settings: Settings,
    store: Store,
    *,
    on_bytes: Callable[[int], None] = lambda size: None,
) -> QueueLogImport:
    """Read `path` and store its queue calls not stored yet, adding waits to stored ones."""
    result = QueueLogImport()
    try:
        file = path.open("rb")
    except OSError as error:
        raise ReportError(
            f"queue_log '{path}' cannot be read ({error.strerror or error}): "
            "check the path and its permissions"
        ) from None
    with file:
        calls = read_queue_calls(file, settings, result, path.name, on_bytes)
        while batch := list(islice(calls, BATCH_CALLS)):
            _save(batch, settings.ami.pbx, store, result, path.name)
    logger.info("imported %d queue calls from %s", result.imported, path)
    return result


def read_queue_calls(
    file: Iterable[bytes],
    settings: Settings,
    result: QueueLogImport,
    source_name: str,
    on_bytes: Callable[[int], None] = lambda size: None,
) -> Iterator[CallRecord]:
    """The answered and abandoned calls of monitored queues in `file`, counted in `result`."""
    lines, standards = line_directory_of(settings), standards_of(settings)
    waiting: dict[tuple[str, str], QueueCall] = {}
    for number, text in enumerate(decoded_lines(file, on_bytes), start=1):
        fields = text.rstrip("\r\n").split("|")
        if fields == [""]:
            continue
        result.rows_read += 1
        if len(fields) < 5 or not fields[0].isdigit():
            result.add_bad(number, "not EPOCH|CALLID|QUEUE|AGENT|EVENT|DATA...: not a queue_log")
            continue
        at = datetime.fromtimestamp(int(fields[0]), UTC)
        key, event = (fields[1], fields[2]), fields[4]
        if event == "ENTERQUEUE":
            caller = fields[6] if len(fields) > 6 else ""
            waiting[key] = QueueCall(key[0], key[1], caller, at, number)
            continue
        call = waiting.get(key)
        if call is None:
            continue
        if event == "CONNECT":
            call.wait_seconds, call.answered_at = _seconds(fields, 5), at
        elif event in ENDED or event == "ABANDON":
            del waiting[key]
            if event == "ABANDON":
                call.wait_seconds = _seconds(fields, 7)
            record = _record(call, at, number, lines, standards, settings.ami.pbx, source_name)
            _count(record, result)
            if record is not None:
                yield record
        elif event in LEFT_UNANSWERED:
            del waiting[key]
            if lines.for_queue(call.queue) is not None:
                result.left_unanswered += 1
    result.in_progress = len(waiting)


def _seconds(fields: list[str], index: int) -> float | None:
    value = fields[index] if len(fields) > index else ""
    return float(value) if value.isdigit() else None


def _count(record: CallRecord | None, result: QueueLogImport) -> None:
    if record is None:
        result.not_monitored += 1
    else:
        result.calls_found += 1


def _record(
    call: QueueCall,
    ended_at: datetime,
    last_line: int,
    lines: LineDirectory,
    standards: Standards,
    pbx: str,
    source_name: str,
) -> CallRecord | None:
    """The stored form of a finished queue call; None when its queue is no monitored line."""
    line = lines.for_queue(call.queue)
    if line is None:
        return None
    answered = call.answered_at is not None
    ring_seconds = call.wait_seconds
    try:
        caller = normalise_number(call.caller, standards.default_region)
    except ValueError:
        caller = call.caller
    return CallRecord(
        call_id=call.call_id,
        pbx=pbx,
        line=line.line,
        department=line.department,
        caller=caller,
        dialled=call.queue,
        started_at=call.entered_at,
        ring_started_at=call.entered_at,
        answered_at=call.answered_at,
        answered_by=AnsweredBy.PERSON if answered else AnsweredBy.NONE,
        ended_at=ended_at,
        ring_seconds=ring_seconds,
        rings=None if ring_seconds is None else standards.ring_rule.rings(ring_seconds),
        outcome=CallOutcome.ANSWERED if answered else CallOutcome.ABANDONED,
        within_standard=answered
        and ring_seconds is not None
        and standards.ring_rule.within(ring_seconds),
        is_test_call=standards.is_test_caller(caller),
        gap_note=f"imported from Asterisk queue_log {source_name}, lines "
        f"{call.first_line}-{last_line}, whole seconds",
    )


def _save(
    batch: list[CallRecord], pbx: str, store: Store, result: QueueLogImport, source_name: str
) -> None:
    """Insert the calls of `batch` not stored yet; give stored ones a wait they lack."""
    by_id = {call.call_id: call for call in batch}
    since = min(call.started_at for call in batch) - LONGEST_WAIT_BEFORE_QUEUE
    until = max(call.started_at for call in batch) + timedelta(seconds=1)
    stored = {
        call.call_id: call
        for call in store.iter_calls(since, until)
        if call.pbx == pbx and call.call_id in by_id
    }
    result.imported += store.save_new_calls(c for c in batch if c.call_id not in stored)
    result.already_stored += len(stored)
    waits = [
        _with_wait(call, by_id[call.call_id], source_name)
        for call in stored.values()
        if call.ring_seconds is None and by_id[call.call_id].ring_seconds is not None
    ]
    if waits:
        store.save_calls(waits)
        result.waits_added += len(waits)


def _with_wait(stored: CallRecord, queued: CallRecord, source_name: str) -> CallRecord:
    """`stored` with the queue_log's wait as its ring time (nothing else of it changes)."""
    ring_seconds = queued.ring_seconds
    return dataclasses.replace(
        stored,
        ring_started_at=queued.ring_started_at,
        ring_seconds=ring_seconds,
        rings=queued.rings,
        within_standard=stored.answered_by is AnsweredBy.PERSON and queued.within_standard,
        gap_note=f"{stored.gap_note or 'seen live'}; wait from Asterisk queue_log {source_name}",
    )
