"""What navigating a menu took: time in the IVR, rings after the last key, who answered.

Pure: a finished call's `SipTimeline` (monotonic seconds) and its recording (the
received audio from the answer on, second 0 at `SipTimeline.recording_started`)
in, an `IvrMeasurement` out.

* time in the IVR: the 200 OK to the last keys sent;
* rings after the last key: the ringing heard after it (`ringback`: the ringback
  tone, else the silence while the PBX dials), from its start to the answer,
  counted by the standards' `RingRule`; ringing that never ended rang until we
  hung up;
* time to a person: the INVITE to that answer;
* who answered at the end: the greeting classifier (`greeting`) on the audio
  from the answer on; only a person counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ringtest.core.records import AnsweredBy
from ringtest.core.standards import RingRule
from ringtest.sip.greeting import Greeting, classify_greeting
from ringtest.sip.ivr import KEY_SECONDS, KeyPlan
from ringtest.sip.ringback import RingbackHeard, hear_ringback
from ringtest.sip.timeline import SipTimeline, seconds_between


@dataclass(frozen=True, slots=True)
class IvrMeasurement:
    """One IVR navigation's figures (float seconds; None: not known).

    ivr_seconds: 200 OK to the last keys sent.
    ring_seconds_after_ivr: ringback heard after the last key until the answer (or
        until we hung up); 0.0 when none was heard.
    rings_after_ivr: `ring_seconds_after_ivr` in whole rings of the rule's cadence.
    to_person_seconds: INVITE sent to the answer after the keys, when a person answered.
    greeting: what was heard from that answer on (its `answered_by` is who answered).
    ringback: the ringback as heard, in seconds of the recording.
    """

    ivr_seconds: float | None
    ring_seconds_after_ivr: float | None
    rings_after_ivr: int | None
    to_person_seconds: float | None
    greeting: Greeting
    ringback: RingbackHeard

    def within(self, ring_rule: RingRule) -> bool:
        """A person answered within the rule's rings after the last key."""
        return (
            self.greeting.answered_by is AnsweredBy.PERSON
            and self.ring_seconds_after_ivr is not None
            and ring_rule.within(self.ring_seconds_after_ivr)
        )


def measure_ivr(
    timeline: SipTimeline,
    key_plan: KeyPlan,
    samples: np.ndarray,
    sample_rate: int,
    ring_rule: RingRule,
) -> IvrMeasurement:
    """Measure an answered call whose `key_plan` was pressed, from its recording
    (16-bit `samples` at `sample_rate` Hz)."""
    ivr_seconds = seconds_between(timeline.answered, timeline.keys_sent)
    if timeline.recording_started is None or timeline.keys_sent is None:
        unheard = RingbackHeard(None, None, 0)
        return IvrMeasurement(ivr_seconds, None, None, None, Greeting.unheard(), unheard)
    keys_at = max(0.0, timeline.keys_sent - timeline.recording_started)
    keys_seconds = len(key_plan.presses[-1].keys) * KEY_SECONDS
    ringback = hear_ringback(samples, sample_rate, after_seconds=keys_at, keys_seconds=keys_seconds)
    recording_seconds = len(samples) / sample_rate
    if ringback.started_seconds is None:
        return IvrMeasurement(ivr_seconds, None, None, None, Greeting.unheard(), ringback)
    if ringback.ended_seconds is None:
        ring_seconds, answer_at = float(recording_seconds - ringback.started_seconds), None
    else:
        ring_seconds, answer_at = ringback.ring_seconds, ringback.ended_seconds
    greeting = (
        Greeting(AnsweredBy.NONE, "ringing until we hung up")
        if answer_at is None
        else classify_greeting(samples[round(answer_at * sample_rate) :], sample_rate)
    )
    to_person_seconds = None
    if answer_at is not None and greeting.answered_by is AnsweredBy.PERSON:
        to_person_seconds = float(timeline.recording_started + answer_at - timeline.invite_sent)
    return IvrMeasurement(
        ivr_seconds=ivr_seconds,
        ring_seconds_after_ivr=ring_seconds,
        rings_after_ivr=ring_rule.rings(ring_seconds),
        to_person_seconds=to_person_seconds,
        greeting=greeting,
        ringback=ringback,
    )
