"""One pass at filling a coverage gap from the PBX's CDR file (`[history] cdr_file`).

A `CoverageGap` is an interval in which the listener did not see its PBX. The
PBX's own CDR (Asterisk cdr_csv's ``Master.csv``, read as `ringtest import-cdr`
reads it) still holds the calls of that interval, once they ended: Asterisk
writes a call's rows at its hang-up. One pass (`fill_gap`) reads the file and:

* imports the calls that STARTED inside [gap.started_at, gap.ended_at), to the
  second the CDR writes (`CDR_TIME_RESOLUTION`), and are not stored yet
  (`Store.save_new_calls`: a call the listener stored is kept as stored), each
  with a `gap_note` naming the file, its lines and the gap;
* completes each ``incomplete`` call of the listener that the gap cut, when the
  CDR holds it (same PBX and call id: the CDR's linkedid is the listener's
  call id), by `completed`: the CDR gives the outcome and end, and only what the
  listener did not measure; an answer, a ring time or a start the listener
  measured stay.

Passes are repeated by `ringtest.services.gap_fill`, which says when; each is
idempotent (an imported call is not imported again, a completed call is no
longer incomplete). Reading the file is blocking I/O: call it from a worker
thread, never from the listener's event loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ringtest.config import Settings
from ringtest.config.adapters import standards_of
from ringtest.core.observations import RING_TIME_NOT_IN_CDR, WHOLE_SECONDS, has_mark
from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord, CoverageGap
from ringtest.core.standards import RingRule
from ringtest.sources.cdr_import import CdrImport, read_calls
from ringtest.store import Store
from ringtest.store.record_tables import ANSWER_RANK

LARGEST_UTC_OFFSET = timedelta(hours=14)
"""The file's wall times are naive until the whole file is read: a row can be this far
from the instant it names (UTC+14, Kiribati)."""

LONGEST_CALL = timedelta(hours=4)
"""How long before a gap an incomplete call it cut may have started; older rows are skipped."""

CDR_TIME_RESOLUTION = timedelta(seconds=1)
"""cdr_csv writes whole seconds, truncated: a call that began 0.4 s into a gap that opened at
09:00:00.3 is written as 09:00:00, before the gap. A pass therefore takes the calls written
in the gap's first second as well; a call the listener saw there is already stored and kept."""

OUTCOME_OF_ANSWER = {
    AnsweredBy.PERSON: CallOutcome.ANSWERED,
    AnsweredBy.VOICEMAIL: CallOutcome.VOICEMAIL,
}
"""The outcome a measured answer implies, when the listener's answer says more than the CDR's."""


Completion = Callable[[CallRecord, CallRecord, RingRule, str], CallRecord]
"""(the listener's incomplete call, the same call in the history, ring rule, note) -> the
call completed (`completed`, or `ringtest.sources.cel_gap_fill.completed_from_cel`)."""


@dataclass(frozen=True)
class FillPass:
    """What one pass did: calls_found: the CDR's calls to monitored lines that started
    inside the gap; calls_imported: those newly stored; calls_upgraded: incomplete calls
    of the listener completed from the CDR."""

    calls_found: int
    calls_imported: int
    calls_upgraded: int


def fill_gap(gap: CoverageGap, settings: Settings, store: Store, cdr_file: Path) -> FillPass:
    """Read `cdr_file` and fill `gap` from it (blocking). Raises OSError when the file
    cannot be read, and whatever the store raises."""
    result = CdrImport()
    rows_since = gap.started_at.replace(tzinfo=None) - LARGEST_UTC_OFFSET - LONGEST_CALL
    with cdr_file.open("rb") as file:
        calls = [
            call
            for call in read_calls(
                file,
                settings,
                result,
                settings.history.times_are_local,
                cdr_file.name,
                rows_since=rows_since,
            )
            if call.pbx == gap.pbx and overlaps(call, gap)
        ]
    ring_rule = standards_of(settings).ring_rule
    source = f"Asterisk CDR {cdr_file.name}"
    return fill_with(gap, store, calls, source, ring_rule, time_resolution=CDR_TIME_RESOLUTION)


def fill_with(
    gap: CoverageGap,
    store: Store,
    history: list[CallRecord],
    source: str,
    ring_rule: RingRule,
    complete: Completion | None = None,
    time_resolution: timedelta = timedelta(0),
) -> FillPass:
    """Fill `gap` from `history` (the PBX's calls overlapping it, read from `source`, its
    starts written to `time_resolution`): import those that started inside it, and
    complete the incomplete calls it cut by `complete` (`completed` when None)."""
    filling = f"filling gap {gap_span(gap)}"
    inside = [
        dataclasses.replace(call, gap_note=f"{call.gap_note}, {filling}")
        for call in history
        if started_inside(call, gap, time_resolution)
    ]
    imported = store.save_new_calls(inside)
    note = f"{source}, {filling}"
    upgraded = _complete_incomplete_calls(store, history, ring_rule, note, complete or completed)
    return FillPass(calls_found=len(inside), calls_imported=imported, calls_upgraded=upgraded)


def started_inside(call: CallRecord, gap: CoverageGap, resolution: timedelta) -> bool:
    """Whether `call` may have started inside `gap`: its start is written to `resolution`
    (truncated, so the instant lies in [start, start + resolution))."""
    if call.started_at >= gap.ended_at:
        return False
    return gap.started_at <= call.started_at or call.started_at + resolution > gap.started_at


def overlaps(call: CallRecord, gap: CoverageGap) -> bool:
    """`call` was in progress at some instant of `gap` (a call with no end at its start)."""
    ended_at = call.ended_at if call.ended_at is not None else call.started_at
    return call.started_at < gap.ended_at and ended_at >= gap.started_at


def _complete_incomplete_calls(
    store: Store, history: list[CallRecord], ring_rule: RingRule, note: str, complete: Completion
) -> int:
    """Replace each stored incomplete call that `history` holds by `completed`; returns how many."""
    if not history:
        return 0
    by_id = {call.call_id: call for call in history}
    since = min(call.started_at for call in history) - LONGEST_CALL
    until = max(call.started_at for call in history) + timedelta(seconds=1)
    measured = [
        call
        for call in store.iter_calls(since, until)
        if call.outcome is CallOutcome.INCOMPLETE
        and call.pbx == history[0].pbx
        and call.call_id in by_id
    ]
    completed_calls = [complete(call, by_id[call.call_id], ring_rule, note) for call in measured]
    if completed_calls:
        store.save_calls(completed_calls)
    return len(completed_calls)


def completed(
    measured: CallRecord, history: CallRecord, ring_rule: RingRule, note: str
) -> CallRecord:
    """`measured` (an incomplete call of the listener) completed by `history` (the same
    call in the CDR; `note` names it in the gap note). Never downgrades a measurement:

    * the answer (who, when) is the listener's unless the CDR's says more (a person
      over voicemail over nobody); the outcome is the CDR's unless the listener's
      answer says more, then the one that answer implies;
    * the ring time is the listener's when it measured one, else the CDR's, with the
      CDR's marks of what it does not know (`ringtest.core.observations`);
    * the start is the earlier of the two; the end is the CDR's (it saw the hang-up);
    * line, department, caller, dialled, IVR time and test flag stay the listener's
      (a caller or dialled number it did not see is taken from the CDR).
    """
    listener_answer_says_more = ANSWER_RANK[measured.answered_by] > ANSWER_RANK[history.answered_by]
    if listener_answer_says_more:
        answered_by, answered_at = measured.answered_by, measured.answered_at
        outcome = OUTCOME_OF_ANSWER.get(answered_by, history.outcome)
    else:
        answered_by, answered_at = history.answered_by, history.answered_at
        outcome = history.outcome
    ring_source = measured if measured.ring_seconds is not None else history
    ring_seconds = ring_source.ring_seconds
    carried = (WHOLE_SECONDS, RING_TIME_NOT_IN_CDR) if ring_source is history else ()
    marks = "".join(f", {mark}" for mark in carried if has_mark(history.gap_note, mark))
    return dataclasses.replace(
        measured,
        caller=measured.caller or history.caller,
        dialled=measured.dialled or history.dialled,
        started_at=min(measured.started_at, history.started_at),
        ring_started_at=ring_source.ring_started_at,
        answered_at=answered_at,
        answered_by=answered_by,
        ended_at=history.ended_at if history.ended_at is not None else measured.ended_at,
        ring_seconds=ring_seconds,
        rings=ring_source.rings,
        outcome=outcome,
        within_standard=answered_by is AnsweredBy.PERSON
        and ring_seconds is not None
        and ring_rule.within(ring_seconds),
        gap_note=f"{measured.gap_note or 'incomplete'}; completed from {note}{marks}",
    )


def gap_span(gap: CoverageGap) -> str:
    """``2026-11-23T09:00:00+00:00–2026-11-23T09:00:08+00:00``: the gap, for log lines."""
    return f"{gap.started_at.isoformat()}–{gap.ended_at.isoformat()}"
