"""Place one mystery ring test and measure it.

`place_ring_test` can be called from any Python thread, several at once: each
call takes one of the endpoint's call slots (four per process, see
`endpoint.CALLS_PER_PROCESS`), builds its pjsua2 Call on the endpoint thread and
waits on its own future.
On the endpoint thread, `RingTestCall` (`ring_test_call`) stamps every INVITE transaction event
with ``time.monotonic()`` inside the pjsua2 callback, hangs up after `max_rings`
rings without answer (or at `timeout_seconds`), and hangs up `answered_hold_seconds`
after an answer. When the call is over its `SipTimeline` goes to `measure()`.

Who answered: with an `evidence_path`, the audio received after the 200 OK is
recorded to that WAV (`recording`) and classified (`greeting`) as a person,
voicemail or an IVR, else `unsure`; only a person answering within the standard
counts as `within_standard`. Unanswered tests say `AnsweredBy.NONE`.

Callback tests (`message_path`): once the greeting is recorded the call stays up
while the calling thread classifies it; when no person answered, the message (a
WAV) is played into the call before hanging up, and `PlacedRingTest.message_left_at`
says when.

Lines answered by a menu (`key_plan`): the keys are pressed on time after the
answer, the call stays up for `max_rings` rings after the last key plus
`record_seconds`, and the recording decides the rings after the key and who
answered at the end (`ivr_measure`); `within_standard` is then about those. No
callback request is left on a menu line (its message would follow the menu's
prompt, not the person's greeting): such a test is placed as a plain one.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from ringtest.core.errors import SipError
from ringtest.core.records import AnsweredBy, RingTestResult
from ringtest.core.standards import RingRule
from ringtest.sip.accounts import with_transport
from ringtest.sip.endpoint import SipEndpoint
from ringtest.sip.greeting import Greeting, read_wav
from ringtest.sip.ivr import KeyPlan
from ringtest.sip.ivr_measure import IvrMeasurement, measure_ivr
from ringtest.sip.recording import GREETING_RECORD_SECONDS, wait_until_written
from ringtest.sip.ring_test_call import NoFreeCallSlot, RingTestCall
from ringtest.sip.timeline import SipTimeline, measure
from ringtest.sip.verdict import decide_on_message, greeting_heard
from ringtest.sip.wire_log import WireLog

logger = logging.getLogger(__name__)

HANGUP_GRACE_SECONDS = 2.0
"""seconds: how long past timeout_seconds we wait for the far end to confirm the hang-up."""

CALL_SLOT_POLL_SECONDS = 0.05
"""seconds between attempts to dial while pjsua's call table is full."""

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!%*_+`'~.-]+$")


class PlacedRingTest(NamedTuple):
    """A finished ring test: the record every sink reads, and the wire timeline behind it."""

    result: RingTestResult
    timeline: SipTimeline
    greeting: Greeting | None = None

    @property
    def message_left_at(self) -> datetime | None:
        """When (UTC) our callback request began playing into the call; None if never."""
        played = self.timeline.message_played
        if played is None:
            return None
        return self.timeline.placed_at + timedelta(seconds=played - self.timeline.invite_sent)


def place_ring_test(
    endpoint: SipEndpoint,
    account_name: str,
    target_uri: str,
    *,
    max_rings: int | None,
    ring_rule: RingRule,
    extra_headers: Mapping[str, str] | None = None,
    timeout_seconds: float = 120.0,
    answered_hold_seconds: float = 0.5,
    department: str = "",
    campaign: str | None = None,
    test_id: str | None = None,
    evidence_path: Path | None = None,
    record_seconds: float = GREETING_RECORD_SECONDS,
    message_path: Path | None = None,
    key_plan: KeyPlan | None = None,
) -> PlacedRingTest:
    """Call `target_uri` from `account_name`, measure the rings, hang up, return the result.

    max_rings: hang up after this many unanswered rings (None: wait for timeout_seconds).
    ring_rule: the ring cadence and the rings standard the call is measured against.
    extra_headers: added to the INVITE (e.g. ``{"X-Lab-Answer": "2000"}``).
    timeout_seconds: float, seconds after which an unfinished call is abandoned.
    answered_hold_seconds: float, seconds to stay on the line after the 200 OK.
    evidence_path: where to record what the far end says after the 200 OK (a WAV),
        which then decides `answered_by`; None: no recording, an answer is `unsure`.
    record_seconds: float, seconds of audio recorded (the line is held that long).
    message_path: a callback request (WAV) to leave when the recording shows no
        person answered; needs `evidence_path`.
    key_plan: the keys that get through the line's menu (`ivr.parse_ivr`); needs
        `evidence_path`. The line is held `max_rings` rings (by `ring_rule`, else
        `answer_within_rings`) plus `record_seconds` after the last key.
    """
    headers = _checked_headers(extra_headers or {})
    ring_limit_seconds = None if max_rings is None else max_rings * ring_rule.seconds_per_ring
    finished: Future[SipTimeline] = Future()
    keys = None
    if key_plan is not None:
        rings_after_keys = max_rings or ring_rule.answer_within_rings
        keys = (key_plan, rings_after_keys * ring_rule.seconds_per_ring + record_seconds)

    def start() -> WireLog:
        if not endpoint.is_sip_uri(target_uri):
            raise SipError(
                f"ring test target '{target_uri}' is not a SIP URI: "
                "write it like sip:2001@127.0.0.1:5060"
            )
        account = endpoint.account(account_name)
        call = RingTestCall(endpoint, account, WireLog(), finished)
        identity = account.settings.preferred_identity
        call.dial(
            with_transport(target_uri, account.settings.transport),
            headers if identity is None else {"P-Preferred-Identity": identity, **headers},
            ring_limit_seconds=ring_limit_seconds,
            timeout_seconds=timeout_seconds,
            answered_hold_seconds=answered_hold_seconds,
            record=None if evidence_path is None else (evidence_path, record_seconds),
            message=None if evidence_path is None or key_plan is not None else message_path,
            keys=None if evidence_path is None else keys,
        )
        return call.wire  # never the Call itself: the endpoint must own its last reference

    endpoint.call_slots.acquire()
    try:
        wire = _dial_when_pjsua_has_a_slot(endpoint, start, target_uri, timeout_seconds)
    except BaseException:
        endpoint.call_slots.release()
        raise
    greeting: Greeting | None = None
    if message_path is not None and evidence_path is not None and key_plan is None:
        greeting = decide_on_message(endpoint, wire, finished, evidence_path, timeout_seconds)
    try:
        timeline = finished.result(timeout=timeout_seconds + HANGUP_GRACE_SECONDS)
    except FutureTimeout:
        logger.warning(
            "ring test to %s did not end %g s after hang-up", target_uri, HANGUP_GRACE_SECONDS
        )
        timeline = endpoint.submit(wire.timeline).result()
    measurement = measure(timeline, ring_rule=ring_rule, max_rings=max_rings)
    ivr = None if key_plan is None else _ivr_heard(timeline, key_plan, evidence_path, ring_rule)
    if ivr is not None:
        greeting = ivr.greeting
    if greeting is None:
        greeting = greeting_heard(timeline, evidence_path)
    answered_by = AnsweredBy.NONE if greeting is None else greeting.answered_by
    within_standard = (
        measurement.within_standard
        if key_plan is None
        else ivr is not None and ivr.within(ring_rule)
    )
    result = RingTestResult(
        test_id=test_id or uuid.uuid4().hex,
        target=target_uri,
        account=account_name,
        department=department,
        placed_at=timeline.placed_at,
        outcome=measurement.outcome,
        answered_by=answered_by,
        pdd_seconds=measurement.pdd_seconds,
        ring_seconds=measurement.ring_seconds,
        tta_seconds=measurement.tta_seconds,
        rings=measurement.rings,
        within_standard=within_standard and answered_by is AnsweredBy.PERSON,
        sip_code=timeline.final_code,
        reason=_reason(timeline),
        campaign=campaign,
        evidence_path=None if greeting is None or evidence_path is None else str(evidence_path),
        ivr_keys=None if key_plan is None else key_plan.text,
        ivr_seconds=None if ivr is None else ivr.ivr_seconds,
        ring_seconds_after_ivr=None if ivr is None else ivr.ring_seconds_after_ivr,
        rings_after_ivr=None if ivr is None else ivr.rings_after_ivr,
        to_person_seconds=None if ivr is None else ivr.to_person_seconds,
    )
    return PlacedRingTest(result, timeline, greeting)


def _ivr_heard(
    timeline: SipTimeline, key_plan: KeyPlan, evidence_path: Path | None, ring_rule: RingRule
) -> IvrMeasurement | None:
    """The menu's figures from the recording; None when the call was not answered or
    nothing was recorded."""
    if timeline.answered is None or evidence_path is None:
        return None
    if not wait_until_written(evidence_path):
        return None
    samples, sample_rate = read_wav(evidence_path)
    return measure_ivr(timeline, key_plan, samples, sample_rate, ring_rule)


def _dial_when_pjsua_has_a_slot(
    endpoint: SipEndpoint,
    start: Callable[[], WireLog],
    target_uri: str,
    timeout_seconds: float,
) -> WireLog:
    """Run `start` on the endpoint, retrying while pjsua has no free call slot.

    pjsua reports a call we hung up before any response as disconnected at once but
    keeps its slot until the INVITE transaction times out (about 32 s), with no
    callback when that happens; so a full table is polled, not waited on.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            return endpoint.submit(start).result()
        except NoFreeCallSlot:
            if time.monotonic() >= deadline:
                raise SipError(
                    f"ring test call to {target_uri} found no free SIP call slot within "
                    f"{timeout_seconds:g} s: calls that got no response hold their slot "
                    "until the INVITE times out; retry later"
                ) from None
            time.sleep(CALL_SLOT_POLL_SECONDS)


def _checked_headers(extra_headers: Mapping[str, str]) -> dict[str, str]:
    for name, value in extra_headers.items():
        if not _HEADER_NAME.match(name):
            raise SipError(
                f"extra SIP header name '{name}' is not valid: use letters, digits and '-'"
            )
        if "\r" in value or "\n" in value:
            raise SipError(f"extra SIP header '{name}' has a line break in its value: remove it")
    return dict(extra_headers)


def _reason(timeline: SipTimeline) -> str:
    if timeline.final_reason:
        return timeline.final_reason
    if timeline.transport_error:
        return "transport error"
    if timeline.caller_hung_up and timeline.ring_started is not None:
        return "caller hung up while ringing"
    return "no final response to INVITE"
