"""Who answered, decided from the recorded greeting, and whether to leave a message.

Both run on the calling thread (numpy work never delays the endpoint thread's
timestamps). `greeting_heard` classifies a finished call's recording;
`decide_on_message` does it in the middle of a callback test's call, as soon as the
greeting is recorded, and tells the call (through its `WireLog`) whether to leave
the callback request: it does when no person answered. Both weigh the audio with
the wire (`weighed_with_the_wire`): a person picks up only a phone that rang.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import replace
from pathlib import Path

from ringtest.core.records import AnsweredBy
from ringtest.sip.endpoint import SipEndpoint
from ringtest.sip.greeting import Greeting, classify_greeting, read_wav
from ringtest.sip.recording import wait_until_written
from ringtest.sip.timeline import SipTimeline
from ringtest.sip.wire_log import WireLog


def greeting_heard(timeline: SipTimeline, evidence_path: Path | None) -> Greeting | None:
    """What the recording says about who answered; None when nobody did."""
    if timeline.answered is None:
        return None
    if evidence_path is None or not wait_until_written(evidence_path):
        return Greeting.unheard()
    samples, sample_rate = read_wav(evidence_path)
    return weighed_with_the_wire(classify_greeting(samples, sample_rate), timeline)


def weighed_with_the_wire(greeting: Greeting, timeline: SipTimeline) -> Greeting:
    """`greeting`, but an IVR when it sounds like a person on a line answered before
    any ringing (no 180, no 183, no early media): only the PBX itself answers a phone
    that never rang, so the short greeting was its prompt, waiting for a key (the
    lab's switchboard says "If this is correct, press 1" and waits 3 s)."""
    if greeting.answered_by is AnsweredBy.PERSON and timeline.ring_started is None:
        return replace(
            greeting,
            answered_by=AnsweredBy.IVR,
            reason="answered before any ringing, then a short prompt",
        )
    return greeting


def decide_on_message(
    endpoint: SipEndpoint,
    wire: WireLog,
    finished: Future[SipTimeline],
    evidence_path: Path,
    timeout_seconds: float,
) -> Greeting | None:
    """Once the greeting is recorded, classify it and tell the call whether to leave
    the message (no person answered); None when the call ended first."""
    wait((wire.recorded, finished), timeout=timeout_seconds, return_when=FIRST_COMPLETED)
    if not wire.recorded.done():
        return None
    if wait_until_written(evidence_path):
        heard = classify_greeting(*read_wav(evidence_path))
        greeting = weighed_with_the_wire(heard, endpoint.submit(wire.timeline).result())
    else:
        greeting = Greeting.unheard()
    leave = greeting.answered_by is not AnsweredBy.PERSON

    def decide() -> None:
        method = wire.decide()
        if method is not None:
            method(leave)

    endpoint.submit(decide).result()
    return greeting
