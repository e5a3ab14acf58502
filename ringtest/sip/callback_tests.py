"""Callback tests, the pure part: open one, match an inbound call to it, close it.

A ring test that no person answered may leave a message naming a callback
number and a reference; `open_callback_test` makes the `CallbackTest` the store
keeps, due by the configured callback standard. When a call comes in to the
test account, `match_inbound` finds which open test it answers, most certain
rule first (`CallbackMatch`):

1. DID: the call was made to a number of the account's DID pool, and exactly one
   open test left that number;
2. line caller ID: the caller ID is one the tested line is known to call out from;
3. oldest open: otherwise the oldest open test of the account.

`close_called_back` measures the latency in working time; `close_overdue` closes
tests whose deadline has passed as `not_called_back`. No clock is read here:
every instant comes in as an argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ringtest.core.records import CallbackMatch, CallbackTest, CallbackTestStatus, RingTestResult
from ringtest.core.standards import Standards


def open_callback_test(
    result: RingTestResult,
    *,
    callback_number: str,
    reference: str,
    left_at: datetime,
    standards: Standards,
) -> CallbackTest:
    """The open callback test for `result`, whose message was left at `left_at` (UTC)."""
    return CallbackTest(
        test_id=result.test_id,
        account=result.account,
        target=result.target,
        department=result.department,
        callback_number=callback_number,
        reference=reference,
        left_at=left_at,
        deadline_at=standards.callback_deadline(left_at),
    )


def match_inbound(
    open_tests: Sequence[CallbackTest],
    *,
    dialled: str,
    caller: str,
    line_caller_ids: Mapping[str, frozenset[str]] | None = None,
) -> tuple[CallbackTest, CallbackMatch] | None:
    """The open test an inbound call from `caller` to `dialled` answers, and how it
    was matched; None when no test is open.

    line_caller_ids: tested target -> the caller IDs that line calls out from.
    """
    waiting = sorted(
        (test for test in open_tests if test.status is CallbackTestStatus.OPEN),
        key=lambda test: (test.left_at, test.test_id),
    )
    if not waiting:
        return None
    by_did = [test for test in waiting if test.callback_number == dialled]
    if len(by_did) == 1 and len({test.callback_number for test in waiting}) > 1:
        return by_did[0], CallbackMatch.DID
    known = line_caller_ids or {}
    by_line = [test for test in waiting if caller in known.get(test.target, frozenset())]
    if by_line:
        return by_line[0], CallbackMatch.LINE_CALLER_ID
    return waiting[0], CallbackMatch.OLDEST_OPEN


def close_called_back(
    test: CallbackTest,
    *,
    called_at: datetime,
    caller: str,
    matched_by: CallbackMatch,
    standards: Standards,
) -> CallbackTest:
    """`test` closed by a callback from `caller` at `called_at` (UTC)."""
    return replace(
        test,
        status=CallbackTestStatus.CALLED_BACK,
        closed_at=called_at,
        caller=caller,
        matched_by=matched_by,
        working_seconds=standards.working_seconds(test.left_at, called_at),
        within_deadline=called_at <= test.deadline_at,
    )


def close_overdue(
    open_tests: Sequence[CallbackTest], *, now: datetime, standards: Standards
) -> list[CallbackTest]:
    """The open tests whose deadline passed before `now` (UTC), closed as not called back."""
    return [
        replace(
            test,
            status=CallbackTestStatus.NOT_CALLED_BACK,
            closed_at=test.deadline_at,
            working_seconds=standards.working_seconds(test.left_at, test.deadline_at),
            within_deadline=False,
        )
        for test in open_tests
        if test.status is CallbackTestStatus.OPEN and test.deadline_at < now
    ]
