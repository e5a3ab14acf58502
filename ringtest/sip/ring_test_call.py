"""One outgoing ring-test call on the endpoint thread: the pjsua2 Call behind `place_ring_test`.

`RingTestCall` stamps every INVITE transaction event with ``time.monotonic()``
inside the pjsua2 callback (the `WireLog` the calling thread reads), hangs up
after its ring limit without answer (or at its timeout), records the greeting
after an answer, and, for callback tests, plays the message when the calling
thread `decide`s so. For a line answered by a menu it presses the keys of its
`KeyPlan` (RFC 4733 events) on time after the answer, records everything heard
from the answer on, and stays on the line `after_keys_seconds` past the last key.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path

import pjsua2 as pj

from ringtest.core.errors import SipError
from ringtest.sip.endpoint import SipEndpoint, Timer
from ringtest.sip.ivr import KEY_SECONDS, KeyPlan
from ringtest.sip.prompt import PromptPlayer
from ringtest.sip.recording import GreetingRecorder
from ringtest.sip.timeline import SipTimeline
from ringtest.sip.wire_log import WireLog

logger = logging.getLogger(__name__)

DECISION_SECONDS = 10.0
"""seconds a callback test's call waits, after recording the greeting, for the verdict
on whether to leave the message; then it hangs up."""

PROMPT_TAIL_SECONDS = 1.0
"""seconds kept on the line after the message, so a voicemail system stores all of it."""

PJ_ETOOMANY = 70010
"""pjlib status: pjsua's call table is full."""

AUTH_CHALLENGES = (401, 407)
"""INVITE responses pjsua answers itself with a new INVITE carrying credentials: final
only when they end the call (credentials refused). Over TCP and TLS the challenged
transaction ends at once and is reported after the new INVITE has gone out."""

_SDP_CONTENT_TYPE = re.compile(r"^(content-type|c)\s*:\s*application/sdp", re.IGNORECASE | re.M)
_CALL_ID = re.compile(r"^(?:call-id|i)\s*:\s*(\S+)", re.IGNORECASE | re.M)

_ANSWERED_STATES = (pj.PJSIP_INV_STATE_CONNECTING, pj.PJSIP_INV_STATE_CONFIRMED)
"""Invite session states after the 200 OK, in which received audio is the answer."""


class NoFreeCallSlot(Exception):
    """pjsua's call table is full; try again shortly."""


def _sip_call_id(whole_message: str) -> str | None:
    """The Call-ID header of a SIP message, None if it has none (or is empty)."""
    match = _CALL_ID.search(whole_message)
    return match.group(1) if match else None


def _carries_sdp(whole_message: str) -> bool:
    head, _, body = whole_message.partition("\r\n\r\n")
    return bool(body.strip()) and bool(_SDP_CONTENT_TYPE.search(head))


class RingTestCall(pj.Call):
    """One outgoing ring-test call; lives on the endpoint thread only."""

    def __init__(
        self,
        endpoint: SipEndpoint,
        account: pj.Account,
        wire: WireLog,
        finished: Future[SipTimeline],
    ):
        super().__init__(account)
        self.wire = wire
        self._endpoint = endpoint
        self._finished = finished
        self._timers: list[Timer] = []
        self._ring_limit_seconds: float | None = None
        self._answered_hold_seconds = 0.0
        self._recorder: GreetingRecorder | None = None
        self._message: PromptPlayer | None = None
        self._sip_call_id: str | None = None
        self._key_plan: KeyPlan | None = None

    def dial(
        self,
        target_uri: str,
        headers: Mapping[str, str],
        *,
        ring_limit_seconds: float | None,
        timeout_seconds: float,
        answered_hold_seconds: float,
        record: tuple[Path, float] | None,
        message: Path | None = None,
        keys: tuple[KeyPlan, float] | None = None,
    ) -> None:
        """Send the INVITE. ring_limit_seconds: float, seconds of ringing before we hang up.

        record: (WAV path, seconds) of received audio to record after the answer.
        message: a WAV to leave after the recording, if the calling thread `decide`s so.
        keys: (the IVR's `KeyPlan`, float seconds to stay on the line after its last key).
        """
        self._ring_limit_seconds = ring_limit_seconds
        self._answered_hold_seconds = answered_hold_seconds
        if record is not None:
            self._recorder = GreetingRecorder(*record)
            self._answered_hold_seconds = max(answered_hold_seconds, record[1])
        if keys is not None:
            self._key_plan, after_keys_seconds = keys
            self._answered_hold_seconds = self._key_plan.last_press_seconds + after_keys_seconds
        if message is not None:
            self._message = PromptPlayer(message)
            self.wire.decide = weakref.WeakMethod(self.decide)
        prm = pj.CallOpParam(True)
        for name, value in headers.items():
            header = pj.SipHeader()
            header.hName = name
            header.hValue = value
            prm.txOption.headers.append(header)
        self.wire.dialling()
        try:
            self.makeCall(target_uri, prm)
        except pj.Error as error:
            if error.status == PJ_ETOOMANY:
                raise NoFreeCallSlot from None
            raise SipError(
                f"ring test call to {target_uri} could not be placed: {error.reason}: "
                "check the target URI and the account"
            ) from None
        self.wire.marks.setdefault("invite_sent", time.monotonic())
        self._sip_call_id = self.getInfo().callIdString
        self._endpoint.keep_call(self)
        self._later(timeout_seconds, self._give_up)

    def onCallTsxState(self, prm: pj.OnCallTsxStateParam) -> None:
        self._on_sip_event(prm.e, time.monotonic())

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        now = time.monotonic()
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_EARLY and any(
            media.status == pj.PJSUA_CALL_MEDIA_ACTIVE for media in info.media
        ):
            self._mark_ringing("first_early_media", now)
        if (
            self._recorder is not None
            and info.state in _ANSWERED_STATES
            and self._recorder.start(self, info)
        ):
            self.wire.marks["recording_started"] = now

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        now = time.monotonic()
        self._on_sip_event(prm.e, now)
        if self.getInfo().state != pj.PJSIP_INV_STATE_DISCONNECTED:
            return
        self.wire.marks.setdefault("ended", now)
        if self._recorder is not None:
            self._recorder.stop()
        if self._message is not None:
            self._message.stop()
        for timer in self._timers:
            timer.cancel()
        if not self._finished.done():
            self._finished.set_result(self.wire.timeline())
        self._endpoint.release_call(self)

    def _on_sip_event(self, event: pj.SipEvent, now: float) -> None:
        """Record a transaction event; pjsua2 reports some only via onCallTsxState and
        some (the final response that ends the call) only via onCallState."""
        if event.type != pj.PJSIP_EVENT_TSX_STATE:
            return
        tsx_event = event.body.tsxState
        tsx = tsx_event.tsx
        if tsx.method == "BYE" and tsx.role == pj.PJSIP_ROLE_UAS:
            self.wire.marks.setdefault("ended", now)
        if tsx.method != "INVITE" or tsx.role != pj.PJSIP_ROLE_UAC or not self._is_ours(tsx):
            return
        if tsx_event.type == pj.PJSIP_EVENT_TX_MSG:
            self.wire.marks.setdefault("invite_sent", now)
        elif tsx_event.type == pj.PJSIP_EVENT_TRANSPORT_ERROR:
            self.wire.transport_error = True
        if tsx.statusCode < 100 or self.wire.final_code is not None:
            return
        if (
            tsx.statusCode in AUTH_CHALLENGES
            and self.getInfo().state != pj.PJSIP_INV_STATE_DISCONNECTED
        ):
            return
        if tsx.statusCode < 200:
            self._on_provisional(tsx.statusCode, tsx_event, now)
        else:
            self._on_final(tsx.statusCode, tsx.statusText, now)

    def _is_ours(self, tsx: pj.SipTransaction) -> bool:
        """Whether `tsx` belongs to this call. pjsip keeps an INVITE transaction that
        ended in an error for Timer D (32 s over UDP) and then reports its end, with its
        old status code, to whichever call holds its pjsua slot by then; such a stale
        486 or 487 must not end this call. Before makeCall returns our Call-ID is not
        known yet, and every event is ours."""
        sent_call_id = _sip_call_id(tsx.lastTx.wholeMsg)
        return None in (self._sip_call_id, sent_call_id) or sent_call_id == self._sip_call_id

    def _on_provisional(self, status_code: int, tsx_event: pj.TsxStateEvent, now: float) -> None:
        mark = {100: "first_100", 180: "first_180", 183: "first_183"}.get(status_code)
        if mark is None or mark in self.wire.marks:
            return
        if status_code == 100:
            self.wire.marks[mark] = now
            return
        if status_code == 183:
            self.wire.first_183_had_sdp = _carries_sdp(tsx_event.src.rdata.wholeMsg)
        self._mark_ringing(mark, now)

    def _on_final(self, status_code: int, reason: str, now: float) -> None:
        self.wire.final_code = status_code
        self.wire.final_reason = reason
        if status_code // 100 == 2:
            self.wire.marks["answered"] = now
            for press in () if self._key_plan is None else self._key_plan.presses:
                self._later(press.after_seconds, functools.partial(self._press, press.keys))
            after_hold = self._hang_up if self._message is None else self._recorded
            self._later(self._answered_hold_seconds, after_hold)
        else:
            self.wire.marks.setdefault("ended", now)

    def _mark_ringing(self, mark: str, now: float) -> None:
        already_ringing = self.wire.is_ringing()
        self.wire.marks.setdefault(mark, now)
        if not already_ringing and self._ring_limit_seconds is not None:
            self._later(self._ring_limit_seconds, self._hang_up_unanswered)

    def _press(self, keys: str) -> None:
        """Send `keys` as RFC 4733 events; the last press's instant is `keys_sent`."""
        if "ended" in self.wire.marks:
            return
        dtmf = pj.CallSendDtmfParam()
        dtmf.method = pj.PJSUA_DTMF_METHOD_RFC2833
        dtmf.digits = keys
        dtmf.duration = round(KEY_SECONDS * 1000)
        try:
            self.sendDtmf(dtmf)
        except pj.Error as error:
            logger.warning("ring test could not press %s: %s", keys, error.reason)
            return
        self.wire.marks["keys_sent"] = time.monotonic()

    def _later(self, delay_seconds: float, callback: Callable[[], None]) -> None:
        self._timers.append(self._endpoint.call_later(delay_seconds, callback))

    def _recorded(self) -> None:
        """The greeting is recorded: hand over to the calling thread, which `decide`s."""
        if self._recorder is not None:
            self._recorder.stop()
        self._later(DECISION_SECONDS, self._hang_up)
        if not self.wire.recorded.done():
            self.wire.recorded.set_result(None)

    def decide(self, leave_message: bool) -> None:
        """Leave the message (then hang up when it has played), or hang up now."""
        if "ended" in self.wire.marks:
            return
        if not leave_message or not self._message.start(self, self.getInfo()):
            self._hang_up()
            return
        self.wire.marks["message_played"] = time.monotonic()
        self._later(self._message.seconds + PROMPT_TAIL_SECONDS, self._hang_up)

    def _hang_up_unanswered(self) -> None:
        if "answered" not in self.wire.marks:
            self._hang_up()

    def _give_up(self) -> None:
        logger.info("ring test call gave up after its timeout")
        self._hang_up()

    def _hang_up(self) -> None:
        if "ended" in self.wire.marks:
            return
        self.wire.marks["ended"] = time.monotonic()
        self.wire.caller_hung_up = True
        if self._recorder is not None:
            self._recorder.stop()
        if self._message is not None:
            self._message.stop()
        try:
            self.hangup(pj.CallOpParam())
        except pj.Error as error:
            logger.warning("ring test hang-up failed: %s", error.reason)
