"""Leaving a callback request in a ring test: which number to leave, the message, the
callback test it opens.

Before dialling, every callback request gets its `CallbackRequest`: the number the
line should call back (the first number of the account's `did_pool` that no open
callback test of the account, nor an earlier request of the same batch, has left;
else the account's caller ID; else its user), a short reference (the first
`REFERENCE_LENGTH` characters of the test id, upper case) and the WAV to play
(the account's `callback_message`, else spoken now by espeak-ng naming that number
and reference). After the call, `open_if_left` opens the callback test in the store
when the message was in fact played (no person answered).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ringtest.config.models import Line
from ringtest.config.models import SipAccount as SipAccountSettings
from ringtest.core.records import CallbackTestStatus, RingTestResult
from ringtest.core.standards import Standards
from ringtest.sip.callback_tests import open_callback_test
from ringtest.sip.caller import PlacedRingTest
from ringtest.sip.prompt import request_text, speak, wav_seconds
from ringtest.store import Store

logger = logging.getLogger(__name__)

REFERENCE_LENGTH = 6
"""characters of the test id read out as the test's reference."""


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """What one callback test asks for: call `callback_number` quoting `reference`;
    `message_path` is the WAV that says so."""

    callback_number: str
    reference: str
    message_path: Path


def numbers_in_use(store: Store, account: str) -> set[str]:
    """Callback numbers the account's open callback tests have left."""
    return {
        test.callback_number
        for test in store.callback_tests(status=CallbackTestStatus.OPEN, account=account)
    }


def callback_request(
    account: SipAccountSettings, test_id: str, in_use: set[str], message_dir: Path
) -> CallbackRequest:
    """The request test `test_id` leaves; the number chosen is added to `in_use`.

    message_dir: where a spoken message is written (``<test_id>-message.wav``).
    """
    free = next((number for number in account.did_pool if number not in in_use), None)
    number = free or account.caller_id or account.user
    in_use.add(number)
    reference = test_id[:REFERENCE_LENGTH].upper()
    if account.callback_message is not None:
        wav_seconds(account.callback_message)  # a bad WAV is refused before dialling
        path = account.callback_message
    else:
        path = speak(request_text(number, reference), message_dir / f"{test_id}-message.wav")
    return CallbackRequest(number, reference, path)


def open_if_left(
    store: Store,
    result: RingTestResult,
    placed: PlacedRingTest,
    request: CallbackRequest,
    standards: Standards,
) -> None:
    """Store the open callback test when `placed` left its message."""
    if placed.message_left_at is None:
        logger.info("ring test %s left no callback message: a person answered", result.test_id)
        return
    test = open_callback_test(
        result,
        callback_number=request.callback_number,
        reference=request.reference,
        left_at=placed.message_left_at,
        standards=standards,
    )
    store.save_callback_test(test)
    logger.info(
        "ring test %s left a callback request (reference %s), due %s",
        result.test_id,
        test.reference,
        test.deadline_at.isoformat(),
    )


def line_caller_ids(lines: Iterable[Line]) -> dict[str, frozenset[str]]:
    """Line target -> the caller IDs its staff call out from, for `match_inbound`."""
    return {
        line.target: frozenset(line.outbound_caller_ids)
        for line in lines
        if line.outbound_caller_ids
    }
