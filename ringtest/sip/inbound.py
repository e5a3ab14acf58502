"""Answer inbound calls on a registered account: ring briefly, answer, play a prompt, hang up.

Theory of operation: `answer_inbound` sets the pjsua2 account's `on_incoming` (on the
endpoint thread). Every INVITE to the account then becomes an `AnsweringCall` the
endpoint owns: 180 Ringing at once, 200 OK after `ring_seconds`, the prompt played
once the call's audio is active, BYE when the prompt has played (or at
`max_call_seconds`). The moment the INVITE arrives its parties are read from the
message (`invite.invite_parties`), stamped with the UTC time, and put on the queue
`answer_inbound` returns as an `InboundCall`: the attempt counts as a callback
whether or not the call then connects. Matching and storing happen off the endpoint
thread, in whoever reads the queue (`ringtest.services.callback_answering`).
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pjsua2 as pj

from ringtest.sip.accounts import PjsuaAccount
from ringtest.sip.endpoint import SipEndpoint, Timer
from ringtest.sip.invite import invite_parties
from ringtest.sip.prompt import PromptPlayer

logger = logging.getLogger(__name__)

RING_SECONDS = 1.0
"""seconds an inbound call rings before we answer: a short ring, as a person would."""

MAX_CALL_SECONDS = 30.0
"""seconds after which an answered inbound call is hung up whatever it is doing."""

PROMPT_TAIL_SECONDS = 0.5
"""seconds of line kept after the prompt ends, so its last word is not cut off."""


@dataclass(frozen=True, slots=True)
class InboundCall:
    """One call that came in to a test account.

    account: our account's name. dialled / caller / caller_name: see `InviteParties`.
    arrived_at: UTC time the INVITE arrived. sip_call_id: its Call-ID, for the logs.
    """

    account: str
    dialled: str
    caller: str
    caller_name: str
    arrived_at: datetime
    sip_call_id: str


def answer_inbound(
    endpoint: SipEndpoint,
    account_name: str,
    prompt_path: Path,
    *,
    default_region: str,
    ring_seconds: float = RING_SECONDS,
    max_call_seconds: float = MAX_CALL_SECONDS,
    arrivals: queue.SimpleQueue[InboundCall] | None = None,
) -> queue.SimpleQueue[InboundCall]:
    """Make `account_name` answer its inbound calls with the WAV at `prompt_path`.

    default_region: how numbers without a country code are read (``GB``).
    ring_seconds / max_call_seconds: float seconds, see `RING_SECONDS`, `MAX_CALL_SECONDS`.
    arrivals: the queue every inbound call is put on as it arrives (None: a new one);
    returned.
    """
    if arrivals is None:
        arrivals = queue.SimpleQueue()
    player_seconds = PromptPlayer(prompt_path).seconds  # a bad WAV fails here, not mid-call

    def take(account: PjsuaAccount, prm: pj.OnIncomingCallParam) -> None:
        arrived_at = datetime.now(UTC)
        parties = invite_parties(prm.rdata.wholeMsg, default_region)
        call = AnsweringCall(endpoint, account, prm.callId, PromptPlayer(prompt_path))
        arrivals.put(
            InboundCall(
                account=account.settings.name,
                dialled=parties.dialled,
                caller=parties.caller,
                caller_name=parties.caller_name,
                arrived_at=arrived_at,
                sip_call_id=call.getInfo().callIdString,
            )
        )
        logger.info("inbound call to %r", account.settings.name)
        logger.debug("inbound call to %s from %s", parties.dialled, parties.caller)
        call.ring_then_answer(ring_seconds, max(max_call_seconds, ring_seconds + player_seconds))

    def install() -> None:
        endpoint.account(account_name).on_incoming = take

    endpoint.submit(install).result()
    return arrivals


def stop_answering(endpoint: SipEndpoint, account_name: str) -> None:
    """Make `account_name` refuse inbound calls again (calls in progress play out)."""

    def uninstall() -> None:
        endpoint.account(account_name).on_incoming = None

    endpoint.submit(uninstall).result()


class AnsweringCall(pj.Call):
    """One inbound call we ring, answer and greet with a prompt; endpoint thread only.

    hang_up_after_prompt: hang up once the prompt has played (False: the call stays up
    for what a subclass does next). Subclasses hook in at `on_answered` and `on_ended`.
    """

    def __init__(
        self,
        endpoint: SipEndpoint,
        account: pj.Account,
        call_id: int,
        prompt: PromptPlayer,
        *,
        hang_up_after_prompt: bool = True,
    ) -> None:
        super().__init__(account, call_id)
        self._endpoint = endpoint
        self._prompt = prompt
        self._hang_up_after_prompt = hang_up_after_prompt
        self._timers: list[Timer] = []
        self._answered = False
        self._ended = False

    def ring_then_answer(self, ring_seconds: float | None, max_call_seconds: float) -> None:
        """Send 180 now and 200 after ring_seconds (None: ring until the caller gives
        up); hang up by max_call_seconds (float seconds)."""
        self._endpoint.keep_call(self)
        self._respond(180)
        if ring_seconds is not None:
            self._later(ring_seconds, self._answer)
        self._later(max_call_seconds, self.hang_up)

    def refuse(self, status_code: int) -> None:
        """Ring, then refuse the call with `status_code` (486 Busy Here, say)."""
        self._endpoint.keep_call(self)
        self._respond(180)
        self._respond(status_code)

    def on_answered(self) -> None:
        """Called once we have sent the 200 OK."""

    def on_ended(self) -> None:
        """Called once the call is disconnected, whoever ended it."""

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        if not self._answered or self._ended:
            return
        if self._prompt.start(self, self.getInfo()) and self._hang_up_after_prompt:
            self._later(self._prompt.seconds + PROMPT_TAIL_SECONDS, self.hang_up)

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        if self.getInfo().state != pj.PJSIP_INV_STATE_DISCONNECTED:
            return
        self._ended = True
        self._prompt.stop()
        for timer in self._timers:
            timer.cancel()
        self.on_ended()
        self._endpoint.release_call(self, holds_slot=False)

    def hang_up(self) -> None:
        """Hang up now (safe to call more than once)."""
        if self._ended:
            return
        self._ended = True
        self._prompt.stop()
        try:
            self.hangup(pj.CallOpParam())
        except pj.Error as error:
            logger.warning("inbound call hang-up failed: %s", error.reason)

    def _answer(self) -> None:
        self._answered = True
        self._respond(200)
        self.on_answered()

    def _respond(self, status_code: int) -> None:
        prm = pj.CallOpParam(True)
        prm.statusCode = status_code
        try:
            self.answer(prm)
        except pj.Error as error:
            logger.warning("inbound call: cannot send %d: %s", status_code, error.reason)

    def _later(self, delay_seconds: float, callback: Callable[[], None]) -> None:
        self._timers.append(self._endpoint.call_later(delay_seconds, callback))
