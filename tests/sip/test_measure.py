"""The pure measurement of a SIP timeline: intervals, ring counting, outcomes."""

from datetime import UTC, datetime

import pytest

from ringtest.core.records import RingTestOutcome
from ringtest.core.standards import RingRule
from ringtest.sip.timeline import SipTimeline, measure

PLACED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CADENCE = {"ring_rule": RingRule(seconds_per_ring=3.0, answer_within_rings=7), "max_rings": 10}


def timeline(**marks: object) -> SipTimeline:
    return SipTimeline(placed_at=PLACED_AT, invite_sent=100.0, **marks)


def test_ring_time_starts_at_a_183_that_came_before_the_180():
    m = measure(
        timeline(first_183=100.5, first_183_had_sdp=True, first_180=102.0, answered=109.5),
        **CADENCE,
    )
    assert m.pdd_seconds == pytest.approx(0.5)
    assert m.ring_seconds == pytest.approx(9.0)
    assert m.tta_seconds == pytest.approx(9.5)
    assert m.rings == 3
    assert m.outcome is RingTestOutcome.ANSWERED
    assert m.within_standard


def test_ring_time_starts_at_early_media_when_it_beats_the_provisional_responses():
    m = measure(timeline(first_early_media=100.2, first_180=101.0, answered=106.2), **CADENCE)
    assert m.pdd_seconds == pytest.approx(1.0)
    assert m.ring_seconds == pytest.approx(6.0)


def test_180_only_answered_after_eight_rings_is_outside_a_seven_ring_standard():
    m = measure(timeline(first_100=100.01, first_180=101.0, answered=123.5), **CADENCE)
    assert m.ring_seconds == pytest.approx(22.5)
    assert m.rings == 8
    assert m.outcome is RingTestOutcome.ANSWERED
    assert not m.within_standard


@pytest.mark.parametrize(
    ("ring_seconds", "seconds_per_ring", "rings"),
    [
        (21.0, 3.0, 7),
        (0.3, 0.1, 3),
        (0.7, 0.1, 7),
        (6.000001, 3.0, 3),
        (6.01, 3.0, 3),
        (0.0, 3.0, 0),
    ],
)
def test_rings_round_up_but_not_on_float_noise(ring_seconds, seconds_per_ring, rings):
    first_180 = 100.0 + 0.1
    m = measure(
        timeline(first_180=first_180, answered=first_180 + ring_seconds),
        ring_rule=RingRule(seconds_per_ring=seconds_per_ring, answer_within_rings=7),
        max_rings=None,
    )
    assert m.rings == rings


def test_busy_486_has_no_ring_time():
    m = measure(timeline(first_100=100.01, ended=100.02, final_code=486), **CADENCE)
    assert m.outcome is RingTestOutcome.BUSY
    assert m.ring_seconds is None
    assert m.rings is None
    assert not m.within_standard


def test_unanswered_call_hung_up_at_max_rings_counts_max_rings():
    m = measure(
        timeline(first_180=101.0, ended=131.004, final_code=487, final_reason="Request Terminated"),
        **CADENCE,
    )
    assert m.outcome is RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS
    assert m.ring_seconds == pytest.approx(30.004)
    assert m.rings == 10
    assert m.tta_seconds is None


def test_far_end_giving_up_while_ringing_is_no_answer():
    m = measure(timeline(first_180=101.0, ended=113.0, final_code=480), **CADENCE)
    assert m.outcome is RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS
    assert m.rings == 4


@pytest.mark.parametrize(
    ("marks", "outcome"),
    [
        ({}, RingTestOutcome.UNREACHABLE),
        ({"final_code": 408}, RingTestOutcome.UNREACHABLE),
        ({"final_code": 503}, RingTestOutcome.UNREACHABLE),
        ({"final_code": 500, "transport_error": True}, RingTestOutcome.UNREACHABLE),
        ({"final_code": 600}, RingTestOutcome.BUSY),
        ({"final_code": 403}, RingTestOutcome.REJECTED),
        ({"final_code": 603}, RingTestOutcome.REJECTED),
        ({"final_code": 404}, RingTestOutcome.REJECTED),
        ({"final_code": 500}, RingTestOutcome.FAILED),
    ],
)
def test_unanswered_outcome_follows_the_final_code(marks, outcome):
    assert measure(timeline(ended=101.0, **marks), **CADENCE).outcome is outcome


def test_cadence_must_be_positive():
    with pytest.raises(ValueError, match="seconds_per_ring must be positive, got 0"):
        measure(timeline(), ring_rule=RingRule(seconds_per_ring=0), max_rings=None)


def test_answer_with_no_ringing_heard_is_zero_seconds_and_zero_rings():
    m = measure(timeline(first_100=100.01, answered=100.05), **CADENCE)
    assert m.outcome is RingTestOutcome.ANSWERED
    assert m.ring_seconds == 0.0
    assert m.rings == 0
    assert m.pdd_seconds is None
    assert m.tta_seconds == pytest.approx(0.05)
    assert m.within_standard
