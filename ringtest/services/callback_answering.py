"""Waiting for call-backs: keep the test accounts registered, answer every call to
them, and close callback tests as they are called back or their deadlines pass.

`CallbackCloser` is the storing half, with no SIP: `called_back` matches one
`InboundCall` to the account's open tests (read from the store each time, so a
test opened by another process or before a restart is found) and saves it closed;
`close_overdue` closes open tests past their deadline as `not_called_back`. Both
take the instant from outside.

`wait_for_callbacks` is the daemon (`ringtest callbacks-wait`): it registers every
account that has a registrar, makes each answer inbound calls with the spoken
`prompt.ANSWER_TEXT`, and hands each arrival to the closer until `stop` is set or
`until` passes, closing overdue tests at least every `OVERDUE_CHECK_SECONDS`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ringtest.config import Settings
from ringtest.config.adapters import standards_of
from ringtest.core.errors import SipError
from ringtest.core.records import CallbackTest, CallbackTestStatus
from ringtest.core.standards import Standards
from ringtest.sip.callback_tests import close_called_back, close_overdue, match_inbound
from ringtest.sip.endpoint import endpoint_with
from ringtest.sip.inbound import InboundCall, answer_inbound, stop_answering
from ringtest.sip.prompt import ANSWER_TEXT, speak
from ringtest.sources.callback_test_requests import line_caller_ids
from ringtest.sources.ring_tests import default_evidence_dir, sip_account
from ringtest.store import Store

logger = logging.getLogger(__name__)

OVERDUE_CHECK_SECONDS = 1.0
"""seconds between checks for open callback tests past their deadline."""


class CallbackCloser:
    """Closes the store's callback tests; `clock` gives the current UTC time."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        standards: Standards | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.standards = standards if standards is not None else standards_of(settings)
        self.clock = clock
        self._line_caller_ids = line_caller_ids(settings.lines)

    def called_back(self, call: InboundCall) -> CallbackTest | None:
        """The open test `call` answers, closed as called back and saved; None if none."""
        open_tests = self.store.callback_tests(status=CallbackTestStatus.OPEN, account=call.account)
        matched = match_inbound(
            open_tests,
            dialled=call.dialled,
            caller=call.caller,
            line_caller_ids=self._line_caller_ids,
        )
        if matched is None:
            logger.info(
                "call to %r (SIP Call-ID %s) matches no open callback test",
                call.account,
                call.sip_call_id,
            )
            return None
        test, how = matched
        closed = close_called_back(
            test,
            called_at=call.arrived_at,
            caller=call.caller,
            matched_by=how,
            standards=self.standards,
        )
        self.store.save_callback_test(closed)
        logger.info(
            "callback test %s called back (matched by %s) after %.0f working seconds",
            closed.test_id,
            how,
            closed.working_seconds,
        )
        return closed

    def close_overdue(self) -> list[CallbackTest]:
        """Open tests past their deadline at `clock()`, closed as not called back and saved."""
        open_tests = self.store.callback_tests(status=CallbackTestStatus.OPEN)
        closed = close_overdue(open_tests, now=self.clock(), standards=self.standards)
        for test in closed:
            self.store.save_callback_test(test)
            logger.info(
                "callback test %s was not called back by %s", test.test_id, test.deadline_at
            )
        return closed


def wait_for_callbacks(
    settings: Settings,
    store: Store,
    stop: threading.Event,
    *,
    until: datetime | None = None,
    closer: CallbackCloser | None = None,
    prompt_dir: Path | None = None,
) -> None:
    """Answer call-backs on every registered account until `stop` is set or `until` (UTC).

    prompt_dir: where the spoken answer prompt is written; None: the evidence directory.
    """
    closer = closer if closer is not None else CallbackCloser(settings, store)
    accounts = [sip_account(account) for account in settings.sip.accounts if account.register_]
    if not accounts:
        raise SipError(
            "no SIP account registers, so none can receive call-backs: "
            "give one a registrar under [[sip.accounts]]"
        )
    prompt = speak(ANSWER_TEXT, (prompt_dir or default_evidence_dir()) / "callback-answer.wav")
    with endpoint_with(accounts) as endpoint:
        arrivals: queue.SimpleQueue[InboundCall] = queue.SimpleQueue()
        try:
            for account in accounts:
                answer_inbound(
                    endpoint,
                    account.name,
                    prompt,
                    default_region=settings.phone.default_region,
                    arrivals=arrivals,
                )
            logger.info("waiting for call-backs to %s", ", ".join(a.name for a in accounts))
            closer.close_overdue()
            while not stop.is_set() and (until is None or closer.clock() < until):
                try:
                    call = arrivals.get(timeout=OVERDUE_CHECK_SECONDS)
                except queue.Empty:
                    pass
                else:
                    closer.called_back(call)
                closer.close_overdue()
        finally:
            for account in accounts:
                stop_answering(endpoint, account.name)
