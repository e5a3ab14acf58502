"""What one ring-test call did on the wire, and the pure measurement made from it.

A `SipTimeline` holds monotonic instants (``time.monotonic()`` seconds, taken on
the SIP endpoint thread as each message was sent or received) plus one UTC
anchor, `placed_at`. `measure()` turns a timeline into numbers and an outcome
with no clock, socket or configuration: the cadence and the rings standard come
in as the standards module's `RingRule`, the one definition of rings.

Ringing starts at the first 180 Ringing or 183 Session Progress, or at the first
early media if that came sooner. It stops at the 200 OK, or at hang-up when no
one answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ringtest.core.records import RingTestOutcome
from ringtest.core.standards import RingRule

OUTCOME_BY_SIP_CODE: dict[int, RingTestOutcome] = {
    200: RingTestOutcome.ANSWERED,
    486: RingTestOutcome.BUSY,
    600: RingTestOutcome.BUSY,
    403: RingTestOutcome.REJECTED,
    603: RingTestOutcome.REJECTED,
    408: RingTestOutcome.UNREACHABLE,
    503: RingTestOutcome.UNREACHABLE,
}
"""Final SIP status code -> outcome, for codes that say more than their class."""

OUTCOME_BY_SIP_CLASS: dict[int, RingTestOutcome] = {
    4: RingTestOutcome.REJECTED,
    5: RingTestOutcome.FAILED,
    6: RingTestOutcome.REJECTED,
}
"""First digit of a final SIP status code -> outcome, when the code is not listed above."""

GAVE_UP_WHILE_RINGING_CODES = frozenset({408, 480, 487})
"""Final codes that, after ringing began, mean nobody answered (timeout, unavailable, cancelled)."""


@dataclass(frozen=True, slots=True)
class SipTimeline:
    """The SIP messages of one outgoing call, as monotonic seconds (None: never happened).

    placed_at: UTC instant the INVITE was sent; the only wall-clock value here.
    invite_sent: INVITE handed to the transport.
    first_100 / first_180 / first_183: first 100 Trying, 180 Ringing, 183 Session Progress.
    first_183_had_sdp: whether that first 183 carried an SDP body (early media offered).
    first_early_media: the early media stream started (a provisional answer with SDP
        was applied), not audio detection.
    answered: 200 OK to the INVITE received.
    ended: the call ended: our CANCEL or BYE sent, their BYE received, or a final
        failure response received.
    final_code / final_reason: the INVITE's final response; None if none came before
        the call ended (pjsua2 ends a call we cancel without waiting for the 487).
    caller_hung_up: we ended the call (CANCEL or BYE), not the far end.
    transport_error: the transport failed to send or connect.
    message_played: our callback request began playing into the answered call.
    recording_started: the recording of received audio began (its second 0).
    keys_sent: the last keys of an IVR plan (`ivr.KeyPlan`) were sent.
    """

    placed_at: datetime
    invite_sent: float
    first_100: float | None = None
    first_180: float | None = None
    first_183: float | None = None
    first_183_had_sdp: bool = False
    first_early_media: float | None = None
    answered: float | None = None
    ended: float | None = None
    final_code: int | None = None
    final_reason: str = ""
    caller_hung_up: bool = False
    transport_error: bool = False
    message_played: float | None = None
    recording_started: float | None = None
    keys_sent: float | None = None

    @property
    def ring_started(self) -> float | None:
        """Monotonic seconds when the caller began to hear ringing, None if never."""
        starts = [
            t for t in (self.first_180, self.first_183, self.first_early_media) if t is not None
        ]
        return min(starts) if starts else None


@dataclass(frozen=True, slots=True)
class RingMeasurement:
    """The numbers made from one timeline (all seconds are float; None: not applicable).

    pdd_seconds: post-dial delay, INVITE sent to first 180/183.
    ring_seconds: ringing start (see `SipTimeline.ring_started`) to 200 OK, or to the
        end of the call when unanswered; 0.0 for a call answered with no ringing heard
        (no 180/183 or early media first, e.g. an IVR that answers at once).
    tta_seconds: time to answer, INVITE sent to 200 OK.
    rings: whole rings heard (`RingRule.rings`); a call we hung up after max_rings
        counts max_rings (hang-up lands a few ms past the boundary).
    within_standard: answered within the rule's `answer_within_rings` rings.
    """

    pdd_seconds: float | None
    ring_seconds: float | None
    tta_seconds: float | None
    rings: int | None
    outcome: RingTestOutcome
    within_standard: bool


def measure(
    timeline: SipTimeline,
    *,
    ring_rule: RingRule,
    max_rings: int | None,
) -> RingMeasurement:
    """Measure one call. ring_rule: the ring cadence and the rings standard.

    max_rings: the caller hangs up after this many rings (None: no limit); an
    unanswered call that reached it is a no-answer.
    """
    ring_started = timeline.ring_started
    provisional = [t for t in (timeline.first_180, timeline.first_183) if t is not None]
    pdd_seconds = min(provisional) - timeline.invite_sent if provisional else None
    tta_seconds = seconds_between(timeline.invite_sent, timeline.answered)
    ring_end = timeline.answered if timeline.answered is not None else timeline.ended
    answered_unheard = timeline.answered is not None and ring_started is None
    ring_seconds = 0.0 if answered_unheard else seconds_between(ring_started, ring_end)
    rings = None if ring_seconds is None else ring_rule.rings(ring_seconds)
    outcome = _outcome(timeline, rings, max_rings)
    if outcome is RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS and max_rings is not None:
        rings = min(rings, max_rings)
    within_standard = (
        outcome is RingTestOutcome.ANSWERED
        and ring_seconds is not None
        and ring_rule.within(ring_seconds)
    )
    return RingMeasurement(
        pdd_seconds=pdd_seconds,
        ring_seconds=ring_seconds,
        tta_seconds=tta_seconds,
        rings=rings,
        outcome=outcome,
        within_standard=within_standard,
    )


def seconds_between(start: float | None, end: float | None) -> float | None:
    """float seconds from monotonic instant `start` to `end` (never negative); None
    when either did not happen."""
    if start is None or end is None:
        return None
    return max(0.0, end - start)


def _outcome(timeline: SipTimeline, rings: int | None, max_rings: int | None) -> RingTestOutcome:
    if timeline.answered is not None:
        return RingTestOutcome.ANSWERED
    if rings is not None and (
        (max_rings is not None and rings >= max_rings)
        or timeline.final_code in GAVE_UP_WHILE_RINGING_CODES
    ):
        return RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS
    code = timeline.final_code
    if timeline.transport_error or code is None:
        return RingTestOutcome.UNREACHABLE
    if code in OUTCOME_BY_SIP_CODE:
        return OUTCOME_BY_SIP_CODE[code]
    return OUTCOME_BY_SIP_CLASS.get(code // 100, RingTestOutcome.FAILED)
