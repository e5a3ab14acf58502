"""The lab's desk phone (staff9, Environmental Health): answer, consult, transfer (attended).

A pjsua2 process that `ringtest lab up` starts next to the sipp staff agents:
``python -m ringtest.lab.desk_phone`` registers as `DESK_PHONE` and, for each call:

1. 180 Ringing at once, 200 OK after the caller's ``X-Lab-Answer`` milliseconds
   (default `DEFAULT_ANSWER_MS`; ``busy`` sends 486, ``never`` rings until
   cancelled), then says "Hello?";
2. `CONSULT_AFTER_MS` later it calls `CONSULTED_COLLEAGUE` (the consultation,
   dialled in context council-staff), with the caller on hold in effect;
3. `CONSULT_MS` after the colleague answers it sends REFER with Replaces
   (RFC 3891) on the caller's dialog: Asterisk joins the caller to the colleague
   and hangs up both of the desk phone's legs.

Everything runs on the SIP endpoint's thread (`ringtest.sip.endpoint`).
"""

from __future__ import annotations

import logging
import re
import threading
from importlib.resources import as_file, files
from pathlib import Path

import pjsua2 as pj

from ringtest.lab.accounts import (
    ANSWER_HEADER,
    CONSULT_AFTER_MS,
    CONSULT_MS,
    CONSULTED_COLLEAGUE,
    DEFAULT_ANSWER_MS,
    DESK_PHONE,
    LAB_HOST,
    SIP_PORT,
)
from ringtest.services.host import stop_on_signals, wait_for
from ringtest.sip.accounts import PjsuaAccount, SipAccount
from ringtest.sip.endpoint import SipEndpoint, Timer, endpoint_with
from ringtest.sip.inbound import AnsweringCall
from ringtest.sip.prompt import PromptPlayer

logger = logging.getLogger(__name__)

GREETING_WAV = "hello.wav"
"""What the desk phone says on answering, like the sipp agents: "Hello?"."""

ANSWER_REFUSALS = {"busy": 486}
"""X-Lab-Answer values the phone answers with a final error status instead of 200."""

MAX_CALL_SECONDS = 120.0
"""Seconds after which a call the desk phone still holds is hung up whatever it is doing."""


class DeskCall(AnsweringCall):
    """One call to the desk phone, from ringing to the transfer (endpoint thread only)."""

    def __init__(
        self, endpoint: SipEndpoint, account: pj.Account, call_id: int, greeting: Path
    ) -> None:
        super().__init__(
            endpoint, account, call_id, PromptPlayer(greeting), hang_up_after_prompt=False
        )
        self._account = account
        self._consultation: ConsultationCall | None = None

    def ring(self, answer: str) -> None:
        """Ring, then answer as `answer` (the X-Lab-Answer value: ms, busy or never) says."""
        if answer in ANSWER_REFUSALS:
            self.refuse(ANSWER_REFUSALS[answer])
            return
        answer_ms = int(answer) if answer.isdigit() else DEFAULT_ANSWER_MS
        self.ring_then_answer(None if answer == "never" else answer_ms / 1000, MAX_CALL_SECONDS)

    def on_answered(self) -> None:
        self._later(CONSULT_AFTER_MS / 1000, self._consult)

    def on_ended(self) -> None:
        if self._consultation is not None:
            self._consultation.hang_up()

    def transfer_to(self, consultation: ConsultationCall) -> None:
        """The colleague has answered: REFER the caller to them, replacing that call."""
        if self._ended:
            return
        logger.info("transferring the caller to %s (attended)", CONSULTED_COLLEAGUE)
        try:
            self.xferReplaces(consultation, pj.CallOpParam(True))
        except pj.Error as error:
            logger.warning("attended transfer failed: %s", error.reason)
            self.hang_up()

    def _consult(self) -> None:
        if self._ended:
            return
        self._consultation = ConsultationCall(self._endpoint, self._account, self)
        self._consultation.dial(f"sip:{CONSULTED_COLLEAGUE}@{LAB_HOST}:{SIP_PORT}")


class ConsultationCall(pj.Call):
    """The desk phone's call to its colleague; it becomes the transfer's target."""

    def __init__(self, endpoint: SipEndpoint, account: pj.Account, caller: DeskCall) -> None:
        super().__init__(account)
        self._endpoint = endpoint
        self._caller = caller
        self._timer: Timer | None = None
        self._ended = False

    def dial(self, uri: str) -> None:
        self._endpoint.keep_call(self)
        try:
            self.makeCall(uri, pj.CallOpParam(True))
        except pj.Error as error:
            logger.warning("consultation call to %s failed: %s", uri, error.reason)
            self._ended = True
            self._endpoint.release_call(self, holds_slot=False)

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        state = self.getInfo().state
        if state == pj.PJSIP_INV_STATE_CONFIRMED and self._timer is None:
            self._timer = self._endpoint.call_later(
                CONSULT_MS / 1000, lambda: self._caller.transfer_to(self)
            )
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._ended = True
            if self._timer is not None:
                self._timer.cancel()
            self._endpoint.release_call(self, holds_slot=False)

    def hang_up(self) -> None:
        if self._ended:
            return
        try:
            self.hangup(pj.CallOpParam())
        except pj.Error as error:
            logger.warning("consultation hang-up failed: %s", error.reason)


_ANSWER = re.compile(rf"^{ANSWER_HEADER}:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def answer_of(invite: str) -> str:
    """The INVITE's X-Lab-Answer value (``"1500"``, ``"busy"``, ``"never"``), "" if none."""
    match = _ANSWER.search(invite)
    return match.group(1).lower() if match else ""


def run_desk_phone(stop: threading.Event) -> None:
    """Register the desk phone and answer its calls until `stop` is set."""
    account = SipAccount(
        name=DESK_PHONE.username,
        user=DESK_PHONE.username,
        password=DESK_PHONE.secret,
        domain=LAB_HOST,
        registrar=f"sip:{LAB_HOST}:{SIP_PORT}",
    )
    greeting_file = as_file(files("ringtest.lab").joinpath("audio", GREETING_WAV))
    with greeting_file as greeting, endpoint_with([account]) as endpoint:

        def take(pjsua_account: PjsuaAccount, prm: pj.OnIncomingCallParam) -> None:
            call = DeskCall(endpoint, pjsua_account, prm.callId, greeting)
            call.ring(answer_of(prm.rdata.wholeMsg))

        def install() -> None:
            endpoint.account(account.name).on_incoming = take

        endpoint.submit(install).result()
        logger.info("desk phone %s registered and answering", account.user)
        wait_for(stop)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with stop_on_signals() as stop:
        run_desk_phone(stop)


if __name__ == "__main__":
    main()
