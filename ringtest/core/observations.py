"""The observation seam: live calls and ring tests as one typed record, what every metric counts.

Two sources measure how a line is answered: the AMI listener (a `CallRecord`
per live call) and the SIP test caller (a `RingTestResult` per mystery call).
Each becomes an `Observation` with the same fields, so every metric is defined
once for both and the two are shown side by side, never mixed:

* a live call is observed unless it came from our own ring-test caller IDs
  (`is_test_call`: the ring test itself is the observation of that call);
* a ring test is observed once placed (`RING_TEST_OUTCOMES`); a test that was
  never placed did not happen.

History imported from the PBX's own files says what it does not know in the
call's `gap_note`: `WHOLE_SECONDS` (a CDR's or queue_log's ring time, good to
`WHOLE_SECONDS_ERROR_SECONDS` either way) and `RING_TIME_NOT_IN_CDR` (the PBX
answered first and no leg says when ringing ended). An observation carries both as
flags, so the figures count such calls apart instead of guessing.

The store sums observations in SQL (`ringtest.store.observations` selects them
with these same rules, `ringtest.store.aggregates` sums them); the live view
observes records as they arrive. Instants are timezone-aware UTC; durations
are float seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ringtest.core.records import (
    AnsweredBy,
    CallOutcome,
    CallRecord,
    RingTestOutcome,
    RingTestResult,
)


class Source(StrEnum):
    """Which source measured a call: figures of the two are never added together."""

    LIVE = "live"
    RING_TEST = "ring test"


RING_TEST_OUTCOMES = {
    RingTestOutcome.ANSWERED: CallOutcome.ANSWERED,
    RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS: CallOutcome.ABANDONED,
    RingTestOutcome.BUSY: CallOutcome.BUSY,
    RingTestOutcome.REJECTED: CallOutcome.FAILED,
    RingTestOutcome.UNREACHABLE: CallOutcome.FAILED,
    RingTestOutcome.FAILED: CallOutcome.FAILED,
}
"""A placed ring test's outcome as a call outcome: the tester hanging up after the
most rings it waits is an abandoned call. `NOT_PLACED` is absent: no observation."""

RING_TEST_OUTCOMES_BY_ANSWERER = {AnsweredBy.VOICEMAIL: CallOutcome.VOICEMAIL}
"""Who picked up a ring test, where that decides its call outcome over
`RING_TEST_OUTCOMES`: a test answered by voicemail is a `voicemail` call."""


RING_TEST_PBX = ""
"""A ring test's `Observation.pbx`: the test does not know which PBX answered its number."""

WHOLE_SECONDS = "whole seconds"
"""A call's `gap_note` holds this when its ring time is whole seconds (CDR, queue_log)."""
RING_TIME_NOT_IN_CDR = "ring time not in the CDR"
"""A call's `gap_note` holds this when the CDR it came from has no ring time for it."""
WHOLE_SECONDS_ERROR_SECONDS = 1.0
"""float seconds: a ring time between two whole-second stamps is off by less than this."""


def has_mark(gap_note: str | None, mark: str) -> bool:
    """True when a call's `gap_note` carries `mark` (`WHOLE_SECONDS`, `RING_TIME_NOT_IN_CDR`)."""
    return gap_note is not None and mark in gap_note


@dataclass(frozen=True, slots=True)
class Observation:
    """One call to a monitored line as every metric counts it.

    pbx: the PBX a live call was on; "" for a ring test (placed from outside, it
        reaches a line by its public number, not through a known PBX).
    line: the line rung (a live call's line, a ring test's target).
    started_at: when the call started (live) or was placed (ring test), UTC.
    answered_by_person: a person picked up (voicemail and IVRs do not count).
    within_standard: a person picked up within the rings standard.
    rings: whole rings heard, None if unknown.
    ring_seconds: float, seconds of ringing heard, None if it never rang or unknown.
    ring_time_unknown: the call's history does not say how long it rang (not 0 s).
    whole_seconds: ring_seconds is whole seconds (`WHOLE_SECONDS_ERROR_SECONDS` either way).
    """

    source: Source
    pbx: str
    department: str
    line: str
    started_at: datetime
    outcome: CallOutcome
    answered_by_person: bool
    within_standard: bool
    rings: int | None
    ring_seconds: float | None
    ring_time_unknown: bool = False
    whole_seconds: bool = False


def observe_call(call: CallRecord) -> Observation | None:
    """A live call as an observation; None for a call from our own ring-test caller IDs."""
    if call.is_test_call:
        return None
    person = call.answered_by is AnsweredBy.PERSON
    return Observation(
        source=Source.LIVE,
        pbx=call.pbx,
        department=call.department,
        line=call.line,
        started_at=call.started_at,
        outcome=call.outcome,
        answered_by_person=person,
        within_standard=person and call.within_standard,
        rings=call.rings,
        ring_seconds=call.ring_seconds,
        ring_time_unknown=has_mark(call.gap_note, RING_TIME_NOT_IN_CDR),
        whole_seconds=has_mark(call.gap_note, WHOLE_SECONDS),
    )


def observe_ring_test(result: RingTestResult) -> Observation | None:
    """A placed ring test as an observation; None for a test that was never placed."""
    if result.outcome not in RING_TEST_OUTCOMES:
        return None
    person = result.answered_by is AnsweredBy.PERSON
    outcome = RING_TEST_OUTCOMES_BY_ANSWERER.get(
        result.answered_by, RING_TEST_OUTCOMES[result.outcome]
    )
    return Observation(
        source=Source.RING_TEST,
        pbx=RING_TEST_PBX,
        department=result.department,
        line=result.target,
        started_at=result.placed_at,
        outcome=outcome,
        answered_by_person=person,
        within_standard=person and result.within_standard,
        rings=result.rings,
        ring_seconds=result.ring_seconds,
    )
